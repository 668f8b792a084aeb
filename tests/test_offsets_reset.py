"""`offsets reset | rollback | snapshots` against the real broker: dry runs write nothing, execute +
rollback restore the exact offsets, refusals (active members, read_only), and a consumer after --skip 1."""

from __future__ import annotations

import asyncio
import json
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka import TopicPartition as KafkaTP

from kafka_sre_tui.engine.audit import read_audit
from kafka_sre_tui.localkafka import LocalKafka
from tests.drain_helpers import ROOT
from tests.kafka_helpers import consume_and_commit, create_topic, produce, wait_for


async def ksre(*args: str) -> tuple[int, Any, str]:
    """Run the CLI as a process with --json; (exit code, parsed stdout or None, stderr)."""
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "tests.drain_helpers", *args, "--json",
                                                cwd=ROOT, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, json.loads(out) if out.strip() else None, err.decode()


async def committed(bs: str, group: str, topic: str, partitions: int) -> dict[int, int | None]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bs, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        return {p: await consumer.committed(KafkaTP(topic, p)) for p in range(partitions)}
    finally:
        await consumer.stop()


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    state = tmp_path / "kafka-sre-tui"
    monkeypatch.setenv("KAFKA_SRE_TUI_AUDIT_LOG", str(state / "audit.log"))  # wins over config.toml's [audit]
    return state


async def test_dry_run_writes_nothing_and_execute_then_rollback_restores_exactly(
        kafka: LocalKafka, unique: str, state: Path) -> None:
    bs, group = kafka.bootstrap_servers, f"{unique}-g"
    await create_topic(bs, unique, 2)
    await produce(bs, unique, {0: 10, 1: 10})
    await consume_and_commit(bs, group, unique, {0: 3, 1: 7})

    code, dry, err = await ksre("offsets", "reset", "--cluster", bs, "--group", group, "--topic", unique,
                                "--to-earliest")
    assert code == 0, err
    assert dry["dry_run"] is True and dry["snapshot_id"] is None
    assert [(p["current_offset"], p["new_offset"], p["records_replayed"]) for p in dry["partitions"]] == [
        (3, 0, 3), (7, 0, 7)]
    assert await committed(bs, group, unique, 2) == {0: 3, 1: 7}
    assert read_audit(state / "audit.log") == []

    code, done, err = await ksre("offsets", "reset", "--cluster", bs, "--group", group, "--topic", unique,
                                 "--to-latest", "--partitions", "1", "--execute")
    assert code == 0, err
    assert done["dry_run"] is False and [(p["partition"], p["new_offset"], p["records_skipped"])
                                          for p in done["partitions"]] == [(1, 10, 3)]
    assert await committed(bs, group, unique, 2) == {0: 3, 1: 10}
    snapshot = state / "offset-snapshots" / f"{done['snapshot_id']}.json"
    assert stat.S_IMODE(snapshot.stat().st_mode) == 0o600
    assert stat.S_IMODE(snapshot.parent.stat().st_mode) == 0o700

    code, listed, err = await ksre("offsets", "snapshots")
    assert [s["snapshot_id"] for s in listed] == [done["snapshot_id"]] and listed[0]["offsets"] == {"1": 7}

    code, rollback_dry, err = await ksre("offsets", "rollback", done["snapshot_id"], "--cluster", bs)
    assert code == 0 and rollback_dry["dry_run"] and await committed(bs, group, unique, 2) == {0: 3, 1: 10}
    code, rolled, err = await ksre("offsets", "rollback", done["snapshot_id"], "--cluster", bs, "--execute")
    assert code == 0 and rolled["snapshot_id"] != done["snapshot_id"], err  # the rollback is undoable too
    assert await committed(bs, group, unique, 2) == {0: 3, 1: 7}
    entries = read_audit(state / "audit.log")
    assert [(e["action"], e["result"], e["group"]) for e in entries] == [
        ("offsets reset", "ok", group), (f"offsets rollback of {done['snapshot_id']}", "ok", group)]
    assert entries[0]["parameters"]["snapshot_id"] == done["snapshot_id"]


async def test_execute_refuses_while_members_are_active_and_on_read_only(
        kafka: LocalKafka, unique: str, state: Path, tmp_path: Path) -> None:
    bs, group = kafka.bootstrap_servers, f"{unique}-g"
    await create_topic(bs, unique, 1)
    await produce(bs, unique, {0: 5})
    member = AIOKafkaConsumer(unique, bootstrap_servers=bs, group_id=group, client_id="billing-worker",
                              auto_offset_reset="earliest")
    await member.start()
    try:
        await wait_for(lambda: bool(member.assignment()), "the member's assignment")
        await member.getmany(timeout_ms=1000)
        await member.commit()
        code, _, err = await ksre("offsets", "reset", "--cluster", bs, "--group", group, "--topic", unique,
                                  "--to-earliest", "--execute")
        assert code == 1 and "billing-worker" in err and "1 active member(s) (classic group" in err
        assert err.count("\n") == 1
        assert (await committed(bs, group, unique, 1))[0] == 5
        assert list((state / "offset-snapshots").glob("*.json")) == []
    finally:
        await member.stop()
    config = tmp_path / "config.toml"
    config.write_text(f'[clusters.prod]\nbootstrap_servers = "{bs}"\nread_only = true\n')
    code, _, err = await ksre("offsets", "reset", "--config", str(config), "--cluster", "prod", "--group", group,
                              "--topic", unique, "--to-earliest", "--execute")
    assert code == 2 and "read_only" in err
    assert (await committed(bs, group, unique, 1))[0] == 5
    assert [(e["result"], e["cluster"]) for e in read_audit(state / "audit.log")] == [
        ("refused", bs), ("refused", "prod")]


async def test_a_consumer_resumes_one_record_later_after_skip_1(kafka: LocalKafka, unique: str, state: Path) -> None:
    bs, group = kafka.bootstrap_servers, f"{unique}-g"
    await create_topic(bs, unique, 1)
    await produce(bs, unique, {0: 6})
    await consume_and_commit(bs, group, unique, {0: 2})
    code, done, err = await ksre("offsets", "reset", "--cluster", bs, "--group", group, "--topic", unique,
                                 "--skip", "1", "--execute")
    assert code == 0, err
    assert [(p["current_offset"], p["new_offset"], p["records_skipped"]) for p in done["partitions"]] == [(2, 3, 1)]
    consumer = AIOKafkaConsumer(unique, bootstrap_servers=bs, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        batch: dict[Any, Any] = {}
        for _ in range(50):
            batch = await consumer.getmany(timeout_ms=500)
            if batch:
                break
        first = next(iter(batch.values()))[0]
        assert (first.offset, first.value) == (3, b"0-3")
    finally:
        await consumer.stop()
