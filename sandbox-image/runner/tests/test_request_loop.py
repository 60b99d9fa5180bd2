import os
import unittest

from runner.request_loop import (
    Dispatcher,
    idle_exit_s_from,
    parse_request,
    read_requests,
    serve,
)
from runner.tests.support import RecordingFrames, quiet_diagnostics


def lines_from(data):
    """The request lines read_requests yields for `data`, written to a pipe then closed."""
    read_fd, write_fd = os.pipe()
    try:
        os.write(write_fd, data)
        os.close(write_fd)
        with quiet_diagnostics():
            return list(read_requests(read_fd, None, lambda: None))
    finally:
        os.close(read_fd)


class ReadRequestsTest(unittest.TestCase):
    def test_yields_one_line_per_request_and_skips_blank_lines(self):
        self.assertEqual(lines_from(b'{"a":1}\n\n  \n{"b":2}\n'), [b'{"a":1}', b'{"b":2}'])

    def test_a_line_without_newline_at_eof_is_not_a_request(self):
        self.assertEqual(lines_from(b'{"a":1}\n{"b"'), [b'{"a":1}'])

    def test_skips_an_over_long_line_and_reads_on(self):
        read_fd, write_fd = os.pipe()
        self.addCleanup(os.close, read_fd)
        os.write(write_fd, b'{"a":1}\n' + b"x" * 5000)
        reader = read_requests(read_fd, None, lambda: None, max_request_bytes=1000)
        self.assertEqual(next(reader), b'{"a":1}')
        # The rest of the long line arrives after the runner has seen it is too long.
        os.write(write_fd, b'xxx\n{"b":2}\n')
        os.close(write_fd)
        with quiet_diagnostics():
            self.assertEqual(list(reader), [b'{"b":2}'])

    def test_ends_after_the_idle_limit(self):
        read_fd, write_fd = os.pipe()
        self.addCleanup(os.close, read_fd)
        self.addCleanup(os.close, write_fd)
        with quiet_diagnostics():
            self.assertEqual(list(read_requests(read_fd, 0.01, lambda: None)), [])

    def test_calls_on_idle_once_after_a_request(self):
        read_fd, write_fd = os.pipe()
        self.addCleanup(os.close, read_fd)
        self.addCleanup(os.close, write_fd)
        os.write(write_fd, b'{"a":1}\n')
        calls = []
        reader = read_requests(read_fd, 1.2, lambda: calls.append(1))
        with quiet_diagnostics():
            self.assertEqual(next(reader), b'{"a":1}')
            self.assertEqual(list(reader), [])  # idle work after 1 s, exit after 1.2 s
        self.assertEqual(calls, [1])


class IdleExitTest(unittest.TestCase):
    def test_reads_seconds_from_the_environment(self):
        self.assertEqual(idle_exit_s_from({"SANDBOT_IDLE_EXIT_S": "90"}), 90.0)
        self.assertIsNone(idle_exit_s_from({}))
        self.assertIsNone(idle_exit_s_from({"SANDBOT_IDLE_EXIT_S": "0"}))
        self.assertIsNone(idle_exit_s_from({"SANDBOT_IDLE_EXIT_S": "soon"}))


class ParseTest(unittest.TestCase):
    def test_objects_only(self):
        self.assertEqual(parse_request(b'{"type":"ping","id":"1"}'), {"type": "ping", "id": "1"})
        with quiet_diagnostics():
            self.assertIsNone(parse_request(b"[1]"))
            self.assertIsNone(parse_request(b"not json"))
            self.assertIsNone(parse_request(b"\xff\xfe"))


class RecordingExecutor:
    def __init__(self):
        self.requests = []

    def execute(self, request):
        self.requests.append(request)


class RecordingFiles:
    resets = 0

    def reset(self):
        self.resets += 1


class DispatcherTest(unittest.TestCase):
    def setUp(self):
        self.frames = RecordingFrames()
        self.executor = RecordingExecutor()
        self.files = RecordingFiles()
        self.dispatcher = Dispatcher(self.frames, self.executor, self.files)

    def test_answers_ping_and_snapshot(self):
        self.dispatcher.handle({"type": "ping", "id": "p1"})
        self.dispatcher.handle({"type": "snapshot", "id": "s1"})
        self.assertEqual(
            self.frames.events, [{"type": "pong", "id": "p1"}, {"type": "snapshot", "id": "s1"}]
        )
        self.assertEqual(self.files.resets, 1)

    def test_answers_read_file_and_write_file_once_each(self):
        # The path cannot be read (not a plain path); the name is not a plain name.
        self.dispatcher.handle({"type": "read_file", "id": "r1", "path": "../etc/passwd"})
        self.dispatcher.handle({"type": "write_file", "id": "w1", "name": "../x", "data": "",
                                "offset": 0, "final": True})
        self.assertEqual([(e["type"], e["id"]) for e in self.frames.events],
                         [("file_end", "r1"), ("file_written", "w1")])
        self.assertTrue(all("refused" in e for e in self.frames.events))

    def test_passes_execute_with_code_to_the_executor(self):
        request = {"type": "execute", "id": "c1", "code": "1+1"}
        self.dispatcher.handle(request)
        self.assertEqual(self.executor.requests, [request])

    def test_ignores_requests_it_cannot_answer(self):
        with quiet_diagnostics():
            self.dispatcher.handle({"type": "ping"})
            self.dispatcher.handle({"type": "ping", "id": 7})
            self.dispatcher.handle({"type": "execute", "id": "c", "code": None})
            self.dispatcher.handle({"type": "shutdown", "id": "x"})
        self.assertEqual((self.frames.events, self.executor.requests), ([], []))

    def test_serve_outlives_faults_of_its_own(self):
        class Failing:
            def execute(self, request):
                raise KeyboardInterrupt

        dispatcher = Dispatcher(self.frames, Failing(), self.files)
        lines = [b'{"type":"execute","id":"a","code":""}', b"garbage", b'{"type":"ping","id":"b"}']
        with quiet_diagnostics():
            serve(lines, dispatcher)
        self.assertEqual(self.frames.events, [{"type": "pong", "id": "b"}])


if __name__ == "__main__":
    unittest.main()
