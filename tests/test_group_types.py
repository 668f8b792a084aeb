"""Groups of every type on a real broker, made by Kafka's own Java clients (tests/java_clients.py):
the new consumer protocol (KIP-848), the classic one, share groups (KIP-932) and a Kafka Streams
application in a streams group (KIP-1071). What `groups`,
`lag`, the lag engine and restore's offset commit make of them."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from pathlib import Path

import pytest
from aiokafka.protocol.admin import ListGroupsResponse_v2
from textual.widgets import Static

from kafka_sre_tui.cli.main import main
from kafka_sre_tui.config import ClusterConfig, UiSettings
from kafka_sre_tui.engine.drain import DrainTracker, Status
from kafka_sre_tui.engine.drain.sampler import GroupSampler
from kafka_sre_tui.engine.inspect.groups import describe_group, list_groups
from kafka_sre_tui.engine.kafka.group_protocol import listed_groups
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.models import GroupInfo, TopicPartition
from kafka_sre_tui.localkafka import LocalKafka
from kafka_sre_tui.tui.app import KsreApp
from kafka_sre_tui.tui.screens.group_detail import GroupScreen
from tests.backup_helpers import backup
from tests.group_helpers import JAVA_PATIENCE, caught_up, until_group
from tests.java_clients import (
    console_consumer,
    console_share_consumer,
    printed,
    read_share_group_from_earliest,
    share_group_offsets,
    streams_app,
)
from tests.kafka_helpers import create_topic, produce, wait_for
from tests.restore_helpers import restore


async def _cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> object:
    assert await asyncio.to_thread(main, list(args)) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.timeout(420)
async def test_java_consumers_of_both_protocols_show_their_type_members_and_assignments(
        kafka: LocalKafka, cluster: ClusterConfig, unique: str, capsys: pytest.CaptureFixture[str]) -> None:
    bs, new, old = kafka.bootstrap_servers, f"{unique}-new", f"{unique}-old"
    await create_topic(bs, unique, 3)
    await produce(bs, unique, {0: 10, 1: 10, 2: 10})
    async with KafkaSession(cluster) as session:
        with console_consumer(kafka, unique, new, "consumer"), console_consumer(kafka, unique, old, "classic"):
            def owns_all(g: GroupInfo) -> bool:
                return len(g.members) == 1 and len(g.members[0].assignment) == 3 and caught_up(g, 3)
            g = await until_group(session, new, owns_all, "the KIP-848 consumer to own 3 partitions and commit")
            c = await until_group(session, old, owns_all, "the classic consumer to own 3 partitions and commit")

            assert (g.group_type, g.state) == ("consumer", "Stable")  # was: Dead, 0 members
            [member] = g.members
            assert member.client_id == f"java-{new}" and member.member_epoch and member.member_epoch > 0
            assert member.target_assignment == member.assignment == tuple(TopicPartition(unique, p) for p in range(3))
            assert g.group_epoch and g.assignment_epoch == g.group_epoch and g.pending_partitions == 0
            assert {p.member_id for p in g.partitions} == {member.member_id}
            assert (c.group_type, c.state, c.members[0].member_epoch, c.members[0].target_assignment) == (
                "classic", "Stable", None, None)

            listed = {x.group_id: x for x in await list_groups(session)}
            assert (listed[new].group_type, len(listed[new].members)) == ("consumer", 1)
            assert listed[old].group_type == "classic"
            doc = await _cli_json(capsys, "lag", new, "--cluster", bs, "--json")
            assert (doc["type"], doc["member_count"], doc["group_epoch"]) == ("consumer", 1, g.group_epoch)
            assert len(doc["members"][0]["target_assignment"]) == 3 and doc["members"][0]["member_epoch"] > 0
            rows = {x["group_id"]: x for x in await _cli_json(capsys, "groups", "--cluster", bs, "--json")}
            assert (rows[new]["type"], rows[old]["type"]) == ("consumer", "classic")

            async with GroupSampler(session, new, read_timestamps=False) as sampler:
                judged = DrainTracker().observe(await sampler.sample())
            assert judged.member_count == 1 and judged.group_type == "consumer"
            assert all(p.status is not Status.STOPPED for p in judged.partitions)

            app = KsreApp(cluster, UiSettings(refresh_seconds=1))
            async with app.run_test(size=(160, 36)) as pilot:  # the group screen, as an SRE opens it
                app.push_screen(GroupScreen(new, deque(), 1.0))
                await pilot.pause()
                title, members = app.screen.query_one("#detail-title", Static), app.screen.query_one("#members", Static)
                await wait_for(lambda: "consumer group, Stable, 1 members, group epoch" in str(title.render()),
                               "the KIP-848 group's type, state and epochs in its title")
                await wait_for(lambda: f"java-{new}" in str(members.render()), "the member line")
                assert f"(epoch {member.member_epoch}): " in str(members.render())


        empty = await until_group(session, new, lambda x: not x.members, "the KIP-848 group to empty")
        assert (empty.group_type, empty.state) == ("consumer", "Empty")  # was: Dead
        assert [p.committed for p in empty.partitions] == [10, 10, 10]


@pytest.mark.timeout(420)
async def test_restore_commits_into_an_empty_consumer_protocol_group_and_refuses_a_live_one_naming_it(
        kafka: LocalKafka, cluster: ClusterConfig, unique: str, tmp_path: Path) -> None:
    bs, group, target = kafka.bootstrap_servers, f"{unique}-g", f"{unique}-r"
    await create_topic(bs, unique, 2)
    await produce(bs, unique, {0: 20, 1: 20})
    async with KafkaSession(cluster) as session:
        with console_consumer(kafka, unique, group, "consumer"):
            await until_group(session, group, lambda g: caught_up(g, 2), "the KIP-848 consumer to commit")
            done = await backup(cluster, unique, tmp_path)  # the group's offsets (20, 20) are in it
            await restore(cluster, tmp_path, done.backup_id, target_topic=target, create_topic=True)
            live = await restore(cluster, tmp_path, done.backup_id, target_topic=target, resume=True,
                                 restore_consumer_offsets=(group,))
            [refused] = live.groups
            assert not refused.committed
            assert f"java-{group}" in refused.reason and f"consumer group '{group}'" in refused.reason
            still = await describe_group(session, group)
            assert not any(p.topic == target for p in still.partitions)  # nothing written

        await until_group(session, group, lambda g: not g.members, "the KIP-848 group to empty")
        later = await restore(cluster, tmp_path, done.backup_id, target_topic=target, resume=True,
                              restore_consumer_offsets=(group,))
        assert later.groups[0].committed, later.groups[0].reason
        after = await describe_group(session, group)
        assert after.group_type == "consumer"
        assert {p.partition: p.committed for p in after.partitions if p.topic == target} == {0: 20, 1: 20}


@pytest.mark.timeout(420)
async def test_a_streams_application_shows_as_a_streams_group_with_its_tasks_partitions_and_lag(
        kafka: LocalKafka, cluster: ClusterConfig, unique: str, capsys: pytest.CaptureFixture[str]) -> None:
    bs, app = kafka.bootstrap_servers, f"{unique}-app"
    await create_topic(bs, unique, 3)
    await create_topic(bs, f"{unique}-out", 3)
    await produce(bs, unique, {0: 6, 1: 4, 2: 2})
    async with KafkaSession(cluster) as session:
        with streams_app(kafka, unique, f"{unique}-out", app):
            g = await until_group(session, app, lambda x: len(x.members) == 1 and caught_up(x, 3),
                                  "the streams application to own 3 partitions and commit")
            assert (g.group_type, g.state, g.protocol_type) == ("streams", "Stable", "streams")  # was: an error
            [member] = g.members
            assert member.client_id.startswith(f"java-{app}") and member.member_epoch and member.member_epoch > 0
            assert member.assignment == member.target_assignment == tuple(
                TopicPartition(unique, p) for p in range(3))  # its active tasks, as the partitions they read
            assert g.group_epoch and g.assignment_epoch == g.group_epoch

            rows = {x["group_id"]: x for x in await _cli_json(capsys, "groups", "--cluster", bs, "--json")}
            assert (rows[app]["type"], rows[app]["state"], rows[app]["total_lag"]) == ("streams", "Stable", 0)
            await produce(bs, unique, {0: 3})
            doc = await _cli_json(capsys, "lag", app, "--cluster", bs, "--json")
            assert (doc["type"], doc["member_count"], doc["topics"]) == ("streams", 1, [unique])
            assert {p["member_id"] for p in doc["partitions"]} == {member.member_id}
            async with GroupSampler(session, app, read_timestamps=False) as sampler:
                judged = DrainTracker().observe(await sampler.sample())
            assert judged.member_count == 1 and judged.group_type == "streams"
            assert all(p.status is not Status.STOPPED for p in judged.partitions)
            await until_group(session, app, lambda x: caught_up(x, 3), "the streams app to read the 3 new records")

        idle = await until_group(session, app, lambda x: not x.members, "the streams group to empty", seconds=120)
        assert (idle.group_type, idle.state) == ("streams", "Empty")
        assert [p.committed for p in idle.partitions] == [9, 4, 2]


@pytest.mark.timeout(420)
async def test_a_share_group_shows_its_members_and_the_records_not_yet_acknowledged(
        kafka: LocalKafka, cluster: ClusterConfig, unique: str, capsys: pytest.CaptureFixture[str]) -> None:
    bs, group = kafka.bootstrap_servers, f"{unique}-share"
    await create_topic(bs, unique, 2)
    await produce(bs, unique, {0: 7, 1: 3})
    await asyncio.to_thread(read_share_group_from_earliest, kafka, group)
    async with KafkaSession(cluster) as session:
        with console_share_consumer(kafka, unique, group):
            g = await until_group(session, group, lambda x: len(x.members) == 1 and len(x.members[0].assignment) == 2,
                                  "the share consumer to be assigned both partitions")
            assert (g.group_type, g.state, g.protocol_type) == ("share", "Stable", "share")  # was: Dead, 0 members
            assert g.members[0].client_id == f"java-{group}" and g.members[0].target_assignment is None
            await wait_for(lambda: printed(kafka, group) == 10, "the share consumer to print the 10 records",
                           JAVA_PATIENCE, step=0.5)
            await until_group(session, group, lambda x: all(p.committed is not None for p in x.partitions),
                              "share-partition start offsets once records are delivered", seconds=60)

        await until_group(session, group, lambda x: not x.members, "the share group to empty")
        await produce(bs, unique, {0: 5, 1: 2})
        idle = await describe_group(session, group)
        assert (idle.group_type, idle.state, [p.latest_offset for p in idle.partitions]) == ("share", "Empty", [12, 5])
        kafka_view = await asyncio.to_thread(share_group_offsets, kafka, group)  # kafka-share-groups.sh --describe
        for p in idle.partitions:
            start, lag = kafka_view[(unique, p.partition)]
            assert p.committed == start  # the share-partition start offset, as Kafka's own tool shows it
            assert p.lag == (lag if lag is not None else 12 - start if p.partition == 0 else 5 - start)
            assert p.lag is not None and p.lag >= (5 if p.partition == 0 else 2)  # the records never delivered

        rows = {x["group_id"]: x for x in await _cli_json(capsys, "groups", "--cluster", bs, "--json")}
        assert (rows[group]["type"], rows[group]["total_lag"]) == ("share", idle.total_lag)
        doc = await _cli_json(capsys, "lag", group, "--cluster", bs, "--json")
        assert [(p["committed_offset"], p["lag"]) for p in doc["partitions"]] == [
            (p.committed, p.lag) for p in idle.partitions]


def test_a_broker_without_listgroups_v5_lists_classic_groups() -> None:
    response = ListGroupsResponse_v2(0, 0, [("payments", "consumer"), ("connect-x", "connect")])
    assert listed_groups(response) == [("payments", "consumer", None, "classic"),
                                       ("connect-x", "connect", None, "classic")]

