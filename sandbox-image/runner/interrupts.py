"""SIGINT raises KeyboardInterrupt only while a cell executes, and never inside a
`protected` block (frame writing), where it is held back until the block ends."""


class Interrupts:
    executing = False
    depth = 0
    pending = False


def on_sigint(_signum, _frame):
    if not Interrupts.executing:
        return  # idle, or the cell is already over: nothing to interrupt
    if Interrupts.depth:
        Interrupts.pending = True
        return
    raise KeyboardInterrupt


class protected:
    """Runs protocol work (main thread only) that a KeyboardInterrupt must not cut in half.
    An interrupt that arrived meanwhile is raised on exit, into the user code that called
    us (display(), plt.show()), unless `deliver` is false; then it stays pending and the
    cell is reported as interrupted."""

    def __init__(self, deliver=True):
        self.deliver = deliver

    def __enter__(self):
        Interrupts.depth += 1

    def __exit__(self, exc_type, _exc, _tb):
        Interrupts.depth -= 1
        if (
            self.deliver
            and Interrupts.depth == 0
            and Interrupts.pending
            and Interrupts.executing
            and exc_type is None
        ):
            Interrupts.pending = False
            raise KeyboardInterrupt
        return False
