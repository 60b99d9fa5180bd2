import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import type { ApprovalStore, NewApproval } from '../../src/conversation/approval-store.ts';
import { MemoryApprovalStore } from '../../src/conversation/memory-approval-store.ts';
import { RedisApprovalStore } from '../../src/conversation/redis-approval-store.ts';
import { SqliteApprovalStore } from '../../src/conversation/sqlite-approval-store.ts';
import type { Redis } from '../../src/redis/connection.ts';
import { openDatabase, type DatabaseSync } from '../../src/sqlite/open-database.ts';
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts';

const services = inject('services');

/** One backend for one test: every `open()` is another bot process's view of the same store. */
interface Backend {
  open(): Promise<ApprovalStore>;
  dispose(): Promise<void>;
}

function memoryBackend(): Backend {
  // One process: its "other views" are the same store.
  const store = new MemoryApprovalStore();
  return { open: () => Promise.resolve(store), dispose: () => store.close() };
}

function redisBackend(testName: string): Backend {
  const url = services.redisUrl ?? '';
  const prefix = uniquePrefix(testName);
  const opened: Redis[] = [];
  return {
    async open() {
      const redis = await connectRedis(url);
      opened.push(redis);
      return new RedisApprovalStore(redis, prefix);
    },
    async dispose() {
      const redis = await connectRedis(url);
      await deleteKeys(redis, prefix);
      await redis.quit();
      for (const each of opened) await each.quit();
    },
  };
}

async function sqliteBackend(): Promise<Backend> {
  const dir = await mkdtemp(join(tmpdir(), 'sandbot-approvals-'));
  const databases: DatabaseSync[] = [];
  return {
    open() {
      // Each view opens the file itself, as another process on the same data directory does.
      const db = openDatabase(dir);
      databases.push(db);
      return Promise.resolve(new SqliteApprovalStore(db));
    },
    async dispose() {
      for (const db of databases) db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function approval(id: string, expiresAt = Date.now() + 60_000): NewApproval {
  return {
    id,
    sessionKey: 'slack:T1:C1:1716.000200',
    address: { surface: 'slack', channel: 'C1', threadTs: '1716.000200' },
    requester: { id: 'U1', name: 'ada' },
    names: ['sbtiny', 'sbdep'],
    text: 'ada wants to install sbtiny 1.0',
    expiresAt,
  };
}

const backends = [
  {
    name: 'memory',
    available: true,
    durable: false,
    make: () => Promise.resolve(memoryBackend()),
  },
  {
    name: 'redis',
    available: services.redisUrl !== undefined,
    durable: true,
    make: (testName: string) => Promise.resolve(redisBackend(testName)),
  },
  { name: 'sqlite', available: true, durable: true, make: () => sqliteBackend() },
];

describe.each(backends)(
  'package approval store contract: $name',
  ({ available, durable, make }) => {
    const test = it.skipIf(!available);
    let backend: Backend;
    let store: ApprovalStore;

    beforeEach(async (context) => {
      if (!available) return;
      backend = await make(context.task.name);
      store = await backend.open();
    });

    afterEach(async () => {
      if (available) await backend.dispose();
    });

    test('keeps a new approval, waiting, as it was asked', async () => {
      const asked = approval('pa-1');
      expect(await store.open(asked)).toEqual(asked);
      expect(await store.get('pa-1')).toEqual(asked);
      expect(await store.get('pa-unknown')).toBeUndefined();
    });

    test('a resumed turn opening the same approval finds the question already posted', async () => {
      await store.open(approval('pa-1'));
      await store.posted('pa-1', '1716.000300');
      const resumed = await (await backend.open()).open({ ...approval('pa-1'), text: 'again' });
      expect(resumed.messageId).toBe('1716.000300');
      expect(resumed.text).toBe('ada wants to install sbtiny 1.0');
    });

    test('the first decision wins; a later one changes nothing', async () => {
      await store.open(approval('pa-1'));
      const by = { id: 'U9', name: 'grace' };
      const approved = await store.decide('pa-1', { outcome: 'approved', by, at: 1 });
      expect(approved?.decision).toEqual({ outcome: 'approved', by, at: 1 });
      const late = await store.decide('pa-1', { outcome: 'expired', at: 2 });
      expect(late?.decision).toEqual({ outcome: 'approved', by, at: 1 });
      expect((await store.get('pa-1'))?.decision?.outcome).toBe('approved');
    });

    test('deciding an unknown approval stores nothing', async () => {
      expect(await store.decide('pa-none', { outcome: 'denied', at: 1 })).toBeUndefined();
      expect(await store.get('pa-none')).toBeUndefined();
      await store.posted('pa-none', 'm1');
      expect(await store.get('pa-none')).toBeUndefined();
    });

    test('a press in another process decides what this one waits on, once', async () => {
      await store.open(approval('pa-1'));
      const other = await backend.open();
      const [first, second] = await Promise.all([
        other.decide('pa-1', { outcome: 'denied', by: { id: 'U9', name: 'grace' }, at: 1 }),
        store.decide('pa-1', { outcome: 'expired', at: 1 }),
      ]);
      expect(first?.decision).toEqual(second?.decision);
      expect((await store.get('pa-1'))?.decision).toEqual(first?.decision);
    });

    // Memory forgets with its process, as it should.
    it.skipIf(!available || !durable)(
      'a restarted bot still finds the pending approval',
      async () => {
        await store.open(approval('pa-1'));
        await store.posted('pa-1', 'm1');
        await store.close();
        const restarted = await backend.open();
        const found = await restarted.get('pa-1');
        expect(found?.messageId).toBe('m1');
        expect(found?.decision).toBeUndefined();
      },
    );
  },
);
