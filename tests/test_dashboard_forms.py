"""The dashboard's job forms take the CLI's options: driven with Pilot at 80×24 against the real broker,
each option checked where it lands (the backup's manifest, the records in the target topic, the copy's
pace, the drain goal), and bad values refused under their field with no job started."""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaProducer
from textual.pilot import Pilot
from textual.widgets import Checkbox, Collapsible, Input, Select, Static

from kafka_sre_tui.config import AppConfig, BackupSettings, ClusterConfig, UiSettings, parse_config
from kafka_sre_tui.engine.backup.catalog import find_backup, list_backups
from kafka_sre_tui.engine.backup.plan import BackupRequest
from kafka_sre_tui.engine.backup.run import backup_topic
from kafka_sre_tui.engine.storage.manifest import read_manifest
from kafka_sre_tui.localkafka import LocalKafka
from kafka_sre_tui.tui.app import KsreApp
from kafka_sre_tui.tui.jobs import Job
from kafka_sre_tui.tui.screens.backup_form import BackupForm
from kafka_sre_tui.tui.screens.drain import DrainScreen
from kafka_sre_tui.tui.screens.drain_form import DrainForm
from kafka_sre_tui.tui.screens.migrate_form import MigrateForm
from kafka_sre_tui.tui.screens.restore_form import PreflightScreen, RestoreForm
from kafka_sre_tui.tui.widgets.live_table import LiveTable
from tests.backup_helpers import read_backup
from tests.kafka_helpers import consume_and_commit, create_topic, produce, read_all, wait_for

SIZE = (80, 24)  # the smallest terminal the forms must work in


async def _fill(pilot: Pilot[None], values: dict[str, str | bool]) -> None:
    """Set the form's fields by id (inputs, selects, checkboxes), as a user would leave them."""
    for selector, value in values.items():
        widget = pilot.app.screen.query_one(selector)
        assert isinstance(widget, Input | Select | Checkbox), selector
        widget.value = value
    await pilot.pause()


async def _submit_with_enter(pilot: Pilot[None], field: str) -> None:
    pilot.app.screen.query_one(field, Input).focus()
    await pilot.press("enter")


def _job(app: KsreApp) -> Job:
    [job] = app.jobs_pane.jobs.values()
    return job


async def _finished(app: KsreApp, what: str, seconds: float = 60) -> Job:
    await wait_for(lambda: len(app.jobs_pane.jobs) == 1 and not _job(app).active, what, seconds)
    return _job(app)


def _error(screen: object, field: str) -> str:
    return str(screen.query_one(f"{field}-error", Static).render())  # type: ignore[attr-defined]


def _shown(table: LiveTable) -> list[str]:
    return table.row_keys()


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat()


async def test_backup_form_partitions_codec_and_max_messages_land_in_the_manifest(
        kafka: LocalKafka, cluster: ClusterConfig, unique: str, tmp_path: Path) -> None:
    await create_topic(kafka.bootstrap_servers, unique, 4)
    await produce(kafka.bootstrap_servers, unique, {p: 30 for p in range(4)})
    config = AppConfig(backup=dataclasses.replace(BackupSettings(), base_path=tmp_path))
    app = KsreApp(cluster, UiSettings(refresh_seconds=5), config=config)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        assert isinstance(app.screen, BackupForm)
        await _fill(pilot, {"#f-topic": unique, "#f-partitions": "1,3", "#f-compression": "gzip", "#f-level": "9",
                            "#f-max-messages": "7"})
        await _submit_with_enter(pilot, "#f-max-messages")
        job = await _finished(app, "the backup job")
        assert job.state == "done", job.detail
    [listed] = list_backups(tmp_path)
    folder = find_backup(tmp_path, listed.backup_id)
    manifest, intact = read_manifest(folder)
    assert intact
    assert [p.partition for p in manifest.partitions] == [1, 3]
    assert manifest.compression == {"codec": "gzip", "level": 9}
    assert manifest.selection["max_messages"] == 7 and manifest.selection["partitions"] == [1, 3]
    records = read_backup(folder)
    assert {p: [r[4] for r in rs] for p, rs in records.items()} == {
        p: [f"{p}-{i}".encode() for i in range(7)] for p in (1, 3)}


async def _produce_timed(bootstrap: str, topic: str, start_ms: int) -> None:
    """20 records per partition of 2, stamped start, start+1 s, ..."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        for p in range(2):
            for i in range(20):
                await producer.send(topic, f"{p}-{i}".encode(), key=str(i).encode(), partition=p,
                                    timestamp_ms=start_ms + i * 1000)
        await producer.flush()
    finally:
        await producer.stop()


async def test_restore_form_partition_map_and_time_range_write_exactly_those_records(
        kafka: LocalKafka, cluster: ClusterConfig, unique: str, tmp_path: Path) -> None:
    bs = kafka.bootstrap_servers
    start = (int(time.time()) - 3600) * 1000
    await create_topic(bs, unique, 2)
    await _produce_timed(bs, unique, start)
    source = await read_all(bs, unique)
    await backup_topic(cluster, BackupRequest(topic=unique, base_path=tmp_path))
    config = AppConfig(backup=dataclasses.replace(BackupSettings(), base_path=tmp_path))
    target = f"{unique}-restored"
    options = {"#r-topic": target, "#r-partition-map": "0:1,1:0", "#r-from-time": _iso(start + 5000),
               "#r-to-time": _iso(start + 9000)}
    app = KsreApp(cluster, UiSettings(refresh_seconds=5), config=config)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b", "R")  # a dry run only, first: the preflight, and nothing written
        assert isinstance(app.screen, RestoreForm)
        await _fill(pilot, {**options, "#r-dry-run": True})
        await _submit_with_enter(pilot, "#r-topic")
        await wait_for(lambda: isinstance(app.screen, PreflightScreen), "the dry run's preflight")
        assert app.screen.preflight.records == 10 and app.screen.preflight.ok
        assert not app.screen.query("#start")  # a dry run asked for on its own cannot write
        await pilot.press("escape")
        assert not app.jobs_pane.jobs

        await pilot.press("R")
        await _fill(pilot, options)
        await _submit_with_enter(pilot, "#r-to-time")
        await wait_for(lambda: isinstance(app.screen, PreflightScreen), "the preflight")
        assert app.screen.preflight.records == 10
        app.screen.query_one("#start").focus()
        await pilot.press("enter")
        job = await _finished(app, "the restore job")
        assert job.state == "done" and "10 records written" in job.detail, job.detail
    restored = await read_all(bs, target)
    wanted = {1: source[0][5:10], 0: source[1][5:10]}  # backup partition 0 -> target 1, 1 -> 0
    assert {p: [r[1:] for r in rs] for p, rs in restored.items()} == {
        p: [r[1:] for r in rs] for p, rs in wanted.items()}


async def test_migrate_form_partition_subset_and_rate_limit(kafka: LocalKafka, unique: str, tmp_path: Path) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 2)
    await produce(bs, unique, {0: 20})
    producer = AIOKafkaProducer(bootstrap_servers=bs, linger_ms=5)
    await producer.start()
    for i in range(200):  # 200 KB in partition 1: about 2 s at 0.1 MB/s, a blink without the limit
        await producer.send(unique, b"x" * 1000, key=str(i).encode(), partition=1)
    await producer.stop()
    config = parse_config({"clusters": {"one": {"bootstrap_servers": bs}}}, tmp_path / "config.toml")
    app = KsreApp(config.cluster("one"), UiSettings(refresh_seconds=5), config=config)
    async with app.run_test(size=SIZE) as pilot:
        topics = app.query_one("#topics-table", LiveTable)
        await wait_for(lambda: unique in _shown(topics), "the topic")
        topics.select_key(unique)
        await pilot.press("m")
        assert isinstance(app.screen, MigrateForm)
        await _fill(pilot, {"#m-topic": f"{unique}-copy", "#m-partitions": "1", "#m-rate-limit": "0.1",
                            "#m-state-dir": str(tmp_path / "state")})
        await _submit_with_enter(pilot, "#m-rate-limit")
        job = await _finished(app, "the migration job")
        assert job.state == "done" and "200 records copied" in job.detail and "verify: identical" in job.detail
        assert job.metrics["duration_seconds"] >= 1.5, job.metrics  # paced by the rate limit
    source, copied = await read_all(bs, unique), await read_all(bs, f"{unique}-copy")
    assert copied[0] == [] and [r[1:] for r in copied[1]] == [r[1:] for r in source[1]]
    assert (tmp_path / "state").is_dir()  # the checkpoints went where the form said


async def test_drain_form_goal_ends_the_monitor(kafka: LocalKafka, cluster: ClusterConfig, unique: str) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 1)
    await produce(bs, unique, {0: 50})
    await consume_and_commit(bs, f"{unique}-g", unique, {0: 0})  # lag 50, nobody consuming: never drains to 0
    app = KsreApp(cluster, UiSettings(refresh_seconds=1))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("g")
        groups = app.query_one("#groups-table", LiveTable)
        await wait_for(lambda: f"{unique}-g" in _shown(groups), "the group")
        groups.select_key(f"{unique}-g")
        await pilot.press("D")
        assert isinstance(app.screen, DrainForm)
        await _fill(pilot, {"#d-max-lag": "60", "#d-hold": "1", "#d-interval": "1"})
        await _submit_with_enter(pilot, "#d-max-lag")
        assert isinstance(app.screen, DrainScreen)
        assert "total lag ≤ 60, held 1 samples" in str(app.screen.query_one("#detail-title", Static).render())
        job = await _finished(app, "the drain goal to be met", seconds=20)
        assert job.state == "done" and job.detail.startswith("total lag ≤ 60, held 1 samples: met"), job.detail
        assert job.records == 50  # ended by the goal, with the lag still there


async def test_bad_values_are_refused_under_their_field_and_start_nothing(
        kafka: LocalKafka, cluster: ClusterConfig, unique: str, tmp_path: Path) -> None:
    await create_topic(kafka.bootstrap_servers, unique, 2)
    config = AppConfig(backup=dataclasses.replace(BackupSettings(), base_path=tmp_path))
    app = KsreApp(cluster, UiSettings(refresh_seconds=5), config=config)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        form = app.screen
        assert isinstance(form, BackupForm)
        await wait_for(lambda: form.focused is form.query_one("#f-topic"), "the first field to have the focus")
        await pilot.press(*unique, "tab")  # keyboard only: the topic, then Tab to the partitions
        assert form.focused is form.query_one("#f-partitions")
        await pilot.press(*"0,x", "enter")
        assert "Partitions: expected partition numbers like 0,3 (0 to 2147483647); got '0,x'" in _error(
            form, "#f-partitions")

        await _fill(pilot, {"#f-partitions": "0", "#f-from-time": "yesterdayish"})
        await pilot.press("enter")
        assert _error(form, "#f-partitions") == ""  # fixed, so its error is gone
        assert "From time: expected ISO-8601" in _error(form, "#f-from-time")
        assert form.focused is form.query_one("#f-from-time")

        # the engine's own checks, named by the field: a codec level, an option under Advanced
        await _fill(pilot, {"#f-from-time": "", "#f-level": "30"})
        await pilot.press("enter")
        assert "Compression level: --level 30 is out of range for zstd: use 1 to 22" in _error(form, "#f-level")
        await _fill(pilot, {"#f-level": "", "#f-rate-limit": "-1"})
        await pilot.press("enter")
        assert "Rate limit (MB/s): --rate-limit must be > 0 MB/s" in _error(form, "#f-rate-limit")
        assert not form.query_one("#advanced", Collapsible).collapsed  # opened to show it
        await _fill(pilot, {"#f-rate-limit": "", "#f-backup-dir": "ftp://host/dr"})  # not a local folder 'ftp:'
        await pilot.press("enter")
        assert ("Backup directory: --backup-dir 'ftp://host/dr': ftp:// is not a storage backups can be kept "
                "in") in _error(form, "#f-backup-dir")
        assert app.screen is form and not app.jobs_pane.jobs and not list(tmp_path.iterdir())

        await pilot.press("escape")
        assert not isinstance(app.screen, BackupForm)
        assert not app.jobs_pane.jobs
