"""Saving the user's namespace to a checkpoint file (layout: checkpoint_format). Runs in the
forked copy of the kernel (checkpoint.py), so it may take its time; it never prints, logs or
speaks the protocol, and takes no lock of the runner's."""

import json
import os
import re
import types

from .checkpoint_format import (
    END,
    MAGIC,
    MAX_INDEX_BYTES,
    MAX_NAME_CHARS,
    MAX_NAMES,
    PROTOCOL,
    TRAILER,
    short,
)

# IPython's own names: its history and output caches, the shell itself and its exits.
_IPYTHON_NAMES = frozenset(("In", "Out", "exit", "quit", "get_ipython", "_ih", "_oh", "_dh"))
_IPYTHON_PATTERN = re.compile(r"^(?:_+|_i+|_i\d+|_\d+)$")
_CANNOT_PICKLE = re.compile(r"cannot pickle '([^']{1,100})' object")
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC


class TooLarge(Exception):
    """The checkpoint would be larger than the worker accepts."""


class BoundedWriter:
    """A file object for the Pickler that refuses to go past `max_bytes` (nothing is kept
    then); with no descriptor it only counts, to try a value without writing it."""

    def __init__(self, fd, max_bytes):
        self.fd = fd
        self.max_bytes = max_bytes
        self.written = 0

    def write(self, data):
        view = memoryview(data).cast("B")
        size = view.nbytes
        if self.written + size > self.max_bytes:
            raise TooLarge()
        if self.fd is not None:
            while view:
                view = view[os.write(self.fd, view):]
        self.written += size
        return size


def saveable(namespace, hidden):
    """(name, value) of the user's own names: no dunder names, none of IPython's."""
    for name, value in list(namespace.items()):
        if not isinstance(name, str) or (name.startswith("__") and name.endswith("__")):
            continue
        if name in _IPYTHON_NAMES or _IPYTHON_PATTERN.match(name):
            continue
        if name in hidden and hidden[name] is value:
            continue
        yield name, value


def unpicklable_reason(value, error):
    """A short reason naming the type that could not be saved: "socket", "generator", or
    "dict holding a socket"."""
    if isinstance(error, TooLarge):
        return "too large"
    if isinstance(error, RecursionError):
        return "%s nested too deeply" % type(value).__name__
    found = _CANNOT_PICKLE.search(str(error))
    own = type(value).__name__
    if found is None:
        return short("%s: %s" % (own, type(error).__name__))
    culprit = found.group(1)
    return short(culprit if culprit == own else "%s holding a %s" % (own, culprit))


def split_namespace(namespace, hidden):
    """The values to pickle, the modules to re-import (alias -> module name) and what is
    left out from the start, within the manifest's bounds."""
    values, modules, not_saved = [], {}, []
    for name, value in saveable(namespace, hidden):
        if len(name) > MAX_NAME_CHARS:
            not_saved.append({"name": name[:MAX_NAME_CHARS], "reason": "its name is too long"})
        elif isinstance(value, types.ModuleType):
            module_name = getattr(value, "__name__", None)
            if isinstance(module_name, str) and 0 < len(module_name) <= MAX_NAME_CHARS:
                modules[name] = module_name
            else:
                not_saved.append({"name": name, "reason": "module without a name"})
        else:
            values.append((name, value))
    if len(modules) > MAX_NAMES:
        for name in sorted(modules)[MAX_NAMES:]:
            del modules[name]
            not_saved.append({"name": name, "reason": "too many names"})
    for name, _ in values[MAX_NAMES:]:
        not_saved.append({"name": name, "reason": "too many names"})
    return values[:MAX_NAMES], modules, not_saved


def _problem(dill, value, max_bytes):
    """Why `value` alone cannot be pickled, or None; TooLarge when it alone is too large."""
    try:
        dill.Pickler(BoundedWriter(None, max_bytes), protocol=PROTOCOL).dump(value)
    except TooLarge:
        raise
    except Exception as error:
        return unpicklable_reason(value, error)
    return None


def write_file(dill, path, values, modules, max_bytes):
    """Writes the checkpoint file; its size. One Pickler for every value: its memo carries
    shared references from one value to the next."""
    fd = os.open(path, _CREATE_FLAGS, 0o600)
    try:
        writer = BoundedWriter(fd, max_bytes)
        writer.write(MAGIC)
        pickler = dill.Pickler(writer, protocol=PROTOCOL)
        entries = []
        for name, value in values:
            start = writer.written
            pickler.dump(value)
            entries.append([name, start, writer.written])
        index = json.dumps({"values": entries, "modules": modules}).encode("ascii")
        if len(index) > MAX_INDEX_BYTES:
            raise TooLarge()
        index_at = writer.written
        writer.write(index)
        writer.write(TRAILER.pack(index_at, len(index)) + END)
        return writer.written
    finally:
        os.close(fd)


def save_namespace(dill, namespace, hidden, path, max_bytes):
    """Saves what can be saved; the manifest (names, modules, notSaved, size). TooLarge past
    `max_bytes`. Every value in one go first; only when that fails, each value alone, to
    name the culprits, then the rest in one go."""
    values, modules, not_saved = split_namespace(namespace, hidden)
    try:
        size = write_file(dill, path, values, modules, max_bytes)
    except TooLarge:
        raise
    except Exception:
        kept = []
        for name, value in values:
            reason = _problem(dill, value, max_bytes)
            if reason is None:
                kept.append((name, value))
            else:
                not_saved.append({"name": name, "reason": reason})
        values = kept
        size = write_file(dill, path, values, modules, max_bytes)
    return {
        "size": size,
        "names": [name for name, _ in values],
        "modules": modules,
        "notSaved": not_saved[:MAX_NAMES],
    }
