"""Installs wheels the worker fetched from the operator's index (issue 18): `install {id,
wheels: [names]}` names files the worker wrote to the wheels area with `write_file`. pip
runs offline (--no-index: the sandbox has no network anyway, and nothing may be fetched or
built) into a per-session directory that joins sys.path at its end, so the image's own
packages keep precedence and its system site is never written. The answer is one
`installed` frame: what is now importable, with versions, or an error."""

import importlib
import os
import re
import subprocess
import sys

from .checkpoint_format import WHEELS_DIR
from .diagnostics import diag

TARGET_DIR = "/tmp/sandbot-packages"
MAX_WHEELS = 200
MAX_ERROR_CHARS = 2000
PIP_TIMEOUT_S = 300
_WHEEL = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._]*)-([A-Za-z0-9.!+_]+)(?:-[0-9][^-]*)?-[^-]+-[^-]+-[^-]+\.whl$")


def _normalise(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _wheel_paths(wheels):
    """The wheels' paths, or a reason the request cannot be honoured."""
    if not isinstance(wheels, list) or not wheels or len(wheels) > MAX_WHEELS:
        return None, "the request names no wheels, or too many"
    paths = []
    for name in wheels:
        if not isinstance(name, str) or "/" in name or _WHEEL.match(name) is None:
            return None, "%r is not a wheel file name" % (str(name)[:100],)
        path = os.path.join(WHEELS_DIR, name)
        if not os.path.isfile(path):
            return None, "%s was not uploaded" % name
        paths.append(path)
    return paths, None


def _installed(wheels):
    """(name, version) of each wheel whose dist-info is now in the target directory."""
    present = set()
    try:
        for entry in os.listdir(TARGET_DIR):
            if entry.endswith(".dist-info"):
                present.add(_normalise(entry[: -len(".dist-info")]))
    except OSError:
        return []
    found = []
    for name in wheels:
        match = _WHEEL.match(name)
        dist, version = match.group(1), match.group(2)
        if _normalise("%s-%s" % (dist, version)) in present:
            found.append({"name": _normalise(dist), "version": version})
    return found


def _tail(text):
    text = text.strip()
    return text if len(text) <= MAX_ERROR_CHARS else "..." + text[-MAX_ERROR_CHARS:]


def _run_pip(paths):
    """pip's failure output (bounded), or None when it installed everything."""
    command = [
        sys.executable, "-m", "pip", "install",
        "--no-index", "--no-deps", "--no-build-isolation", "--upgrade",
        "--disable-pip-version-check", "--no-cache-dir", "--no-input",
        "--target", TARGET_DIR,
    ] + paths
    environment = dict(os.environ, PIP_NO_INPUT="1", PIP_CONFIG_FILE=os.devnull)
    try:
        done = subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, text=True,
            errors="replace", timeout=PIP_TIMEOUT_S, env=environment, check=False,
        )
    except subprocess.TimeoutExpired:
        return "pip did not finish within %d s" % PIP_TIMEOUT_S
    except OSError as error:
        return "pip could not be started: %s" % error
    if done.returncode != 0:
        return _tail(done.stderr or done.stdout) or "pip exited with %d" % done.returncode
    return None


def _on_path():
    """The target joins sys.path once, at its end, and is importable at once."""
    if TARGET_DIR not in sys.path:
        sys.path.append(TARGET_DIR)
    importlib.invalidate_caches()


def install(frames, request):
    request_id = request["id"]
    wheels = request.get("wheels")
    paths, problem = _wheel_paths(wheels)
    answer = {"type": "installed", "id": request_id, "packages": []}
    if problem is None:
        problem = _run_pip(paths)
        for path in paths:  # /tmp is small: the unpacked copy is what stays
            try:
                os.unlink(path)
            except OSError:
                pass
        if problem is None or os.path.isdir(TARGET_DIR):
            _on_path()
        answer["packages"] = _installed(wheels) if problem is None else []
    if problem is not None:
        diag("install %s failed" % request_id)
        answer["error"] = problem
    frames.emit(answer)
