"""``health``: is this installation fit to run backups and reach its cluster? Exit 0 healthy, 1 not."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from kafka_sre_tui.cli.args import backup_base, cluster_from_args
from kafka_sre_tui.config import AppConfig, ClusterConfig
from kafka_sre_tui.engine.errors import ConfigError

EXIT_HEALTHY, EXIT_UNHEALTHY = 0, 1


def add_commands(sub: Any, parents: dict[str, argparse.ArgumentParser]) -> None:
    health = sub.add_parser(
        "health", parents=[parents["common"], parents["cluster"], parents["json"]],
        help="check the cluster, the backup directory, free space and the backups; exit 0 healthy, 1 not",
        description="Checks: cluster (reachable, request latency), backup_dir (exists, writable), free_space "
        "(vs max_backup_size_gb), incomplete_backups (older than a day), newest_backups (age per topic), "
        "verify_failures (the last verify of each backup). Exit 0 when all pass, 1 otherwise.")
    health.add_argument("--backup-dir", metavar="DIR", help="backups directory (default: [backup] base_path)")


def cmd_health(args: argparse.Namespace, config: AppConfig) -> int:
    import asyncio  # the engine and rich are imported when the command runs (see cli/main.py)

    from rich.markup import escape

    from kafka_sre_tui.cli import output
    from kafka_sre_tui.engine.health import check_health

    cluster: ClusterConfig | None
    try:
        cluster = cluster_from_args(args, config)
    except ConfigError:
        if getattr(args, "cluster", None):
            raise
        cluster = None  # nothing configured: only the local checks
    report = asyncio.run(check_health(cluster, backup_base(args, config), config.backup.max_backup_size_gb,
                                      datetime.now(UTC)))
    if args.json:
        output.emit_json({"healthy": report.healthy, "checks": [asdict(c) for c in report.checks]})
    else:
        output.table("Health", ["Check", "Result", "Reason"],
                     [(c.name, "ok" if c.ok else "FAILED", escape(c.reason)) for c in report.checks])
        print("healthy" if report.healthy else
              f"UNHEALTHY: {', '.join(c.name for c in report.checks if not c.ok)} failed")
    return EXIT_HEALTHY if report.healthy else EXIT_UNHEALTHY
