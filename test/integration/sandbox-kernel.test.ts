import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isSandbotError } from '../../src/core/errors.ts';
import { lastResult, run, startManager, type ManagerHarness } from '../support/sandbox.ts';

const services = inject('services');

/** PNG signature, then the IHDR chunk's width and height. */
function pngSize(bytes: Buffer): { width: number; height: number } | undefined {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (!bytes.subarray(0, 8).equals(signature)) return undefined;
  if (bytes.subarray(12, 16).toString('ascii') !== 'IHDR') return undefined;
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

describe.skipIf(services.sandboxImage === undefined)(
  'a sandbox session behaves like a notebook',
  () => {
    let harness: ManagerHarness;

    beforeAll(async () => {
      harness = await startManager();
    });

    afterAll(async () => {
      const leftovers = await harness.close();
      expect(leftovers).toBe(0);
    });

    it('keeps variables from one cell to the next', async () => {
      const sandbox = harness.manager.session('notebook:state');
      expect((await run(sandbox, 'x = 41')).status).toBe('ok');
      const outcome = await run(sandbox, 'x + 1');
      expect(outcome.status).toBe('ok');
      expect(lastResult(outcome)).toBe('42');
    });

    it('shows the last expression and display() calls in order', async () => {
      const sandbox = harness.manager.session('notebook:display');
      const outcome = await run(sandbox, 'display("first")\nprint("between")\n"last"');
      expect(outcome.displays.map((d) => d['text/plain'])).toEqual(["'first'", "'last'"]);
      expect(outcome.stdout).toBe('between\n');
    });

    it('returns a matplotlib plot as a PNG that decodes', async () => {
      const sandbox = harness.manager.session('notebook:plot');
      const outcome = await run(
        sandbox,
        'import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [3, 1, 2])\nplt.title("t")',
      );
      expect(outcome.status).toBe('ok');
      expect(outcome.images).toHaveLength(1);
      const size = pngSize(outcome.images[0]?.content ?? Buffer.alloc(0));
      expect(size?.width).toBeGreaterThan(100);
      expect(size?.height).toBeGreaterThan(100);
      // Figures are closed after the cell: the next cell does not show the same plot again.
      expect((await run(sandbox, '1')).images).toHaveLength(0);
    });

    it('renders a DataFrame as an HTML table', async () => {
      const sandbox = harness.manager.session('notebook:pandas');
      const outcome = await run(
        sandbox,
        'import pandas as pd\npd.DataFrame({"city": ["Oslo", "Lima"], "temp": [3, 19]})',
      );
      const bundle = outcome.displays.at(-1) ?? {};
      expect(bundle['text/html']).toContain('<table');
      expect(bundle['text/html']).toContain('Oslo');
      expect(bundle['text/plain']).toContain('Lima');
    });

    it('returns an exception as a result with a clean traceback', async () => {
      const sandbox = harness.manager.session('notebook:error');
      const outcome = await run(sandbox, 'def f():\n    return 1 / 0\nf()');
      expect(outcome.status).toBe('error');
      expect(outcome.error?.ename).toBe('ZeroDivisionError');
      expect(outcome.error?.evalue).toBe('division by zero');
      const traceback = outcome.error?.traceback.join('\n') ?? '';
      expect(traceback).toContain('ZeroDivisionError');
      expect(traceback).not.toContain('\u001b[');
      // The kernel is fine afterwards.
      expect((await run(sandbox, 'print("still here")')).stdout).toBe('still here\n');
    });

    it('captures output of subprocesses and raw writes to fd 1 and 2', async () => {
      const sandbox = harness.manager.session('notebook:subprocess');
      const outcome = await run(
        sandbox,
        [
          'import os, subprocess',
          'print("from python", flush=True)',
          'subprocess.run(["sh", "-c", "echo from-child; echo child-err >&2"])',
          'os.write(1, b"raw-fd1\\n")',
        ].join('\n'),
      );
      expect(outcome.stdout).toBe('from python\nfrom-child\nraw-fd1\n');
      expect(outcome.stderr).toBe('child-err\n');
    });

    it('puts uploaded files in /mnt/data and does not report them as outputs', async () => {
      const sandbox = harness.manager.session('notebook:upload');
      await sandbox.upload([
        { name: 'sales.csv', content: Buffer.from('month,revenue\njan,10\nfeb,12\n') },
      ]);
      const outcome = await run(
        sandbox,
        'import pandas as pd\ndf = pd.read_csv("/mnt/data/sales.csv")\nint(df.revenue.sum())',
      );
      expect(lastResult(outcome)).toBe('22');
      expect(outcome.files).toHaveLength(0);
    });

    it('refuses upload names that could escape /mnt/data', async () => {
      const sandbox = harness.manager.session('notebook:bad-upload');
      for (const name of ['../x', '/etc/cron.d/x', 'a\0b', 'bell\u0007']) {
        const error = await sandbox
          .upload([{ name, content: Buffer.from('x') }])
          .catch((e: unknown) => e);
        expect(isSandbotError(error, 'FILE_REJECTED')).toBe(true);
      }
    });

    it('collects files the cell wrote, and only those', async () => {
      const sandbox = harness.manager.session('notebook:files');
      const outcome = await run(
        sandbox,
        [
          'import pandas as pd',
          'pd.DataFrame({"a": [1, 2]}).to_excel("/mnt/data/clean.xlsx", index=False)',
          'open("/mnt/data/notes.txt", "w").write("hello")',
        ].join('\n'),
      );
      expect(outcome.files.map((f) => f.path)).toEqual(['clean.xlsx', 'notes.txt']);
      const xlsx = outcome.files[0]?.content ?? Buffer.alloc(0);
      expect(xlsx.subarray(0, 2).toString('latin1')).toBe('PK'); // a zip, as .xlsx files are
      expect(outcome.files[1]?.content.toString()).toBe('hello');
      // Unchanged files are not sent again.
      expect((await run(sandbox, 'x = 1')).files).toHaveLength(0);
    });

    it('does not follow a symlink to /etc/passwd when collecting', async () => {
      const sandbox = harness.manager.session('notebook:symlink');
      const outcome = await run(
        sandbox,
        'import os\nos.symlink("/etc/passwd", "/mnt/data/passwd")',
      );
      expect(outcome.status).toBe('ok');
      expect(outcome.files).toHaveLength(0);
    });

    it('truncates a flood of output with a visible notice', async () => {
      const sandbox = harness.manager.session('notebook:flood');
      const outcome = await run(sandbox, 'for i in range(200000):\n    print("line", i)');
      expect(outcome.status).toBe('ok');
      expect(outcome.stdout.length).toBeLessThanOrEqual(64 * 1024);
      expect(outcome.stdout.startsWith('line 0\n')).toBe(true);
      expect(outcome.notices.join('\n')).toMatch(/Output truncated: .* more was not shown/);
    });

    it('is cut off from every network, including the host and other containers', async () => {
      const sandbox = harness.manager.session('notebook:network');
      const outcome = await run(
        sandbox,
        [
          'import socket, os',
          'results = []',
          'for host, port in [("1.1.1.1", 53), ("172.17.0.1", 2375), ("172.17.0.2", 80), ("10.0.0.1", 80)]:',
          '    try:',
          '        socket.create_connection((host, port), timeout=2)',
          '        results.append("connected")',
          '    except OSError as e:',
          '        results.append(type(e).__name__)',
          'try:',
          '    socket.getaddrinfo("example.com", 80)',
          '    results.append("resolved")',
          'except OSError:',
          '    results.append("no-dns")',
          'print(sorted(os.listdir("/sys/class/net")))',
          'print(results)',
        ].join('\n'),
      );
      expect(outcome.stdout).toContain("['lo']");
      expect(outcome.stdout).not.toContain('connected');
      expect(outcome.stdout).not.toContain('resolved');
    });

    it('holds no secrets of the host in its environment or on its disk', async () => {
      const sandbox = harness.manager.session('notebook:secrets');
      const outcome = await run(
        sandbox,
        [
          'import os',
          'print(sorted(os.environ))',
          'mounts = open("/proc/self/mounts").read()',
          'print("docker.sock" in mounts, os.path.exists("/var/run/docker.sock"))',
        ].join('\n'),
      );
      const [envLine, mountLine] = outcome.stdout.trim().split('\n');
      expect(envLine).not.toMatch(/TOKEN|SECRET|API_KEY|REDIS|PASSWORD|CANARY/);
      expect(mountLine).toBe('False False');
    });

    it('keeps two sessions apart: no shared files, no shared processes', async () => {
      const a = harness.manager.session('notebook:tenant-a');
      const b = harness.manager.session('notebook:tenant-b');
      await run(
        a,
        'import subprocess\nopen("/mnt/data/a-secret.txt","w").write("a")\np = subprocess.Popen(["sleep", "300"])',
      );
      const outcome = await run(
        b,
        [
          'import os',
          'print(os.listdir("/mnt/data"))',
          'cmds = [open(f"/proc/{p}/cmdline","rb").read() for p in os.listdir("/proc") if p.isdigit()]',
          'print(any(b"sleep" in c for c in cmds))',
        ].join('\n'),
      );
      expect(outcome.stdout).toBe('[]\nFalse\n');
    });
  },
);
