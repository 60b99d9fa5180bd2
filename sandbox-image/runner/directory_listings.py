"""The names in each directory of /mnt/data, kept between the scans after cells while the
directory's own stat says its entries cannot have changed.

Listing a directory costs five syscalls (openat, fstat, two getdents64, close), each a
trapped one under gVisor's ptrace platform (about 25 us); its stat costs none for a
subdirectory (the scan lstats every entry anyway) and one for the root. Creating, removing
or renaming an entry sets the directory's ctime and mtime to the current time, which the
kernel reads from a clock that ticks every few milliseconds: a change within the tick of
the last one could leave both as they were. So a listing is kept only when it was taken
well after the directory last changed; a directory that changes all the time is listed
every time, as before."""

import itertools
import os
import time

# How long after its last change a directory's listing may be kept: far beyond a clock
# tick, and beyond the coarsest timestamps a volume's filesystem may keep (whole seconds,
# two on FAT), so any later change moves the ctime.
SETTLED_NS = 2_000_000_000


class DirectoryListings:
    def __init__(self, settled_ns=SETTLED_NS):
        self.settled_ns = settled_ns
        self.kept = {}  # path -> ((st_dev, st_ino, st_ctime_ns, st_mtime_ns), names)

    def names(self, path, info, limit):
        """Up to `limit` names in directory `path`, whose stat (taken before this call) is
        `info`. Raises OSError when it cannot be listed."""
        key = (info.st_dev, info.st_ino, info.st_ctime_ns, info.st_mtime_ns)
        kept = self.kept.get(path)
        if kept is not None and kept[0] == key and len(kept[1]) <= limit:
            return kept[1]
        self.kept.pop(path, None)
        listed_at_ns = time.time_ns()  # before the listing: a change after it is later
        names = list_names(path, limit + 1)
        settled = listed_at_ns - max(info.st_ctime_ns, info.st_mtime_ns) > self.settled_ns
        if settled and len(names) <= limit:  # a cut listing is never reused
            self.kept[path] = (key, names)
        return names[:limit]

    def forget_except(self, paths):
        """Drops the listings of directories the last scan did not reach."""
        for path in [p for p in self.kept if p not in paths]:
            del self.kept[path]


def list_names(path, limit):
    """Up to `limit` names in directory `path`, in the order the directory gives them."""
    with os.scandir(path) as entries:
        return [entry.name for entry in itertools.islice(entries, limit)]
