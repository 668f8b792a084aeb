"""Where backups live, how they are named, and who is running: ids, paths and cross-process locks.

Locks are ``flock``s on a file inside each backup's directory, so a process that dies (even
``kill -9``) releases them at once, and nothing outside a backup's own directory is written.
"""

from __future__ import annotations

import contextlib
import fcntl
import re
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from kafka_sre_tui.engine.errors import ConfigError, KsreError
from kafka_sre_tui.engine.storage.files import make_private_dir, open_private

_ID = re.compile(r"^\d{8}T\d{9}Z-[A-Za-z0-9._-]{1,249}-[0-9a-f]{6}$")
RUNNING_LOCK = ".running.lock"


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
    handle = open_private(path, "a+")  # returned to the caller, who holds the lock through it
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
    """Hold this backup's own lock while fewer than ``max_concurrent`` others run in ``base``.

    Only files inside the backup's own directory are used. Two backups starting at the same
    instant may both see each other and both refuse: the limit is never exceeded."""
    created = not folder.exists()
    make_private_dir(folder)
    own = _try_lock(folder / RUNNING_LOCK)
    if own is None:
        raise KsreError(f"backup {backup_id} is already being written by another process")
    try:
        others = [p.name for p in sorted(base.iterdir())
                  if p != folder and p.is_dir() and is_backup_id(p.name) and is_running(p)]
        if len(others) >= max_concurrent:
            raise KsreError(f"max_concurrent_backups ({max_concurrent}) reached in {base}: running "
                            f"{', '.join(others)}; wait for one to finish or raise [backup] max_concurrent_backups")
    except BaseException:
        own.close()
        if created:
            (folder / RUNNING_LOCK).unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                folder.rmdir()  # a refused backup leaves nothing behind
        raise
    try:
        yield
    finally:
        own.close()
