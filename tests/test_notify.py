"""Webhook notifications, received by a real HTTP server this test starts on 127.0.0.1."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kafka_sre_tui.cli.main import main
from kafka_sre_tui.localkafka import LocalKafka
from kafka_sre_tui.observe.job import JobState
from kafka_sre_tui.observe.notify import event_name, payload
from tests.kafka_helpers import consume_and_commit, create_topic, produce
from tests.observe_helpers import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    thread = threading.Thread(target=r.server.serve_forever, daemon=True)
    thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


def _config(tmp_path: Path, receiver: Receiver) -> str:
    path = tmp_path / "config.toml"
    path.write_text(f'[notify]\nwebhooks = ["{receiver.url}/hook"]\nslack_webhooks = ["{receiver.url}/slack"]\n'
                    "timeout_seconds = 2\nretries = 2\n")
    return str(path)


async def test_one_notification_per_job_end_with_the_documented_payload(
        kafka: LocalKafka, unique: str, tmp_path: Path, receiver: Receiver) -> None:
    await create_topic(kafka.bootstrap_servers, unique, 1)
    await produce(kafka.bootstrap_servers, unique, {0: 50})
    group = f"{unique}-g"
    await consume_and_commit(kafka.bootstrap_servers, group, unique, {0: 50})
    receiver.fail_first["/hook"] = 1  # the first delivery is refused once, then retried
    common = ["--config", _config(tmp_path, receiver), "--cluster", kafka.bootstrap_servers, "--notify"]

    def run(*argv: str) -> int:
        return main([*argv, *common])

    assert await asyncio.to_thread(run, "backup", "--topic", unique, "--backup-dir", str(tmp_path)) == 0
    assert await asyncio.to_thread(run, "backup", "--topic", f"{unique}-missing", "--backup-dir", str(tmp_path)) == 1
    assert await asyncio.to_thread(run, "drain", "--group-id", group, "--interval", "0.1", "--hold", "1") == 0

    hooks = receiver.bodies("/hook")
    assert [b["event"] for b in hooks] == ["backup.completed", "backup.failed", "drain.drained"]
    assert receiver.attempts["/hook"] == 4  # one refused attempt, then exactly one delivery per event
    done, failed, drained = hooks
    assert set(done) == {"event", "job_id", "kind", "subject", "cluster", "state", "exit_code", "interrupted",
                         "message", "time", "figures"}
    assert done["kind"] == "backup" and done["state"] == "succeeded" and done["exit_code"] == 0
    assert done["cluster"] == kafka.bootstrap_servers and done["figures"]["records"] == 50
    assert done["subject"].endswith(done["subject"][-6:]) and unique in done["subject"]
    assert failed["state"] == "failed" and failed["exit_code"] != 0 and f"{unique}-missing" in failed["message"]
    assert drained["subject"] == group and drained["figures"]["total_lag"] == 0
    assert len({b["job_id"] for b in hooks}) == 3
    slack = receiver.bodies("/slack")
    assert [set(b) for b in slack] == [{"text"}] * 3
    assert slack[0]["text"].startswith(":white_check_mark: kafka-sre-tui backup.completed: backup ")
    assert slack[1]["text"].startswith(":rotating_light: kafka-sre-tui backup.failed: ")


def test_notify_without_webhooks_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "config.toml").write_text("")
    assert main(["backup", "--topic", "t", "--cluster", "127.0.0.1:1", "--notify",
                 "--config", str(tmp_path / "config.toml")]) == 2
    assert "--notify: no webhook configured" in capsys.readouterr().err


def test_event_names_follow_the_job_and_its_outcome() -> None:
    def state(kind: str, exit_code: int, **kw: Any) -> JobState:
        return JobState(kind, f"{kind}-1", 0.0, exit_code=exit_code, **kw)

    assert event_name(state("migrate", 0)) == "migration.completed"
    assert event_name(state("restore", 1)) == "restore.failed"
    assert event_name(state("drain", 3, outcome="stalled")) == "drain.stalled"
    assert event_name(state("drain", 1, outcome="timed_out")) == "drain.timed_out"
    assert event_name(state("drain", 1, error="cannot connect")) == "drain.failed"
    body = payload(state("backup", 130, state="interrupted", error="KeyboardInterrupt"), "prod",
                   datetime(2026, 1, 1, tzinfo=UTC))
    assert body["event"] == "backup.failed" and body["interrupted"] is True
