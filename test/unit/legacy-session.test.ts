import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '../../src/blobs/memory-blob-store.ts';
import { cellImages } from '../../src/core/cell-result.ts';
import { upgradeSession } from '../../src/sessions/legacy-session.ts';
import type { SessionState } from '../../src/core/session-store.ts';

/** A session as sandbot stored it before cell results: raw events, a base64 PNG. */
async function legacySession(): Promise<SessionState> {
  const json = await readFile(new URL('../fixtures/legacy-session.json', import.meta.url), 'utf8');
  return JSON.parse(json) as SessionState;
}

describe('a session stored in the old shape', () => {
  it('is read as cell results, its images moved to the blob store', async () => {
    const blobs = new MemoryBlobStore({ maxBlobBytes: 1024 * 1024, ttlMs: 60_000 });
    const old = await legacySession();
    const session = await upgradeSession(old, blobs);
    expect(session.key).toBe(old.key);
    expect(session.transcript).toEqual(old.transcript);
    expect(session.files).toEqual(old.files);
    expect(session.cells.map((c) => c.code)).toEqual(old.cells.map((c) => c.code));

    const [plot, error, lost] = session.cells.map((c) => c.result);
    expect(plot).toMatchObject({
      status: 'ok',
      stdout: 'rows: 3\n',
      durationMs: 812,
      files: [{ path: 'out.csv', blob: { id: 'blob-out' } }],
    });
    expect(plot?.results[0]?.data).toEqual({ 'text/plain': '<Figure size 640x480 with 1 Axes>' });
    const image = plot === undefined ? undefined : cellImages(plot)[0];
    const bytes = await blobs.get(image?.id ?? '');
    expect(bytes?.content.subarray(1, 4).toString()).toBe('PNG');
    expect(error?.error?.ename).toBe('ZeroDivisionError');
    expect(lost).toMatchObject({
      status: 'lost',
      message: 'The worker running this cell stopped.',
    });
  });

  it('is left alone when it is already in the new shape', async () => {
    const blobs = new MemoryBlobStore({ maxBlobBytes: 1024 * 1024, ttlMs: 60_000 });
    const current = await upgradeSession(await legacySession(), blobs);
    expect(await upgradeSession(current, blobs)).toBe(current);
  });
});
