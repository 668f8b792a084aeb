"""One consumer group: total lag over time, per-partition lag, members and their assignments."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Sparkline, Static

from kafka_sre_tui.cli import data_loss_output
from kafka_sre_tui.engine.drain import Assessment
from kafka_sre_tui.engine.drain.data_loss import DataLoss
from kafka_sre_tui.engine.drain.data_loss_probe import DataLossProbe, DataLossSampler
from kafka_sre_tui.engine.drain.sampler import GroupSampler
from kafka_sre_tui.engine.errors import KsreError
from kafka_sre_tui.engine.inspect.groups import describe_group
from kafka_sre_tui.engine.models import GroupInfo, GroupMember, TopicPartition
from kafka_sre_tui.engine.records.query import RecordQuery
from kafka_sre_tui.tui.screens.offsets_form import OffsetsResetForm
from kafka_sre_tui.tui.screens.records import RecordsScreen
from kafka_sre_tui.tui.widgets.cells import num
from kafka_sre_tui.tui.widgets.status_cell import status_cell


class GroupScreen(Screen[None]):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back"), Binding("r", "reload", "Refresh"),
                Binding("d", "drain", "Drain monitor"), Binding("v", "records", "Records"),
                Binding("p", "stuck_record", "Stuck record"), Binding("o", "reset_offsets", "Reset offsets"),
                Binding("y", "replay", "Replay unread")]

    def __init__(self, group_id: str, history: deque[int], refresh_seconds: float,
                 assessment: Callable[[], Assessment | None] = lambda: None) -> None:
        """``assessment``: the lag engine's latest judgement of this group (from the dashboard's refreshes)."""
        super().__init__()
        self.group_id = group_id
        self.history = history
        self.refresh_seconds = refresh_seconds
        self.assessment = assessment
        self.losses: DataLossSampler | None = None  # time to data loss, looked up on the engine's loop

    async def on_unmount(self) -> None:
        self.workers.cancel_group(self, "group-detail")  # a reload must not use the sampler being closed
        if self.losses is not None:
            await self.app.engine.run(self.losses.close())  # type: ignore[attr-defined]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"Group {self.group_id}", id="detail-title")
        yield Sparkline(list(self.history) or [0], id="lag-trend")
        yield DataTable(id="group-partitions", cursor_type="row", zebra_stripes=True)
        yield Static("", id="members")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#group-partitions", DataTable).add_columns(
            "Topic", "Partition", "Latest", "Committed", "Lag", "Lag in time", "In/s", "Out/s", "Status", "Member",
            "Data loss")
        self.action_reload()
        self.set_interval(self.refresh_seconds, self.action_reload)

    def action_drain(self) -> None:
        self.app.action_drain_group(self.group_id)  # type: ignore[attr-defined]

    def _selected(self) -> tuple[str, int] | None:
        table = self.query_one("#group-partitions", DataTable)
        if not table.row_count:
            return None
        row = table.get_row_at(table.cursor_row)
        return str(row[0]), int(str(row[1]).replace(",", ""))

    def action_records(self) -> None:
        """The records from the group's committed offset on the selected partition."""
        if (selected := self._selected()) is not None:
            self.app.push_screen(RecordsScreen(RecordQuery(selected[0], (selected[1],), group=self.group_id)))

    def action_reset_offsets(self) -> None:
        if (selected := self._selected()) is not None:
            self.app.push_screen(OffsetsResetForm(self.group_id, selected[0], (selected[1],)))

    def action_replay(self) -> None:
        """The replay form from the group's committed offsets on the selected partition's topic."""
        if (selected := self._selected()) is not None:
            self.app.action_replay(selected[0], self.group_id)  # type: ignore[attr-defined]

    def action_stuck_record(self) -> None:
        """The poison pill: the record at the committed offset and the next few, with why it is stuck."""
        if (selected := self._selected()) is None:
            return
        judged = self.assessment()
        view = next((v for v in judged.partitions if (v.topic, v.partition) == selected), None) if judged else None
        why = f"why: {view.status.value}: {view.reason}" if view else "why: not judged yet (no lag engine sample)"
        self.app.push_screen(RecordsScreen(RecordQuery(selected[0], (selected[1],), group=self.group_id, limit=5),
                                           note=f"the record group {self.group_id} is at, and the next 4 · {why}"))

    @work(exclusive=True, group="group-detail")
    async def action_reload(self) -> None:
        app = self.app

        async def fetch() -> tuple[GroupInfo, dict[TopicPartition, DataLoss]]:
            session = await app.refresher.session()  # type: ignore[attr-defined]
            if self.losses is None:
                self.losses = DataLossSampler(GroupSampler(session, self.group_id), DataLossProbe(session))
            group = await describe_group(session, self.group_id)
            await self.losses.sample()
            return group, self.losses.latest

        try:
            group, losses = await app.engine.run(fetch())  # type: ignore[attr-defined]  # the session lives on the engine's loop
        except KsreError as exc:
            self.query_one("#detail-title", Static).update(f"Group {self.group_id}: [b red]{exc}[/]")
            return
        self.query_one("#detail-title", Static).update(
            f"Group {group.group_id}: {group.summary}, total lag {group.total_lag:,}, "
            f"{group.partitions_without_commit} partitions without a commit")
        self.query_one("#lag-trend", Sparkline).data = [*self.history] or [group.total_lag]
        clients = {m.member_id: f"{m.client_id}@{m.host.lstrip('/')}" for m in group.members}
        judged = self.assessment()
        views = {(v.topic, v.partition): v for v in judged.partitions} if judged else {}
        if judged:
            self.query_one("#detail-title", Static).update(
                f"Group {group.group_id}: {judged.status.value} ({judged.reason}) · {group.summary}, "
                f"total lag {group.total_lag:,}, ETA {judged.eta.describe()}")
        table = self.query_one("#group-partitions", DataTable)
        table.clear()
        for p in group.partitions:
            committed = "no commit" if p.committed is None else num(p.committed)
            lag = "no commit" if p.committed is None else num(p.lag)
            v = views.get((p.topic, p.partition))
            table.add_row(p.topic, num(p.partition), num(p.latest_offset), committed, lag,
                          v.lag_time.describe() if v and v.lag_time else "-",
                          num(v.production_rate if v else None), num(v.consumption_rate if v else None),
                          status_cell(v.status.value) if v else "-", clients.get(p.member_id or "", "-"),
                          data_loss_output.short(losses.get(TopicPartition(p.topic, p.partition))))
        warning = data_loss_output.headline(losses)
        members = [member_line(m, clients[m.member_id]) for m in group.members]
        self.query_one("#members", Static).update((f"[b red]{escape(warning)}[/]\n" if warning else "") + "Members\n"
                                                  + escape("\n".join(members) or "none (no active member)"))


def member_line(m: GroupMember, client: str) -> str:
    """``client@host (epoch 5): t/0, t/1 · target t/0, t/1, t/2 (+1 pending)``; the target only
    where the group type has one (consumer, streams) and it differs from what the member owns."""
    epoch = "" if m.member_epoch is None else f" (epoch {m.member_epoch})"
    text = f"{client}{epoch}: {_tps(m.assignment) or 'nothing'}"
    if m.pending and m.target_assignment is not None:
        text += f" · target {_tps(m.target_assignment) or 'nothing'} ({len(m.pending)} pending)"
    return text


def _tps(tps: tuple[TopicPartition, ...]) -> str:
    return ", ".join(f"{tp.topic}/{tp.partition}" for tp in tps)
