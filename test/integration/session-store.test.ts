import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Redis } from '../../src/redis/connection.ts';
import { MemorySessionStore } from '../../src/sessions/memory-session-store.ts';
import { RedisSessionStore } from '../../src/sessions/redis-session-store.ts';
import {
  emptySession,
  type SessionState,
  type SessionStore,
} from '../../src/sessions/session-store.ts';
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts';

const services = inject('services');

function sample(key: string): SessionState {
  return {
    ...emptySession(key),
    transcript: [
      { role: 'user', content: 'ana: plot it' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'c1', type: 'function', function: { name: 'python', arguments: '{"code":"1"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'c1', content: '[status: ok]' },
    ],
    cells: [
      {
        code: '1',
        events: [{ type: 'done', status: 'ok', durationMs: 1, kernelRestarted: false }],
      },
    ],
    files: [
      {
        name: 'a.csv',
        origin: 'upload',
        blob: { id: 'b1', name: 'a.csv', sizeBytes: 3, mime: 'text/csv' },
      },
    ],
  };
}

function sessionStoreContract(name: string, make: () => SessionStore) {
  describe(`${name} session store`, () => {
    it('gives back what was saved', async () => {
      const store = make();
      const state = sample('slack:T1:C1:1.0');
      await store.save(state);
      expect(await store.load('slack:T1:C1:1.0')).toEqual(state);
    });

    it('knows nothing of an unknown or deleted thread', async () => {
      const store = make();
      expect(await store.load('web:local:x:none')).toBeUndefined();
      await store.save(sample('web:local:x:gone'));
      await store.delete('web:local:x:gone');
      expect(await store.load('web:local:x:gone')).toBeUndefined();
    });

    it('returns copies, not the stored object', async () => {
      const store = make();
      await store.save(sample('web:local:x:copy'));
      const loaded = await store.load('web:local:x:copy');
      (loaded?.transcript as unknown[]).push({ role: 'user', content: 'sneaky' });
      expect((await store.load('web:local:x:copy'))?.transcript).toHaveLength(3);
    });
  });
}

sessionStoreContract('memory', () => new MemorySessionStore(60_000));

describe('memory session store expiry', () => {
  it('forgets a thread after the TTL', async () => {
    let now = 0;
    const store = new MemorySessionStore(1000, () => now);
    await store.save(sample('web:local:x:ttl'));
    now = 1001;
    expect(await store.load('web:local:x:ttl')).toBeUndefined();
  });
});

describe.skipIf(services.redisUrl === undefined)('redis', () => {
  let redis: Redis;
  const prefix = uniquePrefix('sessions');
  beforeAll(async () => {
    redis = await connectRedis(services.redisUrl ?? '');
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });
  sessionStoreContract('redis', () => new RedisSessionStore(redis, prefix, 60_000));

  it('sets the TTL on every save', async () => {
    await new RedisSessionStore(redis, prefix, 60_000).save(sample('web:local:x:pttl'));
    const ttl = await redis.pttl(`${prefix}:thread:web:local:x:pttl`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });
});
