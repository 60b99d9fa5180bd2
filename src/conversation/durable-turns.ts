import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ChatAdapter } from '../core/chat-adapter.ts';
import type { InboundAttachment, InboundMessage } from '../core/inbound-message.ts';
import type { AnswerKey, Reply, ThreadReply } from '../core/reply.ts';
import type { StoredTurn, TurnProgress, TurnStore } from '../core/turn-store.ts';
import { LeaseLost, TurnRunner, type TurnWork } from './turn-runner.ts';

/** What a durable turn tells the code that answers it. */
export interface DurableTurnInfo {
  /** The same id for the k-th cell of this turn in every run of it: a resumed turn that
   *  submits it again follows the first run's job instead of running the code twice. */
  readonly jobId: (cell: number) => string;
  /** True when an earlier runner had this turn and died. */
  readonly resumed: boolean;
  /** The agent's steps an earlier runner recorded (JSON), if any. */
  readonly agentSteps?: string;
  /** Records the agent's steps so far, for a runner that resumes this turn. */
  readonly recordAgentSteps: (json: string) => Promise<void>;
  /** Aborted when this process shuts down: a turn failing then must throw, not answer, so
   *  that another process resumes it. */
  readonly stopping: AbortSignal;
  /** Aborted when another runner took the turn over (this one's lease ran out, say across a
   *  Redis outage): the turn stops and must neither answer nor apologise. */
  readonly leaseLost: AbortSignal;
}

export type AnswerTurn = (
  message: InboundMessage,
  thread: ThreadReply,
  info: DurableTurnInfo,
) => Promise<void>;

export interface DurableTurnsOptions {
  readonly store: TurnStore;
  /** Names this process in leases. */
  readonly runnerId: string;
  readonly logger: Logger;
  /** The adapters of this process, to rebuild replies and fetch attachments of turns that
   *  came in through another process (or before a restart). */
  readonly adapters: () => readonly ChatAdapter[];
  readonly answer: AnswerTurn;
  readonly leaseMs?: number;
}

interface LocalTurn {
  readonly message: InboundMessage;
  readonly thread: ThreadReply;
}

/** Hex digits of the turn id's digest that name its answer (see AnswerKey). */
const ANSWER_KEY_CHARS = 20;
/** A taken message another process answered is forgotten here after this long. */
const LOCAL_TURN_MS = 60 * 60_000;

/**
 * Turns as durable work: a message is stored (its reply as an address, its files as
 * references) before it is answered, and any bot process's runner answers it, one at a time
 * per thread in the platform's order. The process that took the message keeps the live
 * reply and attachments at hand, so the usual path is as quick as before; a turn whose
 * process died is answered by another, through its adapter's `replyFor`.
 */
export class DurableTurns {
  private readonly options: DurableTurnsOptions;
  private readonly local = new Map<string, LocalTurn & { readonly at: number }>();
  private readonly runner: TurnRunner;
  private arrivals = 0;

  constructor(options: DurableTurnsOptions) {
    this.options = options;
    this.runner = new TurnRunner({
      store: options.store,
      runnerId: options.runnerId,
      logger: options.logger,
      handler: (work) => this.run(work),
      ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
    });
  }

  /** Whether this message can be stored: its reply must be rebuildable in another process. */
  canStore(thread: ThreadReply): boolean {
    return thread.address !== undefined;
  }

  /** Stores the message as a turn; resolves once it is accepted (the answer comes later). */
  async submit(message: InboundMessage, thread: ThreadReply): Promise<void> {
    const turnId = `${message.sessionKey}:${message.messageId ?? randomUUID()}`;
    this.forgetOld();
    this.local.set(turnId, { message, thread, at: Date.now() });
    const accepted = await this.options.store.enqueue({
      turnId,
      order: message.order ?? this.arrivalOrder(),
      message: {
        sessionKey: message.sessionKey,
        author: message.author,
        text: message.text,
        attachments: message.attachments.map((a, i) => ({
          name: a.name,
          sizeBytes: a.sizeBytes,
          ref: a.ref ?? `unfetchable:${i}`,
        })),
        ...(thread.address === undefined ? {} : { reply: thread.address }),
      },
    });
    if (!accepted) this.local.delete(turnId); // a redelivery: the first one is answered
  }

  /** Turns waiting or running in the thread, in any process. */
  pending(sessionKey: string): Promise<number> {
    return this.options.store.pending(sessionKey);
  }

  start(): void {
    this.runner.start();
  }

  /** Stops taking turns; running ones get `graceMs`, then are left to be resumed. */
  stop(graceMs: number): Promise<void> {
    return this.runner.stop(graceMs);
  }

  /** Insertion order is age order: stop at the first entry young enough. */
  private forgetOld(): void {
    for (const [turnId, turn] of this.local) {
      if (Date.now() - turn.at < LOCAL_TURN_MS) return;
      this.local.delete(turnId);
    }
  }

  /** Milliseconds since the epoch and a sequence: arrival order where the platform has none. */
  private arrivalOrder(): string {
    this.arrivals = (this.arrivals + 1) % 1000;
    return `${Date.now()}.${String(this.arrivals).padStart(3, '0')}`;
  }

  private async run(work: TurnWork): Promise<void> {
    const { turn } = work.claimed;
    const log = this.options.logger.child({ turn: turn.turnId });
    if (turn.progress.answeredAt !== undefined) return; // answered; only the bookkeeping was left
    const live = this.local.get(turn.turnId);
    const rebuilt = live ?? this.rebuild(turn);
    if (rebuilt === undefined) {
      log.error({ surface: turn.message.reply?.surface }, 'no adapter here can answer this turn');
      return;
    }
    this.local.delete(turn.turnId);
    const digest = createHash('sha256').update(turn.turnId).digest('hex').slice(0, 32);
    const { answeringAt } = turn.progress;
    const answerKey: AnswerKey = {
      id: digest.slice(0, ANSWER_KEY_CHARS),
      ...(answeringAt === undefined ? {} : { earlierAttemptAt: answeringAt }),
    };
    const thread = recordingReply(rebuilt.thread, work, answerKey);
    await this.options.answer(rebuilt.message, thread, {
      jobId: (cell) => `t${digest}-${cell}`,
      resumed: work.claimed.resumed,
      leaseLost: work.signal,
      ...(turn.progress.agentSteps === undefined ? {} : { agentSteps: turn.progress.agentSteps }),
      recordAgentSteps: async (json) => {
        await work.record({ agentSteps: json }).catch(() => undefined);
      },
      stopping: work.stopping,
    });
  }

  /** The reply and the message of a turn that came in through another process. */
  private rebuild(turn: StoredTurn): LocalTurn | undefined {
    const address = turn.message.reply;
    if (address === undefined) return undefined;
    const adapter = this.options.adapters().find((a) => a.name === address.surface);
    const resume =
      turn.progress.progressMessageId === undefined
        ? {}
        : { progressMessageId: turn.progress.progressMessageId };
    const thread = adapter?.replyFor?.(address, resume);
    if (adapter === undefined || thread === undefined) return undefined;
    const attachments: InboundAttachment[] = turn.message.attachments.map((a) => ({
      name: a.name,
      sizeBytes: a.sizeBytes,
      ref: a.ref,
      fetch: () =>
        adapter.fetchAttachment === undefined || a.ref.startsWith('unfetchable:')
          ? Promise.reject(new Error(`${a.name} cannot be fetched again`))
          : adapter.fetchAttachment(a.ref),
    }));
    // The id its turn was named by: a resumed turn finds what it began (a package question).
    const messageId = turn.turnId.slice(turn.message.sessionKey.length + 1);
    return { thread, message: { ...turn.message, attachments, messageId } };
  }
}

/**
 * The reply, recording as it goes: the progress message the adapter posts, that posting the
 * answer began (a resumed turn then asks the adapter to post only what is missing), and that
 * it was posted (a resumed turn then posts nothing).
 */
function recordingReply(thread: ThreadReply, work: TurnWork, key: AnswerKey): ThreadReply {
  const record = (progress: TurnProgress) => work.record(progress).catch(() => undefined);
  thread.onProgressMessage?.((messageId) => void record({ progressMessageId: messageId }));
  return {
    ...(thread.address === undefined ? {} : { address: thread.address }),
    progress: (update) => thread.progress(update),
    reply: async (reply: Reply) => {
      // The last check before posting: a runner that lost the turn to another posts nothing.
      // Any other failure to record (Redis away) does not hold the answer back.
      await work.record({ answeringAt: Date.now() }).catch((error: unknown) => {
        if (error instanceof LeaseLost) throw error;
      });
      await (thread.replyOnce === undefined ? thread.reply(reply) : thread.replyOnce(reply, key));
      await record({ answeredAt: Date.now() });
    },
  };
}
