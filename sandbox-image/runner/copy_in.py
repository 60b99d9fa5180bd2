"""Copy-in: the runner writes an upload itself, as the sandbox user, from `write_file`
requests (the bytes in base64, in order, the last one marked `final`), and answers with one
`file_written`.

Docker's archive API would write as root, by name, into a directory user code can change at
the same moment (a background process from an earlier cell): a symlink swapped in between
Docker's unlink and its open would make root write the upload wherever it points, even into
the read-only root file system, which root sees writable from outside. Here the bytes go to
a new file created with O_EXCL (never through a link) and renamed over the name, which
replaces a link instead of following it, all with the sandbox user's privilege."""

import base64
import binascii
import os

from .checkpoint_format import RESTORE_DIR, WHEELS_DIR
from .diagnostics import diag
from .limits import DATA_DIR

_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_ROOT_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC


def name_problem(name):
    """Why `name` is not a plain file name in /mnt/data, or None."""
    if not isinstance(name, str) or not name or name in (".", ".."):
        return "the name is not a plain file name"
    if "/" in name or "\0" in name:
        return "the name contains a path separator"
    return None


class _Upload:
    def __init__(self, root, name, mode=0o644):
        self.name = name
        self.temp = ".sandbot-upload-" + os.urandom(6).hex()
        self.root_fd = os.open(root, _ROOT_FLAGS)
        try:
            self.fd = os.open(self.temp, _CREATE_FLAGS, mode, dir_fd=self.root_fd)
        except BaseException:
            os.close(self.root_fd)
            raise
        self.size = 0

    def write(self, data):
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]
        self.size += len(data)

    def finish(self):
        """Renames the new file over the name: a symlink there is replaced, not followed."""
        os.close(self.fd)
        self.fd = None
        try:
            os.rename(self.temp, self.name, src_dir_fd=self.root_fd, dst_dir_fd=self.root_fd)
        except OSError:
            self.abandon()  # e.g. a directory of that name
            raise
        os.close(self.root_fd)

    def abandon(self):
        try:
            if self.fd is not None:
                os.close(self.fd)
            os.unlink(self.temp, dir_fd=self.root_fd)
        except OSError:
            pass
        finally:
            os.close(self.root_fd)


class Uploads:
    """One upload at a time (the worker sends them one after another); a request with a new
    id abandons an unfinished one. `area` picks the directory: "data" (the default) is the
    user's /mnt/data; "checkpoint" and "wheels" are the runner's private directories under
    /tmp (created 0700 on first use, files 0600), for a checkpoint to restore and for the
    wheels of packages to install."""

    def __init__(self, frames, root=DATA_DIR, private_areas=None):
        self.frames = frames
        self.root = root
        self.private_areas = (
            {"checkpoint": RESTORE_DIR, "wheels": WHEELS_DIR}
            if private_areas is None else private_areas
        )
        self.current = None
        self.current_id = None
        self.refused_id = None  # its later chunks are ignored: it was answered already

    def handle(self, request):
        request_id = request["id"]
        if request_id == self.refused_id:
            return
        try:
            data = base64.b64decode(request.get("data") or "", validate=True)
        except (binascii.Error, ValueError, TypeError):
            self._refuse(request_id, "its bytes did not arrive intact")
            return
        try:
            if request_id != self.current_id:
                self._abandon()
                if request.get("offset") != 0:
                    return  # the rest of an upload that was abandoned
                problem = name_problem(request.get("name"))
                area = request.get("area", "data")
                if problem is None and area != "data" and area not in self.private_areas:
                    problem = "there is no area %r" % (str(area)[:40],)
                if problem is not None:
                    self._refuse(request_id, problem)
                    return
                self.current = self._start(area, request["name"])
                self.current_id = request_id
            self.current.write(data)
            if request.get("final") is True:
                upload = self.current
                self.current = self.current_id = None
                upload.finish()
                self._answer(request_id, size=upload.size)
        except OSError as error:
            self._refuse(request_id, os.strerror(error.errno) if error.errno else str(error))

    def _start(self, area, name):
        if area == "data":
            return _Upload(self.root, name)
        root = self.private_areas[area]
        os.makedirs(root, 0o700, exist_ok=True)
        return _Upload(root, name, 0o600)

    def _refuse(self, request_id, reason):
        if request_id == self.current_id:
            self._abandon()
        self.refused_id = request_id
        self._answer(request_id, refused=reason)

    def _abandon(self):
        if self.current is not None:
            diag("abandoned an unfinished upload")
            self.current.abandon()
        self.current = self.current_id = None

    def _answer(self, request_id, size=None, refused=None):
        frame = {"type": "file_written", "id": request_id}
        if refused is None:
            frame["size"] = size
        else:
            frame["refused"] = refused
        self.frames.emit(frame)
