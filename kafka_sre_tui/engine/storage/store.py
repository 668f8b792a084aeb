"""The storage seam: where a backup's files live, a local directory or an object store, behind one interface.

Backup, restore, verify and the catalog only ever hold a :class:`Location` (a directory or a key prefix,
or one file / object in it) and call the methods below; which store is underneath is decided once, here,
from what the user wrote (``/srv/backups``, ``s3://bucket/dr``). A :class:`Location` reads like a
:class:`pathlib.Path` (``/``, ``name``, ``exists``, ``iterdir``...) so code written for the local disk
kept its shape; the local implementation *is* a ``Path``.

Writes are all-or-nothing in both stores: a small file is replaced atomically (:meth:`write_atomic`),
a segment appears only when :meth:`SegmentSink.commit` succeeds, never half-written. Writers that share
a file (the workers of one set) use the conditional pair :meth:`read_versioned` / :meth:`write_if`: a
create-only write or a compare-and-swap on the version read (an ETag on an object store).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol, Self, runtime_checkable

from kafka_sre_tui.engine.errors import ConfigError, KsreError

OBJECT_SCHEMES = ("s3", "az", "gs")


class StoreError(KsreError):
    """The store refused an operation or could not be reached (after the store client's own retries)."""


class ReadHandle(Protocol):
    """A file open for reading: sequential ``read`` and ``seek`` (ranges on an object store)."""

    def read(self, size: int = -1, /) -> bytes: ...
    def seek(self, offset: int, whence: int = 0, /) -> int: ...
    def tell(self) -> int: ...
    def close(self) -> None: ...


class SegmentSink(Protocol):
    """A file being written: nothing is visible until :meth:`commit`; :meth:`abort` drops it all."""

    def write(self, data: bytes | memoryview) -> None: ...
    def commit(self) -> None: ...
    def abort(self) -> None: ...


class Lock(Protocol):
    def close(self) -> None: ...


@runtime_checkable
class Location(Protocol):
    """A directory (key prefix) or a file (object) in the store a backup lives in."""

    @property
    def name(self) -> str: ...
    def __truediv__(self, part: str) -> Self: ...
    def __str__(self) -> str: ...  # a path, or a URL: what errors and listings show
    def resolve(self) -> Self: ...
    def exists(self) -> bool: ...
    def is_file(self) -> bool: ...
    def is_dir(self) -> bool: ...
    def iterdir(self) -> Iterator[Self]: ...
    def read_bytes(self) -> bytes: ...
    def unlink(self, missing_ok: bool = False) -> None: ...
    def size(self) -> int: ...
    def write_atomic(self, data: bytes) -> None: ...
    def read_versioned(self) -> tuple[bytes, str] | None: ...  # the content and a version token; None: absent
    def write_if(self, data: bytes, version: str | None) -> str | None: ...  # if unchanged (None: absent): new version
    def open_read(self) -> AbstractContextManager[ReadHandle]: ...
    def create_segment(self) -> SegmentSink: ...
    def make_dirs(self) -> None: ...
    def files(self) -> Iterator[tuple[str, int]]: ...  # every file below, relative name and size
    def remove_tree(self) -> None: ...
    def discard_unfinished_uploads(self) -> list[str]: ...  # writes a killed process left open below; their keys
    def discard_if_empty(self) -> None: ...
    def contains(self, other: Location) -> bool: ...  # other really lies inside (no symlink out)
    def try_lock(self) -> Lock | None: ...  # held by this process until closed; None: someone else holds it
    def is_locked(self) -> bool: ...
    def local_dir(self) -> Path | None: ...  # the directory on this machine, if it is one


def open_location(where: str | Path | Location, options: Mapping[str, Any] | None = None,
                  origin: str = "--backup-dir") -> Location:
    """The location ``where`` names: a :class:`Location` as is, a local path, or an object-store URL
    (``s3://bucket/prefix``, ``az://container/prefix``, ``gs://bucket/prefix``) opened with ``options``
    (``[backup.object_store]``). Any other ``scheme://`` is a ConfigError: never a local folder ``s3:``."""
    from kafka_sre_tui.engine.storage.local_store import LocalDir

    if isinstance(where, LocalDir):
        return where
    if isinstance(where, Path):
        return LocalDir(where.expanduser())
    if not isinstance(where, str):
        return where
    from kafka_sre_tui.config import url_scheme

    scheme = url_scheme(where)
    if scheme is None:
        return LocalDir(Path(where).expanduser())
    if scheme not in OBJECT_SCHEMES:
        raise ConfigError(f"{origin} '{where}': {scheme}:// is not a storage backups can be kept in; use a local "
                          f"directory or {', '.join(s + '://' for s in OBJECT_SCHEMES)}")
    from kafka_sre_tui.engine.storage.object_store import object_location

    return object_location(where, dict(options or {}))


def write_json(location: Location, value: Any) -> None:
    location.write_atomic(json.dumps(value, indent=1, sort_keys=True).encode() + b"\n")


def read_json(location: Location | Path) -> Any:
    return json.loads(location.read_bytes())
