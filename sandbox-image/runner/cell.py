"""One cell's output budget: how many stream bytes may still go out, and what was dropped."""

import threading

from .limits import DEFAULT_OUTPUT_LIMIT


class Cell:
    """The cell whose output is being captured, with its output budget (stream bytes)."""

    def __init__(self, cell_id, limit):
        self.id = cell_id
        self.limit = limit
        self.used = 0
        self.dropped = 0
        self.errors = 0  # error events sent
        self.lock = threading.Lock()  # the two capture threads share the budget

    def take(self, size):
        """How many of `size` bytes may still be forwarded; the rest counts as dropped."""
        with self.lock:
            allowed = max(0, min(size, self.limit - self.used))
            self.used += allowed
            self.dropped += size - allowed
            return allowed

    def drop(self, size):
        with self.lock:
            self.dropped += size


def output_limit(value):
    """The cell's `outputLimitBytes`, or the default when absent or not a number."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return DEFAULT_OUTPUT_LIMIT
    return max(0, int(value))
