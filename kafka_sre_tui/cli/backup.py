"""CLI for backups: ``backup``, ``verify`` and ``backups list|show|prune`` (thin: parse, call, print)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kafka_sre_tui.cli.args import (
    add_encryption_options,
    add_retry_option,
    backup_base,
    cluster_from_args,
    encryption_key,
    partitions_arg,
    time_arg,
)
from kafka_sre_tui.cli.set_backup import add_set_options, cmd_resume_set, cmd_set_backup, is_set_id, wants_set
from kafka_sre_tui.config import AppConfig, ClusterConfig
from kafka_sre_tui.engine.errors import ConfigError
from kafka_sre_tui.engine.jobs import Checkpointed, Retrying

if TYPE_CHECKING:  # the engine is imported by the command that runs (see cli/main.py)
    from kafka_sre_tui.engine.backup.run import BackupProgress, BackupResult
    from kafka_sre_tui.engine.storage.store import Location
from kafka_sre_tui.observe.tap import tapped

EXIT_OK, EXIT_FAILED = 0, 1


def add_commands(sub: Any, parents: dict[str, argparse.ArgumentParser]) -> None:
    common, cluster, json_flag = parents["common"], parents["cluster"], parents["json"]
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--backup-dir", metavar="DIR", help="backups directory (default: [backup] base_path)")

    backup = sub.add_parser("backup", parents=[common, cluster, json_flag, where],
                            help="back up a topic to files: consistent snapshot, compressed, checksummed")
    backup.add_argument("--topic", "-t", help="topic to back up")
    add_set_options(backup)
    backup.add_argument("--resume", metavar="BACKUP_ID", help="continue an interrupted backup or backup set")
    backup.add_argument("--compression", choices=["none", "gzip", "snappy", "lz4", "zstd"],
                        help="block codec (default: [backup] compression)")
    backup.add_argument("--level", type=int, help="codec level (gzip 1-9, lz4 0-16, zstd 1-22)")
    backup.add_argument("--partitions", type=partitions_arg, help="only these partitions, e.g. 0,3")
    backup.add_argument("--from-offset", type=int, help="first offset (each partition)")
    backup.add_argument("--to-offset", type=int, help="last offset, inclusive (each partition)")
    backup.add_argument("--from-time", type=time_arg, help="first record time, ISO-8601 (no zone: UTC)")
    backup.add_argument("--to-time", type=time_arg, help="last record time, inclusive, ISO-8601")
    backup.add_argument("--max-messages", type=int, help="at most this many records from each partition")
    backup.add_argument("--rate-limit", type=float, metavar="MB/S", help="read at most this many MB/s from Kafka")
    backup.add_argument("--checkpoint-seconds", type=float, default=5.0,
                        help="how often progress is made durable (default 5 s)")
    add_retry_option(backup)
    add_encryption_options(backup, "encrypt the backup with (AES-256-GCM)")

    check = sub.add_parser("verify", parents=[common, json_flag, where],
                           help="recompute every checksum of a backup; exit 1 on damage")
    check.add_argument("backup_id")
    check.add_argument("--no-chain", action="store_true",
                       help="a backup set: check this link only, not the links of its chain before it")
    add_encryption_options(check, "check an encrypted backup with")

    backups = sub.add_parser("backups", parents=[common], help="list, show or prune backups")
    actions = backups.add_subparsers(dest="backups_action", metavar="ACTION", required=True)
    actions.add_parser("list", parents=[common, json_flag, where], help="every backup with its status and size")
    show = actions.add_parser("show", parents=[common, json_flag, where],
                              help="one backup's manifest; a set's chain and what it covers per topic")
    show.add_argument("backup_id")
    pruning = actions.add_parser("prune", parents=[common, json_flag, where],
                                 help="delete backups past retention_days, then oldest past max_backup_size_gb "
                                      "(a chain of sets: whole, or kept whole)")
    pruning.add_argument("--dry-run", action="store_true", help="only list what would be deleted")


class _ProgressLine:
    def __init__(self) -> None:
        from kafka_sre_tui.cli import output
        self.line = output.StatusLine()
        self.backup_id: str | None = None

    def __call__(self, p: BackupProgress | Checkpointed | Retrying) -> None:
        if isinstance(p, Retrying):
            self.line.close()
            print(f"cluster away: {p.describe()}", file=sys.stderr, flush=True)
            return
        if isinstance(p, Checkpointed):
            return
        self.backup_id = p.backup_id
        eta = f" · ETA {p.eta_seconds:.0f} s" if p.eta_seconds is not None and p.fraction < 1 else ""
        self.line.show(f"backup {p.backup_id}: {p.fraction:6.1%} · {p.records:,} records · {p.bytes / 1e6:,.1f} MB "
                       f"read · {p.mb_per_second:,.1f} MB/s · partitions {p.partitions_done}/{p.partitions_total}"
                       f"{eta}", final=p.partitions_done == p.partitions_total)

    def close(self) -> None:
        self.line.close()


def cmd_backup(args: argparse.Namespace, config: AppConfig) -> int:
    import asyncio

    from kafka_sre_tui.engine.backup.plan import BackupRequest
    from kafka_sre_tui.engine.backup.run import backup_topic, resume_backup

    base = backup_base(args, config)
    if args.resume and is_set_id(base, args.resume):
        return cmd_resume_set(args, config, base)
    if wants_set(args) and not args.resume:
        return cmd_set_backup(args, config)
    progress = _ProgressLine()
    try:
        if args.resume:
            cluster = _resume_cluster(args, config, base)
            result = asyncio.run(resume_backup(cluster, base, args.resume, tapped(progress),
                                               config.backup.max_concurrent_backups, args.rate_limit,
                                               args.checkpoint_seconds, encryption_key(args, config)))
        else:
            if not args.topic:
                raise ConfigError("backup needs --topic TOPIC, --topics PATTERNS or --all-topics "
                                  "(or --resume BACKUP_ID)")
            request = BackupRequest(
                topic=args.topic, base_path=base, compression=args.compression or config.backup.compression,
                level=args.level, partitions=args.partitions, from_offset=args.from_offset, to_offset=args.to_offset,
                from_time_ms=args.from_time, to_time_ms=args.to_time, max_messages=args.max_messages,
                max_concurrent_backups=config.backup.max_concurrent_backups,
                checkpoint_seconds=args.checkpoint_seconds, rate_limit_mb_s=args.rate_limit,
                encryption_key=encryption_key(args, config))
            result = asyncio.run(backup_topic(cluster_from_args(args, config), request, tapped(progress)))
    except KeyboardInterrupt:
        progress.close()
        if progress.backup_id:
            print(f"interrupted: backup {progress.backup_id} is incomplete; continue it with: "
                  f"kafka-sre-tui backup --resume {progress.backup_id}", file=sys.stderr)
        raise
    progress.close()
    _print_result(result, args.json)
    return EXIT_OK


def _resume_cluster(args: argparse.Namespace, config: AppConfig, base: Location) -> ClusterConfig:
    from kafka_sre_tui.engine.backup.catalog import find_backup

    if getattr(args, "cluster", None):
        return cluster_from_args(args, config)
    plan_path = find_backup(base, args.resume) / "backup.json"
    if not plan_path.exists():
        raise ConfigError(f"backup {args.resume} has nothing to resume (complete, or not started)")
    source = json.loads(plan_path.read_bytes())["source"]
    name = source["cluster_name"]
    if name not in config.clusters:
        name = ",".join(source["bootstrap_servers"])
    return cluster_from_args(argparse.Namespace(**{**vars(args), "cluster": name}), config)


def _print_result(result: BackupResult, as_json: bool) -> None:
    from kafka_sre_tui.cli import output
    added = result.manifest.extra.get("partitions_added_during_backup", [])
    if added:
        print(f"note: partition(s) {', '.join(map(str, added))} were added to '{result.manifest.topic['name']}' "
              "while it was backed up; they are not in this backup (the snapshot is the partitions at its start): "
              f"back them up with --partitions {','.join(map(str, added))}", file=sys.stderr)
    if as_json:
        output.emit_json({"backup_id": result.backup_id, "path": str(result.path), "metrics": asdict(result.metrics),
                          "partitions": [_partition_json(p) for p in result.manifest.partitions],
                          "partitions_added_during_backup": added})
        return
    m = result.metrics
    output.table("Backup metrics", ["Metric", "Value"], [
        ("duration", f"{m.duration_seconds:.2f} s"), ("messages", f"{m.messages:,}"),
        ("bytes read", f"{m.bytes_read / 1e6:,.2f} MB"), ("bytes written", f"{m.bytes_written / 1e6:,.2f} MB"),
        ("compression ratio", f"{m.compression_ratio:.2f}"), ("throughput", f"{m.throughput_mb_s:,.1f} MB/s"),
        ("errors", m.errors), ("path", str(result.path))])
    print(result.backup_id)


def _partition_json(p: Any) -> dict[str, Any]:
    return {k: v for k, v in asdict(p).items() if k != "segments"} | {"segments": len(p.segments)}


def cmd_verify(args: argparse.Namespace, config: AppConfig) -> int:
    import asyncio

    from kafka_sre_tui.cli import backup_sets, output
    from kafka_sre_tui.engine.backup.catalog import is_backup_set, verify

    base = backup_base(args, config)
    if is_backup_set(base, args.backup_id):
        return backup_sets.verify(base, args.backup_id, encryption_key(args, config), not args.no_chain, args.json)
    result = asyncio.run(verify(base, args.backup_id, encryption_key(args, config)))
    mb_s = result.bytes_checked / 1e6 / result.seconds if result.seconds > 0 else 0.0
    if args.json:
        output.emit_json({"backup_id": result.backup_id, "intact": result.intact, "records": result.records,
                          "bytes_checked": result.bytes_checked, "seconds": round(result.seconds, 3),
                          "throughput_mb_s": round(mb_s, 1),
                          "damage": [d.describe(result.backup_id) for d in result.damage]})
    else:
        for damage in result.damage:
            print(damage.describe(result.backup_id))
        state = "intact" if result.intact else f"DAMAGED ({len(result.damage)} problems)"
        print(f"backup {result.backup_id}: {state}; {result.records:,} records, "
              f"{result.bytes_checked / 1e6:,.1f} MB checked in {result.seconds:.2f} s ({mb_s:,.0f} MB/s)")
    return EXIT_OK if result.intact else EXIT_FAILED


def cmd_backups(args: argparse.Namespace, config: AppConfig) -> int:
    from kafka_sre_tui.cli import backup_sets, output
    from kafka_sre_tui.engine.backup.catalog import find_backup, is_backup_set, list_backups, prune
    from kafka_sre_tui.engine.storage.manifest import read_manifest

    base = backup_base(args, config)
    if args.backups_action == "list":
        backup_sets.print_list(base, list_backups(base), args.json)
        return EXIT_OK
    if args.backups_action == "show" and is_backup_set(base, args.backup_id):
        return backup_sets.show(base, args.backup_id, args.json)
    if args.backups_action == "show":
        manifest, intact = read_manifest(find_backup(base, args.backup_id))
        doc = asdict(manifest) | {"manifest_intact": intact}
        for part in doc["partitions"]:
            part["segments"] = len(part["segments"])
        output.emit_json(doc)
        return EXIT_OK
    decisions = prune(base, config.backup.retention_days, config.backup.prune_limit_gb, datetime.now(UTC),
                      args.dry_run)
    backup_sets.print_prune(decisions, args.dry_run, args.json)
    return EXIT_OK
