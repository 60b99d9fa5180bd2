"""Tracebacks as the protocol carries them: plain lines, no colour codes, bounded."""

import re

from .limits import MAX_TRACEBACK_CHARS

ANSI = re.compile(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")


def clean_lines(entries, limit=MAX_TRACEBACK_CHARS):
    text = "\n".join(ANSI.sub("", str(entry)) for entry in entries)
    if len(text) > limit:
        half = limit // 2
        text = text[:half] + "\n[... traceback shortened ...]\n" + text[-half:]
    return text.split("\n")


def safe_str(value):
    try:
        return str(value)
    except Exception:
        return "<unprintable %s>" % type(value).__name__
