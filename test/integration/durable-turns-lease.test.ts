import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DurableTurns, type DurableTurnInfo } from '../../src/conversation/durable-turns.ts';
import { RedisTurnStore } from '../../src/conversation/redis-turn-store.ts';
import { TurnRunner } from '../../src/conversation/turn-runner.ts';
import { textReply, type Reply, type ThreadReply } from '../../src/core/reply.ts';
import type { Redis } from '../../src/redis/connection.ts';
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts';
import { eventually } from '../support/sandbot-process.ts';

const services = inject('services');
const logger = pino({ level: 'silent' });

/**
 * A runner that is alive but lost its turn to another runner (its lease ran out, as across a
 * Redis outage longer than the lease): the turn is answered by the other runner, and this one
 * posts nothing, whatever its answering code does once it notices.
 */
describe.skipIf(services.redisUrl === undefined)('a durable turn whose lease was lost', () => {
  const prefix = uniquePrefix('durable-lease');
  let redis: Redis;

  beforeAll(async () => {
    redis = await connectRedis(services.redisUrl ?? '');
  });

  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it('stops its work and posts nothing; the runner that took it over answers', async () => {
    const sessionKey = 'web:local:playground:lease';
    const posted: string[] = [];
    const thread: ThreadReply = {
      address: { surface: 'web', thread: 'lease' },
      progress: () => undefined,
      reply: (reply: Reply) => {
        posted.push(reply.text);
        return Promise.resolve();
      },
    };
    let info: DurableTurnInfo | undefined;
    let outcome: unknown;
    const first = new DurableTurns({
      store: new RedisTurnStore(redis, prefix),
      runnerId: 'alive-but-late',
      logger,
      adapters: () => [],
      leaseMs: 600,
      answer: async (_message, reply, turnInfo) => {
        info = turnInfo;
        // Working on it until the lease is lost, then trying to answer anyway.
        await new Promise((resolve) =>
          turnInfo.leaseLost.addEventListener('abort', resolve, { once: true }),
        );
        outcome = await reply.reply(textReply('the late answer')).then(
          () => 'posted',
          (error: unknown) => error,
        );
      },
    });
    first.start();
    await first.submit(
      { sessionKey, author: { id: 'u', name: 'u' }, text: 'hi', attachments: [], messageId: '1' },
      thread,
    );
    await eventually(() => info, 'the turn running');

    // The lease goes (as when it ran out during an outage) and another runner takes the turn.
    const taken: string[] = [];
    const otherProcess = await connectRedis(services.redisUrl ?? '');
    const other = new TurnRunner({
      store: new RedisTurnStore(otherProcess, prefix),
      runnerId: 'other',
      logger,
      leaseMs: 600,
      handler: async (work) => {
        taken.push(work.claimed.turn.turnId);
        await Promise.resolve();
      },
    });
    await redis.del(`${prefix}:turns:lease:${sessionKey}`);
    other.start();
    await eventually(() => (taken.length === 1 ? true : undefined), 'taken over');

    await eventually(() => (outcome === undefined ? undefined : true), 'the late answer tried');
    expect(info?.leaseLost.aborted).toBe(true);
    expect(outcome).toMatchObject({ name: 'LeaseLost' });
    expect(posted).toEqual([]);
    await other.stop(0);
    await first.stop(0);
    otherProcess.disconnect();
  });
});
