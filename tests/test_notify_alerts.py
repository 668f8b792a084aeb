"""Alerts sent while a job runs with --notify: a following migration's lag above its threshold and
back, a group becoming AT RISK of data loss and then LOST. Received by a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka import TopicPartition as TP
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete

from kafka_sre_tui.cli.main import main
from kafka_sre_tui.engine.drain.data_loss import DataLoss, GroupDataLossSeen, LossStatus
from kafka_sre_tui.engine.migrate.request import MigrateProgress
from kafka_sre_tui.engine.models import TopicPartition
from kafka_sre_tui.localkafka import LocalKafka
from kafka_sre_tui.observe.alerts import JobAlerts, LagThreshold
from kafka_sre_tui.observe.job import JobState
from tests.kafka_helpers import consume_and_commit, create_topic, produce, wait_for
from tests.observe_helpers import CliProcess, Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def _config(tmp_path: Path, receiver: Receiver, extra: str = "") -> str:
    path = tmp_path / "config.toml"
    path.write_text(f'[notify]\nwebhooks = ["{receiver.url}/hook"]\nslack_webhooks = ["{receiver.url}/slack"]\n'
                    f"timeout_seconds = 2\nretries = 1\n{extra}")
    return str(path)


def _events(receiver: Receiver) -> list[str]:
    return [b["event"] for b in receiver.bodies("/hook")]


async def test_follow_migration_alerts_once_when_its_lag_goes_above_the_threshold_and_once_back(
        kafka: LocalKafka, unique: str, tmp_path: Path, receiver: Receiver) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 2)
    producer = AIOKafkaProducer(bootstrap_servers=bs, linger_ms=20, max_request_size=4 << 20)
    await producer.start()
    try:  # 7.5 MB per partition: more than one round of the copy fetches (4 MB a partition), so it is seen behind
        for i in range(6000):
            await producer.send(unique, bytes(2500), key=str(i).encode(), partition=i % 2)
        await producer.flush()
    finally:
        await producer.stop()
    config = _config(tmp_path, receiver, "migration_lag_records = 100\n")
    async with CliProcess("migrate", "--config", config, "--source-cluster", bs, "--source-topic", unique,
                          "--target-cluster", bs, "--target-topic", f"{unique}-copy", "--create-topic", "--follow",
                          "--state-dir", str(tmp_path / "state"), "--notify",
                          "--rate-limit", "4", state_dir=tmp_path) as run:
        await wait_for(lambda: "migration.lag_recovered" in _events(receiver), "the lag to come back under", 60)
        await produce(bs, unique, {0: 10})  # under the threshold: nothing to tell
        await asyncio.sleep(1.5)  # three progress samples at least (one every 0.5 s)
        assert run.proc is not None
        run.proc.send_signal(signal.SIGINT)
        assert await run.wait() == 130
    assert _events(receiver) == ["migration.lag_above", "migration.lag_recovered", "migration.failed"]
    above, back, ended = receiver.bodies("/hook")
    assert above["kind"] == "migrate" and above["exit_code"] is None and above["state"] == "running"
    assert above["subject"] == f"{bs}/{unique} -> {bs}/{unique}-copy"
    assert above["alert"]["lag_records"] > 100 and above["alert"]["threshold_records"] == 100
    assert above["alert"]["threshold_seconds"] is None
    assert "above 100 records" in above["message"]
    assert back["alert"]["lag_records"] <= 50 and "back under 100 records" in back["message"]
    assert ended["interrupted"] is True and ended["job_id"] == above["job_id"]
    assert [b["text"].split(" kafka-sre-tui ")[0] for b in receiver.bodies("/slack")] == [
        ":warning:", ":white_check_mark:", ":rotating_light:"]


async def test_drain_and_watch_alert_once_when_a_group_becomes_at_risk_and_once_when_it_loses_data(
        kafka: LocalKafka, unique: str, tmp_path: Path, receiver: Receiver) -> None:
    bs, group = kafka.bootstrap_servers, f"{unique}-g"
    await create_topic(bs, unique, 1, {"retention.ms": str(3600_000)})
    producer = AIOKafkaProducer(bootstrap_servers=bs)
    await producer.start()
    try:
        half_an_hour_ago = int(time.time() * 1000) - 1800_000
        for i in range(10):  # retention deletes them in about 30 minutes: AT RISK
            await producer.send(unique, f"r{i}".encode(), partition=0, timestamp_ms=half_an_hour_ago)
        await producer.flush()
    finally:
        await producer.stop()
    await consume_and_commit(bs, group, unique, {0: 2})  # then stopped with 8 unread
    common = ["--config", _config(tmp_path, receiver), "--cluster", bs, "--notify", "--interval", "0.2"]

    def cli(*argv: str) -> int:
        return main([*argv, *common])

    assert await asyncio.to_thread(cli, "lag", group, "--watch", "--count", "4", "--json") == 0
    assert _events(receiver) == ["group.at_risk"]  # four samples AT RISK, one alert, and no end to tell
    watched = receiver.bodies("/hook")[0]
    assert watched["kind"] == "watch" and watched["subject"] == group
    alert = watched["alert"]
    assert alert["group"] == group and alert["data_loss"] == "AT RISK" and alert["records_lost"] == 0
    assert 1700 < alert["data_loss_eta_seconds"] <= 1800
    assert alert["partitions"][0] | {"reason": ""} == {
        "topic": unique, "partition": 0, "data_loss": "AT RISK", "records_lost": 0, "reason": "",
        "data_loss_eta_seconds": alert["partitions"][0]["data_loss_eta_seconds"]}
    assert "retention.ms" in alert["partitions"][0]["reason"] and f"group {group} AT RISK" in watched["message"]

    drain = asyncio.create_task(asyncio.to_thread(cli, "drain", "--group-id", group, "--json",
                                                   "--timeout-seconds", "90"))
    await wait_for(lambda: _events(receiver).count("group.at_risk") == 2, "the drain's AT RISK alert")
    admin = AIOKafkaAdminClient(bootstrap_servers=bs)
    await admin.start()
    try:
        await admin.delete_records({TP(unique, 0): RecordsToDelete(before_offset=5)})
    finally:
        await admin.close()
    await wait_for(lambda: "group.lost" in _events(receiver), "the LOST alert")
    consumer = AIOKafkaConsumer(bootstrap_servers=bs, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:  # the group reads the rest: drained
        consumer.assign([TP(unique, 0)])
        await consumer.commit({TP(unique, 0): 10})
    finally:
        await consumer.stop()
    assert await asyncio.wait_for(drain, 60) == 0
    assert _events(receiver) == ["group.at_risk", "group.at_risk", "group.lost", "drain.drained"]
    lost = receiver.bodies("/hook")[2]
    assert lost["kind"] == "drain" and lost["alert"]["data_loss"] == "LOST" and lost["alert"]["records_lost"] == 3
    assert "3 records deleted unread" in lost["message"]
    assert receiver.bodies("/slack")[2]["text"].startswith(":rotating_light: kafka-sre-tui group.lost: ")


def _migrating(lag: int, seconds: float = 0.0) -> MigrateProgress:
    return MigrateProgress(0, 0, 1.0, lag, seconds, 0, 2, following=True)


def test_lag_alerts_change_only_past_the_threshold_and_back_under_its_half() -> None:
    sent: list[dict[str, object]] = []
    alerts = JobAlerts(JobState("migrate", "migrate-1", 0.0), "prod", sent.append, LagThreshold(100, 60.0))
    for lag, seconds in [(50, 0), (101, 1), (500, 2), (80, 1), (60, 0), (50, 61), (50, 30), (40, 0), (150, 0)]:
        alerts.event(_migrating(lag, seconds))
    assert [(b["event"], b["alert"]["lag_records"]) for b in sent] == [  # type: ignore[index]
        ("migration.lag_above", 101), ("migration.lag_recovered", 50), ("migration.lag_above", 150)]
    alerts.event(MigrateProgress(0, 0, 1.0, 10_000, 0.0, 0, 2, following=False))  # a one-off copy: no alert
    assert len(sent) == 3


def test_data_loss_alerts_escalate_and_repeat_only_after_the_group_was_safe() -> None:
    sent: list[dict[str, object]] = []
    alerts = JobAlerts(JobState("drain", "drain-1", 0.0), "prod", sent.append)
    tp = TopicPartition("t", 0)

    def seen(status: LossStatus | None, lost: int = 0) -> None:
        losses = {} if status is None else {tp: DataLoss(status, 60.0 if status == LossStatus.AT_RISK else None, lost,
                                                          "why")}
        alerts.event(GroupDataLossSeen("g", 0.0, losses))

    for status in [LossStatus.SAFE, LossStatus.AT_RISK, LossStatus.UNKNOWN, LossStatus.AT_RISK, LossStatus.LOST,
                   LossStatus.AT_RISK, LossStatus.LOST, None, LossStatus.AT_RISK]:
        seen(status, lost=4 if status == LossStatus.LOST else 0)
    assert [b["event"] for b in sent] == ["group.at_risk", "group.lost", "group.at_risk"]


@pytest.mark.parametrize(("argv", "error"), [
    (["migrate", "--notify-lag-records", "5", "--follow"], "add --notify"),
    (["migrate", "--notify", "--notify-lag-records", "5"], "add --follow"),
    (["lag", "g", "--notify"], "add --watch"),
])
def test_alert_options_out_of_place_are_refused_in_one_line(
        argv: list[str], error: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "config.toml").write_text('[notify]\nwebhooks = ["http://127.0.0.1:1/x"]\n')
    where = "127.0.0.1:1"
    more = ["--source-cluster", where, "--source-topic", "t", "--target-cluster", where] if argv[0] == "migrate" \
        else ["--cluster", where]
    assert main([*argv, *more, "--config", str(tmp_path / "config.toml")]) == 2
    err = capsys.readouterr().err
    assert error in err and len(err.strip().splitlines()) == 1
