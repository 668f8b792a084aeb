"""``backup --topics/--all-topics``: a backup set, an incremental link, or a continuous backup
(thin: build the request, run the engine, print progress, one line per sealed link, the result)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from kafka_sre_tui.cli.args import backup_base, cluster_from_args, encryption_key
from kafka_sre_tui.config import AppConfig, ClusterConfig
from kafka_sre_tui.engine.errors import ConfigError
from kafka_sre_tui.engine.jobs import Checkpointed, Retrying
from kafka_sre_tui.observe.tap import tapped

if TYPE_CHECKING:
    from kafka_sre_tui.engine.backup.set_events import LinkSealed, SetProgress, SetResult
    from kafka_sre_tui.engine.storage.store import Location


def add_set_options(backup: argparse.ArgumentParser) -> None:
    backup.add_argument("--topics", metavar="PATTERNS",
                        help="a backup set of the topics matching these comma-separated patterns, e.g. 'orders-*,pay'")
    backup.add_argument("--all-topics", action="store_true", help="a backup set of every topic (internal: name them)")
    backup.add_argument("--exclude", metavar="PATTERNS", help="leave out the topics matching these patterns")
    backup.add_argument("--name", default="set", help="the set's name, in its id (default: set)")
    backup.add_argument("--incremental", action="store_true",
                        help="read only what follows the newest complete set of the same selection")
    backup.add_argument("--incremental-from", metavar="SET_ID", help="read only what follows this set")
    backup.add_argument("--continuous", action="store_true",
                        help="keep following the topics, sealing a recovery point every --roll-seconds")
    backup.add_argument("--roll-seconds", type=float, default=60.0, help="seal a link this often (default 60 s)")
    backup.add_argument("--roll-bytes", type=int,
                        help="seal sooner once about this many bytes of records wait (estimated)")
    from kafka_sre_tui.cli.set_workers import add_worker_options

    add_worker_options(backup)


def wants_set(args: argparse.Namespace) -> bool:
    """A set backup was asked for; set-only options without --topics/--all-topics are an error."""
    if args.topics or args.all_topics:
        return True
    used = [flag for flag, value in (("--exclude", args.exclude), ("--incremental", args.incremental),
                                     ("--incremental-from", args.incremental_from),
                                     ("--continuous", args.continuous), ("--roll-bytes", args.roll_bytes),
                                     ("--workers-group", args.workers_group), ("--workers", args.workers)) if value]
    if used and not args.resume:
        raise ConfigError(f"{', '.join(used)} apply to a backup set: add --topics PATTERNS or --all-topics")
    return False


def _patterns(text: str | None) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.split(",")) if text else ()


def is_set_id(base: Location, backup_id: str) -> bool:
    from kafka_sre_tui.engine.storage.backup_set import is_set, set_dir

    return is_set(set_dir(base, backup_id))


def cmd_set_backup(args: argparse.Namespace, config: AppConfig) -> int:
    import asyncio

    from kafka_sre_tui.engine.backup.set_plan import SetRequest
    from kafka_sre_tui.engine.backup.set_run import backup_set

    if args.topic:
        raise ConfigError("give either --topic (one topic) or --topics/--all-topics (a backup set), not both")
    request = SetRequest(
        base_path=backup_base(args, config), topics=_patterns(args.topics), exclude=_patterns(args.exclude),
        all_topics=args.all_topics, name=args.name, compression=args.compression or config.backup.compression,
        level=args.level, incremental=args.incremental, incremental_from=args.incremental_from,
        continuous=args.continuous, roll_seconds=args.roll_seconds, roll_bytes=args.roll_bytes,
        max_concurrent_backups=config.backup.max_concurrent_backups, checkpoint_seconds=args.checkpoint_seconds,
        rate_limit_mb_s=args.rate_limit, encryption_key=encryption_key(args, config))
    cluster = cluster_from_args(args, config)
    if args.workers is not None or args.workers_group:
        return _cmd_workers(args, cluster, request)
    printer = _SetPrinter(args.json, request.continuous)

    async def run() -> SetResult:
        if not request.continuous:
            return await backup_set(cluster, request, tapped(printer))
        import signal

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):  # stop after abandoning the link in progress
            loop.add_signal_handler(sig, stop.set)
        return await backup_set(cluster, request, tapped(printer), stop=stop)

    try:
        result = asyncio.run(run())
    except KeyboardInterrupt:
        printer.close()
        if printer.set_id:
            print(f"interrupted: backup set {printer.set_id} is incomplete; continue it with: "
                  f"kafka-sre-tui backup --resume {printer.set_id}", file=sys.stderr)
        raise
    printer.close()
    print_set_result(result, args.json, stopped=request.continuous)
    return 0


def _cmd_workers(args: argparse.Namespace, cluster: ClusterConfig, request: Any) -> int:
    import os

    from kafka_sre_tui.cli.set_workers import CHILD_ENV, default_group, run_worker, run_workers
    from kafka_sre_tui.engine.backup.set_events import SetResult
    from kafka_sre_tui.engine.storage.backup_set import read_set_manifest, set_dir
    from kafka_sre_tui.engine.storage.store import open_location

    if args.workers is not None:
        set_id = run_workers(args.workers, default_group(args))
        folder = set_dir(open_location(request.base_path), set_id)
        manifest = read_set_manifest(folder)[0]
        links = () if request.continuous else (set_id,)  # continuous: the children each sealed some
        print_set_result(SetResult(set_id, folder, manifest, links), args.json, stopped=request.continuous)
        return 0
    result = run_worker(cluster, request, default_group(args), args.json)
    if os.environ.get(CHILD_ENV):
        print(result.set_id)  # what the parent process reads
    else:
        print_set_result(result, args.json, stopped=request.continuous)
    return 0


def cmd_resume_set(args: argparse.Namespace, config: AppConfig, base: Location) -> int:
    import asyncio

    from kafka_sre_tui.engine.backup.set_run import resume_set

    printer = _SetPrinter(args.json)
    cluster = _resume_cluster(args, config, base)
    result = asyncio.run(resume_set(cluster, base, args.resume, tapped(printer), config.backup.max_concurrent_backups,
                                    args.rate_limit, args.checkpoint_seconds, encryption_key(args, config)))
    printer.close()
    print_set_result(result, args.json)
    return 0


def _resume_cluster(args: argparse.Namespace, config: AppConfig, base: Location) -> ClusterConfig:
    import json

    from kafka_sre_tui.engine.storage.backup_set import SET_PLAN, set_dir

    if getattr(args, "cluster", None):
        return cluster_from_args(args, config)
    plan_path = set_dir(base, args.resume) / SET_PLAN
    if not plan_path.exists():
        raise ConfigError(f"backup set {args.resume} has nothing to resume (complete, or not started)")
    source = json.loads(plan_path.read_bytes())["source"]
    name = source["cluster_name"]
    if name not in config.clusters:
        name = ",".join(source["bootstrap_servers"])
    return cluster_from_args(argparse.Namespace(**{**vars(args), "cluster": name}), config)


class _SetPrinter:
    def __init__(self, as_json: bool, continuous: bool = False) -> None:
        from kafka_sre_tui.cli import output

        self.line = output.StatusLine()
        self.as_json, self.continuous = as_json, continuous
        self.set_id: str | None = None

    def __call__(self, event: SetProgress | LinkSealed | Checkpointed | Retrying) -> None:
        from kafka_sre_tui.engine.backup.set_events import LinkSealed

        if isinstance(event, Retrying):
            self.line.close()
            print(f"cluster away: {event.describe()}", file=sys.stderr, flush=True)
        elif isinstance(event, LinkSealed):
            self.line.close()
            self.set_id = None
            print_sealed(event, self.as_json)
        elif not isinstance(event, Checkpointed):
            self.set_id = event.set_id
            eta = f" · ETA {event.eta_seconds:.0f} s" if event.eta_seconds is not None and event.fraction < 1 else ""
            self.line.show(f"set {event.set_id}: {event.fraction:6.1%} · {event.records:,} records · "
                           f"{event.bytes / 1e6:,.1f} MB read · {event.mb_per_second:,.1f} MB/s · topics "
                           f"{event.topics_done}/{len(event.topics)} · partitions {event.partitions_done}/"
                           f"{event.partitions_total}{eta}", final=event.fraction >= 1 and not self.continuous)

    def close(self) -> None:
        self.line.close()


def print_sealed(event: LinkSealed, to_stderr: bool) -> None:
    """The line a continuous backup prints per sealed link, after the link's notes (on stderr)."""
    for note in event.notes:
        print(f"note: {note}", file=sys.stderr, flush=True)
    lag = ("lag unknown (the cluster did not answer)" if event.lag_records is None else
           f"lag {event.lag_records:,} records, {event.lag_seconds or 0.0:,.1f} s")
    print(f"sealed link {event.link} {event.set_id}: {event.records:,} records · {lag}",
          file=sys.stderr if to_stderr else sys.stdout, flush=True)


def print_set_result(result: SetResult, as_json: bool, stopped: bool = False) -> None:
    from kafka_sre_tui.cli import output

    m = result.manifest
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    if as_json:
        output.emit_json({"set_id": result.set_id, "path": str(result.path), "kind": m.kind, "chain": m.chain,
                          "links": list(result.links), "metrics": m.metrics, "notes": list(result.notes),
                          "topics": [_member_json(member) for member in m.members]})
        return
    if stopped:
        sealed = f" ({len(result.links)} sealed by this run)" if result.links else ""
        print(f"stopped: last sealed link {m.chain['link']} is {result.set_id}{sealed}; continue the chain with the "
              "same command")
        return
    output.table(f"Backup set {result.set_id} ({m.kind}, link {m.chain['link']})",
                 ["Topic", "Partitions", "Records", "Offsets", "Lost", "Chain"],
                 [(member.name, len(member.partitions), f"{sum(p.records for p in member.partitions):,}",
                   f"{sum(p.end_offset - p.start_offset for p in member.partitions):,}",
                   f"{sum(p.lost[1] - p.lost[0] for p in member.partitions if p.lost):,}",
                   "starts here" if member.chain_start else "continues") for member in m.members])
    mt = m.metrics
    print(f"{mt['messages']:,} records, {mt['bytes_read'] / 1e6:,.2f} MB read, {mt['bytes_written'] / 1e6:,.2f} MB "
          f"written in {mt['duration_seconds']:.2f} s ({mt['throughput_mb_s']:,.1f} MB/s); {len(m.members)} topics, "
          f"{len(m.consumer_groups)} groups; path {result.path}")
    print(result.set_id)


def _member_json(member: Any) -> dict[str, Any]:
    return {"topic": member.name, "member_id": member.member_id, "topic_id": member.topic.get("topic_id"),
            "chain_start": member.chain_start, "note": member.note,
            "partitions": [{"partition": p.partition, "start_offset": p.start_offset, "end_offset": p.end_offset,
                            "records": p.records, "lost": list(p.lost) if p.lost else None}
                           for p in member.partitions]}
