import { randomUUID } from 'node:crypto';
import { SandbotError } from '../core/errors.ts';
import { formatBytes } from '../core/bytes.ts';
import type { Blob, BlobRef, BlobStore, BlobStoreLimits } from '../core/blob-store.ts';

/** The embedded mode's blob store: a map with expiry, for one process. */
export class MemoryBlobStore implements BlobStore {
  private readonly blobs = new Map<string, { blob: Blob; expiresAt: number }>();
  private readonly limits: BlobStoreLimits;
  private readonly now: () => number;

  constructor(limits: BlobStoreLimits, now: () => number = Date.now) {
    this.limits = limits;
    this.now = now;
  }

  put(content: Buffer, meta: { name: string; mime: string }): Promise<BlobRef> {
    if (content.length > this.limits.maxBlobBytes) {
      return Promise.reject(tooLarge(content.length, this.limits.maxBlobBytes));
    }
    this.sweep();
    const ref: BlobRef = {
      id: randomUUID(),
      name: meta.name,
      mime: meta.mime,
      sizeBytes: content.length,
    };
    this.blobs.set(ref.id, { blob: { ref, content }, expiresAt: this.now() + this.limits.ttlMs });
    return Promise.resolve(ref);
  }

  get(id: string): Promise<Blob | undefined> {
    const entry = this.blobs.get(id);
    if (entry === undefined || entry.expiresAt <= this.now()) {
      this.blobs.delete(id);
      return Promise.resolve(undefined);
    }
    return Promise.resolve(entry.blob);
  }

  delete(id: string): Promise<void> {
    this.blobs.delete(id);
    return Promise.resolve();
  }

  touch(ids: readonly string[], ttlMs: number): Promise<void> {
    const until = this.now() + ttlMs;
    for (const id of ids) {
      const entry = this.blobs.get(id);
      if (entry !== undefined && entry.expiresAt > this.now())
        entry.expiresAt = Math.max(entry.expiresAt, until);
    }
    return Promise.resolve();
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, entry] of this.blobs) if (entry.expiresAt <= now) this.blobs.delete(id);
  }
}

export function tooLarge(size: number, max: number): SandbotError {
  return new SandbotError(
    'BLOB_TOO_LARGE',
    `the file is ${formatBytes(size)}, over the ${formatBytes(max)} limit`,
  );
}
