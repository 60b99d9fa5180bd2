import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { errorMessage, SandbotError } from '../core/errors.ts';
import { MIGRATIONS } from './migrations.ts';
import { immediateTransaction } from './immediate-transaction.ts';

export type { DatabaseSync } from 'node:sqlite';

export const DATABASE_FILE = 'sandbot.db';

/**
 * How long a statement waits for another process's write lock (`npm start` and `sandbot chat`
 * share the file) before failing. Writes here take microseconds, so waiting is rare and short.
 */
const BUSY_TIMEOUT_MS = 5000;

/**
 * Opens (creating if needed) `<dataDir>/sandbot.db`, the embedded mode's one SQLite file, and
 * brings its tables up to date. WAL lets readers and one writer work at once across
 * processes; `synchronous=NORMAL` under WAL survives a killed process (a power cut may lose
 * the last commits, which is fine for a chat bot's state).
 */
export function openDatabase(dataDir: string): DatabaseSync {
  let db: DatabaseSync;
  try {
    // 0700: sessions hold people's messages and files.
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    db = new DatabaseSync(join(dataDir, DATABASE_FILE));
  } catch (error) {
    throw new SandbotError(
      'CONFIG_INVALID',
      `cannot open ${join(dataDir, DATABASE_FILE)} (SANDBOT_DATA_DIR): ${errorMessage(error)}`,
      { cause: error },
    );
  }
  try {
    // The busy timeout first: switching to WAL itself may wait for another opener.
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = NORMAL');
    migrate(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function migrate(db: DatabaseSync): void {
  // IMMEDIATE takes the write lock at once, so two processes opening a new file in the same
  // instant run the migrations one after the other instead of failing on a lock upgrade.
  immediateTransaction(db, () => {
    for (const statement of MIGRATIONS) db.exec(statement);
  });
}
