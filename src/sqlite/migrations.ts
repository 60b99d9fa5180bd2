/**
 * The embedded mode's tables. Every statement is idempotent and runs at each open, so a new
 * table is added by appending here; a changed one needs a new name (there is no down path).
 * Times are epoch milliseconds; `expires_at` columns are indexed so sweeps stay cheap.
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS sessions (
     key TEXT PRIMARY KEY,
     state TEXT NOT NULL,
     expires_at INTEGER NOT NULL
   ) STRICT`,
  'CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions (expires_at)',
  `CREATE TABLE IF NOT EXISTS blobs (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     mime TEXT NOT NULL,
     size_bytes INTEGER NOT NULL,
     content BLOB NOT NULL,
     expires_at INTEGER NOT NULL
   ) STRICT`,
  'CREATE INDEX IF NOT EXISTS blobs_by_expiry ON blobs (expires_at)',
  `CREATE TABLE IF NOT EXISTS deliveries (
     id TEXT PRIMARY KEY,
     expires_at INTEGER NOT NULL
   ) STRICT`,
  'CREATE INDEX IF NOT EXISTS deliveries_by_expiry ON deliveries (expires_at)',
  `CREATE TABLE IF NOT EXISTS playground_threads (
     id TEXT PRIMARY KEY,
     thread TEXT NOT NULL
   ) STRICT`,
  // seq orders files by age, which is what the byte budget's eviction needs.
  `CREATE TABLE IF NOT EXISTS playground_files (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     name TEXT NOT NULL,
     mime TEXT NOT NULL,
     size_bytes INTEGER NOT NULL,
     content BLOB
   ) STRICT`,
  // A session's files by name (uploads and produced files), so a fresh kernel gets them back.
  `CREATE TABLE IF NOT EXISTS session_files (
     session_id TEXT NOT NULL,
     name TEXT NOT NULL,
     blob TEXT NOT NULL,
     expires_at INTEGER NOT NULL,
     PRIMARY KEY (session_id, name)
   ) STRICT`,
  'CREATE INDEX IF NOT EXISTS session_files_by_expiry ON session_files (expires_at)',
  // One checkpoint of a session's variables (src/checkpoints/), under a byte budget: saved_at
  // orders the oldest first for eviction.
  `CREATE TABLE IF NOT EXISTS checkpoints (
     session_id TEXT PRIMARY KEY,
     meta TEXT NOT NULL,
     content BLOB NOT NULL,
     size_bytes INTEGER NOT NULL,
     saved_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   ) STRICT`,
  'CREATE INDEX IF NOT EXISTS checkpoints_by_expiry ON checkpoints (expires_at)',
  'CREATE INDEX IF NOT EXISTS checkpoints_by_age ON checkpoints (saved_at)',
];
