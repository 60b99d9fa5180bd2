/**
 * Checkpoints across worker processes, with the settings a user gets (a checkpoint after
 * 10 s idle, WORKER_IDs as given): a session's worker is SIGKILLed after its checkpoint was
 * saved, and the next cell, on another worker, has the DataFrame and the fitted model back
 * and is told which names did not come back and why.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RedisCheckpointStore } from '../../src/checkpoints/redis-checkpoint-store.ts';
import { BullmqJobQueue } from '../../src/jobs/bullmq-job-queue.ts';
import type { JobEvent } from '../../src/core/job.ts';
import type { Redis } from '../../src/redis/connection.ts';
import { BotDeployment } from '../support/bot-deployment.ts';
import { connectRedis, uniquePrefix } from '../support/redis.ts';
import { eventually } from '../support/sandbot-process.ts';
import { quietLogger } from '../support/sandbox.ts';

const services = inject('services');
/** scikit-learn's import needs more than the deployment helper's 256 MB. */
const MEMORY = { SANDBOX_MEMORY_MB: '512' };

async function collect(events: AsyncIterable<JobEvent>): Promise<JobEvent[]> {
  const all: JobEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

describe.skipIf(services.sandboxImage === undefined || services.redisUrl === undefined)(
  'checkpoints when a worker is killed',
  () => {
    const redisUrl = services.redisUrl ?? '';
    const prefix = uniquePrefix('worker-checkpoints');
    const deployment = new BotDeployment({
      redisUrl,
      prefix,
      sandboxImage: services.sandboxImage ?? '',
      poolSize: 1,
      platformEnv: {},
    });
    let redis: Redis;
    let queue: BullmqJobQueue;

    beforeAll(async () => {
      redis = await connectRedis(redisUrl);
      queue = new BullmqJobQueue({ redisUrl, prefix, logger: quietLogger });
    });

    /** Runs cells of one session through the queue; each resolves to all of its events. */
    function submitter(sessionId: string): (code: string) => Promise<JobEvent[]> {
      return async (code) =>
        await collect(
          (await queue.submit({ jobId: randomUUID(), sessionId, code, submittedAt: Date.now() }))
            .events,
        );
    }

    afterAll(async () => {
      await queue.close();
      await deployment.remove(redis);
      redis.disconnect();
    });

    it(
      'restores df and the model on another worker after a SIGKILL; names the socket and the generator',
      { timeout: 180_000 },
      async () => {
        const first = await deployment.worker('checkpoint-first', MEMORY);
        const session = `killed-${randomUUID().slice(0, 8)}`;
        const submit = submitter(session);
        const setup = await submit(
          [
            'import socket, pandas as pd',
            'from sklearn.linear_model import LinearRegression',
            'df = pd.DataFrame({"x": range(100), "y": [3 * i for i in range(100)]})',
            'model = LinearRegression().fit(df[["x"]], df["y"])',
            'conn = socket.socket()',
            'gen = (i for i in range(3))',
          ].join('\n'),
        );
        expect(setup.at(-1), JSON.stringify(setup)).toMatchObject({ type: 'done', status: 'ok' });
        expect(setup[0]).toMatchObject({ type: 'started', workerId: 'checkpoint-first' });

        // Saved by the worker once the session has been idle for the default 10 s.
        const store = new RedisCheckpointStore(redis, prefix, { ttlMs: 1, budgetBytes: 1 });
        const saved = await eventually(
          async () => await store.describe(session),
          'the checkpoint saved',
          60_000,
        );
        expect(saved.notSaved.map((n) => n.name).sort()).toEqual(['conn', 'gen']);

        await deployment.stop(first, 'SIGKILL');
        const second = await deployment.worker('checkpoint-second', MEMORY);
        const next = await submit(
          'print(df.shape, round(float(model.predict(pd.DataFrame({"x": [7]}))[0]), 3))',
        );
        expect(next[0]).toMatchObject({ type: 'started', workerId: 'checkpoint-second' });
        expect(next.at(-1), JSON.stringify(next)).toMatchObject({
          type: 'done',
          status: 'ok',
          kernelRestarted: true,
        });
        const printed = next.flatMap((e) => (e.type === 'stdout' ? [e.text] : [])).join('');
        expect(printed).toContain('(100, 2) 21.0');
        const notice = next.flatMap((e) => (e.type === 'notice' ? [e.text] : [])).join('\n');
        expect(notice).toMatch(/variables were restored from the checkpoint of \d\d:\d\d UTC/);
        expect(notice).toMatch(/Not restored: .*conn \(socket\)/);
        expect(notice).toMatch(/gen \(generator\)/);
        await deployment.stop(second, 'SIGTERM');
      },
    );

    it(
      'saves on SIGTERM before the idle time is up: a drained worker hands the variables on',
      { timeout: 180_000 },
      async () => {
        const first = await deployment.worker('drain-first', MEMORY);
        const session = `drained-${randomUUID().slice(0, 8)}`;
        const submit = submitter(session);
        const setup = await submit('total = sum(range(10))\nnames = ["a", "b"]');
        expect(setup.at(-1), JSON.stringify(setup)).toMatchObject({ status: 'ok' });
        expect(setup[0]).toMatchObject({ type: 'started', workerId: 'drain-first' });
        const store = new RedisCheckpointStore(redis, prefix, { ttlMs: 1, budgetBytes: 1 });
        // Well inside the 10 s idle time: only the drain can have saved it.
        await deployment.stop(first, 'SIGTERM');
        expect((await store.describe(session))?.names.sort()).toEqual(['names', 'total']);

        await deployment.worker('drain-second', MEMORY);
        const next = await submit('print(total, names)');
        const printed = next.flatMap((e) => (e.type === 'stdout' ? [e.text] : [])).join('');
        expect(printed).toContain("45 ['a', 'b']");
      },
    );
  },
);
