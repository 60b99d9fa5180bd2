"""The request side of the protocol: lines from the private stdin, one request at a time."""

import json
import os
import select
import sys
import time

from .cell import count_limit
from .checkpoint import Checkpoints
from .copy_in import Uploads
from .copy_out import send_file
from .diagnostics import diag
from .install import install
from .limits import IDLE_TRIM_S, MAX_REQUEST_BYTES
from .packages import installed_packages
from .restore import restore_request

SMALL_READ_BYTES = 64 * 1024  # a pipe's default capacity: a cell's request fits
LARGE_READ_BYTES = 1024 * 1024


def idle_exit_s_from(environ):
    """SANDBOT_IDLE_EXIT_S as seconds, or None (unset, zero or not a number)."""
    try:
        return float(environ.get("SANDBOT_IDLE_EXIT_S") or 0) or None
    except ValueError:
        return None


def read_requests(fd, idle_exit_s, on_idle, max_request_bytes=MAX_REQUEST_BYTES):
    """Yields request lines; returns on EOF, or after `idle_exit_s` without a request (the
    worker sets SANDBOT_IDLE_EXIT_S so a container it lost track of ends by itself).
    Once a second of idleness follows a request, it calls `on_idle` (releasing freed
    memory): that way the work never delays a cell."""
    buffer = bytearray()
    # Requests are read into one buffer kept for the kernel's life: os.read(fd, 1 MiB)
    # allocated (mmap) and shrank (mremap) a fresh megabyte per request and freed the last
    # one (munmap), three syscalls per cell, each about 25 us under gVisor's ptrace platform.
    # A read that fills it means a large request (an upload) is arriving: read on in big
    # pieces then.
    small = bytearray(SMALL_READ_BYTES)
    small_view = memoryview(small)
    large_read = False
    scanned = 0
    skipping = False  # inside a line that was too long
    idle_due = False
    last_request = time.monotonic()
    while True:
        newline = buffer.find(b"\n", scanned)
        if newline != -1:
            line = bytes(buffer[:newline])
            del buffer[: newline + 1]
            scanned = 0
            if skipping:
                skipping = False
            elif line.strip():
                yield line
                idle_due = True
                last_request = time.monotonic()
            continue
        scanned = len(buffer)
        if len(buffer) > max_request_bytes:
            diag("ignored a request line longer than %d bytes" % max_request_bytes)
            buffer.clear()
            scanned = 0
            skipping = True
        timeout = None
        if idle_exit_s is not None:
            timeout = max(0.0, last_request + idle_exit_s - time.monotonic())
        if idle_due:
            timeout = IDLE_TRIM_S if timeout is None else min(timeout, IDLE_TRIM_S)
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            if idle_due:
                idle_due = False
                on_idle()
                continue
            diag("no request for %s s; exiting" % idle_exit_s)
            return
        if large_read:
            chunk = os.read(fd, LARGE_READ_BYTES)
        else:
            chunk = small_view[: os.readv(fd, [small])]
        if not chunk:
            return
        buffer += chunk
        large_read = len(chunk) >= SMALL_READ_BYTES


def parse_request(line):
    """The request object of a line, or None (logged) when it is not one."""
    try:
        request = json.loads(line)
        if not isinstance(request, dict):
            raise ValueError("not a JSON object")
    except ValueError as error:
        diag("ignored a malformed request (%d bytes): %s" % (len(line), error))
        return None
    return request


class Dispatcher:
    """Answers one request; the cell itself is the executor's business."""

    def __init__(self, frames, executor, files):
        self.frames = frames
        self.executor = executor
        self.files = files
        self.uploads = Uploads(frames)
        # The executor's shell is the kernel a checkpoint saves and a restore fills.
        self.shell = getattr(executor, "shell", None)
        fds = getattr(executor, "fds", None)
        proto_in = getattr(fds, "proto_in", None)
        self.checkpoints = Checkpoints(frames, self.shell, (proto_in,) if proto_in else ())

    def handle(self, request):
        kind = request.get("type")
        request_id = request.get("id")
        if not isinstance(request_id, str):
            diag("ignored a %r request without a string id" % (kind,))
        elif kind == "execute":
            if isinstance(request.get("code"), str):
                self.checkpoints.drop_running()  # the cell changes what it was saving
                self.executor.execute(request)
            else:
                diag("ignored execute %s without code" % request_id)
        elif kind == "read_file":
            # After the cell's `done`: the worker fetches the files it listed, one at a time.
            max_bytes = count_limit(request.get("maxBytes"), 0)
            send_file(self.frames, request_id, request.get("path"), max_bytes)
        elif kind == "write_file":
            self.uploads.handle(request)
        elif kind == "checkpoint":
            self.checkpoints.start(request)
        elif kind == "read_checkpoint":
            self.checkpoints.send_piece(request)
        elif kind == "drop_checkpoint":
            self.checkpoints.drop(request)
        elif kind == "restore":
            self.checkpoints.drop_running()
            restore_request(self.frames, self.shell, request)
        elif kind == "snapshot":
            self.files.reset()
            self.frames.emit({"type": "snapshot", "id": request_id})
        elif kind == "install":
            install(self.frames, request)
        elif kind == "ping":
            self.frames.emit({"type": "pong", "id": request_id})
        else:
            diag("ignored an unknown request type %r" % (kind,))


def announce_ready(frames, startup_s):
    frames.emit({
        "type": "ready",
        "pythonVersion": sys.version.split()[0],
        "startupMs": round(startup_s * 1000, 1),
        # Read from the image as it is, so a derived image's extra packages reach the model.
        "packages": installed_packages(),
    })


def serve(lines, dispatcher):
    """Handles request lines until they end; the loop outlives any fault of its own."""
    for line in lines:
        request = parse_request(line)
        if request is None:
            continue
        try:
            dispatcher.handle(request)
        except BaseException as error:
            diag("request failed: %r" % (error,))
