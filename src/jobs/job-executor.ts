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

export interface JobExecutorOptions {
  readonly manager: SandboxManager;
  readonly blobs: BlobStore;
  readonly workerId: string;
  readonly logger: Logger;
  readonly sessionFiles?: SessionFiles;
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
    const finish = async (done: Omit<JobDone, 'type' | 'durationMs'> & { durationMs?: number }) => {
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
      if (job.command === 'reset') {
        await sandbox.reset();
        return await finish({ status: 'ok', kernelRestarted: true });
      }
      if (job.command === 'status') {
        await emit({ type: 'notice', text: await describeStatus(sandbox, takeover) });
        return await finish({ status: 'ok', kernelRestarted: false });
      }
      if (takeover) await this.restoreFiles(job, sandbox, emit);
      const missing = await this.placeUploads(job, sandbox);
      if (missing !== undefined) {
        return await finish({
          status: 'failed',
          kernelRestarted: false,
          message: `the attached file ${missing} has expired; attach it again`,
        });
      }
      const ended = await this.execute(job, sandbox, emit, signal);
      if (ended === undefined) {
        return await finish({
          status: 'failed',
          kernelRestarted: false,
          message: 'the cell ended without a result',
        });
      }
      return await finish({
        status: ended.status,
        durationMs: ended.durationMs,
        kernelRestarted: ended.kernelRestarted || takeover,
        ...(ended.usage === undefined ? {} : { usage: ended.usage }),
      });
    } catch (error) {
      log.warn({ err: error }, 'job failed');
      const message = isSandbotError(error)
        ? error.message
        : `internal error: ${errorMessage(error)}`;
      return await finish({ status: 'failed', kernelRestarted: false, message });
    }
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

  /** Puts the session's remembered files back into a fresh kernel's /mnt/data. */
  private async restoreFiles(job: CodeJob, sandbox: Sandbox, emit: Emit): Promise<void> {
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
    const missing = lost.length > 0 ? ` Not restored: ${lost.join(', ')}.` : '';
    await emit({
      type: 'notice',
      text: `This session's kernel ended with the worker or bot process that held it, so this runs in a fresh kernel: variables from earlier cells are gone.${restored}${missing}`,
    });
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
