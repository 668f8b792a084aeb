"""`replay`: copy a range of records (filtered) into a topic; a dry run unless --execute."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from kafka_sre_tui.cli.args import cluster_from_args, partitions_arg, time_arg
from kafka_sre_tui.cli.records import add_filter_options, record_filter
from kafka_sre_tui.config import AppConfig
from kafka_sre_tui.engine.errors import ConfigError
from kafka_sre_tui.engine.input_checks import check_rate
from kafka_sre_tui.engine.records.query import RecordQuery

if TYPE_CHECKING:
    from kafka_sre_tui.engine.jobs import Progress
    from kafka_sre_tui.engine.replay.run import ReplayRequest, ReplayResult


def add_commands(subparsers: Any, parents: dict[str, argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("replay", parents=[parents["common"], parents["cluster"], parents["json"]],
                              help="copy a range of records into a topic (e.g. a dead-letter topic back)",
                              description="Dry run unless --execute: counts what would be written. Records "
                              "keep their key, value, headers and timestamp and go to the same partition number.")
    p.add_argument("--source-topic", required=True, metavar="T")
    p.add_argument("--partitions", type=partitions_arg, metavar="P[,P]", help="only these (default: all)")
    p.add_argument("--from-offset", type=int, metavar="N", help="first offset, inclusive")
    p.add_argument("--group", metavar="G", help="start at this group's committed offsets (what it has not "
                   "read yet); refused while the group has active members")
    p.add_argument("--to-offset", type=int, metavar="N", help="last offset, inclusive")
    p.add_argument("--from-time", type=time_arg, metavar="ISO", help="first record at or after this time")
    p.add_argument("--to-time", type=time_arg, metavar="ISO", help="last record at or before this time")
    add_filter_options(p)
    p.add_argument("--limit", type=int, metavar="N", help="copy at most N records")
    p.add_argument("--target-topic", required=True, metavar="T2")
    p.add_argument("--target-cluster", metavar="C", help="another configured cluster (default: --cluster)")
    p.add_argument("--rate-limit", type=float, metavar="MB/s", help="cap the write rate")
    p.add_argument("--new-timestamps", action="store_true", help="stamp records with the time of writing")
    p.add_argument("--execute", action="store_true", help="write (otherwise only count)")


def cmd_replay(args: argparse.Namespace, config: AppConfig) -> int:
    starts = [name for name, value in (("--from-offset", args.from_offset), ("--from-time", args.from_time),
                                       ("--group", args.group)) if value is not None]
    if len(starts) > 1:
        raise ConfigError(f"choose one start: {' or '.join(starts)}")
    if args.rate_limit is not None:
        check_rate("--rate-limit", args.rate_limit)
    import asyncio  # the engine is imported when the command runs (start-up time, tests/test_startup.py)
    import contextlib

    from kafka_sre_tui.cli import output
    from kafka_sre_tui.engine.kafka.session import KafkaSession
    from kafka_sre_tui.engine.replay.run import ReplayRequest, replay

    source = cluster_from_args(args, config)
    target = config.cluster(args.target_cluster) if args.target_cluster else source
    query = RecordQuery(args.source_topic, args.partitions, offset=args.from_offset, time_ms=args.from_time,
                        group=args.group, to_offset=args.to_offset, to_time_ms=args.to_time, filter=record_filter(args),
                        limit=args.limit, max_scanned=None)
    request = ReplayRequest(query, args.target_topic, target, execute=args.execute,
                            rate_limit_mb_s=args.rate_limit, keep_timestamps=not args.new_timestamps)
    status = output.StatusLine()

    def show(p: Progress) -> None:
        status.show(f"replay: {p.records:,} records, {p.bytes / 1e6:,.1f} MB, {p.mb_per_second:,.1f} MB/s")

    async def run() -> ReplayResult:
        async with contextlib.AsyncExitStack() as stack:
            src = await stack.enter_async_context(KafkaSession(source))
            dst = src if target is source else await stack.enter_async_context(KafkaSession(target))
            return await replay(src, dst, request, show)

    try:
        result = asyncio.run(run())
    finally:
        status.close()
    if args.json:
        output.emit_json(result_json(request, result))
        return 0
    verb = "would copy (dry run, nothing written)" if result.dry_run else "copied"
    output.table(f"replay {args.source_topic} → {target.name}/{args.target_topic}: {verb} {result.records:,} "
                 f"records, {output.human_bytes(result.bytes)}, in {result.elapsed_seconds:.1f} s",
                 ["Partition", "Records", "First offset", "Last offset"],
                 [(c.partition, c.records, c.first_offset, c.last_offset) for c in result.partitions])
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    if result.dry_run:
        print("run again with --execute to write")
    return 0


def result_json(request: ReplayRequest, r: ReplayResult) -> dict[str, Any]:
    return {"dry_run": r.dry_run, "source_topic": request.source.topic, "target_topic": request.target_topic,
            "target_cluster": request.target.name, "records": r.records, "bytes": r.bytes, "scanned": r.scanned,
            "elapsed_seconds": round(r.elapsed_seconds, 3), "notes": list(r.notes),
            "partitions": [{"partition": c.partition, "records": c.records, "first_offset": c.first_offset,
                            "last_offset": c.last_offset} for c in r.partitions]}
