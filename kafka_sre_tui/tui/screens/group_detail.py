"""One consumer group: total lag over time, per-partition lag, members and their assignments."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Sparkline, Static

from kafka_sre_tui.engine.drain import Assessment
from kafka_sre_tui.engine.errors import KsreError
from kafka_sre_tui.engine.inspect.groups import describe_group
from kafka_sre_tui.engine.models import GroupInfo, GroupMember, TopicPartition
from kafka_sre_tui.tui.widgets.cells import num
from kafka_sre_tui.tui.widgets.status_cell import status_cell


class GroupScreen(Screen[None]):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back"), Binding("r", "reload", "Refresh"),
                Binding("d", "drain", "Drain monitor")]

    def __init__(self, group_id: str, history: deque[int], refresh_seconds: float,
                 assessment: Callable[[], Assessment | None] = lambda: None) -> None:
        """``assessment``: the lag engine's latest judgement of this group (from the dashboard's refreshes)."""
        super().__init__()
        self.group_id = group_id
        self.history = history
        self.refresh_seconds = refresh_seconds
        self.assessment = assessment

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"Group {self.group_id}", id="detail-title")
        yield Sparkline(list(self.history) or [0], id="lag-trend")
        yield DataTable(id="group-partitions", cursor_type="row", zebra_stripes=True)
        yield Static("", id="members")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#group-partitions", DataTable).add_columns(
            "Topic", "Partition", "Latest", "Committed", "Lag", "Lag in time", "In/s", "Out/s", "Status", "Member")
        self.action_reload()
        self.set_interval(self.refresh_seconds, self.action_reload)

    def action_drain(self) -> None:
        self.app.action_drain_group(self.group_id)  # type: ignore[attr-defined]

    @work(exclusive=True, group="group-detail")
    async def action_reload(self) -> None:
        app = self.app

        async def fetch() -> GroupInfo:
            session = await app.refresher.session()  # type: ignore[attr-defined]
            return await describe_group(session, self.group_id)

        try:
            group = await app.engine.run(fetch())  # type: ignore[attr-defined]  # the session lives on the engine's loop
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
                          status_cell(v.status.value) if v else "-", clients.get(p.member_id or "", "-"))
        members = [member_line(m, clients[m.member_id]) for m in group.members]
        self.query_one("#members", Static).update("Members\n" + ("\n".join(members) or "none (no active member)"))


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
