import json
import os
import threading
import unittest
from unittest import mock

from runner import frames as frames_module
from runner.cell import Cell
from runner.frames import FrameWriter, encode, plain


class EncodeTest(unittest.TestCase):
    def test_one_ascii_line_per_frame(self):
        frame = encode({"type": "stream", "text": "caf\u00e9 \u2028 line\nnext \U0001F600"})
        self.assertTrue(frame.endswith(b"\n"))
        self.assertEqual(frame.count(b"\n"), 1)
        frame.decode("ascii")  # raises if any byte is not ASCII
        self.assertEqual(json.loads(frame)["text"], "caf\u00e9 \u2028 line\nnext \U0001F600")

    def test_compact_separators(self):
        self.assertEqual(encode({"a": 1, "b": [1, 2]}), b'{"a":1,"b":[1,2]}\n')

    def test_nan_and_infinity_become_null(self):
        frame = json.loads(encode({"x": float("nan"), "y": [float("inf"), 1.5]}))
        self.assertEqual(frame, {"x": None, "y": [None, 1.5]})

    def test_unknown_types_become_strings(self):
        frame = json.loads(encode({"x": Marker(), 3: b"raw"}))
        self.assertEqual(frame, {"x": "<marker>", "3": "b'raw'"})

    def test_plain_stops_at_depth(self):
        nested = []
        for _ in range(30):
            nested = [nested]
        depth = 0
        value = plain(nested)
        while isinstance(value, list) and value:
            value = value[0]
            depth += 1
        self.assertEqual(value, None)
        self.assertLessEqual(depth, 21)


class Marker:
    def __str__(self):
        return "<marker>"


class FrameWriterTest(unittest.TestCase):
    def setUp(self):
        self.read_fd, write_fd = os.pipe()
        self.writer = FrameWriter(write_fd)
        self.addCleanup(os.close, self.read_fd)
        self.addCleanup(os.close, write_fd)

    def frames(self):
        os.set_blocking(self.read_fd, False)
        try:
            data = os.read(self.read_fd, 1 << 20)
        except BlockingIOError:
            data = b""
        return [json.loads(line) for line in data.splitlines()]

    def test_cell_events_stop_at_done(self):
        cell = Cell("c1", 100)
        self.writer.open_cell(cell)
        self.writer.emit_for(cell, {"type": "stream", "id": "c1"})
        self.writer.close_cell({"type": "done", "id": "c1"})
        self.writer.emit_for(cell, {"type": "stream", "id": "c1", "late": True})
        self.assertEqual([f["type"] for f in self.frames()], ["stream", "done"])
        self.assertIsNone(self.writer.current_cell)

    def test_events_of_another_cell_are_dropped(self):
        self.writer.open_cell(Cell("now", 100))
        self.writer.emit_for(Cell("before", 100), {"type": "stream", "id": "before"})
        self.assertEqual(self.frames(), [])

    def test_a_forked_child_writes_nothing(self):
        self.writer.pid = os.getpid() + 1  # as seen from a child of the runner
        self.writer.emit({"type": "pong", "id": "p"})
        self.assertFalse(self.writer.in_runner())
        self.assertEqual(self.frames(), [])

    def test_a_child_forked_by_user_code_writes_nothing(self):
        child = os.fork()
        if child == 0:  # the runner's pid is remembered, not asked for at every frame
            self.writer.emit({"type": "pong", "id": "from-child"})
            os._exit(0 if not self.writer.in_runner() else 1)
        _pid, status = os.waitpid(child, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        self.assertEqual(self.frames(), [])
        self.assertTrue(self.writer.in_runner())

    def test_a_held_result_goes_out_with_the_next_frame_in_order(self):
        cell = Cell("c1", 100)
        self.writer.open_cell(cell)
        self.writer.hold_for(cell, {"type": "display", "id": "c1"})
        self.assertEqual(self.frames(), [])  # not yet: it waits for the next frame
        self.writer.close_cell({"type": "done", "id": "c1"})
        self.assertEqual([f["type"] for f in self.frames()], ["display", "done"])

    def test_a_held_result_precedes_later_output_of_its_cell(self):
        cell = Cell("c1", 100)
        self.writer.open_cell(cell)
        self.writer.hold_for(cell, {"type": "display", "id": "c1"})
        self.writer.emit_for(cell, {"type": "stream", "id": "c1"})
        self.assertEqual([f["type"] for f in self.frames()], ["display", "stream"])

    def test_only_small_events_of_the_current_cell_are_held(self):
        cell = Cell("c1", 100)
        self.writer.hold_for(cell, {"type": "display", "id": "c1"})  # no cell open: sent
        self.writer.open_cell(cell)
        with mock.patch.object(frames_module, "MAX_HELD_BYTES", 100):
            self.writer.hold_for(cell, {"type": "display", "id": "c1", "text": "x" * 100})
        self.assertEqual([f["type"] for f in self.frames()], ["display", "display"])

    def test_large_frames_arrive_whole(self):
        text = "x" * 300_000  # larger than a pipe's buffer is by default
        received = []

        def drain():
            chunks = []
            while True:
                chunk = os.read(self.read_fd, 65536)
                chunks.append(chunk)
                if chunk.endswith(b"\n"):
                    break
            received.append(json.loads(b"".join(chunks)))

        reader = threading.Thread(target=drain)
        reader.start()
        self.writer.emit({"type": "stream", "text": text})
        reader.join(10)
        self.assertEqual(received[0]["text"], text)


if __name__ == "__main__":
    unittest.main()
