"""CLI for ``restore`` (thin: parse, call engine/restore.py, print).

Exit codes: 0 done (``--dry-run``: the preflight passed); 1 refused or failed (damaged backup, a
failed preflight check, Kafka said no, a group's offsets not committed); 2 bad usage or config.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Coroutine, Sized
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from kafka_sre_tui.cli.args import (
    add_encryption_options,
    add_retry_option,
    backup_base,
    cluster_from_args,
    encryption_key,
    partitions_arg,
    time_arg,
)
from kafka_sre_tui.config import AppConfig
from kafka_sre_tui.engine.errors import ConfigError
from kafka_sre_tui.engine.jobs import Checkpointed, Retrying

if TYPE_CHECKING:  # the engine is imported by the command that runs (see cli/main.py)
    from kafka_sre_tui.engine.restore.events import RestoreEvent, RestoreProgress, RestoreResult
    from kafka_sre_tui.engine.restore.plan import RestoreRequest
    from kafka_sre_tui.engine.restore.preflight import Preflight
from kafka_sre_tui.observe.tap import tapped

EXIT_OK, EXIT_FAILED = 0, 1


def add_commands(sub: Any, parents: dict[str, argparse.ArgumentParser]) -> None:
    restore = sub.add_parser("restore", parents=[parents["common"], parents["cluster"], parents["json"]],
                             help="restore a backup into a topic: verified, checked first, resumable exactly once")
    restore.add_argument("--backup-id", "-b", required=True,
                         help="the backup or backup set to restore (see: backups list); a set's chain is followed")
    add_encryption_options(restore, "read an encrypted backup with")
    restore.add_argument("--backup-dir", metavar="DIR", help="backups directory (default: [backup] base_path)")
    restore.add_argument("--target-topic", "-t", help="topic to write into (default: the backed-up topic's name)")
    restore.add_argument("--partitions", type=partitions_arg, help="only these partitions of the backup, e.g. 0,3")
    restore.add_argument("--from-offset", type=int, help="first offset (each partition)")
    restore.add_argument("--to-offset", type=int, help="last offset, inclusive (each partition)")
    restore.add_argument("--from-time", type=time_arg, help="from the first record stamped at or after this (ISO-8601)")
    restore.add_argument("--to-time", type=time_arg, help="up to the first record stamped after this (ISO-8601)")
    restore.add_argument("--dry-run", action="store_true", help="run the preflight checks only; write nothing")
    restore.add_argument("--rate-limit", type=float, metavar="MB/S", help="write at most this many MB/s")
    restore.add_argument("--create-topic", action="store_true",
                         help="create the target topic with the backup's partition count and configs if missing")
    restore.add_argument("--replication-factor", type=int, metavar="N",
                         help="replication factor of a created topic (default: the backup's)")
    restore.add_argument("--partition-map", type=_partition_map, metavar="S:T,...",
                         help="write backup partition S into target partition T (needed when counts differ)")
    restore.add_argument("--restore-consumer-offsets", nargs="*", metavar="GROUP",
                         help="commit the translated offsets of these backed-up groups (none named: all of them)")
    restore.add_argument("--force", action="store_true",
                         help="write into a non-empty topic; let group offsets move backwards")
    restore.add_argument("--override-retention", action="store_true",
                         help="create the topic with retention.ms=-1 (keeps records older than its retention)")
    restore.add_argument("--new-timestamps", action="store_true",
                         help="stamp records with the time of writing instead of their own")
    restore.add_argument("--resume", action="store_true", help="continue an interrupted restore into the same target")
    restore.add_argument("--checkpoint-seconds", type=float, default=1.0,
                         help="how often progress is made durable (default 1 s)")
    add_retry_option(restore)
    restore.add_argument("--state-dir", metavar="DIR", help="restore checkpoints (default: BACKUP_DIR/.restores)")
    sets = restore.add_argument_group("backup sets")
    sets.add_argument("--topics", type=_patterns, metavar="PATTERN,...",
                      help="restore only the set's topics matching these (shell-style: orders-*,payments)")
    sets.add_argument("--topic-map", type=_topic_map, metavar="SRC:DST,...",
                      help="restore topic SRC into DST (the others keep their names)")
    sets.add_argument("--topic-prefix", metavar="P", help="restore every topic T into PT")


def _partition_map(text: str) -> dict[int, int]:
    from kafka_sre_tui.engine.restore.plan import parse_partition_map

    try:
        return parse_partition_map(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _patterns(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.split(",") if p.strip())


def _topic_map(text: str) -> dict[str, str]:
    from kafka_sre_tui.engine.restore.set_request import parse_topic_map

    try:
        return parse_topic_map(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def request_from(args: argparse.Namespace, config: AppConfig) -> RestoreRequest:
    from kafka_sre_tui.engine.restore.plan import RestoreRequest

    base = backup_base(args, config)
    groups = args.restore_consumer_offsets
    return RestoreRequest(
        encryption_key=encryption_key(args, config),
        backup_base=base, backup_id=args.backup_id, target_topic=args.target_topic, partitions=args.partitions,
        from_offset=args.from_offset, to_offset=args.to_offset, from_time_ms=args.from_time, to_time_ms=args.to_time,
        dry_run=args.dry_run, rate_limit_mb_s=args.rate_limit, create_topic=args.create_topic,
        replication_factor=args.replication_factor, partition_map=args.partition_map,
        restore_consumer_offsets=tuple(groups) if groups is not None else None, force=args.force,
        override_retention=args.override_retention, new_timestamps=args.new_timestamps, resume=args.resume,
        checkpoint_seconds=args.checkpoint_seconds,
        state_dir=Path(args.state_dir).expanduser() if args.state_dir else None)


class RestoreReporter:
    """What a one-topic and a set restore show alike: progress on one stderr line, a cluster away on a
    line of its own, nothing for a checkpoint."""

    def __init__(self, as_json: bool) -> None:
        from kafka_sre_tui.cli import output
        self.as_json = as_json
        self.line = output.StatusLine()

    def shown(self, event: object) -> bool:
        """True when the event was a cluster away (said) or a checkpoint (nothing to say)."""
        if isinstance(event, Retrying):
            self.line.close()
            print(f"cluster away: {event.describe()}", file=sys.stderr, flush=True)
            return True
        return isinstance(event, Checkpointed)

    def close(self) -> None:
        self.line.close()


class _Reporter(RestoreReporter):
    """Preflight to stdout (text) before anything is written; progress on one stderr line."""

    def __call__(self, event: RestoreEvent) -> None:
        from kafka_sre_tui.engine.restore.events import Resumed
        from kafka_sre_tui.engine.restore.preflight import Preflight

        if self.shown(event):
            return
        if isinstance(event, Preflight):
            if not self.as_json:
                print_preflight(event)
        elif isinstance(event, Resumed):
            for partition, checkpointed, extra in event.partitions:
                print(f"resuming {event.topic} from backup partition {partition}: {checkpointed:,} records "
                      f"checkpointed, {extra:,} more found written after the checkpoint (not written again)",
                      file=sys.stderr)
        else:
            self._progress(event)

    def _progress(self, p: RestoreProgress) -> None:
        eta = f" · ETA {p.eta_seconds:.0f} s" if p.eta_seconds is not None and p.fraction < 1 else ""
        self.line.show(f"restore {p.backup_id} -> {p.topic}: {p.fraction:6.1%} · {p.records:,} records · "
                       f"{p.bytes / 1e6:,.1f} MB · {p.mb_per_second:,.1f} MB/s · "
                       f"partitions {p.partitions_done}/{p.partitions_total}{eta}",
                       final=p.partitions_done == p.partitions_total)


def print_preflight(p: Preflight) -> None:
    from kafka_sre_tui.engine.target.checks import FAIL, WARN

    print(f"preflight: restore into '{p.topic}' on cluster '{p.cluster}': {p.records:,} records, "
          f"{p.bytes / 1e6:,.1f} MB")
    for check in p.checks:
        mark = {FAIL: "FAIL", WARN: "warn"}.get(check.level, "ok")
        print(f"  {mark:<4}  {check.name}: {check.message}")


def cmd_restore(args: argparse.Namespace, config: AppConfig) -> int:
    from kafka_sre_tui.cli.restore_set import SET_ONLY, cmd_restore_set, is_set_id
    from kafka_sre_tui.engine.restore.run import restore_backup

    if is_set_id(backup_base(args, config), args.backup_id):
        return cmd_restore_set(args, config)
    given = [option for option, name in SET_ONLY if getattr(args, name) is not None]
    if given:
        raise ConfigError(f"{', '.join(given)} apply to backup sets; {args.backup_id} is a one-topic backup: "
                          "use --target-topic")
    request = request_from(args, config)
    reporter = _Reporter(args.json)
    job = restore_backup(cluster_from_args(args, config), request, tapped(reporter))
    return run_restore(job, reporter, request.dry_run, args.json, result_json, _print_result)


class _Outcome(Protocol):
    """What a one-topic and a set restore's results share: enough for the exit code."""

    @property
    def dry_run(self) -> bool: ...
    @property
    def preflight(self) -> _Verdict | None: ...
    @property
    def groups_not_committed(self) -> Sized: ...


class _Verdict(Protocol):
    @property
    def ok(self) -> bool: ...


Outcome = TypeVar("Outcome", bound=_Outcome)


def run_restore(job: Coroutine[Any, Any, Outcome], reporter: _Closes, dry_run: bool, as_json: bool,
                to_json: Callable[[Outcome], dict[str, Any]], show: Callable[[Outcome], None]) -> int:
    """Run a restore (one topic or a set), print its result as JSON or with ``show``; the exit code."""
    import asyncio

    from kafka_sre_tui.cli import output

    try:
        result = asyncio.run(job)
    except KeyboardInterrupt:
        reporter.close()
        if not dry_run:
            print("interrupted: run the same command with --resume to continue (nothing is written twice)",
                  file=sys.stderr)
        raise
    finally:
        reporter.close()
    passed = result.preflight is not None and result.preflight.ok
    if as_json:
        output.emit_json(to_json(result))
    elif result.dry_run:
        print(f"dry run: nothing written; the restore would {'proceed' if passed else 'be refused'}")
    else:
        show(result)
    if result.dry_run:
        return EXIT_OK if passed else EXIT_FAILED
    return EXIT_FAILED if result.groups_not_committed else EXIT_OK


class _Closes(Protocol):
    def close(self) -> None: ...


def result_json(result: RestoreResult) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "backup_id": result.backup_id, "cluster": result.cluster, "topic": result.topic, "dry_run": result.dry_run,
        "metrics": asdict(result.metrics) if result.metrics else None,
        "partitions": [asdict(p) | {"offset_map": [list(r) for r in p.offset_map]} for p in result.partitions],
        "groups": [asdict(g) for g in result.groups],
        "state_path": str(result.state_path) if result.state_path else None}
    if result.preflight is not None:
        p = result.preflight
        doc["preflight"] = {"ok": p.ok, "create_topic": p.create, "partitions": p.partitions,
                            "replication_factor": p.replication_factor, "configs": p.create_configs,
                            "records": p.records, "bytes": p.bytes,
                            "checks": [asdict(c) for c in p.checks],
                            "selections": [s.to_json() for s in p.selections]}
    return doc


def _print_result(result: RestoreResult) -> None:
    from kafka_sre_tui.cli import output
    if result.metrics is not None:
        m = result.metrics
        output.table("Restore metrics", ["Metric", "Value"], [
            ("duration", f"{m.duration_seconds:.2f} s"), ("messages", f"{m.messages:,}"),
            ("bytes written", f"{m.bytes_written / 1e6:,.2f} MB"), ("throughput", f"{m.throughput_mb_s:,.1f} MB/s"),
            ("records/s", f"{m.records_per_second:,.0f}"), ("skipped on resume", f"{m.skipped_on_resume:,}"),
            ("state", str(result.state_path))])
    output.table(f"Restored into {result.topic} on {result.cluster}",
                 ["Partition", "Target", "Source offsets", "Target offsets", "Records"],
                 [(p.partition, p.target_partition, f"{p.source_start}-{p.source_end}",
                   f"{p.target_start}-{p.target_start + p.records}", f"{p.records:,}") for p in result.partitions])
    for g in result.groups:
        offsets = ", ".join(f"{p}:{o}" for p, o in sorted(g.offsets.items()))
        print(f"group {g.group}: {'committed' if g.committed else 'NOT committed'} ({offsets})"
              + ("" if g.committed else f": {g.reason}"))
