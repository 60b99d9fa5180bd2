import { MemoryBlobStore } from '../src/blobs/memory-blob-store.ts';
import type { CellEvent } from '../src/core/cell-events.ts';
import { buildCellResult } from '../src/core/cell-result-builder.ts';
import { bullmqAddToCompletedMs } from './bullmq-anchor.ts';
import { QueueFixture, benchSettings, drain } from './queue-fixture.ts';
import { percentile, round, timeMs } from './stats.ts';

/** Images of timed cells are kept as the bot keeps them: in a blob store. */
const cellBlobs = new MemoryBlobStore({ maxBlobBytes: 100 * 1024 * 1024, ttlMs: 60_000 });
const collectOutcome = (events: AsyncIterable<CellEvent>) => buildCellResult(events, cellBlobs);

export interface QueueFigures {
  queue_cell_p50_ms: number;
  queue_cell_p95_ms: number;
  direct_warm_cell_p50_ms: number;
  queue_overhead_p50_ms: number;
  bullmq_add_to_completed_p50_ms: number;
  queue_overhead_vs_bullmq_ratio: number;
  cells_per_s: number;
}

export async function benchQueue(
  image: string,
  redisUrl: string,
  log: (line: string) => void,
): Promise<QueueFigures> {
  const fixture = await QueueFixture.start({
    redisUrl,
    settings: benchSettings(image),
    workerIds: ['bench-q1', 'bench-q2'],
  });
  const { managers } = fixture;
  const submit = (sessionId: string, code: string) => fixture.submit(sessionId, code);
  try {
    log('queue cell: 1+1 through producer, Redis, worker and kernel');
    for (let i = 0; i < 20; i += 1) await drain(await submit('bench:queue', '1+1'));
    const queued: number[] = [];
    const direct: number[] = [];
    // Interleave both measurements so machine noise hits them alike.
    const pinned = (await fixture.pinnedWorker('bench:queue')) ?? 'bench-q1';
    const owner = managers[pinned === 'bench-q1' ? 0 : 1];
    const directSession = owner?.session('bench:direct');
    if (directSession === undefined) throw new Error('no manager');
    for (let i = 0; i < 20; i += 1) await collectOutcome(directSession.execute('1+1'));
    for (let i = 0; i < 300; i += 1) {
      queued.push(await timeMs(async () => drain(await submit('bench:queue', '1+1'))));
      direct.push(await timeMs(() => collectOutcome(directSession.execute('1+1'))));
    }

    log("queue anchor: BullMQ's own add to completed, same Redis");
    const bullmqP50 = await bullmqAddToCompletedMs(redisUrl, 300);

    log('throughput: 20 sessions on 2 workers');
    const sessions = Array.from({ length: 20 }, (_, i) => `bench:many-${i}`);
    await Promise.all(sessions.map(async (s) => drain(await submit(s, 'x = 0'))));
    const rounds = 10;
    const elapsed = await timeMs(async () => {
      for (let r = 0; r < rounds; r += 1) {
        await Promise.all(sessions.map(async (s) => drain(await submit(s, 'x += 1'))));
      }
    });
    const queueP50 = percentile(queued, 50);
    const directP50 = percentile(direct, 50);
    return {
      queue_cell_p50_ms: queueP50,
      queue_cell_p95_ms: percentile(queued, 95),
      direct_warm_cell_p50_ms: directP50,
      queue_overhead_p50_ms: round(queueP50 - directP50),
      bullmq_add_to_completed_p50_ms: bullmqP50,
      queue_overhead_vs_bullmq_ratio: round((queueP50 - directP50) / bullmqP50),
      cells_per_s: round((sessions.length * rounds) / (elapsed / 1000), 1),
    };
  } finally {
    await fixture.close();
  }
}
