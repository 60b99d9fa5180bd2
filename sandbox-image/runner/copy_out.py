"""Copy-out: the runner itself reads a file the worker asked for and streams its bytes as
`file_data` frames, ending with one `file_end`.

This is how produced files leave the sandbox (docs/sandbox-protocol.md, "Trust model"): the
read happens here, with the sandbox user's privilege, never through Docker's archive API
(root, by name, at a later moment). Each component of the path is opened relative to the
previous one with O_NOFOLLOW, so a symlink planted or swapped in at any moment is refused,
not followed; the checks (regular file, size) are made on the open descriptor, so nothing
can change what they describe. Whatever a cell does meanwhile, the bytes that leave are
bytes the sandbox user could read anyway."""

import base64
import errno
import os
import stat

from .limits import COPY_CHUNK_BYTES, DATA_DIR, MAX_SCAN_DEPTH

# The same flags for every component. Not O_DIRECTORY: gVisor follows a symlink opened with
# O_DIRECTORY | O_NOFOLLOW (runc refuses it), so directories are opened like files and
# checked with fstat. O_NONBLOCK: opening a FIFO planted on the path must not hang the runner.
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY

_KINDS = (
    (stat.S_ISREG, "file"),
    (stat.S_ISDIR, "directory"),
    (stat.S_ISFIFO, "named pipe"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISCHR, "device"),
    (stat.S_ISBLK, "device"),
)


class Refused(Exception):
    """Why a file is not sent, in words the user sees ("it is a symbolic link")."""


def _reason(error, what):
    if error.errno in (errno.ELOOP, errno.EMLINK):
        return "%s is a symbolic link" % what
    if error.errno == errno.ENOENT:
        return "it no longer exists"
    if error.errno == errno.ENOTDIR:
        return "%s is not a directory" % what
    if error.errno in (errno.EACCES, errno.EPERM):
        return "it is not readable"
    return "it could not be read (%s)" % (os.strerror(error.errno) if error.errno else error)


def _mb(size):
    return "%.1f MB" % (size / (1024 * 1024)) if size >= 1024 * 1024 else "%d bytes" % size


def path_parts(relative):
    """The components of a path relative to /mnt/data, or Refused: no empty, `.` or `..`
    component, not absolute, no deeper than the scan goes."""
    parts = relative.split("/") if isinstance(relative, str) else []
    if not parts or "\0" in relative or any(p in ("", ".", "..") for p in parts):
        raise Refused("its path is not a plain path inside /mnt/data")
    if len(parts) > MAX_SCAN_DEPTH:
        raise Refused("its path is deeper than %d directories" % MAX_SCAN_DEPTH)
    return parts


def _kind(mode):
    return next((name for test, name in _KINDS if test(mode)), "special file")


def _open_below(dir_fd, name, what, device):
    """One component, never through a symlink, and on the same file system as /mnt/data
    (a second guard: whatever a runtime does with O_NOFOLLOW, /etc is elsewhere)."""
    try:
        fd = os.open(name, _OPEN_FLAGS, dir_fd=dir_fd)
    except OSError as error:
        raise Refused(_reason(error, what))
    info = os.fstat(fd)
    if device is not None and info.st_dev != device:
        os.close(fd)
        raise Refused("%s is not inside /mnt/data" % what)
    return fd, info


def open_beneath(root, relative):
    """A descriptor of the regular file at `relative` under `root`, each component opened
    relative to the one before without following a symlink, and its fstat."""
    parts = path_parts(relative)
    current, info = _open_below(None, root, "/mnt/data", None)
    device = info.st_dev
    try:
        for part in parts[:-1]:
            if not stat.S_ISDIR(info.st_mode):
                raise Refused("a directory on its path is a %s" % _kind(info.st_mode))
            below, info = _open_below(current, part, "a directory on its path", device)
            os.close(current)
            current = below
        if not stat.S_ISDIR(info.st_mode):
            raise Refused("a directory on its path is a %s" % _kind(info.st_mode))
        fd, info = _open_below(current, parts[-1], "it", device)
    finally:
        os.close(current)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise Refused("it is a %s, not a regular file" % _kind(info.st_mode))
    return fd, info


def read_chunks(fd, size, max_bytes, chunk_bytes=COPY_CHUNK_BYTES):
    """Yields the file's bytes in chunks; Refused when it holds more than `max_bytes` (it
    may grow after the fstat: the read, not the stat, has the last word)."""
    if size > max_bytes:
        raise Refused("it is larger than %s" % _mb(max_bytes))
    total = 0
    while True:
        try:
            chunk = os.read(fd, min(chunk_bytes, max_bytes + 1 - total))
        except InterruptedError:
            continue
        except OSError as error:
            raise Refused(_reason(error, "it"))
        if not chunk:
            return
        total += len(chunk)
        if total > max_bytes:
            raise Refused("it grew past %s while it was read" % _mb(max_bytes))
        yield chunk


def send_file(frames, request_id, relative, max_bytes, root=DATA_DIR,
              chunk_bytes=COPY_CHUNK_BYTES):
    """Answers one `read_file` request: `file_data` frames, then exactly one `file_end`
    (with `size`, or with `refused` and the reason; the worker drops what came before)."""
    sent = 0
    try:
        fd, info = open_beneath(root, relative)
        try:
            for chunk in read_chunks(fd, info.st_size, max_bytes, chunk_bytes):
                frames.emit({
                    "type": "file_data",
                    "id": request_id,
                    "data": base64.b64encode(chunk).decode("ascii"),
                })
                sent += len(chunk)
        finally:
            os.close(fd)
    except Refused as refusal:
        frames.emit({"type": "file_end", "id": request_id, "refused": str(refusal)})
        return
    except Exception as error:  # the runner's own fault: the file is lost, not the kernel
        reason = "it could not be read (%s)" % (type(error).__name__,)
        frames.emit({"type": "file_end", "id": request_id, "refused": reason})
        return
    frames.emit({"type": "file_end", "id": request_id, "size": sent})
