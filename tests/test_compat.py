"""The compatibility set: what an SRE does most, on every Kafka version the project supports.

Each version gets one broker, started by the first test that needs it and stopped when that version's
tests are done; the newest (the suite's default) reuses the session broker. Most groups here are made
by aiokafka (classic protocol); ``test_groups_of_every_type_the_version_has`` makes them with Kafka's
own Java clients of that version. Streams groups are tested on the newest version only
(test_group_types.py): Kafka 4.1 has them as an early-access feature behind unstable settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer

from kafka_sre_tui.cli.main import main
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.localkafka import KAFKA_VERSION, LocalKafka, LocalKafkaError
from tests.backup_helpers import backup
from tests.drain_helpers import PacedConsumer, run_cli
from tests.group_helpers import caught_up, until_group
from tests.java_clients import console_consumer, console_share_consumer, share_group_properties
from tests.kafka_helpers import consume_and_commit, create_topic, produce, read_all, wait_for
from tests.migrate_helpers import cluster_of, produce_varied, run
from tests.restore_helpers import content, restore

COMPAT_VERSIONS = ("3.9.1", "4.1.2", KAFKA_VERSION)

# the first test of each broker set pays for starting it (3 JVMs: ~20 s on 2 idle cores, minutes when busy)
pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module", params=COMPAT_VERSIONS)
def versioned(request: pytest.FixtureRequest) -> Iterator[LocalKafka]:
    if request.param == KAFKA_VERSION:
        yield request.getfixturevalue("kafka")
        return
    broker = LocalKafka(version=request.param, heap="384m", startup_timeout=180,
                        broker_properties=share_group_properties(request.param))
    try:
        broker.start()
    except LocalKafkaError as exc:
        pytest.fail(f"local Kafka {request.param} did not start: {exc}", pytrace=False)
    yield broker
    broker.stop()


async def test_inspection_commands(versioned: LocalKafka, unique: str, capsys: pytest.CaptureFixture[str]) -> None:
    bs = versioned.bootstrap_servers
    await create_topic(bs, unique, 3)
    await produce(bs, unique, {0: 12, 1: 5, 2: 3})
    await consume_and_commit(bs, f"{unique}-idle", unique, {0: 4, 1: 5})
    live = AIOKafkaConsumer(unique, bootstrap_servers=bs, group_id=f"{unique}-live", enable_auto_commit=False)
    await live.start()
    try:
        await wait_for(lambda: len(live.assignment()) == 3, "the live member's assignment")
        assert await asyncio.to_thread(main, ["topics", "--cluster", bs, "--json"]) == 0
        topics = {t["name"]: t for t in json.loads(capsys.readouterr().out)}
        assert await asyncio.to_thread(main, ["groups", "--cluster", bs, "--json"]) == 0
        groups = {g["group_id"]: g for g in json.loads(capsys.readouterr().out)}
        assert await asyncio.to_thread(main, ["lag", f"{unique}-live", "--cluster", bs, "--json"]) == 0
        live_lag = json.loads(capsys.readouterr().out)
    finally:
        await live.stop()
    assert await asyncio.to_thread(main, ["lag", f"{unique}-idle", "--cluster", bs, "--json"]) == 0
    idle_lag = json.loads(capsys.readouterr().out)

    assert topics[unique]["messages"] == 20 and topics[unique]["partition_count"] == 3
    assert groups[f"{unique}-idle"]["total_lag"] == 8 and groups[f"{unique}-idle"]["state"] == "Empty"
    assert groups[f"{unique}-live"]["state"] == "Stable"
    assert [(p["partition"], p["committed_offset"], p["lag"]) for p in idle_lag["partitions"]] == [
        (0, 4, 8), (1, 5, 0), (2, None, None)]
    assert live_lag["state"] == "Stable" and len(live_lag["members"]) == 1
    assert {p["partition"] for p in live_lag["partitions"]} == {0, 1, 2}


async def test_drain_follows_a_consumer_catching_up(versioned: LocalKafka, unique: str) -> None:
    bs = versioned.bootstrap_servers
    await create_topic(bs, unique, 2)
    await produce(bs, unique, {0: 1000, 1: 1000})
    consumer = await PacedConsumer(bs, f"{unique}-g", unique, rate=200).start()  # ~10 s of lag to drain
    try:
        drained = await run_cli("drain", "--cluster", bs, "--group-id", f"{unique}-g", "--max-lag", "0",
                                "--timeout-seconds", "60", "--interval", "0.25", "--window-seconds", "2",
                                limit=90)
    finally:
        await consumer.stop()
    assert drained.code == 0, drained.stderr
    assert drained.result["outcome"] == "drained" and drained.samples[-1]["total_lag"] == 0
    assert "DRAINING" in {s["status"] for s in drained.samples}
    assert all(s["member_count"] == 1 for s in drained.samples)


async def test_backup_restore_round_trip(versioned: LocalKafka, unique: str, tmp_path: Path) -> None:
    bs, group = versioned.bootstrap_servers, f"{unique}-g"
    cluster = cluster_of(versioned, "compat")
    await create_topic(bs, unique, 2)
    await produce_varied(bs, unique, 2, 60)  # keys, tombstones, headers, timestamps, transactions
    await consume_and_commit(bs, group, unique, {0: 25, 1: 40})
    done = await backup(cluster, unique, tmp_path)
    result = await restore(cluster, tmp_path, done.backup_id, target_topic=f"{unique}-r", create_topic=True,
                           restore_consumer_offsets=(group,))
    source, restored = await read_all(bs, unique), await read_all(bs, f"{unique}-r")
    assert {p: content(r) for p, r in restored.items()} == {p: content(r) for p, r in source.items()}
    [commit] = result.groups
    assert commit.committed, commit.reason
    # the target has no transaction markers, so offsets shift: the group resumes at the same record
    assert {p: source[p][commit.source_offsets[p]][1:] for p in (0, 1)} == {
        p: restored[p][commit.offsets[p]][1:] for p in (0, 1)}


async def test_migrate_translates_group_offsets(versioned: LocalKafka, kafka2: LocalKafka, unique: str,
                                                tmp_path: Path) -> None:
    bs, group = versioned.bootstrap_servers, f"{unique}-g"
    await create_topic(bs, unique, 2)
    await produce(bs, unique, {0: 80, 1: 50})
    await consume_and_commit(bs, group, unique, {0: 30, 1: 50})
    await create_topic(kafka2.bootstrap_servers, unique, 2)
    await produce(kafka2.bootstrap_servers, unique, {0: 5})  # target offsets shifted: translation matters
    result = await run(cluster_of(versioned, "old"), cluster_of(kafka2, "new"), tmp_path, unique,
                       groups=(group,), force=True)
    [commit] = result.groups
    assert commit.committed and commit.offsets == {0: 35, 1: 50}, commit.reason
    source, target = await read_all(bs, unique), await read_all(kafka2.bootstrap_servers, unique)
    assert content(target[0][5:]) == content(source[0]) and content(target[1]) == content(source[1])


def _types(version: str) -> dict[str, str]:
    """Group protocol -> the type Kafka reports, for each kind of group ``version`` serves by default
    (KIP-848 consumer groups from 4.0; share groups from 4.1, a preview there the fixture enables)."""
    major, minor = (int(x) for x in version.split(".")[:2])
    types = {"classic": "classic"}
    if major >= 4:
        types["consumer"] = "consumer"
    if (major, minor) >= (4, 1):
        types["share"] = "share"
    return types


@pytest.mark.timeout(420)
async def test_groups_of_every_type_the_version_has(versioned: LocalKafka, unique: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    bs, types = versioned.bootstrap_servers, _types(versioned.version)
    await create_topic(bs, unique, 3)
    await produce(bs, unique, {0: 4, 1: 4, 2: 4})
    groups = {protocol: f"{unique}-{protocol}" for protocol in types}
    with contextlib.ExitStack() as running:
        for protocol, group in groups.items():
            running.enter_context(console_share_consumer(versioned, unique, group) if protocol == "share"
                                  else console_consumer(versioned, unique, group, protocol))
        async with KafkaSession(cluster_of(versioned, "compat")) as session:
            for protocol, group in groups.items():
                ready = (lambda g: len(g.members) == 1) if protocol == "share" else (
                    lambda g: len(g.members) == 1 and caught_up(g, 3))
                await until_group(session, group, ready, f"the Java {protocol} client's group on {versioned.version}")
        assert await asyncio.to_thread(main, ["groups", "--cluster", bs, "--json"]) == 0
        rows = {g["group_id"]: g for g in json.loads(capsys.readouterr().out)}
        assert await asyncio.to_thread(main, ["lag", groups["classic"], "--cluster", bs, "--json"]) == 0
        classic = json.loads(capsys.readouterr().out)
    for protocol, group in groups.items():
        assert (rows[group]["type"], rows[group]["state"], rows[group]["member_count"]) == (
            types[protocol], "Stable", 1), f"{protocol} group on {versioned.version}"
    assert (classic["type"], classic["total_lag"], len(classic["partitions"])) == ("classic", 0, 3)
