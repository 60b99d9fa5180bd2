"""The Python distributions installed in the image, by name, for the model's prompt."""

import os
import re
import sys

# Names are normalised (PEP 503) and bounded here and again by the worker, which trusts
# nothing the sandbox says.
MAX_PACKAGES = 2000
MAX_NAME_CHARS = 100
_DIST_ENTRY = re.compile(
    r"^([A-Za-z0-9][A-Za-z0-9._]*?)-[0-9][^-]*(?:-py[0-9.]+)?\.(?:dist|egg)-info$"
)


def installed_packages(paths=None):
    """Sorted distribution names found on sys.path, from the names of their metadata
    entries alone (reading every METADATA file would add most of a second to start-up).
    Type-stub distributions (types-*) are left out: nothing imports them."""
    names = set()
    for directory in sys.path if paths is None else paths:
        try:
            entries = os.listdir(directory or ".")
        except OSError:
            continue
        for entry in entries:
            match = _DIST_ENTRY.match(entry)
            if match is None:
                continue
            name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
            if len(name) <= MAX_NAME_CHARS and not name.startswith("types-"):
                names.add(name)
    return sorted(names)[:MAX_PACKAGES]
