"""Files under /mnt/data: a bounded scan after every cell, and what changed since the last."""

import os
import stat

from .directory_listings import DirectoryListings, list_names
from .limits import DATA_DIR, MAX_SCAN_DEPTH, MAX_SCAN_ENTRIES


def scan_files(root=DATA_DIR, max_entries=MAX_SCAN_ENTRIES, max_depth=MAX_SCAN_DEPTH,
               listings=None):
    """Regular files under `root`: path -> (size, mtime, inode). lstat only, so symlinks
    are never followed (nor listed); the walk is bounded in entries and depth. With
    `listings` (DirectoryListings), directories that cannot have changed are not listed
    again."""
    reached = set()
    try:
        return _walk(root, max_entries, max_depth, listings, reached)
    finally:
        if listings is not None:
            listings.forget_except(reached)


def _walk(root, max_entries, max_depth, listings, reached):
    found = {}
    seen = 0
    stack = [("", 0, None)]  # relative path, depth, lstat of the directory if known
    while stack:
        relative, depth, info = stack.pop()
        directory = os.path.join(root, relative) if relative else root
        try:
            if listings is None:
                names = list_names(directory, max_entries - seen + 1)
            else:
                if info is None:
                    info = os.stat(directory)  # the root: followed, as listing it would
                reached.add(directory)
                names = listings.names(directory, info, max_entries - seen + 1)
        except OSError:
            continue
        for name in names:
            seen += 1
            if seen > max_entries:
                return found
            path = relative + "/" + name if relative else name
            try:
                path.encode("utf-8")  # a name that is not UTF-8 cannot be reported
                entry_info = os.lstat(os.path.join(directory, name))
            except (OSError, UnicodeEncodeError):
                continue
            if stat.S_ISDIR(entry_info.st_mode):
                if depth + 1 < max_depth:
                    stack.append((path, depth + 1, entry_info))
            elif stat.S_ISREG(entry_info.st_mode):
                found[path] = (entry_info.st_size, entry_info.st_mtime_ns, entry_info.st_ino)
    return found


class FileWatch:
    """The files of the last scan, to report new or changed ones after a cell."""

    def __init__(self, root=DATA_DIR, listings=None):
        self.root = root
        self.snapshot = {}
        self.listings = listings if listings is not None else DirectoryListings()

    def reset(self):
        """Takes the current files as known (start-up, and the `snapshot` request)."""
        self.snapshot = scan_files(self.root, listings=self.listings)

    def changed(self):
        """New or changed regular files since the last snapshot, which becomes this scan."""
        current = scan_files(self.root, listings=self.listings)
        changed = [
            {"path": path, "size": meta[0]}
            for path, meta in sorted(current.items())
            if self.snapshot.get(path) != meta
        ]
        self.snapshot = current
        return changed
