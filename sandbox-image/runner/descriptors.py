"""Who owns which file descriptor. The protocol gets private copies of the container's
stdin and stdout, diagnostics a copy of its stderr; fd 0 becomes /dev/null and fds 1 and 2
become pipes that the capture threads drain (docs/sandbox-protocol.md)."""

import io
import os
import sys

from .diagnostics import diag


class Descriptors:
    """The descriptors set up by `take_over`; `*_w` are the runner's private copies of the
    pipes' write ends, `*_r` their read ends."""

    def __init__(self, proto_in, proto_out, diag_fd, out_r, out_w, err_r, err_w):
        self.proto_in = proto_in
        self.proto_out = proto_out
        self.diag = diag_fd
        self.out_r, self.out_w = out_r, out_w
        self.err_r, self.err_w = err_r, err_w
        # (st_dev, st_ino) of each pipe, taken once: our private write ends never change,
        # and under gVisor's ptrace platform each fstat is a trapped syscall (about 25 us).
        self.pipe_ids = {}


def make_pipe(target_fd):
    """A pipe whose write end becomes `target_fd` (inheritable, as fd 1 and 2 must be).
    The runner keeps a private copy of the write end: sync markers go through it, so they
    arrive even if user code points fd 1 elsewhere, and fd 1 can be restored from it."""
    read_end, write_end = os.pipe()
    try:
        import fcntl

        fcntl.fcntl(write_end, 1031, 1024 * 1024)  # F_SETPIPE_SZ: fewer wake-ups on floods
    except OSError:
        pass  # over /proc/sys/fs/pipe-max-size; the default 64 KiB works too
    os.dup2(write_end, target_fd)
    return read_end, write_end


def take_over():
    """Moves the container's stdio aside for the protocol. os.dup returns non-inheritable
    descriptors (PEP 446), so subprocesses never get the private copies."""
    proto_in = os.dup(0)
    proto_out = os.dup(1)
    diag_fd = os.dup(2)  # the container's stderr: the runner's own diagnostics, for logs
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # user code never reads our requests
    os.close(devnull)
    out_r, out_w = make_pipe(1)
    err_r, err_w = make_pipe(2)
    return Descriptors(proto_in, proto_out, diag_fd, out_r, out_w, err_r, err_w)


def text_writer(fd):
    # Line-buffered like a terminal: one write (and usually one event) per line. Buffered
    # underneath, because a raw FileIO may write only part of a large chunk to a pipe.
    raw = io.FileIO(fd, "w", closefd=False)
    return io.TextIOWrapper(
        io.BufferedWriter(raw), encoding="utf-8", errors="backslashreplace", line_buffering=True
    )


def install_std_writers():
    """sys.stdout and sys.stderr over fds 1 and 2 (the capture pipes); returns both, so the
    runner can flush them even after user code replaced sys.stdout."""
    sys.stdout = text_writer(1)
    sys.stderr = text_writer(2)
    return sys.stdout, sys.stderr


def restore_std_fds(fds):
    """Points fds 1 and 2 back at the capture pipes if user code closed or redirected them."""
    for fd, write_end in ((1, fds.out_w), (2, fds.err_w)):
        try:
            ours = fds.pipe_ids.get(write_end)
            if ours is None:
                ours = fds.pipe_ids[write_end] = file_id(os.fstat(write_end))
            if file_id(os.fstat(fd)) == ours:
                continue
        except OSError:
            pass
        try:
            os.dup2(write_end, fd)
        except OSError as error:
            diag("could not restore fd %d: %s" % (fd, error))


def file_id(info):
    return (info.st_dev, info.st_ino)
