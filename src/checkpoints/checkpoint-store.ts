import { z } from 'zod';

/**
 * What a checkpoint holds besides its bytes, as the sandbox reported it when saving. Bounded
 * when read back: it came out of a sandbox, so it is data, never an authority.
 */
export const checkpointMeta = z.object({
  savedAtMs: z.number().int().nonnegative(),
  sizeBytes: z.number().int().nonnegative(),
  names: z.array(z.string().max(200)).max(1000),
  modules: z.record(z.string().max(200), z.string().max(200)),
  notSaved: z.array(z.object({ name: z.string().max(200), reason: z.string().max(200) })).max(1000),
});

export type CheckpointMeta = z.infer<typeof checkpointMeta>;

export interface LoadedCheckpoint {
  readonly meta: CheckpointMeta;
  readonly content: Buffer;
}

/**
 * Where a session's checkpoint lives (Redis, or the embedded SQLite file) for the session's
 * lifetime, one per session, all of them under one byte budget: Redis runs with
 * `noeviction`, so the store drops the oldest checkpoints itself rather than fill up.
 * A checkpoint is only ever handed back for the session that saved it, and only ever loaded
 * inside that session's sandbox: the host never unpickles it.
 */
export interface CheckpointStore {
  /** Replaces the session's checkpoint; drops the oldest others while over the budget. */
  save(sessionId: string, content: Buffer, meta: CheckpointMeta): Promise<void>;
  /** The session's checkpoint without its bytes (cheap), or undefined. */
  describe(sessionId: string): Promise<CheckpointMeta | undefined>;
  load(sessionId: string): Promise<LoadedCheckpoint | undefined>;
  /** Forgets the session's checkpoint; whether there was one. */
  drop(sessionId: string): Promise<boolean>;
}

/** Parses stored meta JSON; anything that does not fit the schema counts as no checkpoint. */
export function parseCheckpointMeta(json: string | null | undefined): CheckpointMeta | undefined {
  if (json === null || json === undefined) return undefined;
  try {
    const parsed = checkpointMeta.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
