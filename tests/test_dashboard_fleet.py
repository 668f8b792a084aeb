"""The fleet of a workers group on the dashboard, with Pilot against the real broker: two worker processes
write a set into the configured backup directory; the Jobs tab shows the group's row (workers, partitions
done of total, MB), Enter lists each worker in the group, and the Backups tab calls the set running."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from kafka_sre_tui.config import AppConfig, BackupSettings, ClusterConfig, UiSettings
from kafka_sre_tui.engine.backup.workers_fleet import fleet_of_set
from kafka_sre_tui.engine.storage.store import open_location
from kafka_sre_tui.localkafka import LocalKafka
from kafka_sre_tui.tui.app import KsreApp
from kafka_sre_tui.tui.screens.backup_detail import BackupDetail
from kafka_sre_tui.tui.widgets.jobs_pane import FLEET_KEY
from tests.fleet_helpers import PARTITIONS, group_set, load_topic, workers
from tests.kafka_helpers import wait_for

pytestmark = pytest.mark.timeout(180)


def _cells(table: DataTable, key: str) -> list[str]:  # type: ignore[type-arg]
    if key not in {k.value for k in table.rows}:
        return []
    return [str(cell) for cell in table.get_row(key)]


async def test_the_jobs_tab_shows_a_running_workers_group(kafka: LocalKafka, cluster: ClusterConfig, unique: str,
                                                          tmp_path: Path) -> None:
    bs, base, group = kafka.bootstrap_servers, tmp_path / "backups", f"{unique}-fleet"
    await load_topic(bs, unique)
    with workers(bs, unique, base, group, tmp_path):
        await wait_for(lambda: group_set(base, group) is not None, "the group's set", 60)
        set_id = group_set(base, group)
        assert set_id is not None

        def both_claimed() -> bool:
            fleet = fleet_of_set(open_location(base), set_id, datetime.now(UTC))
            return fleet is not None and len(fleet.workers) == 2 and not fleet.unowned

        await wait_for(both_claimed, "both workers holding partitions", 60)
        config = AppConfig(backup=dataclasses.replace(BackupSettings(), base_path=base))
        app = KsreApp(cluster, UiSettings(refresh_seconds=1), config=config)
        async with app.run_test(size=(200, 40)) as pilot:
            await pilot.press("j")
            table = app.query_one("#jobs-table", DataTable)
            key = FLEET_KEY + group
            await wait_for(lambda: len(_cells(table, key)) > 0, "the group's row in the Jobs tab", 20)
            row = _cells(table, key)
            assert row[:4] == ["fleet", "workers group", f"{group} → {set_id}", "running"]
            assert row[8].startswith("2 workers · partitions ") and f"/{PARTITIONS} · " in row[8]
            assert row[4].endswith("%")  # the bar and its percentage of the offsets

            await wait_for(lambda: group in app.jobs_pane.members, "the group's members from the groups listing", 30)
            table.move_cursor(row=table.get_row_index(key))
            await pilot.press("enter")
            await wait_for(lambda: isinstance(app.screen, BackupDetail), "the fleet's detail")
            text = str(app.screen.query_one("#backup-text", Static).render())
            assert f"workers group {group} · backup set {set_id}" in text
            fleet = app.jobs_pane.fleet(group)
            for worker in fleet.workers:
                assert f"{worker.worker}  generation {worker.generation}" in text
            assert text.count("· in group ·") == 2  # both are members the coordinator lists
            assert app.jobs_pane.selected() is None  # a fleet is no job of the dashboard's: x cannot cancel it
            await pilot.press("escape")

            await pilot.press("b")
            backups = app.query_one("#backups-table", DataTable)
            await wait_for(lambda: len(_cells(backups, set_id)) > 0, "the set in the Backups tab", 20)
            assert _cells(backups, set_id)[1] in ("running (2 workers)", "running (1 worker)")
