"""One `execute` request: run the cell in the shell, report its errors, end with `done`."""

import signal
import sys
import time

from .cell import Cell, count_limit, output_limit
from .descriptors import restore_std_fds
from .diagnostics import diag
from .interrupts import Interrupts, on_sigint
from .limits import DEFAULT_MAX_DISPLAYS, DEFAULT_MAX_IMAGES
from .tracebacks import clean_lines, safe_str


class Executor:
    def __init__(self, shell, frames, outputs, output_sync, figures, files, fds):
        self.shell = shell
        self.frames = frames
        self.outputs = outputs
        self.output_sync = output_sync
        self.figures = figures
        self.files = files
        self.fds = fds
        self.modules_seen = -1  # len(sys.modules) when SIGINT was last made ours

    def execute(self, request):
        """Whatever goes wrong, the cell ends with exactly one `done`."""
        cell = Cell(
            request["id"],
            output_limit(request.get("outputLimitBytes")),
            count_limit(request.get("maxDisplays"), DEFAULT_MAX_DISPLAYS),
            count_limit(request.get("maxImages"), DEFAULT_MAX_IMAGES),
        )
        started = time.perf_counter()
        status = "ok"
        execution_count = self.shell.execution_count
        try:
            restore_std_fds(self.fds)
            self._own_sigint()
            self.frames.open_cell(cell)
            Interrupts.pending = False
            result = None
            try:
                Interrupts.executing = True
                try:
                    result = self.shell.run_cell(request["code"], store_history=True)
                finally:
                    Interrupts.executing = False
            except KeyboardInterrupt:
                # SIGINT landed in IPython's own code around the user's: the cell is over.
                status = "interrupted"
            if result is not None:
                execution_count = result.execution_count or execution_count
                error = result.error_in_exec or result.error_before_exec
                if isinstance(error, KeyboardInterrupt):
                    status = "interrupted"
                elif error is not None:
                    status = "error"
                    if not cell.errors:  # e.g. exception groups, which IPython prints itself
                        self._report(error)
            if Interrupts.pending:
                status = "interrupted"  # SIGINT came while the error was being reported
            if status == "interrupted" and not cell.errors:
                self.outputs.error("KeyboardInterrupt", "", ["KeyboardInterrupt"])
            self.figures.flush()
        except Exception as error:  # the runner's own fault; the kernel carries on
            diag("execute %s failed: %r" % (cell.id, error))
            status = "error" if status == "ok" else status
            message = safe_str(error)
            self.outputs.error("RunnerError", message, ["RunnerError: %s" % message])
        finally:
            Interrupts.executing = False
            files = []
            try:
                self.output_sync.sync()
                files = self.files.changed()
            except Exception as error:
                diag("after %s: %r" % (cell.id, error))
            self.frames.close_cell({
                "type": "done",
                "id": cell.id,
                "status": status,
                "executionCount": int(execution_count or 0),
                "durationMs": round((time.perf_counter() - started) * 1000, 3),
                "files": files,
                "truncatedBytes": cell.dropped,
                "droppedOutputs": cell.dropped_outputs,
            })

    def _own_sigint(self):
        """User code may have installed its own SIGINT handler in an earlier cell: through
        signal.signal, which Python's table shows, or from C, which in practice an import
        does (an extension embedding another runtime). Only then is it set again: a
        sigaction per cell is a trapped syscall under gVisor's ptrace platform (about 25 us).
        A handler set from C by a call after its module's import goes unseen."""
        modules = len(sys.modules)
        if signal.getsignal(signal.SIGINT) is not on_sigint or modules != self.modules_seen:
            signal.signal(signal.SIGINT, on_sigint)
            self.modules_seen = modules

    def _report(self, error):
        import traceback

        lines = traceback.format_exception(type(error), error, error.__traceback__)
        self.outputs.error(type(error).__name__, safe_str(error), clean_lines(lines))
