"""The user's kernel: IPython's InteractiveShell, wired to the protocol and forgiving of
notebook habits. Needs the data stack and IPython's core imported (data_stack)."""

import builtins
import warnings

from .diagnostics import diag
from .display_hooks import hook_classes
from .figures import figure_png
from . import tables
from .tracebacks import clean_lines, safe_str


def build_shell(outputs):
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    hook_class, publisher_class = hook_classes(outputs)
    config = Config()
    config.HistoryManager.enabled = False  # no sqlite history on disk (read-only root anyway)
    config.HistoryManager.hist_file = ":memory:"
    config.InteractiveShell.colors = "NoColor"
    shell = InteractiveShell.instance(
        config=config,
        displayhook_class=hook_class,
        display_pub_class=publisher_class,
    )
    # By name: matplotlib is imported by the first cell that plots, not at start-up.
    png_formatter = shell.display_formatter.formatters["image/png"]
    png_formatter.for_type_by_name("matplotlib.figure", "Figure", figure_png)
    tables.install(shell)
    # The base shell has no GUI loop to enable; without this `%matplotlib inline`, which
    # models write out of habit, fails with NotImplementedError. Figures are captured anyway.
    shell.enable_gui = lambda gui=None: None
    _install_habit_magics(shell)
    _report_errors_as_events(shell, outputs)
    builtins.input = _no_input  # stdin is /dev/null; this says why instead of a bare EOFError
    return shell


def _matplotlib_magic(line=""):
    """%matplotlib [inline|...]: accepted and ignored; figures are always captured as PNG."""


def _install_habit_magics(shell):
    config_magic = shell.find_line_magic("config")

    def config_magic_tolerant(line=""):
        """%config InlineBackend.figure_format = ... is notebook habit; there is no inline
        backend here, so those lines are accepted and ignored. Others work as usual."""
        if line.strip().startswith("InlineBackend"):
            return None
        return config_magic(line)

    try:
        # Straight into the registry: register_magic_function would setattr on UserMagics,
        # where `config` is a traitlets attribute and refuses a function.
        shell.magics_manager.magics["line"]["matplotlib"] = _matplotlib_magic
        if config_magic is not None:
            shell.magics_manager.magics["line"]["config"] = config_magic_tolerant
    except Exception as error:
        diag("could not install the notebook-habit magics: %r" % (error,))


def _report_errors_as_events(shell, outputs):
    def show_traceback(etype, evalue, stb):
        """Replaces InteractiveShell._showtraceback: the traceback goes out as an `error`
        event (clean lines, no colour codes) instead of being printed."""
        entries = stb if isinstance(stb, (list, tuple)) else [stb]
        ename = getattr(etype, "__name__", str(etype))
        outputs.error(ename, safe_str(evalue), clean_lines(entries))

    def show_usage_error(exc):
        """A mistyped magic is an error of the cell, not just a line on stderr."""
        outputs.error("UsageError", safe_str(exc), ["UsageError: %s" % safe_str(exc)])

    shell._showtraceback = show_traceback
    shell.show_usage_error = show_usage_error
    # IPython catches SystemExit and adds a warning meant for terminal users; the error
    # says it.
    warnings.filterwarnings("ignore", message="To exit: use 'exit', 'quit', or Ctrl-D.")


def _no_input(prompt=""):
    raise EOFError(
        "input() is not available: the code runs unattended with no keyboard; "
        "set the value in the code instead"
    )


def warm_up(shell):
    """Pays now for what the first real cell would: IPython's compile path and a
    DataFrame's HTML (a few ms, no lasting memory). Left out on purpose, because every
    idle session would carry their memory: matplotlib and a figure render (~23 MB; the
    first plot of a thread pays pyplot's import instead, data_stack.py) and the traceback
    formatter (~2 MB, saves the first error ~25 ms)."""
    import pandas

    try:
        shell.run_cell("1", store_history=False, silent=True)
        shell.display_formatter.format(pandas.DataFrame({"a": [1]}))
    except Exception as error:  # only a cost, never a reason not to start
        diag("warm-up failed: %r" % (error,))
