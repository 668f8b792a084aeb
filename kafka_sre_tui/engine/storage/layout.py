"""Where backups live, how they are named, and who is running: ids, paths and cross-process locks.

Locks are ``flock``s on a file inside each backup's directory (see :mod:`.local_store`), so a process
that dies (even ``kill -9``) releases them at once, and nothing outside a backup's own directory is written.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from kafka_sre_tui.engine.errors import ConfigError, KsreError
from kafka_sre_tui.engine.storage.local_store import LOCK_FILE as RUNNING_LOCK
from kafka_sre_tui.engine.storage.store import Location, open_location

_ID = re.compile(r"^\d{8}T\d{9}Z-[A-Za-z0-9._-]{1,249}-[0-9a-f]{6}$")


def new_backup_id(topic: str, now: datetime) -> str:
    """``<UTC time to the ms>-<topic>-<random>``: sorts by time, safe as one path component."""
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%S") + f"{now.microsecond // 1000:03d}Z"
    return f"{stamp}-{topic}-{secrets.token_hex(3)}"


def backup_dir(base: Location | Path, backup_id: str) -> Location:
    if not _ID.match(backup_id) or backup_id in (".", ".."):
        raise ConfigError(f"invalid backup id '{backup_id}': ids look like 20261124T181500123Z-orders-a1b2c3; "
                          "list them with: kafka-sre-tui backups list")
    return open_location(base) / backup_id


def is_backup_id(name: str) -> bool:
    return bool(_ID.match(name))


def is_running(folder: Location | Path) -> bool:
    return open_location(folder).is_locked()


@contextlib.contextmanager
def running(base_dir: Location | Path, backup_folder: Location | Path, backup_id: str,
            max_concurrent: int) -> Iterator[None]:
    """Hold this backup's own lock while fewer than ``max_concurrent`` others run in ``base``.

    Only files inside the backup's own directory are used. Two backups starting at the same
    instant may both see each other and both refuse: the limit is never exceeded. (On an object
    store there are no such locks: see :mod:`.object_store`.)"""
    base, folder = open_location(base_dir), open_location(backup_folder)
    created = not folder.exists()
    folder.make_dirs()
    own = folder.try_lock()
    if own is None:
        raise KsreError(f"backup {backup_id} is already being written by another process")
    try:
        others = [p.name for p in sorted(base.iterdir(), key=str)
                  if p != folder and is_backup_id(p.name) and p.is_dir() and is_running(p)]
        if len(others) >= max_concurrent:
            raise KsreError(f"max_concurrent_backups ({max_concurrent}) reached in {base}: running "
                            f"{', '.join(others)}; wait for one to finish or raise [backup] max_concurrent_backups")
    except BaseException:
        own.close()
        if created:
            (folder / RUNNING_LOCK).unlink(missing_ok=True)
            folder.discard_if_empty()  # a refused backup leaves nothing behind
        raise
    try:
        yield
    finally:
        own.close()
