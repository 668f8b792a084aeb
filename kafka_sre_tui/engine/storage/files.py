"""Crash-safe, owner-only file writing.

Files are written to a temporary name, fsynced, renamed, and the directory fsynced. Every file
this tool creates is ``0600`` and every directory ``0700`` whatever the umask: a backup of
production data must not be readable by the other users of a shared jump host.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO, Any

TMP_SUFFIX = ".tmp"
FILE_MODE = 0o600
DIR_MODE = 0o700


def make_private_dir(path: Path) -> None:
    """``mkdir -p`` where every directory created (parents too) is ``0700``; existing ones are left
    as they are (``Path.mkdir(parents=True)`` would give the parents the umask's mode)."""
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue  # created meanwhile by a concurrent process
        os.chmod(folder, DIR_MODE)  # exactly 0700 even under an odd umask such as 0277


def open_private(path: Path, mode: str) -> IO[Any]:
    """``open(path, mode)`` for ``"wb"`` (the file is made ``0600``, even a leftover one) or ``"a+"``
    (created ``0600`` if it does not exist yet)."""
    flags = {"wb": os.O_WRONLY | os.O_CREAT | os.O_TRUNC, "a+": os.O_RDWR | os.O_CREAT | os.O_APPEND}[mode]
    fd = os.open(path, flags, FILE_MODE)
    if mode == "wb":
        os.fchmod(fd, FILE_MODE)
    return os.fdopen(fd, mode)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + TMP_SUFFIX)
    with open_private(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def write_json_atomic(path: Path, value: Any) -> None:
    write_atomic(path, json.dumps(value, indent=1, sort_keys=True).encode() + b"\n")


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())
