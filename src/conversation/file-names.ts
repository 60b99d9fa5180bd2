import { extname } from 'node:path';
import { uploadNameProblem } from '../sandbox/file-transfer.ts';

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
