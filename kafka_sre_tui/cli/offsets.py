"""`offsets reset | rollback | snapshots`: move a consumer group's committed offsets, safely.

A dry run unless ``--execute``; executing refuses on a read_only cluster and while the group has
active members, writes a snapshot of the previous offsets first and prints its id.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from kafka_sre_tui.cli.args import cluster_from_args, partitions_arg, time_arg
from kafka_sre_tui.config import AppConfig

if TYPE_CHECKING:
    from kafka_sre_tui.engine.group_offsets.execute import Executed
    from kafka_sre_tui.engine.group_offsets.reset import ResetPlan, ResetTarget


def add_commands(subparsers: Any, parents: dict[str, argparse.ArgumentParser]) -> None:
    shared = [parents["common"], parents["cluster"], parents["json"]]
    offsets = subparsers.add_parser("offsets", parents=[parents["common"]],
                                    help="move a consumer group's offsets (dry run first), roll back")
    sub = offsets.add_subparsers(dest="offsets_command", metavar="reset|rollback|snapshots", required=True)
    reset = sub.add_parser("reset", parents=shared, help="move a group's committed offsets on a topic",
                           description="Dry run unless --execute: prints per partition the current and new "
                           "offset and how many records that skips or replays.")
    reset.add_argument("--group", "-g", required=True, metavar="G")
    reset.add_argument("--topic", "-t", required=True, metavar="T")
    reset.add_argument("--partitions", type=partitions_arg, metavar="P[,P]", help="only these (default: all)")
    to = reset.add_mutually_exclusive_group(required=True)
    to.add_argument("--to-earliest", action="store_true", help="replay everything retained")
    to.add_argument("--to-latest", action="store_true", help="skip everything not yet read")
    to.add_argument("--to-time", type=time_arg, metavar="ISO", help="the first record at or after this time")
    to.add_argument("--to-offset", type=int, metavar="N", help="this offset in each partition")
    to.add_argument("--shift-by", type=int, metavar="N", help="move by N records (negative: back)")
    to.add_argument("--skip", type=int, metavar="N", help="skip N records past the committed offset (a poison pill)")
    reset.add_argument("--execute", action="store_true", help="commit (after a snapshot of the current offsets)")
    rollback = sub.add_parser("rollback", parents=shared, help="put a group back to a snapshot's offsets")
    rollback.add_argument("snapshot", metavar="SNAPSHOT_ID")
    rollback.add_argument("--execute", action="store_true", help="commit (after a snapshot of the current offsets)")
    sub.add_parser("snapshots", parents=[parents["common"], parents["json"]],
                   help="the offset snapshots taken before resets")


def target_from_args(args: argparse.Namespace) -> ResetTarget:
    from kafka_sre_tui.engine.group_offsets.reset import (
        EARLIEST_SPEC,
        LATEST_SPEC,
        OFFSET,
        SHIFT,
        SKIP,
        TIME,
        ResetTarget,
    )

    if args.to_earliest:
        return ResetTarget(EARLIEST_SPEC)
    if args.to_latest:
        return ResetTarget(LATEST_SPEC)
    for kind, value in ((TIME, args.to_time), (OFFSET, args.to_offset), (SHIFT, args.shift_by), (SKIP, args.skip)):
        if value is not None:
            return ResetTarget(kind, value)
    raise AssertionError("argparse requires one target")


def cmd_offsets(args: argparse.Namespace, config: AppConfig) -> int:
    if args.offsets_command == "snapshots":
        return _snapshots(args)
    import asyncio  # the engine is imported when the command runs (start-up time, tests/test_startup.py)

    from kafka_sre_tui.engine.group_offsets.execute import execute, plan_rollback
    from kafka_sre_tui.engine.group_offsets.reset import plan_reset
    from kafka_sre_tui.engine.group_offsets.snapshots import load_snapshot
    from kafka_sre_tui.engine.kafka.session import KafkaSession

    cluster = cluster_from_args(args, config)

    async def run() -> tuple[ResetPlan, Executed | None]:
        async with KafkaSession(cluster) as session:
            if args.offsets_command == "reset":
                plan = await plan_reset(session, args.group, args.topic, args.partitions, target_from_args(args))
                action = "offsets reset"
            else:
                plan = await plan_rollback(session, load_snapshot(args.snapshot))
                action = f"offsets rollback of {args.snapshot}"
            if not args.execute:
                return plan, None
            return plan, await execute(session, plan, action)

    plan, done = asyncio.run(run())
    from kafka_sre_tui.cli import output

    if args.json:
        output.emit_json(plan_json(plan, done))
    else:
        _print(plan, done)
    return 0


def plan_json(plan: ResetPlan, done: Executed | None) -> dict[str, Any]:
    return {
        "group_id": plan.group, "topic": plan.topic, "target": plan.target.kind, "value": plan.target.value,
        "dry_run": done is None, "state": plan.state, "protocol_type": plan.protocol_type,
        "group_type": plan.group_type,
        "members": [{"member_id": m.member_id, "client_id": m.client_id, "host": m.host} for m in plan.members],
        "partitions": [{"partition": m.partition, "current_offset": m.current, "new_offset": m.new,
                        "earliest_offset": m.earliest, "latest_offset": m.latest, "records_skipped": m.skipped,
                        "records_replayed": m.replayed} for m in plan.moves],
        "notes": list(plan.notes), "snapshot_id": done.snapshot.snapshot_id if done else None,
    }


def _print(plan: ResetPlan, done: Executed | None) -> None:
    from kafka_sre_tui.cli import output

    skipped, replayed = sum(m.skipped for m in plan.moves), sum(m.replayed for m in plan.moves)
    head = "committed" if done else "DRY RUN (nothing written)"
    output.table(f"{head}: group {plan.group} on {plan.topic}, {plan.target.describe()}: "
                 f"{skipped:,} records skipped, {replayed:,} replayed",
                 ["Partition", "Current", "New", "Skipped", "Replayed"],
                 [(m.partition, "no commit" if m.current is None else m.current, m.new, m.skipped, m.replayed)
                  for m in plan.moves])
    for note in plan.notes:
        print(f"note: {note}", file=sys.stderr)
    if done:
        print(f"previous offsets saved; undo with: kafka-sre-tui offsets rollback {done.snapshot.snapshot_id}")
        print(done.snapshot.snapshot_id)
        return
    if plan.members:
        print(f"warning: --execute would be refused now: {_members(plan)}", file=sys.stderr)
    print("run again with --execute to commit")


def _members(plan: ResetPlan) -> str:
    from kafka_sre_tui.engine.group_offsets.execute import active_members_text

    return active_members_text(plan.group_info())


def _snapshots(args: argparse.Namespace) -> int:
    from kafka_sre_tui.cli import output
    from kafka_sre_tui.engine.group_offsets.snapshots import list_snapshots

    snapshots = list_snapshots()
    if args.json:
        output.emit_json([s.to_json() for s in snapshots])
        return 0
    output.table(f"Offset snapshots ({len(snapshots)})", ["Id", "Created", "Cluster", "Group", "Topic", "Reason"],
                 [(s.snapshot_id, s.created, s.cluster, s.group, s.topic, s.reason) for s in snapshots])
    return 0
