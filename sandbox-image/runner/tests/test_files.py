import os
import tempfile
import time
import unittest
from unittest import mock

from runner.directory_listings import DirectoryListings
from runner.files import FileWatch, scan_files


class ScanTest(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.root = tmp.name

    def write(self, path, data=b"x"):
        full = os.path.join(self.root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)

    def test_lists_regular_files_by_relative_path(self):
        self.write("a.csv", b"1,2\n")
        self.write("out/plots/p.png", b"png")
        os.makedirs(os.path.join(self.root, "empty"))
        found = scan_files(self.root)
        self.assertEqual(sorted(found), ["a.csv", "out/plots/p.png"])
        self.assertEqual(found["a.csv"][0], 4)

    def test_never_lists_or_follows_symlinks(self):
        outside = tempfile.TemporaryDirectory()
        self.addCleanup(outside.cleanup)
        with open(os.path.join(outside.name, "secret"), "w") as f:
            f.write("s")
        self.write("real.txt")
        os.symlink(os.path.join(outside.name, "secret"), os.path.join(self.root, "link.txt"))
        os.symlink(outside.name, os.path.join(self.root, "linkdir"))
        self.assertEqual(sorted(scan_files(self.root)), ["real.txt"])

    def test_the_walk_is_bounded_in_depth(self):
        self.write("1/2/3/deep.txt")
        self.write("1/shallow.txt")
        self.assertEqual(sorted(scan_files(self.root, max_depth=2)), ["1/shallow.txt"])
        self.assertEqual(len(scan_files(self.root, max_depth=4)), 2)

    def test_the_walk_is_bounded_in_entries(self):
        for i in range(20):
            self.write("f%02d" % i)
        self.assertEqual(len(scan_files(self.root, max_entries=5)), 5)

    def test_names_that_are_not_utf8_are_skipped(self):
        self.write("ok.txt")
        with open(os.path.join(os.fsencode(self.root), b"bad\xff.txt"), "wb") as f:
            f.write(b"x")
        self.assertEqual(sorted(scan_files(self.root)), ["ok.txt"])

    def test_a_missing_root_has_no_files(self):
        self.assertEqual(scan_files(os.path.join(self.root, "gone")), {})


class FileWatchTest(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.root = tmp.name
        self.watch = FileWatch(self.root)

    def write(self, name, data):
        with open(os.path.join(self.root, name), "wb") as f:
            f.write(data)

    def test_reports_new_and_changed_files_once(self):
        self.write("kept.txt", b"k")
        self.watch.reset()
        self.write("new.txt", b"new")
        self.assertEqual(self.watch.changed(), [{"path": "new.txt", "size": 3}])
        self.assertEqual(self.watch.changed(), [])
        self.write("kept.txt", b"longer")
        self.assertEqual(self.watch.changed(), [{"path": "kept.txt", "size": 6}])

    def test_a_replaced_file_counts_as_changed(self):
        self.write("a.txt", b"same")
        self.watch.reset()
        os.rename(os.path.join(self.root, "a.txt"), os.path.join(self.root, "old.txt"))
        self.write("a.txt", b"same")  # same size, new inode
        changed = [entry["path"] for entry in self.watch.changed()]
        self.assertEqual(changed, ["a.txt", "old.txt"])

    def test_removed_files_are_not_reported(self):
        self.write("gone.txt", b"g")
        self.watch.reset()
        os.remove(os.path.join(self.root, "gone.txt"))
        self.assertEqual(self.watch.changed(), [])


class KeptListingsTest(unittest.TestCase):
    """Directories are listed again only when their own stat says an entry may have come or
    gone; files are looked at after every cell all the same."""

    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.root = tmp.name
        # Kept as soon as listed after a change: the test steps past the clock's tick itself.
        self.listings = DirectoryListings(settled_ns=0)
        self.watch = FileWatch(self.root, self.listings)

    def write(self, path, data=b"x"):
        full = os.path.join(self.root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)
        time.sleep(0.05)  # past the tick of the clock that stamps the directories

    def test_unchanged_directories_are_not_listed_and_changes_still_show(self):
        self.write("sub/a.txt")
        self.watch.reset()
        with mock.patch("runner.directory_listings.os.scandir", wraps=os.scandir) as scandir:
            self.assertEqual(self.watch.changed(), [])
            self.write("sub/a.txt", b"longer")  # in place: the directory stays as it was
            self.assertEqual(self.watch.changed(), [{"path": "sub/a.txt", "size": 6}])
            self.assertEqual(scandir.call_count, 0)
            self.write("sub/b.txt")
            self.assertEqual(self.watch.changed(), [{"path": "sub/b.txt", "size": 1}])
            self.assertEqual(scandir.call_count, 1)  # sub only: the root kept its entries

    def test_listings_of_removed_directories_are_dropped(self):
        self.write("sub/a.txt")
        self.watch.reset()
        self.assertIn(os.path.join(self.root, "sub"), self.listings.kept)
        os.remove(os.path.join(self.root, "sub", "a.txt"))
        os.rmdir(os.path.join(self.root, "sub"))
        self.assertEqual(self.watch.changed(), [])
        self.assertEqual(list(self.listings.kept), [self.root])


if __name__ == "__main__":
    unittest.main()
