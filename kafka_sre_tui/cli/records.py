"""`records TOPIC`: the records of a topic, from an offset, a time, the tail or a group's position."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from kafka_sre_tui.cli.args import cluster_from_args, partitions_arg, time_arg
from kafka_sre_tui.config import AppConfig
from kafka_sre_tui.engine.records.filters import RecordFilter
from kafka_sre_tui.engine.records.model import Record
from kafka_sre_tui.engine.records.query import DEFAULT_LIMIT, DEFAULT_MAX_SCANNED, RecordQuery
from kafka_sre_tui.engine.records.render import (
    AUTO,
    DEFAULT_MAX_CHARS,
    FORMATS,
    describe,
    record_json,
    show,
    timestamp_text,
)

if TYPE_CHECKING:
    from kafka_sre_tui.engine.records.read import ReadEnd


def add_commands(subparsers: Any, parents: dict[str, argparse.ArgumentParser]) -> None:
    shared = [parents["common"], parents["cluster"], parents["json"]]
    p = subparsers.add_parser("records", parents=shared, help="show a topic's records: keys, headers, values",
                              description="Show records of a topic (read_committed), from the earliest offset "
                              "unless told otherwise; stops at the end seen when it starts, after --limit "
                              "matches or --max-scanned records.")
    p.add_argument("topic")
    p.add_argument("--partition", "--partitions", dest="partitions", type=partitions_arg, metavar="P[,P]",
                   help="only these partitions (default: all)")
    start = p.add_mutually_exclusive_group()
    start.add_argument("--offset", type=int, metavar="O", help="start at this offset in each partition")
    start.add_argument("--time", type=time_arg, metavar="ISO", help="start at the first record at or after it")
    start.add_argument("--tail", type=int, metavar="N", help="the last N records of each partition")
    start.add_argument("--group", metavar="G", help="start at the group's committed offsets")
    add_filter_options(p)
    p.add_argument("--limit", type=int, default=DEFAULT_LIMIT, metavar="N",
                   help=f"stop after N matching records (default {DEFAULT_LIMIT})")
    p.add_argument("--max-scanned", type=int, default=DEFAULT_MAX_SCANNED, metavar="N",
                   help=f"stop after looking at N records (default {DEFAULT_MAX_SCANNED:,})")
    p.add_argument("--format", choices=FORMATS, default=AUTO,
                   help="how keys, values and headers are shown (default auto: pretty JSON, text, or hex)")
    p.add_argument("--max-chars", type=int, metavar="N",
                   help=f"cut longer values, showing their full size (default {DEFAULT_MAX_CHARS}; "
                   "with --json: never cut)")
    p.add_argument("--read-uncommitted", action="store_true", help="include records of open and aborted "
                   "transactions")


def add_filter_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--grep", metavar="REGEX", help="only records whose value matches")
    p.add_argument("--key", metavar="REGEX", help="only records whose key matches")
    p.add_argument("--header", action="append", default=[], metavar="NAME[=REGEX]",
                   help="only records with this header (whose value matches); repeatable, all must hold")


def record_filter(args: argparse.Namespace) -> RecordFilter:
    return RecordFilter.parse(args.grep, args.key, tuple(args.header))


def cmd_records(args: argparse.Namespace, config: AppConfig) -> int:
    query = RecordQuery(args.topic, args.partitions, offset=args.offset, time_ms=args.time, tail=args.tail,
                        group=args.group, filter=record_filter(args), limit=args.limit,
                        max_scanned=args.max_scanned, read_committed=not args.read_uncommitted)
    import asyncio  # the engine is imported when the command runs (start-up time, tests/test_startup.py)

    from kafka_sre_tui.engine.kafka.session import KafkaSession
    from kafka_sre_tui.engine.records.read import read_records

    cluster = cluster_from_args(args, config)
    max_chars = args.max_chars if args.max_chars is not None else (None if args.json else DEFAULT_MAX_CHARS)

    async def run() -> ReadEnd | None:
        async with KafkaSession(cluster) as session:
            async for item in read_records(session, query):
                if not isinstance(item, Record):
                    return item
                if args.json:
                    print(json.dumps(record_json(item, args.format, max_chars)), flush=True)
                else:
                    print(record_text(item, args.format, max_chars), flush=True)
        return None

    end = asyncio.run(run())
    if end is not None:
        print(summary(end), file=sys.stderr)
    return 0


def record_text(r: Record, fmt: str, max_chars: int | None) -> str:
    lines = [f"── {r.topic}/{r.partition} offset {r.offset}  {timestamp_text(r.timestamp_ms)} ({r.timestamp_type})",
             f"key      {describe(show(r.key, fmt, max_chars))}"]
    if r.headers:
        for name, value in r.headers:
            lines.append(f"header   {name} = {describe(show(value, fmt, max_chars))}")
    else:
        lines.append("headers  (none)")
    value = describe(show(r.value, fmt, max_chars))
    lines.append("value    " + value.replace("\n", "\n         "))
    return "\n".join(lines)


def summary(end: ReadEnd) -> str:
    from kafka_sre_tui.engine.records.read import LIMIT, SCAN_LIMIT


    why = {LIMIT: "--limit reached", SCAN_LIMIT: "--max-scanned reached"}.get(end.stopped, "end of range")
    ranges = ", ".join(f"{r.partition}: [{r.start}, {r.end})" for r in end.ranges) or "none"
    text = f"{end.matched:,} records shown, {end.scanned:,} read ({why}); offsets per partition {ranges}"
    return "\n".join([text, *(f"note: {n}" for n in end.notes)])
