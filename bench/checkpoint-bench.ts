/**
 * Checkpoints (issue 18) beside a plain cold start, in one run on one manager: how long a
 * save takes (the fork, dill, the read in pieces) and a restore into a new kernel, for a
 * namespace with a 100,000-row DataFrame; and the anchor, a new session's first cell with the
 * warm pool full (`new_session_first_cell`). Also a warm cell run while a save is under way,
 * beside the same cell with none, since a save must never delay a reply.
 */
import { pino } from 'pino';
import { SandboxManager } from '../src/sandbox/sandbox-manager.ts';
import type { Sandbox } from '../src/sandbox/sandbox.ts';
import { createDockerClient } from '../src/sandbox/docker-client.ts';
import { sandboxSettingsFromEnv } from './bench-settings.ts';
import { percentile, round, timeMs } from './stats.ts';

const ROUNDS = 8;
const MAX_BYTES = 50 * 1024 * 1024;
const STATE = `import numpy as np, pandas as pd
rng = np.random.default_rng(1)
df = pd.DataFrame({
    "id": np.arange(100_000),
    "value": rng.normal(size=100_000),
    "group": rng.choice(list("abcdef"), size=100_000),
    "when": pd.date_range("2026-01-01", periods=100_000, freq="min"),
})
summary = df.groupby("group")["value"].mean()`;

export interface CheckpointFigures {
  readonly checkpoint_ms_p50: number;
  readonly restore_ms_p50: number;
  readonly checkpoint_kb: number;
  readonly new_session_first_cell_ms_p50: number;
  readonly restore_vs_first_cell_ratio: number;
  readonly warm_cell_during_checkpoint_ms_p50: number;
  readonly warm_cell_idle_ms_p50: number;
}

async function run(sandbox: Sandbox, code: string): Promise<void> {
  for await (const event of sandbox.execute(code)) {
    if (event.type === 'done' && event.status !== 'ok') throw new Error(`cell ${event.status}`);
  }
}

export async function benchCheckpoints(
  image: string,
  log: (line: string) => void,
): Promise<CheckpointFigures> {
  const settings = { ...sandboxSettingsFromEnv({ ...process.env, SANDBOX_IMAGE: image }) };
  const manager = new SandboxManager({
    docker: createDockerClient(),
    settings: { ...settings, poolSize: 1, poolMax: 0, memoryMb: Math.max(settings.memoryMb, 1024) },
    workerId: `bench-checkpoints-${process.pid}`,
    sessionIdleMs: 10 * 60_000,
    logger: pino({ level: 'silent' }),
  });
  await manager.start();
  try {
    log('checkpoints: a 100k-row DataFrame namespace');
    const source = manager.session('bench:checkpoint-source');
    await run(source, STATE);
    const saveMs: number[] = [];
    let content: Buffer = Buffer.alloc(0);
    for (let i = 0; i < ROUNDS; i += 1) {
      await run(source, `df.loc[0, "value"] = ${i}`); // a change, so there is something to save
      const started = performance.now();
      const outcome = await source.checkpoint(MAX_BYTES);
      saveMs.push(performance.now() - started);
      if (outcome.kind !== 'saved') throw new Error(`checkpoint ${outcome.kind}`);
      content = outcome.content;
    }

    log('checkpoints: a warm cell during a save, and without one');
    const duringMs: number[] = [];
    const idleMs: number[] = [];
    for (let i = 0; i < ROUNDS; i += 1) {
      await run(source, `df.loc[1, "value"] = ${i}`);
      const saving = source.checkpoint(MAX_BYTES);
      duringMs.push(await timeMs(() => run(source, '1+1')));
      await saving;
      idleMs.push(await timeMs(() => run(source, '1+1')));
    }

    log('checkpoints: restore into a new kernel, and the plain first cell beside it');
    const restoreMs: number[] = [];
    const firstCellMs: number[] = [];
    for (let i = 0; i < ROUNDS; i += 1) {
      await manager.pool.whenFull(120_000);
      const restored = manager.session(`bench:restored-${i}`);
      restoreMs.push(await timeMs(() => restored.restore(content)));
      await manager.destroySession(`bench:restored-${i}`);
      await manager.pool.whenFull(120_000);
      const fresh = manager.session(`bench:fresh-${i}`);
      firstCellMs.push(await timeMs(() => run(fresh, '1+1')));
      await manager.destroySession(`bench:fresh-${i}`);
    }
    const restoreP50 = percentile(restoreMs, 50);
    const firstP50 = percentile(firstCellMs, 50);
    return {
      checkpoint_ms_p50: percentile(saveMs, 50),
      restore_ms_p50: restoreP50,
      checkpoint_kb: round(content.length / 1024, 0),
      new_session_first_cell_ms_p50: firstP50,
      restore_vs_first_cell_ratio: round(restoreP50 / firstP50, 1),
      warm_cell_during_checkpoint_ms_p50: percentile(duringMs, 50),
      warm_cell_idle_ms_p50: percentile(idleMs, 50),
    };
  } finally {
    await manager.close();
  }
}
