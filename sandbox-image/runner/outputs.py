"""Rich output and errors of the current cell, as `display` and `error` events."""

import json

from .bundles import cap_bundle, clean_bundle
from .raster_forms import with_raster
from .frames import plain
from .interrupts import protected
from .limits import MAX_DISPLAY_CHARS, MAX_METADATA_CHARS, MAX_TRACEBACK_CHARS


class Outputs:
    def __init__(self, frames, output_sync, max_display_chars=MAX_DISPLAY_CHARS):
        self.frames = frames
        self.output_sync = output_sync
        self.max_display_chars = max_display_chars

    def display(self, kind, data, metadata, ends_cell=False):
        """`ends_cell`: nothing of the cell's own runs after it (its last expression's value),
        so the event may go out in one write with the next frame (FrameWriter.hold_for)."""
        cell = self.frames.current_cell
        if cell is None or not self.frames.in_runner():
            return
        bundle = clean_bundle(data or {})
        if not bundle:
            return
        bundle = with_raster(bundle)
        bundle, dropped = cap_bundle(bundle, self.max_display_chars)
        if dropped:
            cell.drop(dropped)
        bundle = cell.fit_display(bundle)
        if bundle is None:
            return
        metadata = plain(metadata) if isinstance(metadata, dict) else {}
        if len(json.dumps(metadata)) > MAX_METADATA_CHARS:
            metadata = {}
        with protected():
            self.output_sync.sync()  # output printed before this display reaches the worker first
            event = {
                "type": "display",
                "id": cell.id,
                "kind": kind,
                "data": bundle,
                "metadata": metadata,
            }
            if ends_cell:
                self.frames.hold_for(cell, event)
            else:
                self.frames.emit(event)

    def error(self, ename, evalue, traceback_lines):
        cell = self.frames.current_cell
        if cell is None or not self.frames.in_runner():
            return
        cell.errors += 1
        with protected(deliver=False):  # the cell is failing anyway; see execute.Executor
            self.output_sync.sync()
            self.frames.emit({
                "type": "error",
                "id": cell.id,
                "ename": ename,
                "evalue": evalue[:MAX_TRACEBACK_CHARS],
                "traceback": traceback_lines,
            })
