"""`checkpoint`, `read_checkpoint` and `drop_checkpoint`: the user namespace is saved by a
forked copy of the kernel, so the kernel answers the next request at once and a cell never
waits for a save (a cell that starts meanwhile drops the save instead: its state is about to
change).

The copy shares the kernel's memory copy-on-write. Before anything else it points fds 1
and 2 and sys.stdout/err at /dev/null and closes the protocol descriptors, so nothing it
does can reach a cell's output or the worker; it never logs, prints or writes a frame (the
parent's threads may hold those locks at the fork, and they do not exist in the copy), and
it always ends with os._exit. It reports to a thread of the parent through a pipe; that
thread reaps it and sends the one answer through the frame writer."""

import base64
import json
import os
import signal
import stat
import sys
import threading
import time
import warnings

from .cell import count_limit
from .checkpoint_format import CHECKPOINT_DIR, MAX_INDEX_BYTES, plain_id, short
from .checkpoint_save import TooLarge, save_namespace
from .limits import COPY_CHUNK_BYTES

_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
# How long a dropped save may take to die and be reaped before the cell goes ahead anyway.
_REAP_WAIT_S = 5.0


class _Save:
    def __init__(self, checkpoint_id, pid, read_fd, path):
        self.id = checkpoint_id
        self.pid = pid
        self.read_fd = read_fd
        self.path = path
        self.thread = None


def _unlink(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def _silence_child(close_fds):
    """First thing in the copy: nothing it does may reach a cell's output or the worker."""
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    sys.stdout = sys.stderr = open(devnull, "w", closefd=False)
    for fd in close_fds:
        try:
            os.close(fd)
        except OSError:
            pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # an interrupt is for the kernel's cell


def _step_aside():
    """The copy yields the CPU to the kernel's next cell, and under memory pressure the
    kernel's OOM killer takes the copy, not the kernel (raising one's own score needs no
    privilege)."""
    try:
        os.nice(10)
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")
    except OSError:
        pass


def _child_main(dill, shell, path, max_bytes, write_fd, close_fds):
    """The forked copy: saves, reports one JSON message on `write_fd`, exits. Never returns."""
    try:
        _silence_child(close_fds)
        _step_aside()
        try:
            message = dict(save_namespace(dill, shell.user_ns, shell.user_ns_hidden, path,
                                          max_bytes), status="saved")
        except TooLarge:
            _unlink(path)
            message = {"status": "too_large"}
        except BaseException as error:
            _unlink(path)
            message = {"status": "error", "detail": short("%s: %s" % (type(error).__name__, error))}
        view = memoryview(json.dumps(message).encode("ascii"))
        while view:
            view = view[os.write(write_fd, view):]
    finally:
        os._exit(0)


def _read_all(fd, limit):
    chunks, total = [], 0
    while total <= limit:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _failed(checkpoint_id, reason, detail=""):
    return {"type": "checkpoint_failed", "id": checkpoint_id, "reason": reason,
            "detail": short(detail)}


class Checkpoints:
    """At most one save running; the latest saved file kept until it is superseded or
    dropped."""

    def __init__(self, frames, shell, close_fds=(), directory=CHECKPOINT_DIR):
        self.frames = frames
        self.shell = shell
        # The copy closes the protocol descriptors: it has nothing to say to the worker.
        frames_fd = getattr(frames, "fd", None)
        self.close_fds = tuple(close_fds) + ((frames_fd,) if isinstance(frames_fd, int) else ())
        self.directory = directory
        self.lock = threading.Lock()
        self.running = None
        self.saved = {}  # checkpoint id -> path

    def start(self, request):
        checkpoint_id = request["id"]
        if not plain_id(checkpoint_id):
            self.frames.emit(_failed(checkpoint_id, "error", "the id is not a plain id"))
            return
        if self.shell is None:
            self.frames.emit(_failed(checkpoint_id, "error", "there is no kernel"))
            return
        max_bytes = count_limit(request.get("maxBytes"), 0)
        self.drop_running()
        try:
            # Imported here, in the kernel: an import in the copy could wait forever on an
            # import lock one of the kernel's threads held at the fork.
            import dill

            os.makedirs(self.directory, 0o700, exist_ok=True)
            path = os.path.join(self.directory, "checkpoint-%s.dill" % checkpoint_id)
            read_fd, write_fd = os.pipe()
        except Exception as error:
            self.frames.emit(_failed(checkpoint_id, "error", repr(error)))
            return
        try:
            with warnings.catch_warnings():
                # 3.13 warns that a fork of a threaded process may deadlock in the child; the
                # copy takes none of the locks the kernel's threads use (see the module's doc).
                warnings.simplefilter("ignore", DeprecationWarning)
                fork_started = time.perf_counter()
                pid = os.fork()
        except OSError as error:  # e.g. the container's pids limit
            os.close(read_fd)
            os.close(write_fd)
            self.frames.emit(_failed(checkpoint_id, "error", "could not fork: %s" % (error,)))
            return
        if pid == 0:
            os.close(read_fd)
            _child_main(dill, self.shell, path, max_bytes, write_fd, self.close_fds)
        fork_ms = round((time.perf_counter() - fork_started) * 1000, 2)
        os.close(write_fd)
        save = _Save(checkpoint_id, pid, read_fd, path)
        with self.lock:
            self.running = save
        self.frames.emit({"type": "checkpoint_started", "id": checkpoint_id, "forkMs": fork_ms})
        save.thread = threading.Thread(target=self._wait, args=(save,), daemon=True,
                                       name="checkpoint-%s" % checkpoint_id)
        save.thread.start()

    def _wait(self, save):
        """The parent's side: the copy's message, its exit, then the one answer."""
        try:
            data = _read_all(save.read_fd, MAX_INDEX_BYTES * 2)
        finally:
            os.close(save.read_fd)
        try:
            _, status = os.waitpid(save.pid, 0)
        except ChildProcessError:  # user code reaped it (os.wait): the message decides
            status = None
        with self.lock:
            if self.running is not save:
                return  # dropped: drop_running answers for it
            self.running = None
            frame = self._outcome(save, data, status)
            if frame["type"] == "checkpoint_saved":
                for old_path in self.saved.values():
                    if old_path != save.path:
                        _unlink(old_path)
                self.saved = {save.id: save.path}
            else:
                _unlink(save.path)
        self.frames.emit(frame)

    def _outcome(self, save, data, status):
        try:
            message = json.loads(data) if data else {}
        except ValueError:
            message = {}
        kind = message.get("status")
        if kind == "saved":
            return {
                "type": "checkpoint_saved",
                "id": save.id,
                "size": message.get("size"),
                "names": message.get("names"),
                "modules": message.get("modules"),
                "notSaved": message.get("notSaved"),
            }
        if kind == "too_large":
            return _failed(save.id, "too_large")
        if kind == "error":
            return _failed(save.id, "error", message.get("detail") or "")
        if status is not None and os.WIFSIGNALED(status):
            signal_number = os.WTERMSIG(status)
            detail = "the saving process was killed (signal %d%s)" % (
                signal_number, ", out of memory?" if signal_number == signal.SIGKILL else "")
            return _failed(save.id, "error", detail)
        return _failed(save.id, "error", "the saving process ended without an answer")

    def drop_running(self):
        """Before a cell (or a restore): a save still running is killed, reaped and
        answered `dropped`, before anything of the cell happens."""
        with self.lock:
            save = self.running
            self.running = None
        if save is None:
            return
        try:
            os.kill(save.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if save.thread is not None:
            save.thread.join(_REAP_WAIT_S)
        _unlink(save.path)
        self.frames.emit(_failed(save.id, "dropped"))

    def send_piece(self, request):
        """`read_checkpoint`: bytes [offset, offset + maxBytes) of a saved checkpoint as
        `file_data` frames, then one `file_end` with the bytes sent (fewer than asked: the
        end of the file)."""
        request_id = request["id"]
        offset = count_limit(request.get("offset"), 0)
        max_bytes = count_limit(request.get("maxBytes"), 0)
        with self.lock:
            path = self.saved.get(request.get("checkpoint"))
        if path is None:
            self.frames.emit({"type": "file_end", "id": request_id,
                              "refused": "there is no such checkpoint"})
            return
        sent = 0
        try:
            fd = os.open(path, _READ_FLAGS)
            try:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    raise OSError("not a regular file")
                while sent < max_bytes:
                    chunk = os.pread(fd, min(COPY_CHUNK_BYTES, max_bytes - sent), offset + sent)
                    if not chunk:
                        break
                    self.frames.emit({"type": "file_data", "id": request_id,
                                      "data": base64.b64encode(chunk).decode("ascii")})
                    sent += len(chunk)
            finally:
                os.close(fd)
        except OSError as error:
            self.frames.emit({"type": "file_end", "id": request_id,
                              "refused": short("it could not be read (%s)" % (error,))})
            return
        self.frames.emit({"type": "file_end", "id": request_id, "size": sent})

    def drop(self, request):
        """`drop_checkpoint`: the saved file of `checkpoint` (the worker has read it); without
        one, a running save is dropped too and every saved file removed."""
        checkpoint_id = request.get("checkpoint")
        if checkpoint_id is None:
            self.drop_running()
        with self.lock:
            if checkpoint_id is None:
                paths, self.saved = list(self.saved.values()), {}
            else:
                paths = [p for p in (self.saved.pop(checkpoint_id, None),) if p is not None]
        for path in paths:
            _unlink(path)
        self.frames.emit({"type": "checkpoint_dropped", "id": request["id"]})
