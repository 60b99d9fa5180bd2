import { z } from 'zod';
import type { BlobRef } from '../core/blob-store.ts';

/** A package a session installed: enough to install it again into the session's next kernel. */
export interface SessionPackage {
  /** PEP 503-normalised. */
  readonly name: string;
  readonly version: string;
  /** The wheel's file name, as the index listed it. */
  readonly fileName: string;
  /** The wheel in the blob store; absent when it was over the blob cap (fetched again). */
  readonly blob?: BlobRef;
}

/**
 * What each session installed, kept as long as the session (Redis, or the embedded SQLite
 * file), so a restored kernel gets its packages back (reinstallPackages).
 */
export interface SessionPackages {
  remember(sessionId: string, installed: SessionPackage): Promise<void>;
  /** The session's packages, by name (a later install of a name replaces the earlier). */
  list(sessionId: string): Promise<SessionPackage[]>;
  forget(sessionId: string): Promise<void>;
}

export const sessionPackage = z.object({
  name: z.string().max(200),
  version: z.string().max(100),
  fileName: z.string().max(300),
  blob: z
    .object({ id: z.string(), name: z.string(), mime: z.string(), sizeBytes: z.number() })
    .optional(),
});

/** A stored entry, or undefined when it is not one (never trusted blindly). */
export function parseSessionPackage(json: string): SessionPackage | undefined {
  try {
    const parsed = sessionPackage.safeParse(JSON.parse(json));
    return parsed.success ? (parsed.data as SessionPackage) : undefined;
  } catch {
    return undefined;
  }
}

/** In memory, for one process (tests, and a worker given no store). */
export class MemorySessionPackages implements SessionPackages {
  private readonly sessions = new Map<string, Map<string, SessionPackage>>();

  remember(sessionId: string, installed: SessionPackage): Promise<void> {
    const session = this.sessions.get(sessionId) ?? new Map<string, SessionPackage>();
    session.set(installed.name, installed);
    this.sessions.set(sessionId, session);
    return Promise.resolve();
  }

  list(sessionId: string): Promise<SessionPackage[]> {
    return Promise.resolve([...(this.sessions.get(sessionId)?.values() ?? [])]);
  }

  forget(sessionId: string): Promise<void> {
    this.sessions.delete(sessionId);
    return Promise.resolve();
  }
}
