/**
 * Wheels the tests build themselves and a simple index on loopback serving them, for the
 * package tests (issue 18): sbtiny (needs sbdep>=1.0; `sbtiny.ANSWER` is 42 with sbdep 1.1),
 * sbdep 0.5 and 1.1, sbwild (needs sboff), sbhuge (over a small cap), requests, and sbsource
 * (a source distribution only). Moved here from test/integration/packages-install.test.ts so
 * the approval e2e tests use the same index.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { strToU8, zipSync } from 'fflate';

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
 * A PEP 503 index on loopback, serving the wheels above (built here, so no test needs the
 * network). sbtiny's page offers PEP 658 metadata; sbdep's does not (its
 * METADATA is read from the wheel); sbsource has only a source distribution.
 */
export async function serveIndex(): Promise<{ server: Server; url: string; requests: string[] }> {
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

export type PackageIndex = Awaited<ReturnType<typeof serveIndex>>;
