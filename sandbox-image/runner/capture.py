"""Output capture: threads drain the pipes behind fds 1 and 2 and forward what arrives as
`stream` events of the current cell, within its budget.

After a cell (and before a display) a sync makes sure everything written so far has been
forwarded, so events keep the order in which output was produced. The thread that syncs
drains the pipes itself, under the lock each reader holds while it reads and forwards: the
bytes in a pipe at that moment are all that was written before, and no other thread has to
be scheduled (on a busy host, waking two reader threads cost milliseconds at every cell's
end). Where a pipe cannot say how much it holds, a sync marker written through the runner's
private write end does the job: a reader that meets it has forwarded everything before it."""

import codecs
import fcntl
import os
import select
import struct
import sys
import termios
import threading
import time

from .diagnostics import diag
from .limits import SYNC_TIMEOUT_S

SYNC_END = b"\x1e\x00"


def new_sync_prefix():
    """The random part keeps ordinary output from ever looking like a marker."""
    return b"\x00\x1esandbot-sync-" + os.urandom(6).hex().encode() + b":"


class Capture(threading.Thread):
    """Drains one pipe (fd 1 or 2) and forwards what arrives as `stream` events."""

    def __init__(self, read_fd, write_fd, name, frames, sync_prefix):
        super().__init__(name="capture-" + name, daemon=True)
        self.read_fd = read_fd
        self.write_fd = write_fd
        self.stream_name = name
        self.frames = frames
        self.sync_prefix = sync_prefix
        self.decoder = None
        self.decoder_cell = None
        self.synced = threading.Condition()
        self.synced_upto = 0
        self.buffer = b""
        # Held while the pipe is read and what was read forwarded, by this thread or a sync.
        self.reading = threading.Lock()

    def forward(self, data):
        cell = self.frames.current_cell
        if not data or cell is None:
            return  # output of background work between cells has no cell to go to
        if self.decoder_cell is not cell:
            # A fresh incremental decoder per cell: a character split across two reads is
            # joined, and a broken one becomes U+FFFD instead of an exception.
            self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
            self.decoder_cell = cell
        self.send_within(cell, self.decoder.decode(data))

    def send_within(self, cell, text):
        """Sends what fits the cell's budget, counted in UTF-8 as the worker counts it (a
        broken byte became U+FFFD, three bytes)."""
        if not text:
            return
        encoded = text.encode("utf-8", "surrogatepass")
        allowed = cell.take(len(encoded))
        if allowed:
            self.send(cell, encoded[:allowed].decode("utf-8", "ignore"))

    def finish_text(self):
        """At a marker: a dangling partial character is shown as U+FFFD, not carried on."""
        cell = self.decoder_cell
        if cell is not None and cell is self.frames.current_cell:
            self.send_within(cell, self.decoder.decode(b"", final=True))
        self.decoder_cell = None

    def send(self, cell, text):
        if text:  # never after that cell's `done`: emit_for checks it is still current
            event = {"type": "stream", "id": cell.id, "name": self.stream_name, "text": text}
            self.frames.emit_for(cell, event)

    def consume(self, chunk):
        prefix = self.sync_prefix
        data = self.buffer + chunk
        self.buffer = b""
        while data:
            start = data.find(prefix)
            if start == -1:
                # Hold back a tail that may be the beginning of a marker split across reads.
                keep = 0
                for k in range(min(len(data), len(prefix) - 1), 0, -1):
                    if data.endswith(prefix[:k]):
                        keep = k
                        break
                self.forward(data[: len(data) - keep])
                self.buffer = data[len(data) - keep:]
                return
            self.forward(data[:start])
            end = data.find(SYNC_END, start + len(prefix))
            if end == -1:
                if len(data) - start > len(prefix) + 24:
                    # Not one of our markers after all: pass the bytes on as output.
                    self.forward(data[start:start + 1])
                    data = data[start + 1:]
                    continue
                self.buffer = data[start:]  # the rest of the marker is still in the pipe
                return
            token = data[start + len(prefix):end]
            data = data[end + len(SYNC_END):]
            if token.isdigit():
                self.finish_text()
                with self.synced:
                    self.synced_upto = max(self.synced_upto, int(token))
                    self.synced.notify_all()

    def run(self):
        # Non-blocking reads after select(): a sync may have drained the pipe in between.
        try:
            os.set_blocking(self.read_fd, False)
        except OSError as error:
            diag("capture %s stopped: %s" % (self.stream_name, error))
            return
        while True:
            try:
                select.select([self.read_fd], [], [])
                with self.reading:
                    chunk = self.read_chunk()
                    if chunk == b"":
                        return  # end of file: every write end is closed
                    if chunk is not None:
                        self.consume_safely(chunk)
            except OSError as error:
                diag("capture %s stopped: %s" % (self.stream_name, error))
                return

    def read_chunk(self):
        """One read: the bytes, b"" at end of file, None when the pipe is empty now."""
        try:
            return os.read(self.read_fd, 256 * 1024)
        except BlockingIOError:
            return None

    def consume_safely(self, chunk):
        try:
            self.consume(chunk)
        except Exception as error:  # never die: a dead reader would block user code
            self.buffer = b""
            diag("capture %s: %r" % (self.stream_name, error))

    def drain(self, timeout, maybe_holding=True):
        """Forwards, from the calling thread, what the pipe holds now: afterwards everything
        written to it before the call has been forwarded. True when done; False when the
        reader kept the pipe past `timeout`; None when the pipe cannot say what it holds.
        `maybe_holding` false means the pipe was seen empty since the call began: whatever
        was written before had been taken by the reader, which forwards it before it lets
        go of the lock, so there is nothing to ask the pipe."""
        if not self.reading.acquire(timeout=max(0.0, timeout)):
            return False
        try:
            try:
                # What the reader (which held the lock until now) has not read yet.
                held = pipe_bytes(self.read_fd) if maybe_holding else 0
            except OSError:
                return None
            while held > 0:  # only that much: a writer that never stops cannot hold us here
                chunk = self.read_chunk()
                if not chunk:
                    break
                held -= len(chunk)
                self.consume_safely(chunk)
            # No marker follows: a held-back tail is output, a dangling character U+FFFD.
            tail, self.buffer = self.buffer, b""
            if tail:
                self.forward(tail)
            self.finish_text()
        except OSError as error:
            diag("could not drain %s: %s" % (self.stream_name, error))
        finally:
            self.reading.release()
        return True

    def wait_for(self, number, timeout):
        with self.synced:
            return self.synced.wait_for(lambda: self.synced_upto >= number, timeout)


class OutputSync:
    """Waits until everything written to fds 1 and 2 so far has been forwarded."""

    def __init__(self, captures, writers, timeout_s=SYNC_TIMEOUT_S):
        self.captures = captures
        self.writers = writers  # the runner's own sys.stdout and sys.stderr
        self.timeout_s = timeout_s
        self.counter = 0
        # One poll tells which pipes hold anything: usually none, and then a sync costs one
        # syscall instead of one FIONREAD per pipe (each about 25 us under gVisor's ptrace
        # platform). The poll object itself lives in user space.
        self.poller = select.poll()
        for capture in captures:
            self.poller.register(capture.read_fd, select.POLLIN)

    def holding(self):
        """The read ends that may hold bytes now (all of them when poll cannot tell)."""
        try:
            return {fd for fd, _events in self.poller.poll(0)}
        except (OSError, ValueError):
            return {capture.read_fd for capture in self.captures}

    def start(self):
        for capture in self.captures:
            capture.start()
        return self

    def sync(self):
        # User code may have replaced sys.stdout: flush ours and theirs.
        writers = (*self.writers, sys.stdout, sys.stderr)
        for writer in {id(w): w for w in writers}.values():
            try:
                writer.flush()
            except Exception:  # or closed it
                pass
        self.counter += 1
        deadline = time.monotonic() + self.timeout_s
        waiting = []
        holding = self.holding()
        for capture in self.captures:
            remaining_s = max(0.0, deadline - time.monotonic())
            drained = capture.drain(remaining_s, capture.read_fd in holding)
            if drained is not None:
                if not drained:
                    diag("output sync timed out on " + capture.stream_name)
                continue
            marker = capture.sync_prefix + str(self.counter).encode() + SYNC_END
            try:
                os.write(capture.write_fd, marker)  # < PIPE_BUF: atomic among other writers
                waiting.append(capture)
            except OSError as error:
                diag("could not sync %s: %s" % (capture.stream_name, error))
        for capture in waiting:
            if not capture.wait_for(self.counter, max(0.0, deadline - time.monotonic())):
                diag("output sync timed out on " + capture.stream_name)


def pipe_bytes(fd):
    """How many bytes the pipe holds now (FIONREAD)."""
    return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]
