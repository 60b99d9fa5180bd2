import type { BlobStore } from '../blobs/blob-store.ts';
import { errorMessage, isSandbotError } from '../errors.ts';
import type { Logger } from '../logging/logger.ts';
import type { UploadFile } from '../sandbox/file-transfer.ts';
import type { SandboxManager } from '../sandbox/sandbox-manager.ts';
import { mimeFromName } from '../util/mime.ts';
import type { CodeJob, JobDone, JobEvent } from './job.ts';

export interface JobExecutorOptions {
  readonly manager: SandboxManager;
  readonly blobs: BlobStore;
  readonly workerId: string;
  readonly logger: Logger;
}

export type Emit = (event: JobEvent) => Promise<void>;

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

  async run(job: CodeJob, emit: Emit, signal: AbortSignal): Promise<JobDone> {
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
      const uploads = await this.fetchUploads(job);
      if ('missing' in uploads) {
        return await finish({
          status: 'failed',
          kernelRestarted: false,
          message: `the attached file ${uploads.missing} has expired; attach it again`,
        });
      }
      if (uploads.files.length > 0) await sandbox.upload(uploads.files);
      const options = {
        signal,
        ...(job.timeoutMs === undefined ? {} : { timeoutMs: job.timeoutMs }),
      };
      for await (const event of sandbox.execute(job.code, options)) {
        switch (event.type) {
          case 'file':
            await this.emitFile(event.path, event.content, emit);
            break;
          case 'done':
            return await finish({
              status: event.status,
              durationMs: event.durationMs,
              kernelRestarted: event.kernelRestarted,
            });
          default:
            await emit(event);
        }
      }
      return await finish({
        status: 'failed',
        kernelRestarted: false,
        message: 'the cell ended without a result',
      });
    } catch (error) {
      log.warn({ err: error }, 'job failed');
      const message = isSandbotError(error)
        ? error.message
        : `internal error: ${errorMessage(error)}`;
      return await finish({ status: 'failed', kernelRestarted: false, message });
    }
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

  private async emitFile(path: string, content: Buffer, emit: Emit): Promise<void> {
    try {
      const blob = await this.options.blobs.put(content, { name: path, mime: mimeFromName(path) });
      await emit({ type: 'file', path, blob });
    } catch (error) {
      if (!isSandbotError(error, 'BLOB_TOO_LARGE')) throw error;
      await emit({ type: 'notice', text: `${path} was not sent: ${error.message}.` });
    }
  }
}
