"""The process around the kernel: its age, its CPU budget, its heap."""

import math
import os
import time

from .diagnostics import diag


def process_age_s():
    """Seconds since the kernel started this process, so `startupMs` includes the
    interpreter's own start-up (clock-tick resolution). None when /proc cannot tell."""
    try:
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


def cpu_limit():
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


def set_thread_budget():
    """Before numpy is imported: thread pools sized to the host would thrash under a CPU
    quota. Values the container was started with win."""
    threads = str(cpu_limit())
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, threads)


def forget_own_import_path():
    """The image sets PYTHONPATH only so that `python3 -P -m runner` finds this package;
    user code and its subprocesses get the environment they had before the package."""
    os.environ.pop("PYTHONPATH", None)


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
