"""A workers group's sealer killed between ``finishing.json`` and ``set.json``, on a real broker and disk.

The dying worker is a real CLI worker process (``backup --workers-group``) that SIGKILLs itself right
after the sealer wrote the first member's manifest: the test wraps the engine's ``finish_backup`` in
that process only (no hook in the product). It leaves what a sealer killed at that point leaves:
``finishing.json``, one member's manifest (its plan removed), the other members' durable states, no
``set.json``, and its membership in the group until the session times out. Then ``backup --resume
SET_ID`` seals the set, or a worker of the group takes the sealing over once the dead sealer has left
the group; either way the set verifies and holds every record of the source."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaProducer

from kafka_sre_tui.cli.main import main
from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.backup.set_plan import SetRequest
from kafka_sre_tui.engine.backup.workers import SESSION_TIMEOUT_MS, backup_set_worker
from kafka_sre_tui.engine.backup.workers_set import JoinedSet, join_set, newest_run, seal_if_done
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.storage.backup_set import SET_FINISHING, SET_MANIFEST, SET_PLAN, read_set_manifest
from kafka_sre_tui.engine.storage.local_store import LocalDir
from kafka_sre_tui.localkafka import LocalKafka
from tests.kafka_helpers import create_topic, read_all
from tests.set_helpers import member_folder, member_records

TOPICS = {"a": 3, "b": 2}
RECORDS = 300

DYING_WORKER = """
import os, signal, sys
import kafka_sre_tui.engine.backup.workers_set as workers_set
from kafka_sre_tui.cli.main import main
finish_backup = workers_set.finish_backup
def finish_then_die(*args, **kwargs):
    finished = finish_backup(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)  # one member's manifest written; the others' and set.json not
    return finished
workers_set.finish_backup = finish_then_die
sys.exit(main(sys.argv[1:]))
"""


async def _load(bs: str, prefix: str) -> None:
    for name, partitions in TOPICS.items():
        await create_topic(bs, f"{prefix}-{name}", partitions)
    producer = AIOKafkaProducer(bootstrap_servers=bs, linger_ms=5)
    await producer.start()
    try:
        for name, partitions in TOPICS.items():
            for i in range(RECORDS):
                await producer.send(f"{prefix}-{name}", f"v{i}".encode(), key=f"k{i}".encode(),
                                    partition=i % partitions)
        await producer.flush()
    finally:
        await producer.stop()


async def _sealer_dies(bs: str, unique: str, base: Path) -> str:
    """Run one worker of group ``unique`` until its sealing kills it; the set id it leaves unsealed."""
    await _load(bs, unique)
    command = [sys.executable, "-c", DYING_WORKER, "backup", "--cluster", bs, "--topics", f"{unique}-*",
               "--backup-dir", str(base), "--workers-group", unique, "--checkpoint-seconds", "1"]
    died = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=120)
    assert died.returncode == -signal.SIGKILL, died.stderr
    newest = newest_run(LocalDir(base), unique)
    assert newest is not None
    folder = base / newest[1]
    assert (folder / SET_FINISHING).exists() and not (folder / SET_MANIFEST).exists()
    assert len(list(folder.glob("topics/*/manifest.json"))) == 1  # killed between two members
    return newest[1]


def _check_complete(base: Path, set_id: str, source: dict[str, dict[int, list[object]]]) -> None:
    folder = base / set_id
    assert not (folder / SET_FINISHING).exists() and not (folder / SET_PLAN).exists()
    manifest, intact = read_set_manifest(folder)
    assert intact and manifest.records == RECORDS * len(TOPICS)
    for topic, records in source.items():
        assert member_records(base, manifest, topic) == records  # checksums verified, then every record
        assert not list(member_folder(base, manifest, topic).glob("partitions/*/state.json"))
    assert main(["verify", set_id, "--backup-dir", str(base)]) == 0


async def test_resume_seals_a_set_whose_sealer_died(kafka: LocalKafka, unique: str, tmp_path: Path) -> None:
    base = tmp_path / "b"
    set_id = await _sealer_dies(kafka.bootstrap_servers, unique, base)
    resumed = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "kafka_sre_tui", "backup", "--resume", set_id, "--backup-dir",
                         str(base)], capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    source = {f"{unique}-{t}": await read_all(kafka.bootstrap_servers, f"{unique}-{t}") for t in TOPICS}
    await asyncio.to_thread(_check_complete, base, set_id, source)


async def test_a_worker_takes_over_the_sealing_of_a_dead_sealer(kafka: LocalKafka, cluster: ClusterConfig,
                                                                 unique: str, tmp_path: Path) -> None:
    base = tmp_path / "b"
    set_id = await _sealer_dies(kafka.bootstrap_servers, unique, base)
    request = SetRequest(base_path=base, topics=(f"{unique}-*",))
    async with KafkaSession(cluster) as session:
        joined = await join_set(session, LocalDir(base), request, unique, datetime.now(UTC),
                                lambda: datetime.now(UTC))
    assert isinstance(joined, JoinedSet) and joined.set_id == set_id
    # while the dead sealer is still a member of the group, another worker waits rather than seal the set too
    assert seal_if_done(joined, "another", lambda: datetime.now(UTC), lambda _member: True) is None
    assert not (base / set_id / SET_MANIFEST).exists()

    started = time.monotonic()
    result = await asyncio.wait_for(backup_set_worker(cluster, request, unique), 90)  # no hang: it takes over
    assert result.set_id == set_id and result.manifest is not None
    assert time.monotonic() - started < SESSION_TIMEOUT_MS / 1000 + 30
    source = {f"{unique}-{t}": await read_all(kafka.bootstrap_servers, f"{unique}-{t}") for t in TOPICS}
    await asyncio.to_thread(_check_complete, base, set_id, source)
