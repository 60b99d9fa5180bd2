"""Files under /mnt/data: a bounded scan after every cell, and what changed since the last."""

import os
import stat

from .limits import DATA_DIR, MAX_SCAN_DEPTH, MAX_SCAN_ENTRIES


def scan_files(root=DATA_DIR, max_entries=MAX_SCAN_ENTRIES, max_depth=MAX_SCAN_DEPTH):
    """Regular files under `root`: path -> (size, mtime, inode). lstat only, so symlinks
    are never followed (nor listed); the walk is bounded in entries and depth."""
    found = {}
    seen = 0
    stack = [("", 0)]
    while stack:
        relative, depth = stack.pop()
        try:
            entries = os.scandir(os.path.join(root, relative) if relative else root)
        except OSError:
            continue
        with entries:
            for entry in entries:
                seen += 1
                if seen > max_entries:
                    return found
                path = relative + "/" + entry.name if relative else entry.name
                try:
                    path.encode("utf-8")  # a name that is not UTF-8 cannot be reported
                    info = entry.stat(follow_symlinks=False)
                except (OSError, UnicodeEncodeError):
                    continue
                if stat.S_ISDIR(info.st_mode):
                    if depth + 1 < max_depth:
                        stack.append((path, depth + 1))
                elif stat.S_ISREG(info.st_mode):
                    found[path] = (info.st_size, info.st_mtime_ns, info.st_ino)
    return found


class FileWatch:
    """The files of the last scan, to report new or changed ones after a cell."""

    def __init__(self, root=DATA_DIR):
        self.root = root
        self.snapshot = {}

    def reset(self):
        """Takes the current files as known (start-up, and the `snapshot` request)."""
        self.snapshot = scan_files(self.root)

    def changed(self):
        """New or changed regular files since the last snapshot, which becomes this scan."""
        current = scan_files(self.root)
        changed = [
            {"path": path, "size": meta[0]}
            for path, meta in sorted(current.items())
            if self.snapshot.get(path) != meta
        ]
        self.snapshot = current
        return changed
