// The event shapes are declared once, in src/core/cell-events.ts; the sandbox's own names
// stay importable from here.
export type { CellEvent, CellStatus, DoneEvent } from '../core/cell-events.ts';
