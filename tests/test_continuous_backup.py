"""Continuous backup run as an operator runs it: the CLI in its own process, records produced while it
runs, killed with SIGKILL, started again, stopped with SIGTERM. The sealed links hold every record of
the topic exactly once, and each verifies."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from aiokafka import AIOKafkaProducer

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.backup.set_events import LinkSealed, SetEvent
from kafka_sre_tui.engine.storage.backup_set import SET_MANIFEST, SET_PLAN, chain_of, complete_sets
from kafka_sre_tui.engine.storage.local_store import LocalDir
from kafka_sre_tui.localkafka import LocalKafka
from tests.kafka_helpers import create_topic, produce, produce_until, read_all
from tests.set_helpers import back_up_set, chain_records

CLI = [sys.executable, "-m", "kafka_sre_tui"]


class _Follower:
    """The CLI's continuous backup in a child process; its stdout lines, read as they come."""

    def __init__(self, bs: str, base: Path, pattern: str, log: Path, *more: str) -> None:
        self.log = log
        self.out = open(log, "ab")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen([*CLI, "backup", "--cluster", bs, "--backup-dir", str(base), "--topics", pattern,
                                      "--continuous", "--roll-seconds", "0.5", "--name", "cont", *more],
                                     stdout=self.out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.start_at = log.stat().st_size

    def sealed(self) -> list[str]:
        text = self.log.read_bytes()[self.start_at:].decode(errors="replace")
        return [line for line in text.splitlines() if line.startswith("sealed link ")]

    async def wait_sealed(self, count: int, seconds: float = 60) -> list[str]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()
            if len(self.sealed()) >= count:
                return self.sealed()
            await asyncio.sleep(0.1)
        raise AssertionError(f"fewer than {count} links sealed: {self.log.read_text()}")

    def stop(self, sig: int) -> int:
        self.proc.send_signal(sig)
        code = self.proc.wait(60)
        self.out.close()
        return code


async def _burst(bs: str, topic: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bs, linger_ms=20)
    await producer.start()
    try:
        for i in range(2000):
            await producer.send(topic, os.urandom(2000), key=b"burst", partition=i % 2)
        await producer.flush()
    finally:
        await producer.stop()


async def _link_in_progress(base: Path) -> Path:
    for _ in range(300):
        for folder in base.iterdir():
            if (folder / SET_PLAN).exists() and not (folder / SET_MANIFEST).exists():
                return folder
        await asyncio.sleep(0.05)
    raise AssertionError("no link was being written")


async def test_killed_and_restarted_continuous_backup_loses_and_duplicates_nothing(
        kafka: LocalKafka, unique: str, tmp_path: Path) -> None:
    bs = kafka.bootstrap_servers
    topic = f"{unique}-live"
    await create_topic(bs, topic, 2)
    base, log = tmp_path / "backups", tmp_path / "cli.log"
    log.touch()
    stop = asyncio.Event()
    producing = asyncio.create_task(produce_until(bs, topic, 2, stop))
    first = _Follower(bs, base, f"{unique}-*", log, "--rate-limit", "1")
    try:
        await first.wait_sealed(3)
        await _burst(bs, topic)  # about 4 MB: at 1 MB/s the next link takes seconds, and is killed in it
        unfinished = await _link_in_progress(base)
    finally:
        assert first.stop(signal.SIGKILL) == -signal.SIGKILL
    assert (unfinished / SET_PLAN).exists() and not (unfinished / SET_MANIFEST).exists()
    second = _Follower(bs, base, f"{unique}-*", log)
    try:
        await second.wait_sealed(2)
        stop.set()
        sent = await producing
        before = len(second.sealed())
        await second.wait_sealed(before + 2)  # a link sealed after the last record was produced
        lines = second.sealed()
    finally:
        code = second.stop(signal.SIGTERM)
    output = log.read_text()
    assert code == 0, output
    assert "stopped: last sealed link " in output
    assert f"removed the unfinished link {unfinished.name} of a stopped run" in output
    assert any(" lag 0 records, 0.0 s" in line for line in lines), lines

    folders = [f for f in base.iterdir() if f.is_dir()]
    assert all((f / SET_MANIFEST).exists() for f in folders)  # the abandoned and the killed links are gone
    links = complete_sets(LocalDir(base))
    chain = chain_of(LocalDir(base), links[-1].set_id)
    assert [link.set_id for link in chain] == [link.set_id for link in links]  # one chain across the restart
    assert chain[0].kind == "full" and all(link.kind == "incremental" for link in chain[1:])
    expected = await read_all(bs, topic)
    assert sum(map(len, expected.values())) == sent + 2000  # and the burst
    assert chain_records(base, chain, topic) == expected  # each record once, in order: no hole, no duplicate
    for parent, child in itertools.pairwise(chain):
        ends = {p.partition: p.end_offset for p in parent.members[0].partitions}
        assert {p.partition: p.start_offset for p in child.members[0].partitions} == ends


async def test_continuous_in_process_reports_each_link_and_stops(cluster: ClusterConfig, kafka: LocalKafka,
                                                                 unique: str, tmp_path: Path) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 1)
    await produce(bs, unique, {0: 10})
    events: list[SetEvent] = []
    stop = asyncio.Event()

    def on_event(event: SetEvent) -> None:
        events.append(event)
        if sum(isinstance(e, LinkSealed) for e in events) == 2:
            stop.set()

    from kafka_sre_tui.engine.backup.set_plan import SetRequest
    from kafka_sre_tui.engine.backup.set_run import backup_set

    result = await backup_set(cluster, SetRequest(base_path=tmp_path, topics=(unique,), continuous=True,
                                                  roll_seconds=0.2), on_event, stop=stop)
    sealed = [e for e in events if isinstance(e, LinkSealed)]
    assert [e.link for e in sealed] == [0, 1] and sealed[0].records == 10 and sealed[1].records == 0
    assert result.links == tuple(e.set_id for e in sealed) and result.set_id == sealed[-1].set_id
    assert sealed[-1].lag_records == 0 and result.manifest.selection["continuous"]
    again = await back_up_set(cluster, tmp_path, unique, continuous=True, roll_seconds=0.2,
                              stop=_set_after(0.5))
    assert again.manifest.chain["base"] == sealed[0].set_id  # a new run continues the chain


def _set_after(seconds: float) -> asyncio.Event:
    event = asyncio.Event()
    asyncio.get_running_loop().call_later(seconds, event.set)
    return event


async def test_roll_bytes_seals_a_link_before_roll_seconds(cluster: ClusterConfig, kafka: LocalKafka, unique: str,
                                                           tmp_path: Path) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 1)
    await produce(bs, unique, {0: 10})
    events: list[SetEvent] = []
    stop = asyncio.Event()
    more: list[asyncio.Task[None]] = []

    def on_event(event: SetEvent) -> None:
        events.append(event)
        sealed = [e for e in events if isinstance(e, LinkSealed)]
        if isinstance(event, LinkSealed) and len(sealed) == 1:
            more.append(asyncio.create_task(produce(bs, unique, {0: 50})))
        if sum(e.records for e in sealed) == 60:
            stop.set()

    from kafka_sre_tui.engine.backup.set_plan import SetRequest
    from kafka_sre_tui.engine.backup.set_run import backup_set

    request = SetRequest(base_path=tmp_path, topics=(unique,), continuous=True, roll_seconds=600, roll_bytes=500)
    started = time.monotonic()
    await asyncio.wait_for(backup_set(cluster, request, on_event, stop=stop), 120)  # never waits out 600 s
    sealed = [e for e in events if isinstance(e, LinkSealed)]
    assert sealed[0].records == 10 and sum(e.records for e in sealed[1:]) == 50
    assert time.monotonic() - started < 120
