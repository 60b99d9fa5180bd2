import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/fake-openai-server.ts';

const services = inject('services');
const run = promisify(execFile);
const BIN = join(process.cwd(), 'bin/sandbot.js');

describe.skipIf(services.sandboxImage === undefined)('sandbot chat, the terminal surface', () => {
  let fake: FakeOpenAI;
  let dir: string;
  const env = (extra: Record<string, string> = {}) => ({
    ...process.env,
    REDIS_URL: '',
    OPENAI_API_KEY: '',
    OPENAI_BASE_URL: '',
    SANDBOX_POOL_SIZE: '0',
    SANDBOX_MEMORY_MB: '384',
    LOG_LEVEL: 'warn',
    USER: 'tester',
    ...extra,
  });

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    dir = await mkdtemp(join(tmpdir(), 'sandbot-chat-'));
  });

  afterAll(async () => {
    await fake.close();
  });

  it('runs code without a model and says how to configure one', async () => {
    const direct = await run(process.execPath, [BIN, 'chat', '-m', 'run print(6 * 7)'], {
      cwd: dir,
      env: env(),
    });
    expect(direct.stdout).toContain('```\n42\n```');
    const chat = await run(process.execPath, [BIN, 'chat', '-m', 'what is in my data?'], {
      cwd: dir,
      env: env(),
    });
    expect(chat.stdout).toMatch(/OPENAI_API_KEY/);
  });

  it('shows a displayed DataFrame as an aligned table and writes its CSV to --out', async () => {
    const code =
      "run import pandas as pd; display(pd.DataFrame({'city': [f'c{i}' for i in range(300)], 'n': range(300)}))";
    const out = join(dir, 'table-out');
    const { stdout } = await run(process.execPath, [BIN, 'chat', '--out', out, '-m', code], {
      cwd: dir,
      env: env(),
    });
    expect(stdout).toContain(
      '**Table 1** · 300 rows × 2 columns · first 20 rows shown; all of it in table-1.csv\n```\ncity   n\n----  --\nc0     0\n',
    );
    expect(stdout).toContain(`[file] ${join(out, 'table-1.csv')}`);
    const csv = await readFile(join(out, 'table-1.csv'), 'utf8');
    expect(csv.trim().split('\n')).toHaveLength(301);
  });

  it('continues a --session across invocations: files and variables come back in a fresh kernel', async () => {
    const session = ['chat', '--session', 'notes'];
    await run(
      process.execPath,
      [BIN, ...session, '-m', "run open('/mnt/data/n.txt', 'w').write('kept'); counter = 41"],
      {
        cwd: dir,
        env: env(),
      },
    );
    // The first process saved the thread's checkpoint as it closed (its kernel went with it).
    const next = await run(
      process.execPath,
      [BIN, ...session, '-m', "run print(open('/mnt/data/n.txt').read(), counter + 1)"],
      { cwd: dir, env: env() },
    );
    expect(next.stdout).toContain('```\nkept 42\n```');
    expect(next.stdout).toMatch(
      /fresh kernel; the thread's variables were restored from the checkpoint of \d\d:\d\d UTC: counter\..*1 file\(s\) in \/mnt\/data were restored/,
    );
  });

  it('answers one message with the model, writing the plot to --out', async () => {
    await writeFile(join(dir, 'rev.csv'), 'month,revenue\n1,3\n2,5\n');
    const code =
      'import pandas as pd\ndf = pd.read_csv("/mnt/data/rev.csv")\ndf.plot(x="month", y="revenue")';
    fake.script(
      { kind: 'tool', calls: [{ name: 'python', arguments: JSON.stringify({ code }) }] },
      { kind: 'text', text: 'Revenue rose from 3 to 5.' },
    );
    const { stdout } = await run(
      process.execPath,
      [
        BIN,
        'chat',
        '-m',
        'plot revenue by month',
        '--attach',
        join(dir, 'rev.csv'),
        '--out',
        'plots',
      ],
      {
        cwd: dir,
        env: env({
          OPENAI_BASE_URL: fake.baseUrl,
          OPENAI_API_KEY: 'test',
          OPENAI_MODEL: 'fake-model',
        }),
      },
    );
    expect(stdout).toContain('Revenue rose from 3 to 5.');
    const image = /\[image\] (\S+)/.exec(stdout)?.[1] ?? '';
    expect(image).toBe(join(dir, 'plots', 'plot-1.png'));
    expect((await readFile(image)).subarray(1, 4).toString()).toBe('PNG');
    const user = (fake.requests.at(0)?.body.messages as { role: string; content: string }[]).find(
      (m) => m.role === 'user',
    );
    expect(user?.content).toMatch(
      /^tester: plot revenue by month\n\[attached: \/mnt\/data\/rev\.csv/,
    );
  });

  it('holds an interactive conversation that keeps state', async () => {
    const child = spawn(process.execPath, [BIN, 'chat'], { cwd: dir, env: env() });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stdin.write('run x = 5\n');
    child.stdin.write('run x + 1\n');
    child.stdin.write('exit\n');
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    expect(stdout).toContain('```\n6\n```');
  });
});
