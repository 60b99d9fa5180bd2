"""The layout of a checkpoint file, shared by the saver (checkpoint_save) and the loader
(restore).

    MAGIC, then one dill pickle per saved value (all from one Pickler, so its memo is shared
    and references between values survive), then the index as JSON, then TRAILER: the
    index's offset and length as two 8-byte big-endian numbers and END.

Values are separate pickles so that one that fails to load is reported by name instead of
failing the whole file; the index says where each starts and which modules to re-import."""

import re
import struct

MAGIC = b"SANDBOT-CHECKPOINT-1\n"
END = b"\nEND-CHECKPOINT\n"
TRAILER = struct.Struct(">QQ")
TRAILER_BYTES = TRAILER.size + len(END)
# dill's own protocol choice would be the default (4); 5 writes large buffers without copies.
PROTOCOL = 5

CHECKPOINT_DIR = "/tmp/.sandbot"
RESTORE_DIR = "/tmp/.sandbot/restore"
WHEELS_DIR = "/tmp/.sandbot/wheels"

# The worker refuses a manifest past these (src/sandbox/protocol.ts); the runner stays inside.
MAX_NAMES = 1000
MAX_NAME_CHARS = 200
MAX_REASON_CHARS = 200
MAX_INDEX_BYTES = 4 * 1024 * 1024

_PLAIN_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")


def plain_id(value):
    """Whether a request id may become part of a file name."""
    return isinstance(value, str) and _PLAIN_ID.match(value) is not None


def short(text, limit=MAX_REASON_CHARS):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
