import base64
import os
import tempfile
import unittest

from runner.copy_in import Uploads
from runner.tests.support import RecordingFrames, quiet_diagnostics


def chunk(request_id, name, data, offset, final):
    return {
        "type": "write_file",
        "id": request_id,
        "name": name,
        "data": base64.b64encode(data).decode("ascii"),
        "offset": offset,
        "final": final,
    }


class UploadsTest(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.root = tmp.name
        outside = tempfile.TemporaryDirectory()
        self.addCleanup(outside.cleanup)
        self.target = os.path.join(outside.name, "target")
        with open(self.target, "wb") as f:
            f.write(b"original")
        self.frames = RecordingFrames()
        self.uploads = Uploads(self.frames, root=self.root)

    def upload(self, request_id, name, *parts):
        offset = 0
        for i, part in enumerate(parts):
            with quiet_diagnostics():
                self.uploads.handle(chunk(request_id, name, part, offset, i == len(parts) - 1))
            offset += len(part)

    def read(self, name):
        with open(os.path.join(self.root, name), "rb") as f:
            return f.read()

    def test_writes_the_chunks_in_order_and_answers_once(self):
        self.upload("u1", "data.csv", b"a,b\n", b"1,2\n")
        self.assertEqual(self.read("data.csv"), b"a,b\n1,2\n")
        self.assertEqual(self.frames.events, [{"type": "file_written", "id": "u1", "size": 8}])
        self.assertEqual(sorted(os.listdir(self.root)), ["data.csv"])  # no temp file left

    def test_replaces_a_planted_symlink_instead_of_following_it(self):
        os.symlink(self.target, os.path.join(self.root, "in.txt"))
        self.upload("u1", "in.txt", b"uploaded")
        self.assertFalse(os.path.islink(os.path.join(self.root, "in.txt")))
        self.assertEqual(self.read("in.txt"), b"uploaded")
        with open(self.target, "rb") as f:
            self.assertEqual(f.read(), b"original")

    def test_refuses_names_that_are_not_plain(self):
        for name in ("../x", "a/b", "", ".", "..", None):
            self.frames.events.clear()
            self.upload("u-%r" % (name,), name, b"x", b"y")
            self.assertEqual(len(self.frames.events), 1)
            self.assertIn("refused", self.frames.events[0])
        self.assertEqual(os.listdir(self.root), [])

    def test_refuses_a_name_taken_by_a_directory_and_leaves_no_temp_file(self):
        os.mkdir(os.path.join(self.root, "d"))
        self.upload("u1", "d", b"x")
        self.assertIn("refused", self.frames.events[-1])
        self.assertEqual(os.listdir(self.root), ["d"])

    def test_a_new_upload_abandons_an_unfinished_one(self):
        with quiet_diagnostics():
            self.uploads.handle(chunk("u1", "a.txt", b"half", 0, False))
        self.upload("u2", "b.txt", b"whole")
        self.assertEqual(sorted(os.listdir(self.root)), ["b.txt"])


if __name__ == "__main__":
    unittest.main()
