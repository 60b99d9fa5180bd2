import type { DatabaseSync } from 'node:sqlite';

/**
 * Runs `work` in one `BEGIN IMMEDIATE` transaction: the write lock is taken up front, so a read
 * inside cannot go stale and two processes sharing the file (`npm start` and `sandbot chat`)
 * run one after the other instead of failing on a lock upgrade. Rolled back if `work` throws.
 */
export function immediateTransaction<T>(db: DatabaseSync, work: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = work();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    db.exec('ROLLBACK');
    throw error;
  }
}
