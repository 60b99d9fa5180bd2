import base64
import os
import socket
import tempfile
import time
import types
import unittest

import dill

from runner.checkpoint import Checkpoints
from runner.checkpoint_save import TooLarge, save_namespace, saveable
from runner.copy_in import Uploads
from runner.restore import WHOLE_FILE, load_checkpoint, restore_request
from runner.tests.support import RecordingFrames


class Shell:
    """What the checkpoint code needs of IPython's shell."""

    def __init__(self, user_ns, hidden=None):
        self.user_ns = user_ns
        self.user_ns_hidden = hidden or {}


class Fixture(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.dir = tmp.name
        self.path = os.path.join(self.dir, "c.dill")

    def save(self, namespace, max_bytes=10**8, hidden=None):
        return save_namespace(dill, namespace, hidden or {}, self.path, max_bytes)

    def load(self, namespace):
        fd = os.open(self.path, os.O_RDONLY)
        try:
            return load_checkpoint(dill, fd, namespace)
        finally:
            os.close(fd)


class SaveTest(Fixture):
    def test_leaves_out_ipython_names_and_dunders_and_hidden_values(self):
        hidden_exit = object()
        namespace = {"In": [], "Out": {}, "_": 1, "__": 2, "_i": "", "_i3": "", "_7": 7,
                     "_oh": {}, "__name__": "__main__", "exit": hidden_exit,
                     "get_ipython": len, "x": 1, "_private": 2}
        names = [n for n, _ in saveable(namespace, {"exit": hidden_exit})]
        self.assertEqual(sorted(names), ["_private", "x"])

    def test_round_trip_keeps_shared_references_and_records_modules(self):
        shared = [1, 2]
        namespace = {"a": shared, "b": {"k": shared}, "os_alias": os, "path": os.path,
                     "f": lambda v: v + 1}
        manifest = self.save(namespace)
        self.assertEqual(manifest["modules"], {"os_alias": "os", "path": os.path.__name__})
        self.assertEqual(sorted(manifest["names"]), ["a", "b", "f"])
        self.assertEqual(manifest["notSaved"], [])
        self.assertEqual(manifest["size"], os.path.getsize(self.path))
        restored = {}
        names, not_restored = self.load(restored)
        self.assertEqual(not_restored, [])
        self.assertEqual(sorted(names), ["a", "b", "f", "os_alias", "path"])
        self.assertIs(restored["a"], restored["b"]["k"])
        self.assertIs(restored["os_alias"], os)
        self.assertEqual(restored["f"](1), 2)

    def test_names_what_cannot_be_pickled_and_saves_the_rest(self):
        sock = socket.socket()
        self.addCleanup(sock.close)
        namespace = {"conn": sock, "gen": (i for i in range(3)), "holder": {"s": sock},
                     "keep": [1]}
        manifest = self.save(namespace)
        self.assertEqual(manifest["names"], ["keep"])
        self.assertEqual(
            sorted((e["name"], e["reason"]) for e in manifest["notSaved"]),
            [("conn", "socket"), ("gen", "generator"), ("holder", "dict holding a socket")],
        )
        restored = {}
        self.assertEqual(self.load(restored), (["keep"], []))

    def test_functions_and_classes_of_the_kernel_are_saved_by_value(self):
        namespace = {}
        exec(
            "class Point:\n"
            "    def __init__(self, x): self.x = x\n"
            "def norm(p): return abs(p.x)\n"
            "origin = Point(-3)\n",
            {"__name__": "__main__"},
            namespace,
        )
        manifest = self.save({k: namespace[k] for k in ("Point", "norm", "origin")})
        self.assertEqual(sorted(manifest["names"]), ["Point", "norm", "origin"])
        restored = {}
        self.assertEqual(self.load(restored)[1], [])
        self.assertEqual(restored["norm"](restored["origin"]), 3)
        self.assertIsInstance(restored["origin"], restored["Point"])

    def test_too_large_past_the_limit(self):
        with self.assertRaises(TooLarge):
            self.save({"big": b"x" * 10000}, max_bytes=5000)

    def test_a_value_that_fails_to_load_is_named_and_the_others_load(self):
        class Fragile:
            def __reduce__(self):
                return (_fail_on_load, ())

        manifest = self.save({"a": 1, "bad": Fragile(), "c": "three"})
        self.assertEqual(sorted(manifest["names"]), ["a", "bad", "c"])
        restored = {}
        names, not_restored = self.load(restored)
        self.assertEqual(sorted(names), ["a", "c"])
        self.assertEqual([e["name"] for e in not_restored], ["bad"])
        self.assertIn("RuntimeError", not_restored[0]["reason"])
        self.assertEqual(restored, {"a": 1, "c": "three"})

    def test_a_module_that_cannot_be_imported_is_named(self):
        with open(self.path, "wb"):
            pass
        fake = types.ModuleType("no_such_module_here")
        self.save({"m": fake, "x": 1})
        restored = {}
        names, not_restored = self.load(restored)
        self.assertEqual(names, ["x"])
        self.assertEqual(not_restored[0]["name"], "m")


def _fail_on_load():
    raise RuntimeError("cannot come back")


class RestoreRequestTest(Fixture):
    def test_restores_into_the_shell_and_removes_the_file(self):
        self.save({"x": 41})
        frames = RecordingFrames()
        shell = Shell({})
        restore_request(frames, shell, {"id": "r1", "name": "c.dill"}, root=self.dir)
        self.assertEqual(frames.events, [
            {"type": "restored", "id": "r1", "restored": ["x"], "notRestored": []},
        ])
        self.assertEqual(shell.user_ns, {"x": 41})
        self.assertFalse(os.path.exists(self.path))

    def test_a_file_that_is_not_a_checkpoint_is_one_entry(self):
        with open(self.path, "wb") as f:
            f.write(b"not a checkpoint at all, but long enough to have a trailer")
        frames = RecordingFrames()
        restore_request(frames, Shell({}), {"id": "r1", "name": "c.dill"}, root=self.dir)
        self.assertEqual(frames.events[0]["restored"], [])
        self.assertEqual([e["name"] for e in frames.events[0]["notRestored"]], [WHOLE_FILE])


class CheckpointsTest(Fixture):
    def wait_for(self, frames, kind):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = [e for e in frames.events if e["type"] == kind]
            if found:
                return found[-1]
            time.sleep(0.01)
        self.fail("no %s in %r" % (kind, frames.events))

    def test_saves_in_a_forked_copy_then_reads_back_in_pieces(self):
        frames = RecordingFrames()
        checkpoints = Checkpoints(frames, Shell({"x": list(range(1000)), "os": os}),
                                  directory=self.dir)
        checkpoints.start({"type": "checkpoint", "id": "k1", "maxBytes": 10**6})
        self.assertEqual(frames.events[0]["type"], "checkpoint_started")
        self.assertGreaterEqual(frames.events[0]["forkMs"], 0)
        saved = self.wait_for(frames, "checkpoint_saved")
        self.assertEqual((saved["names"], saved["modules"]), (["x"], {"os": "os"}))
        content = b""
        for offset in range(0, saved["size"] + 1, 1000):
            frames.events.clear()
            checkpoints.send_piece({"id": "p", "checkpoint": "k1", "offset": offset,
                                    "maxBytes": 1000})
            content += b"".join(base64.b64decode(e["data"]) for e in frames.events
                                if e["type"] == "file_data")
            self.assertEqual(frames.events[-1]["type"], "file_end")
        with open(os.path.join(self.dir, "checkpoint-k1.dill"), "rb") as f:
            self.assertEqual(content, f.read())

    def test_too_large_keeps_nothing(self):
        frames = RecordingFrames()
        checkpoints = Checkpoints(frames, Shell({"x": b"y" * 100000}), directory=self.dir)
        checkpoints.start({"type": "checkpoint", "id": "k1", "maxBytes": 1000})
        failed = self.wait_for(frames, "checkpoint_failed")
        self.assertEqual(failed["reason"], "too_large")
        self.assertEqual(os.listdir(self.dir), [])

    def test_a_running_save_is_dropped_and_reaped(self):
        class Slow:
            def __reduce__(self):
                time.sleep(30)
                return (int, ())

        frames = RecordingFrames()
        checkpoints = Checkpoints(frames, Shell({"slow": Slow()}), directory=self.dir)
        checkpoints.start({"type": "checkpoint", "id": "k1", "maxBytes": 1000})
        pid = checkpoints.running.pid
        checkpoints.drop_running()
        self.assertEqual(frames.events[-1]["reason"], "dropped")
        with self.assertRaises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # already reaped
        time.sleep(0.1)
        self.assertEqual([e["type"] for e in frames.events],
                         ["checkpoint_started", "checkpoint_failed"])

    def test_a_newer_save_supersedes_the_older_file_and_drop_removes_it(self):
        frames = RecordingFrames()
        checkpoints = Checkpoints(frames, Shell({"x": 1}), directory=self.dir)
        checkpoints.start({"type": "checkpoint", "id": "k1", "maxBytes": 10**6})
        self.wait_for(frames, "checkpoint_saved")
        frames.events.clear()
        checkpoints.start({"type": "checkpoint", "id": "k2", "maxBytes": 10**6})
        self.wait_for(frames, "checkpoint_saved")
        self.assertEqual(os.listdir(self.dir), ["checkpoint-k2.dill"])
        checkpoints.drop({"id": "d1"})
        self.assertEqual(os.listdir(self.dir), [])
        self.assertEqual(frames.events[-1], {"type": "checkpoint_dropped", "id": "d1"})


class UploadAreasTest(unittest.TestCase):
    def test_private_areas_and_unknown_ones(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        data, restore = os.path.join(tmp.name, "data"), os.path.join(tmp.name, "r", "restore")
        os.mkdir(data)
        frames = RecordingFrames()
        uploads = Uploads(frames, root=data, private_areas={"checkpoint": restore})
        for request_id, area in (("u1", "checkpoint"), ("u2", "nowhere"), ("u3", None)):
            request = {"type": "write_file", "id": request_id, "name": "f", "offset": 0,
                       "final": True, "data": base64.b64encode(b"abc").decode("ascii")}
            if area is not None:
                request["area"] = area
            uploads.handle(request)
        self.assertEqual([("refused" in e) for e in frames.events], [False, True, False])
        self.assertEqual(os.stat(os.path.join(restore, "f")).st_mode & 0o777, 0o600)
        self.assertEqual(os.stat(restore).st_mode & 0o777, 0o700)
        self.assertTrue(os.path.exists(os.path.join(data, "f")))


if __name__ == "__main__":
    unittest.main()
