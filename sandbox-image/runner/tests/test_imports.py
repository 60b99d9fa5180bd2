import json
import os
import subprocess
import sys
import unittest

# Imports every module of the package in a fresh interpreter and reports what it touched.
PROBE = r"""
import json, os, signal, sys, threading
def state():
    return {
        "fds": sorted(os.listdir("/proc/self/fd")),
        "stdout": id(sys.stdout), "stderr": id(sys.stderr), "hook": id(sys.excepthook),
        "sigint": repr(signal.getsignal(signal.SIGINT)),
        "threads": threading.active_count(),
        "environ": dict(os.environ),
    }
before = state()
import importlib, pkgutil
import runner
for module in pkgutil.iter_modules(runner.__path__):  # __main__ included; it only defines main()
    importlib.import_module("runner." + module.name)
after = state()
heavy = sorted(name for name in ("numpy", "pandas", "matplotlib", "IPython") if name in sys.modules)
print(json.dumps({"same": before == after, "before": before, "after": after, "heavy": heavy}))
"""


class ImportTest(unittest.TestCase):
    def test_importing_the_package_has_no_side_effects(self):
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        result = subprocess.run(
            [sys.executable, "-c", PROBE],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": root},
            timeout=60,
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        report = json.loads(result.stdout)
        self.assertEqual(report["heavy"], [])
        self.assertEqual(report["before"], report["after"])


if __name__ == "__main__":
    unittest.main()
