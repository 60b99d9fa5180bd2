/** What a checkpoint holds besides its bytes, as the runner listed it (bounded, validated). */
export interface CheckpointManifest {
  readonly names: readonly string[];
  /** Names bound to modules, re-imported on restore: alias → module name. */
  readonly modules: Readonly<Record<string, string>>;
  /** Names that could not be saved, with a short reason naming the type ("socket"). */
  readonly notSaved: readonly { name: string; reason: string }[];
}

export type CheckpointOutcome =
  | { kind: 'saved'; content: Buffer; manifest: CheckpointManifest }
  | { kind: 'too_large'; limitBytes: number }
  /** A cell started first; the caller retries later. */
  | { kind: 'dropped' }
  | { kind: 'failed'; reason: string }
  /** Nothing to save: no live kernel. */
  | { kind: 'no_kernel' };

export interface RestoreReport {
  readonly restored: readonly string[];
  /** What did not come back and why; the whole file failing is one entry, `(checkpoint)`. */
  readonly notRestored: readonly { name: string; reason: string }[];
}
