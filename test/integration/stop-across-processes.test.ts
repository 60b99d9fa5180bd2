import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RedisBlobStore } from '../../src/blobs/redis-blob-store.ts';
import { AccessPolicy } from '../../src/conversation/access-policy.ts';
import { Conversation } from '../../src/conversation/conversation.ts';
import type { Progress, Reply } from '../../src/core/reply.ts';
import { BullmqJobQueue } from '../../src/jobs/bullmq-job-queue.ts';
import { BullmqJobWorker } from '../../src/jobs/bullmq-job-worker.ts';
import type { Redis } from '../../src/redis/connection.ts';
import { RedisRunningTurns } from '../../src/redis/redis-running-turns.ts';
import { RedisSessionStore } from '../../src/sessions/redis-session-store.ts';
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts';
import { quietLogger, startManager, type ManagerHarness } from '../support/sandbox.ts';

const services = inject('services');

const agentLimits = {
  maxSteps: 5,
  turnTimeoutMs: 60_000,
  maxAttachmentBytes: 1024,
  maxAttachments: 2,
};
const openPolicy = { allowedUsers: undefined, allowedChannels: undefined, userRatePerMinute: 0 };
const blobLimits = { maxBlobBytes: 10 * 1024 * 1024, ttlMs: 60_000 };

/** One bot process: its own Redis connection, job producer and conversation. */
interface BotProcess {
  readonly conversation: Conversation;
  close(): Promise<void>;
}

async function startBotProcess(redisUrl: string, prefix: string): Promise<BotProcess> {
  const redis = await connectRedis(redisUrl);
  const blobs = new RedisBlobStore(redis, `${prefix}:`, blobLimits);
  const jobs = new BullmqJobQueue({ redisUrl, prefix, logger: quietLogger });
  const runningTurns = new RedisRunningTurns(redis, { prefix });
  const conversation = new Conversation({
    jobs,
    blobs,
    sessions: new RedisSessionStore(redis, prefix, 60_000, blobs),
    agent: agentLimits,
    logger: quietLogger,
    model: undefined,
    policy: new AccessPolicy(openPolicy),
    runningTurns,
  });
  return {
    conversation,
    async close() {
      await jobs.close();
      await runningTurns.close();
      redis.disconnect();
    },
  };
}

/** Sends a message to one process and resolves with the reply it posts. */
async function send(
  conversation: Conversation,
  sessionKey: string,
  text: string,
  onProgress?: (update: Progress) => void,
): Promise<Reply> {
  let reply: Reply | undefined;
  await conversation.handle(
    { sessionKey, author: { id: 'U1', name: 'ana' }, text, attachments: [] },
    {
      progress: (update) => onProgress?.(update),
      reply: (r) => {
        reply = r;
        return Promise.resolve();
      },
    },
  );
  if (reply === undefined) throw new Error('no reply');
  return reply;
}

describe.skipIf(services.sandboxImage === undefined || services.redisUrl === undefined)(
  'stop across bot processes',
  () => {
    const redisUrl = services.redisUrl ?? '';
    const prefix = uniquePrefix('stop-across-processes');
    let redis: Redis;
    let harness: ManagerHarness;
    let worker: BullmqJobWorker;
    let a: BotProcess;
    let b: BotProcess;

    beforeAll(async () => {
      redis = await connectRedis(redisUrl);
      harness = await startManager({ poolSize: 1 });
      worker = new BullmqJobWorker({
        redisUrl,
        prefix,
        workerId: `stop-${randomUUID().slice(0, 6)}`,
        manager: harness.manager,
        blobs: new RedisBlobStore(redis, `${prefix}:`, blobLimits),
        logger: quietLogger,
        sessionIdleMs: 60_000,
      });
      await worker.start();
      a = await startBotProcess(redisUrl, prefix);
      b = await startBotProcess(redisUrl, prefix);
    });

    afterAll(async () => {
      await a.close();
      await b.close();
      await worker.close();
      expect(await harness.close()).toBe(0);
      await deleteKeys(redis, prefix);
      redis.disconnect();
    });

    it('a stop sent to one process interrupts the cell running on the other', async () => {
      const sessionKey = `test:w:c:${randomUUID().slice(0, 8)}`;
      // Stop once the cell is really running (a container may still be starting before).
      const running = Promise.withResolvers<undefined>();
      const long = send(
        a.conversation,
        sessionKey,
        'run import time; print("sleeping", flush=True); time.sleep(60)',
        (update) => {
          if (update.type === 'output' && update.text.includes('sleeping'))
            running.resolve(undefined);
        },
      );
      await running.promise;
      const stop = await send(b.conversation, sessionKey, 'stop');
      expect(stop.text).toBe('Stopping the running cell.');
      expect((await long).text).toContain('KeyboardInterrupt');
      // The turn is over everywhere: neither process finds it any more.
      expect((await send(b.conversation, sessionKey, 'stop')).text).toBe('Nothing is running.');
      expect((await send(a.conversation, sessionKey, 'stop')).text).toBe('Nothing is running.');
    });
  },
);
