import type { SessionKey } from '../core/session-key.ts';
import type { UsageTotals } from './usage-totals.ts';

/** One set of totals: a scope (thread, user, channel, workspace) over a period. */
export interface MeterEntry {
  /** `thread:<session key>`, `user:<platform>:<id>`, `channel:<platform>:<workspace>:<channel>`
   *  or `workspace:<platform>:<workspace>`. */
  readonly scope: string;
  /** A day (`2026-11-29`, in USAGE_TIME_ZONE) or `total`. */
  readonly period: string;
}

/**
 * Usage totals kept in the shared store (Redis, or the embedded SQLite file), so every bot
 * process adds to and reads the same figures. Day totals expire after METER_DAY_TTL_MS.
 */
export interface MeterStore {
  /** Adds `usage` to every entry, in one step. */
  add(entries: readonly MeterEntry[], usage: UsageTotals): Promise<void>;
  read(entry: MeterEntry): Promise<UsageTotals>;
}

/** Day totals are kept 40 days (a month's report can still be read); totals 90 days idle. */
export const METER_DAY_TTL_MS = 40 * 24 * 3_600_000;
export const METER_TOTAL_TTL_MS = 90 * 24 * 3_600_000;

export function ttlOf(entry: MeterEntry): number {
  return entry.period === 'total' ? METER_TOTAL_TTL_MS : METER_DAY_TTL_MS;
}

/** The scopes one turn counts toward. */
export interface MeterScopes {
  readonly thread: string;
  readonly user: string;
  readonly channel: string;
  readonly workspace: string;
}

export function meterScopes(key: SessionKey, userId: string): MeterScopes {
  return {
    thread: `thread:${key.platform}:${key.workspace}:${key.channel}:${key.thread}`,
    user: `user:${key.platform}:${userId}`,
    channel: `channel:${key.platform}:${key.workspace}:${key.channel}`,
    workspace: `workspace:${key.platform}:${key.workspace}`,
  };
}

/** Every entry a turn adds to: each scope's day, and the thread's total. */
export function turnEntries(scopes: MeterScopes, day: string): MeterEntry[] {
  return [
    { scope: scopes.thread, period: 'total' },
    { scope: scopes.thread, period: day },
    { scope: scopes.user, period: day },
    { scope: scopes.channel, period: day },
    { scope: scopes.workspace, period: day },
  ];
}
