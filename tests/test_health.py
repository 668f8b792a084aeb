"""`health`: a real cluster and real filesystems (tmpfs mounts we make, as root, and unmount after)."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kafka_sre_tui.cli.main import main
from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.localkafka import LocalKafka, free_port
from tests.backup_helpers import backup
from tests.kafka_helpers import create_topic, produce
from tests.set_helpers import back_up_set


@contextlib.contextmanager
def tmpfs(where: Path, options: str) -> Iterator[Path]:
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=True)


def _config(tmp_path: Path, max_gb: float = 100.0) -> str:
    path = tmp_path / "config.toml"
    path.write_text(f"[backup]\nmax_backup_size_gb = {max_gb}\n")
    return str(path)


def _health(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, dict[str, Any]]]:
    code = main(["health", "--json", *argv])
    doc = json.loads(capsys.readouterr().out)
    assert doc["healthy"] is (code == 0)
    return code, {c["name"]: c for c in doc["checks"]}


def test_healthy_cluster_and_backup_dir(kafka: LocalKafka, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "backups").mkdir()
    code, checks = _health(capsys, "--config", _config(tmp_path, 0.001), "--cluster", kafka.bootstrap_servers,
                           "--backup-dir", str(tmp_path / "backups"))
    assert code == 0, checks
    assert checks["cluster"]["details"]["latency_ms"] > 0
    assert " ms (1 brokers)" in checks["cluster"]["reason"]
    assert checks["backup_dir"]["ok"] and checks["free_space"]["ok"]


def test_unreachable_cluster_is_unhealthy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, checks = _health(capsys, "--config", _config(tmp_path, 0.001), "--cluster", f"127.0.0.1:{free_port()}",
                           "--timeout", "3", "--backup-dir", str(tmp_path))
    assert code == 1
    assert not checks["cluster"]["ok"] and "cannot connect" in checks["cluster"]["reason"]
    assert checks["backup_dir"]["ok"]


def test_unwritable_backup_dir_is_unhealthy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with tmpfs(tmp_path / "ro", "ro,size=1m") as folder:
        code, checks = _health(capsys, "--config", _config(tmp_path, 0.0001), "--backup-dir", str(folder))
    assert code == 1
    assert not checks["backup_dir"]["ok"]
    assert f"cannot write in {folder} (Read-only file system)" in checks["backup_dir"]["reason"]
    code, checks = _health(capsys, "--config", _config(tmp_path), "--backup-dir", str(tmp_path / "missing"))
    assert code == 1 and "does not exist" in checks["backup_dir"]["reason"]


def test_full_filesystem_is_unhealthy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path, 0.0005)  # backups may use 500 kB: the 1 MiB disk holds that while empty
    with tmpfs(tmp_path / "small", "size=1m") as folder:
        code, checks = _health(capsys, "--config", config, "--backup-dir", str(folder))
        assert code == 0 and checks["free_space"]["ok"], checks
        with open(folder / "filler", "wb", buffering=0) as filler, contextlib.suppress(OSError):
            while True:
                filler.write(b"x" * 65536)
        with pytest.raises(OSError) as full:
            (folder / "more").write_bytes(b"x" * 65536)
        assert full.value.errno == errno.ENOSPC
        code, checks = _health(capsys, "--config", config, "--backup-dir", str(folder))
    assert code == 1
    free_space = checks["free_space"]
    assert not free_space["ok"] and free_space["details"]["free_bytes"] < 65536
    assert "may grow by 500.0 kB more (max_backup_size_gb 0.0005)" in free_space["reason"]


async def test_backups_old_incomplete_newest_and_failed_verify(cluster: ClusterConfig, kafka: LocalKafka, unique: str,
                                                                tmp_path: Path) -> None:
    await create_topic(kafka.bootstrap_servers, unique, 1)
    await produce(kafka.bootstrap_servers, unique, {0: 200})
    result = await backup(cluster, unique, tmp_path)
    stale = tmp_path / f"20200101T000000000Z-{unique}-abcdef"
    stale.mkdir()  # a backup killed before its first checkpoint, years ago
    segment = result.path / result.manifest.partitions[0].segments[0].file
    data = bytearray(segment.read_bytes())
    data[len(data) // 2] ^= 0x01
    segment.write_bytes(bytes(data))
    def run(*argv: str) -> int:  # main() runs its own event loop: call it from a thread
        return main([*argv, "--config", _config(tmp_path, 0.001), "--backup-dir", str(tmp_path)])

    assert await asyncio.to_thread(run, "verify", result.backup_id) == 1
    report = tmp_path / "report.json"

    def health() -> int:
        with open(report, "w") as out, contextlib.redirect_stdout(out):
            return run("health", "--json")

    assert await asyncio.to_thread(health) == 1
    checks = {c["name"]: c for c in json.loads(report.read_text())["checks"]}
    assert checks["incomplete_backups"]["details"]["backup_ids"] == [stale.name]
    assert not checks["incomplete_backups"]["ok"]
    [newest] = checks["newest_backups"]["details"]["topics"]
    assert newest["topic"] == unique and newest["backup_id"] == result.backup_id and newest["age_seconds"] < 600
    assert checks["verify_failures"]["details"]["failed"] == [result.backup_id]
    assert not checks["verify_failures"]["ok"]


def test_without_max_backup_size_the_disk_must_hold_the_next_backup(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """A cap the user never set is not asked for: a fresh install on a 2 GB disk is healthy (it used
    to need the default 100 GB free); the disk must hold a backup as large as the largest so far."""
    empty = tmp_path / "config.toml"
    empty.write_text("")
    with tmpfs(tmp_path / "disk", "size=2g") as folder:
        _code, checks = _health(capsys, "--config", str(empty), "--backup-dir", str(folder))
        free_space = checks["free_space"]
        assert free_space["ok"], free_space
        assert "the next backup needs about 1.0 GB (the largest so far, at least 1 GB; set max_backup_size_gb" \
            in free_space["reason"]
        assert free_space["details"]["max_backup_size_gb"] is None
        large = folder / "20261101T000000000Z-orders-abcdef"
        large.mkdir()
        with open(large / "segment.kseg", "wb") as sparse:
            sparse.truncate(3_000_000_000)  # a backup of 3 GB (sparse: it takes no room on the disk)
        code, checks = _health(capsys, "--config", str(empty), "--backup-dir", str(folder))
    assert code == 1
    free_space = checks["free_space"]
    assert not free_space["ok"] and free_space["reason"].endswith("to check against what the backups may grow "
                                                                  "to): free space")
    assert "the next backup needs about 3.0 GB (the largest so far;" in free_space["reason"]


async def test_a_backup_set_is_the_newest_backup_of_each_of_its_topics(cluster: ClusterConfig, kafka: LocalKafka,
                                                                      unique: str, tmp_path: Path) -> None:
    for topic in (f"{unique}-a", f"{unique}-b"):
        await create_topic(kafka.bootstrap_servers, topic, 1)
        await produce(kafka.bootstrap_servers, topic, {0: 5})
    one = await backup(cluster, f"{unique}-a", tmp_path)
    both = await back_up_set(cluster, tmp_path, f"{unique}-*")
    report = tmp_path / "report.json"

    def health() -> int:
        with open(report, "w") as out, contextlib.redirect_stdout(out):
            return main(["health", "--json", "--config", _config(tmp_path, 0.001), "--backup-dir", str(tmp_path)])

    await asyncio.to_thread(health)
    checks = {c["name"]: c for c in json.loads(report.read_text())["checks"]}
    newest = {t["topic"]: t["backup_id"] for t in checks["newest_backups"]["details"]["topics"]}
    assert newest == {f"{unique}-a": both.set_id, f"{unique}-b": both.set_id} and one.backup_id < both.set_id
