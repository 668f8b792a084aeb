"""Backup sets on the dashboard's Backups tab, driven with Pilot against the real broker: a set is one
row with its kind and chain, Enter shows its chain, v verifies every link."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from textual.widgets import DataTable, Static

from kafka_sre_tui.config import AppConfig, BackupSettings, ClusterConfig, UiSettings
from kafka_sre_tui.engine.backup.catalog import list_backups
from kafka_sre_tui.engine.storage.backup_set import SetManifest
from kafka_sre_tui.localkafka import LocalKafka
from kafka_sre_tui.tui.app import KsreApp
from kafka_sre_tui.tui.screens.backup_detail import BackupDetail
from tests.kafka_helpers import create_topic, produce, wait_for
from tests.set_stand_in_setscatalog import stand_in_set


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
        links.append(await stand_in_set(cluster, tmp_path, [unique, f"{unique}-b"], links[-1] if links else None))
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
