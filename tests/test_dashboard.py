"""The dashboard, driven with Textual's Pilot against the real broker."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from textual.command import CommandList
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import Button, DataTable, Input, Select, Static, TabbedContent

from kafka_sre_tui.config import AppConfig, BackupSettings, ClusterConfig, UiSettings, parse_config
from kafka_sre_tui.engine.backup.catalog import list_backups
from kafka_sre_tui.engine.backup.plan import BackupRequest
from kafka_sre_tui.engine.backup.run import backup_topic
from kafka_sre_tui.localkafka import LocalKafka, free_port
from kafka_sre_tui.tui.app import KsreApp
from kafka_sre_tui.tui.messages import RefreshDone, TopicsLoaded
from kafka_sre_tui.tui.screens.backup_form import BackupForm
from kafka_sre_tui.tui.screens.confirm import Confirm
from kafka_sre_tui.tui.screens.drain import DrainScreen
from kafka_sre_tui.tui.screens.group_detail import GroupScreen
from kafka_sre_tui.tui.screens.migrate_form import MigrateForm
from kafka_sre_tui.tui.screens.restore_form import PreflightScreen, RestoreForm
from kafka_sre_tui.tui.screens.topic_detail import TopicScreen
from kafka_sre_tui.tui.widgets.live_table import LiveTable
from tests.kafka_helpers import consume_and_commit, create_topic, produce, read_all, wait_for


def _row(table: DataTable | LiveTable, key: str) -> list[str] | None:  # type: ignore[type-arg]
    """The row as the user reads it (plain text of every cell), or None when absent."""
    if isinstance(table, LiveTable):
        return list(table.row(key)) if key in table.row_keys() else None
    if key not in {k.value for k in table.rows}:
        return None
    return [str(cell) for cell in table.get_row(key)]


def _only_row(table: DataTable) -> list[str]:  # type: ignore[type-arg]
    """The single row of a table as text, or blanks while it is empty."""
    return [str(cell) for cell in table.get_row_at(0)] if table.row_count == 1 else [""] * len(table.columns)


def _keys(table: DataTable | LiveTable) -> set[str]:  # type: ignore[type-arg]
    return set(table.row_keys()) if isinstance(table, LiveTable) else {str(k.value) for k in table.rows}


async def test_topics_and_group_lag_appear_and_follow_the_cluster(kafka: LocalKafka, cluster: ClusterConfig,
                                                                  unique: str) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 3)
    await produce(bs, unique, {0: 10, 1: 10, 2: 10})
    await consume_and_commit(bs, f"{unique}-g", unique, {0: 10, 1: 4})

    loaded: list[bool] = []  # with_offsets of each topics update, in order
    done: list[RefreshDone] = []

    def seen(message: Message) -> None:
        if isinstance(message, TopicsLoaded):
            loaded.append(message.with_offsets)
        elif isinstance(message, RefreshDone):
            done.append(message)

    app = KsreApp(cluster, UiSettings(refresh_seconds=1))
    async with app.run_test(size=(120, 30), message_hook=seen) as pilot:
        topics = app.query_one("#topics-table", LiveTable)
        groups = app.query_one("#groups-table", LiveTable)
        await wait_for(lambda: _row(topics, unique) is not None and _row(topics, unique)[3] == "30", "the topic row")
        assert _row(topics, unique)[:4] == [unique, "3", "1", "30"]

        await pilot.press("g")
        assert app.query_one(TabbedContent).active == "groups"
        await wait_for(lambda: _row(groups, f"{unique}-g") is not None, "the group row")
        row = _row(groups, f"{unique}-g")
        assert row is not None
        assert (row[0], row[2], row[3], row[5], row[6], row[7], row[8], row[9]) == (
            f"{unique}-g", "", "6", "Empty", "classic", "0", "1", unique)  # no data loss ahead: no marker

        await produce(bs, unique, {2: 5})  # the next refresh shows the new messages, in place
        await wait_for(lambda: (_row(topics, unique) or [""] * 4)[3] == "35", "the refreshed count")
        assert "refreshed" in str(app.query_one("#status", Static).render())
        # only the first refresh shows the topics before their offsets; later ones keep the counts on screen
        await wait_for(lambda: len(done) >= 3, "three refreshes")
        assert loaded[0] is False and all(loaded[1:]) and len(loaded) >= 3, loaded


async def test_filter_with_regex_and_inversion(kafka: LocalKafka, cluster: ClusterConfig, unique: str) -> None:
    for suffix in ("alpha", "beta"):
        await create_topic(kafka.bootstrap_servers, f"{unique}-{suffix}", 1)
    app = KsreApp(cluster, UiSettings(refresh_seconds=1))
    async with app.run_test(size=(120, 30)) as pilot:
        topics = app.query_one("#topics-table", LiveTable)
        await wait_for(lambda: {f"{unique}-alpha", f"{unique}-beta"} <= _keys(topics), "both topics")
        await pilot.press("slash")
        assert app.query_one("#filter", Input).has_focus
        await pilot.press(*f"{unique}-al")
        assert _keys(topics) == {f"{unique}-alpha"}
        app.query_one("#filter", Input).value = f"!{unique}-al"
        await pilot.pause()
        assert f"{unique}-alpha" not in _keys(topics) and f"{unique}-beta" in _keys(topics)
        await pilot.press("escape")
        assert {f"{unique}-alpha", f"{unique}-beta"} <= _keys(topics)


async def test_enter_opens_topic_and_group_details(kafka: LocalKafka, cluster: ClusterConfig, unique: str) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 2, {"retention.ms": "7200000"})
    await produce(bs, unique, {0: 8, 1: 2})
    await consume_and_commit(bs, f"{unique}-g", unique, {0: 3})
    app = KsreApp(cluster, UiSettings(refresh_seconds=1))
    async with app.run_test(size=(140, 40)) as pilot:
        topics = app.query_one("#topics-table", LiveTable)
        await wait_for(lambda: _row(topics, unique) is not None, "the topic")
        topics.select_key(unique)
        topics.focus()
        await pilot.press("enter")
        assert isinstance(app.screen, TopicScreen)
        configs = app.screen.query_one("#configs-table", DataTable)
        await wait_for(lambda: configs.row_count > 0 and str(configs.get_row_at(0)[0]) == "retention.ms", "configs")
        partitions = app.screen.query_one("#partitions-table", DataTable)
        assert [str(c) for c in partitions.get_row_at(0)][:7] == ["0", "1", "1", "1", "0", "8", "8"]
        await pilot.press("escape")

        await pilot.press("g")
        groups = app.query_one("#groups-table", LiveTable)
        await wait_for(lambda: _row(groups, f"{unique}-g") is not None, "the group")
        groups.select_key(f"{unique}-g")
        groups.focus()
        await pilot.press("enter")
        assert isinstance(app.screen, GroupScreen)
        lag_rows = app.screen.query_one("#group-partitions", DataTable)
        await wait_for(lambda: lag_rows.row_count == 2, "the group's partitions")
        first = [str(c) for c in lag_rows.get_row_at(0)]
        assert first[:5] == [unique, "0", "8", "3", "5"]
        assert first[8] == "STOPPED"  # the lag engine's verdict: lag, no member, offset not moving
        assert [str(c) for c in lag_rows.get_row_at(1)][3:5] == ["no commit", "no commit"]


async def test_backup_job_from_the_form_completes(kafka: LocalKafka, cluster: ClusterConfig, unique: str,
                                                  tmp_path: Path) -> None:
    await create_topic(kafka.bootstrap_servers, unique, 2)
    await produce(kafka.bootstrap_servers, unique, {0: 300, 1: 200})
    config = AppConfig(backup=dataclasses.replace(BackupSettings(), base_path=tmp_path))
    app = KsreApp(cluster, UiSettings(refresh_seconds=5), config=config)
    async with app.run_test(size=(140, 40)) as pilot:
        topics = app.query_one("#topics-table", LiveTable)
        await wait_for(lambda: _row(topics, unique) is not None, "the topic")
        topics.select_key(unique)
        await pilot.press("n")
        assert isinstance(app.screen, BackupForm)
        assert app.screen.query_one("#f-topic", Input).value == unique  # the selected topic
        await pilot.click("#start")
        jobs = app.query_one("#jobs-table", DataTable)
        await wait_for(lambda: _only_row(jobs)[3] == "done", "the backup job to finish")
        row = _only_row(jobs)
        assert row[1:3] == ["backup", f"test/{unique}"] and row[6] == "500" and "100%" in row[4]
        [backup] = list_backups(tmp_path)
        assert backup.status == "complete" and backup.records == 500 and row[8] == backup.backup_id


async def test_cancelled_backup_stays_resumable_and_quit_asks_first(kafka: LocalKafka, cluster: ClusterConfig,
                                                                   unique: str, tmp_path: Path) -> None:
    await create_topic(kafka.bootstrap_servers, unique, 1)
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers, linger_ms=5)
    await producer.start()
    for _ in range(3000):
        await producer.send(unique, b"x" * 1000)
    await producer.stop()
    config = AppConfig(backup=dataclasses.replace(BackupSettings(), base_path=tmp_path))
    app = KsreApp(cluster, UiSettings(refresh_seconds=5), config=config)
    async with app.run_test(size=(140, 40)) as pilot:  # 3 MB at 0.1 MB/s: running for half a minute
        app._start_backup(BackupRequest(topic=unique, base_path=tmp_path, rate_limit_mb_s=0.1, checkpoint_seconds=0.1))
        jobs = app.query_one("#jobs-table", DataTable)
        await wait_for(lambda: _only_row(jobs)[6] not in ("", "0"), "the backup to make progress")
        await pilot.press("q")
        assert isinstance(app.screen, Confirm)  # a job is running: quitting asks
        await pilot.press("n")
        jobs.focus()
        await pilot.press("x")
        await wait_for(lambda: _only_row(jobs)[3] == "cancelled", "the job to be cancelled")
        assert "resumable: kafka-sre-tui backup --resume" in _only_row(jobs)[8]
    [backup] = list_backups(tmp_path)
    assert backup.status == "incomplete"


async def test_unreachable_cluster_shows_the_error_and_keeps_running() -> None:
    gone = ClusterConfig(name="gone", bootstrap_servers=(f"127.0.0.1:{free_port()}",), request_timeout_seconds=2)
    app = KsreApp(gone, UiSettings(refresh_seconds=1))
    async with app.run_test(size=(100, 24)) as pilot:
        status = app.query_one("#status", Static)
        await wait_for(lambda: "cannot connect" in str(status.render()), "the error in the status line")
        assert "no data yet" in str(status.render())
        await pilot.press("r")  # manual refresh still works, and the app is still alive
        assert app.is_running


async def test_drain_screen_shows_the_lag_falling_until_drained(kafka: LocalKafka, cluster: ClusterConfig,
                                                                 unique: str) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 2)
    await produce(bs, unique, {0: 1500, 1: 1500})
    await consume_and_commit(bs, f"{unique}-g", unique, {0: 0, 1: 0})  # committed at the start: lag 3000
    app = KsreApp(cluster, UiSettings(refresh_seconds=1))
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("g")
        groups = app.query_one("#groups-table", LiveTable)
        await wait_for(lambda: _row(groups, f"{unique}-g") is not None, "the lagging group")
        assert (_row(groups, f"{unique}-g") or [""] * 4)[3] == "3,000"
        groups.select_key(f"{unique}-g")
        await pilot.press("d")
        assert isinstance(app.screen, DrainScreen)
        screen = app.screen
        await wait_for(lambda: len(screen.points) >= 2, "the first samples")
        assert screen.points[0][1] == 3000

        consumer = AIOKafkaConsumer(unique, bootstrap_servers=bs, group_id=f"{unique}-g", enable_auto_commit=False,
                                    max_poll_records=500)
        await consumer.start()
        try:
            consumed = 0
            while consumed < 3000:  # catch up in steps, each one seen by the monitor before the next
                batch = await consumer.getmany(timeout_ms=1000, max_records=500)
                consumed += sum(len(records) for records in batch.values())
                await consumer.commit()
                await wait_for(lambda left=3000 - consumed: screen.points[-1][1] == left, "the monitor to see it")
            jobs = app.jobs_pane.jobs
            await wait_for(lambda: next(iter(jobs.values())).state == "done", "the drain job to finish", seconds=45)
        finally:
            await consumer.stop()
        lags = [lag for _t, lag in screen.points]
        assert lags[-1] == 0 and any(0 < lag < 3000 for lag in lags)  # seen falling, not just jumping to 0
        assert "drained" in str(screen.query_one("#drain-status", Static).render())


async def test_restore_from_the_backups_tab_shows_the_dry_run_first(kafka: LocalKafka, cluster: ClusterConfig,
                                                                    unique: str, tmp_path: Path) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 2)
    await produce(bs, unique, {0: 40, 1: 25})
    source = await read_all(bs, unique)
    done = await backup_topic(cluster, BackupRequest(topic=unique, base_path=tmp_path))
    config = AppConfig(backup=dataclasses.replace(BackupSettings(), base_path=tmp_path))

    read_only = KsreApp(dataclasses.replace(cluster, read_only=True), UiSettings(refresh_seconds=5), config=config)
    async with read_only.run_test(size=(140, 40)) as pilot:
        await pilot.press("b", "R")
        assert not isinstance(read_only.screen, RestoreForm)  # disabled on a read-only cluster

    app = KsreApp(cluster, UiSettings(refresh_seconds=5), config=config)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("b")
        assert app.backups_pane.selected() is not None and app.backups_pane.selected().backup_id == done.backup_id
        await pilot.press("R")
        assert isinstance(app.screen, RestoreForm)
        app.screen.query_one("#r-topic", Input).value = f"{unique}-restored"
        await pilot.click("#check")
        await wait_for(lambda: isinstance(app.screen, PreflightScreen), "the dry run's preflight")
        assert app.screen.preflight.ok and app.screen.preflight.records == 65
        assert (await read_all(bs, unique)) == source and f"{unique}-restored" not in await _topics(bs)  # dry run
        await pilot.click("#start")
        jobs = app.query_one("#jobs-table", DataTable)
        await wait_for(lambda: _only_row(jobs)[3] == "done", "the restore job")
        assert "65 records written" in _only_row(jobs)[8]

        await create_topic(bs, f"{unique}-existing", 2)  # an existing topic: its name must be typed again
        await pilot.press("b", "R")
        app.screen.query_one("#r-topic", Input).value = f"{unique}-existing"
        await pilot.click("#check")
        await wait_for(lambda: isinstance(app.screen, PreflightScreen), "the second preflight")
        start = app.screen.query_one("#start", Button)
        assert start.disabled
        app.screen.query_one("#confirm-topic", Input).value = f"{unique}-existin"
        await pilot.pause()
        assert start.disabled
        app.screen.query_one("#confirm-topic", Input).value = f"{unique}-existing"
        await pilot.pause()
        assert not start.disabled
        await pilot.press("escape")

    def content(records: dict[int, list[tuple]]) -> dict[int, list[tuple]]:  # type: ignore[type-arg]
        return {p: [r[1:] for r in rs] for p, rs in records.items()}  # all but the offset

    assert content(await read_all(bs, f"{unique}-restored")) == content(source)


async def _topics(bootstrap: str) -> set[str]:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def test_migrate_topic_to_the_second_cluster_as_a_job(kafka: LocalKafka, kafka2: LocalKafka, unique: str,
                                                             tmp_path: Path) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 2)
    await produce(bs, unique, {0: 30, 1: 20})
    config = parse_config({"clusters": {"one": {"bootstrap_servers": bs},
                                        "two": {"bootstrap_servers": kafka2.bootstrap_servers}}},
                          tmp_path / "config.toml")
    app = KsreApp(config.cluster("one"), UiSettings(refresh_seconds=5), config=config)
    async with app.run_test(size=(140, 40)) as pilot:
        topics = app.query_one("#topics-table", LiveTable)
        await wait_for(lambda: _row(topics, unique) is not None, "the topic")
        topics.select_key(unique)
        await pilot.press("m")
        assert isinstance(app.screen, MigrateForm)
        app.screen.query_one("#m-cluster", Select).value = "two"
        await pilot.click("#start")
        jobs = app.query_one("#jobs-table", DataTable)
        await wait_for(lambda: _only_row(jobs)[3] in ("done", "failed"), "the migration job")
        assert _only_row(jobs)[3] == "done" and "50 records copied" in _only_row(jobs)[8]
    source, copied = await read_all(bs, unique), await read_all(kafka2.bootstrap_servers, unique)
    assert {p: [r[1:] for r in rs] for p, rs in copied.items()} == {p: [r[1:] for r in rs] for p, rs in source.items()}


async def test_command_palette_reaches_every_tab(cluster: ClusterConfig) -> None:
    app = KsreApp(cluster, UiSettings(refresh_seconds=5))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("colon")
        await pilot.press(*"Show Jobs")
        results = app.screen.query_one(CommandList)
        await wait_for(lambda: results.option_count > 0 and "Show Jobs" in str(results.get_option_at_index(0).prompt),
                       "the palette to find the command", seconds=10)
        await pilot.press("enter")
        await wait_for(lambda: app.tabs.active == "jobs", "the Jobs tab", seconds=10)


async def _palette(pilot: Pilot[None], typed: str) -> None:
    """Type into the command palette and take its first offer, once it is what was typed."""
    await pilot.press("colon", *typed)
    results = pilot.app.screen.query_one(CommandList)

    def offered() -> bool:
        return results.option_count > 0 and str(results.get_option_at_index(0).prompt).startswith(typed)

    await wait_for(offered, f"the palette to offer '{typed}'", seconds=10)
    await pilot.press("enter")


async def test_command_palette_jumps_to_a_topic_and_a_group_by_name(kafka: LocalKafka, cluster: ClusterConfig,
                                                                   unique: str) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 1)
    await produce(bs, unique, {0: 5})
    await consume_and_commit(bs, f"{unique}-g", unique, {0: 2})
    app = KsreApp(cluster, UiSettings(refresh_seconds=1))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(lambda: any(g.group_id == f"{unique}-g" for g in app.groups_pane.groups), "the group")
        await _palette(pilot, f"topic {unique}")
        await wait_for(lambda: isinstance(app.screen, TopicScreen), "the topic screen")
        assert unique in str(app.screen.query_one("#detail-title", Static).render())
        await pilot.press("escape")
        await _palette(pilot, f"group {unique}-g")
        await wait_for(lambda: isinstance(app.screen, GroupScreen), "the group screen")
        assert f"{unique}-g" in str(app.screen.query_one("#detail-title", Static).render())
