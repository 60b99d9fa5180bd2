"""Runs a function right after a module's first import, so start-up need not import a module
just to adjust it. matplotlib is the reason: pyplot and its dependencies are about 20 MB of
every idle session's memory, and most chat threads never plot."""

import sys

from .diagnostics import diag


class _HookedLoader:
    """The real loader, plus the hook after it executes the module. Everything else (source,
    resources) is the real loader's, and the module keeps the real loader afterwards."""

    def __init__(self, loader, hooks):
        self._loader = loader
        self._hooks = hooks  # the finder's dictionary: a hook runs once, whoever found it

    def __getattr__(self, name):
        return getattr(self._loader, name)

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        spec = getattr(module, "__spec__", None)
        if spec is not None and spec.loader is self:
            spec.loader = self._loader
        if getattr(module, "__loader__", None) is self:
            module.__loader__ = self._loader
        for hook in self._hooks.pop(module.__name__, ()):
            try:
                hook(module)
            except Exception as error:  # an adjustment missed, never an import that fails
                diag("after importing %s: %r" % (module.__name__, error))


class _AfterImportFinder:
    """First on sys.meta_path; finds nothing itself, only wraps the loader the other finders
    find for a hooked name. It stays there once added (a dictionary lookup per import):
    taking it out of sys.meta_path while the import system walks that list could make the
    walk skip the next finder."""

    def __init__(self):
        self.hooks = {}

    def find_spec(self, fullname, path, target=None):
        if fullname not in self.hooks:
            return None
        for finder in sys.meta_path:
            find_spec = getattr(finder, "find_spec", None)
            if finder is self or find_spec is None:
                continue
            spec = find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _HookedLoader(spec.loader, self.hooks)
                return spec
        return None


_finder = _AfterImportFinder()


def after_import(name, hook):
    """Calls `hook(module)` once `name` is imported: now if it already is, else right after
    its module body runs, before the importer sees it."""
    module = sys.modules.get(name)
    if module is not None:
        hook(module)
        return
    _finder.hooks.setdefault(name, []).append(hook)
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)
