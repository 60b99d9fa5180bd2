import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { removeContainers } from '../../src/sandbox/sandbox-manager.ts';
import { createDockerClient } from '../../src/sandbox/docker-client.ts';
import { LABEL } from '../../src/sandbox/labels.ts';

const services = inject('services');
const execFileAsync = promisify(execFile);

interface ExecJson {
  status: string;
  stdout: string;
  stderr: string;
  results: string[];
  error: { name: string; value: string; traceback: string[] } | null;
  images: { path: string; sizeBytes: number }[];
  files: { path: string; sizeBytes: number }[];
  notices: string[];
  durationMs: number;
  kernelRestarted: boolean;
}

async function sandbot(args: string[], cwd: string): Promise<{ code: number; json: ExecJson }> {
  const bin = join(process.cwd(), 'bin/sandbot.js');
  try {
    const { stdout } = await execFileAsync(process.execPath, [bin, 'exec', '--json', ...args], {
      cwd,
      env: { ...process.env, SANDBOX_MEMORY_MB: '384', SANDBOX_CELL_TIMEOUT_S: '30' },
    });
    return { code: 0, json: JSON.parse(stdout) as ExecJson };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    if (failure.stdout === '') throw new Error(`sandbot exec failed: ${failure.stderr}`);
    return { code: failure.code, json: JSON.parse(failure.stdout) as ExecJson };
  }
}

describe.skipIf(services.sandboxImage === undefined)('sandbot exec', () => {
  const session = `exec-test-${Date.now()}`;

  afterAll(async () => {
    await removeContainers(createDockerClient(), { [LABEL.session]: session });
  });

  it('runs a cell and prints one JSON object', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sandbot-exec-'));
    const { code, json } = await sandbot(['-c', 'print("hi")\n6 * 7'], dir);
    expect(code).toBe(0);
    expect(json).toMatchObject({ status: 'ok', stdout: 'hi\n', results: ['42'], error: null });
    expect(json.durationMs).toBeGreaterThan(0);
  });

  it('shares a kernel between invocations with --session', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sandbot-exec-'));
    await sandbot(['--session', session, '-c', 'total = 40'], dir);
    const { json } = await sandbot(['--session', session, '-c', 'total + 2'], dir);
    expect(json.results).toEqual(['42']);
  });

  it('attaches files, and writes images and produced files to --out', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sandbot-exec-'));
    await writeFile(join(dir, 'data.csv'), 'x,y\n1,2\n2,4\n3,6\n');
    const code = [
      'import pandas as pd, matplotlib.pyplot as plt',
      'df = pd.read_csv("/mnt/data/data.csv")',
      'df.plot(x="x", y="y")',
      'df.to_csv("/mnt/data/doubled.csv", index=False)',
    ].join('\n');
    const { json } = await sandbot(
      ['--attach', join(dir, 'data.csv'), '--out', 'out', '-c', code],
      dir,
    );
    expect(json.status).toBe('ok');
    expect(json.images).toHaveLength(1);
    expect(json.images[0]?.path).toBe(join(dir, 'out', 'image-1.png'));
    const png = await readFile(json.images[0]?.path ?? '');
    expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
    expect(json.files.map((f) => f.path)).toEqual([join(dir, 'out', 'doubled.csv')]);
    expect(await readFile(join(dir, 'out', 'doubled.csv'), 'utf8')).toBe('x,y\n1,2\n2,4\n3,6\n');
  });

  it('exits 1 with the exception in the JSON when the code raises', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sandbot-exec-'));
    const { code, json } = await sandbot(['-c', 'raise ValueError("bad input")'], dir);
    expect(code).toBe(1);
    expect(json.status).toBe('error');
    expect(json.error).toMatchObject({ name: 'ValueError', value: 'bad input' });
  });

  it('reports a timeout status', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sandbot-exec-'));
    const { code, json } = await sandbot(
      ['--timeout', '1', '-c', 'import time\ntime.sleep(30)'],
      dir,
    );
    expect(code).toBe(1);
    expect(json.status).toBe('timeout');
  });

  it('leaves no container behind without --session', async () => {
    const docker = createDockerClient();
    const before = await docker.listContainers({
      all: true,
      filters: { label: [`${LABEL.worker}=cli`] },
    });
    const named = before.filter((c) => c.Labels[LABEL.session] === undefined);
    expect(named).toHaveLength(0);
  });
});
