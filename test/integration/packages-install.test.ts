import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { strToU8, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MemoryBlobStore } from '../../src/blobs/memory-blob-store.ts';
import type { JobEvent, PackagesEvent } from '../../src/core/cell-events.ts';
import type { PackageSettings } from '../../src/core/config.ts';
import { parseJob } from '../../src/core/job.ts';
import { JobExecutor } from '../../src/jobs/job-executor.ts';
import { reinstallPackages } from '../../src/packages/reinstall.ts';
import { MemorySessionPackages } from '../../src/packages/session-packages.ts';
import { quietLogger, run, startManager, type ManagerHarness } from '../support/sandbox.ts';

const services = inject('services');

interface TestWheel {
  readonly name: string;
  readonly version: string;
  readonly requires?: readonly string[];
  readonly body: string;
  /** Bytes stored uncompressed in the wheel, to make it large. */
  readonly padBytes?: number;
}

/** A valid pure-Python wheel, built here: the package, METADATA, WHEEL and RECORD. */
function buildWheel(wheel: TestWheel): { fileName: string; content: Buffer; metadata: string } {
  const dist = `${wheel.name}-${wheel.version}.dist-info`;
  const metadata = [
    'Metadata-Version: 2.1',
    `Name: ${wheel.name}`,
    `Version: ${wheel.version}`,
    'Requires-Python: >=3.8',
    ...(wheel.requires ?? []).map((r) => `Requires-Dist: ${r}`),
    '',
    'A package the test built.',
  ].join('\n');
  const files: Record<string, Uint8Array> = {
    [`${wheel.name}/__init__.py`]: strToU8(wheel.body),
    [`${dist}/METADATA`]: strToU8(metadata),
    [`${dist}/WHEEL`]: strToU8(
      'Wheel-Version: 1.0\nGenerator: sandbot-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
    ),
  };
  if (wheel.padBytes !== undefined) files[`${wheel.name}/pad.bin`] = randomBytes(wheel.padBytes);
  const record = Object.entries(files).map(([path, bytes]) => {
    const digest = createHash('sha256').update(bytes).digest('base64url');
    return `${path},sha256=${digest},${bytes.length}`;
  });
  files[`${dist}/RECORD`] = strToU8(`${record.join('\n')}\n${dist}/RECORD,,\n`);
  const content = Buffer.from(zipSync(files, { level: 0 }));
  return { fileName: `${wheel.name}-${wheel.version}-py3-none-any.whl`, content, metadata };
}

const WHEELS: readonly TestWheel[] = [
  {
    name: 'sbtiny',
    version: '1.0',
    requires: ['sbdep>=1.0'],
    body: 'from sbdep import VALUE\nANSWER = VALUE * 2\n',
  },
  { name: 'sbdep', version: '0.5', body: 'VALUE = 5\n' },
  { name: 'sbdep', version: '1.1', body: 'VALUE = 21\n' },
  { name: 'sbwild', version: '1.0', requires: ['sboff'], body: 'import sboff\n' },
  { name: 'sboff', version: '1.0', body: '' },
  { name: 'sbhuge', version: '1.0', body: '', padBytes: 300_000 },
  { name: 'requests', version: '9.9', body: '' },
];

/**
 * A PEP 503 index on loopback. sbtiny's page offers PEP 658 metadata; sbdep's does not (its
 * METADATA is read from the wheel); sbsource has only a source distribution.
 */
async function serveIndex(): Promise<{ server: Server; url: string; requests: string[] }> {
  const built = WHEELS.map((w) => ({ ...w, ...buildWheel(w) }));
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    requests.push(path);
    const page = /^\/simple\/([a-z0-9-]+)\/$/.exec(path);
    if (page !== null) {
      const name = page[1];
      const links = built
        .filter((w) => w.name === name)
        .map((w) => {
          const sha = createHash('sha256').update(w.content).digest('hex');
          const meta =
            w.name === 'sbtiny'
              ? ` data-dist-info-metadata="sha256=${createHash('sha256').update(w.metadata).digest('hex')}"`
              : '';
          return `<a href="/files/${w.fileName}#sha256=${sha}" data-requires-python="&gt;=3.8"${meta}>${w.fileName}</a>`;
        });
      if (name === 'sbsource')
        links.push('<a href="/files/sbsource-1.0.tar.gz">sbsource-1.0.tar.gz</a>');
      if (links.length === 0) {
        res.writeHead(404).end();
        return;
      }
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end(`<html><body>${links.join('\n')}</body></html>`);
      return;
    }
    const file = built.find(
      (w) => path === `/files/${w.fileName}` || path === `/files/${w.fileName}.metadata`,
    );
    if (file === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200).end(path.endsWith('.metadata') ? file.metadata : file.content);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/simple/`, requests };
}

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
