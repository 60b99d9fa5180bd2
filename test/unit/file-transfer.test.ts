import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { uploadNameProblem } from '../../src/core/file-names.ts';
import { isSafeRelativePath, readSingleFile, uploadTar } from '../../src/sandbox/file-transfer.ts';

describe('upload names', () => {
  it.each(['data.csv', 'photo 1.jpg', 'résumé.docx', '.hidden', 'a..b'])('accepts %j', (name) => {
    expect(uploadNameProblem(name)).toBeUndefined();
  });

  it.each([
    ['../x', 'path separator'],
    ['/etc/passwd', 'path separator'],
    ['dir/file', 'path separator'],
    ['a\\b', 'path separator'],
    ['..', 'directory reference'],
    ['.', 'directory reference'],
    ['bad\0name', 'control characters'],
    ['line\nbreak', 'control characters'],
    ['esc\u001b[31m', 'control characters'],
    ['', 'empty'],
    ['-rf', 'dash'],
    ['x'.repeat(256), 'longer than'],
  ])('refuses %j (%s)', (name, why) => {
    expect(uploadNameProblem(name)).toContain(why);
  });

  it('refuses to build an archive with a bad name', async () => {
    await expect(uploadTar([{ name: '../x', content: Buffer.from('x') }])).rejects.toThrow(
      /upload refused/,
    );
  });
});

describe('paths reported by the runner', () => {
  it.each(['out.png', 'reports/q1.xlsx'])('fetches %j', (path) => {
    expect(isSafeRelativePath(path)).toBe(true);
  });
  it.each(['/etc/passwd', '../secret', 'a/../../b', 'a/./b', '', 'x\0y'])('refuses %j', (path) => {
    expect(isSafeRelativePath(path)).toBe(false);
  });
});

async function tarOf(
  entries: { name: string; type: 'file' | 'symlink'; body?: string; linkname?: string }[],
) {
  const archive = pack();
  for (const e of entries) {
    if (e.type === 'file') archive.entry({ name: e.name, type: 'file' }, e.body ?? '');
    else archive.entry({ name: e.name, type: 'symlink', linkname: e.linkname ?? '' });
  }
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive) chunks.push(chunk as Buffer);
  return Readable.from([Buffer.concat(chunks)]);
}

describe('reading a file copied out of the sandbox', () => {
  it('returns the bytes of a regular file', async () => {
    const result = await readSingleFile(
      await tarOf([{ name: 'a.txt', type: 'file', body: 'hi' }]),
      'a.txt',
      100,
    );
    expect(result).toEqual({ kind: 'file', content: Buffer.from('hi') });
  });

  it('does not follow a symlink', async () => {
    const archive = await tarOf([{ name: 'pw', type: 'symlink', linkname: '/etc/passwd' }]);
    const result = await readSingleFile(archive, 'pw', 100);
    expect(result.kind).toBe('skipped');
  });

  it('refuses a file over the size cap', async () => {
    const archive = await tarOf([{ name: 'big', type: 'file', body: 'x'.repeat(200) }]);
    expect(await readSingleFile(archive, 'big', 100)).toMatchObject({ kind: 'skipped' });
  });
});
