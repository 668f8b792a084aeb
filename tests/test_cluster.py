"""On a 3-broker cluster: what an SRE sees when a broker stops and returns, groups coordinated by
different brokers, and backup, restore and migration surviving a partition leader's broker restart.

Every test that stops a node starts it again before it ends, so the next finds three brokers.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import GroupCoordinatorNotAvailableError
from textual.widgets import DataTable

from kafka_sre_tui.cli.main import main
from kafka_sre_tui.config import ClusterConfig, UiSettings
from kafka_sre_tui.engine.backup.plan import BackupRequest
from kafka_sre_tui.engine.backup.run import backup_topic
from kafka_sre_tui.engine.inspect.cluster import list_topics
from kafka_sre_tui.engine.inspect.groups import list_groups
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.models import TopicInfo
from kafka_sre_tui.engine.restore.plan import RestoreRequest
from kafka_sre_tui.engine.restore.run import restore_backup
from kafka_sre_tui.localkafka import LocalKafkaCluster
from kafka_sre_tui.tui.app import KsreApp
from kafka_sre_tui.tui.widgets import clusters_pane, topics_pane
from kafka_sre_tui.tui.widgets.live_table import LiveTable
from tests.backup_helpers import read_backup
from tests.kafka_helpers import consume_and_commit, create_topic, produce, read_all, wait_for
from tests.migrate_helpers import run as migrate
from tests.restore_helpers import content

# the first test of each broker set pays for starting it (3 JVMs: ~20 s on 2 idle cores, minutes when busy)
pytestmark = pytest.mark.timeout(600)


def _config(cluster: LocalKafkaCluster) -> ClusterConfig:
    return ClusterConfig(name="three", bootstrap_servers=tuple(n.bootstrap_servers for n in cluster.nodes),
                         request_timeout_seconds=15)


async def _topics(config: ClusterConfig, *names: str) -> dict[str, TopicInfo]:
    async with KafkaSession(config) as s:
        return {t.name: t for t in await list_topics(s, names=list(names))}


async def _until(check: Callable[[], Coroutine[Any, Any, bool]], what: str, seconds: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await check():
        assert loop.time() < deadline, f"timed out after {seconds:g} s waiting for {what}"
        await asyncio.sleep(0.5)


async def _cli_health(bootstrap: str, capsys: pytest.CaptureFixture[str]) -> dict[str, tuple[int, int]]:
    assert await asyncio.to_thread(main, ["topics", "--cluster", bootstrap, "--json"]) == 0
    return {t["name"]: (t["under_replicated_partitions"], t["offline_partitions"])
            for t in json.loads(capsys.readouterr().out)}


async def _create(cluster: LocalKafkaCluster, topic: str, partitions: int, replicas: int,
                  configs: dict[str, str] | None = None) -> None:
    """Create ``topic`` and wait until every node's metadata has it with a leader for each partition
    (a node that just restarted may lag behind the controller)."""
    await create_topic(cluster.bootstrap_servers, topic, partitions, configs, replicas=replicas)

    async def everywhere() -> bool:
        for node in cluster.nodes:
            config = ClusterConfig(name="node", bootstrap_servers=(node.bootstrap_servers,))
            async with KafkaSession(config) as s:
                meta = await s.metadata_object([topic])
            [t] = meta["topics"]
            if t["error_code"] or len(t["partitions"]) != partitions or any(
                    p["leader"] < 0 for p in t["partitions"]):
                return False
        return True

    await _until(everywhere, f"every node to know topic {topic}")


async def test_stopped_broker_shows_under_replicated_and_offline_partitions_until_it_returns(
        kafka_cluster: LocalKafkaCluster, unique: str, capsys: pytest.CaptureFixture[str]) -> None:
    config, bs = _config(kafka_cluster), kafka_cluster.bootstrap_servers
    replicated, single = f"{unique}-rf3", f"{unique}-rf1"
    await _create(kafka_cluster, replicated, 3, replicas=3)
    await _create(kafka_cluster, single, 6, replicas=1)
    await produce(bs, single, dict.fromkeys(range(6), 2))
    before = await _topics(config, replicated, single)
    on_two = sum(p.replicas == (2,) for p in before[single].partitions)
    assert on_two >= 1 and before[replicated].under_replicated == 0 and before[single].offline == 0

    await asyncio.to_thread(kafka_cluster.node(2).stop, keep_data=True)
    try:
        async def degraded() -> bool:
            now = await _topics(config, replicated, single)
            return (now[replicated].under_replicated, now[single].offline) == (3, on_two)

        await _until(degraded, "3 under-replicated and the partitions led by node 2 offline")
        now = await _topics(config, replicated, single)
        assert all(p.leader not in (None, 2) and 2 not in p.isr for p in now[replicated].partitions)
        assert all(p.offline == (p.replicas == (2,)) for p in now[single].partitions)
        assert (await _cli_health(bs, capsys))[replicated] == (3, 0)
        assert (await _cli_health(bs, capsys))[single][1] == on_two  # (an empty ISR counts as under-replicated)
        await _dashboard_shows(config, {replicated: "3"}, lambda offline: offline >= on_two)
    finally:
        await asyncio.to_thread(kafka_cluster.node(2).start)

    async def healed() -> bool:
        now = await _topics(config, replicated, single)
        return now[replicated].under_replicated == 0 and now[single].offline == 0

    await _until(healed, "node 2 back in every ISR and its partitions online")
    assert (await _cli_health(bs, capsys))[replicated] == (0, 0) and (await _cli_health(bs, capsys))[single] == (0, 0)
    await _dashboard_shows(config, {replicated: "0", single: "0"}, lambda offline: offline == 0)
    assert {p: len(r) for p, r in (await read_all(bs, single)).items()} == dict.fromkeys(range(6), 2)


async def _dashboard_shows(config: ClusterConfig, urp: dict[str, str], offline: Callable[[int], bool]) -> None:
    """The dashboard (its own run: Textual takes stdout while it runs) shows each topic's URP count as
    given in the Topics tab, and a cluster-wide offline count that satisfies ``offline`` in Clusters."""
    app = KsreApp(config, UiSettings(refresh_seconds=1))
    async with app.run_test(size=(160, 40)):
        topics = app.query_one("#topics-table", LiveTable)
        clusters = app.query_one("#clusters-table", DataTable)

        def shown(topic: str) -> str:
            return str(list(topics.row(topic))[URP]) if topic in topics.row_keys() else ""

        def offline_shown() -> bool:
            text = str(clusters.get_row(config.name)[OFFLINE]).replace(",", "") if clusters.row_count else ""
            return text.isdigit() and offline(int(text))

        await wait_for(lambda: all(shown(t) == n for t, n in urp.items()), f"URP {urp} in the Topics tab", 60)
        await wait_for(offline_shown, "the offline partitions in the Clusters tab", 60)


async def _coordinator(admin: AIOKafkaAdminClient, group: str) -> int:
    """The group's coordinator, once the broker hosting its offsets partition has loaded it (a node
    that just restarted is still loading for a while)."""
    for _ in range(120):
        try:
            return await admin.find_coordinator(group)
        except GroupCoordinatorNotAvailableError:
            await asyncio.sleep(0.5)
    raise AssertionError(f"no coordinator for group {group} within 60 s")


async def test_groups_on_every_coordinator_are_listed_with_their_lag(
        kafka_cluster: LocalKafkaCluster, unique: str, capsys: pytest.CaptureFixture[str]) -> None:
    bs = kafka_cluster.bootstrap_servers
    await _create(kafka_cluster, unique, 2, replicas=3)
    await produce(bs, unique, {0: 30, 1: 20})
    admin = AIOKafkaAdminClient(bootstrap_servers=bs)
    await admin.start()
    try:  # one group per coordinator: names are tried until every broker coordinates one (a node a test
        # restarted leads nothing until the controller hands its leaderships back: ask again for a while)
        by_coordinator: dict[int, str] = {}
        for _round in range(60):
            by_coordinator = {}
            for i in range(200):
                name = f"{unique}-g{i}"
                by_coordinator.setdefault(await _coordinator(admin, name), name)
                if len(by_coordinator) == 3:
                    break
            if len(by_coordinator) == 3:
                break
            await asyncio.sleep(1)
    finally:
        await admin.close()
    assert sorted(by_coordinator) == [1, 2, 3]
    consumed = {}
    for n, (_node, group) in enumerate(sorted(by_coordinator.items())):
        consumed[group] = {0: 5 * n, 1: 20 - n}
        await consume_and_commit(bs, group, unique, consumed[group])
    expected_lag = {g: 30 - c[0] + 20 - c[1] for g, c in consumed.items()}

    async with KafkaSession(_config(kafka_cluster)) as s:
        listed = {g.group_id: g for g in await list_groups(s) if g.group_id in consumed}
    assert {g: (listed[g].coordinator_id, listed[g].total_lag) for g in consumed} == {
        g: (c, expected_lag[g]) for c, g in by_coordinator.items()}
    assert await asyncio.to_thread(main, ["groups", "--cluster", bs, "--json"]) == 0
    cli = {g["group_id"]: g["total_lag"] for g in json.loads(capsys.readouterr().out)}
    assert {g: cli.get(g) for g in consumed} == expected_lag


async def _produce_large(bootstrap: str, topic: str, partitions: int, per_partition: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, acks="all")
    await producer.start()
    try:
        for i in range(per_partition):
            for p in range(partitions):
                await producer.send(topic, f"{p}-{i}-".encode() + bytes(1000), key=str(i).encode(), partition=p)
        await producer.flush()
    finally:
        await producer.stop()


async def _restart_leader_during(kafka_cluster: LocalKafkaCluster, topic: str, job: asyncio.Task[Any],
                                 events: list[object]) -> Any:
    """Once ``job`` has reported progress, restart the broker leading ``topic``'s partition 0 (a clean
    stop: leadership moves), check the job was still running while that broker was down, and return
    the job's result."""
    await wait_for(lambda: bool(events) or job.done(), "the job's first progress report")
    [info] = (await _topics(_config(kafka_cluster), topic)).values()
    leader = info.partitions[0].leader
    assert leader is not None
    await asyncio.to_thread(kafka_cluster.node(leader).stop, keep_data=True)
    try:
        assert not job.done(), "the job ended before the broker stopped: the test needs more data"
    finally:
        await asyncio.to_thread(kafka_cluster.node(leader).start)
    return await job


URP = [c.key for c in topics_pane.COLUMNS].index("urp")
OFFLINE = [key for _label, key in clusters_pane.COLUMNS].index("offline")

RATE = 0.6  # MB/s: about 10 s for the data below, so a broker restart lands mid-run


async def test_backup_and_restore_survive_a_leader_restart(
        kafka_cluster: LocalKafkaCluster, unique: str, tmp_path: Path) -> None:
    config, bs = _config(kafka_cluster), kafka_cluster.bootstrap_servers
    await _create(kafka_cluster, unique, 3, replicas=3, configs={"min.insync.replicas": "2"})
    await _produce_large(bs, unique, 3, 2000)
    source = await read_all(bs, unique)

    events: list[object] = []
    job = asyncio.create_task(backup_topic(config, BackupRequest(unique, tmp_path, rate_limit_mb_s=RATE),
                                           events.append))
    done = await _restart_leader_during(kafka_cluster, unique, job, events)
    assert read_backup(done.path) == source  # every record once, offsets and all

    events = []
    await _create(kafka_cluster, f"{unique}-r", 3, replicas=3, configs={"min.insync.replicas": "2"})
    request = RestoreRequest(tmp_path, done.backup_id, target_topic=f"{unique}-r", rate_limit_mb_s=RATE)
    job = asyncio.create_task(restore_backup(config, request, events.append, settle_seconds=0.1))
    await _restart_leader_during(kafka_cluster, f"{unique}-r", job, events)
    restored = await read_all(bs, f"{unique}-r")
    assert {p: content(r) for p, r in restored.items()} == {p: content(r) for p, r in source.items()}


async def test_a_rate_limited_migration_over_three_leaders_copies_every_record(
        kafka_cluster: LocalKafkaCluster, unique: str, tmp_path: Path) -> None:
    """One fetch loop per source leader, all handing to one paced writer: a loop that settled every
    lane moved a partition whose answer another loop still held past it (7 of 1,000 records lost in
    1 of 2 runs before the fix)."""
    config, bs = _config(kafka_cluster), kafka_cluster.bootstrap_servers
    await _create(kafka_cluster, unique, 6, replicas=3, configs={"min.insync.replicas": "2"})
    await _produce_large(bs, unique, 6, 600)
    source = await read_all(bs, unique)
    leaders = {p.leader for p in (await _topics(config, unique))[unique].partitions}
    assert len(leaders) > 1, "the test needs partitions led by several brokers"

    result = await migrate(config, config, tmp_path / "migrate", unique, target_topic=f"{unique}-m",
                           create_topic=True, replication_factor=3, rate_limit_mb_s=RATE * 2)
    assert [p.records for p in result.partitions] == [600] * 6
    migrated = await read_all(bs, f"{unique}-m")
    assert {p: content(r) for p, r in migrated.items()} == {p: content(r) for p, r in source.items()}


async def test_migration_survives_a_leader_restart(kafka_cluster: LocalKafkaCluster, unique: str,
                                                   tmp_path: Path) -> None:
    config, bs = _config(kafka_cluster), kafka_cluster.bootstrap_servers
    await _create(kafka_cluster, unique, 3, replicas=3, configs={"min.insync.replicas": "2"})
    await _produce_large(bs, unique, 3, 2000)
    source = await read_all(bs, unique)

    events = []
    job = asyncio.create_task(migrate(config, config, tmp_path / "migrate", unique, events,
                                      target_topic=f"{unique}-m", create_topic=True, replication_factor=3,
                                      rate_limit_mb_s=RATE))
    await _restart_leader_during(kafka_cluster, unique, job, events)
    migrated = await read_all(bs, f"{unique}-m")
    assert {p: content(r) for p, r in migrated.items()} == {p: content(r) for p, r in source.items()}


