"""The data stack and IPython's core, imported before `ready` so no cell pays for them."""

import os
import sys

from .after_import import after_import
from .diagnostics import diag


def prepare_matplotlib_config():
    """The image bakes matplotlib's font cache into a read-only directory; matplotlib wants
    a writable one, so start from a copy in /tmp instead of rebuilding the cache (seconds)
    or falling back to a temporary directory with a warning."""
    target = "/tmp/.config/matplotlib"
    source = os.environ.get("SANDBOT_MPL_CACHE")
    if source and os.path.isdir(source) and not os.path.isdir(target):
        import shutil

        try:
            shutil.copytree(source, target)
        except OSError as error:
            diag("could not copy the matplotlib cache: %s" % error)
    try:
        os.makedirs(target, exist_ok=True)
        os.environ["MPLCONFIGDIR"] = target
    except OSError as error:
        diag("no writable matplotlib config dir: %s" % error)


def import_data_stack():
    """numpy and pandas, with pandas' display options for chat; matplotlib only on its Agg
    backend whenever a cell imports it. Importing pyplot here would cost every idle session
    about 20 MB (most threads never plot) to save the first plot of a thread about 0.2 s."""
    import numpy  # noqa: F401
    import pandas

    after_import("matplotlib", _use_agg)

    # Wide enough for a chat message, short enough that a big frame does not flood it.
    pandas.set_option("display.max_rows", 60)
    pandas.set_option("display.min_rows", 20)
    pandas.set_option("display.max_columns", 30)
    pandas.set_option("display.width", 120)
    pandas.set_option("display.max_colwidth", 80)


def _use_agg(matplotlib):
    # Before pyplot picks a backend; MPLBACKEND in the image says the same, but the user's
    # code may have changed the environment by then.
    matplotlib.use("Agg")


def import_ipython_core():
    """Imports IPython's kernel-side core without its terminal front-end and without jedi.

    `import IPython` runs IPython/__init__.py, which imports the terminal shell for
    `IPython.embed` (prompt_toolkit and friends), and the completer imports jedi; a kernel
    that never reads a keyboard or completes code needs neither, and together they cost
    about 10 MB of every session's memory (one kernel per chat thread, so it adds up) and
    70 ms of start-up. So, during this import only, `IPython.terminal.embed` is a stub
    whose `embed` loads the real one on demand, and `import jedi` fails (the completer
    then just has no jedi). Both entries are taken out of sys.modules afterwards, so user
    code importing either gets the real module."""
    import types

    stub = types.ModuleType("IPython.terminal.embed")

    def embed(*args, **kwargs):
        from IPython.terminal.embed import embed as real_embed

        return real_embed(*args, **kwargs)

    stub.embed = embed
    saved = {name: sys.modules.get(name) for name in ("IPython.terminal.embed", "jedi")}
    sys.modules["IPython.terminal.embed"] = stub
    sys.modules["jedi"] = None  # None in sys.modules makes `import jedi` raise ImportError
    try:
        import IPython  # noqa: F401
        import IPython.core.completer  # noqa: F401  (decides about jedi now, once)
        import IPython.core.interactiveshell  # noqa: F401
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
