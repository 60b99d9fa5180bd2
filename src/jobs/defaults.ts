import type { BlobStoreLimits } from '../core/blob-store.ts';

/**
 * Blobs carry uploads (a chat attachment) and produced files (capped by SANDBOX_MAX_FILE_MB
 * before they get here); a day is longer than any thread is worked on in one go.
 */
export const BLOB_LIMITS: BlobStoreLimits = {
  maxBlobBytes: 100 * 1024 * 1024,
  ttlMs: 24 * 3600_000,
};

/**
 * How long a thread's state outlives its last use: the conversation (sessions store), its
 * files' list and its checkpoint all live this many idle periods (a day at the default 30
 * minutes), so a thread picked up the next morning still has them.
 */
export function sessionLifetimeMs(sessionIdleMs: number): number {
  return sessionIdleMs * 48;
}
