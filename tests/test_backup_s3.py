"""Backups in an S3 bucket, against a real S3 server (s3proxy): the same backup, verify, restore and
catalog as on disk, through the storage seam; clear errors for what goes wrong with a bucket."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from kafka_sre_tui.cli.main import main
from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.backup.catalog import COMPLETE, list_backups, verify
from kafka_sre_tui.engine.storage.store import Location, open_location
from kafka_sre_tui.localkafka import LocalKafka
from tests.backup_helpers import backup, read_backup
from tests.kafka_helpers import read_all
from tests.object_servers import S3Proxy
from tests.restore_helpers import restore
from tests.test_backup_fidelity import _tricky_topic


def _bucket(s3proxy: S3Proxy, bucket: str, prefix: str = "dr") -> Location:
    return open_location(f"s3://{bucket}/{prefix}", s3proxy.options())


def _config(tmp_path: Path, s3proxy: S3Proxy, backup: str = "") -> Path:
    config = tmp_path / "config.toml"
    config.write_text(f'[backup]\n{backup}\n[backup.object_store]\nendpoint = "{s3proxy.endpoint}"\nregion = "us-east-1"\n'
                      "allow_http = true\nvirtual_hosted_style = false\n")
    return config


async def test_round_trip_through_a_bucket(kafka: LocalKafka, cluster: ClusterConfig, unique: str, s3proxy: S3Proxy,
                                           s3_bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bs = kafka.bootstrap_servers
    await _tricky_topic(bs, unique)
    monkeypatch.chdir(tmp_path)
    base = _bucket(s3proxy, s3_bucket)
    done = await backup(cluster, unique, base, compression="zstd")  # type: ignore[arg-type]
    assert str(done.path) == f"s3://{s3_bucket}/dr/{done.backup_id}"
    stored = s3proxy.stored_files(s3_bucket)
    assert f"dr/{done.backup_id}/manifest.json" in stored
    assert any(name.endswith(".kseg") for name in stored)
    assert not any(name.endswith((".tmp", "state.json", "backup.json")) for name in stored)
    assert list(tmp_path.iterdir()) == []  # nothing local: no folder named s3:

    source = await read_all(bs, unique)
    assert read_backup(done.path) == source  # type: ignore[arg-type]
    checked = await verify(base, done.backup_id)
    assert checked.intact and checked.records == sum(map(len, source.values()))
    result = await restore(cluster, base, done.backup_id, target_topic=f"{unique}-r",  # type: ignore[arg-type]
                           create_topic=True, override_retention=True, state_dir=tmp_path / "states")
    assert await read_all(bs, f"{unique}-r") == source
    assert result.metrics.messages == sum(map(len, source.values()))  # type: ignore[union-attr]
    [summary] = list_backups(base)
    assert (summary.backup_id, summary.status, summary.records) == (done.backup_id, COMPLETE, checked.records)


async def test_cli_lists_shows_and_prunes_a_bucket(kafka: LocalKafka, cluster: ClusterConfig, unique: str,
                                                  s3proxy: S3Proxy, s3_bucket: str, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from tests.kafka_helpers import create_topic, produce

    await create_topic(kafka.bootstrap_servers, unique, 2)
    await produce(kafka.bootstrap_servers, unique, {0: 40, 1: 40})
    base = _bucket(s3proxy, s3_bucket, "nightly")
    first = await backup(cluster, unique, base)  # type: ignore[arg-type]
    second = await backup(cluster, unique, base)  # type: ignore[arg-type]
    config, url = str(_config(tmp_path, s3proxy, "max_backup_size_gb = 0")), f"s3://{s3_bucket}/nightly"
    capsys.readouterr()
    assert main(["--config", config, "backups", "list", "--backup-dir", url]) == 0
    listed = capsys.readouterr().out
    assert first.backup_id in listed and second.backup_id in listed and "complete" in listed
    assert main(["--config", config, "backups", "show", first.backup_id, "--backup-dir", url]) == 0
    assert "80" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["--config", config, "verify", second.backup_id, "--backup-dir", url]) == 0
    capsys.readouterr()
    # both are within the age limit; a size limit of 0 keeps none of them
    assert main(["--config", config, "backups", "prune", "--backup-dir", url]) == 0
    assert capsys.readouterr().out.count("total size over") == 2
    assert list_backups(base) == []
    assert s3proxy.stored_files(s3_bucket) == []


async def test_bucket_errors_name_the_bucket_and_what_to_do(kafka: LocalKafka, cluster: ClusterConfig, unique: str,
                                                           s3proxy: S3Proxy, s3_bucket: str, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    from tests.kafka_helpers import create_topic

    await create_topic(kafka.bootstrap_servers, unique, 1)
    config = str(_config(tmp_path, s3proxy))

    async def one_line(*args: str) -> str:
        assert await asyncio.to_thread(main, ["--config", config, *args]) != 0
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: "), err
        return err[0]

    missing = await one_line("backups", "list", "--backup-dir", "s3://no-such-bucket/dr")
    assert "bucket 'no-such-bucket' does not exist; create it or fix the URL" in missing
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    refused = await one_line("backup", "--cluster", kafka.bootstrap_servers, "--topic", unique,
                       "--backup-dir", f"s3://{s3_bucket}/dr")
    assert f"s3://{s3_bucket}/dr" in refused and "credentials were refused" in refused
    assert "not-the-secret" not in refused
    down = await one_line("backups", "list", "--backup-dir", f"s3://{s3_bucket}/dr")
    assert "not-the-secret" not in down
