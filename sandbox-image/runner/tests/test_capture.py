import os
import unittest

from runner.capture import SYNC_END, Capture, OutputSync, new_sync_prefix
from runner.cell import Cell, output_limit
from runner.limits import DEFAULT_OUTPUT_LIMIT
from runner.tests.support import RecordingFrames, quiet_diagnostics

PREFIX = new_sync_prefix()


def marker(number):
    return PREFIX + str(number).encode() + SYNC_END


def capture_for(cell, name="stdout"):
    frames = RecordingFrames(cell)
    return Capture(None, None, name, frames, PREFIX), frames


class CellBudgetTest(unittest.TestCase):
    def test_takes_until_the_limit_then_counts_drops(self):
        cell = Cell("c", 10)
        self.assertEqual(cell.take(4), 4)
        self.assertEqual(cell.take(8), 6)
        self.assertEqual(cell.take(5), 0)
        self.assertEqual((cell.used, cell.dropped), (10, 7))
        cell.drop(100)
        self.assertEqual(cell.dropped, 107)

    def test_displays_share_the_budget_with_a_text_form_when_too_large(self):
        cell = Cell("c", 100, max_displays=5, max_images=1)
        small = {"text/plain": "x" * 10}
        self.assertEqual(cell.fit_display(small), small)  # 20 bytes, mime type included
        big = {"text/plain": "t", "text/html": "h" * 500}
        self.assertEqual(cell.fit_display(big), {"text/plain": "t"})
        self.assertEqual((cell.used, cell.dropped), (31, 509))
        placeholder = {"text/plain": "<output too large to show>"}
        self.assertEqual(cell.fit_display({"text/html": "h" * 500}), placeholder)
        self.assertIsNone(cell.fit_display({"text/html": "h" * 500}))  # not even that fits now
        self.assertEqual((cell.displays, cell.used, cell.dropped_outputs), (3, 67, 0))

    def test_images_count_as_decoded_bytes_and_in_number(self):
        cell = Cell("c", 1000, max_displays=3, max_images=1)
        png = {"image/png": "A" * 400, "text/plain": "<Figure>"}
        self.assertEqual(cell.fit_display(png), png)  # 9 + 300 + 10 + 8 bytes
        self.assertEqual(cell.used, 327)
        self.assertEqual(cell.fit_display(png), {"text/plain": "<Figure>"})  # over the image cap
        self.assertEqual(cell.fit_display({"text/plain": "1"}), {"text/plain": "1"})
        self.assertIsNone(cell.fit_display({"text/plain": "2"}))  # over the display cap
        self.assertEqual(cell.dropped_outputs, 2)

    def test_output_limit_of_a_request(self):
        self.assertEqual(output_limit(None), DEFAULT_OUTPUT_LIMIT)
        self.assertEqual(output_limit(True), DEFAULT_OUTPUT_LIMIT)
        self.assertEqual(output_limit("5"), DEFAULT_OUTPUT_LIMIT)
        self.assertEqual(output_limit(2048.9), 2048)
        self.assertEqual(output_limit(-3), 0)


class ConsumeTest(unittest.TestCase):
    def test_forwards_text_as_stream_events_of_the_cell(self):
        capture, frames = capture_for(Cell("c1", 1000), "stderr")
        capture.consume(b"hello\n")
        self.assertEqual(
            frames.events, [{"type": "stream", "id": "c1", "name": "stderr", "text": "hello\n"}]
        )

    def test_truncates_at_the_cell_budget(self):
        cell = Cell("c", 5)
        capture, frames = capture_for(cell)
        capture.consume(b"abc")
        capture.consume(b"defgh")
        capture.consume(b"ijk")
        self.assertEqual(frames.text(), "abcde")
        self.assertEqual(cell.dropped, 6)

    def test_drops_output_between_cells(self):
        capture, frames = capture_for(None)
        capture.consume(b"background thread output\n")
        self.assertEqual(frames.events, [])

    def test_joins_a_character_split_across_reads(self):
        capture, frames = capture_for(Cell("c", 100))
        data = "\u00e9t\u00e9".encode()
        capture.consume(data[:1])
        capture.consume(data[1:])
        self.assertEqual(frames.text(), "\u00e9t\u00e9")

    def test_a_dangling_partial_character_ends_at_a_marker(self):
        capture, frames = capture_for(Cell("c", 100))
        capture.consume("x\u00e9".encode()[:-1] + marker(1))
        self.assertEqual(frames.text(), "x\ufffd")
        self.assertEqual(capture.synced_upto, 1)

    def test_invalid_utf8_becomes_replacement_characters(self):
        capture, frames = capture_for(Cell("c", 100))
        capture.consume(b"a\xff\xfeb" + marker(1))
        self.assertEqual(frames.text(), "a\ufffd\ufffdb")

    def test_the_budget_counts_utf8_of_the_decoded_text(self):
        cell = Cell("c", 7)
        capture, frames = capture_for(cell)
        capture.consume(b"a\xff\xc3\xa9\xc3\xa9")  # 1 + 3 (U+FFFD) + 2 + 2 bytes
        self.assertEqual(frames.text(), "a\ufffd\u00e9")
        self.assertEqual((cell.used, cell.dropped), (7, 1))

    def test_markers_are_never_shown_and_advance_the_sync_count(self):
        capture, frames = capture_for(Cell("c", 100))
        capture.consume(b"one " + marker(1) + b"two " + marker(2))
        self.assertEqual(frames.text(), "one two ")
        self.assertEqual(capture.synced_upto, 2)

    def test_a_marker_split_across_reads(self):
        capture, frames = capture_for(Cell("c", 100))
        data = b"before" + marker(7) + b"after"
        for i in range(len(data)):
            capture.consume(data[i:i + 1])
        self.assertEqual(frames.text(), "beforeafter")
        self.assertEqual(capture.synced_upto, 7)

    def test_lookalikes_of_a_marker_are_output(self):
        capture, frames = capture_for(Cell("c", 1000))
        fake = PREFIX + b"x" * 40
        capture.consume(fake)
        capture.consume(b"\n" + marker(1))
        self.assertEqual(frames.text().encode(), fake + b"\n")
        other = new_sync_prefix() + b"3" + SYNC_END  # another runner's marker is just bytes
        capture.consume(other + marker(2))
        self.assertTrue(frames.text().encode().endswith(other))

    def test_marker_bytes_do_not_count_against_the_budget(self):
        cell = Cell("c", 3)
        capture, frames = capture_for(cell)
        capture.consume(b"ab" + marker(1) + b"cd")
        self.assertEqual(frames.text(), "abc")
        self.assertEqual(cell.dropped, 1)


class OutputSyncTest(unittest.TestCase):
    """Real pipes and reader threads, as in the runner, without touching fds 1 and 2."""

    def test_sync_returns_after_everything_written_was_forwarded(self):
        cell = Cell("c", 1 << 20)
        frames = RecordingFrames(cell)
        captures = []
        for name in ("stdout", "stderr"):
            read_fd, write_fd = os.pipe()
            self.addCleanup(os.close, write_fd)
            captures.append(Capture(read_fd, write_fd, name, frames, PREFIX))
        sync = OutputSync(tuple(captures), ()).start()
        os.write(captures[0].write_fd, b"x" * 200_000)
        os.write(captures[1].write_fd, b"warning\n")
        sync.sync()
        self.assertEqual(len(frames.text("stdout")), 200_000)
        self.assertEqual(frames.text("stderr"), "warning\n")
        self.assertEqual(sync.counter, 1)

    def test_sync_forwards_what_the_pipes_hold_without_the_reader_threads(self):
        cell = Cell("c", 1 << 20)
        frames = RecordingFrames(cell)
        read_fd, write_fd = os.pipe()
        self.addCleanup(os.close, read_fd)
        self.addCleanup(os.close, write_fd)
        idle = Capture(read_fd, write_fd, "stdout", frames, PREFIX)  # never scheduled
        os.write(write_fd, b"printed \xc3")  # ends inside a character
        OutputSync((idle,), ()).sync()
        self.assertEqual(frames.text(), "printed \ufffd")

    def test_sync_gives_up_on_a_reader_that_keeps_the_pipe(self):
        read_fd, write_fd = os.pipe()
        self.addCleanup(os.close, read_fd)
        self.addCleanup(os.close, write_fd)
        stuck = Capture(read_fd, write_fd, "stdout", RecordingFrames(Cell("c", 100)), PREFIX)
        os.write(write_fd, b"late\n")
        with stuck.reading, quiet_diagnostics():  # a reader stuck forwarding holds the lock
            OutputSync((stuck,), (), timeout_s=0.05).sync()
        self.assertEqual(stuck.frames.events, [])

    def test_sync_gives_up_on_a_reader_that_does_not_answer(self):
        read_fd, write_fd = os.pipe()
        self.addCleanup(os.close, read_fd)
        self.addCleanup(os.close, write_fd)
        silent = Capture(read_fd, write_fd, "stdout", RecordingFrames(), PREFIX)  # not started
        with quiet_diagnostics():
            OutputSync((silent,), (), timeout_s=0.05).sync()
        self.assertEqual(silent.synced_upto, 0)


if __name__ == "__main__":
    unittest.main()
