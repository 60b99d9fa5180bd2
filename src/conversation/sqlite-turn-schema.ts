import type { DatabaseSync } from 'node:sqlite';
import { immediateTransaction } from '../sqlite/immediate-transaction.ts';

/**
 * The SQLite turn store's tables. Other stores may share the file, so every name starts with
 * `turn`. Sort keys are TEXT compared by bytes (SQLite's BINARY collation), the same order
 * as the Redis store's lexicographic sets.
 *
 * - `turn_threads`: one row per thread with turns: when it became ready (first enqueue, or
 *   last completion: claims take the longest-waiting first) and its lease (token, until ms).
 * - `turns`: one row per turn; `claims` counts how many times it was taken, `token` is the
 *   latest claim's, `progress` the recorded fields as a JSON object.
 * - `turn_ids_seen`: the dedupe window, kept after completion.
 * - `turn_wakeups`: one counter bumped by every enqueue and completion, which waiting
 *   processes poll.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS turn_threads (
  session_key TEXT PRIMARY KEY,
  ready_at INTEGER NOT NULL,
  lease_token TEXT,
  lease_until INTEGER
) STRICT;
CREATE INDEX IF NOT EXISTS turn_threads_by_ready ON turn_threads (ready_at);
CREATE TABLE IF NOT EXISTS turns (
  turn_id TEXT PRIMARY KEY,
  session_key TEXT NOT NULL,
  sort_key TEXT NOT NULL,
  order_key TEXT NOT NULL,
  message TEXT NOT NULL,
  enqueued_at INTEGER NOT NULL,
  progress TEXT NOT NULL DEFAULT '{}',
  claims INTEGER NOT NULL DEFAULT 0,
  token TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS turns_by_thread ON turns (session_key, sort_key);
CREATE TABLE IF NOT EXISTS turn_ids_seen (
  turn_id TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS turn_ids_seen_by_expiry ON turn_ids_seen (expires_at);
CREATE TABLE IF NOT EXISTS turn_wakeups (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL
) STRICT;
INSERT OR IGNORE INTO turn_wakeups (id, seq) VALUES (1, 0);
`;

/** How long a process waits for another's write lock before SQLite reports "busy". */
export const SQLITE_BUSY_TIMEOUT_MS = 5000;

/**
 * WAL lets readers run beside one writer, across processes; the busy timeout makes a second
 * writer wait its turn instead of failing. `synchronous = NORMAL` is WAL's durable-enough
 * setting: a power cut may lose the last commits, never corrupt the file.
 */
export function openTurnSchema(db: DatabaseSync): void {
  db.exec(`PRAGMA busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = NORMAL');
  // One transaction, so two processes opening a new file at once do not trip over each other.
  immediateTransaction(db, () => db.exec(SCHEMA));
}
