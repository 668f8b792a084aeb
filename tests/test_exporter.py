"""The lag exporter against a real broker: values match `lag GROUP --json`, move, and stay bounded."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from pathlib import Path

import pytest

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.errors import KafkaRequestFailed, NotFound
from kafka_sre_tui.engine.inspect.groups import describe_group
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.models import GroupInfo
from kafka_sre_tui.localkafka import LocalKafka, free_port
from tests.java_clients import console_consumer, console_share_consumer, read_share_group_from_earliest
from tests.kafka_helpers import consume_and_commit, create_topic, produce, wait_for
from tests.observe_helpers import CliProcess, Samples, scrape, value


async def _lag_json(kafka: LocalKafka, group: str, tmp_path: Path) -> int:
    async with CliProcess("lag", group, "--cluster", kafka.bootstrap_servers, "--json", state_dir=tmp_path) as run:
        assert await run.wait() == 0
        return int(run.output["total_lag"])


async def wait_for_group(session: KafkaSession, group_id: str, ready: Callable[[GroupInfo], bool], what: str,
                         seconds: float = 150.0) -> None:
    """Until ``ready`` holds for the group (a JVM joining on a loaded machine takes its time)."""
    async def holds() -> bool:
        try:
            return ready(await describe_group(session, group_id))
        except (NotFound, KafkaRequestFailed):
            return False
    deadline = asyncio.get_running_loop().time() + seconds
    while not await holds():
        assert asyncio.get_running_loop().time() < deadline, f"timed out after {seconds:g} s waiting for {what}"
        await asyncio.sleep(0.5)


async def test_exporter_serves_lag_of_matching_groups_and_follows_commits(kafka: LocalKafka, unique: str,
                                                                        tmp_path: Path) -> None:
    await create_topic(kafka.bootstrap_servers, unique, 2)
    await produce(kafka.bootstrap_servers, unique, {0: 120, 1: 60})
    group, other = f"{unique}-a", f"{unique}-other"
    await consume_and_commit(kafka.bootstrap_servers, group, unique, {0: 20, 1: 50})
    await consume_and_commit(kafka.bootstrap_servers, other, unique, {0: 1, 1: 1})
    port = free_port()
    latest: Samples = {}

    def lag_is(expected: int) -> bool:
        latest.clear()
        latest.update(scrape(port) or {})
        return value(latest, "kafka_sre_group_lag_records", group=group) == expected and (
            value(latest, "kafka_sre_group_lag_seconds", group=group) is not None)

    async with CliProcess("exporter", "--cluster", kafka.bootstrap_servers, "--groups", f"^{group}$",
                          "--metrics-port", str(port), "--interval", "0.3", "--max-partition-series", "1",
                          state_dir=tmp_path):
        first = await _lag_json(kafka, group, tmp_path)
        assert first == 110
        await wait_for(lambda: lag_is(first), f"the exporter to show lag {first}")
        assert value(latest, "kafka_sre_group_lag_records", group=other) is None  # filtered out
        assert value(latest, "kafka_sre_exporter_groups", cluster=kafka.bootstrap_servers) == 1
        assert value(latest, "kafka_sre_exporter_up", cluster=kafka.bootstrap_servers) == 1
        seconds = value(latest, "kafka_sre_group_lag_seconds", group=group)
        assert seconds is not None and math.isfinite(seconds) and seconds >= 0
        assert value(latest, "kafka_sre_group_lag_seconds_lower_bound", group=group) in (0, 1)
        # the cap keeps the larger partition lag only and counts the other
        partitions = {dict(ls)["partition"]: v for (n, ls), v in latest.items()
                      if n == "kafka_sre_partition_lag_records"}
        assert partitions == {"0": 100}
        assert value(latest, "kafka_sre_partition_series_dropped") == 1
        assert sum(v for (n, _), v in latest.items() if n == "kafka_sre_group_status") == 1

        await consume_and_commit(kafka.bootstrap_servers, group, unique, {0: 110, 1: 60})
        second = await _lag_json(kafka, group, tmp_path)
        assert second == 10
        await wait_for(lambda: lag_is(second), f"the exporter to follow the commit to lag {second}")
        assert value(latest, "kafka_sre_exporter_rounds_total", cluster=kafka.bootstrap_servers) >= 2
        assert value(latest, "kafka_sre_exporter_errors_total", cluster=kafka.bootstrap_servers) == 0


@pytest.mark.timeout(420)
async def test_exporter_labels_every_group_with_its_type(kafka: LocalKafka, cluster: ClusterConfig, unique: str,
                                                         tmp_path: Path) -> None:
    """A KIP-848 consumer group and a share group made by Kafka's own Java clients, and a classic group:
    each series of a group carries ``group_type``, so a dashboard can tell them apart."""
    bs, new, shared, old = kafka.bootstrap_servers, f"{unique}-new", f"{unique}-shared", f"{unique}-old"
    await create_topic(bs, unique, 2)
    await produce(bs, unique, {0: 10, 1: 10})
    await consume_and_commit(bs, old, unique, {0: 4, 1: 4})
    await asyncio.to_thread(read_share_group_from_earliest, kafka, shared)
    async with KafkaSession(cluster) as session:
        with console_consumer(kafka, unique, new, "consumer"), console_share_consumer(kafka, unique, shared):
            await wait_for_group(session, new, lambda g: sum(p.committed or 0 for p in g.partitions) == 20,
                                 "the KIP-848 consumer to commit all 20 records")
            await wait_for_group(session, shared, lambda g: g.group_type == "share" and bool(g.members),
                                 "the share consumer to join")
    port = free_port()
    latest: Samples = {}

    def all_three() -> bool:
        latest.clear()
        latest.update(scrape(port) or {})
        return all(value(latest, "kafka_sre_group_members", group=g) is not None for g in (new, shared, old))

    async with CliProcess("exporter", "--cluster", bs, "--groups", f"^{unique}-", "--metrics-port", str(port),
                          "--interval", "0.5", state_dir=tmp_path):
        await wait_for(all_three, "the exporter to show the three groups", seconds=60)
    types = {dict(ls)["group"]: dict(ls)["group_type"] for (n, ls), _ in latest.items()
             if n == "kafka_sre_group_lag_records"}
    assert types == {new: "consumer", shared: "share", old: "classic"}
    assert value(latest, "kafka_sre_group_lag_records", group=old, group_type="classic") == 12
    assert value(latest, "kafka_sre_group_lag_records", group=new, group_type="consumer") == 0
    assert {dict(ls)["group_type"] for (n, ls), _ in latest.items()
            if n == "kafka_sre_partition_lag_records" and dict(ls)["group"] == old} == {"classic"}
