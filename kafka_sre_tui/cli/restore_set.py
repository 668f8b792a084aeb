"""CLI for ``restore --backup-id SET`` (thin: parse, call engine/restore/set_restore.py, print).

Same exit codes as a one-topic restore: 0 done (``--dry-run``: every topic would be restored); 1
refused or failed; 2 bad usage or config."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kafka_sre_tui.cli.args import backup_base, cluster_from_args, encryption_key
from kafka_sre_tui.cli.restore import RestoreReporter, run_restore
from kafka_sre_tui.config import AppConfig
from kafka_sre_tui.engine.errors import ConfigError
from kafka_sre_tui.observe.tap import tapped

if TYPE_CHECKING:
    from kafka_sre_tui.engine.restore.set_events import (
        SetPreflight,
        SetRestoreEvent,
        SetRestoreProgress,
        SetRestoreResult,
    )
    from kafka_sre_tui.engine.restore.set_request import SetRestoreRequest
    from kafka_sre_tui.engine.storage.store import Location

SET_ONLY = (("--topics", "topics"), ("--topic-map", "topic_map"), ("--topic-prefix", "topic_prefix"))
# one-topic options a set restore does not take (a set creates missing topics by itself: --create-topic is accepted)
ONE_TOPIC_ONLY = (("--target-topic", "target_topic"), ("--partitions", "partitions"),
                  ("--from-offset", "from_offset"), ("--to-offset", "to_offset"), ("--from-time", "from_time"),
                  ("--partition-map", "partition_map"))
ONE_TOPIC_FLAGS = (("--override-retention", "override_retention"), ("--new-timestamps", "new_timestamps"))


def is_set_id(base: Location, backup_id: str) -> bool:
    from kafka_sre_tui.engine.storage.backup_set import SET_MANIFEST, set_dir

    try:
        return (set_dir(base, backup_id) / SET_MANIFEST).exists()
    except ConfigError:
        return False  # not an id at all: the one-topic restore says so


def set_request_from(args: argparse.Namespace, config: AppConfig) -> SetRestoreRequest:
    from kafka_sre_tui.engine.restore.set_request import SetRestoreRequest

    wrong = [o for o, name in ONE_TOPIC_ONLY if getattr(args, name) is not None]
    wrong += [o for o, name in ONE_TOPIC_FLAGS if getattr(args, name)]
    if wrong:
        raise ConfigError(f"{', '.join(wrong)} apply to one-topic backups; {args.backup_id} is a backup set: "
                          "use --topics, --topic-map or --topic-prefix, and --to-time")
    groups = args.restore_consumer_offsets
    return SetRestoreRequest(
        backup_base=backup_base(args, config), set_id=args.backup_id, topics=args.topics or (),
        topic_map=args.topic_map, topic_prefix=args.topic_prefix, to_time_ms=args.to_time, dry_run=args.dry_run,
        restore_consumer_offsets=tuple(groups) if groups is not None else None, resume=args.resume,
        replication_factor=args.replication_factor, rate_limit_mb_s=args.rate_limit,
        encryption_key=encryption_key(args, config),
        state_dir=Path(args.state_dir).expanduser() if args.state_dir else None, force=args.force,
        checkpoint_seconds=args.checkpoint_seconds)


class _Reporter(RestoreReporter):
    """The set's preflight to stdout before anything is written; progress on one stderr line; a line
    per topic restored."""

    def __call__(self, event: SetRestoreEvent) -> None:
        from kafka_sre_tui.engine.restore.events import Resumed
        from kafka_sre_tui.engine.restore.set_events import SetPreflight, TopicRestored

        if self.shown(event):
            return
        if isinstance(event, SetPreflight):
            if not self.as_json:
                print_set_preflight(event)
        elif isinstance(event, Resumed):
            found = sum(extra for _p, _c, extra in event.partitions)
            print(f"resuming {event.topic} from member {event.backup_id}: {found:,} records found written after "
                  "the last checkpoint (not written again)", file=sys.stderr)
        elif isinstance(event, TopicRestored):
            self.line.close()
            note = f"; {event.restarted}" if event.restarted else ""
            print(f"restored {event.source} -> {event.target}: {event.records:,} records from "
                  f"{len(event.links)} link(s){note}", file=sys.stderr)
            for hole in event.lost:
                print(f"  {hole.describe(event.source)}", file=sys.stderr)
        else:
            self._progress(event)

    def _progress(self, p: SetRestoreProgress) -> None:
        eta = f" · ETA {p.eta_seconds:.0f} s" if p.eta_seconds is not None and p.fraction < 1 else ""
        self.line.show(f"restore set: {p.fraction:6.1%} · topics done {p.topics_done}/{p.topics_total} · {p.topic} "
                       f"{p.topic_fraction:.0%} · {p.records:,} records · {p.bytes / 1e6:,.1f} MB · "
                       f"{p.mb_per_second:,.1f} MB/s{eta}", final=p.offsets_done >= p.offsets_total)


def _time(ms: int | None) -> str:
    from datetime import UTC, datetime
    return "the newest link" if ms is None else datetime.fromtimestamp(ms / 1000, UTC).isoformat(
        timespec="milliseconds")


def print_set_preflight(p: SetPreflight) -> None:
    from kafka_sre_tui.cli import output
    from kafka_sre_tui.engine.target.checks import FAIL, WARN

    print(f"preflight: restore backup set {p.set_id} into cluster '{p.cluster}' up to {_time(p.to_time_ms)}: "
          f"{len(p.topics)} topic(s), {p.records:,} records, {p.bytes / 1e6:,.1f} MB, links used: "
          + ", ".join(p.links))
    rows = []
    for t in p.topics:
        levels = {c.level for c in t.preflight.checks}
        verdict = "FAIL" if FAIL in levels else "warn" if WARN in levels else "ok"
        rows.append((t.source, t.target, "create" if t.preflight.create else "exists", t.preflight.partitions,
                     len(t.links), f"{t.preflight.records:,}", f"{t.preflight.bytes / 1e6:,.1f}", verdict))
    output.table("Topics", ["Topic", "Target", "Target topic", "Partitions", "Links", "Records", "MB", "Checks"], rows)
    for t in p.topics:
        if t.restarted:
            print(f"  note  {t.source}: {t.restarted}")
        for hole in t.lost:
            print(f"  note  {hole.describe(t.source)}")
        for check in t.preflight.checks:
            if check.level in (FAIL, WARN):
                print(f"  {'FAIL' if check.level == FAIL else 'warn':<4}  {t.source}: {check.name}: {check.message}")
    for check in p.checks:
        print(f"  {'FAIL' if check.level == FAIL else 'ok':<4}  {check.name}: {check.message}")


def cmd_restore_set(args: argparse.Namespace, config: AppConfig) -> int:
    from kafka_sre_tui.engine.restore.set_restore import restore_set

    request = set_request_from(args, config)
    reporter = _Reporter(args.json)
    job = restore_set(cluster_from_args(args, config), request, tapped(reporter))
    return run_restore(job, reporter, request.dry_run, args.json, set_result_json, _print_result)


def set_result_json(result: SetRestoreResult) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "set_id": result.set_id, "cluster": result.cluster, "dry_run": result.dry_run, "links": list(result.links),
        "metrics": asdict(result.metrics) if result.metrics else None,
        "topics": [{"source": t.source, "target": t.target, "links": list(t.links), "restarted": t.restarted,
                    "records": t.records, "messages": t.messages, "lost": [asdict(h) for h in t.lost],
                    "partitions": [asdict(p) | {"offset_map": [list(r) for r in p.offset_map]} for p in t.partitions]}
                   for t in result.topics],
        "groups": [{"topic": g.topic, **asdict(g.commit)} for g in result.groups],
        "state_path": str(result.state_path) if result.state_path else None}
    if result.preflight is not None:
        p = result.preflight
        doc["preflight"] = {
            "ok": p.ok, "to_time_ms": p.to_time_ms, "records": p.records, "bytes": p.bytes,
            "checks": [asdict(c) for c in p.checks],
            "topics": [{"source": t.source, "target": t.target, "links": list(t.links), "restarted": t.restarted,
                        "lost": [asdict(h) for h in t.lost], "create_topic": t.preflight.create,
                        "partitions": t.preflight.partitions, "records": t.preflight.records,
                        "bytes": t.preflight.bytes, "checks": [asdict(c) for c in t.preflight.checks]}
                       for t in p.topics]}
    return doc


def _print_result(result: SetRestoreResult) -> None:
    from kafka_sre_tui.cli import output
    if result.metrics is not None:
        m = result.metrics
        output.table("Restore metrics", ["Metric", "Value"], [
            ("duration", f"{m.duration_seconds:.2f} s"), ("messages", f"{m.messages:,}"),
            ("bytes written", f"{m.bytes_written / 1e6:,.2f} MB"), ("throughput", f"{m.throughput_mb_s:,.1f} MB/s"),
            ("skipped on resume", f"{m.skipped_on_resume:,}"), ("links used", ", ".join(result.links)),
            ("state", str(result.state_path))])
    output.table(f"Restored into {result.cluster}", ["Topic", "Target", "Links", "Partitions", "Records"],
                 [(t.source, t.target, len(t.links), len(t.partitions), f"{t.records:,}") for t in result.topics])
    for g in result.groups:
        offsets = ", ".join(f"{p}:{o}" for p, o in sorted(g.commit.offsets.items()))
        print(f"group {g.commit.group} on {g.topic}: {'committed' if g.commit.committed else 'NOT committed'} "
              f"({offsets})" + ("" if g.commit.committed else f": {g.commit.reason}"))
