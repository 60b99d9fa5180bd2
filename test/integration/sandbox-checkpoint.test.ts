import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RESTART_NOTICE } from '../../src/sandbox/cell-notices.ts';
import type { CheckpointOutcome } from '../../src/sandbox/checkpoint-types.ts';
import type { Sandbox } from '../../src/sandbox/sandbox.ts';
import { lastResult, run, startManager, type ManagerHarness } from '../support/sandbox.ts';

/*
 * Checkpoints inside the sandbox (issue 18): a forked copy of the kernel saves the namespace
 * with dill, the worker reads it in bounded pieces, and a checkpoint is only ever loaded inside
 * a sandbox. What the runner says about a save is checked like any other frame.
 */

const services = inject('services');
const MAX_BYTES = 8 * 1024 * 1024;

async function saved(outcome: Promise<CheckpointOutcome>) {
  const result = await outcome;
  if (result.kind !== 'saved') throw new Error(`expected a saved checkpoint, got ${result.kind}`);
  return result;
}

/** A value whose pickling (in the forked copy) prints everywhere it can, then sleeps. */
const NOISY_VALUE = (sleepS: number) => `
import os, sys, time
class Noisy:
    def __reduce__(self):
        print("CHILD-MARKER stdout")
        print("CHILD-MARKER stderr", file=sys.stderr)
        os.write(1, b"CHILD-MARKER fd1\\n")
        os.write(2, b"CHILD-MARKER fd2\\n")
        time.sleep(${sleepS})
        return (int, (0,))
noisy = Noisy()
`;

/** Replaces the runner's checkpoint methods with liars, as user code in the kernel can. */
const LIAR = `
import base64, gc
_checkpoints = next(o for o in gc.get_objects() if type(o).__name__ == "Checkpoints")
def lie_saved(**fields):
    def start(request):
        _checkpoints.frames.emit({"type": "checkpoint_started", "id": request["id"]})
        frame = {"type": "checkpoint_saved", "id": request["id"], "size": 10, "names": ["x"],
                 "modules": {}, "notSaved": []}
        frame.update(fields)
        _checkpoints.frames.emit(frame)
    _checkpoints.start = start
def lie_pieces(factor):
    """Answers every piece with \`factor\` times the bytes asked for."""
    def send_piece(request):
        left = request["maxBytes"] * factor
        while left > 0:
            data = base64.b64encode(b"z" * min(512 * 1024, left)).decode()
            _checkpoints.frames.emit({"type": "file_data", "id": request["id"], "data": data})
            left -= 512 * 1024
        _checkpoints.frames.emit({"type": "file_end", "id": request["id"], "size": 1})
    _checkpoints.send_piece = send_piece
def lie_silent():
    """Never answers a piece."""
    _checkpoints.send_piece = lambda request: None
`;

/** A checkpoint file made by hand (sandbox-image/runner/checkpoint_format.py): one value. */
function craftedCheckpoint(name: string, pickle: Buffer): Buffer {
  const magic = Buffer.from('SANDBOT-CHECKPOINT-1\n');
  const index = Buffer.from(
    JSON.stringify({
      values: [[name, magic.length, magic.length + pickle.length, 0]],
      modules: {},
    }),
  );
  const trailer = Buffer.alloc(16);
  trailer.writeBigUInt64BE(BigInt(magic.length + pickle.length), 0);
  trailer.writeBigUInt64BE(BigInt(index.length), 8);
  return Buffer.concat([magic, pickle, index, trailer, Buffer.from('\nEND-CHECKPOINT\n')]);
}

/** Each test starts one or two kernels; a loaded machine makes that slow, never wrong. */
const TEST_TIMEOUT_MS = 180_000;

describe.skipIf(services.sandboxImage === undefined)(
  'checkpoints of a kernel',
  { timeout: TEST_TIMEOUT_MS },
  () => {
    let harness: ManagerHarness;

    beforeAll(async () => {
      harness = await startManager({ poolSize: 0 });
    });

    afterAll(async () => {
      const leftovers = await harness.close();
      expect(leftovers).toBe(0);
    });

    function session(name: string): Sandbox {
      return harness.manager.session(`checkpoint:${name}`);
    }

    it('saves what can be saved, names the rest, and restores it into another sandbox', async () => {
      const source = session('source');
      const setup = await run(
        source,
        [
          'import numpy as np, pandas as pd, socket',
          'from sklearn.linear_model import LinearRegression',
          "df = pd.DataFrame({'x': range(100), 'y': [2 * i + 1 for i in range(100)]})",
          "model = LinearRegression().fit(df[['x']], df['y'])",
          'double = lambda v: v * 2',
          'factor = 2',
          'def scaled(v):',
          '    return float(np.sqrt(v)) * factor',
          'conn = socket.socket()',
          'gen = (i for i in range(3))',
        ].join('\n'),
      );
      expect(setup.status).toBe('ok');
      expect(source.hasLiveKernel).toBe(true);
      expect(source.changedSinceCheckpoint).toBe(true);

      const checkpoint = await saved(source.checkpoint(MAX_BYTES));
      expect(checkpoint.manifest.names).toEqual(
        expect.arrayContaining(['df', 'model', 'double', 'scaled', 'factor']),
      );
      expect(checkpoint.manifest.modules).toEqual({ np: 'numpy', pd: 'pandas', socket: 'socket' });
      expect(
        [...checkpoint.manifest.notSaved].sort((a, b) => a.name.localeCompare(b.name)),
      ).toEqual([
        { name: 'conn', reason: 'socket' },
        { name: 'gen', reason: 'generator' },
      ]);
      expect(checkpoint.content.length).toBeLessThanOrEqual(MAX_BYTES);
      expect(source.changedSinceCheckpoint).toBe(false);

      const target = session('target');
      expect(target.hasLiveKernel).toBe(false);
      const report = await target.restore(checkpoint.content);
      expect(report.notRestored).toEqual([]);
      expect(report.restored).toEqual(
        expect.arrayContaining(['df', 'model', 'double', 'np', 'pd', 'socket']),
      );
      expect(target.changedSinceCheckpoint).toBe(false);
      const outcome = await run(
        target,
        "print(df.shape, round(float(model.predict(pd.DataFrame({'x': [10]}))[0]), 3), double(21))\n" +
          'factor = 3\nprint(scaled(16))\n' +
          'np.__name__, pd.__name__',
      );
      expect(outcome.status).toBe('ok');
      // A function of the kernel comes back by value and reads the namespace it is restored into.
      expect(outcome.stdout).toBe('(100, 2) 21.0 42\n12.0\n');
      expect(lastResult(outcome)).toBe("('numpy', 'pandas')");
      expect(outcome.notices).not.toContain(RESTART_NOTICE);
      expect(outcome.kernelRestarted).toBe(false);
      expect(target.changedSinceCheckpoint).toBe(true);
    });

    it('says no_kernel when there is no kernel to save', async () => {
      expect(await session('empty').checkpoint(MAX_BYTES)).toEqual({ kind: 'no_kernel' });
    });

    it('keeps nothing over the limit', async () => {
      const sandbox = session('large');
      expect((await run(sandbox, 'blob = bytes(2_000_000)')).status).toBe('ok');
      expect(await sandbox.checkpoint(100_000)).toEqual({ kind: 'too_large', limitBytes: 100_000 });
      expect(sandbox.changedSinceCheckpoint).toBe(true);
    });

    it('drops a save when a cell starts first, and the copy never speaks in a cell', async () => {
      const sandbox = session('race');
      expect((await run(sandbox, NOISY_VALUE(5))).status).toBe('ok');
      for (let round = 0; round < 5; round += 1) {
        const pending = sandbox.checkpoint(MAX_BYTES);
        const cell = run(sandbox, `print("cell ${round}")`);
        expect(await pending).toEqual({ kind: 'dropped' });
        const outcome = await cell;
        expect(outcome.stdout).toBe(`cell ${round}\n`);
        expect(outcome.stderr).toBe('');
      }
      // A save that finishes prints nothing into the next cells either.
      expect((await run(sandbox, NOISY_VALUE(0))).status).toBe('ok');
      await saved(sandbox.checkpoint(MAX_BYTES));
      for (const code of ['print("after")', 'import time; time.sleep(0.2); print("later")']) {
        const outcome = await run(sandbox, code);
        expect(outcome.stdout).not.toContain('CHILD-MARKER');
        expect(outcome.stderr).toBe('');
      }
    });

    it('runs a crafted checkpoint only inside the sandbox it is restored into', async () => {
      const hostDir = await mkdtemp(join(tmpdir(), 'sandbot-checkpoint-'));
      try {
        const command = `touch /mnt/data/pwned ${hostDir}/pwned`;
        // pickle protocol 0: os.system(command) on load.
        const payload = Buffer.from(`cos\nsystem\n(V${command}\ntR.`);
        const victim = session('victim');
        const bystander = session('bystander');
        expect((await run(bystander, 'x = 1')).status).toBe('ok');

        const report = await victim.restore(craftedCheckpoint('evil', payload));
        expect(report.restored).toEqual(['evil']);
        const inside = await run(victim, "import os; os.path.exists('/mnt/data/pwned')");
        expect(lastResult(inside)).toBe('True');
        expect(await readdir(hostDir)).toEqual([]);
        const elsewhere = await run(bystander, "import os; os.listdir('/mnt/data')");
        expect(lastResult(elsewhere)).toBe('[]');
      } finally {
        await rm(hostDir, { recursive: true, force: true });
      }
    });

    it('reports a checkpoint that does not load as not restored, and the kernel goes on', async () => {
      const sandbox = session('garbage');
      const report = await sandbox.restore(Buffer.from('not a checkpoint, just bytes'.repeat(4)));
      expect(report.restored).toEqual([]);
      expect(report.notRestored.map((e) => e.name)).toEqual(['(checkpoint)']);
      expect(lastResult(await run(sandbox, '1 + 1'))).toBe('2');
    });

    it('treats a lying runner as failed or too large, never trusting its lists or sizes', async () => {
      const sandbox = session('liar');
      expect((await run(sandbox, LIAR)).status).toBe('ok');
      const lies: [string, CheckpointOutcome['kind']][] = [
        ['lie_saved(names=["x" * 300])', 'failed'],
        ['lie_saved(names=["n%d" % i for i in range(2000)])', 'failed'],
        ['lie_saved(notSaved=[{"name": "s", "reason": "r" * 500}])', 'failed'],
        ['lie_saved(modules={"m%d" % i: "os" for i in range(1001)})', 'failed'],
        ['lie_saved(size="big")', 'failed'],
        [`lie_saved(size=${MAX_BYTES + 1})`, 'too_large'],
        ['lie_saved(size=10); lie_pieces(3)', 'failed'],
        [`lie_saved(size=${MAX_BYTES}); lie_pieces(1)`, 'too_large'],
        // Past the stall limit of a piece (15 s without a frame).
        ['lie_saved(size=10); lie_silent()', 'failed'],
      ];
      for (const [lie, kind] of lies) {
        expect((await run(sandbox, lie)).status).toBe('ok');
        const outcome = await sandbox.checkpoint(MAX_BYTES);
        expect({ lie, kind: outcome.kind }).toEqual({ lie, kind });
        expect(lastResult(await run(sandbox, '6 * 7'))).toBe('42');
      }
    });
  },
);
