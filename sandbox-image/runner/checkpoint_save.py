"""Saving the user's namespace to a checkpoint file (layout: checkpoint_format). Runs in the
forked copy of the kernel (checkpoint.py), so it may take its time; it never prints, logs or
speaks the protocol, and takes no lock of the runner's."""

import importlib
import json
import os
import pickle
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


class _NeedsDill(Exception):
    """The value holds a function or class of the kernel, which only dill saves by value."""


class _FastPickler(pickle.Pickler):
    """The C pickler, ten times faster than dill's pure-Python one on a DataFrame; it hands
    over to dill (_NeedsDill) what it would save by a reference the new kernel cannot
    resolve: functions and classes defined in the kernel's own __main__."""

    def reducer_override(self, obj):
        if isinstance(obj, types.ModuleType):
            return (importlib.import_module, (obj.__name__,))
        if _is_kernel_code(obj):
            raise _NeedsDill()
        return NotImplemented


def _is_kernel_code(value):
    return isinstance(value, (types.FunctionType, type)) and getattr(
        value, "__module__", None) == "__main__"


class _Writer:
    """Values into one file: each value one pickle from the current Pickler, whose memo
    carries shared references to the next value. A value that fails is cut off the file, and
    the values after it get a new Pickler (a new `group` in the index: the loader starts a
    new Unpickler there), since the old memo may name objects of the failed value."""

    def __init__(self, fd, max_bytes, make_pickler):
        self.fd = fd
        self.writer = BoundedWriter(fd, max_bytes)
        self.make_pickler = make_pickler
        self.pickler = None
        self.group = -1
        self.entries = []

    def new_group(self):
        self.pickler = None

    def dump(self, name, value):
        """True when saved; raises TooLarge, and what the Pickler raised after a cut."""
        if self.pickler is None:
            self.pickler = self.make_pickler(self.writer)
            self.group += 1
        start = self.writer.written
        try:
            self.pickler.dump(value)
        except TooLarge:
            raise
        except BaseException:
            os.ftruncate(self.fd, start)
            os.lseek(self.fd, start, os.SEEK_SET)
            self.writer.written = start
            self.pickler = None
            raise
        self.entries.append([name, start, self.writer.written, self.group])


def write_file(dill, path, values, modules, max_bytes):
    """Writes the checkpoint file: the C pickler first, dill for what it cannot save, the
    rest named with a reason. (size, names saved, notSaved)."""
    fd = os.open(path, _CREATE_FLAGS, 0o600)
    try:
        out = _Writer(fd, max_bytes, lambda w: _FastPickler(w, protocol=PROTOCOL))
        out.writer.write(MAGIC)
        for_dill = []
        for name, value in values:
            if _is_kernel_code(value):
                for_dill.append((name, value))
                continue
            try:
                out.dump(name, value)
            except TooLarge:
                raise
            except Exception:
                for_dill.append((name, value))
        out.make_pickler = lambda w: dill.Pickler(w, protocol=PROTOCOL)
        out.new_group()
        not_saved = []
        for name, value in for_dill:
            try:
                out.dump(name, value)
            except TooLarge:
                raise
            except Exception as error:
                not_saved.append({"name": name, "reason": unpicklable_reason(value, error)})
        index = json.dumps({"values": out.entries, "modules": modules}).encode("ascii")
        if len(index) > MAX_INDEX_BYTES:
            raise TooLarge()
        index_at = out.writer.written
        out.writer.write(index)
        out.writer.write(TRAILER.pack(index_at, len(index)) + END)
        return out.writer.written, [entry[0] for entry in out.entries], not_saved
    finally:
        os.close(fd)


def save_namespace(dill, namespace, hidden, path, max_bytes):
    """Saves what can be saved; the manifest (names, modules, notSaved, size). TooLarge past
    `max_bytes`."""
    values, modules, not_saved = split_namespace(namespace, hidden)
    size, names, unpicklable = write_file(dill, path, values, modules, max_bytes)
    not_saved.extend(unpicklable)
    return {
        "size": size,
        "names": names,
        "modules": modules,
        "notSaved": not_saved[:MAX_NAMES],
    }
