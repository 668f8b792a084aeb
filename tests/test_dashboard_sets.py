"""Backup sets on the dashboard, driven with Pilot against the real broker: a set is one row of the Backups
tab with its kind and chain, Enter shows its chain, v verifies every link; the backup form starts a set,
and a continuous backup is a job showing its lag behind the topics' end."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from textual.widgets import DataTable, Input, Static

from kafka_sre_tui.config import AppConfig, BackupSettings, ClusterConfig, UiSettings
from kafka_sre_tui.engine.backup.catalog import list_backups
from kafka_sre_tui.engine.backup.set_plan import SetRequest
from kafka_sre_tui.engine.backup.set_verify import verify_set
from kafka_sre_tui.engine.storage.backup_set import SetManifest
from kafka_sre_tui.localkafka import LocalKafka
from kafka_sre_tui.tui.app import KsreApp
from kafka_sre_tui.tui.jobs import Job
from kafka_sre_tui.tui.screens.backup_detail import BackupDetail
from kafka_sre_tui.tui.screens.backup_form import BackupForm
from kafka_sre_tui.tui.screens.set_restore_form import SetPreflightScreen, SetRestoreForm
from tests.kafka_helpers import create_topic, produce, read_all, wait_for
from tests.set_catalog_helpers import set_link


def _row(table: DataTable, key: str) -> list[str] | None:  # type: ignore[type-arg]
    if key not in {k.value for k in table.rows}:
        return None
    return [str(cell) for cell in table.get_row(key)]


async def test_the_backups_tab_lists_shows_and_verifies_a_chain(kafka: LocalKafka, cluster: ClusterConfig,
                                                                 unique: str, tmp_path: Path) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 1)
    await create_topic(bs, f"{unique}-b", 1)
    links: list[SetManifest] = []
    for _ in range(2):
        await produce(bs, unique, {0: 20})
        await produce(bs, f"{unique}-b", {0: 5})
        links.append(await set_link(cluster, tmp_path, [unique, f"{unique}-b"], links[-1] if links else None))
    config = AppConfig(backup=dataclasses.replace(BackupSettings(), base_path=tmp_path))
    app = KsreApp(cluster, UiSettings(refresh_seconds=5), config=config)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("b")
        table = app.query_one("#backups-table", DataTable)
        await wait_for(lambda: table.row_count == 2, "the two links, and no member listed on its own")
        assert (_row(table, links[0].set_id) or [])[1:4] == ["complete", "full", "2 topics"]
        second = _row(table, links[1].set_id) or []
        assert second[1:4] == ["complete", "incremental #1", "2 topics"] and second[5] == "25"
        assert second[8] == links[0].set_id  # its chain's base

        table.move_cursor(row=table.get_row_index(links[1].set_id))
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, BackupDetail), "the set's detail")
        text = str(app.screen.query_one("#backup-text", Static).render())
        assert f"link 0  {links[0].set_id}" in text and f"link 1  {links[1].set_id}" in text
        assert f"{unique}: 40 records" in text and "partition 0: offsets 0-39, 40 records since link 0" in text
        await pilot.press("escape")

        await pilot.press("v")
        jobs = app.jobs_pane
        await wait_for(lambda: bool(jobs.jobs) and not next(iter(jobs.jobs.values())).active, "the verify job")
        [job] = jobs.jobs.values()
        assert (job.kind, job.state, job.records) == ("verify", "done", 50)
        assert job.detail == "intact: 2 link(s), 4 member backups"
    assert [b.backup_id for b in list_backups(tmp_path)] == [m.set_id for m in links]


async def test_a_set_backup_from_the_form_and_a_continuous_one_in_the_jobs_pane(
        kafka: LocalKafka, cluster: ClusterConfig, unique: str, tmp_path: Path) -> None:
    bs = kafka.bootstrap_servers
    for name, count in ((f"{unique}-x", 30), (f"{unique}-y", 20), (f"{unique}-z-internal", 7)):
        await create_topic(bs, name, 1)
        await produce(bs, name, {0: count})
    config = AppConfig(backup=dataclasses.replace(BackupSettings(), base_path=tmp_path))
    app = KsreApp(cluster, UiSettings(refresh_seconds=5), config=config)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("n")
        assert isinstance(app.screen, BackupForm)
        form = app.screen
        form.query_one("#f-topic", Input).value = ""
        form.query_one("#f-topics", Input).value = f"{unique}-*"
        form.query_one("#f-exclude", Input).value = "*-internal"
        await pilot.click("#start")
        await wait_for(lambda: bool(app.jobs_pane.jobs) and not _only_job(app).active, "the set backup job")
        job = _only_job(app)
        assert (job.kind, job.state, job.records) == ("backup set", "done", 50), job.detail
        [listed] = list_backups(tmp_path)
        assert (listed.status, listed.kind, listed.topics, listed.records) == ("complete", "full", 2, 50)
        assert job.detail.startswith(f"{listed.backup_id}: 50 records of 2 topics")
        assert (await verify_set(tmp_path, listed.backup_id)).intact

        app.jobs_pane.jobs.clear()
        request = SetRequest(base_path=tmp_path, topics=(f"{unique}-x",), continuous=True, roll_seconds=0.5,
                             incremental=True)
        app._start_backup(request)
        await wait_for(lambda: "link 2 sealed" in _only_job(app).detail, "two links sealed", seconds=60)
        await produce(bs, f"{unique}-x", {0: 10})
        await wait_for(lambda: _only_job(app).metrics.get("lag_records", 1) == 0 and
                       _records_after(tmp_path, listed.backup_id) >= 40, "the new records in a sealed link",
                       seconds=60)
        assert "lag 0 records" in _only_job(app).detail
        table = app.query_one("#jobs-table", DataTable)
        table.move_cursor(row=table.get_row_index(str(_only_job(app).job_id)))
        await pilot.press("j", "x")  # stop after the link in progress: every sealed link stays complete
        await wait_for(lambda: not _only_job(app).active, "the continuous backup to stop", seconds=60)
        assert _only_job(app).state == "done"
    sets = list_backups(tmp_path)
    assert all(b.status == "complete" for b in sets) and sets[-1].kind == "incremental"
    assert (await verify_set(tmp_path, sets[-1].backup_id)).intact  # the chain of sealed links verifies
    assert _records_after(tmp_path, listed.backup_id) == 30 + 10  # its own full link, then the new ones, once


def _records_after(base: Path, first: str) -> int:
    """The records of every complete set but ``first``: the continuous backup's links."""
    return sum(b.records for b in list_backups(base) if b.backup_id != first and b.status == "complete")


def _only_job(app: KsreApp) -> Job:
    [job] = app.jobs_pane.jobs.values()
    return job


async def test_a_set_restore_from_the_backups_tab_shows_its_preflight_first(
        kafka: LocalKafka, cluster: ClusterConfig, unique: str, tmp_path: Path) -> None:
    bs = kafka.bootstrap_servers
    topics = [f"{unique}-p", f"{unique}-q"]
    links: list[SetManifest] = []
    for name in topics:
        await create_topic(bs, name, 2)
    for _ in range(2):  # a chain of two links: the restore follows it
        for name in topics:
            await produce(bs, name, {0: 6, 1: 6})
        links.append(await set_link(cluster, tmp_path, topics, links[-1] if links else None))
    sources = {name: await read_all(bs, name) for name in topics}
    config = AppConfig(backup=dataclasses.replace(BackupSettings(), base_path=tmp_path))
    read_only = KsreApp(dataclasses.replace(cluster, read_only=True), UiSettings(refresh_seconds=5), config=config)
    async with read_only.run_test(size=(140, 40)) as pilot:
        await pilot.press("b")
        await wait_for(lambda: read_only.query_one("#backups-table", DataTable).row_count == 2, "the two links")
        await pilot.press("R")
        assert not isinstance(read_only.screen, SetRestoreForm)  # refused on a read-only cluster
    app = KsreApp(cluster, UiSettings(refresh_seconds=5), config=config)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("b")
        table = app.query_one("#backups-table", DataTable)
        await wait_for(lambda: table.row_count == 2, "the two links")
        table.move_cursor(row=table.get_row_index(links[1].set_id))
        await pilot.press("R")
        assert isinstance(app.screen, SetRestoreForm)
        app.screen.query_one("#s-topic-prefix", Input).value = "dr-"
        await pilot.click("#check")
        await wait_for(lambda: isinstance(app.screen, SetPreflightScreen), "the set's preflight")
        preflight = app.screen.preflight
        assert preflight.ok and preflight.records == 48 and len(preflight.links) == 2
        await pilot.pause()  # the preflight laid out before its button is clicked
        await pilot.click("#start")
        await wait_for(lambda: bool(app.jobs_pane.jobs), f"the restore job to start (screen: {app.screen})", 10)
        await wait_for(lambda: not _only_job(app).active, "the set restore job", seconds=60)
        assert _only_job(app).state == "done" and "48 records written into 2 topics" in _only_job(app).detail
    for name in topics:
        restored = await read_all(bs, f"dr-{name}")
        assert {p: [r[1:] for r in rs] for p, rs in restored.items()} == {
            p: [r[1:] for r in rs] for p, rs in sources[name].items()}
