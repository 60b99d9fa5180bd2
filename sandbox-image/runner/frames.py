"""Protocol frames: one JSON object per line on the private protocol descriptor."""

import json
import math
import os
import threading

from .diagnostics import diag

MAX_HELD_BYTES = 64 * 1024  # larger frames go out at once: a join would copy them

# This process's pid, kept current by a fork hook: under gVisor's ptrace platform every
# getpid() is a trapped syscall (about 30 us), and frame writing asked for it up to three
# times per cell. os.fork() (multiprocessing, os.forkpty) runs the hook in the child.
_pid = os.getpid()


def _after_fork_in_child():
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_after_fork_in_child)


def plain(value, depth=0):
    """A JSON-safe copy of `value`: strings for unknown types, null for NaN and infinities."""
    if depth > 20:
        return None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, dict):
        return {str(k): plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, depth + 1) for v in value]
    return str(value)


def encode(event):
    # ASCII-only JSON: no character, not even U+2028, can break the line framing.
    try:
        text = json.dumps(event, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        text = json.dumps(plain(event), ensure_ascii=True, separators=(",", ":"))
    return (text + "\n").encode("ascii")


class FrameWriter:
    """The only writer of frames. It also holds the cell whose events may be sent: that
    cell is set and cleared under the same lock as every write, so no event of a cell can
    follow its `done`, whichever thread (capture, user code) sends it."""

    def __init__(self, fd):
        self.fd = fd
        self.pid = _pid
        self.lock = threading.Lock()
        self.current_cell = None
        self.held = b""  # frames of the current cell that go out with the next write

    def in_runner(self):
        """False in a forked child of user code (multiprocessing), which never speaks the
        protocol."""
        return _pid == self.pid

    def write(self, event):
        """Writes one frame; the caller holds `lock`."""
        if not self.in_runner():
            return
        data = encode(event)
        if self.held:
            data, self.held = self.held + data, b""
        self.send(data)

    def send(self, data):
        """Writes bytes of whole frames; the caller holds `lock`."""
        view = memoryview(data)
        while view:
            try:
                written = os.write(self.fd, view)
            except BrokenPipeError:
                # The worker is gone and nobody will ever read another frame.
                diag("stdout closed; exiting")
                os._exit(0)
            view = view[written:]

    def emit(self, event):
        with self.lock:
            self.write(event)

    def emit_for(self, cell, event):
        """Sends an event of `cell`, unless that cell is no longer the current one."""
        with self.lock:
            if cell is self.current_cell:
                self.write(event)

    def hold_for(self, cell, event):
        """Sends a small event of `cell` with the next frame, at the latest the cell's `done`:
        a cell's result, emitted just before its end, then costs one os.write with `done`
        instead of two (each a trapped syscall under gVisor's ptrace platform). Only for
        what ends a cell (display_hooks.py), so nothing waits on later work of the cell."""
        with self.lock:
            data = encode(event)
            if cell is self.current_cell and len(data) <= MAX_HELD_BYTES and self.in_runner():
                self.held += data
            elif self.in_runner():
                self.send(data)

    def open_cell(self, cell):
        with self.lock:
            if self.held and self.in_runner():  # only if a cell never closed: late, not lost
                self.send(self.held)
            self.held = b""
            self.current_cell = cell

    def close_cell(self, done_event):
        """Sends `done` as the last event of the current cell."""
        with self.lock:
            self.current_cell = None
            self.write(done_event)
