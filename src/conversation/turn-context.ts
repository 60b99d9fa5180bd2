import type { AgentProgress } from '../agent/agent-turn.ts';
import type { OpenAI } from '../agent/model-client.ts';
import type { BlobRef, BlobStore } from '../core/blob-store.ts';
import type { Config } from '../core/config.ts';
import type { CellResult } from '../core/cell-result.ts';
import type { JobQueue } from '../core/job.ts';
import type { SandboxPackages } from '../core/sandbox-packages.ts';
import {
  emptySession,
  type SessionFile,
  type SessionState,
  type SessionStore,
} from '../core/session-store.ts';
import { takeAttachments } from './attachment-intake.ts';
import type { InboundMessage } from '../core/inbound-message.ts';
import type { ThreadReply } from '../core/reply.ts';
import { decodeAgentSteps, encodeAgentSteps } from './agent-steps.ts';
import type { DurableTurnInfo } from './durable-turns.ts';
import type { PackageApprovals } from './package-approvals.ts';
import { runJob } from './run-job.ts';
import { TurnMeter, type UsageServices } from './turn-meter.ts';
import { parseSessionKey } from '../core/session-key.ts';

/** What a turn works with, the same for every turn of every thread. */
export interface TurnServices {
  readonly jobs: JobQueue;
  readonly blobs: BlobStore;
  readonly sessions: SessionStore;
  /** Undefined: no model configured; code still runs. */
  readonly model: { readonly client: OpenAI; readonly name: string } | undefined;
  readonly agent: Config['agent'];
  /** Meters, prices and the audit trail; absent: nothing is metered or audited. */
  readonly usage?: UsageServices;
  /** The sandbox image's Python packages, for the model's prompt. Absent: the stock list. */
  readonly packages?: SandboxPackages;
  /** SANDBOX_PACKAGES when SANDBOX_PACKAGE_INDEX is set (issue 18); absent: nothing can be
   *  installed, and the model is not offered install_packages. */
  readonly packageAllowlist?: readonly string[];
  /** PACKAGE_APPROVERS' questions (src/conversation/package-approvals.ts); absent: none. */
  readonly approvals?: PackageApprovals;
}

/** One message being answered: what commands, direct code and the agent turn all receive. */
export interface TurnContext {
  readonly services: TurnServices;
  readonly message: InboundMessage;
  readonly thread: ThreadReply;
  /** Stop: aborts the model call or interrupts the running cell, and ends the turn. */
  readonly signal: AbortSignal;
  /** The thread as it was before this message. */
  readonly session: SessionState;
  /** This message's attachments, stored in the blob store. */
  readonly accepted: readonly SessionFile[];
  /** The thread's files with this message's attachments. */
  readonly files: readonly SessionFile[];
  /** Attachments refused, and why: every reply carries them as notices. */
  readonly refusals: readonly string[];
  /** Saves the session with this message's files and the given changes. */
  save(changes?: Partial<SessionState>): Promise<void>;
  /** Runs code in the thread's kernel (uploads placed first); its output shows as progress. */
  runCell(code: string, uploads: readonly BlobRef[], signal?: AbortSignal): Promise<CellResult>;
  /** A durable turn's agent steps: what an earlier runner recorded, and how to record them. */
  readonly agentSteps?: {
    readonly resume: AgentProgress | undefined;
    record(progress: AgentProgress): Promise<void>;
  };
  /** Cells an earlier run of this turn ran: the next cells' job ids follow theirs. */
  skipCells(count: number): void;
  /** This turn's usage; every cell run through `runCell` is counted and audited. */
  readonly meter: TurnMeter;
}

/** What a durable turn gives the turn that answers it (see DurableTurnInfo). */
export type DurableTurnParts = Pick<DurableTurnInfo, 'jobId' | 'agentSteps' | 'recordAgentSteps'>;

/** Loads the thread's session and takes the message's attachments. */
export async function openTurn(
  services: TurnServices,
  message: InboundMessage,
  thread: ThreadReply,
  signal: AbortSignal,
  /** A durable turn's job ids and recorded steps; random job ids when absent. */
  durable?: DurableTurnParts,
): Promise<TurnContext> {
  let cells = 0;
  const session =
    (await services.sessions.load(message.sessionKey)) ?? emptySession(message.sessionKey);
  const { accepted, refusals } = await takeAttachments(
    message.attachments,
    session.files,
    services.agent,
    services.blobs,
  );
  const files = [...session.files, ...accepted];
  const meter = openMeter(services, message, accepted);
  return {
    meter,
    services,
    message,
    thread,
    signal,
    session,
    accepted,
    files,
    refusals,
    ...(durable === undefined
      ? {}
      : {
          agentSteps: {
            resume: decodeAgentSteps(durable.agentSteps),
            record: (progress) => durable.recordAgentSteps(encodeAgentSteps(progress)),
          },
        }),
    skipCells: (count) => {
      cells += count;
    },
    save: (changes = {}) =>
      services.sessions.save({ ...session, files, ...changes, updatedAt: Date.now() }),
    runCell: metered(meter, (code, uploads, cellSignal = signal) =>
      runJob(
        services,
        {
          sessionId: message.sessionKey,
          code,
          uploads: [...uploads],
          ...(durable === undefined ? {} : { jobId: durable.jobId(cells++) }),
        },
        cellSignal,
        (event) => {
          if (event.type === 'stdout' || event.type === 'stderr')
            thread.progress({ type: 'output', text: event.text });
        },
      ),
    ),
  };
}

/** The turn's meter, with this message's attachments counted in. */
function openMeter(
  services: TurnServices,
  message: InboundMessage,
  accepted: readonly SessionFile[],
): TurnMeter {
  const key = parseSessionKey(message.sessionKey);
  if (key === undefined) throw new Error(`malformed session key: ${message.sessionKey}`);
  const meter = new TurnMeter({
    key,
    userId: message.author.id,
    services: services.usage,
    blobs: services.blobs,
    modelName: services.model?.name,
  });
  meter.attachments(accepted.map((f) => f.blob));
  return meter;
}

/** Runs cells through `run`, each counted and audited, and refused once a budget is reached. */
function metered(meter: TurnMeter, run: TurnContext['runCell']): TurnContext['runCell'] {
  return async (code, uploads, cellSignal) => {
    // Between cells: a daily budget reached during this turn stops its next cell.
    const refusal = code === '' ? undefined : await meter.refusal();
    if (refusal !== undefined) return refusedCell(refusal);
    const result = await run(code, uploads, cellSignal);
    meter.cell(code, uploads, result);
    return result;
  };
}

/** A cell not run because a budget was reached: the model is told why, as a failed job. */
function refusedCell(message: string): CellResult {
  return {
    status: 'failed',
    message,
    stdout: '',
    stderr: '',
    results: [],
    files: [],
    notices: [],
    durationMs: 0,
    kernelRestarted: false,
  };
}
