import os
import sys
import tempfile
import unittest
import zipfile

from runner import install as install_module
from runner.tests.support import quiet_diagnostics


class Frames:
    def __init__(self):
        self.sent = []

    def emit(self, frame):
        self.sent.append(frame)


def build_wheel(directory, name, version, body):
    """A minimal valid pure-Python wheel: the module, METADATA, WHEEL and RECORD."""
    dist = "%s-%s.dist-info" % (name, version)
    path = os.path.join(directory, "%s-%s-py3-none-any.whl" % (name, version))
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr("%s/__init__.py" % name, body)
        wheel.writestr(dist + "/METADATA",
                       "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version))
        wheel.writestr(dist + "/WHEEL",
                       "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        wheel.writestr(dist + "/RECORD", "")
    return os.path.basename(path)


class InstallTest(unittest.TestCase):
    def setUp(self):
        self.temp = tempfile.TemporaryDirectory()
        self.wheels = os.path.join(self.temp.name, "wheels")
        os.mkdir(self.wheels)
        self.target = os.path.join(self.temp.name, "site")
        self.saved = (install_module.WHEELS_DIR, install_module.TARGET_DIR, list(sys.path))
        install_module.WHEELS_DIR = self.wheels
        install_module.TARGET_DIR = self.target

    def tearDown(self):
        install_module.WHEELS_DIR, install_module.TARGET_DIR, sys.path[:] = self.saved
        sys.modules.pop("sbunit", None)
        self.temp.cleanup()

    def test_installs_a_wheel_offline_and_makes_it_importable_at_once(self):
        name = build_wheel(self.wheels, "sbunit", "1.2", "ANSWER = 42\n")
        frames = Frames()
        install_module.install(frames, {"type": "install", "id": "i1", "wheels": [name]})
        self.assertEqual(frames.sent, [{
            "type": "installed", "id": "i1",
            "packages": [{"name": "sbunit", "version": "1.2"}],
        }])
        import sbunit  # noqa: E402 -- installed just now
        self.assertEqual(sbunit.ANSWER, 42)
        self.assertEqual(sys.path[-1], self.target)
        self.assertFalse(os.listdir(self.wheels), "the uploaded wheel is removed")

    def test_refuses_names_that_are_not_uploaded_wheels(self):
        for wheels in ([], ["../etc/passwd"], ["x.tar.gz"], ["ghost-1.0-py3-none-any.whl"], "a"):
            frames = Frames()
            with quiet_diagnostics():
                install_module.install(frames, {"type": "install", "id": "i2", "wheels": wheels})
            self.assertEqual(frames.sent[0]["packages"], [])
            self.assertIn("error", frames.sent[0])

    def test_a_broken_wheel_is_an_error_with_pips_words(self):
        path = os.path.join(self.wheels, "broken-1.0-py3-none-any.whl")
        with open(path, "wb") as handle:
            handle.write(b"not a zip")
        frames = Frames()
        with quiet_diagnostics():
            install_module.install(frames, {"type": "install", "id": "i3",
                                            "wheels": ["broken-1.0-py3-none-any.whl"]})
        self.assertEqual(frames.sent[0]["packages"], [])
        self.assertTrue(frames.sent[0]["error"])
        self.assertLessEqual(len(frames.sent[0]["error"]), install_module.MAX_ERROR_CHARS + 3)


if __name__ == "__main__":
    unittest.main()
