/**
 * Checkpoints through the worker's own parts (issue 18): a job executor on a real sandbox
 * manager with the checkpoint keeper and the Redis store. A session's variables come back
 * after its kernel is reaped, what could not be saved is named, a namespace over the limit
 * is not saved and the thread is told once, and `forget` keeps the next kernel empty.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MemoryBlobStore } from '../../src/blobs/memory-blob-store.ts';
import { attachCheckpoints } from '../../src/checkpoints/attach-checkpoints.ts';
import type { CheckpointKeeper } from '../../src/checkpoints/checkpoint-keeper.ts';
import { RedisCheckpointStore } from '../../src/checkpoints/redis-checkpoint-store.ts';
import { parseJob, type JobEvent } from '../../src/core/job.ts';
import { JobExecutor } from '../../src/jobs/job-executor.ts';
import type { Redis } from '../../src/redis/connection.ts';
import { MemorySessionPackages } from '../../src/packages/session-packages.ts';
import { serveIndex, type PackageIndex } from '../support/package-index.ts';
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts';
import { eventually } from '../support/sandbot-process.ts';
import { quietLogger, startManager, type ManagerHarness } from '../support/sandbox.ts';

const services = inject('services');
const IDLE_MS = 10 * 60_000;

/** A DataFrame, a fitted model, a lambda, an open socket and a generator. */
const SETUP = `
import socket
import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression
df = pd.DataFrame({"x": range(1000), "y": [2 * i + 1 for i in range(1000)]})
model = LinearRegression().fit(df[["x"]], df["y"])
double = lambda v: v * 2
conn = socket.socket()
gen = (i for i in range(3))
`;

describe.skipIf(services.sandboxImage === undefined || services.redisUrl === undefined)(
  'checkpoints through the job executor',
  () => {
    const prefix = uniquePrefix('checkpoint-restore');
    let redis: Redis;
    let harness: ManagerHarness;
    let executor: JobExecutor;
    let keeper: CheckpointKeeper;
    let store: RedisCheckpointStore;
    let index: PackageIndex;

    async function runJob(
      sessionId: string,
      code: string,
      command?: 'forget' | 'install',
      packages: string[] = [],
    ) {
      const parsed = parseJob({
        jobId: randomUUID(),
        sessionId,
        code,
        submittedAt: Date.now(),
        ...(command === undefined ? {} : { command, packages }),
      });
      if (!parsed.ok) throw new Error(parsed.message);
      const events: JobEvent[] = [];
      const done = await executor.run(
        parsed.job,
        (event) => {
          events.push(event);
          return Promise.resolve();
        },
        { signal: new AbortController().signal },
      );
      const notices = events.flatMap((e) => (e.type === 'notice' ? [e.text] : []));
      const shown = events.flatMap((e) =>
        e.type === 'display' ? [e.data['text/plain'] ?? ''] : e.type === 'stdout' ? [e.text] : [],
      );
      return { done, notices, shown: shown.join('') };
    }

    /**
     * Reaps every session of the manager as if their idle time had passed, once none is busy
     * (removing a read checkpoint from the sandbox is a short task of the session's own).
     */
    async function reapAll(): Promise<number> {
      await eventually(
        () => (harness.manager.busySessions === 0 ? true : undefined),
        'no session busy',
      );
      return await harness.manager.reapIdle(Date.now() + IDLE_MS + 60_000);
    }

    beforeAll(async () => {
      redis = await connectRedis(services.redisUrl ?? '');
      harness = await startManager({ poolSize: 1, memoryMb: 512, tmpMb: 64 });
      store = new RedisCheckpointStore(redis, prefix, { ttlMs: 3600_000, budgetBytes: 1 << 30 });
      keeper = attachCheckpoints(
        harness.manager,
        store,
        { maxBytes: 4 * 1024 * 1024, idleMs: 3600_000, totalBytes: 1 << 30 },
        quietLogger,
      );
      index = await serveIndex();
      const blobs = new MemoryBlobStore({ maxBlobBytes: 1 << 20, ttlMs: 3600_000 });
      executor = new JobExecutor({
        manager: harness.manager,
        blobs,
        workerId: 'checkpoint-test',
        logger: quietLogger,
        checkpoints: keeper,
        packages: {
          settings: {
            indexUrl: index.url,
            allow: ['sbtiny', 'sbdep'],
            maxWheelBytes: 100 * 1024,
            maxTotalBytes: 1024 * 1024,
          },
          blobs,
          store: new MemorySessionPackages(),
          logger: quietLogger,
        },
      });
    }, 60_000);

    afterAll(async () => {
      keeper.close();
      index.server.close();
      const leftovers = await harness.close();
      await deleteKeys(redis, prefix);
      redis.disconnect();
      expect(leftovers).toBe(0);
    });

    it(
      'restores a reaped session: df and the model work, the socket and the generator are named',
      { timeout: 120_000 },
      async () => {
        const session = `reaped-${randomUUID().slice(0, 8)}`;
        expect((await runJob(session, SETUP)).done.status).toBe('ok');
        expect(await reapAll()).toBe(1);
        expect(harness.manager.has(session)).toBe(false);
        // Saved before the kernel went, as the sandbox listed it.
        const saved = await store.describe(session);
        expect(saved?.names).toEqual(expect.arrayContaining(['df', 'model', 'double']));
        expect(saved?.notSaved.map((n) => n.name).sort()).toEqual(['conn', 'gen']);

        const next = await runJob(
          session,
          'print(df.shape, round(float(model.predict(pd.DataFrame({"x": [10]}))[0]), 3), double(21))',
        );
        expect(next.done).toMatchObject({ status: 'ok', kernelRestarted: true });
        expect(next.shown).toContain('(1000, 2) 21.0 42');
        const [notice] = next.notices;
        expect(notice).toMatch(/fresh kernel; the thread's variables were restored/);
        expect(notice).toMatch(/checkpoint of \d\d:\d\d UTC/);
        expect(notice).toMatch(/Not restored: .*conn \(socket\)/);
        expect(notice).toMatch(/gen \(generator\)/);
        // Told once: the kernel is live now, so the next cell says nothing about it.
        const after = await runJob(session, 'print(len(df))');
        expect(after.notices).toEqual([]);
        expect(after.shown).toContain('1000');
      },
    );

    it(
      'saves nothing over the limit and tells the thread once, at its next cell',
      { timeout: 120_000 },
      async () => {
        const session = `big-${randomUUID().slice(0, 8)}`;
        // About 16 MB of random bytes: no compression brings them under the 4 MB limit.
        await runJob(session, 'import os\nblob = os.urandom(16 * 1024 * 1024)');
        await keeper.save(session);
        expect(await store.describe(session)).toBeUndefined();
        const next = await runJob(session, 'len(blob)');
        expect(next.shown).toContain('16777216');
        expect(next.notices).toHaveLength(1);
        expect(next.notices[0]).toMatch(/larger than the checkpoint limit \(4\.0 MB/);
        await keeper.save(session);
        const third = await runJob(session, 'len(blob)');
        expect(third.notices).toEqual([]);
      },
    );

    it(
      'forget drops the checkpoint: the next kernel starts empty, and nothing is saved again until a new cell',
      { timeout: 120_000 },
      async () => {
        const session = `forget-${randomUUID().slice(0, 8)}`;
        await runJob(session, 'kept = 41');
        await keeper.save(session);
        expect(await store.describe(session)).toBeDefined();
        const forgot = await runJob(session, '', 'forget');
        expect(forgot.notices[0]).toMatch(/checkpoint is deleted/);
        expect(await store.describe(session)).toBeUndefined();
        // The reap saves nothing: no cell ran since the forget.
        expect(await reapAll()).toBeGreaterThan(0);
        expect(harness.manager.has(session)).toBe(false);
        expect(await store.describe(session)).toBeUndefined();
        const next = await runJob(session, 'print("kept" in globals())');
        expect(next.shown).toContain('False');
        expect(next.notices).toEqual([]);
      },
    );

    it(
      'gives a kernel that died in a cell the last checkpoint back at the next cell',
      { timeout: 120_000 },
      async () => {
        const session = `killed-${randomUUID().slice(0, 8)}`;
        await runJob(session, 'import pandas as pd\nframe = pd.DataFrame({"a": [1, 2, 3]})');
        await keeper.save(session);
        const died = await runJob(
          session,
          'import os, signal\nos.kill(os.getpid(), signal.SIGKILL)',
        );
        expect(died.done).toMatchObject({ kernelRestarted: true });
        // Told at the kill: this kernel's state is gone, the next cell says what comes back.
        expect(died.notices.join('\n')).toMatch(/next cell starts a fresh kernel and says what/);
        expect(died.notices.join('\n')).not.toMatch(/variables from earlier cells/);
        const next = await runJob(session, 'print(int(frame["a"].sum()))');
        expect(next.shown).toContain('6');
        expect(next.notices.join('\n')).toMatch(/variables were restored from the checkpoint/);
        expect(next.notices.join('\n')).not.toMatch(/variables from earlier cells .* are gone/);
      },
    );

    it(
      "installs the thread's packages again before its variables, which may need them",
      { timeout: 120_000 },
      async () => {
        const session = `packages-${randomUUID().slice(0, 8)}`;
        await runJob(session, '', 'install', ['sbtiny']);
        await runJob(session, 'import sbtiny as tiny\nanswer = tiny.ANSWER + 1');
        await reapAll();
        expect(harness.manager.has(session)).toBe(false);
        const next = await runJob(session, 'print(answer, tiny.ANSWER)');
        expect(next.shown).toContain('43 42');
        const notice = next.notices.join('\n');
        expect(notice).toMatch(/restored from the checkpoint of .*: (answer, tiny|tiny, answer)\./);
        expect(notice).toMatch(/Packages installed again: .*sbtiny 1\.0/);
      },
    );
  },
);
