"""Every number field of every dashboard form, fed what a tired operator or a paste can put there
(NaN, infinity, negative, words, a number beyond any Kafka value): a one-line error under that field,
and the form stays open, so no job starts. Pilot tests; no broker is needed, as nothing may reach one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.screen import Screen
from textual.widgets import Input, Static

from kafka_sre_tui.config import BackupSettings
from kafka_sre_tui.engine.records.query import RecordQuery
from kafka_sre_tui.tui.screens.backup_form import BackupForm
from kafka_sre_tui.tui.screens.drain_form import DrainForm
from kafka_sre_tui.tui.screens.form_fields import JobForm
from kafka_sre_tui.tui.screens.migrate_form import MigrateForm
from kafka_sre_tui.tui.screens.offsets_form import OffsetsResetForm
from kafka_sre_tui.tui.screens.records_start import RecordsStartForm
from kafka_sre_tui.tui.screens.replay_form import ReplayForm
from kafka_sre_tui.tui.screens.restore_form import RestoreForm

SIZE = (80, 24)
HUGE = "9" * 30  # beyond int64: no Kafka offset, count or lag is that large
BAD_WHOLE = ("nan", "-1", "abc", "1.5", HUGE)
BAD_DECIMAL = ("nan", "-1", "abc", "inf", "1e400", HUGE)
POSITIVE = (*BAD_DECIMAL, "0")  # durations and rates: 0 makes no sense either
REPLICAS = (*BAD_WHOLE, "0", "40000")  # an int16 >= 1
MAP = ("0:nan", "-1:0", "0:-1", f"0:{HUGE}", "x")


class Host(App[None]):
    """An app that shows one screen and records what it is dismissed with."""

    def __init__(self, screen: Screen[Any]) -> None:
        super().__init__()
        self.form = screen
        self.results: list[object] = []

    def on_mount(self) -> None:
        self.push_screen(self.form, self.results.append)


def _forms(tmp_path: Path) -> dict[str, tuple[JobForm[Any], dict[str, tuple[str, ...]]]]:
    """Each form, and its number fields with the bad values each must refuse."""
    return {
        "backup": (BackupForm("orders", BackupSettings(base_path=tmp_path)), {
            "level": BAD_WHOLE, "max_messages": BAD_WHOLE, "from_offset": BAD_WHOLE, "to_offset": BAD_WHOLE,
            "rate_limit": POSITIVE, "checkpoint_seconds": POSITIVE,
            "partitions": BAD_WHOLE}),
        "restore": (RestoreForm(tmp_path, "20261124T181500123Z-orders-a1b2c3", "orders", "prod"), {
            "from_offset": BAD_WHOLE, "to_offset": BAD_WHOLE, "rate_limit": POSITIVE,
            "replication_factor": REPLICAS, "checkpoint_seconds": POSITIVE,
            "partitions": BAD_WHOLE, "partition_map": MAP}),
        "migrate": (MigrateForm("orders", "prod", ["dr", "prod"]), {
            "rate_limit": POSITIVE, "replication_factor": REPLICAS,
            "checkpoint_seconds": POSITIVE, "partitions": BAD_WHOLE,
            "partition_map": MAP}),
        "records": (RecordsStartForm(RecordQuery("orders")), {
            "tail": BAD_WHOLE, "offset": BAD_WHOLE, "partitions": BAD_WHOLE}),
        "replay": (ReplayForm("orders", ["prod", "dr"], ""), {
            "from_offset": BAD_WHOLE, "to_offset": BAD_WHOLE, "limit": BAD_WHOLE, "rate_limit": POSITIVE,
            "partitions": BAD_WHOLE}),
        "drain": (DrainForm("payments", 2.0), {
            "max_lag": BAD_WHOLE, "max_partition_lag": BAD_WHOLE, "max_lag_seconds": BAD_DECIMAL,
            "timeout_seconds": POSITIVE, "hold": (*BAD_WHOLE, "0"), "interval": POSITIVE,
            "stall_seconds": POSITIVE, "window_seconds": POSITIVE}),
    }


@pytest.mark.parametrize("name", ["backup", "restore", "migrate", "drain", "records", "replay"])
async def test_every_number_field_refuses_bad_values_under_itself(name: str, tmp_path: Path) -> None:
    form, fields = _forms(tmp_path)[name]
    app = Host(form)
    async with app.run_test(size=SIZE) as pilot:
        if name == "replay":  # its one required text field, so that each error is the number's
            form.query_one("#y-target", Input).value = "orders-replayed"
        for field, values in fields.items():
            box = form.query_one(f"#{form.wid(field)}", Input)
            good = box.value
            for value in values:
                box.value = value
                form.submit()  # what Enter in any field does
                assert app.screen is form and not app.results, f"{name} {field}={value!r} was accepted"
                shown = str(form.query_one(f"#{form.wid(field)}-error", Static).render())
                label = form.FIELDS[field].label.strip()
                elsewhere = str(form.query_one("#form-error", Static).render())
                assert shown.startswith(f"{label}: "), f"{name} {field}={value!r}: {shown!r} / {elsewhere!r}"
                assert "\n" not in shown and "Traceback" not in shown
            box.value = good
        await pilot.pause()
        form.submit()  # the defaults, once each bad value is gone: accepted (the test could fail)
        await pilot.pause()
        assert app.results and app.results[0] is not None


async def test_required_number_of_an_offsets_reset_target_and_bad_numbers_are_refused() -> None:
    form = OffsetsResetForm("payments", "orders", None)
    app = Host(form)
    async with app.run_test(size=SIZE) as pilot:
        for target in ("offset", "offset nan", "offset -1", f"offset {HUGE}", "skip 0", "skip -3", "skip x",
                       f"shift {HUGE}", f"shift -{HUGE}", "shift 1.5", "tail"):
            form.query_one("#reset-target", Input).value = target
            form.query_one("#reset-partitions", Input).value = ""
            await pilot.pause()
            form._dry_run()
            await pilot.pause()
            shown = str(form.query_one("#reset-plan", Static).render())
            assert shown and "\n" not in shown, target
            assert form.plan is None and not form.workers, f"{target!r} started a dry run"
        for partitions in ("nan", "-1", HUGE, "0,x"):
            form.query_one("#reset-target", Input).value = "earliest"
            form.query_one("#reset-partitions", Input).value = partitions
            await pilot.pause()
            form._dry_run()
            await pilot.pause()
            assert "partition" in str(form.query_one("#reset-plan", Static).render()).lower(), partitions
            assert form.plan is None and not form.workers, f"partitions {partitions!r} started a dry run"

