"""`drain` and `lag GROUP --watch`: the command-line face of the drain monitor (engine/drain).

Wired into cli.py by ``add_commands`` plus the two handlers. Exit codes of ``drain``: 0 drained,
1 timed out (or Kafka failed), 2 bad input, 3 stalled; ``lag --watch`` runs until Ctrl-C or ``--count``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from kafka_sre_tui.cli import data_loss_output
from kafka_sre_tui.cli.args import cluster_from_args
from kafka_sre_tui.config import AppConfig
from kafka_sre_tui.engine.errors import ConfigError, NotFound
from kafka_sre_tui.observe.tap import tapped

if TYPE_CHECKING:  # the engine is imported by the command that runs (see cli/main.py)
    from kafka_sre_tui.engine.drain import Assessment, DrainGoal, MonitorResult
    from kafka_sre_tui.engine.drain.data_loss import DataLoss
    from kafka_sre_tui.engine.drain.data_loss_probe import DataLossSampler
    from kafka_sre_tui.engine.drain.monitor import Event
    from kafka_sre_tui.engine.models import TopicPartition

EXIT_DRAINED, EXIT_TIMED_OUT, EXIT_STALLED = 0, 1, 3
SPARK = "▁▂▃▄▅▆▇█"


def add_commands(subparsers: Any, parents: dict[str, argparse.ArgumentParser]) -> None:
    """Add ``drain`` and give the existing ``lag`` command ``--watch``. ``parents``: "common",
    "cluster" and "json" (the option groups every cluster command shares)."""
    shared = [parents["common"], parents["cluster"], parents["json"]]
    drain = subparsers.add_parser(
        "drain", parents=shared, help="wait until a consumer group has drained its lag (exit 0), "
        "times out (1) or stalls (3)", description="Sample a consumer group until its lag is drained. "
        "Exit codes: 0 drained, 1 timed out, 2 bad input, 3 stalled (no progress for --stall-seconds).")
    drain.add_argument("--group-id", "-g", required=True, metavar="GROUP", help="consumer group id")
    drain.add_argument("--max-lag", type=int, metavar="N",
                       help="done when the total lag is at most N (the default goal: 0)")
    drain.add_argument("--max-partition-lag", type=int, metavar="N", help="and every partition's lag is at most N")
    drain.add_argument("--max-lag-seconds", type=float, metavar="S",
                       help="done when every partition's lag in time is at most S seconds")
    drain.add_argument("--timeout-seconds", type=float, metavar="S", help="give up after S seconds (exit 1)")
    drain.add_argument("--hold", type=int, default=3, metavar="K",
                       help="the goal must hold for K consecutive samples (default 3)")
    _sampling_options(drain)
    lag = subparsers.choices.get("lag")
    if lag is not None:
        lag.add_argument("--watch", "-w", action="store_true", help="refresh live: rates, lag in time, status")
        lag.add_argument("--count", type=int, metavar="N", help="with --watch: stop after N samples")
        _sampling_options(lag)


def _sampling_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--interval", type=float, default=2.0, metavar="S", help="seconds between samples (2)")
    parser.add_argument("--stall-seconds", type=float, default=60.0, metavar="S",
                        help="committed offset unchanged this long with lag and members: STALLED (60)")
    parser.add_argument("--window-seconds", type=float, default=30.0, metavar="S",
                        help="rates and status are fitted over this much history (30)")


def cmd_drain(args: argparse.Namespace, config: AppConfig) -> int:
    from kafka_sre_tui.engine.drain import DrainGoal, Outcome

    goal = DrainGoal(max_lag=args.max_lag, max_partition_lag=args.max_partition_lag,
                     max_lag_seconds=args.max_lag_seconds, hold_samples=args.hold,
                     timeout_seconds=args.timeout_seconds)
    result = _run(args, config, args.group_id, goal, None)
    assert result.outcome is not None  # a drain always ends with an outcome
    return {Outcome.DRAINED: EXIT_DRAINED, Outcome.TIMED_OUT: EXIT_TIMED_OUT,
            Outcome.STALLED: EXIT_STALLED}[result.outcome]


def cmd_lag_watch(args: argparse.Namespace, config: AppConfig) -> int:
    _run(args, config, args.group, None, args.count)
    return 0


def _run(args: argparse.Namespace, config: AppConfig, group_id: str, goal: DrainGoal | None,
         count: int | None) -> MonitorResult:
    import asyncio

    from kafka_sre_tui.engine.drain import Assessment, MonitorSettings, TrackerSettings, monitor_group
    from kafka_sre_tui.engine.drain.data_loss import GroupDataLossSeen
    from kafka_sre_tui.engine.drain.data_loss_probe import DataLossProbe, DataLossSampler
    from kafka_sre_tui.engine.drain.sampler import GroupSampler
    from kafka_sre_tui.engine.kafka.session import KafkaSession

    settings = MonitorSettings(
        interval_seconds=args.interval, max_samples=count,
        tracker=TrackerSettings(window_seconds=args.window_seconds, stall_seconds=args.stall_seconds))
    cluster = cluster_from_args(args, config)
    printer = _Printer(args.json, watch=goal is None)
    if goal is not None and not args.json:
        print(f"waiting for group '{group_id}' on {cluster.name}: {goal.describe()}"
              + (f", timeout {goal.timeout_seconds:g} s" if goal.timeout_seconds else ""), flush=True)

    async def run() -> MonitorResult:
        async with KafkaSession(cluster) as session:
            inner = GroupSampler(session, group_id, timestamp_budget_seconds=min(1.0, max(0.2, args.interval / 2)))
            printer.losses = DataLossSampler(inner, DataLossProbe(session))
            return await monitor_group(session, group_id, tell, goal=goal, settings=settings,
                                       sampler=printer.losses)

    def tell(event: Event) -> None:  # observers (alerts) also see the data loss judged with each sample
        emit(event)
        if isinstance(event, Assessment) and printer.losses is not None:
            observers(GroupDataLossSeen(group_id, event.at, dict(printer.losses.latest)))

    emit, observers = tapped(printer.event), tapped(lambda _event: None)

    try:
        result = asyncio.run(run())
    except NotFound as exc:
        raise ConfigError(str(exc)) from exc  # a mistyped group is bad input, not a timeout
    finally:
        printer.end_line()
    printer.result(result)
    return result


class _Printer:
    """JSON lines, or a status line that rewrites itself on a terminal (one line per sample when piped)."""

    def __init__(self, as_json: bool, watch: bool, out: Any = None) -> None:
        self.as_json = as_json
        self.watch = watch
        self.out = out or sys.stdout
        self.tty = self.out.isatty()
        self._open_line = False
        self.losses: DataLossSampler | None = None  # time to data loss of the latest sample

    def _losses(self, a: Assessment) -> dict[TopicPartition, DataLoss]:
        return self.losses.latest if self.losses else {}

    def event(self, event: Event) -> None:
        from kafka_sre_tui.engine.drain import Assessment, SampleFailed

        if self.as_json:
            self._json(self._sample_json(event) if isinstance(event, Assessment)
                       else {"event": "sample_failed", "time": round(event.at, 3), "error": event.error})
        elif isinstance(event, SampleFailed):
            self.end_line()
            print(f"{_clock(event.at)} sample failed, retrying: {event.error}", file=self.out, flush=True)
        elif self.watch and self.tty:
            self._table(event)
        else:
            warning = data_loss_output.headline(self._losses(event))
            self._status(status_line(event) + (f"  {warning}" if warning else ""))

    def _sample_json(self, a: Assessment) -> dict[str, Any]:
        from kafka_sre_tui.engine.drain import assessment_json
        from kafka_sre_tui.engine.drain.stuck import stuck_records
        from kafka_sre_tui.engine.models import TopicPartition

        losses = self._losses(a)
        value = {"event": "sample", **assessment_json(a), **data_loss_output.group_fields(losses)}
        stuck = stuck_records(a, self.losses.last) if self.losses else {}
        for p in value["partitions"]:
            tp = TopicPartition(p["topic"], p["partition"])
            p.update(data_loss_output.partition_fields(losses.get(tp)))
            record = stuck.get(tp)
            p["stuck_record"] = None if record is None else {
                "offset": record.offset, **dict(zip(("key", "key_format"), _key(record.key), strict=True))}
        return value

    def result(self, r: MonitorResult) -> None:
        if self.as_json:
            self._json({"event": "result", "outcome": r.outcome.value if r.outcome else None, "reason": r.reason,
                        "samples": r.samples, "elapsed_seconds": round(r.elapsed_seconds, 3),
                        "timestamp_lookups": r.timestamp_lookups, "lag_time_note": r.timestamp_note})
            return
        if r.timestamp_note:
            print(f"note: record timestamps unreadable ({r.timestamp_note}); lag in time was interpolated",
                  file=self.out)
        if r.outcome is not None:
            print(f"{r.outcome.value.replace('_', ' ')}: {r.reason}", file=self.out, flush=True)

    def end_line(self) -> None:
        if self._open_line:
            print(file=self.out, flush=True)
            self._open_line = False

    def _json(self, value: dict[str, Any]) -> None:
        print(json.dumps(value), file=self.out, flush=True)

    def _status(self, line: str) -> None:
        if self.tty:
            self.out.write("\r\x1b[2K" + line)
            self.out.flush()
            self._open_line = True
        else:
            print(line, file=self.out, flush=True)

    def _table(self, a: Assessment) -> None:
        from rich.console import Console
        from rich.table import Table

        from kafka_sre_tui.engine.models import TopicPartition

        console = Console(file=self.out, highlight=False)
        table = Table(box=None, header_style="bold")
        losses = self._losses(a)
        for col in ("Topic", "Partition", "End", "Committed", "Lag", "Lag time", "In/s", "Out/s", "ETA", "Data loss",
                    "Status"):
            table.add_column(col, justify="left" if col in ("Topic", "Status", "Data loss") else "right",
                             no_wrap=True)
        for p in a.partitions:
            table.add_row(p.topic, str(p.partition), _dash(p.end_offset), _dash(p.committed),
                          "no commit" if p.committed is None else _dash(p.lag),
                          p.lag_time.describe() if p.lag_time else "-", _rate(p.production_rate),
                          _rate(p.consumption_rate), p.eta.describe(),
                          data_loss_output.short(losses.get(TopicPartition(p.topic, p.partition))),
                          f"{p.status.value}: {p.reason}")
        self.out.write("\x1b[H\x1b[2J")
        console.print(status_line(a))
        warning = data_loss_output.headline(losses)
        if warning:
            console.print(warning)
        console.print(table)


def status_line(a: Assessment) -> str:
    lag_time = f" ({a.lag_time.describe()} behind)" if a.lag_time else ""
    return (f"{_clock(a.at)} {a.status.value:<8} lag {a.total_lag:,}{lag_time}  in {_rate(a.production_rate)}/s "
            f"out {_rate(a.consumption_rate)}/s  ETA {a.eta.describe()}  {sparkline(a.trend)}  {a.reason}")


def sparkline(values: Sequence[int]) -> str:
    if not values:
        return ""
    low, high = min(values), max(values)
    span = high - low
    return "".join(SPARK[0 if span == 0 else round((v - low) / span * (len(SPARK) - 1))] for v in values)


def _key(key: bytes | None) -> tuple[str | None, str]:
    from kafka_sre_tui.engine.records.render import show

    shown = show(key, max_chars=None, pretty=False)
    return shown.text, shown.format


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _dash(value: int | None) -> str:
    return "-" if value is None else str(value)


def _clock(at: float, localtime: Callable[[float], time.struct_time] = time.localtime) -> str:
    return time.strftime("%H:%M:%S", localtime(at))
