"""Where backups live, how they are named, and who is running: ids, paths and cross-process locks.

Locks are ``flock``s, so a process that dies (even ``kill -9``) releases them at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from kafka_sre_tui.engine.errors import ConfigError, KsreError

_ID = re.compile(r"^\d{8}T\d{9}Z-[A-Za-z0-9._-]{1,249}-[0-9a-f]{6}$")
RUNNING_LOCK = ".running.lock"
SLOTS_DIR = ".slots"


def new_backup_id(topic: str, now: datetime) -> str:
    """``<UTC time to the ms>-<topic>-<random>``: sorts by time, safe as one path component."""
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%S") + f"{now.microsecond // 1000:03d}Z"
    return f"{stamp}-{topic}-{secrets.token_hex(3)}"


def backup_dir(base: Path, backup_id: str) -> Path:
    if not _ID.match(backup_id) or backup_id in (".", ".."):
        raise ConfigError(f"invalid backup id '{backup_id}': ids look like 20261124T181500123Z-orders-a1b2c3; "
                          "list them with: kafka-sre-tui backups list")
    return base / backup_id


def is_backup_id(name: str) -> bool:
    return bool(_ID.match(name))


def _try_lock(path: Path) -> IO[str] | None:
    handle = open(path, "a+")  # noqa: SIM115 - returned to the caller, who holds the lock through it
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def is_running(folder: Path) -> bool:
    lock = folder / RUNNING_LOCK
    if not lock.exists():
        return False
    handle = _try_lock(lock)
    if handle is None:
        return True
    handle.close()
    return False


@contextlib.contextmanager
def running(base: Path, folder: Path, backup_id: str, max_concurrent: int) -> Iterator[None]:
    """Hold one of ``max_concurrent`` slots of the backup dir and this backup's own lock."""
    slots = base / SLOTS_DIR
    slots.mkdir(parents=True, exist_ok=True)
    slot = None
    for i in range(max_concurrent):
        slot = _try_lock(slots / f"slot-{i}.lock")
        if slot is not None:
            break
    if slot is None:
        others = [p.read_text().strip() for p in sorted(slots.glob("slot-*.lock"))]
        raise KsreError(f"max_concurrent_backups ({max_concurrent}) reached in {base}: running "
                        f"{', '.join(o for o in others if o) or 'other backups'}; wait for one to finish "
                        "or raise [backup] max_concurrent_backups")
    folder.mkdir(exist_ok=True)  # only once a slot is held: a refused backup leaves nothing behind
    own = _try_lock(folder / RUNNING_LOCK)
    if own is None:
        slot.close()
        raise KsreError(f"backup {backup_id} is already being written by another process")
    try:
        slot.truncate(0)
        slot.write(backup_id)
        slot.flush()
        yield
    finally:
        own.close()
        with contextlib.suppress(OSError):
            os.truncate(slot.name, 0)
        slot.close()
