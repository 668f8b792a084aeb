"""The dashboard's own machinery, without Kafka: the live table, the engine thread, the GC schedule."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.text import Text
from textual.app import App, ComposeResult
from textual.message_pump import MessagePump

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.models import PartitionInfo, TopicInfo
from kafka_sre_tui.tui.background_rows import BACKGROUND_ROWS
from kafka_sre_tui.tui.engine_thread import EngineThread
from kafka_sre_tui.tui.gc_schedule import GcSchedule
from kafka_sre_tui.tui.jobs import FAILED, Job
from kafka_sre_tui.tui.messages import GroupsLoaded, RefreshDone, RefreshFailed, TopicsLoaded
from kafka_sre_tui.tui.widgets import topics_pane
from kafka_sre_tui.tui.widgets.live_table import Column, LiveTable, PreparedRows
from kafka_sre_tui.tui.widgets.topics_pane import TopicsPane
from tests.test_dashboard_snapshots import GROUPS, TOPICS, FixedData, _app

COLUMNS = (Column("Name", "name"), Column("Lag", "lag", "right"))


class TableApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.table = LiveTable(COLUMNS, id="t")
        self.selected: list[str] = []

    def compose(self) -> ComposeResult:
        yield self.table

    def on_live_table_row_selected(self, event: LiveTable.RowSelected) -> None:
        self.selected.append(event.key)


def _text(table: LiveTable) -> list[str]:
    """What the table shows, line by line (header first)."""
    return ["".join(segment.text for segment in table.render_line(y)).rstrip()
            for y in range(table.scrollable_content_region.height)]


async def test_the_cursor_stays_on_its_row_when_rows_change_and_enter_opens_it() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 8)) as pilot:
        table = app.table
        table.set_rows((f"g{i}", (f"g{i}", f"{i * 10:,}")) for i in range(100))
        await pilot.pause()
        table.focus()
        await pilot.press("down", "down", "down")
        assert table.selected_key == "g3"
        # new data arrives in another order, with rows added before the cursor's
        table.set_rows(((f"g{i}", (f"g{i}", f"{i:,}")) for i in range(100)),
                       sort_key=lambda cells: int(str(cells[1]).replace(",", "")), reverse=True)
        assert table.selected_key == "g3" and table.row_keys()[0] == "g99"
        await pilot.press("enter")
        await pilot.pause()
        assert app.selected == ["g3"]
        await pilot.press("end")
        assert table.selected_key == "g0"
        assert "g0" in "\n".join(_text(table))  # scrolled to keep the cursor on screen
        await pilot.press("home", "pagedown")
        assert table.cursor == table.scrollable_content_region.height - 1


async def test_numbers_are_right_aligned_long_text_is_cut_and_a_vanished_row_moves_the_cursor() -> None:
    app = TableApp()
    async with app.run_test(size=(100, 8)) as pilot:
        table = app.table
        long_name = "x" * 100
        table.set_rows([("a", ("a", "5")), ("b", (long_name, Text("1,234", style="red")))])
        await pilot.pause()
        header, first, second = _text(table)[:3]
        assert header.index("Lag") + len("Lag") == first.index("5") + 1  # right edges line up
        assert second.rstrip().endswith("1,234") and "…" in second and long_name not in second
        assert table.row("b") == (long_name, "1,234")
        table.select_key("b")
        table.set_rows([("a", ("a", "5"))])
        assert table.selected_key == "a" and table.row_count == 1
        table.clear()
        assert table.selected_key is None and _text(table)[1] == ""


async def test_engine_thread_runs_work_off_the_callers_loop_and_waits_for_clean_up_on_cancel() -> None:
    engine = EngineThread()
    try:
        assert await engine.run(_thread_name()) == "ksre-engine"
        with pytest.raises(ValueError, match="boom"):
            await engine.run(_fail())
        cleaned = threading.Event()
        started = asyncio.Event()
        loop = asyncio.get_running_loop()

        async def long_job() -> None:
            loop.call_soon_threadsafe(started.set)
            try:
                await asyncio.sleep(60)
            finally:
                await asyncio.sleep(0.2)  # a checkpoint being written
                cleaned.set()

        task = asyncio.create_task(engine.run(long_job()))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert cleaned.is_set(), "run() returned before the job's finally block had finished"
    finally:
        engine.stop()
    assert not engine.loop.is_running()


async def _thread_name() -> str:
    return threading.current_thread().name


async def _fail() -> None:
    raise ValueError("boom")


def test_gc_schedule_moves_full_collections_to_its_own_clock() -> None:
    now = [0.0]
    before = gc.get_threshold()
    schedule = GcSchedule(full_every=600, clock=lambda: now[0])
    collections: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    schedule.start()
    gc.callbacks.append(seen)
    try:
        assert gc.get_threshold()[2] > 10**6  # CPython starts no full collection by itself
        schedule.settle()
        assert 2 not in collections  # not due yet
        now[0] = 601.0
        schedule.settle()
        assert 2 in collections
    finally:
        gc.callbacks.remove(seen)
        schedule.stop()
    assert gc.get_threshold() == before


async def test_the_cursor_row_stays_in_view_when_rows_shrink_or_reorder() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 8)) as pilot:
        table = app.table
        table.set_rows((f"g{i:03d}", (f"g{i:03d}", str(i))) for i in range(100))
        await pilot.pause()
        table.select_key("g090")
        await pilot.pause()

        def in_view() -> bool:
            return table.selected_key in "\n".join(_text(table))

        assert in_view()
        table.set_rows((f"g{i:03d}", (f"g{i:03d}", str(i))) for i in range(50))  # a filter: g090 is gone
        assert table.selected_key == "g049" and in_view()
        table.select_key("g003")
        table.set_rows(((f"g{i:03d}", (f"g{i:03d}", str(i))) for i in range(50)),
                       sort_key=lambda cells: int(cells[1]), reverse=True)  # re-sorted: g003 near the end
        assert table.selected_key == "g003" and in_view()


async def test_cells_never_put_control_characters_on_the_terminal_and_wide_text_is_cut_by_width() -> None:
    app = TableApp()
    async with app.run_test(size=(100, 6)) as pilot:
        table = app.table
        table.set_rows([("evil", ("grp\x1b]0;owned\x07\r", "1")), ("wide", ("組" * 80, "2"))])
        await pilot.pause()
        shown = "\n".join(_text(table))
        assert "\x1b" not in shown and "\x07" not in shown and "\r" not in shown and "grp?]0;owned??" in shown
        wide_line = next(line for line in _text(table) if "組" in line)
        assert cell_len(wide_line.split("…")[0]) <= 64 and wide_line.rstrip().endswith("2")


async def test_a_second_cancel_still_waits_for_the_clean_up() -> None:
    engine = EngineThread()
    try:
        cleaned = threading.Event()
        started = asyncio.Event()
        loop = asyncio.get_running_loop()

        async def job() -> None:
            loop.call_soon_threadsafe(started.set)
            try:
                await asyncio.sleep(60)
            finally:
                await asyncio.to_thread(time.sleep, 0.3)  # the checkpoint
                cleaned.set()

        task = asyncio.create_task(engine.run(job()))
        await started.wait()
        task.cancel()
        await asyncio.sleep(0.05)
        task.cancel()  # x pressed again
        with pytest.raises(asyncio.CancelledError):
            await task
        assert cleaned.is_set()
    finally:
        engine.stop()


class ProdOnly(FixedData):
    """prod answers with the fixed data; every other cluster is down."""

    def __init__(self, cluster: ClusterConfig, target: MessagePump) -> None:
        super().__init__(cluster, target)
        self.cluster = cluster

    async def refresh(self) -> None:
        if self.cluster.name == "prod":
            await super().refresh()
        else:
            self.target.post_message(RefreshFailed("cannot connect", self))


async def test_answers_from_the_previous_cluster_are_dropped_after_a_switch(tmp_path: Path) -> None:
    app = _app(tmp_path, ProdOnly)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        assert app.topics_pane.table.row_count == 3
        old = app.refresher
        app.switch_cluster("staging")
        await pilot.pause()
        # what the prod refresher was still decoding when the switch happened arrives now
        app.post_message(TopicsLoaded(TOPICS, True, old))
        app.post_message(GroupsLoaded(GROUPS, old))
        app.post_message(RefreshDone(0.5, old))
        await pilot.pause()
        assert app.topics_pane.table.row_count == 0 and app.groups_pane.table.row_count == 0
        assert "no data yet" in str(app.status.render())
        assert not app.groups_pane.trackers


async def test_an_unexpected_error_fails_the_job_in_words(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        job = Job("backup", "prod/orders")

        async def full_disk() -> None:
            raise OSError(28, "No space left on device")

        worker = app.run_worker(app._supervise(job, full_disk(), lambda _: None, lambda: "cancelled"),
                                exit_on_error=False)
        await pilot.pause(0.5)
        assert worker.is_finished
        assert job.state == FAILED and "No space left on device" in job.detail


class TopicsApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.pane = TopicsPane()

    def compose(self) -> ComposeResult:
        yield self.pane


def _topics(count: int) -> list[TopicInfo]:
    return [TopicInfo(f"svc-{i:04d}.events", False,
                      tuple(PartitionInfo(p, 1, (1, 2), (1, 2), (), 0, i + p) for p in range(5)))
            for i in range(count)]


async def test_thousands_of_rows_are_built_off_the_ui_thread_and_the_newest_filter_wins() -> None:
    """Above BACKGROUND_ROWS a pane prepares its rows in a thread (8,000 topics held the UI thread for
    seconds); what it shows is what the newest refresh and filter asked for, not a slower older one."""
    app = TopicsApp()
    async with app.run_test(size=(120, 20)) as pilot:
        built_in: list[str] = []
        real = topics_pane.prepare_rows

        def watched(*args: object, **kwargs: object) -> PreparedRows:
            built_in.append(threading.current_thread().name)
            return real(*args, **kwargs)  # type: ignore[arg-type]

        topics_pane.prepare_rows = watched  # type: ignore[assignment]
        try:
            app.pane.show(_topics(10), True, "")  # small: at once, on the UI thread
            assert app.pane.table.row_count == 10 and built_in == [threading.current_thread().name]
            many = _topics(BACKGROUND_ROWS * 3)
            app.pane.show(many, True, "")
            app.pane.render_rows("svc-01")  # typed while the first preparation runs
            for _ in range(200):  # the first preparation is cancelled; the second shows
                if all(w.is_finished for w in app.workers):
                    break
                await pilot.pause(0.05)
            await pilot.pause()
        finally:
            topics_pane.prepare_rows = real  # type: ignore[assignment]
        assert all(name != threading.current_thread().name for name in built_in[1:])
        keys = app.pane.table.row_keys()
        assert keys == [t.name for t in many if t.name.startswith("svc-01")] and len(keys) == 100
        assert app.pane.table.row("svc-0105.events")[1:4] == ("5", "2", "535")  # partitions, RF, messages
