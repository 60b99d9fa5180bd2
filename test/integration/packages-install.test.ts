import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MemoryBlobStore } from '../../src/blobs/memory-blob-store.ts';
import type { JobEvent, PackagesEvent } from '../../src/core/cell-events.ts';
import type { PackageSettings } from '../../src/core/config.ts';
import { parseJob } from '../../src/core/job.ts';
import { JobExecutor } from '../../src/jobs/job-executor.ts';
import { reinstallPackages } from '../../src/packages/reinstall.ts';
import { MemorySessionPackages } from '../../src/packages/session-packages.ts';
import { serveIndex } from '../support/package-index.ts';
import { quietLogger, run, startManager, type ManagerHarness } from '../support/sandbox.ts';

const services = inject('services');

describe.skipIf(services.sandboxImage === undefined)(
  "packages from the operator's index (issue 18)",
  () => {
    let harness: ManagerHarness;
    let index: Awaited<ReturnType<typeof serveIndex>>;
    let executor: JobExecutor;
    const store = new MemorySessionPackages();
    const blobs = new MemoryBlobStore({ maxBlobBytes: 10 * 1024 * 1024, ttlMs: 3_600_000 });
    let settings: PackageSettings;

    beforeAll(async () => {
      index = await serveIndex();
      harness = await startManager();
      settings = {
        indexUrl: index.url,
        allow: ['sbtiny', 'sbdep>=1.0', 'sbwild', 'sbsource', 'sbhuge'],
        maxWheelBytes: 100 * 1024,
        maxTotalBytes: 1024 * 1024,
      };
      executor = new JobExecutor({
        manager: harness.manager,
        blobs,
        workerId: 'packages-test',
        logger: quietLogger,
        packages: { settings, blobs, store, logger: quietLogger },
      });
    });

    afterAll(async () => {
      index.server.close();
      expect(await harness.close()).toBe(0);
    });

    async function job(
      sessionId: string,
      command: 'install' | 'packages',
      packages: string[] = [],
    ): Promise<{ event: PackagesEvent | undefined; events: JobEvent[] }> {
      const parsed = parseJob({
        jobId: `j-${randomBytes(4).toString('hex')}`,
        sessionId,
        code: '',
        command,
        packages,
        submittedAt: Date.now(),
      });
      if (!parsed.ok) throw new Error(parsed.message);
      const events: JobEvent[] = [];
      await executor.run(
        parsed.job,
        async (e) => {
          events.push(e);
          return Promise.resolve();
        },
        { signal: new AbortController().signal },
      );
      const event = events.find((e): e is PackagesEvent => e.type === 'packages');
      return { event, events };
    }

    const NO_NETWORK = `
import socket
port = int(PORT)
results = []
for host in ('127.0.0.1', '172.17.0.1'):
    try:
        socket.create_connection((host, port), timeout=2).close()
        results.append('connected ' + host)
    except OSError:
        results.append('refused')
print(results)
`;

    async function assertNoNetwork(sessionId: string): Promise<void> {
      const port = new URL(index.url).port;
      const sandbox = harness.manager.session(sessionId);
      const outcome = await run(sandbox, NO_NETWORK.replace('PORT', port));
      expect(outcome.stdout.trim()).toBe("['refused', 'refused']");
    }

    it('installs an allowlisted package with its dependency; it imports at once, and again after a restore', async () => {
      const session = 'test:w:c:install-ok';
      const { event } = await job(session, 'install', ['sbtiny']);
      expect(event?.refused).toEqual([]);
      expect(event?.installed).toEqual(
        expect.arrayContaining([
          { name: 'sbtiny', version: '1.0' },
          { name: 'sbdep', version: '1.1' },
        ]),
      );
      const sandbox = harness.manager.session(session);
      const outcome = await run(sandbox, 'import sbtiny, sbdep\nprint(sbtiny.ANSWER, sbdep.VALUE)');
      expect(outcome.stdout.trim()).toBe('42 21');
      // The system site is untouched: the package lives in the session's directory.
      const where = await run(sandbox, 'print(sbtiny.__file__)');
      expect(where.stdout).toContain('/tmp/sandbot-packages/');
      const listed = await job(session, 'packages');
      expect(listed.event?.installed).toEqual(
        expect.arrayContaining([{ name: 'sbtiny', version: '1.0' }]),
      );
      // A fresh kernel, as after a restore (the reset job would forget them): they come back.
      await sandbox.reset();
      const fresh = harness.manager.session(session);
      const gone = await run(fresh, 'import sbtiny');
      expect(gone.error?.ename).toBe('ModuleNotFoundError');
      const again = await reinstallPackages(session, fresh, {
        settings,
        blobs,
        store,
        logger: quietLogger,
      });
      expect(again.lost).toEqual([]);
      const after = await run(fresh, 'import sbtiny\nprint(sbtiny.ANSWER)');
      expect(after.stdout.trim()).toBe('42');
      await assertNoNetwork(session);
    });

    it('refuses a dependency off the allowlist by name, and the package that needs it', async () => {
      const { event } = await job('test:w:c:dep-off', 'install', ['sbwild']);
      expect(event?.installed).toEqual([]);
      expect(event?.refused).toEqual([
        {
          name: 'sboff',
          reason: expect.stringContaining("not on this bot's package allowlist") as string,
          offAllowlist: true,
        },
        { name: 'sbwild', reason: 'it needs sboff, which was refused', offAllowlist: false },
      ]);
      expect(index.requests.some((r) => r.includes('sboff'))).toBe(false);
    });

    it('refuses a name off the allowlist without asking the index about it', async () => {
      const { event } = await job('test:w:c:name-off', 'install', ['requests']);
      expect(event?.refused).toEqual([
        {
          name: 'requests',
          reason: expect.stringContaining('allowlist') as string,
          offAllowlist: true,
        },
      ]);
      expect(index.requests.some((r) => r.includes('requests'))).toBe(false);
    });

    it('refuses a package that has only a source distribution', async () => {
      const { event } = await job('test:w:c:sdist', 'install', ['sbsource']);
      expect(event?.refused).toEqual([
        {
          name: 'sbsource',
          reason: expect.stringMatching(
            /^only wheels are installed; sbsource has no wheel for Python 3\.13 on linux /,
          ) as string,
          offAllowlist: false,
        },
      ]);
    });

    it('refuses a wheel over the size cap, and the sandbox still has no network', async () => {
      const session = 'test:w:c:huge';
      const { event } = await job(session, 'install', ['sbhuge']);
      expect(event?.installed).toEqual([]);
      expect(event?.refused).toEqual([
        {
          name: 'sbhuge',
          reason: expect.stringContaining('is larger than') as string,
          offAllowlist: false,
        },
      ]);
      await assertNoNetwork(session);
    });
  },
);
