"""A backup that cannot write (disk full, file size limit, permissions) stops with one line naming the
path and, when space ran out, about how much more it needs; what was checkpointed stays resumable."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

from kafka_sre_tui.engine.errors import KsreError
from kafka_sre_tui.engine.storage.store import Location

_NO_SPACE = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is exhausted",
             errno.EFBIG: "the file size limit was reached"}


class StorageFailed(KsreError):
    """Writing a backup's files failed; the backup is left incomplete and resumable."""


def storage_error(exc: OSError, folder: Location, backup_id: str, need: int | None) -> StorageFailed:
    path = exc.filename or str(folder)
    resume = f"backup {backup_id} is incomplete: continue it with kafka-sre-tui backup --resume {backup_id}"
    what = _NO_SPACE.get(exc.errno or 0)
    if what is None:
        return StorageFailed(f"cannot write backup {backup_id} at {path}: {exc.strerror or exc}; {resume}")
    local = folder.local_dir()
    free = _free(local) if local is not None else None
    needs = f"; it needs about {_size(need)} more" if need is not None else ""
    has = f" ({_size(free)} free there)" if free is not None else ""
    return StorageFailed(f"writing backup {backup_id} at {path} failed: {what}{has}{needs}; free space (or raise "
                         f"the limit), then {resume.split(': ', 1)[1]} — or back up to another --backup-dir")


def still_needed(raw_bytes: int, written_bytes: int, durable_bytes: int, offsets_seen: int,
                 offsets_total: int) -> int | None:
    """Space the backup still needs: its whole size, estimated from the bytes per offset read so far
    and the compression seen so far (none stored yet: the size as read, an upper bound), less what is
    durable already (a resume deletes the rest). None before anything was read."""
    if offsets_seen <= 0 or raw_bytes <= 0:
        return None
    ratio = min(1.0, written_bytes / raw_bytes) if written_bytes else 1.0
    return max(0, int(raw_bytes / offsets_seen * offsets_total * ratio) - durable_bytes)


def _free(folder: Path) -> int | None:
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            return shutil.disk_usage(candidate).free if os.access(candidate, os.R_OK) else None
    return None


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:,.1f} {unit}" if unit != "B" else f"{int(value)} B"
        value /= 1024
    return f"{value:,.1f} TiB"
