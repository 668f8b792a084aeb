"""Offsets reset and replay refuse while a KIP-848 group (group.protocol=consumer, Kafka's Java consumer)
has active members, from the CLI and the dashboard, naming the group, its type and its members; nothing
is committed or written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Button, Input, Static

from kafka_sre_tui.config import ClusterConfig, UiSettings
from kafka_sre_tui.engine.group_offsets.committed import committed_offsets
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.models import TopicPartition
from kafka_sre_tui.localkafka import LocalKafka
from kafka_sre_tui.tui.app import KsreApp
from kafka_sre_tui.tui.screens.offsets_form import OffsetsResetForm
from tests.group_helpers import caught_up, until_group
from tests.java_clients import console_consumer
from tests.kafka_helpers import create_topic, produce, read_all, wait_for
from tests.test_offsets_reset import ksre


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Snapshots and the audit log of this test, in a directory of its own."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    monkeypatch.setenv("KAFKA_SRE_TUI_AUDIT_LOG", str(tmp_path / "kafka-sre-tui" / "audit.log"))
    yield tmp_path / "kafka-sre-tui"


async def test_reset_and_replay_refuse_while_a_kip848_group_is_active(
        kafka: LocalKafka, cluster: ClusterConfig, unique: str, state: Path) -> None:
    bs, group, target = kafka.bootstrap_servers, f"{unique}-g", f"{unique}-copy"
    await create_topic(bs, unique, 2)
    await create_topic(bs, target, 2)
    await produce(bs, unique, {0: 20, 1: 20})
    async with KafkaSession(cluster) as session:
        with console_consumer(kafka, unique, group, "consumer"):
            g = await until_group(session, group, lambda g: len(g.members) == 1 and caught_up(g, 2),
                                  "the KIP-848 consumer to commit")
            assert g.group_type == "consumer"
            [member] = g.members
            client = f"java-{group}"

            def names_all(text: str) -> bool:
                return (f"group '{group}'" in text and "(consumer group, state Stable)" in text
                        and client in text and member.member_id in text)

            code, _, err = await ksre("offsets", "reset", "--cluster", bs, "--group", group, "--topic", unique,
                                      "--to-earliest", "--execute")
            assert code == 1 and names_all(err) and err.count("\n") == 1, err
            code, _, err = await ksre("replay", "--cluster", bs, "--source-topic", unique, "--group", group,
                                      "--target-topic", target, "--execute")
            assert code == 1 and names_all(err) and err.count("\n") == 1, err

            app = KsreApp(cluster, UiSettings(refresh_seconds=5))
            async with app.run_test(size=(140, 40)) as pilot:
                app.push_screen(OffsetsResetForm(group, unique, None, "earliest"))
                await pilot.pause()
                form = app.screen
                plan = form.query_one("#reset-plan", Static)
                form.query_one("#reset-target", Input).focus()
                await pilot.press("enter")
                await wait_for(lambda: "DRY RUN" in str(plan.render()), "the dry run")
                assert "refused while the group has 1 active member(s) (consumer group" in str(plan.render())
                form.query_one("#reset-confirm", Input).focus()
                await pilot.press(*group)
                await wait_for(lambda: not form.query_one("#reset-commit", Button).disabled, "commit enabled")
                await pilot.click("#reset-commit")
                await wait_for(lambda: "not committed" in str(plan.render()), "the refusal")
                assert names_all(" ".join(str(plan.render()).split())), str(plan.render())

            offsets = await committed_offsets(session, group)
            assert offsets == {TopicPartition(unique, 0): 20, TopicPartition(unique, 1): 20}
    assert await read_all(bs, target) == {0: [], 1: []}
    assert list((state / "offset-snapshots").glob("*.json")) == []
