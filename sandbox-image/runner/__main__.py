"""The boot of the sandbox kernel (`python3 -P -m runner`), in the order it must happen.

The order matters: the thread budget before numpy, the descriptors before anything could
print, the SIGINT handler before the slow imports (a SIGINT during start-up must not kill
the kernel), the capture threads before the first output, the data stack and the shell
before `ready`, the file snapshot last, so files present at start are not reported as
outputs of the first cell."""

import os
import signal
import sys
import time

from . import descriptors, diagnostics, process
from .capture import Capture, OutputSync, new_sync_prefix
from .data_stack import import_data_stack, import_ipython_core, prepare_matplotlib_config
from .execute import Executor
from .figures import Figures
from .files import FileWatch
from .frames import FrameWriter
from .interrupts import on_sigint
from .outputs import Outputs
from .request_loop import Dispatcher, announce_ready, idle_exit_s_from, read_requests, serve
from .shell import build_shell, warm_up


def boot():
    # The process's age now plus the time from now to `ready`: `startupMs` covers the
    # interpreter's own start-up too.
    started = time.perf_counter()
    age_at_start_s = process.process_age_s() or 0.0

    # 1. Process: threads sized to the CPU quota, an environment free of our own path.
    process.set_thread_budget()
    process.forget_own_import_path()

    # 2. Descriptors: the protocol's private stdin/stdout, diagnostics on the container's
    #    stderr, fd 0 on /dev/null, fds 1 and 2 on the capture pipes.
    fds = descriptors.take_over()
    diagnostics.use_fd(fds.diag)
    sys.excepthook = diagnostics.excepthook
    stdout, stderr = descriptors.install_std_writers()
    signal.signal(signal.SIGINT, on_sigint)
    frames = FrameWriter(fds.proto_out)

    # 3. Capture: the reader threads forward fds 1 and 2 as `stream` events.
    prefix = new_sync_prefix()
    output_sync = OutputSync(
        (
            Capture(fds.out_r, fds.out_w, "stdout", frames, prefix),
            Capture(fds.err_r, fds.err_w, "stderr", frames, prefix),
        ),
        (stdout, stderr),
    ).start()

    # 4. The data stack (matplotlib waits for a cell that imports it) and IPython's core.
    prepare_matplotlib_config()
    import_data_stack()
    import_ipython_core()

    # 5. The shell, its display hooks and figure capture.
    outputs = Outputs(frames, output_sync)
    figures = Figures(outputs).install()
    shell = build_shell(outputs)
    warm_up(shell)

    # 6. Files present now are not outputs of the first cell.
    files = FileWatch()
    files.reset()

    # 7. `ready`, then requests until stdin closes or the idle limit passes.
    executor = Executor(shell, frames, outputs, output_sync, figures, files, fds)
    dispatcher = Dispatcher(frames, executor, files)
    announce_ready(frames, time.perf_counter() - started + age_at_start_s)
    idle_exit_s = idle_exit_s_from(os.environ)
    serve(read_requests(fds.proto_in, idle_exit_s, process.release_memory), dispatcher)


def main():
    exit_code = 0
    try:
        boot()
    except BaseException as error:
        if isinstance(error, Exception):  # a fault of start-up or of the loop, in full
            diagnostics.excepthook(type(error), error, error.__traceback__)
        diagnostics.diag("exiting: %r" % (error,))
        exit_code = 1
    # No interpreter teardown: it could block on threads or user objects' finalizers.
    os._exit(exit_code)


if __name__ == "__main__":
    main()
