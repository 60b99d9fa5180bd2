/** What is known about a stored blob without fetching its bytes. */
export interface BlobRef {
  readonly id: string;
  /** The file name it was uploaded or produced as. */
  readonly name: string;
  readonly sizeBytes: number;
  readonly mime: string;
}

export interface Blob {
  readonly ref: BlobRef;
  readonly content: Buffer;
}

/**
 * Bytes of uploads and outputs, by id, with a size cap and a time to live. Files never ride
 * inside job payloads: jobs carry BlobRefs and workers fetch the bytes from here.
 */
export interface BlobStore {
  /** Stores bytes; throws BLOB_TOO_LARGE over the cap. */
  put(content: Buffer, meta: { name: string; mime: string }): Promise<BlobRef>;
  /** The blob, or undefined when it never existed or has expired. */
  get(id: string): Promise<Blob | undefined>;
  delete(id: string): Promise<void>;
  /**
   * Keeps these blobs for at least `ttlMs` from now (never shortens a life; ignores ids that
   * are gone): what a session refers to lives as long as the session.
   */
  touch(ids: readonly string[], ttlMs: number): Promise<void>;
}

export interface BlobStoreLimits {
  /** Largest single blob. */
  readonly maxBlobBytes: number;
  /** How long a blob lives after it is stored. */
  readonly ttlMs: number;
}
