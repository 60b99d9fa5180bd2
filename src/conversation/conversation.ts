import { randomUUID } from 'node:crypto';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { runAgentTurn } from '../agent/agent-turn.ts';
import type { OpenAI } from '../agent/model-client.ts';
import type { BlobRef, BlobStore } from '../blobs/blob-store.ts';
import type { Config } from '../config/config.ts';
import { isSandbotError } from '../errors.ts';
import { buildCellResult } from '../core/cell-result-builder.ts';
import { cellImages, failureText, type CellResult } from '../core/cell-result.ts';
import type { CodeJobInput, JobEvent, JobQueue } from '../jobs/job.ts';
import type { Logger } from '../logging/logger.ts';
import { formatBytes } from '../sandbox/file-transfer.ts';
import { exportNotebook } from '../sessions/notebook-export.ts';
import { parseSessionKey } from '../sessions/session-key.ts';
import {
  emptySession,
  type SessionFile,
  type SessionState,
  type SessionStore,
} from '../sessions/session-store.ts';
import { mimeFromName } from '../util/mime.ts';
import type { AccessDecision, AccessPolicy } from './access-policy.ts';
import type { ConversationMetrics } from './conversation-metrics.ts';
import { safeUniqueName } from './file-names.ts';
import { HELP_TEXT, NO_MODEL_TEXT, RUN_USAGE_TEXT } from './help-text.ts';
import { parseMessage } from './parse-message.ts';
import { textReply, type Reply, type ReplyAttachment, type ThreadReply } from './reply.ts';
import { trimTranscript } from './trim-transcript.ts';
import { TurnQueue } from './turn-queue.ts';

export interface InboundAttachment {
  readonly name: string;
  readonly sizeBytes: number;
  /** Downloads the bytes (with the platform's credentials); called only within limits. */
  fetch(): Promise<Buffer>;
}

/** A message in a thread, as every adapter delivers it. */
export interface InboundMessage {
  /** `platform:workspace:channel:thread`. */
  readonly sessionKey: string;
  readonly author: { readonly id: string; readonly name: string };
  readonly text: string;
  readonly attachments: readonly InboundAttachment[];
}

export interface ConversationOptions {
  readonly jobs: JobQueue;
  readonly blobs: BlobStore;
  readonly sessions: SessionStore;
  /** Undefined: no model configured; code still runs. */
  readonly model: { readonly client: OpenAI; readonly name: string } | undefined;
  readonly policy: AccessPolicy;
  readonly agent: Config['agent'];
  readonly logger: Logger;
  /** Counts messages and times turns for /metrics; none in one-shot commands. */
  readonly metrics?: ConversationMetrics;
}

/**
 * Where a message becomes work, the same for every surface: access policy, commands,
 * direct code, attachments, and agent turns, one turn at a time per thread, in order.
 */
export class Conversation {
  private readonly options: ConversationOptions;
  private readonly turns = new TurnQueue();
  /** The running turn of each thread, so `stop` can reach it without queueing. */
  private readonly running = new Map<string, AbortController>();

  constructor(options: ConversationOptions) {
    this.options = options;
  }

  /** Whether the bot has a session in this thread: adapters answer such threads without a
   *  mention. */
  async hasSession(sessionKey: string): Promise<boolean> {
    // A first turn still running has not saved its session yet, but the thread is live.
    if (this.turns.pending(sessionKey) > 0) return true;
    return (await this.options.sessions.load(sessionKey)) !== undefined;
  }

  /**
   * Whether the allowlists let this person use the bot in this place, counting nothing: for
   * adapters that must decide before creating something (Discord opens a thread for a
   * mention). `handle` checks again, the rate limit included.
   */
  admits(
    platform: string,
    place: { readonly channel: string; readonly workspace: string },
    userId: string,
  ): AccessDecision {
    return this.options.policy.allowlisted(platform, userId, place);
  }

  async handle(message: InboundMessage, thread: ThreadReply): Promise<void> {
    const key = parseSessionKey(message.sessionKey);
    if (key === undefined) throw new Error(`malformed session key: ${message.sessionKey}`);
    const decision = this.options.policy.check(key.platform, message.author.id, key);
    const metrics = this.options.metrics;
    if (!decision.allowed) {
      metrics?.message(key.platform, 'refused', 'refused');
      await thread.reply(textReply(decision.reply));
      return;
    }
    const parsed = parseMessage(message.text);
    const kind = parsed.kind === 'command' ? parsed.name : parsed.kind;
    if (parsed.kind === 'command' && parsed.name === 'stop') {
      metrics?.message(key.platform, kind, 'stop');
      // Not queued: it must reach the turn that is running now.
      const turn = this.running.get(message.sessionKey);
      turn?.abort();
      await thread.reply(
        textReply(turn === undefined ? 'Nothing is running.' : 'Stopping the running cell.'),
      );
      return;
    }
    await this.turns.run(message.sessionKey, async () => {
      const controller = new AbortController();
      this.running.set(message.sessionKey, controller);
      const startedAt = performance.now();
      try {
        await thread.reply(await this.turn(message, parsed, thread, controller.signal));
        metrics?.message(key.platform, kind, 'answered');
        metrics?.turn(key.platform, kind, (performance.now() - startedAt) / 1000);
      } catch (error) {
        metrics?.message(key.platform, kind, 'failed');
        const reference = randomUUID().slice(0, 8);
        this.options.logger.error(
          { err: error, reference, session: message.sessionKey },
          'turn failed',
        );
        const detail = isSandbotError(error) ? ` (${error.message})` : '';
        await thread.reply(
          textReply(`Something went wrong on my side${detail}. Reference: ${reference}.`),
        );
      } finally {
        this.running.delete(message.sessionKey);
      }
    });
  }

  private async turn(
    message: InboundMessage,
    parsed: ReturnType<typeof parseMessage>,
    thread: ThreadReply,
    signal: AbortSignal,
  ): Promise<Reply> {
    const session =
      (await this.options.sessions.load(message.sessionKey)) ?? emptySession(message.sessionKey);
    const { accepted, refusals } = await this.acceptAttachments(message, session);
    const files = [...session.files, ...accepted];
    const uploads = accepted.map((f) => f.blob);
    const save = (changes: Partial<SessionState>) =>
      this.options.sessions.save({ ...session, files, ...changes, updatedAt: Date.now() });

    switch (parsed.kind) {
      case 'usage':
        await save({});
        return textReply(RUN_USAGE_TEXT, refusals);
      case 'code': {
        thread.progress({ type: 'running', code: parsed.code });
        const result = await this.runCell(message.sessionKey, parsed.code, uploads, signal, thread);
        const reply = await this.replyFor('', [{ code: parsed.code, result }], refusals);
        await save({
          cells: [...session.cells, { code: parsed.code, result }],
          files: [...files, ...producedFiles(result)],
        });
        return reply;
      }
      case 'command':
        return this.command(
          parsed.name,
          parsed.argument,
          message,
          session,
          files,
          uploads,
          refusals,
          save,
        );
      case 'chat':
        break;
    }

    const model = this.options.model;
    if (model === undefined) {
      if (uploads.length > 0) await this.runCell(message.sessionKey, '', uploads, signal, thread);
      await save({});
      return textReply(NO_MODEL_TEXT, refusals);
    }
    if (uploads.length > 0) await this.runCell(message.sessionKey, '', uploads, signal, thread);
    thread.progress({ type: 'thinking' });
    const attached = accepted.map(
      (f) => `[attached: /mnt/data/${f.name}, ${formatBytes(f.blob.sizeBytes)}, ${f.blob.mime}]`,
    );
    const result = await runAgentTurn({
      client: model.client,
      model: model.name,
      history: trimTranscript(session.transcript),
      userMessage: [`${message.author.name}: ${parsed.text}`, ...attached].join('\n'),
      runCell: (code, cellSignal) => this.runCell(message.sessionKey, code, [], cellSignal, thread),
      maxSteps: this.options.agent.maxSteps,
      maxWallMs: this.options.agent.turnTimeoutMs,
      signal,
      onText: (delta) => thread.progress({ type: 'answering', text: delta }),
      onCell: (code) => thread.progress({ type: 'running', code }),
    });
    const notices = [...refusals, ...(result.notice === undefined ? [] : [result.notice])];
    const reply = await this.replyFor(result.text, result.cells, notices);
    await save({
      transcript: [...session.transcript, ...result.messages] as ChatCompletionMessageParam[],
      cells: [...session.cells, ...result.cells],
      files: [...files, ...result.cells.flatMap((c) => producedFiles(c.result))],
    });
    return reply;
  }

  private async command(
    name: 'reset' | 'files' | 'export' | 'status' | 'help' | 'stop',
    argument: string,
    message: InboundMessage,
    session: SessionState,
    files: readonly SessionFile[],
    uploads: readonly BlobRef[],
    refusals: readonly string[],
    save: (changes: Partial<SessionState>) => Promise<void>,
  ): Promise<Reply> {
    switch (name) {
      case 'stop':
        // Reaching here means it was queued behind nothing: there is nothing to stop.
        await save({});
        return textReply('Nothing is running.', refusals);
      case 'help':
        await save({});
        return textReply(HELP_TEXT, refusals);
      case 'reset': {
        const result = await this.runJob(
          { sessionId: message.sessionKey, code: '', command: 'reset' },
          new AbortController().signal,
        );
        await this.options.sessions.save({
          ...emptySession(message.sessionKey),
          updatedAt: Date.now(),
        });
        const failed = failureText(result);
        return textReply(
          failed ??
            'Fresh start: new kernel, no variables, empty /mnt/data, and I forgot this thread.',
          refusals,
        );
      }
      case 'status': {
        const result = await this.runJob(
          { sessionId: message.sessionKey, code: '', command: 'status', uploads: [...uploads] },
          new AbortController().signal,
        );
        await save({});
        const lines = [
          result.notices[0] ?? failureText(result) ?? 'Kernel state unknown.',
          `${session.cells.length} cell(s) run in this thread; ${files.length} file(s).`,
          this.options.model === undefined
            ? 'No model configured: only direct code runs.'
            : `Model: ${this.options.model.name}.`,
        ];
        return textReply(lines.join('\n'), refusals);
      }
      case 'files': {
        await save({});
        if (argument === '') {
          if (files.length === 0)
            return textReply(
              'No files in this thread yet. Attach one, or ask me to make one.',
              refusals,
            );
          const list = latestByName(files).map(
            (f) =>
              `- \`${f.name}\` (${formatBytes(f.blob.sizeBytes)}, ${f.origin === 'upload' ? 'uploaded' : 'made here'})`,
          );
          return textReply(
            `Files in /mnt/data:\n${list.join('\n')}\n\nSay \`files NAME\` to get one back.`,
            refusals,
          );
        }
        const wanted = latestByName(files).find((f) => f.name === argument);
        if (wanted === undefined)
          return textReply(
            `There is no file called \`${argument}\` in this thread. Say \`files\` for the list.`,
            refusals,
          );
        const blob = await this.options.blobs.get(wanted.blob.id);
        if (blob === undefined)
          return textReply(
            `\`${argument}\` has expired from storage; ask me to make it again.`,
            refusals,
          );
        return {
          text: '',
          code: [],
          images: [],
          files: [{ name: wanted.name, content: blob.content, mime: wanted.blob.mime }],
          notices: [...refusals],
        };
      }
      case 'export': {
        await save({});
        if (session.cells.length === 0)
          return textReply('Nothing to export yet: no code has run in this thread.', refusals);
        const notebook = await exportNotebook(
          session.cells,
          { title: `sandbot thread ${message.sessionKey}` },
          this.options.blobs,
        );
        return {
          text: `The ${session.cells.length} cell(s) of this thread, with their outputs.`,
          code: [],
          images: [],
          files: [
            {
              name: 'thread.ipynb',
              content: Buffer.from(notebook),
              mime: 'application/x-ipynb+json',
            },
          ],
          notices: [...refusals],
        };
      }
    }
  }

  /** Stores attachments within the limits under safe unique names; says what was refused. */
  private async acceptAttachments(
    message: InboundMessage,
    session: SessionState,
  ): Promise<{ accepted: SessionFile[]; refusals: string[] }> {
    const { maxAttachments, maxAttachmentBytes } = this.options.agent;
    const accepted: SessionFile[] = [];
    const refusals: string[] = [];
    const taken = new Set(session.files.map((f) => f.name));
    for (const [index, attachment] of message.attachments.entries()) {
      if (index >= maxAttachments) {
        refusals.push(
          `Only ${maxAttachments} files per message are taken; ${attachment.name} and later ones were not. Send them in another message.`,
        );
        break;
      }
      if (attachment.sizeBytes > maxAttachmentBytes) {
        refusals.push(
          `${attachment.name} is ${formatBytes(attachment.sizeBytes)}, over the ${formatBytes(maxAttachmentBytes)} limit per file; it was not taken.`,
        );
        continue;
      }
      const content = await attachment.fetch();
      if (content.length > maxAttachmentBytes) {
        refusals.push(
          `${attachment.name} is over the ${formatBytes(maxAttachmentBytes)} limit per file; it was not taken.`,
        );
        continue;
      }
      const name = safeUniqueName(attachment.name, taken);
      taken.add(name);
      const blob = await this.options.blobs.put(content, { name, mime: mimeFromName(name) });
      accepted.push({ name, blob, origin: 'upload' });
    }
    return { accepted, refusals };
  }

  private async runCell(
    sessionId: string,
    code: string,
    uploads: readonly BlobRef[],
    signal: AbortSignal,
    thread: ThreadReply,
  ): Promise<CellResult> {
    return this.runJob({ sessionId, code, uploads: [...uploads] }, signal, (event) => {
      if (event.type === 'stdout' || event.type === 'stderr')
        thread.progress({ type: 'output', text: event.text });
    });
  }

  private async runJob(
    job: Omit<CodeJobInput, 'jobId' | 'submittedAt'>,
    signal: AbortSignal,
    onEvent?: (event: JobEvent) => void,
  ): Promise<CellResult> {
    const handle = await this.options.jobs.submit({
      ...job,
      jobId: randomUUID(),
      submittedAt: Date.now(),
    });
    const cancel = () => void handle.cancel();
    signal.addEventListener('abort', cancel, { once: true });
    // A stop that came while submitting has no listener to hear it.
    if (signal.aborted) cancel();
    const events: JobEvent[] = [];
    try {
      for await (const event of handle.events) {
        events.push(event);
        onEvent?.(event);
      }
    } finally {
      signal.removeEventListener('abort', cancel);
    }
    return buildCellResult(events, this.options.blobs);
  }

  /** Images and files of the cells, fetched from the blob store, and their notices. */
  private async replyFor(
    text: string,
    cells: readonly { code: string; result: CellResult }[],
    notices: readonly string[],
  ): Promise<Reply> {
    const images: ReplyAttachment[] = [];
    const files: ReplyAttachment[] = [];
    const cellNotices: string[] = [];
    let outputText = '';
    for (const { result } of cells) {
      for (const ref of cellImages(result)) {
        const blob = await this.options.blobs.get(ref.id);
        const ext = ref.mime === 'image/png' ? 'png' : 'jpg';
        if (blob !== undefined)
          images.push({
            name: `plot-${images.length + 1}.${ext}`,
            content: blob.content,
            mime: ref.mime,
          });
      }
      for (const file of result.files) {
        const blob = await this.options.blobs.get(file.blob.id);
        if (blob !== undefined)
          files.push({
            name: file.path.split('/').pop() ?? file.path,
            content: blob.content,
            mime: file.blob.mime,
          });
      }
      cellNotices.push(
        ...result.notices,
        ...(result.message === undefined ? [] : [result.message]),
      );
      if (text === '') outputText += directOutput(result);
    }
    // Direct code has no model answer: its output is the answer, as a code block.
    const answer =
      text !== '' ? text : outputText === '' ? '' : `\`\`\`\n${outputText.trimEnd()}\n\`\`\``;
    return {
      text: answer,
      code: cells.map((c) => c.code).filter((c) => c !== ''),
      images,
      files,
      notices: [...notices, ...cellNotices],
    };
  }
}

/** What a cell shows as text: its streams, its text results, its exception in one line. */
function directOutput(result: CellResult): string {
  let text = result.stdout + result.stderr;
  for (const shown of result.results)
    if (shown.image === undefined && shown.data['text/plain'] !== undefined)
      text += `${shown.data['text/plain']}\n`;
  if (result.error !== undefined) text += `${result.error.ename}: ${result.error.evalue}\n`;
  return text;
}

function producedFiles(result: CellResult): SessionFile[] {
  return result.files.map((f) => ({ name: f.path, blob: f.blob, origin: 'output' as const }));
}

function latestByName(files: readonly SessionFile[]): SessionFile[] {
  const byName = new Map<string, SessionFile>();
  for (const file of files) byName.set(file.name, file);
  return [...byName.values()];
}
