"""`restore`: loads a checkpoint file the worker uploaded (area "checkpoint") into the user
namespace, in the kernel's main thread between cells. Runs only inside the sandbox of the
session that made the checkpoint: unpickling may run code, which is then the user's own."""

import errno
import importlib
import io
import json
import os
import stat

from .checkpoint_format import (
    END,
    MAGIC,
    MAX_INDEX_BYTES,
    RESTORE_DIR,
    TRAILER,
    TRAILER_BYTES,
    short,
)
from .copy_in import name_problem

_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
WHOLE_FILE = "(checkpoint)"


class Unreadable(Exception):
    """The file as a whole is not a checkpoint we can read."""


def _error_text(error):
    return short("%s: %s" % (type(error).__name__, error))


def read_index(handle, size):
    """The index of a checkpoint file: values [[name, start, end, group]], modules
    {alias: name}."""
    if size < len(MAGIC) + TRAILER_BYTES or handle.read(len(MAGIC)) != MAGIC:
        raise Unreadable("it is not a checkpoint")
    handle.seek(size - TRAILER_BYTES)
    trailer = handle.read(TRAILER_BYTES)
    if trailer[TRAILER.size:] != END:
        raise Unreadable("it is incomplete")
    index_at, index_bytes = TRAILER.unpack(trailer[: TRAILER.size])
    if index_bytes > MAX_INDEX_BYTES or index_at + index_bytes > size - TRAILER_BYTES:
        raise Unreadable("its index is damaged")
    handle.seek(index_at)
    try:
        index = json.loads(handle.read(index_bytes))
        values = [(str(n), int(s), int(e), int(g)) for n, s, e, g in index["values"]]
        modules = {str(k): str(v) for k, v in dict(index["modules"]).items()}
    except (ValueError, TypeError, KeyError) as error:
        raise Unreadable("its index is damaged (%s)" % type(error).__name__)
    return values, modules


def _import_modules(modules, namespace, restored, not_restored):
    for alias, module_name in sorted(modules.items()):
        try:
            namespace[alias] = importlib.import_module(module_name)
            restored.append(alias)
        except BaseException as error:  # an import may raise anything, SystemExit included
            not_restored.append({"name": alias, "reason": _error_text(error)})


def _load_values(dill, handle, values, restored, not_restored):
    """Each value from its own pickle; one Unpickler per group of values (one Pickler wrote
    them), whose memo carries their shared references. A value that fails is named, and the
    next one starts from its own offset with the memo as it was (plus whatever the failed
    value added before it failed)."""
    loaded = {}
    unpickler = None
    memo = {}
    group = None
    for name, start, end, value_group in values:
        if value_group != group:
            unpickler, memo, group = None, {}, value_group
        if unpickler is None or handle.tell() != start:
            if unpickler is not None:
                memo = unpickler.memo.copy()
            handle.seek(start)
            unpickler = dill.Unpickler(handle)
            if memo:  # (an empty memo assigned to the C Unpickler leaves it no room)
                unpickler.memo = memo
        try:
            loaded[name] = unpickler.load()
            restored.append(name)
        except BaseException as error:  # a value's own code may raise anything
            not_restored.append({"name": name, "reason": _error_text(error)})
            # Its state is half-way through the failed value: the next value gets a fresh
            # Unpickler with the memo so far (copied only here, as it can be large).
            memo = unpickler.memo.copy()
            unpickler = None
            handle.seek(end)
    return loaded


def load_checkpoint(dill, fd, namespace):
    """Loads the checkpoint open at `fd` into `namespace`: (restored, notRestored)."""
    restored, not_restored = [], []
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        raise Unreadable("it is not a regular file")
    with io.open(os.dup(fd), "rb") as handle:
        values, modules = read_index(handle, info.st_size)
        _import_modules(modules, namespace, restored, not_restored)
        loaded = _load_values(dill, handle, values, restored, not_restored)
    namespace.update(loaded)
    return restored, not_restored


def restore_request(frames, shell, request, root=RESTORE_DIR):
    """Answers `restore {id, name}` with one `restored` frame; the file is removed after."""
    restored, not_restored = [], []
    name = request.get("name")
    problem = name_problem(name)
    try:
        if problem is not None:
            raise Unreadable(problem)
        if shell is None:
            raise Unreadable("there is no kernel to restore into")
        try:
            root_fd = os.open(root, _OPEN_FLAGS)
        except OSError as error:
            raise Unreadable("it was not uploaded (%s)" % os.strerror(error.errno or errno.EIO))
        try:
            fd = os.open(name, _OPEN_FLAGS, dir_fd=root_fd)
        except OSError as error:
            os.close(root_fd)
            raise Unreadable("it was not uploaded (%s)" % os.strerror(error.errno or errno.EIO))
        try:
            import dill

            restored, not_restored = load_checkpoint(dill, fd, shell.user_ns)
        finally:
            os.close(fd)
            try:
                os.unlink(name, dir_fd=root_fd)
            except OSError:
                pass
            os.close(root_fd)
    except Unreadable as error:
        not_restored.append({"name": WHOLE_FILE, "reason": short(str(error))})
    except Exception as error:
        not_restored.append({"name": WHOLE_FILE, "reason": _error_text(error)})
    frames.emit({
        "type": "restored",
        "id": request["id"],
        "restored": restored,
        "notRestored": not_restored,
    })
