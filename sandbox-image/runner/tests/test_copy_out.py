import base64
import os
import tempfile
import unittest

from runner.copy_out import send_file
from runner.tests.support import RecordingFrames


class SendFileTest(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.root = tmp.name
        outside = tempfile.TemporaryDirectory()
        self.addCleanup(outside.cleanup)
        self.outside = outside.name
        with open(os.path.join(self.outside, "secret"), "wb") as f:
            f.write(b"secret bytes")

    def write(self, path, data):
        full = os.path.join(self.root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)

    def send(self, path, max_bytes=1024, chunk_bytes=1000):
        frames = RecordingFrames()
        send_file(frames, "r1", path, max_bytes, root=self.root, chunk_bytes=chunk_bytes)
        chunks = [e["data"] for e in frames.events if e["type"] == "file_data"]
        data = b"".join(base64.b64decode(chunk) for chunk in chunks)
        end = frames.events[-1]
        self.assertEqual(end["type"], "file_end")
        self.assertEqual([e["type"] for e in frames.events].count("file_end"), 1)
        self.assertTrue(all(e["id"] == "r1" for e in frames.events))
        return data, end

    def test_sends_a_regular_file_in_chunks(self):
        self.write("out/a.bin", bytes(range(256)) * 10)
        data, end = self.send("out/a.bin", max_bytes=4096)
        self.assertEqual(data, bytes(range(256)) * 10)
        self.assertEqual(end, {"type": "file_end", "id": "r1", "size": 2560})

    def test_an_empty_file_is_a_file(self):
        self.write("empty.txt", b"")
        self.assertEqual(self.send("empty.txt"), (b"", {"type": "file_end", "id": "r1", "size": 0}))

    def test_refuses_a_symlink_to_a_file(self):
        os.symlink(os.path.join(self.outside, "secret"), os.path.join(self.root, "link"))
        data, end = self.send("link")
        self.assertEqual(data, b"")
        self.assertIn("symbolic link", end["refused"])

    def test_refuses_a_symlinked_directory_on_the_path(self):
        os.symlink(self.outside, os.path.join(self.root, "dir"))
        data, end = self.send("dir/secret")
        self.assertEqual(data, b"")
        self.assertIn("symbolic link", end["refused"])

    def test_refuses_paths_that_leave_the_root(self):
        for path in ("../secret", "/etc/passwd", "a//b", "./a", "", None, 3):
            data, end = self.send(path)
            self.assertEqual(data, b"")
            self.assertIn("refused", end)

    def test_refuses_what_is_not_a_regular_file(self):
        os.mkfifo(os.path.join(self.root, "pipe"))  # must not hang the runner
        os.mkdir(os.path.join(self.root, "d"))
        self.assertIn("named pipe", self.send("pipe")[1]["refused"])
        self.assertIn("directory", self.send("d")[1]["refused"])

    def test_refuses_a_file_over_the_limit_without_sending_it(self):
        self.write("big", b"x" * 2000)
        data, end = self.send("big", max_bytes=1000)
        self.assertEqual(data, b"")
        self.assertIn("larger than", end["refused"])

    def test_refuses_a_path_through_a_file(self):
        self.write("a.txt", b"a")
        self.assertIn("is a file", self.send("a.txt/b")[1]["refused"])

    def test_a_missing_file_is_named_as_such(self):
        self.assertEqual(self.send("gone.txt")[1]["refused"], "it no longer exists")


if __name__ == "__main__":
    unittest.main()
