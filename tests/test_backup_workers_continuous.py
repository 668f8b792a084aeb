"""A continuous backup written by a workers group, run as an operator runs it: two CLI worker processes
follow a topic that is being written, sealing links together; one is killed with SIGKILL mid-chain, the
other is stopped with SIGTERM later, and the same command started again continues the chain. The links
hold every record of the topic exactly once, the newest verifies with its whole chain, every link was
reported by a worker, and the group never committed an offset. Then ``--workers 2`` follows a topic
into a real S3 server and stops with its parent."""

from __future__ import annotations

import asyncio
import itertools
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kafka_sre_tui.cli.main import main
from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.backup.workers_set import link_of_group
from kafka_sre_tui.engine.inspect.groups import committed_offsets_for_topics
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.storage.backup_set import SET_MANIFEST, chain_of, complete_sets
from kafka_sre_tui.engine.storage.layout import is_backup_id
from kafka_sre_tui.engine.storage.local_store import LocalDir
from kafka_sre_tui.engine.storage.store import open_location
from kafka_sre_tui.localkafka import LocalKafka
from tests.kafka_helpers import create_topic, produce_until, read_all
from tests.object_servers import S3Proxy
from tests.set_helpers import chain_records

pytestmark = pytest.mark.timeout(240)

PARTITIONS = 4
SEALED = re.compile(r"^sealed link (\d+) (\S+): ([\d,]+) records")
ASSIGNED = re.compile(r"backing up (\d+) partitions \((\d+) already done, (\d+) held")


class _Worker:
    """``backup --continuous --workers-group`` in a child process, its output in a log file."""

    def __init__(self, command: list[str], log: Path) -> None:
        self.log = log
        self.out = open(log, "wb")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(command, stdout=self.out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def assigned(self) -> list[int]:
        """How many partitions the group gave this worker, at each rebalance."""
        return [sum(map(int, m.groups())) for m in ASSIGNED.finditer(self.text())]

    def links(self) -> list[int]:
        return [int(m.group(1)) for line in self.text().splitlines() if (m := SEALED.match(line))]

    async def wait_links(self, count: int, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while len(self.links()) < count:
            assert self.proc.poll() is None, self.text()
            assert time.monotonic() < deadline, f"fewer than {count} links sealed: {self.text()}"
            await asyncio.sleep(0.1)

    def stop(self, sig: int) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(60)
        self.out.close()
        return code


async def test_a_workers_group_writes_one_chain_through_a_kill_a_stop_and_a_restart(
        kafka: LocalKafka, unique: str, tmp_path: Path) -> None:
    bs = kafka.bootstrap_servers
    topic, group, base = f"{unique}-live", f"{unique}-workers", tmp_path / "backups"
    await create_topic(bs, topic, PARTITIONS)
    command = [sys.executable, "-m", "kafka_sre_tui", "backup", "--cluster", bs, "--backup-dir", str(base),
               "--topics", f"{unique}-*", "--name", "cont", "--continuous", "--roll-seconds", "1",
               "--workers-group", group]
    stop = asyncio.Event()
    producing = asyncio.create_task(produce_until(bs, topic, PARTITIONS, stop))
    first, second = _Worker(command, tmp_path / "first.log"), _Worker(command, tmp_path / "second.log")
    workers = [first, second]
    try:
        await asyncio.gather(first.wait_links(3), second.wait_links(3))  # both in the group, sharing links
        assert first.assigned()[-1] == second.assigned()[-1] == PARTITIONS // 2, (first.text(), second.text())
        assert first.stop(signal.SIGKILL) == -signal.SIGKILL  # mid-chain: its partitions hold durable progress
        # after the session timeout the group gives the killed worker's partitions to the second one
        await second.wait_links(len(second.links()) + 2, seconds=90)
        assert second.assigned()[-1] == PARTITIONS, second.text()
        assert second.stop(signal.SIGTERM) == 0, second.text()
        assert "stopped: last sealed link " in second.text()

        third = _Worker(command, tmp_path / "third.log")  # the whole group is gone: the same command again
        workers.append(third)
        await third.wait_links(2)
        stop.set()
        sent = await producing
        await third.wait_links(len(third.links()) + 2)  # a link sealed after the last record was produced
        assert third.stop(signal.SIGTERM) == 0, third.text()
    finally:
        stop.set()
        for worker in workers:
            worker.stop(signal.SIGKILL)

    links = complete_sets(LocalDir(base))
    chain = chain_of(LocalDir(base), links[-1].set_id)
    assert [link.set_id for link in chain] == [link.set_id for link in links]  # one chain, no fork
    assert chain[0].kind == "full" and all(link.kind == "incremental" for link in chain[1:])
    assert [int(link.chain["link"]) for link in chain] == list(range(len(chain)))
    printed = set(first.links()) | set(second.links()) | set(third.links())
    assert printed == set(range(len(chain)))  # every sealed link was reported by a worker
    expected = await read_all(bs, topic)
    assert sum(map(len, expected.values())) == sent
    assert chain_records(base, chain, topic) == expected  # each record once, in order: no hole, no duplicate
    for parent, child in itertools.pairwise(chain):
        ends = {p.partition: p.end_offset for p in parent.members[0].partitions}
        assert {p.partition: p.start_offset for p in child.members[0].partitions} == ends
    unsealed = [f.name for f in base.iterdir() if is_backup_id(f.name) and not (f / SET_MANIFEST).exists()]
    assert all(link_of_group(LocalDir(base), name) == group for name in unsealed)  # only the link in progress

    assert await asyncio.to_thread(main, ["verify", chain[-1].set_id, "--backup-dir", str(base)]) == 0
    async with KafkaSession(ClusterConfig(name="t", bootstrap_servers=(bs,))) as session:
        committed = await committed_offsets_for_topics(session, [topic])
    assert group not in committed  # membership only: no offset a real consumer could be mistaken for


async def test_workers_n_follow_a_topic_into_s3_and_stop_together(
        kafka: LocalKafka, unique: str, s3proxy: S3Proxy, s3_bucket: str, tmp_path: Path) -> None:
    """``--workers 2 --continuous`` into a real S3 server: the children seal links together, SIGTERM to the
    parent stops them all (exit 0, the newest link printed), and that link verifies with its chain."""
    bs = kafka.bootstrap_servers
    topic = f"{unique}-s3"
    await create_topic(bs, topic, PARTITIONS)
    config = tmp_path / "config.toml"
    config.write_text(f'[backup.object_store]\nendpoint = "{s3proxy.endpoint}"\nregion = "us-east-1"\n'
                      'allow_http = true\nvirtual_hosted_style = false\n')
    url = f"s3://{s3_bucket}/dr"
    stop = asyncio.Event()
    producing = asyncio.create_task(produce_until(bs, topic, PARTITIONS, stop))
    parent = _Worker([sys.executable, "-m", "kafka_sre_tui", "--config", str(config), "backup", "--cluster", bs,
                      "--backup-dir", url, "--topics", topic, "--continuous", "--roll-seconds", "1",
                      "--workers", "2", "--name", "s3"], tmp_path / "parent.log")
    try:
        await parent.wait_links(6)  # both children print each link: about three links
        stop.set()
        sent = await producing
        await parent.wait_links(len(parent.links()) + 4)  # a link sealed after the last record, seen by both
        assert parent.stop(signal.SIGTERM) == 0, parent.text()
    finally:
        stop.set()
        parent.stop(signal.SIGKILL)
    newest = re.search(r"^stopped: last sealed link (\d+) is (\S+);", parent.text(), re.MULTILINE)
    assert newest is not None, parent.text()
    assert int(newest.group(1)) == max(parent.links()) >= 2
    assert sorted(set(parent.links())) == list(range(max(parent.links()) + 1))
    base = open_location(url, s3proxy.options())
    chain = chain_of(base, newest.group(2))
    assert sum(link.records for link in chain) == sent
    verified = await asyncio.to_thread(main, ["--config", str(config), "verify", newest.group(2), "--backup-dir", url])
    assert verified == 0
