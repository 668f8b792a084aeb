"""`dashboard --metrics-port`: the groups the dashboard judges, scraped over HTTP while it runs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from textual.widgets import Input

from kafka_sre_tui.config import AppConfig, BackupSettings, ClusterConfig, UiSettings
from kafka_sre_tui.localkafka import LocalKafka, free_port
from kafka_sre_tui.observe.server import serve_metrics
from kafka_sre_tui.tui.app import KsreApp
from kafka_sre_tui.tui.metrics import DashboardLag, dashboard_jobs
from kafka_sre_tui.tui.widgets.live_table import LiveTable
from tests.kafka_helpers import consume_and_commit, create_topic, produce, wait_for
from tests.observe_helpers import scrape, value


async def test_dashboard_serves_the_lag_it_shows(kafka: LocalKafka, cluster: ClusterConfig, unique: str) -> None:
    bs, group = kafka.bootstrap_servers, f"{unique}-g"
    await create_topic(bs, unique, 2)
    await produce(bs, unique, {0: 10, 1: 10})
    await consume_and_commit(bs, group, unique, {0: 10, 1: 4})
    app = KsreApp(cluster, UiSettings(refresh_seconds=1))
    port = free_port()
    server = serve_metrics(port, "127.0.0.1", [DashboardLag(app)])
    try:
        async with app.run_test(size=(120, 30)):
            groups = app.query_one("#groups-table", LiveTable)

            def shown_lag() -> str | None:
                return groups.row(group)[3] if group in groups.row_keys() else None

            await wait_for(lambda: shown_lag() == "6", "the group's lag on screen")
            await wait_for(lambda: value(scrape(port) or {}, "kafka_sre_group_lag_records", group=group) == 6,
                           "the same lag on /metrics")
            def same_status() -> bool:  # the screen and a scrape agree once a refresh has been judged and drawn
                samples = scrape(port) or {}
                status = [dict(ls)["status"] for (n, ls), v in samples.items()
                          if n == "kafka_sre_group_status" and dict(ls)["group"] == group and v == 1]
                return status == [groups.row(group)[1].strip()] and status != ["UNKNOWN"]

            await wait_for(same_status, "the same status on screen and on /metrics")
            assert value(scrape(port) or {}, "kafka_sre_partition_lag_records", group=group, partition="1") == 6
            await consume_and_commit(bs, group, unique, {0: 10, 1: 10})
            await wait_for(lambda: value(scrape(port) or {}, "kafka_sre_group_lag_records", group=group) == 0,
                           "the lag to follow the commit")
    finally:
        server.shutdown()
        server.server_close()


async def test_dashboard_serves_the_metrics_of_the_jobs_it_started(kafka: LocalKafka, cluster: ClusterConfig,
                                                                   unique: str, tmp_path: Path) -> None:
    await create_topic(kafka.bootstrap_servers, unique, 2)
    await produce(kafka.bootstrap_servers, unique, {0: 40, 1: 30})
    config = AppConfig(backup=dataclasses.replace(BackupSettings(), base_path=tmp_path))
    app = KsreApp(cluster, UiSettings(refresh_seconds=5), config=config)
    port = free_port()
    server = serve_metrics(port, "127.0.0.1", [DashboardLag(app), dashboard_jobs(app)])
    try:
        async with app.run_test(size=(120, 30)) as pilot:
            assert value(scrape(port) or {}, "kafka_sre_job_state", state="running") is None  # no job yet
            await pilot.press("n")
            form = app.screen
            form.query_one("#f-topic", Input).value = unique
            form.submit()  # type: ignore[attr-defined]
            await wait_for(lambda: len(app.jobs_pane.jobs) == 1 and not next(iter(app.jobs_pane.jobs.values())).active,
                           "the backup started from the dashboard to end", seconds=60)
            [job] = app.jobs_pane.jobs.values()
            assert job.state == "done", job.detail
            samples = scrape(port) or {}
    finally:
        server.shutdown()
        server.server_close()
    labels = {"kind": "backup", "job_id": job.observed.state.job_id}
    assert value(samples, "kafka_sre_job_state", **labels, state="succeeded") == 1
    assert value(samples, "kafka_sre_job_records_total", **labels) == 70 == job.metrics["messages"]
    assert value(samples, "kafka_sre_job_bytes_total", **labels) == job.metrics["bytes_read"]
    assert value(samples, "kafka_sre_job_progress_ratio", **labels) == 1.0
    assert value(samples, "kafka_sre_job_last_checkpoint_time_seconds", **labels) is not None
