"""Mime bundles as the protocol carries them (pure functions, no IPython needed)."""

import base64
import json

from .frames import plain

# The mime types of the protocol, in the order a client would prefer them.
ALLOWED_MIMES = (
    "text/plain",
    "text/html",
    "text/markdown",
    "image/png",
    "image/jpeg",
    "image/svg+xml",
    "text/latex",
    "application/json",
    # A table as data (runner/tables.py): JSON text, like application/json.
    "application/vnd.sandbot.table+json",
)
JSON_MIMES = ("application/json", "application/vnd.sandbot.table+json")
BINARY_MIMES = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
# What is left of a display too large to send.
OVERSIZE_TEXT_CHARS = 4096
OVERSIZE_PLACEHOLDER = "<output too large to show>"


def as_base64(value, magic):
    """Base64 text for an image value, which IPython hands over as bytes (matplotlib,
    Pillow) or as base64 text already (IPython.display.Image)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        value = bytes(value)
        if not value.startswith(magic):
            try:  # base64 in bytes form
                if base64.b64decode(value, validate=True).startswith(magic):
                    return value.decode("ascii")
            except ValueError:
                pass
        return base64.b64encode(value).decode("ascii")
    return str(value).replace("\n", "")


def clean_bundle(data):
    """The mime bundle of the protocol: known types only, every value a string."""
    bundle = {}
    for mime in ALLOWED_MIMES:
        value = data.get(mime) if isinstance(data, dict) else None
        if value is None:
            continue
        if mime in BINARY_MIMES:
            value = as_base64(value, BINARY_MIMES[mime])
        elif mime in JSON_MIMES:
            try:
                value = value if isinstance(value, str) else json.dumps(value, allow_nan=False)
            except (TypeError, ValueError):
                value = json.dumps(plain(value))
        elif isinstance(value, (bytes, bytearray)):
            value = bytes(value).decode("utf-8", "replace")
        elif not isinstance(value, str):
            value = str(value)
        bundle[mime] = value
    # Pillow offers every image as PNG and as JPEG; one copy is enough.
    if "image/png" in bundle:
        bundle.pop("image/jpeg", None)
    return bundle


def bundle_bytes(bundle):
    """What a bundle costs in a cell's output budget, counted as the worker counts it
    (src/sandbox/output-budget.ts): keys and text in UTF-8, images as the bytes their base64
    decodes to."""
    total = 0
    for mime, value in bundle.items():
        total += len(mime.encode("utf-8", "surrogatepass"))
        if mime in BINARY_MIMES:
            total += len(value) * 3 // 4
        else:
            total += len(value.encode("utf-8", "surrogatepass"))
    return total


def has_image(bundle):
    return any(mime in BINARY_MIMES for mime in bundle)


def text_form(bundle):
    """What is left of a bundle that cannot be shown whole."""
    return {"text/plain": bundle.get("text/plain", "")[:OVERSIZE_TEXT_CHARS] or OVERSIZE_PLACEHOLDER}


def cap_bundle(bundle, max_chars):
    """(bundle, dropped characters): one giant image or table keeps a short text form, and
    the rest counts as dropped output."""
    size = sum(len(v) for v in bundle.values())
    if size <= max_chars:
        return bundle, 0
    text = text_form(bundle)
    return text, size - len(text["text/plain"])
