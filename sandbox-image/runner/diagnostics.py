"""The runner's own diagnostics: plain text lines on the container's stderr, for logs."""

import os

# fd 2 until start-up moves the container's stderr to a private descriptor (use_fd).
_fd = 2


def use_fd(fd):
    global _fd
    _fd = fd


def diag(message):
    try:
        os.write(_fd, ("runner: %s\n" % message).encode("utf-8", "replace"))
    except OSError:
        pass


def excepthook(etype, value, tb):
    """A fault during start-up goes to the container's stderr, where the worker logs it;
    sys.stderr is the capture pipe by then, and nobody reads that before the first cell."""
    import traceback

    diag("".join(traceback.format_exception(etype, value, tb)).rstrip())
