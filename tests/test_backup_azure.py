"""Backups in an Azure Blob container, against a real Azure Blob server (Azurite): the same round trip as
on disk and on S3, through the same storage seam."""

from __future__ import annotations

from pathlib import Path

import pytest

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.backup.catalog import COMPLETE, list_backups, verify
from kafka_sre_tui.engine.errors import KsreError
from kafka_sre_tui.engine.storage.store import open_location
from kafka_sre_tui.localkafka import LocalKafka
from tests.backup_helpers import backup, read_backup
from tests.kafka_helpers import create_topic, read_all
from tests.object_servers import Azurite
from tests.restore_helpers import restore
from tests.test_backup_fidelity import _tricky_topic


async def test_round_trip_through_a_container(kafka: LocalKafka, cluster: ClusterConfig, unique: str,
                                              azurite: Azurite, az_container: str, tmp_path: Path) -> None:
    bs = kafka.bootstrap_servers
    await _tricky_topic(bs, unique)
    base = open_location(f"az://{az_container}/dr", azurite.options())
    done = await backup(cluster, unique, base, compression="lz4")  # type: ignore[arg-type]
    assert str(done.path) == f"az://{az_container}/dr/{done.backup_id}"
    source = await read_all(bs, unique)
    assert read_backup(done.path) == source  # type: ignore[arg-type]
    checked = await verify(base, done.backup_id)
    assert checked.intact and checked.records == sum(map(len, source.values()))
    await restore(cluster, base, done.backup_id, target_topic=f"{unique}-r", create_topic=True,  # type: ignore[arg-type]
                  override_retention=True, state_dir=tmp_path / "states")
    assert await read_all(bs, f"{unique}-r") == source
    [summary] = list_backups(base)
    assert (summary.backup_id, summary.status) == (done.backup_id, COMPLETE)


async def test_container_errors_say_what_to_do(kafka: LocalKafka, cluster: ClusterConfig, unique: str,
                                               azurite: Azurite, az_container: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    await create_topic(kafka.bootstrap_servers, unique, 1)
    with pytest.raises(KsreError) as missing:
        list_backups(open_location("az://no-such-container/dr", azurite.options()))
    assert "container 'no-such-container' does not exist; create it or fix the URL" in str(missing.value)
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_KEY", "bm90LXRoZS1rZXktbm90LXRoZS1rZXktbm90LXRoZS1rZXk=")
    with pytest.raises(KsreError) as refused:
        await backup(cluster, unique, open_location(f"az://{az_container}/dr", azurite.options()))  # type: ignore[arg-type]
    assert "credentials were refused" in str(refused.value) and "bm90LXRoZS1r" not in str(refused.value)
