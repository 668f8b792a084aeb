"""CLI for ``migrate`` (thin: parse, call engine/migrate, print): ``migrate`` copies (and verifies),
``migrate verify`` compares both sides, ``migrate cutover [--step S]`` runs the cutover steps.

Exit codes: 0 done (verify: identical; cutover: every step run passed); 1 refused or failed (a check,
Kafka, a verify mismatch, a group not committed, a cutover step not passed); 2 bad usage or config,
including a read_only target. ``python -m kafka_sre_tui.cli.migrate migrate ...`` works without cli.py.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kafka_sre_tui.cli.args import add_retry_option, parse_groups, partitions_arg, seconds_arg, with_time_limits
from kafka_sre_tui.config import AppConfig, ClusterConfig
from kafka_sre_tui.engine.errors import ConfigError
from kafka_sre_tui.engine.jobs import Checkpointed, Retrying

if TYPE_CHECKING:  # the engine is imported by the command that runs (see cli/main.py)
    from kafka_sre_tui.engine import migrate as engine
from kafka_sre_tui.observe.tap import tapped

EXIT_OK, EXIT_FAILED = 0, 1
CUTOVER_STEPS = ("catch-up", "drain", "commit", "switch")  # engine.migrate.STEPS, named here for --help


def add_commands(sub: Any, parents: dict[str, argparse.ArgumentParser]) -> None:
    p = sub.add_parser("migrate", parents=[parents["common"], parents["json"]],
                       help="copy a topic to another topic or cluster: faithful, resumable, exact offset translation; "
                            "also: migrate verify, migrate cutover")
    p.add_argument("action", nargs="?", choices=("run", "verify", "cutover"), default="run",
                   help="run (default): copy; verify: compare both sides; cutover: the cutover steps")
    p.add_argument("--source-cluster", required=True, metavar="NAME|HOST:PORT")
    p.add_argument("--source-topic", required=True)
    p.add_argument("--target-cluster", required=True, metavar="NAME|HOST:PORT", help="may be the source cluster")
    p.add_argument("--target-topic", help="default: the source topic's name")
    p.add_argument("--timeout", type=seconds_arg, metavar="SECONDS", default=argparse.SUPPRESS,
                   help="give up on an unanswering cluster after this long (default: its config)")
    add_retry_option(p)
    p.add_argument("--partitions", type=partitions_arg, help="only these source partitions, e.g. 0,3")
    p.add_argument("--partition-map", type=_partition_map, metavar="S:T,...",
                   help="write source partition S into target partition T")
    p.add_argument("--follow", action="store_true", help="keep mirroring new records until stopped (Ctrl-C)")
    who = p.add_mutually_exclusive_group()
    who.add_argument("--groups", type=parse_groups, metavar="G1,G2",
                     help="translate and commit these groups' offsets on the target")
    who.add_argument("--all-groups", action="store_true", help="every group with offsets on the source topic")
    p.add_argument("--rate-limit", type=float, metavar="MB/S", help="write at most this many MB/s")
    p.add_argument("--create-topic", action="store_true",
                   help="create the target with the source's partition count and configs if missing")
    p.add_argument("--replication-factor", type=int, metavar="N", help="of a created target (default: the source's)")
    p.add_argument("--force", action="store_true", help="write into a non-empty target; let offsets move backwards")
    p.add_argument("--no-verify", action="store_true", help="do not verify at the end of a run")
    p.add_argument("--checkpoint-seconds", type=float, default=1.0, help="how often progress is made durable (1)")
    p.add_argument("--state-dir", metavar="DIR", help="migration checkpoints (default "
                   "$XDG_STATE_HOME/kafka-sre-tui/migrations, ~/.local/state when unset)")
    p.add_argument("--step", choices=(*CUTOVER_STEPS, "all"), default="all", help="cutover: one step, or all in order")
    p.add_argument("--drain-timeout-seconds", type=float, default=600.0, help="cutover drain: give up after (600)")
    p.add_argument("--interval", type=float, default=2.0, help="cutover drain: seconds between samples (2)")


def _partition_map(text: str) -> dict[int, int]:
    from kafka_sre_tui.engine.restore.plan import parse_partition_map

    try:
        return parse_partition_map(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def request_from(args: argparse.Namespace) -> engine.MigrateRequest:
    from kafka_sre_tui.engine import migrate as engine
    from kafka_sre_tui.engine.migrate.request import default_state_dir

    groups = () if args.all_groups else args.groups
    return engine.MigrateRequest(
        source_topic=args.source_topic, target_topic=args.target_topic, partitions=args.partitions,
        partition_map=args.partition_map, follow=args.follow, groups=groups, rate_limit_mb_s=args.rate_limit,
        create_topic=args.create_topic, replication_factor=args.replication_factor, force=args.force,
        checkpoint_seconds=args.checkpoint_seconds,
        state_dir=Path(args.state_dir).expanduser() if args.state_dir else default_state_dir())


class _Reporter:
    """The plan to stdout before anything is written; progress and lag on one stderr line."""

    def __init__(self, as_json: bool) -> None:
        from kafka_sre_tui.cli import output
        self.as_json = as_json
        self.line = output.StatusLine()

    def __call__(self, event: engine.MigrateEvent) -> None:
        from kafka_sre_tui.engine import migrate as engine

        if isinstance(event, engine.MigrateStarted):
            if not self.as_json:
                _print_started(event)
            return
        if isinstance(event, Retrying):
            self.line.close()
            print(f"cluster away: {event.describe()}", file=sys.stderr, flush=True)
            return
        if isinstance(event, Checkpointed):
            return
        self.line.show(
            f"{'mirror' if event.following else 'migrate'}: {event.records:,} records · "
            f"{event.bytes_written / 1e6:,.1f} MB · {event.mb_per_second:,.1f} MB/s · "
            f"{event.records_per_second:,.0f} records/s · replication lag {event.lag_records:,} records "
            f"({event.lag_seconds:,.1f} s) · partitions done {event.partitions_done}/{event.partitions_total}")

    def close(self) -> None:
        self.line.close()


def _print_started(e: engine.MigrateStarted) -> None:
    from kafka_sre_tui.engine.target.checks import FAIL, WARN

    for check in e.checks:
        print(f"  {({FAIL: 'FAIL', WARN: 'warn'}.get(check.level, 'ok')):<4}  {check.name}: {check.message}")
    if e.partitions:
        print(f"{'resuming' if e.resumed else 'starting'} migration {e.source} -> {e.target} (state {e.state_path})")
    for partition, found in e.skipped_on_resume:
        print(f"  partition {partition}: {found:,} records found written after the last checkpoint (not written "
              "again)")


def cmd_migrate(args: argparse.Namespace, config: AppConfig) -> int:
    import asyncio

    from kafka_sre_tui.cli import output
    from kafka_sre_tui.engine import migrate as engine

    source = with_time_limits(config.cluster(args.source_cluster), args)
    target = with_time_limits(config.cluster(args.target_cluster), args)
    request = request_from(args)
    if args.action == "verify":
        return _verify(source, target, request, args.json)
    if args.action == "cutover":
        return _cutover(source, target, request, args)
    reporter = _Reporter(args.json)
    try:
        result = asyncio.run(engine.migrate(source, target, request, tapped(reporter)))
    except KeyboardInterrupt:
        reporter.close()
        print("stopped: run the same command to continue (nothing is written twice)", file=sys.stderr)
        raise
    finally:
        reporter.close()
    verified = None if args.no_verify or args.follow else asyncio.run(engine.verify_migration(source, target,
                                                                                               request))
    if args.json:
        output.emit_json({**result_json(result), "verify": verify_json(verified) if verified else None})
    else:
        _print_result(result)
        if verified is not None:
            _print_verify(verified)
    failed = bool(result.groups_not_committed) or (verified is not None and not verified.ok)
    return EXIT_FAILED if failed else EXIT_OK


def result_json(r: engine.MigrateResult) -> dict[str, Any]:
    return {"source": r.source, "target": r.target, "metrics": asdict(r.metrics), "lag_records": r.lag_records,
            "partitions": [asdict(p) | {"offset_map": [list(x) for x in p.offset_map]} for p in r.partitions],
            "groups": [asdict(g) for g in r.groups], "state_path": str(r.state_path)}


def verify_json(v: engine.VerifyResult) -> dict[str, Any]:
    return {"ok": v.ok, "source": v.source, "target": v.target, "ranges_from": v.ranges_from,
            "partitions": [asdict(p) | {"match": p.match} for p in v.partitions]}


def _print_result(r: engine.MigrateResult) -> None:
    from kafka_sre_tui.cli import output
    m = r.metrics
    output.table(f"Migrated {r.source} -> {r.target}", ["Metric", "Value"], [
        ("duration", f"{m.duration_seconds:.2f} s"), ("records", f"{m.records:,}"),
        ("bytes written", f"{m.bytes_written / 1e6:,.2f} MB"), ("throughput", f"{m.throughput_mb_s:,.1f} MB/s"),
        ("records/s", f"{m.records_per_second:,.0f}"), ("skipped on resume", f"{m.skipped_on_resume:,}"),
        ("replication lag", f"{r.lag_records:,} records"), ("state", str(r.state_path))])
    for g in r.groups:
        offsets = ", ".join(f"{p}:{o}" for p, o in sorted(g.offsets.items()))
        print(f"group {g.group}: {'committed' if g.committed else 'NOT committed'} ({offsets})"
              + ("" if g.committed else f": {g.reason}"))


def _print_verify(v: engine.VerifyResult) -> None:
    from kafka_sre_tui.cli import output
    output.table(f"Verify {v.source} vs {v.target} ({v.ranges_from})",
                 ["Partition", "Source records", "Target records", "Compared", "Source sha256", "Target sha256",
                  "Result"],
                 [(f"{p.partition}->{p.target_partition}", f"{p.source.records:,}", f"{p.target.records:,}",
                   p.compared, p.source.sha256[:16], p.target.sha256[:16],
                   "ok" if p.match else "MISMATCH" + (f" (+{p.target_after:,} foreign)" if p.target_after else ""))
                  for p in v.partitions])
    print("verify: identical" if v.ok else "verify: MISMATCH")


def _verify(source: ClusterConfig, target: ClusterConfig, request: engine.MigrateRequest, as_json: bool) -> int:
    import asyncio

    from kafka_sre_tui.cli import output
    from kafka_sre_tui.engine import migrate as engine

    result = asyncio.run(engine.verify_migration(source, target, request))
    if as_json:
        output.emit_json(verify_json(result))
    else:
        _print_verify(result)
    return EXIT_OK if result.ok else EXIT_FAILED


def _cutover(source: ClusterConfig, target: ClusterConfig, request: engine.MigrateRequest,
             args: argparse.Namespace) -> int:
    import asyncio

    from kafka_sre_tui.cli import output
    from kafka_sre_tui.engine import migrate as engine

    settings = engine.CutoverSettings(args.drain_timeout_seconds, args.interval)
    steps = engine.STEPS if args.step == "all" else (args.step,)
    reports = []
    for step in steps:
        if step == "catch-up":
            report = asyncio.run(engine.catch_up(source, target, request, _Reporter(args.json)))
        elif step == "drain":
            report = asyncio.run(engine.drain(source, request.groups or (), settings))
        elif step == "commit":
            report = asyncio.run(engine.commit(source, target, request))
        else:
            report = asyncio.run(engine.switch(source, target, request))
        reports.append(report)
        if not args.json:
            print(f"step {report.step}: {'passed' if report.ok else 'NOT passed'}")
            for line in report.checked:
                print(f"  checked: {line}")
            print(f"  next: {report.next_action}", flush=True)
        if not report.ok:
            break
    if args.json:
        output.emit_json({"steps": [asdict(r) for r in reports], "ok": all(r.ok for r in reports)})
    return EXIT_OK if all(r.ok for r in reports) and len(reports) == len(steps) else EXIT_FAILED
