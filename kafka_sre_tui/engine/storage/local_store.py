"""The local-disk side of the storage seam: a :class:`pathlib.Path` with the :class:`Location` methods.

Every file is ``0600`` and every directory ``0700``; files are written under a ``.tmp`` name, fsynced,
renamed and the directory fsynced (see :mod:`.files`). Locks are ``flock``s, released by the kernel
when the process dies, even by ``kill -9``.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path, PosixPath
from typing import IO, Any

from kafka_sre_tui.engine.storage.files import TMP_SUFFIX, fsync_dir, make_private_dir, open_private, write_atomic
from kafka_sre_tui.engine.storage.store import Location

LOCK_FILE = ".running.lock"


class LocalDir(PosixPath):
    """A directory or file on this machine."""

    def size(self) -> int:
        if not self.is_file():
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(self))
        return self.stat().st_size

    def write_atomic(self, data: bytes) -> None:
        write_atomic(self, data)

    def read_versioned(self) -> tuple[bytes, str] | None:
        try:
            data = self.read_bytes()
        except FileNotFoundError:
            return None
        return data, hashlib.sha256(data).hexdigest()

    def write_if(self, data: bytes, version: str | None) -> str | None:
        """Compare and write under an ``flock`` of the directory, so processes of this host (or of hosts
        sharing a file system whose locks are coherent) see one order of writes."""
        folder = os.open(self.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(folder, fcntl.LOCK_EX)
            now = self.read_versioned()
            if (now[1] if now is not None else None) != version:
                return None
            write_atomic(self, data)
            return hashlib.sha256(data).hexdigest()
        finally:
            os.close(folder)  # releases the lock

    def open_read(self) -> contextlib.AbstractContextManager[Any]:
        return open(self, "rb")

    def create_segment(self) -> _FileSink:
        return _FileSink(self)

    def make_dirs(self) -> None:
        make_private_dir(self)

    def files(self) -> Iterator[tuple[str, int]]:
        for path in self.rglob("*"):
            if path.is_file():
                yield str(path.relative_to(self)), path.stat().st_size

    def remove_tree(self) -> None:
        shutil.rmtree(self)

    def discard_unfinished_uploads(self) -> list[str]:
        return []  # a killed write leaves a .tmp file, which resume deletes with the other unlisted files

    def discard_if_empty(self) -> None:
        with contextlib.suppress(OSError):
            self.rmdir()

    def contains(self, other: Location) -> bool:
        return isinstance(other, Path) and other.resolve().is_relative_to(self.resolve())

    def try_lock(self) -> IO[str] | None:
        handle = open_private(self / LOCK_FILE, "a+")  # returned to the caller, who holds the lock through it
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return None
        return handle

    def is_locked(self) -> bool:
        if not (self / LOCK_FILE).exists():
            return False
        handle = self.try_lock()
        if handle is None:
            return True
        handle.close()
        return False

    def local_dir(self) -> Path | None:
        return Path(self)


class _FileSink:
    """A segment written to ``<name>.tmp`` and renamed into place once fsynced."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tmp = path.with_name(path.name + TMP_SUFFIX)
        self.handle = open_private(self.tmp, "wb")

    def write(self, data: bytes | memoryview) -> None:
        try:
            self.handle.write(data)
        except OSError as exc:  # a full disk: say which file
            raise OSError(exc.errno, exc.strerror, str(self.tmp)) from exc

    def commit(self) -> None:
        try:
            self.handle.flush()
            os.fsync(self.handle.fileno())
        except OSError as exc:
            self.handle.close()
            raise OSError(exc.errno, exc.strerror, str(self.tmp)) from exc
        self.handle.close()
        os.replace(self.tmp, self.path)
        fsync_dir(self.path.parent)

    def abort(self) -> None:
        self.handle.close()  # the .tmp file stays: a resume (or the end of the backup) deletes it
