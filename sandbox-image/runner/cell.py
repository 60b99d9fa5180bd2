"""One cell's output budget: how many bytes of output may still go out, how many rich
outputs, and what was dropped. The same rules as the worker's (src/sandbox/output-budget.ts),
applied here as a courtesy so an honest runner never sends what the worker would refuse."""

import threading

from .bundles import bundle_bytes, has_image, text_form
from .limits import DEFAULT_MAX_DISPLAYS, DEFAULT_MAX_IMAGES, DEFAULT_OUTPUT_LIMIT


class Cell:
    """The cell whose output is being captured, with its output budget: stream text and
    display bundles, in bytes as bundle_bytes counts them."""

    def __init__(self, cell_id, limit, max_displays=DEFAULT_MAX_DISPLAYS,
                 max_images=DEFAULT_MAX_IMAGES):
        self.id = cell_id
        self.limit = limit
        self.max_displays = max_displays
        self.max_images = max_images
        self.used = 0
        self.dropped = 0
        self.displays = 0
        self.images = 0
        self.dropped_outputs = 0  # rich outputs left out by the count caps
        self.errors = 0  # error events sent
        self.lock = threading.Lock()  # capture threads and user code share the budget

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

    def fit_display(self, bundle):
        """The bundle, its text form alone, or None: whatever fits the budget and the caps."""
        with self.lock:
            size = bundle_bytes(bundle)
            if self.displays >= self.max_displays:
                self.dropped_outputs += 1
                self.dropped += size
                return None
            image_allowed = not has_image(bundle) or self.images < self.max_images
            remaining = max(0, self.limit - self.used)
            if image_allowed and size <= remaining:
                return self._keep(bundle, size)
            if not image_allowed:
                self.dropped_outputs += 1
            fallback = text_form(bundle)
            fallback_size = bundle_bytes(fallback)
            if fallback_size <= remaining and fallback_size < size:
                self.dropped += size - fallback_size
                return self._keep(fallback, fallback_size)
            self.dropped += size
            return None

    def _keep(self, bundle, size):
        self.used += size
        self.displays += 1
        if has_image(bundle):
            self.images += 1
        return bundle


def output_limit(value):
    """The cell's `outputLimitBytes`, or the default when absent or not a number."""
    return count_limit(value, DEFAULT_OUTPUT_LIMIT)


def count_limit(value, default):
    """A non-negative whole number from a request, or `default` when absent or not a number."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    return max(0, int(value))
