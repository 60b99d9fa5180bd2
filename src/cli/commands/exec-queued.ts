import { randomUUID } from 'node:crypto';
import { RedisBlobStore } from '../../blobs/redis-blob-store.ts';
import { BullmqJobQueue } from '../../jobs/bullmq-job-queue.ts';
import type { Logger } from '../../logging/logger.ts';
import { createRedis } from '../../redis/connection.ts';
import type { UploadFile } from '../../sandbox/file-transfer.ts';
import { mimeFromName } from '../../core/mime.ts';
import type { OutcomePrinter } from '../outcome-printer.ts';
import { BLOB_LIMITS } from '../../jobs/defaults.ts';
import { untilAbandoned } from '../../jobs/until-abandoned.ts';
import { probeRedis } from '../../redis/probe-redis.ts';

/** After SIGTERM/Ctrl-C, how long the cancelled cell may take to report its end. */
const CANCEL_WAIT_MS = 5000;

export interface ExecRequest {
  readonly code: string;
  readonly uploads: readonly UploadFile[];
  readonly sessionName: string | undefined;
  readonly timeoutMs: number | undefined;
  readonly signal: AbortSignal;
}

/**
 * `sandbot exec` with REDIS_URL: the files go to the blob store, the cell goes through the
 * queue to whichever `sandbot worker` holds (or takes) the session, and produced files come
 * back from the blob store.
 */
export async function runQueued(
  request: ExecRequest & { redisUrl: string; redisPrefix: string; logger: Logger },
  printer: OutcomePrinter,
): Promise<void> {
  await probeRedis(request.redisUrl);
  const redis = createRedis(request.redisUrl, { maxRetriesPerRequest: 3 });
  redis.on('error', (error) => request.logger.debug({ err: error }, 'redis (exec)'));
  const queue = new BullmqJobQueue({
    redisUrl: request.redisUrl,
    prefix: request.redisPrefix,
    logger: request.logger,
  });
  try {
    await redis.connect();
    const blobs = new RedisBlobStore(redis, `${request.redisPrefix}:`, BLOB_LIMITS);
    const uploads = await Promise.all(
      request.uploads.map((file) =>
        blobs.put(file.content, { name: file.name, mime: mimeFromName(file.name) }),
      ),
    );
    const handle = await queue.submit({
      jobId: randomUUID(),
      sessionId: `cli:${request.sessionName ?? randomUUID()}`,
      code: request.code,
      uploads,
      submittedAt: Date.now(),
      ...(request.timeoutMs === undefined ? {} : { timeoutMs: request.timeoutMs }),
    });
    const cancel = () => void handle.cancel().catch(() => undefined);
    if (request.signal.aborted) cancel();
    else request.signal.addEventListener('abort', cancel, { once: true });
    for await (const event of untilAbandoned(handle.events, request.signal, CANCEL_WAIT_MS)) {
      if (event.type === 'started') continue;
      if (event.type === 'file') {
        const blob = await blobs.get(event.blob.id);
        if (blob === undefined)
          await printer.handle({
            type: 'notice',
            text: `${event.path} expired before it could be fetched.`,
          });
        else await printer.handle({ type: 'file', path: event.path, content: blob.content });
        continue;
      }
      await printer.handle(event);
    }
  } finally {
    await queue.close();
    redis.disconnect();
  }
}
