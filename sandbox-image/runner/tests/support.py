"""Helpers shared by the runner's unit tests."""

import contextlib
import os

from runner import diagnostics


@contextlib.contextmanager
def quiet_diagnostics():
    """The runner logs what it ignores; a test that provokes it does not need the noise."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    diagnostics.use_fd(devnull)
    try:
        yield
    finally:
        diagnostics.use_fd(2)
        os.close(devnull)


class RecordingFrames:
    """A FrameWriter's interface without a descriptor: the events, in order."""

    def __init__(self, cell=None):
        self.current_cell = cell
        self.events = []

    def in_runner(self):
        return True

    def emit(self, event):
        self.events.append(event)

    def emit_for(self, cell, event):
        if cell is self.current_cell:
            self.events.append(event)

    def text(self, name="stdout"):
        return "".join(e["text"] for e in self.events if e.get("name") == name)
