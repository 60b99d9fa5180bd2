import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FetchRefused, fetchBounded } from '../../src/packages/fetch-bounded.ts';
import { parseFrame } from '../../src/sandbox/protocol.ts';

const BODY = Buffer.alloc(200_000, 7);

describe('downloads from the package index', () => {
  let server: Server;
  let base: string;
  let sent = 0;

  beforeAll(async () => {
    // Chunked, without a Content-Length: only counting while it streams can stop it.
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const write = (offset: number): void => {
        if (offset >= BODY.length) {
          res.end();
          return;
        }
        const chunk = BODY.subarray(offset, offset + 16_384);
        sent += chunk.length;
        res.write(chunk, () => write(offset + chunk.length));
      };
      write(0);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => {
    server.close();
  });

  it('stops a body past the cap while it streams, whatever the headers said', async () => {
    const fetched = fetchBounded(`${base}/big.whl`, {
      maxBytes: 50_000,
      what: 'the wheel big.whl',
    });
    await expect(fetched).rejects.toThrow(FetchRefused);
    await expect(fetched).rejects.toThrow('the wheel big.whl is larger than');
  });

  it('checks the sha256 the index gave', async () => {
    const sha256 = createHash('sha256').update(BODY).digest('hex');
    const body = await fetchBounded(`${base}/ok.whl`, { maxBytes: 1e6, sha256, what: 'ok.whl' });
    expect(body.content.equals(BODY)).toBe(true);
    await expect(
      fetchBounded(`${base}/ok.whl`, { maxBytes: 1e6, sha256: '0'.repeat(64), what: 'ok.whl' }),
    ).rejects.toThrow('ok.whl does not match the sha256 the index gave');
    expect(sent).toBeGreaterThan(0);
  });
});

describe("the runner's installed frame", () => {
  it('is taken within its bounds and dropped past them', () => {
    const ok = parseFrame(
      JSON.stringify({
        type: 'installed',
        id: 'i',
        packages: [{ name: 'sbtiny', version: '1.0' }],
      }),
    );
    expect(ok).toEqual({
      type: 'installed',
      id: 'i',
      packages: [{ name: 'sbtiny', version: '1.0' }],
    });
    const badName = {
      type: 'installed',
      id: 'i',
      packages: [{ name: 'Not A Name', version: '1' }],
    };
    expect(parseFrame(JSON.stringify(badName))).toBeUndefined();
    const tooMany = {
      type: 'installed',
      id: 'i',
      packages: Array.from({ length: 201 }, () => ({ name: 'a', version: '1' })),
    };
    expect(parseFrame(JSON.stringify(tooMany))).toBeUndefined();
  });
});
