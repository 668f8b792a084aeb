"""What ``backups list|show|prune`` and ``verify`` print for backup sets and their chains (thin: the
engine's catalog decides, this only prints a table, lines or --json)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kafka_sre_tui.cli import output

if TYPE_CHECKING:
    from kafka_sre_tui.engine.backup.catalog import PruneDecision
    from kafka_sre_tui.engine.backup.set_catalog import SetView, TopicCoverage
    from kafka_sre_tui.engine.backup.set_verify import SetVerifyProgress
    from kafka_sre_tui.engine.backup.summary import BackupSummary
    from kafka_sre_tui.engine.backup.workers_fleet import Fleet, PartitionProgress
    from kafka_sre_tui.engine.storage.encryption import EncryptionKey
    from kafka_sre_tui.engine.storage.store import Location

EXIT_OK, EXIT_FAILED = 0, 1


def kind_text(b: BackupSummary) -> str:
    """``topic`` for a one-topic backup; a set's kind and place in its chain (``incremental #2``)."""
    if not b.is_set:
        return "topic"
    return b.kind if b.link in (None, 0) else f"{b.kind} #{b.link}"


def print_list(base: Location, items: list[BackupSummary], as_json: bool) -> None:
    if as_json:
        output.emit_json([{"backup_id": b.backup_id, "status": b.status, "kind": b.kind, "topic": b.topic,
                           "created_at": b.created_at.isoformat(), "records": b.records, "size_bytes": b.size_bytes,
                           "compression": b.compression}
                          | ({"link": b.link, "chain_base": b.chain_base, "topics": b.topics,
                              "workers": b.workers} if b.is_set else {})
                          for b in items])
        return
    output.table(f"Backups in {base} ({len(items)})",
                 ["Backup id", "Status", "Kind", "Topic", "Created (UTC)", "Records", "Size", "Codec", "Chain base"],
                 [(b.backup_id, b.status_text, kind_text(b), b.topic, f"{b.created_at:%Y-%m-%d %H:%M:%S}",
                   f"{b.records:,}", f"{b.size_bytes / 1e6:,.1f} MB", b.compression,
                   (b.chain_base if b.chain_base != b.backup_id else "-") if b.is_set else "") for b in items])


def show(base: Location, set_id: str, as_json: bool) -> int:
    from kafka_sre_tui.engine.backup.set_catalog import show_set
    from kafka_sre_tui.engine.backup.workers_fleet import fleet_json, fleet_of_set

    fleet = fleet_of_set(base, set_id, datetime.now(UTC))
    if fleet is not None:  # a workers group is still writing it: its per-worker progress
        output.emit_json(fleet_json(fleet)) if as_json else print_fleet(fleet)
        return EXIT_OK
    view = show_set(base, set_id)
    if as_json:
        output.emit_json(_show_json(view))
        return EXIT_OK
    m = view.manifest
    print(f"backup set {m.set_id}: {m.kind}, link {m.chain.get('link')} of chain {m.chain.get('base')}; "
          f"{len(m.members)} topics, {m.records:,} records; created {m.created_at}; "
          f"set.json {'intact' if view.intact else 'CHANGED after it was written (checksum mismatch)'}")
    print(f"selection: {_selection(m.selection)}; source {m.source.get('cluster_name')} "
          f"({m.source.get('cluster_id')}); {len(m.consumer_groups)} consumer groups")
    if view.chain_error:
        print(f"chain BROKEN: {view.chain_error}")
    output.table(f"Chain ({len(view.links)} links, base first)", ["Link", "Set id", "Kind", "Created", "Records"],
                 [(link.chain.get("link"), link.set_id, link.kind, link.created_at, f"{link.records:,}")
                  for link in view.links])
    output.table("What the chain covers, per topic", ["Topic", "Partition", "Offsets", "Records", "From (UTC)",
                                                      "To (UTC)", "Since link"],
                 [row for topic in view.topics for row in _coverage_rows(topic)])
    for topic in view.topics:
        for lost in topic.lost:
            print(f"lost: {topic.topic} partition {lost.partition} offsets {lost.from_offset}-{lost.to_offset - 1} "
                  f"({lost.to_offset - lost.from_offset:,} records) deleted by retention before link {lost.link} "
                  f"({lost.set_id})")
        for restart in topic.restarts:
            print(f"chain restart: {topic.topic} at link {restart.link} ({restart.set_id}): {restart.note}")
    return EXIT_OK


def print_fleet(fleet: Fleet) -> None:
    stale = sum(w.state == "stale" for w in fleet.workers)
    rate = "-" if fleet.mb_per_second is None else f"{fleet.mb_per_second:,.1f} MB/s"
    eta = "-" if fleet.eta_seconds is None else f"{fleet.eta_seconds:,.0f} s"
    who = f"workers group {fleet.group}" if fleet.group else "a workers group"
    print(f"backup set {fleet.set_id}: {'SEALING' if fleet.sealing else 'running'}, written by {who}; "
          f"{len(fleet.workers)} workers ({len(fleet.live_workers)} working, {stale} stale); "
          f"{fleet.partitions_done} of {len(fleet.partitions)} partitions done, {len(fleet.unowned)} not claimed yet")
    print(f"progress {fleet.fraction:.1%} of offsets, {fleet.offsets_left:,} left; {fleet.records:,} records, "
          f"{fleet.raw_bytes / 1e6:,.1f} MB stored; {rate} since {fleet.created_at:%H:%M:%S} UTC; ETA {eta}")
    output.table(f"Workers (stale: partitions left and no checkpoint for {fleet.stale_after:g} s)",
                 ["Worker", "Generation", "State", "Partitions", "Done", "Records", "MB", "Offsets left",
                  "Last checkpoint (UTC)", "Owns"],
                 [(w.worker, w.generation, w.state, len(w.partitions), w.partitions_done, f"{w.records:,}",
                   f"{w.raw_bytes / 1e6:,.1f}", f"{w.offsets_left:,}", _ago(w.checkpoint_at, fleet.read_at),
                   _owned(w.partitions)) for w in fleet.workers])
    if fleet.unowned:
        print(f"not claimed yet: {_owned(fleet.unowned)}")
    print(f"the set is complete when every partition is done; then: kafka-sre-tui backups show {fleet.set_id}")


def _ago(when: datetime | None, now: datetime) -> str:
    return "-" if when is None else f"{when:%H:%M:%S} ({max(0.0, (now - when).total_seconds()):,.0f} s ago)"


def _owned(parts: tuple[PartitionProgress, ...], limit: int = 80) -> str:
    """``orders: 0,3,5; pay: 1``, cut at ``limit`` characters (the --json output lists all)."""
    topics: dict[str, list[str]] = {}
    for p in parts:
        topics.setdefault(p.topic, []).append(str(p.partition))
    text = "; ".join(f"{topic}: {','.join(numbers)}" for topic, numbers in topics.items())
    return text if len(text) <= limit else text[:limit].rsplit(",", 1)[0] + f" … ({len(parts)} partitions)"


def _selection(selection: dict[str, Any]) -> str:
    what = "all topics" if selection.get("all_topics") else f"topics {','.join(selection.get('topics') or []) or '-'}"
    excluded = f", exclude {','.join(selection['exclude'])}" if selection.get("exclude") else ""
    return what + excluded + (", continuous" if selection.get("continuous") else "")


def _coverage_rows(topic: TopicCoverage) -> list[tuple[Any, ...]]:
    return [(topic.topic, c.partition, f"{c.from_offset}-{c.to_offset - 1}" if c.to_offset > c.from_offset else "-",
             f"{c.records:,}", _time(c.first_timestamp), _time(c.last_timestamp), c.since_link)
            for c in sorted(topic.partitions.values(), key=lambda c: c.partition)]


def _time(ms: int | None) -> str:
    return "-" if ms is None else f"{datetime.fromtimestamp(ms / 1000, UTC):%Y-%m-%d %H:%M:%S.%f}"[:-3]


def _show_json(view: SetView) -> dict[str, Any]:
    from kafka_sre_tui.engine.storage.backup_set import to_json

    return {"set": to_json(view.manifest), "manifest_intact": view.intact, "chain_error": view.chain_error,
            "chain": [{"link": m.chain.get("link"), "set_id": m.set_id, "kind": m.kind, "created_at": m.created_at,
                       "records": m.records} for m in view.links],
            "topics": [{"topic": t.topic, "records": t.records, "first_timestamp": t.first_timestamp,
                        "last_timestamp": t.last_timestamp, "last_link": t.last_link,
                        "partitions": [vars(c) for c in sorted(t.partitions.values(), key=lambda c: c.partition)],
                        "lost": [vars(x) for x in t.lost], "restarts": [vars(x) for x in t.restarts]}
                       for t in view.topics]}


def verify(base: Location, set_id: str, key: EncryptionKey | None, chain: bool, as_json: bool) -> int:
    from kafka_sre_tui.engine.backup.set_verify import verify_set

    line = output.StatusLine()

    def progress(p: SetVerifyProgress) -> None:
        line.show(f"verify {p.set_id}: {p.fraction:6.1%} · link {p.link} · {p.topic} · {p.records:,} records · "
                  f"{p.bytes / 1e6:,.1f} MB · {p.mb_per_second:,.0f} MB/s", final=p.fraction >= 1)

    try:
        result = asyncio.run(verify_set(base, set_id, key, chain, progress if not as_json else _quiet))
    finally:
        line.close()
    mb_s = result.bytes_checked / 1e6 / result.seconds if result.seconds > 0 else 0.0
    if as_json:
        output.emit_json({"backup_id": result.set_id, "set": True, "intact": result.intact, "links": result.links,
                          "members": result.members, "records": result.records,
                          "bytes_checked": result.bytes_checked, "seconds": round(result.seconds, 3),
                          "throughput_mb_s": round(mb_s, 1), "damage": [d.describe() for d in result.damage]})
    else:
        for damage in result.damage:
            print(damage.describe())
        state = "intact" if result.intact else f"DAMAGED ({len(result.damage)} problems)"
        print(f"backup set {result.set_id}: {state}; {len(result.links)} link(s), {result.members} member backups, "
              f"{result.records:,} records, {result.bytes_checked / 1e6:,.1f} MB checked in {result.seconds:.2f} s "
              f"({mb_s:,.0f} MB/s)")
    return EXIT_OK if result.intact else EXIT_FAILED


def _quiet(_: SetVerifyProgress) -> None:
    return None


def print_prune(decisions: list[PruneDecision], dry_run: bool, as_json: bool) -> None:
    verb = "would delete" if dry_run else "deleted"
    if as_json:
        output.emit_json([{"backup_id": d.backup.backup_id, "reason": d.reason, "size_bytes": d.size_bytes,
                           "deleted": d.delete and not dry_run}
                          | ({"chain": True, "action": "delete" if d.delete else "keep",
                              "links": [b.backup_id for b in d.links]} if d.links else {})
                          for d in decisions])
        return
    for d in decisions:
        if d.links:
            action = verb if d.delete else "kept"
            print(f"{action} chain {d.backup.backup_id} ({len(d.links)} links, {d.size_bytes / 1e6:,.1f} MB): "
                  f"{d.reason}")
            for b in d.links:
                print(f"  link {b.link if b.link is not None else '?'}: {b.backup_id} ({b.status})")
        else:
            print(f"{verb} {d.backup.backup_id} ({d.size_bytes / 1e6:,.1f} MB): {d.reason}")
    gone = sum(len(d.items) for d in decisions if d.delete)
    print(f"{gone} backups {verb}")
