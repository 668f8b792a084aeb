"""``exporter``: a long-running Prometheus lag exporter over the lag engine, for every group of one
or more clusters. Runs until Ctrl-C."""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

from kafka_sre_tui.cli.args import cluster_from_args
from kafka_sre_tui.config import AppConfig
from kafka_sre_tui.engine.errors import ConfigError
from kafka_sre_tui.observe.limits import DEFAULT_ADDR, MAX_GROUPS, MAX_PARTITION_SERIES


def add_commands(sub: Any, parents: dict[str, argparse.ArgumentParser]) -> None:
    exporter = sub.add_parser(
        "exporter", parents=[parents["common"]],
        help="serve consumer-group lag (records, seconds, status, ETA) as Prometheus metrics until Ctrl-C")
    exporter.add_argument("--cluster", "-c", action="append", metavar="NAME|HOST:PORT", default=argparse.SUPPRESS,
                          help="cluster to export (repeat for several; default: default_cluster)")
    exporter.add_argument("--timeout", type=float, metavar="SECONDS", default=argparse.SUPPRESS,
                          help="give up on an unanswering cluster after this long (default: its config, 10 s)")
    exporter.add_argument("--groups", metavar="REGEX", help="only groups whose id matches (regular expression)")
    exporter.add_argument("--metrics-port", type=int, required=True, metavar="N", help="port to serve /metrics on")
    exporter.add_argument("--metrics-addr", default=DEFAULT_ADDR, metavar="ADDR", help="address (default 127.0.0.1)")
    exporter.add_argument("--interval", type=float, default=15.0, metavar="S", help="seconds between rounds (15)")
    exporter.add_argument("--window-seconds", type=float, default=120.0, metavar="S",
                          help="rates and status are fitted over this much history (120)")
    exporter.add_argument("--stall-seconds", type=float, default=300.0, metavar="S",
                          help="committed offset unchanged this long with lag and members: STALLED (300)")
    exporter.add_argument("--history-samples", type=int, default=40, metavar="N",
                          help="samples kept per group: lag in seconds looks back this far (40)")
    exporter.add_argument("--max-groups", type=int, default=MAX_GROUPS, metavar="N",
                          help=f"export at most N groups per cluster ({MAX_GROUPS})")
    exporter.add_argument("--max-partition-series", type=int, default=MAX_PARTITION_SERIES, metavar="N",
                          help=f"at most N per-partition series in all, largest lags first ({MAX_PARTITION_SERIES})")


def cmd_exporter(args: argparse.Namespace, config: AppConfig) -> int:
    import asyncio  # the engine is imported when the command runs (see cli/main.py)

    from kafka_sre_tui.engine.drain.tracker import TrackerSettings
    from kafka_sre_tui.observe.exporter import ClusterStats, ExporterCollector, ExporterSettings, export_cluster
    from kafka_sre_tui.observe.lag_metrics import LagCollector
    from kafka_sre_tui.observe.server import serve_metrics

    refs = getattr(args, "cluster", None) or [None]
    refs = [refs] if isinstance(refs, str) else refs
    clusters = [cluster_from_args(argparse.Namespace(**{**vars(args), "cluster": ref}), config) for ref in refs]
    try:
        pattern = re.compile(args.groups) if args.groups else None
    except re.error as exc:
        raise ConfigError(f"--groups: not a regular expression ({exc})") from None
    if args.interval < 0.1 or args.max_groups < 1 or args.max_partition_series < 0:
        raise ConfigError("--interval must be at least 0.1 s, --max-groups at least 1 and --max-partition-series "
                          "0 or more")
    settings = ExporterSettings(args.interval, pattern, args.max_groups, TrackerSettings(
        window_seconds=args.window_seconds, stall_seconds=args.stall_seconds, history_samples=args.history_samples))
    lag = LagCollector(args.max_partition_series)
    stats = {c.name: ClusterStats() for c in clusters}
    server = serve_metrics(args.metrics_port, args.metrics_addr, [lag, ExporterCollector(stats)])
    print(f"exporting lag of {', '.join(c.name for c in clusters)} on http://{args.metrics_addr}:"
          f"{args.metrics_port}/metrics every {args.interval:g} s (Ctrl-C stops)", file=sys.stderr, flush=True)

    async def run() -> None:
        await asyncio.gather(*(export_cluster(c, settings, lag, stats[c.name]) for c in clusters))

    try:
        asyncio.run(run())
    finally:
        server.shutdown()
        server.server_close()
    return 0
