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

/**
 * Why a path the sandbox reports under /mnt/data is refused, or undefined when it may be
 * fetched: relative, in normal form, and no component is `.`, `..` or empty. A name that
 * merely starts with dots (`..dots.txt`, `.env`) is a plain name and fine.
 */
export function relativePathProblem(path: string): string | undefined {
  if (path.length === 0) return 'the path is empty';
  if (path.includes('\0')) return 'the path contains a NUL character';
  if (path.startsWith('/')) return 'the path is absolute';
  const components = path.split('/');
  if (components.some((c) => c === '' || c === '.' || c === '..')) {
    return 'the path has an empty, `.` or `..` component';
  }
  return undefined;
}

const NAMED_REFUSALS = 3;

/**
 * The notice for produced files that were not sent because of their path, naming a few of
 * them quoted and cut short (the names come from the sandbox, so they are bounded and their
 * control characters escaped). Undefined when there are none.
 */
export function refusedPathsNotice(paths: readonly string[]): string | undefined {
  if (paths.length === 0) return undefined;
  const named = paths.slice(0, NAMED_REFUSALS).map((p) => JSON.stringify(p.slice(0, 100)));
  const more = paths.length > named.length ? ` and ${paths.length - named.length} more` : '';
  return `${named.join(', ')}${more} not sent: a file's path must stay inside /mnt/data, without \`.\` or \`..\` components.`;
}
