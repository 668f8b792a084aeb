"""Every directory and file a backup, a restore and a migration create is owner-only, whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.localkafka import LocalKafka
from tests.backup_helpers import backup
from tests.kafka_helpers import create_topic, produce
from tests.migrate_helpers import run as migrate
from tests.restore_helpers import restore


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _modes(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): stat.S_IMODE(p.lstat().st_mode) for p in root.rglob("*")}


@pytest.mark.usefixtures("umask_022")
async def test_backup_restore_and_migration_files_are_owner_only(kafka: LocalKafka, cluster: ClusterConfig,
                                                                 unique: str, tmp_path: Path) -> None:
    await create_topic(kafka.bootstrap_servers, unique, 2)
    await produce(kafka.bootstrap_servers, unique, {0: 20, 1: 20})
    base = tmp_path / "not" / "yet" / "backups"  # parents the tool creates too
    result = await backup(cluster, unique, base)
    await restore(cluster, base, result.backup_id, target_topic=f"{unique}-restored", create_topic=True)
    await migrate(cluster, cluster, tmp_path / "migrations", unique, target_topic=f"{unique}-migrated",
                  create_topic=True)

    modes = _modes(tmp_path)
    kinds = {"segment": ".kseg", "manifest": "manifest.json", "restore state": ".restores",
             "migration state": "migrations/"}
    for what, marker in kinds.items():
        assert any(marker in name for name in modes), f"no {what} written: {sorted(modes)}"
    loose = {name: oct(mode) for name, mode in modes.items()
             if mode != (0o700 if (tmp_path / name).is_dir() else 0o600)}
    assert not loose, f"not owner-only under umask 022: {loose}"
