import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A fresh SANDBOT_DATA_DIR under the system's temp directory, so a test's SQLite file is its
 * own and nothing lands in the repository's default ./.sandbot-data.
 */
export function tempDataDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `sandbot-data-${label}-`));
}

export function removeDataDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
