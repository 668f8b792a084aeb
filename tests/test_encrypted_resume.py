"""An encrypted backup killed mid-run and resumed with its key: verify and restore give back exactly
the topic, and no nonce is used twice, not even by a block the killed run wrote and the resume threw
away (a segment never checkpointed)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from kafka_sre_tui.cli.main import main
from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.backup.catalog import list_backups
from kafka_sre_tui.engine.storage.blocks import FRAME_SIZE
from kafka_sre_tui.engine.storage.encryption import key_from_env
from kafka_sre_tui.localkafka import LocalKafka
from tests.kafka_helpers import create_topic, read_all
from tests.restore_helpers import content, restore

ROOT = Path(__file__).resolve().parent.parent
KEY_VAR, KEY_HEX = "KSRE_TEST_RESUME_KEY", "3c" * 32
PARTITIONS, PER_PARTITION = 3, 3_000  # 1 KB values: 9 MB, several 1 MiB blocks per partition


def nonces_in(path: Path) -> list[bytes]:
    """The nonce of every whole block in a segment file, read frame by frame (a file cut by the kill
    ends in a partial block, left out)."""
    data, found, at = path.read_bytes(), [], 0
    while at + FRAME_SIZE + 12 <= len(data):
        stored = int.from_bytes(data[at + 52:at + 56], "big")
        if at + FRAME_SIZE + stored > len(data):
            break
        found.append(data[at + FRAME_SIZE:at + FRAME_SIZE + 12])
        at += FRAME_SIZE + stored
    return found


def _records(state: Path) -> int:
    try:
        return int(json.loads(state.read_text())["records"])
    except (OSError, ValueError):  # being replaced right now
        return 0


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


async def _load(bs: str, topic: str) -> None:
    await create_topic(bs, topic, PARTITIONS)
    producer = AIOKafkaProducer(bootstrap_servers=bs, linger_ms=5, max_batch_size=64 << 10)
    await producer.start()
    for i in range(PARTITIONS * PER_PARTITION):
        await producer.send(topic, os.urandom(1000), key=f"k{i}".encode(), partition=i % PARTITIONS)
    await producer.stop()


def test_killed_encrypted_backup_resumes_with_its_key_and_never_reuses_a_nonce(
        kafka: LocalKafka, cluster: ClusterConfig, unique: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    bs, base = kafka.bootstrap_servers, tmp_path / "backups"
    asyncio.run(_load(bs, unique))
    monkeypatch.setenv(KEY_VAR, KEY_HEX)
    cmd = [sys.executable, "-m", "kafka_sre_tui", "backup", "--cluster", bs, "--topic", unique, "--backup-dir",
           str(base), "--rate-limit", "2", "--checkpoint-seconds", "2", "--compression", "zstd",
           "--encryption-key-env", KEY_VAR]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:  # kill once blocks are durable and more sit in a segment not checkpointed yet, early
            assert proc.poll() is None, proc.stderr.read().decode()  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "no checkpointed and unsealed blocks together within 60 s"
            states = list(base.glob("*/partitions/*/state.json"))
            durable = sum(_records(s) for s in states)
            unsealed = [n for s in base.glob("*/partitions/*/*.kseg.tmp") for n in nonces_in(s)]
            # within 1 s of a checkpoint (one every 2 s): the kill lands well before the next one seals them
            if durable and unsealed and time.time() - max(_mtime(s) for s in states) < 1.0:
                break
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    discarded = [n for s in base.glob("*/partitions/*/*.kseg.tmp") for n in nonces_in(s)]  # what the kill left
    assert discarded
    [killed] = list_backups(base)
    assert killed.status == "incomplete" and 0 < killed.records < PARTITIONS * PER_PARTITION

    assert main(["backup", "--resume", killed.backup_id, "--backup-dir", str(base)]) == 2  # the key is needed
    assert "is encrypted" in capsys.readouterr().err
    assert main(["backup", "--resume", killed.backup_id, "--backup-dir", str(base),
                 "--encryption-key-env", KEY_VAR]) == 0
    [done] = list_backups(base)
    assert done.status == "complete" and done.records == PARTITIONS * PER_PARTITION
    assert not list(done.path.rglob("*.tmp"))

    kept = [n for s in done.path.glob("partitions/*/*.kseg") for n in nonces_in(s)]
    assert len(kept) >= 2 * PARTITIONS
    assert len(set(kept)) == len(kept)  # every block of the backup has its own nonce
    assert not set(kept) & set(discarded)  # and none is one the killed run used for a block it lost

    capsys.readouterr()
    assert main(["verify", done.backup_id, "--backup-dir", str(base), "--json", "--encryption-key-env", KEY_VAR]) == 0
    checked = json.loads(capsys.readouterr().out)
    assert checked["intact"] and checked["records"] == PARTITIONS * PER_PARTITION
    asyncio.run(restore(cluster, base, done.backup_id, target_topic=f"{unique}-r", create_topic=True,
                        encryption_key=key_from_env(KEY_VAR)))
    source, restored = asyncio.run(read_all(bs, unique)), asyncio.run(read_all(bs, f"{unique}-r"))
    assert {p: content(r) for p, r in restored.items()} == {p: content(r) for p, r in source.items()}
