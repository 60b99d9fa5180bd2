import type { BlobStore } from '../core/blob-store.ts';
import type { JobEvent } from '../core/cell-events.ts';
import { buildCellResult } from '../core/cell-result-builder.ts';
import type { SessionCell, SessionState } from '../core/session-store.ts';

/** A cell as sessions stored it before CellResult: its raw events, images as base64. */
interface LegacyCell {
  readonly code: string;
  readonly events: readonly JobEvent[];
}

function isLegacyCell(cell: SessionCell | LegacyCell): cell is LegacyCell {
  return 'events' in cell && !('result' in cell);
}

/**
 * A stored session in the current shape. Sessions saved before CellResult existed keep
 * their cells as event lists; those are folded now, their images moving to the blob store,
 * and the next save writes the new shape.
 */
export async function upgradeSession(
  stored: SessionState,
  blobs: Pick<BlobStore, 'put'>,
): Promise<SessionState> {
  const cells = stored.cells as readonly (SessionCell | LegacyCell)[];
  if (!cells.some(isLegacyCell)) return stored;
  const upgraded = await Promise.all(
    cells.map(async (cell) =>
      isLegacyCell(cell)
        ? { code: cell.code, result: await buildCellResult(cell.events, blobs) }
        : cell,
    ),
  );
  return { ...stored, cells: upgraded };
}
