import type { Thread, ThreadItem } from './thread-store.ts';

/** A playground thread as its store keeps it: JSON, sets as arrays (the live status of a
 *  running turn is kept apart: PlaygroundStore.progress). */
interface ThreadRecord {
  readonly id: string;
  readonly title: string;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly version: number;
  readonly items: readonly ThreadItem[];
  readonly answered: readonly string[];
  readonly uploads: readonly string[];
}

export function threadRecord(thread: Thread): ThreadRecord {
  return {
    id: thread.id,
    title: thread.title,
    createdAt: thread.createdAt,
    updatedAt: thread.updatedAt,
    version: thread.version,
    items: thread.items,
    answered: [...thread.answered],
    uploads: [...thread.uploads],
  };
}

/**
 * The thread a record describes, or undefined for one that is not a thread record at all.
 * Records are written by threadRecord only, so the fields are checked for shape, not content.
 */
export function threadFromRecord(value: unknown): Thread | undefined {
  if (!isRecord(value)) return undefined;
  return {
    id: value.id,
    title: value.title,
    createdAt: value.createdAt,
    updatedAt: value.updatedAt,
    version: value.version,
    items: [...value.items],
    answered: new Set(value.answered),
    uploads: new Set(value.uploads),
  };
}

function isRecord(value: unknown): value is ThreadRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Partial<Record<keyof ThreadRecord, unknown>>;
  return (
    typeof r.id === 'string' &&
    typeof r.title === 'string' &&
    typeof r.createdAt === 'number' &&
    typeof r.updatedAt === 'number' &&
    typeof r.version === 'number' &&
    Array.isArray(r.items) &&
    Array.isArray(r.answered) &&
    Array.isArray(r.uploads)
  );
}
