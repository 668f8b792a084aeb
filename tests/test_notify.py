"""Webhook notifications, received by a real HTTP server this test starts on 127.0.0.1."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Checkbox, DataTable, Input

from kafka_sre_tui.cli.main import main
from kafka_sre_tui.config import AppConfig, BackupSettings, ClusterConfig, NotifySettings, UiSettings
from kafka_sre_tui.localkafka import LocalKafka
from kafka_sre_tui.observe.job import JobState
from kafka_sre_tui.observe.notify import event_name, payload
from kafka_sre_tui.tui.app import KsreApp
from kafka_sre_tui.tui.screens.backup_form import BackupForm
from tests.kafka_helpers import consume_and_commit, create_topic, produce, wait_for
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


async def test_a_job_started_from_a_dashboard_form_notifies_when_its_box_is_ticked(
        kafka: LocalKafka, cluster: ClusterConfig, unique: str, tmp_path: Path, receiver: Receiver) -> None:
    await create_topic(kafka.bootstrap_servers, unique, 1)
    await produce(kafka.bootstrap_servers, unique, {0: 50})
    config = AppConfig(backup=dataclasses.replace(BackupSettings(), base_path=tmp_path),
                       notify=NotifySettings(webhooks=(f"{receiver.url}/hook",), timeout_seconds=2, retries=1))
    app = KsreApp(cluster, UiSettings(refresh_seconds=5), config=config)
    async with app.run_test(size=(140, 40)) as pilot:
        jobs = app.query_one("#jobs-table", DataTable)

        async def backup(notify: bool, finished: int) -> None:
            app.action_new_backup()
            await pilot.pause()
            assert isinstance(app.screen, BackupForm)
            app.screen.query_one("#f-topic", Input).value = unique
            app.screen.query_one("#notify-job", Checkbox).value = notify
            await pilot.click("#start")
            await wait_for(lambda: [str(jobs.get_row_at(i)[3]) for i in range(jobs.row_count)].count("done")
                           == finished, "the backup job to finish")

        await backup(False, 1)
        await backup(True, 2)
        await wait_for(lambda: len(receiver.bodies("/hook")) == 1, "the ticked job's notification", 15)
        await asyncio.sleep(1)  # and no other
    [body] = receiver.bodies("/hook")
    assert (body["event"], body["kind"], body["cluster"], body["exit_code"]) == ("backup.completed", "backup",
                                                                                 cluster.name, 0)
