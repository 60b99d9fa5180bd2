/**
 * The queue's anchor (issue 19, item 5): BullMQ's own round trip on the same Redis, from
 * `add` to the job's `completed` event (a processor that returns at once, QueueEvents waiting
 * as a producer would), so the cost sandbot's queue adds is read beside what BullMQ costs.
 */
import { Queue, QueueEvents, Worker } from 'bullmq';
import { createRedis } from '../src/redis/connection.ts';
import { percentile, timeMs } from './stats.ts';

export async function bullmqAddToCompletedMs(redisUrl: string, rounds: number): Promise<number> {
  const name = `bench-anchor-${process.pid}`;
  const connection = createRedis(redisUrl, { maxRetriesPerRequest: null });
  const prefix = 'sandbot-bench-anchor';
  // BullMQ leaves the connections it is given open: these are ours to close.
  const connections = [connection, connection.duplicate(), connection.duplicate()] as const;
  const queue = new Queue(name, { connection, prefix });
  const events = new QueueEvents(name, { connection: connections[1], prefix });
  const worker = new Worker(name, () => Promise.resolve('ok'), {
    connection: connections[2],
    prefix,
  });
  try {
    await Promise.all([events.waitUntilReady(), worker.waitUntilReady()]);
    const once = async () => {
      const job = await queue.add('cell', { code: '1+1' }, { removeOnComplete: { count: 1000 } });
      await job.waitUntilFinished(events);
    };
    for (let i = 0; i < 20; i += 1) await once();
    const samples: number[] = [];
    for (let i = 0; i < rounds; i += 1) samples.push(await timeMs(once));
    return percentile(samples, 50);
  } finally {
    await worker.close();
    await events.close();
    await queue.obliterate({ force: true });
    await queue.close();
    for (const each of connections) each.disconnect();
  }
}
