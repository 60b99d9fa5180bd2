import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDockerClient } from '../../src/sandbox/docker-client.ts';
import type { Sandbox } from '../../src/sandbox/sandbox.ts';
import type { CellOutcome } from '../support/cell-outcome.ts';
import { lastResult, run, startManager, type ManagerHarness } from '../support/sandbox.ts';

/*
 * Copy-out under attack (issue 14): a cell races the copy of the files it produced, or lies
 * about them in a forged `done`, to get the container's root-only files out. Files leave with
 * the sandbox user's privilege (the runner reads them, docs/sandbox-protocol.md "Trust
 * model"), so no bytes of /etc/shadow (unreadable to that user) nor of /etc/passwd reached
 * through a link may ever come out, however often the race is run.
 */

const services = inject('services');
/** Repeats of each race; raise it for a longer run (SANDBOT_TEST_RACE_REPEATS=200). */
const REPEATS = Number(process.env.SANDBOT_TEST_RACE_REPEATS ?? '') || 15;
/** How long each race's swapper keeps flipping, in seconds: longer than the copy-out. */
const SWAP_SECONDS = 0.4;
const MAX_FILE_BYTES = 1024 * 1024;
const MAX_FILES = 8;

async function dockerRuntimes(): Promise<string[]> {
  if (services.sandboxImage === undefined) return [];
  try {
    const info = (await createDockerClient().info()) as { Runtimes?: Record<string, unknown> };
    return Object.keys(info.Runtimes ?? {});
  } catch {
    return [];
  }
}

const runtimes = await dockerRuntimes();

/** A root-only (or linked-to) file of the image, read as root, the way an attacker wants it. */
async function imageFile(path: string): Promise<Buffer> {
  const image = services.sandboxImage ?? '';
  const { stdout } = await promisify(execFile)(
    'docker',
    ['run', '--rm', '--network', 'none', '--user', '0', '--entrypoint', 'cat', image, path],
    { encoding: 'buffer' },
  );
  return stdout;
}

/** Swaps the directory argv[1] for a symlink to /etc and back, for argv[2] seconds. */
const SWAP_DIRECTORY = `
import os, sys, time
base, seconds, delay = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
time.sleep(delay)
real, link = base + ".real", base + ".link"
os.symlink("/etc", link)
end = time.monotonic() + seconds
while time.monotonic() < end:
    os.rename(base, real)
    os.rename(link, base)
    os.rename(base, link)
    os.rename(real, base)
`;

/** Flips the regular file argv[1] with a symlink to /etc/passwd and back, for argv[2] seconds. */
const FLIP_FILE = `
import os, sys, time
base, seconds, delay = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
time.sleep(delay)
keep, tmp = base + ".keep", base + ".tmp"
os.link(base, keep)
end = time.monotonic() + seconds
while time.monotonic() < end:
    os.symlink("/etc/passwd", tmp)
    os.rename(tmp, base)
    os.link(keep, tmp)
    os.rename(tmp, base)
`;

/**
 * A cell that runs `setup`, then starts `script` in the background once for each path in the
 * Python list `targets`, each after a random delay of up to 20 ms; the cell ends at once and
 * the race goes on while its files are copied out. The previous cell's swappers are waited
 * for first, so processes never pile up against the pids limit.
 */
function raceCell(setup: string[], script: string, targets: string): string {
  const swapper = `[sys.executable, "-c", ${JSON.stringify(script)}, target, "${SWAP_SECONDS}", str(random.random() * 0.02)]`;
  return [
    'import os, random, subprocess, sys',
    'for previous in globals().get("_swappers", []):',
    '    previous.wait()',
    ...setup,
    `_swappers = [subprocess.Popen(${swapper}) for target in ${targets}]`,
  ].join('\n');
}

/** Writes a forged frame for the running cell straight to the protocol descriptor. */
const FORGE = `
import gc, json, os
_writer = next(o for o in gc.get_objects() if type(o).__name__ == "FrameWriter")
def forge(event):
    data = (json.dumps(dict(event, id=_writer.current_cell.id)) + "\\n").encode()
    view = memoryview(data)
    with _writer.lock:
        while view:
            view = view[os.write(_writer.fd, view):]
def forge_done(paths, size=10):
    forge({"type": "done", "status": "ok", "executionCount": 1, "durationMs": 1,
           "truncatedBytes": 0, "files": [{"path": p, "size": size} for p in paths]})
`;

function copyOut(runtime: string) {
  describe.skipIf(!runtimes.includes(runtime))(`copy-out under ${runtime}`, () => {
    let harness: ManagerHarness;
    let secrets: Buffer[] = [];

    beforeAll(async () => {
      harness = await startManager({
        runtime: runtime === 'runc' ? undefined : runtime,
        poolSize: 0,
        maxFiles: MAX_FILES,
        maxFileBytes: MAX_FILE_BYTES,
      });
      secrets = [await imageFile('/etc/shadow'), await imageFile('/etc/passwd')];
    }, 120_000);

    afterAll(async () => {
      expect(await harness.close()).toBe(0);
    });

    const session = (name: string) => harness.manager.session(`copy-out:${runtime}:${name}`);

    /** Fails on any file that came out holding a secret's bytes (compared by content). */
    function expectNoSecret(outcome: CellOutcome): void {
      for (const file of outcome.files) {
        for (const secret of secrets) {
          expect(file.content.includes(secret), `${file.path} carries a root-only file`).toBe(
            false,
          );
        }
        expect(file.content.includes('root:'), `${file.path} carries /etc bytes`).toBe(false);
      }
    }

    /** Runs a race `REPEATS` times; returns how many copies were attempted (sent or refused). */
    async function race(sandbox: Sandbox, cell: (i: number) => string): Promise<number> {
      let attempts = 0;
      for (let i = 0; i < REPEATS; i += 1) {
        const outcome = await run(sandbox, cell(i));
        expect(outcome.status, outcome.stderr).toBe('ok');
        expectNoSecret(outcome);
        attempts +=
          outcome.files.length + outcome.notices.filter((n) => n.includes('was not sent')).length;
      }
      return attempts;
    }

    it('never copies out /etc when a listed directory is swapped for a symlink to it', async () => {
      const sandbox = session('dir-swap');
      const attempts = await race(sandbox, (i) =>
        raceCell(
          [
            `base = "/mnt/data/race${i}"`,
            'os.makedirs(base)',
            'for name in ("shadow", "passwd", "group"):',
            `    open(os.path.join(base, name), "w").write("innocent ${i} " + name + "\\n")`,
          ],
          SWAP_DIRECTORY,
          '[base]',
        ),
      );
      expect(attempts).toBeGreaterThan(0);
    }, 180_000);

    it('never copies out /etc/passwd when a listed file flips with a symlink of the same size', async () => {
      const sandbox = session('file-flip');
      const attempts = await race(sandbox, (i) =>
        raceCell(
          [
            'size = os.path.getsize("/etc/passwd")',
            `paths = ["/mnt/data/flip${i}-%d.txt" % k for k in range(3)]`,
            'for path in paths:',
            '    open(path, "w").write("x" * size)',
          ],
          FLIP_FILE,
          'paths',
        ),
      );
      expect(attempts).toBeGreaterThan(0);
    }, 180_000);

    it('copies out nothing a forged done names outside /mnt/data or through a link', async () => {
      const sandbox = session('forged-done');
      const outcome = await run(
        sandbox,
        [
          FORGE,
          'os.symlink("/etc", "/mnt/data/etclink")',
          'os.symlink("/etc/passwd", "/mnt/data/pwlink")',
          'os.mkfifo("/mnt/data/fifo")',
          'os.makedirs("/mnt/data/sub")',
          'forge_done(["etclink/passwd", "etclink/shadow", "pwlink", "fifo", "sub",',
          '            "../../etc/passwd", "/etc/shadow", "sub/../../etc/passwd"])',
        ].join('\n'),
      );
      expectNoSecret(outcome);
      expect(outcome.files).toEqual([]);
      const notices = outcome.notices.join('\n');
      expect(notices).toMatch(/etclink\/passwd was not sent: .*symbolic link/);
      expect(notices).toMatch(/etclink\/shadow was not sent: .*symbolic link/);
      expect(notices).toMatch(/pwlink was not sent: .*symbolic link/);
      expect(notices).toMatch(/fifo was not sent: it is a named pipe/);
      expect(notices).toMatch(/must stay inside \/mnt\/data/);
      // The forged frame cost the cell nothing else: the kernel goes on.
      expect(lastResult(await run(sandbox, '"alive"'))).toBe("'alive'");
    }, 60_000);

    it('sends at most the file count limit and names the rest', async () => {
      const sandbox = session('count');
      const outcome = await run(
        sandbox,
        `for i in range(${MAX_FILES + 4}):\n    open("/mnt/data/n%02d.txt" % i, "w").write(str(i))`,
      );
      expect(outcome.files).toHaveLength(MAX_FILES);
      expect(outcome.notices.join('\n')).toContain(
        `4 more files were not sent (limit ${MAX_FILES} per cell)`,
      );
      // A forged list of many names (repeated, too) copies no more than the limit either.
      const forged = await run(
        sandbox,
        [
          FORGE,
          `for i in range(${MAX_FILES + 4}):\n    open("/mnt/data/m%02d.txt" % i, "w").write(str(i))`,
          `forge_done(["m%02d.txt" % (i % ${MAX_FILES + 4}) for i in range(500)], size=1)`,
        ].join('\n'),
      );
      expect(forged.files).toHaveLength(MAX_FILES);
    }, 60_000);

    it('sends nothing past the size limit, whatever size the list claims', async () => {
      const sandbox = session('size');
      const big = `open("/mnt/data/big.bin", "wb").write(b"b" * ${2 * MAX_FILE_BYTES})`;
      const honest = await run(sandbox, big);
      expect(honest.files).toEqual([]);
      expect(honest.notices.join('\n')).toMatch(/big\.bin was not sent: it is 2\.0 MB, over/);
      // The list says 10 bytes; the runner reads the open file and refuses it.
      const lying = await run(sandbox, `${FORGE}\n${big}\nforge_done(["big.bin"])`);
      expect(lying.files).toEqual([]);
      expect(lying.notices.join('\n')).toMatch(/big\.bin was not sent: it is larger than/);
      // A file at the limit still goes out whole.
      const atLimit = await run(
        sandbox,
        `open("/mnt/data/edge.bin", "wb").write(b"e" * ${MAX_FILE_BYTES})`,
      );
      expect(atLimit.files.map((f) => [f.path, f.content.length])).toEqual([
        ['edge.bin', MAX_FILE_BYTES],
      ]);
    }, 60_000);

    it('replaces a symlink planted under an upload name instead of writing through it', async () => {
      const sandbox = session('upload');
      await run(
        sandbox,
        [
          'import os',
          'open("/tmp/target", "w").write("original")',
          'os.symlink("/tmp/target", "/mnt/data/in.txt")',
          'os.makedirs("/mnt/data/taken")',
        ].join('\n'),
      );
      await sandbox.upload([{ name: 'in.txt', content: Buffer.from('uploaded') }]);
      const after = await run(
        sandbox,
        'import os\nprint(os.path.islink("/mnt/data/in.txt"), open("/mnt/data/in.txt").read(), open("/tmp/target").read(), os.stat("/mnt/data/in.txt").st_uid)',
      );
      expect(after.stdout).toBe('False uploaded original 1000\n');
      await expect(sandbox.upload([{ name: 'taken', content: Buffer.from('x') }])).rejects.toThrow(
        /upload of taken refused/,
      );
      expect(lastResult(await run(sandbox, '"alive"'))).toBe("'alive'");
    }, 60_000);
  });
}

copyOut('runc');
copyOut('runsc');
