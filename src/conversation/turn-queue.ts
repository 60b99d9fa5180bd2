import { KeyedSerializer } from '../core/keyed-serializer.ts';

/**
 * One turn at a time per thread: turns for the same session key run in the order they were
 * queued, each after the previous one ends (whether it succeeded or failed); different
 * threads run side by side. Nothing queued is dropped. `pending(key)` counts the turns queued
 * or running for a thread (to say "queued behind N"). In-process only: several bot processes
 * need a lock in Redis instead.
 */
export class TurnQueue extends KeyedSerializer {}
