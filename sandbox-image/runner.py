"""sandbot's sandbox runner: a persistent IPython kernel speaking newline-delimited JSON.

It is the main process of every sandbox container (under Docker's init). The protocol is
described in docs/sandbox-protocol.md. In short: requests arrive on the container's stdin,
events leave on its stdout, and both are private descriptors duplicated at start-up, so
nothing user code prints (not even a subprocess writing to fd 1) can corrupt a frame.
"""

import base64
import codecs
import io
import json
import os
import re
import select
import signal
import stat
import sys
import threading
import time

STARTED = time.perf_counter()
DATA_DIR = "/mnt/data"
DEFAULT_OUTPUT_LIMIT = 1024 * 1024
SYNC_TIMEOUT_S = 2.0
MAX_SCAN_ENTRIES = 2000
MAX_SCAN_DEPTH = 8
ALLOWED_MIMES = (
    "text/plain",
    "text/html",
    "text/markdown",
    "text/latex",
    "image/png",
    "image/jpeg",
    "image/svg+xml",
    "application/json",
)
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")

# --- Descriptors -------------------------------------------------------------------------
# os.dup returns non-inheritable descriptors (PEP 446): subprocesses never see these.
PROTO_IN = os.dup(0)
PROTO_OUT = os.dup(1)
DIAG = os.dup(2)
_devnull = os.open(os.devnull, os.O_RDONLY)
os.dup2(_devnull, 0)
os.close(_devnull)
_out_r, _out_w = os.pipe()
_err_r, _err_w = os.pipe()
os.dup2(_out_w, 1)
os.dup2(_err_w, 2)
os.close(_out_w)
os.close(_err_w)
# Python-level writers straight onto fds 1 and 2, unbuffered, so output order is kept.
sys.stdout = io.TextIOWrapper(
    io.FileIO(1, "w", closefd=False), encoding="utf-8", errors="backslashreplace",
    line_buffering=True, write_through=True,
)
sys.stderr = io.TextIOWrapper(
    io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace",
    line_buffering=True, write_through=True,
)

_emit_lock = threading.Lock()


def emit(event):
    """Writes one frame. ASCII-only JSON, so no character can break the line framing."""
    data = (json.dumps(event, ensure_ascii=True, separators=(",", ":")) + "\n").encode("ascii")
    with _emit_lock:
        view = memoryview(data)
        while view:
            written = os.write(PROTO_OUT, view)
            view = view[written:]


def diag(message):
    try:
        os.write(DIAG, ("runner: " + message + "\n").encode("utf-8", "replace"))
    except OSError:
        pass


# --- Output capture ------------------------------------------------------------------------
class Cell:
    """The cell whose output is being captured, with its output budget."""

    def __init__(self, cell_id, limit):
        self.id = cell_id
        self.limit = limit
        self.used = 0
        self.dropped = 0
        self.lock = threading.Lock()

    def take(self, size):
        """How many of `size` bytes may still be forwarded; the rest counts as dropped."""
        with self.lock:
            allowed = max(0, min(size, self.limit - self.used))
            self.used += allowed
            self.dropped += size - allowed
            return allowed


current_cell = None
SYNC_PREFIX = b"\x00\x1esandbot-sync:"
SYNC_END = b"\x1e\x00"


class Capture(threading.Thread):
    """Drains one pipe (fd 1 or 2) and forwards what arrives as `stream` events."""

    def __init__(self, fd, name):
        super().__init__(name="capture-" + name, daemon=True)
        self.fd = fd
        self.stream_name = name
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.synced = threading.Condition()
        self.last_sync = None

    def forward(self, data):
        cell = current_cell
        if not data or cell is None:
            return
        allowed = cell.take(len(data))
        if allowed <= 0:
            return
        text = self.decoder.decode(data[:allowed])
        if text:
            emit({"type": "stream", "id": cell.id, "name": self.stream_name, "text": text})

    def run(self):
        pending = b""
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except InterruptedError:
                continue
            if not chunk:
                return
            data = pending + chunk
            pending = b""
            while True:
                start = data.find(SYNC_PREFIX)
                if start == -1:
                    break
                end = data.find(SYNC_END, start + len(SYNC_PREFIX))
                if end == -1:
                    break
                self.forward(data[:start])
                token = data[start + len(SYNC_PREFIX):end]
                data = data[end + len(SYNC_END):]
                with self.synced:
                    self.last_sync = token
                    self.synced.notify_all()
            start = data.find(SYNC_PREFIX)
            if start != -1 and len(data) - start < 256:
                # A marker whose end has not arrived yet: hold it back for the next read.
                pending = data[start:]
                data = data[:start]
            else:
                # Hold back a tail that could be the start of a marker split across reads.
                for k in range(min(len(data), len(SYNC_PREFIX) - 1), 0, -1):
                    if data.endswith(SYNC_PREFIX[:k]):
                        pending = data[-k:]
                        data = data[:-k]
                        break
            self.forward(data)

    def wait_for(self, token, timeout):
        with self.synced:
            return self.synced.wait_for(lambda: self.last_sync == token, timeout)


captures = [Capture(_out_r, "stdout"), Capture(_err_r, "stderr")]
for _capture in captures:
    _capture.start()
_sync_counter = 0


def sync_output():
    """Waits until everything written to fds 1 and 2 so far has been forwarded, so that
    events keep the order in which output was produced."""
    global _sync_counter
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:  # a user may have replaced sys.stdout with anything
        pass
    _sync_counter += 1
    token = str(_sync_counter).encode()
    marker = SYNC_PREFIX + token + SYNC_END
    for fd, capture in ((1, captures[0]), (2, captures[1])):
        try:
            os.write(fd, marker)
        except OSError:
            continue
        if not capture.wait_for(token, SYNC_TIMEOUT_S):
            diag("output sync timed out on " + capture.stream_name)


# --- The data stack, imported before `ready` --------------------------------------------------
def prepare_matplotlib_config():
    """The image bakes the font cache into a read-only directory; matplotlib wants a writable
    one, so start from a copy in /tmp instead of rebuilding the cache."""
    target = "/tmp/.config/matplotlib"
    source = os.environ.get("SANDBOT_MPL_CACHE")
    if source and os.path.isdir(source) and not os.path.isdir(target):
        import shutil

        try:
            shutil.copytree(source, target)
        except OSError as error:
            diag("could not copy the matplotlib cache: %s" % error)
    os.makedirs(target, exist_ok=True)
    os.environ["MPLCONFIGDIR"] = target


prepare_matplotlib_config()
import numpy  # noqa: E402,F401
import pandas  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

pandas.set_option("display.max_rows", 60)
pandas.set_option("display.max_columns", 30)
pandas.set_option("display.width", 120)

from IPython.core.displayhook import DisplayHook  # noqa: E402
from IPython.core.displaypub import DisplayPublisher  # noqa: E402
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402
from traitlets.config import Config  # noqa: E402


def clean_bundle(data):
    bundle = {}
    for mime in ALLOWED_MIMES:
        if mime not in data:
            continue
        value = data[mime]
        if isinstance(value, (bytes, bytearray)):
            value = base64.b64encode(value).decode("ascii")
        elif mime == "application/json" and not isinstance(value, str):
            value = json.dumps(value, default=str)
        elif not isinstance(value, str):
            value = str(value)
        bundle[mime] = value
    return bundle


def send_display(kind, data, metadata):
    cell = current_cell
    if cell is None:
        return
    bundle = clean_bundle(data or {})
    if not bundle:
        return
    # Output printed before this display must reach the worker before it.
    sync_output()
    emit({"type": "display", "id": cell.id, "kind": kind, "data": bundle,
          "metadata": metadata if isinstance(metadata, dict) else {}})


class ProtocolDisplayHook(DisplayHook):
    """The last expression of a cell becomes an `execute_result` event."""

    def write_output_prompt(self):
        pass

    def write_format_data(self, format_dict, md_dict=None):
        send_display("execute_result", format_dict, md_dict)

    def finish_displayhook(self):
        pass


class ProtocolDisplayPublisher(DisplayPublisher):
    """`display()` calls become `display_data` events."""

    def publish(self, data, metadata=None, *args, **kwargs):
        send_display("display_data", data, metadata)

    def clear_output(self, wait=False):
        pass


def figure_png(figure):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()


def flush_figures(*_args, **_kwargs):
    """Turns every open figure into an image event and closes it (plt.show, end of cell)."""
    for number in plt.get_fignums():
        figure = plt.figure(number)
        try:
            send_display("display_data", {"image/png": figure_png(figure), "text/plain": repr(figure)}, {})
        except Exception as error:  # a broken figure must not break the kernel
            diag("could not render a figure: %s" % error)
    plt.close("all")


plt.show = flush_figures

config = Config()
config.HistoryManager.enabled = False
config.HistoryManager.hist_file = ":memory:"
shell = InteractiveShell.instance(
    config=config,
    displayhook_class=ProtocolDisplayHook,
    display_pub_class=ProtocolDisplayPublisher,
)
try:
    shell.colors = "NoColor"
except Exception:
    pass
shell.display_formatter.formatters["image/png"].for_type(Figure, figure_png)

last_error = []


def show_traceback(etype, evalue, stb):
    cell = current_cell
    lines = []
    for entry in stb if isinstance(stb, list) else [stb]:
        lines.extend(ANSI.sub("", str(entry)).split("\n"))
    name = getattr(etype, "__name__", str(etype))
    last_error.append(name)
    if cell is None:
        return
    sync_output()
    emit({"type": "error", "id": cell.id, "ename": name, "evalue": str(evalue), "traceback": lines})


shell._showtraceback = show_traceback

# Warm the paths the first real cell would otherwise pay for.
shell.run_cell("1", store_history=False, silent=True)
_warm = plt.figure()
plt.plot([0, 1])
figure_png(_warm)
plt.close("all")
del _warm


# --- Files -----------------------------------------------------------------------------------
def scan_files():
    """Regular files under /mnt/data with (size, mtime); symlinks are never followed."""
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
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if stat.S_ISDIR(info.st_mode):
                    if depth < MAX_SCAN_DEPTH:
                        stack.append((path, depth + 1))
                elif stat.S_ISREG(info.st_mode):
                    found[path] = (info.st_size, info.st_mtime_ns)
    return found


snapshot = scan_files()


# --- Requests --------------------------------------------------------------------------------
executing = False


def on_sigint(_signum, _frame):
    # Only a running cell is interrupted; SIGINT while idle (or late) is ignored.
    if executing:
        raise KeyboardInterrupt


signal.signal(signal.SIGINT, on_sigint)


def execute(request):
    global current_cell, executing, snapshot
    cell = Cell(str(request.get("id", "")), int(request.get("outputLimitBytes") or DEFAULT_OUTPUT_LIMIT))
    code = request.get("code", "")
    if not isinstance(code, str):
        code = ""
    current_cell = cell
    del last_error[:]
    started = time.perf_counter()
    status = "ok"
    execution_count = shell.execution_count
    try:
        try:
            executing = True
            result = shell.run_cell(code, store_history=True)
        finally:
            executing = False
        execution_count = result.execution_count or execution_count
        error = result.error_in_exec or result.error_before_exec
        if isinstance(error, KeyboardInterrupt):
            status = "interrupted"
        elif error is not None or last_error:
            status = "error"
        flush_figures()
    except KeyboardInterrupt:
        # SIGINT landed between user code and here; the cell is over either way.
        status = "interrupted"
    sync_output()
    current = scan_files()
    changed = [
        {"path": path, "size": size}
        for path, (size, mtime) in sorted(current.items())
        if snapshot.get(path) != (size, mtime)
    ]
    snapshot = current
    current_cell = None
    emit({
        "type": "done",
        "id": cell.id,
        "status": status,
        "executionCount": int(execution_count or 0),
        "durationMs": round((time.perf_counter() - started) * 1000, 3),
        "files": changed,
        "truncatedBytes": cell.dropped,
    })


def handle(request):
    global snapshot
    kind = request.get("type")
    if kind == "execute":
        execute(request)
    elif kind == "snapshot":
        snapshot = scan_files()
        emit({"type": "snapshot", "id": str(request.get("id", ""))})
    elif kind == "ping":
        emit({"type": "pong", "id": str(request.get("id", ""))})
    else:
        diag("unknown request type %r" % (kind,))


def requests(idle_exit_s):
    """Yields requests from the protocol descriptor; returns on EOF or after idling too long."""
    buffer = b""
    while True:
        newline = buffer.find(b"\n")
        if newline != -1:
            line, buffer = buffer[:newline], buffer[newline + 1:]
            if line.strip():
                yield line
            continue
        try:
            ready, _, _ = select.select([PROTO_IN], [], [], idle_exit_s)
        except InterruptedError:
            continue
        if not ready:
            diag("no request for %ss; exiting" % idle_exit_s)
            return
        chunk = os.read(PROTO_IN, 1 << 20)
        if not chunk:
            return
        buffer += chunk


def main():
    idle = os.environ.get("SANDBOT_IDLE_EXIT_S")
    idle_exit_s = float(idle) if idle else None
    emit({
        "type": "ready",
        "pythonVersion": sys.version.split()[0],
        "startupMs": round((time.perf_counter() - STARTED) * 1000, 1),
    })
    for line in requests(idle_exit_s):
        try:
            request = json.loads(line)
            if not isinstance(request, dict):
                raise ValueError("not an object")
        except ValueError as error:
            diag("ignored a malformed request: %s" % error)
            continue
        try:
            handle(request)
        except KeyboardInterrupt:
            continue
        except Exception as error:  # the loop must outlive any fault of its own
            diag("request failed: %r" % (error,))
            if request.get("type") == "execute":
                emit({"type": "done", "id": str(request.get("id", "")), "status": "error",
                      "executionCount": 0, "durationMs": 0, "files": [], "truncatedBytes": 0})


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
    os._exit(0)
