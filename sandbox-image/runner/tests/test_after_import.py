import os
import sys
import tempfile
import unittest

from runner.after_import import after_import

from .support import quiet_diagnostics


class AfterImportTest(unittest.TestCase):
    def setUp(self):
        self.site = tempfile.TemporaryDirectory()
        sys.path.insert(0, self.site.name)
        self.names = []

    def tearDown(self):
        sys.path.remove(self.site.name)
        for name in self.names:
            sys.modules.pop(name, None)
        self.site.cleanup()

    def module(self, name, body="value = 1\n"):
        self.names.append(name)
        with open(os.path.join(self.site.name, name + ".py"), "w") as source:
            source.write(body)
        return name

    def test_the_hook_sees_the_module_before_the_importer_does(self):
        name = self.module("sandbot_probe_a")
        after_import(name, lambda module: setattr(module, "value", 2))
        module = __import__(name)
        self.assertEqual(module.value, 2)
        # The module keeps its real loader: its source stays readable (tracebacks, inspect).
        self.assertIn("value = 1", module.__loader__.get_source(name))
        self.assertIs(module.__spec__.loader, module.__loader__)

    def test_each_hook_runs_once_even_after_a_reload(self):
        name = self.module("sandbot_probe_b")
        calls = []
        after_import(name, calls.append)
        after_import(name, calls.append)
        module = __import__(name)
        __import__("importlib").reload(module)
        self.assertEqual(len(calls), 2)

    def test_a_module_already_imported_is_adjusted_at_once(self):
        name = self.module("sandbot_probe_c")
        module = __import__(name)
        after_import(name, lambda m: setattr(m, "value", 3))
        self.assertEqual(module.value, 3)

    def test_a_failing_hook_does_not_fail_the_import(self):
        name = self.module("sandbot_probe_d")

        def broken(_module):
            raise RuntimeError("hook")

        after_import(name, broken)
        with quiet_diagnostics():
            module = __import__(name)
        self.assertEqual(module.value, 1)


if __name__ == "__main__":
    unittest.main()
