import type { BlobRef, BlobStore } from '../core/blob-store.ts';
import { errorMessage, isSandbotError } from '../core/errors.ts';
import type { Logger } from '../logging/logger.ts';
import type { UploadFile } from '../sandbox/file-transfer.ts';
import type { SandboxManager } from '../sandbox/sandbox-manager.ts';
import type { Sandbox } from '../sandbox/sandbox.ts';
import { formatBytes } from '../core/bytes.ts';
import { mimeFromName } from '../core/mime.ts';
import type { DoneEvent } from '../core/cell-events.ts';
import type { CodeJob, JobDone, JobEvent } from '../core/job.ts';
import { runPackagesJob, type PackageJobs } from '../packages/install-job.ts';
import { reinstallPackages, type ReinstallOutcome } from '../packages/reinstall.ts';
import type { CheckpointKeeper } from '../checkpoints/checkpoint-keeper.ts';

export interface JobExecutorOptions {
  readonly manager: SandboxManager;
  readonly blobs: BlobStore;
  readonly workerId: string;
  readonly logger: Logger;
  readonly sessionFiles?: SessionFiles;
  /** Installs packages from the operator's index (issue 18); absent: `install` is refused. */
  readonly packages?: PackageJobs;
  /** Saves sessions' variables when idle and restores them into a new kernel. */
  readonly checkpoints?: CheckpointKeeper;
}

export type Emit = (event: JobEvent) => Promise<void>;

async function describeStatus(sandbox: Sandbox, takeover: boolean): Promise<string> {
  const status = await sandbox.status();
  const kernel = status.kernelAlive
    ? 'running'
    : takeover
      ? 'lost with its worker; the next cell starts a fresh one'
      : 'not started yet (the next cell starts it)';
  const memory =
    status.memoryBytes === undefined ? '' : `, memory ${formatBytes(status.memoryBytes)}`;
  return `Kernel ${kernel}; ${status.cellsRun} cell(s) run in it${memory}.`;
}

/**
 * Where a session's files are remembered (blob ids by name), so a worker that takes over a
 * session from a lost one can put them back. Absent in the embedded mode: one process, one
 * kernel, nothing to take over.
 */
export interface SessionFiles {
  remember(sessionId: string, name: string, blob: BlobRef): Promise<void>;
  list(sessionId: string): Promise<BlobRef[]>;
}

/** How a job ended, before the executor stamps its duration. */
type Ending = Omit<JobDone, 'type' | 'durationMs'> & { durationMs?: number };

/** One job being run, as the steps of `run` share it. */
interface JobRun {
  readonly job: CodeJob;
  readonly sandbox: Sandbox;
  readonly emit: Emit;
  readonly signal: AbortSignal;
  readonly takeover: boolean;
}

export interface RunOptions {
  readonly signal: AbortSignal;
  /** The session's kernel lived on a worker that is gone: restore its files, say so. */
  readonly takeover?: boolean;
}

/**
 * Runs one job against its session's sandbox (the worker side of the queue): fetches the
 * uploads from the blob store, runs the cell, stores produced files as blobs, and turns every
 * fault into a `done` event a user can read. It never throws.
 */
export class JobExecutor {
  private readonly options: JobExecutorOptions;

  constructor(options: JobExecutorOptions) {
    this.options = options;
  }

  async run(job: CodeJob, emit: Emit, { signal, takeover = false }: RunOptions): Promise<JobDone> {
    const startedAt = performance.now();
    const finish = async (done: Ending) => {
      const event: JobDone = {
        type: 'done',
        durationMs: done.durationMs ?? Math.round(performance.now() - startedAt),
        ...done,
      };
      await emit(event);
      return event;
    };
    const log = this.options.logger.child({ job: job.jobId, session: job.sessionId });
    await emit({
      type: 'started',
      workerId: this.options.workerId,
      queueWaitMs: Math.max(0, Date.now() - job.submittedAt),
    });
    try {
      const sandbox = this.options.manager.session(job.sessionId);
      // In use from now on, so a reap deciding meanwhile (it saves a checkpoint first) spares it.
      sandbox.lastUsedAt = Date.now();
      const run = { job, sandbox, emit, signal, takeover };
      return await finish(
        job.command === undefined
          ? await this.runCell(run)
          : await this.runCommand(run, job.command),
      );
    } catch (error) {
      log.warn({ err: error }, 'job failed');
      const message = isSandbotError(error)
        ? error.message
        : `internal error: ${errorMessage(error)}`;
      return await finish({ status: 'failed', kernelRestarted: false, message });
    }
  }

  private async runCommand(
    { job, sandbox, emit, signal, takeover }: JobRun,
    command: NonNullable<CodeJob['command']>,
  ): Promise<Ending> {
    switch (command) {
      case 'reset':
        await this.options.checkpoints?.forget(job.sessionId);
        await this.options.packages?.store.forget(job.sessionId);
        await sandbox.reset();
        return { status: 'ok', kernelRestarted: true };
      case 'install':
      case 'packages':
        return await runPackagesJob(job, sandbox, emit, this.options.packages, signal);
      case 'status':
        await emit({ type: 'notice', text: await describeStatus(sandbox, takeover) });
        return { status: 'ok', kernelRestarted: false };
      case 'forget':
        await emit({ type: 'notice', text: await this.forget(job.sessionId) });
        return { status: 'ok', kernelRestarted: false };
    }
  }

  /** A cell: state put back first if it needs a new kernel, then the uploads, then the code. */
  private async runCell({ job, sandbox, emit, signal, takeover }: JobRun): Promise<Ending> {
    const restored = sandbox.hasLiveKernel
      ? false
      : await this.prepareNewKernel(job, sandbox, emit, takeover);
    const missing = await this.placeUploads(job, sandbox);
    if (missing !== undefined) {
      return {
        status: 'failed',
        kernelRestarted: false,
        message: `the attached file ${missing} has expired; attach it again`,
      };
    }
    const ended = await this.execute(job, sandbox, emit, signal);
    this.options.checkpoints?.afterCell(job.sessionId);
    const overLimit = this.options.checkpoints?.takeNotice(job.sessionId);
    if (overLimit !== undefined) await emit({ type: 'notice', text: overLimit });
    if (ended === undefined) {
      return {
        status: 'failed',
        kernelRestarted: false,
        message: 'the cell ended without a result',
      };
    }
    return {
      status: ended.status,
      durationMs: ended.durationMs,
      kernelRestarted: ended.kernelRestarted || takeover || restored,
      ...(ended.usage === undefined ? {} : { usage: ended.usage }),
    };
  }

  /**
   * Whether the session's kernel is not here but its files are remembered (a kernel that
   * ended with an earlier process): its next job restores them into a fresh kernel.
   */
  async needsTakeover(sessionId: string): Promise<boolean> {
    if (this.options.manager.has(sessionId)) return false;
    const files = this.options.sessionFiles;
    return files !== undefined && (await files.list(sessionId)).length > 0;
  }

  /** Puts the job's uploads in /mnt/data; returns the name of one that expired, if any. */
  private async placeUploads(job: CodeJob, sandbox: Sandbox): Promise<string | undefined> {
    const uploads = await this.fetchUploads(job);
    if ('missing' in uploads) return uploads.missing;
    if (uploads.files.length === 0) return undefined;
    await sandbox.upload(uploads.files);
    const files = this.options.sessionFiles;
    if (files !== undefined) {
      await Promise.all(job.uploads.map((ref) => files.remember(job.sessionId, ref.name, ref)));
    }
    return undefined;
  }

  /** Runs the cell, passing its events on (files as blobs); returns the sandbox's end. */
  private async execute(
    job: CodeJob,
    sandbox: Sandbox,
    emit: Emit,
    signal: RunOptions['signal'],
  ): Promise<DoneEvent | undefined> {
    const options = {
      signal,
      ...(job.timeoutMs === undefined ? {} : { timeoutMs: job.timeoutMs }),
    };
    for await (const event of sandbox.execute(job.code, options)) {
      if (event.type === 'done') return event;
      if (event.type === 'file')
        await this.emitFile(job.sessionId, event.path, event.content, emit);
      else await emit(event);
    }
    return undefined;
  }

  /**
   * Before a cell that needs a new kernel (the session's first here, or its kernel was
   * reaped, moved with a lost worker, or killed): the files, then the variables of its
   * checkpoint. Returns whether state was put back.
   */
  private async prepareNewKernel(
    job: CodeJob,
    sandbox: Sandbox,
    emit: Emit,
    takeover: boolean,
  ): Promise<boolean> {
    const keeper = this.options.checkpoints;
    const packages = this.options.packages;
    const [checkpoint, installed] = await Promise.all([
      keeper?.find(job.sessionId),
      packages?.store.list(job.sessionId) ?? [],
    ]);
    if (!takeover && checkpoint === undefined && installed.length === 0) return false;
    const files = await this.restoreFiles(job, sandbox);
    // Before the variables: a value restored from the checkpoint may need one of them.
    const reinstalled =
      packages === undefined || installed.length === 0
        ? ''
        : packagesText(await reinstallPackages(job.sessionId, sandbox, packages));
    const notice =
      checkpoint === undefined || keeper === undefined
        ? undefined
        : await keeper.restore(job.sessionId, sandbox, checkpoint);
    await emit({
      type: 'notice',
      text:
        notice === undefined
          ? `This thread's earlier kernel is gone (stopped while idle, or lost with the process that held it), so this runs in a fresh kernel: variables from earlier cells are gone.${files}${reinstalled}`
          : `${notice}${files}${reinstalled}`,
    });
    return true;
  }

  private async forget(sessionId: string): Promise<string> {
    const keeper = this.options.checkpoints;
    if (keeper === undefined || !keeper.enabled)
      return 'Checkpoints are off here: nothing is saved.';
    return (await keeper.forget(sessionId))
      ? "This thread's checkpoint is deleted: if its kernel is restarted or reaped, its variables are not restored (until a new cell runs and a new checkpoint is saved)."
      : 'This thread has no checkpoint; nothing to forget.';
  }

  /** Puts the session's remembered files back into a fresh kernel's /mnt/data; says what. */
  private async restoreFiles(job: CodeJob, sandbox: Sandbox): Promise<string> {
    const refs = (await this.options.sessionFiles?.list(job.sessionId)) ?? [];
    const files: UploadFile[] = [];
    const lost: string[] = [];
    for (const ref of refs) {
      const blob = ref.name.includes('/') ? undefined : await this.options.blobs.get(ref.id);
      if (blob === undefined) lost.push(ref.name);
      else files.push({ name: ref.name, content: blob.content });
    }
    if (files.length > 0) await sandbox.upload(files);
    const restored = files.length > 0 ? ` ${files.length} file(s) in /mnt/data were restored.` : '';
    const missing = lost.length > 0 ? ` Files not restored: ${lost.join(', ')}.` : '';
    return `${restored}${missing}`;
  }

  private async fetchUploads(job: CodeJob): Promise<{ files: UploadFile[] } | { missing: string }> {
    const files: UploadFile[] = [];
    for (const ref of job.uploads) {
      const blob = await this.options.blobs.get(ref.id);
      if (blob === undefined) return { missing: ref.name };
      files.push({ name: ref.name, content: blob.content });
    }
    return { files };
  }

  private async emitFile(
    sessionId: string,
    path: string,
    content: Buffer,
    emit: Emit,
  ): Promise<void> {
    try {
      const blob = await this.options.blobs.put(content, { name: path, mime: mimeFromName(path) });
      await this.options.sessionFiles?.remember(sessionId, path, blob);
      await emit({ type: 'file', path, blob });
    } catch (error) {
      if (!isSandbotError(error, 'BLOB_TOO_LARGE')) throw error;
      await emit({ type: 'notice', text: `${path} was not sent: ${error.message}.` });
    }
  }
}

/** " Packages installed again: a 1.0. Not installed again: b." */
function packagesText(outcome: ReinstallOutcome): string {
  const again = outcome.installed.map((p) => `${p.name} ${p.version}`).join(', ');
  return (
    (again === '' ? '' : ` Packages installed again: ${again}.`) +
    (outcome.lost.length === 0 ? '' : ` Packages not installed again: ${outcome.lost.join(', ')}.`)
  );
}
