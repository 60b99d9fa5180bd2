"""sandbot's sandbox runner: a persistent IPython kernel speaking newline-delimited JSON.

It is the main process of every sandbox container (under Docker's init). The protocol is
specified in docs/sandbox-protocol.md; in short: requests arrive on the container's stdin,
events leave on its stdout, and both are private descriptors duplicated at start-up, so
nothing user code prints (not even a subprocess writing to fd 1) can corrupt a frame.

User code runs in this very process, so the runner's own machinery defends itself: every
request is handled inside a try/except, SIGINT cannot cut a frame in half, and whatever goes
wrong, each `execute` ends with exactly one `done`.
"""

import time

_T0 = time.perf_counter()


def _process_age_s():
    """Seconds since the kernel started this process, so `startupMs` includes the
    interpreter's own start-up (clock-tick resolution). None when /proc cannot tell."""
    try:
        import os

        with open("/proc/self/stat", "rb") as stat_file:
            raw = stat_file.read()
        # Fields after the command name, which is in parentheses and may contain spaces;
        # the process start time is field 22 of the whole line, index 19 of this part.
        fields = raw[raw.rindex(b")") + 2:].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")
        age = time.clock_gettime(time.CLOCK_BOOTTIME) - started
        return age if 0 <= age < 600 else None
    except Exception:
        return None


_AGE_AT_T0 = _process_age_s()

import base64  # noqa: E402
import codecs  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import select  # noqa: E402
import signal  # noqa: E402
import stat  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import warnings  # noqa: E402

DATA_DIR = "/mnt/data"
DEFAULT_OUTPUT_LIMIT = 1024 * 1024
# How long to wait for the reader threads to confirm they drained a pipe. Normally well
# under a millisecond; the bound only matters when the worker stops reading our stdout.
SYNC_TIMEOUT_S = 2.0
# Bounds of the /mnt/data walk after every cell: it must stay cheap whatever a cell did.
MAX_SCAN_ENTRIES = 1000
MAX_SCAN_DEPTH = 8
# The worker refuses frames above 64 Mi characters; stay well below with one display.
MAX_DISPLAY_CHARS = 32 * 1024 * 1024
MAX_TRACEBACK_CHARS = 100_000
MAX_REQUEST_BYTES = 64 * 1024 * 1024
IDLE_TRIM_S = 1.0
# The mime types of the protocol, in the order a client would prefer them.
ALLOWED_MIMES = (
    "text/plain",
    "text/html",
    "text/markdown",
    "image/png",
    "image/jpeg",
    "image/svg+xml",
    "application/json",
)
BINARY_MIMES = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
ANSI = re.compile(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
RUNNER_PID = os.getpid()


# --- Thread budget ---------------------------------------------------------------------------
def _cpu_limit():
    """CPUs this container may really use: the affinity mask, capped by the cgroup quota
    (Docker's --cpus), which BLAS and OpenMP do not look at by themselves."""
    cpus = len(os.sched_getaffinity(0))
    quota = None
    try:
        with open("/sys/fs/cgroup/cpu.max") as f:  # cgroup v2: "max 100000" or "150000 100000"
            limit, period = f.read().split()
            if limit != "max":
                quota = int(limit) / int(period)
    except (OSError, ValueError):
        for base in ("/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"):
            try:
                with open(base + "/cpu.cfs_quota_us") as f:
                    limit = int(f.read())
                with open(base + "/cpu.cfs_period_us") as f:
                    period = int(f.read())
                if limit > 0 and period > 0:
                    quota = limit / period
                break
            except (OSError, ValueError):
                continue
    if quota is not None:
        cpus = min(cpus, max(1, math.ceil(quota)))
    return max(1, cpus)


# Before numpy is imported: thread pools sized to the host would thrash under a CPU quota.
_threads = str(_cpu_limit())
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, _threads)


# --- Descriptors -----------------------------------------------------------------------------
# os.dup returns non-inheritable descriptors (PEP 446), so subprocesses never get these.
PROTO_IN = os.dup(0)
PROTO_OUT = os.dup(1)
DIAG = os.dup(2)  # the container's stderr: the runner's own diagnostics, for logs
_devnull = os.open(os.devnull, os.O_RDONLY)
os.dup2(_devnull, 0)  # user code never reads our requests
os.close(_devnull)


def _make_pipe(target_fd):
    """A pipe whose write end becomes `target_fd` (inheritable, as fd 1 and 2 must be).
    The runner keeps a private copy of the write end: sync markers go through it, so they
    arrive even if user code points fd 1 elsewhere, and fd 1 can be restored from it."""
    read_end, write_end = os.pipe()
    try:
        import fcntl

        fcntl.fcntl(write_end, 1031, 1024 * 1024)  # F_SETPIPE_SZ: fewer wake-ups on floods
    except OSError:
        pass  # over /proc/sys/fs/pipe-max-size; the default 64 KiB works too
    os.dup2(write_end, target_fd)
    return read_end, write_end


_out_r, _out_w = _make_pipe(1)
_err_r, _err_w = _make_pipe(2)


def _text_writer(fd):
    # Line-buffered like a terminal: one write (and usually one event) per line. Buffered
    # underneath, because a raw FileIO may write only part of a large chunk to a pipe.
    raw = io.FileIO(fd, "w", closefd=False)
    return io.TextIOWrapper(
        io.BufferedWriter(raw), encoding="utf-8", errors="backslashreplace", line_buffering=True
    )


STDOUT = sys.stdout = _text_writer(1)
STDERR = sys.stderr = _text_writer(2)


def diag(message):
    try:
        os.write(DIAG, ("runner: %s\n" % message).encode("utf-8", "replace"))
    except OSError:
        pass


def _excepthook(etype, value, tb):
    """A fault during start-up goes to the container's stderr, where the worker logs it;
    sys.stderr is the capture pipe by now, and nobody reads that before the first cell."""
    import traceback

    diag("".join(traceback.format_exception(etype, value, tb)).rstrip())


sys.excepthook = _excepthook


def restore_std_fds():
    """Points fds 1 and 2 back at the capture pipes if user code closed or redirected them."""
    for fd, write_end in ((1, _out_w), (2, _err_w)):
        try:
            current = os.fstat(fd)
            ours = os.fstat(write_end)
            if (current.st_dev, current.st_ino) == (ours.st_dev, ours.st_ino):
                continue
        except OSError:
            pass
        try:
            os.dup2(write_end, fd)
        except OSError as error:
            diag("could not restore fd %d: %s" % (fd, error))


# --- Frames ----------------------------------------------------------------------------------
_emit_lock = threading.Lock()


def _plain(value, depth=0):
    """A JSON-safe copy of `value`: strings for unknown types, null for NaN and infinities."""
    if depth > 20:
        return None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, depth + 1) for v in value]
    return str(value)


def _encode(event):
    # ASCII-only JSON: no character, not even U+2028, can break the line framing.
    try:
        text = json.dumps(event, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        text = json.dumps(_plain(event), ensure_ascii=True, separators=(",", ":"))
    return (text + "\n").encode("ascii")


def _write_frame(event):
    """Writes one frame; the caller holds _emit_lock."""
    if os.getpid() != RUNNER_PID:
        return  # a forked child of user code (multiprocessing) never speaks the protocol
    view = memoryview(_encode(event))
    while view:
        try:
            written = os.write(PROTO_OUT, view)
        except BrokenPipeError:
            # The worker is gone and nobody will ever read another frame.
            diag("stdout closed; exiting")
            os._exit(0)
        view = view[written:]


def emit(event):
    with _emit_lock:
        _write_frame(event)


# --- SIGINT ----------------------------------------------------------------------------------
class _Interrupts:
    """SIGINT raises KeyboardInterrupt only while a cell executes, and never inside a
    `protected` block (frame writing), where it is held back until the block ends."""

    executing = False
    depth = 0
    pending = False


def _on_sigint(_signum, _frame):
    if not _Interrupts.executing:
        return  # idle, or the cell is already over: nothing to interrupt
    if _Interrupts.depth:
        _Interrupts.pending = True
        return
    raise KeyboardInterrupt


# Now, not after the imports: a SIGINT during start-up must not kill the kernel either.
signal.signal(signal.SIGINT, _on_sigint)


class protected:
    """Runs protocol work (main thread only) that a KeyboardInterrupt must not cut in half.
    An interrupt that arrived meanwhile is raised on exit, into the user code that called
    us (display(), plt.show()), unless `deliver` is false; then it stays pending and the
    cell is reported as interrupted."""

    def __init__(self, deliver=True):
        self.deliver = deliver

    def __enter__(self):
        _Interrupts.depth += 1

    def __exit__(self, exc_type, _exc, _tb):
        _Interrupts.depth -= 1
        if (
            self.deliver
            and _Interrupts.depth == 0
            and _Interrupts.pending
            and _Interrupts.executing
            and exc_type is None
        ):
            _Interrupts.pending = False
            raise KeyboardInterrupt
        return False


# --- Output capture --------------------------------------------------------------------------
class Cell:
    """The cell whose output is being captured, with its output budget (stream bytes)."""

    def __init__(self, cell_id, limit):
        self.id = cell_id
        self.limit = limit
        self.used = 0
        self.dropped = 0
        self.errors = 0  # error events sent
        self.lock = threading.Lock()

    def take(self, size):
        """How many of `size` bytes may still be forwarded; the rest counts as dropped."""
        with self.lock:
            allowed = max(0, min(size, self.limit - self.used))
            self.used += allowed
            self.dropped += size - allowed
            return allowed

    def drop(self, size):
        with self.lock:
            self.dropped += size


current_cell = None  # set and cleared under _emit_lock, so no event can follow `done`

# Sync markers: written into each pipe after a cell (and before a display) through the
# private write end; a reader thread that meets one has forwarded everything before it.
# The random part keeps ordinary output from ever looking like a marker.
SYNC_PREFIX = b"\x00\x1esandbot-sync-" + os.urandom(6).hex().encode() + b":"
SYNC_END = b"\x1e\x00"


class Capture(threading.Thread):
    """Drains one pipe (fd 1 or 2) and forwards what arrives as `stream` events."""

    def __init__(self, read_fd, write_fd, name):
        super().__init__(name="capture-" + name, daemon=True)
        self.read_fd = read_fd
        self.write_fd = write_fd
        self.stream_name = name
        self.decoder = None
        self.decoder_cell = None
        self.synced = threading.Condition()
        self.synced_upto = 0
        self.buffer = b""

    def forward(self, data):
        cell = current_cell
        if not data or cell is None:
            return  # output of background work between cells has no cell to go to
        if self.decoder_cell is not cell:
            # A fresh incremental decoder per cell: a character split across two reads is
            # joined, and a broken one becomes U+FFFD instead of an exception.
            self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
            self.decoder_cell = cell
        allowed = cell.take(len(data))
        if allowed:
            self.send(cell, self.decoder.decode(data[:allowed]))

    def finish_text(self):
        """At a marker: a dangling partial character is shown as U+FFFD, not carried on."""
        cell = self.decoder_cell
        if cell is not None and cell is current_cell:
            self.send(cell, self.decoder.decode(b"", final=True))
        self.decoder_cell = None

    def send(self, cell, text):
        if not text:
            return
        with _emit_lock:
            if cell is current_cell:  # never after that cell's `done`
                _write_frame({"type": "stream", "id": cell.id, "name": self.stream_name, "text": text})

    def consume(self, chunk):
        data = self.buffer + chunk
        self.buffer = b""
        while data:
            start = data.find(SYNC_PREFIX)
            if start == -1:
                # Hold back a tail that may be the beginning of a marker split across reads.
                keep = 0
                for k in range(min(len(data), len(SYNC_PREFIX) - 1), 0, -1):
                    if data.endswith(SYNC_PREFIX[:k]):
                        keep = k
                        break
                self.forward(data[: len(data) - keep])
                self.buffer = data[len(data) - keep:]
                return
            self.forward(data[:start])
            end = data.find(SYNC_END, start + len(SYNC_PREFIX))
            if end == -1:
                if len(data) - start > len(SYNC_PREFIX) + 24:
                    # Not one of our markers after all: pass the bytes on as output.
                    self.forward(data[start:start + 1])
                    data = data[start + 1:]
                    continue
                self.buffer = data[start:]  # the rest of the marker is still in the pipe
                return
            token = data[start + len(SYNC_PREFIX):end]
            data = data[end + len(SYNC_END):]
            if token.isdigit():
                self.finish_text()
                with self.synced:
                    self.synced_upto = max(self.synced_upto, int(token))
                    self.synced.notify_all()

    def run(self):
        while True:
            try:
                chunk = os.read(self.read_fd, 256 * 1024)
            except InterruptedError:
                continue
            except OSError as error:
                diag("capture %s stopped: %s" % (self.stream_name, error))
                return
            if not chunk:
                return
            try:
                self.consume(chunk)
            except Exception as error:  # never die: a dead reader would block user code
                self.buffer = b""
                diag("capture %s: %r" % (self.stream_name, error))

    def wait_for(self, number, timeout):
        with self.synced:
            return self.synced.wait_for(lambda: self.synced_upto >= number, timeout)


captures = (Capture(_out_r, _out_w, "stdout"), Capture(_err_r, _err_w, "stderr"))
for _capture in captures:
    _capture.start()
_sync_counter = 0


def sync_output():
    """Returns once everything written to fds 1 and 2 so far has been forwarded, so events
    keep the order in which output was produced."""
    global _sync_counter
    for writer in {id(w): w for w in (STDOUT, STDERR, sys.stdout, sys.stderr)}.values():
        try:
            writer.flush()
        except Exception:  # user code may have replaced or closed sys.stdout
            pass
    _sync_counter += 1
    marker = SYNC_PREFIX + str(_sync_counter).encode() + SYNC_END
    waiting = []
    for capture in captures:
        try:
            os.write(capture.write_fd, marker)  # < PIPE_BUF: atomic among other writers
            waiting.append(capture)
        except OSError as error:
            diag("could not sync %s: %s" % (capture.stream_name, error))
    deadline = time.monotonic() + SYNC_TIMEOUT_S
    for capture in waiting:
        if not capture.wait_for(_sync_counter, max(0.0, deadline - time.monotonic())):
            diag("output sync timed out on " + capture.stream_name)


# --- The data stack, imported before `ready` -------------------------------------------------
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


prepare_matplotlib_config()
import numpy  # noqa: E402,F401
import pandas  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

# Wide enough for a chat message, short enough that a big frame does not flood it.
pandas.set_option("display.max_rows", 60)
pandas.set_option("display.min_rows", 20)
pandas.set_option("display.max_columns", 30)
pandas.set_option("display.width", 120)
pandas.set_option("display.max_colwidth", 80)


def _import_ipython_core():
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


_import_ipython_core()
from IPython.core.displayhook import DisplayHook  # noqa: E402
from IPython.core.displaypub import DisplayPublisher  # noqa: E402
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402
from traitlets.config import Config  # noqa: E402


# --- Rich output -----------------------------------------------------------------------------
def _as_base64(value, magic):
    """Base64 text for an image value, which IPython hands over as bytes (matplotlib,
    Pillow) or as base64 text already (IPython.display.Image)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        value = bytes(value)
        if not value.startswith(magic):
            try:  # base64 in bytes form
                if base64.b64decode(value, validate=True).startswith(magic):
                    return value.decode("ascii")
            except ValueError:
                pass
        return base64.b64encode(value).decode("ascii")
    return str(value).replace("\n", "")


def clean_bundle(data):
    """The mime bundle of the protocol: known types only, every value a string."""
    bundle = {}
    for mime in ALLOWED_MIMES:
        value = data.get(mime) if isinstance(data, dict) else None
        if value is None:
            continue
        if mime in BINARY_MIMES:
            value = _as_base64(value, BINARY_MIMES[mime])
        elif mime == "application/json":
            try:
                value = value if isinstance(value, str) else json.dumps(value, allow_nan=False)
            except (TypeError, ValueError):
                value = json.dumps(_plain(value))
        elif isinstance(value, (bytes, bytearray)):
            value = bytes(value).decode("utf-8", "replace")
        elif not isinstance(value, str):
            value = str(value)
        bundle[mime] = value
    # Pillow offers every image as PNG and as JPEG; one copy is enough.
    if "image/png" in bundle:
        bundle.pop("image/jpeg", None)
    return bundle


def send_display(kind, data, metadata):
    cell = current_cell
    if cell is None or os.getpid() != RUNNER_PID:
        return
    bundle = clean_bundle(data or {})
    if not bundle:
        return
    size = sum(len(v) for v in bundle.values())
    if size > MAX_DISPLAY_CHARS:
        # One giant image or table: keep a short text form and count the rest as dropped.
        text = bundle.get("text/plain", "")[:4096] or "<output too large to show>"
        cell.drop(size - len(text))
        bundle = {"text/plain": text}
    metadata = _plain(metadata) if isinstance(metadata, dict) else {}
    with protected():
        sync_output()  # output printed before this display reaches the worker before it
        emit({"type": "display", "id": cell.id, "kind": kind, "data": bundle, "metadata": metadata})


class ProtocolDisplayHook(DisplayHook):
    """The last expression of a cell becomes an `execute_result` event."""

    def write_output_prompt(self):
        pass  # no "Out[n]:" on stdout

    def write_format_data(self, format_dict, md_dict=None):
        send_display("execute_result", format_dict, md_dict)

    def finish_displayhook(self):
        pass


class ProtocolDisplayPublisher(DisplayPublisher):
    """`display()` calls become `display_data` events."""

    def publish(self, data, metadata=None, *args, **kwargs):
        send_display("display_data", data, metadata)

    def clear_output(self, wait=False):
        pass  # nothing to clear in a chat thread


def figure_png(figure):
    """PNG bytes of a figure, or None for an empty one (as Jupyter skips those)."""
    if not figure.axes and not figure.lines and not figure.images and not figure.texts:
        return None
    buffer = io.BytesIO()
    # The figure's own dpi (default 100), within bounds: a dpi=600 figure would make a
    # 4000-pixel PNG nobody can read in a chat message.
    dpi = min(max(float(figure.dpi or 100), 50.0), 200.0)
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


def show_figure(figure):
    png = figure_png(figure)
    if png is not None:
        send_display("display_data", {"image/png": png, "text/plain": repr(figure)}, {})


def flush_figures(*_args, **_kwargs):
    """plt.show() and the end of every cell: each open figure becomes an image event and
    is closed, so the next cell does not show it again."""
    try:
        for number in plt.get_fignums():
            try:
                show_figure(plt.figure(number))
            except KeyboardInterrupt:
                raise
            except Exception as error:  # one broken figure must not hide the others
                print("could not render figure %s: %s" % (number, error), file=sys.stderr)
    finally:
        plt.close("all")


def _figure_show(self, *_args, **_kwargs):
    """Figure.show(): on Agg it only warns; here it shows that one figure and closes it."""
    show_figure(self)
    plt.close(self)


plt.show = flush_figures
Figure.show = _figure_show


# --- The shell -------------------------------------------------------------------------------
config = Config()
config.HistoryManager.enabled = False  # no sqlite history on disk (read-only root anyway)
config.HistoryManager.hist_file = ":memory:"
config.InteractiveShell.colors = "NoColor"
shell = InteractiveShell.instance(
    config=config,
    displayhook_class=ProtocolDisplayHook,
    display_pub_class=ProtocolDisplayPublisher,
)
shell.display_formatter.formatters["image/png"].for_type(Figure, figure_png)
# The base shell has no GUI loop to enable; without this `%matplotlib inline`, which models
# write out of habit, fails with NotImplementedError. Figures are captured regardless.
shell.enable_gui = lambda gui=None: None


def _matplotlib_magic(line=""):
    """%matplotlib [inline|...]: accepted and ignored; figures are always captured as PNG."""


_config_magic = shell.find_line_magic("config")


def _config_magic_tolerant(line=""):
    """%config InlineBackend.figure_format = ... is notebook habit; there is no inline
    backend here, so those lines are accepted and ignored. Others work as usual."""
    if line.strip().startswith("InlineBackend"):
        return None
    return _config_magic(line)


try:
    # Straight into the registry: register_magic_function would setattr on UserMagics,
    # where `config` is a traitlets attribute and refuses a function.
    shell.magics_manager.magics["line"]["matplotlib"] = _matplotlib_magic
    if _config_magic is not None:
        shell.magics_manager.magics["line"]["config"] = _config_magic_tolerant
except Exception as _error:
    diag("could not install the notebook-habit magics: %r" % (_error,))


def _clean_lines(entries):
    text = "\n".join(ANSI.sub("", str(entry)) for entry in entries)
    if len(text) > MAX_TRACEBACK_CHARS:
        half = MAX_TRACEBACK_CHARS // 2
        text = text[:half] + "\n[... traceback shortened ...]\n" + text[-half:]
    return text.split("\n")


def send_error(ename, evalue, traceback_lines):
    cell = current_cell
    if cell is None or os.getpid() != RUNNER_PID:
        return
    cell.errors += 1
    with protected(deliver=False):  # the cell is failing anyway; see execute()
        sync_output()
        emit({
            "type": "error",
            "id": cell.id,
            "ename": ename,
            "evalue": evalue[:MAX_TRACEBACK_CHARS],
            "traceback": traceback_lines,
        })


def _show_traceback(etype, evalue, stb):
    """Replaces InteractiveShell._showtraceback: the traceback goes out as an `error` event
    (clean lines, no colour codes) instead of being printed."""
    entries = stb if isinstance(stb, (list, tuple)) else [stb]
    send_error(getattr(etype, "__name__", str(etype)), _safe_str(evalue), _clean_lines(entries))


def _show_usage_error(exc):
    """A mistyped magic is an error of the cell, not just a line on stderr."""
    send_error("UsageError", _safe_str(exc), ["UsageError: %s" % _safe_str(exc)])


def _safe_str(value):
    try:
        return str(value)
    except Exception:
        return "<unprintable %s>" % type(value).__name__


shell._showtraceback = _show_traceback
shell.show_usage_error = _show_usage_error
# IPython catches SystemExit and adds a warning meant for terminal users; the error says it.
warnings.filterwarnings("ignore", message="To exit: use 'exit', 'quit', or Ctrl-D.")


def _no_input(prompt=""):
    raise EOFError(
        "input() is not available: the code runs unattended with no keyboard; "
        "set the value in the code instead"
    )


import builtins  # noqa: E402

builtins.input = _no_input  # stdin is /dev/null; this says why instead of a bare EOFError


def _warm_up():
    """Pays now for what the first real cell would: IPython's compile path and a
    DataFrame's HTML (a few ms, no lasting memory). Left out on purpose, because every
    idle session would carry their memory: a figure render (~3 MB, saves the first plot
    ~10 ms, as pyplot's import already loaded the fonts) and the traceback formatter
    (~2 MB, saves the first error ~25 ms)."""
    shell.run_cell("1", store_history=False, silent=True)
    shell.display_formatter.format(pandas.DataFrame({"a": [1]}))


try:
    _warm_up()
except Exception as _error:  # only a cost, never a reason not to start
    diag("warm-up failed: %r" % (_error,))


# --- Files -----------------------------------------------------------------------------------
def scan_files():
    """Regular files under /mnt/data: path -> (size, mtime, inode). lstat only, so symlinks
    are never followed (nor listed); the walk is bounded in entries and depth."""
    found = {}
    seen = 0
    stack = [("", 0)]
    while stack:
        relative, depth = stack.pop()
        try:
            entries = os.scandir(os.path.join(DATA_DIR, relative) if relative else DATA_DIR)
        except OSError:
            continue
        with entries:
            for entry in entries:
                seen += 1
                if seen > MAX_SCAN_ENTRIES:
                    return found
                path = relative + "/" + entry.name if relative else entry.name
                try:
                    path.encode("utf-8")  # a name that is not UTF-8 cannot be reported
                    info = entry.stat(follow_symlinks=False)
                except (OSError, UnicodeEncodeError):
                    continue
                if stat.S_ISDIR(info.st_mode):
                    if depth + 1 < MAX_SCAN_DEPTH:
                        stack.append((path, depth + 1))
                elif stat.S_ISREG(info.st_mode):
                    found[path] = (info.st_size, info.st_mtime_ns, info.st_ino)
    return found


snapshot = scan_files()


def changed_files():
    """New or changed regular files since the last snapshot, which becomes this scan."""
    global snapshot
    current = scan_files()
    changed = [
        {"path": path, "size": meta[0]}
        for path, meta in sorted(current.items())
        if snapshot.get(path) != meta
    ]
    snapshot = current
    return changed


# --- Requests --------------------------------------------------------------------------------
def _output_limit(value):
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return DEFAULT_OUTPUT_LIMIT
    return max(0, int(value))


def execute(request):
    global current_cell
    cell = Cell(request["id"], _output_limit(request.get("outputLimitBytes")))
    started = time.perf_counter()
    status = "ok"
    execution_count = shell.execution_count
    try:
        restore_std_fds()
        # User code may have installed its own SIGINT handler in an earlier cell.
        signal.signal(signal.SIGINT, _on_sigint)
        with _emit_lock:
            current_cell = cell
        _Interrupts.pending = False
        result = None
        try:
            _Interrupts.executing = True
            try:
                result = shell.run_cell(request["code"], store_history=True)
            finally:
                _Interrupts.executing = False
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
                    import traceback

                    lines = traceback.format_exception(type(error), error, error.__traceback__)
                    send_error(type(error).__name__, _safe_str(error), _clean_lines(lines))
        if _Interrupts.pending:
            status = "interrupted"  # SIGINT came while the error was being reported
        if status == "interrupted" and not cell.errors:
            send_error("KeyboardInterrupt", "", ["KeyboardInterrupt"])
        flush_figures()
    except Exception as error:  # the runner's own fault; the kernel carries on
        diag("execute %s failed: %r" % (cell.id, error))
        status = "error" if status == "ok" else status
        send_error("RunnerError", _safe_str(error), ["RunnerError: %s" % _safe_str(error)])
    finally:
        _Interrupts.executing = False
        files = []
        try:
            sync_output()
            files = changed_files()
        except Exception as error:
            diag("after %s: %r" % (cell.id, error))
        with _emit_lock:
            current_cell = None
            _write_frame({
                "type": "done",
                "id": cell.id,
                "status": status,
                "executionCount": int(execution_count or 0),
                "durationMs": round((time.perf_counter() - started) * 1000, 3),
                "files": files,
                "truncatedBytes": cell.dropped,
            })


def handle(request):
    global snapshot
    kind = request.get("type")
    request_id = request.get("id")
    if not isinstance(request_id, str):
        diag("ignored a %r request without a string id" % (kind,))
    elif kind == "execute":
        if isinstance(request.get("code"), str):
            execute(request)
        else:
            diag("ignored execute %s without code" % request_id)
    elif kind == "snapshot":
        snapshot = scan_files()
        emit({"type": "snapshot", "id": request_id})
    elif kind == "ping":
        emit({"type": "pong", "id": request_id})
    else:
        diag("ignored an unknown request type %r" % (kind,))


_libc = None


def release_memory():
    """Hands freed heap back to the kernel. glibc keeps freed memory for reuse, so a
    session that once built a big DataFrame would keep counting against its container's
    memory (and the worker's view of idle sessions) long after dropping it."""
    global _libc
    if _libc is False:
        return  # failed once; no point in failing after every cell
    try:
        if _libc is None:
            import ctypes

            _libc = ctypes.CDLL("libc.so.6")
        _libc.malloc_trim(0)
    except Exception as error:
        diag("malloc_trim failed: %r" % (error,))
        _libc = False


def read_requests(idle_exit_s):
    """Yields request lines; returns on EOF, or after `idle_exit_s` without a request (the
    worker sets SANDBOT_IDLE_EXIT_S so a container it lost track of ends by itself).
    Once a second of idleness follows a request, it releases freed memory: that way the
    trim never delays a cell."""
    buffer = bytearray()
    scanned = 0
    skipping = False  # inside a line that was too long
    trim_due = False
    last_request = time.monotonic()
    while True:
        newline = buffer.find(b"\n", scanned)
        if newline != -1:
            line = bytes(buffer[:newline])
            del buffer[: newline + 1]
            scanned = 0
            if skipping:
                skipping = False
            elif line.strip():
                yield line
                trim_due = True
                last_request = time.monotonic()
            continue
        scanned = len(buffer)
        if len(buffer) > MAX_REQUEST_BYTES:
            diag("ignored a request line longer than %d bytes" % MAX_REQUEST_BYTES)
            buffer.clear()
            scanned = 0
            skipping = True
        timeout = None
        if idle_exit_s is not None:
            timeout = max(0.0, last_request + idle_exit_s - time.monotonic())
        if trim_due:
            timeout = IDLE_TRIM_S if timeout is None else min(timeout, IDLE_TRIM_S)
        ready, _, _ = select.select([PROTO_IN], [], [], timeout)
        if not ready:
            if trim_due:
                trim_due = False
                release_memory()
                continue
            diag("no request for %s s; exiting" % idle_exit_s)
            return
        chunk = os.read(PROTO_IN, 1024 * 1024)
        if not chunk:
            return
        buffer += chunk


def main():
    try:
        idle_exit_s = float(os.environ.get("SANDBOT_IDLE_EXIT_S") or 0) or None
    except ValueError:
        idle_exit_s = None
    startup_s = time.perf_counter() - _T0 + (_AGE_AT_T0 or 0.0)
    emit({
        "type": "ready",
        "pythonVersion": sys.version.split()[0],
        "startupMs": round(startup_s * 1000, 1),
    })
    for line in read_requests(idle_exit_s):
        try:
            request = json.loads(line)
            if not isinstance(request, dict):
                raise ValueError("not a JSON object")
        except ValueError as error:
            diag("ignored a malformed request (%d bytes): %s" % (len(line), error))
            continue
        try:
            handle(request)
        except BaseException as error:  # the loop must outlive any fault of its own
            diag("request failed: %r" % (error,))


if __name__ == "__main__":
    _exit_code = 0
    try:
        main()
    except BaseException as _error:
        diag("exiting: %r" % (_error,))
        _exit_code = 1
    # No interpreter teardown: it could block on threads or user objects' finalizers.
    os._exit(_exit_code)
