import { extname } from 'node:path';

/**
 * A name safe to place in /mnt/data and unique in the thread: unsafe characters become `_`,
 * and a name already taken gets `-2`, `-3`… before its extension (a second `data.csv` is
 * `data-2.csv`, so the first one is not overwritten).
 */
export function safeUniqueName(original: string, taken: ReadonlySet<string>): string {
  let name = original
    .normalize('NFC')
    // eslint-disable-next-line no-control-regex -- control characters are what we replace
    .replace(/[\u0000-\u001f\u007f/\\]/g, '_')
    .replace(/^[.-]+/, '')
    .slice(0, 200);
  if (name === '' || uploadNameProblem(name) !== undefined) name = 'file';
  if (!taken.has(name)) return name;
  const extension = extname(name);
  const stem = name.slice(0, name.length - extension.length);
  for (let n = 2; ; n += 1) {
    const candidate = `${stem}-${n}${extension}`;
    if (!taken.has(candidate)) return candidate;
  }
}

const MAX_NAME_BYTES = 255;

/**
 * Why an upload name is refused, or undefined when it is safe. Only plain names are taken:
 * no directories, no `..`, no absolute paths, no NUL or control characters, nothing that
 * could escape /mnt/data or confuse a shell or a terminal later.
 */
export function uploadNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'the name is empty';
  if (Buffer.byteLength(name) > MAX_NAME_BYTES)
    return `the name is longer than ${MAX_NAME_BYTES} bytes`;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what we refuse
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'the name contains control characters';
  if (name.includes('/') || name.includes('\\')) return 'the name contains a path separator';
  if (name === '.' || name === '..') return 'the name is a directory reference';
  if (name.startsWith('-')) return 'the name starts with a dash';
  return undefined;
}
