"""Bounds and defaults of the runner, in one place (docs/sandbox-protocol.md and
sandbox-image/README.md describe what they mean for a client)."""

DATA_DIR = "/mnt/data"
DEFAULT_OUTPUT_LIMIT = 1024 * 1024
# Rich outputs per cell, and how many of them may carry an image; the worker sends its own
# numbers with each request and enforces them whatever the runner does.
DEFAULT_MAX_DISPLAYS = 100
DEFAULT_MAX_IMAGES = 20
# Display metadata larger than this is left out (the worker does not use it).
MAX_METADATA_CHARS = 4096
# How long to wait for the reader threads to confirm they drained a pipe. Normally well
# under a millisecond; the bound only matters when the worker stops reading our stdout.
SYNC_TIMEOUT_S = 2.0
# Bounds of the /mnt/data walk after every cell: it must stay cheap whatever a cell did.
MAX_SCAN_ENTRIES = 1000
MAX_SCAN_DEPTH = 8
# One display's own cap, before the cell's budget (cell.py) cuts it much further: the
# worker refuses frames above 6 x the output limit + 1 MiB (at most 32 Mi characters).
MAX_DISPLAY_CHARS = 32 * 1024 * 1024
MAX_TRACEBACK_CHARS = 100_000
MAX_REQUEST_BYTES = 64 * 1024 * 1024
IDLE_TRIM_S = 1.0
# Bytes of a file per `file_data` frame: 512 KiB become about 700,000 characters of base64,
# well inside the worker's smallest frame limit (4 MiB).
COPY_CHUNK_BYTES = 512 * 1024
