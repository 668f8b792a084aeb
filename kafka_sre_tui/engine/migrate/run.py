"""Migrate a topic to another topic, on the same or another cluster: read_committed, faithful,
resumable exactly once, with group offsets translated through the exact offset map. See
docs/migration.md.

Order of work: look at the source and the target; check (the target accepts writes, exists or is
created with the source's partition count and configs, has the partitions, is empty); record each
target partition's end offset and the source's last stable offsets durably (the plan); copy,
checkpointing; commit translated group offsets. A second run of the same migration resumes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine import audit
from kafka_sre_tui.engine.errors import ConfigError, Refused
from kafka_sre_tui.engine.heap import keep_large_buffers
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.kafka.topic_writer import WriterSettings
from kafka_sre_tui.engine.migrate.copy import copy_records
from kafka_sre_tui.engine.migrate.groups import commit_groups
from kafka_sre_tui.engine.migrate.request import (
    Emit,
    MigrateMetrics,
    MigrateRequest,
    MigrateResult,
    MigrateStarted,
    PartitionCopy,
    ignore,
    validate,
)
from kafka_sre_tui.engine.migrate.setup import (
    check,
    inspect_source,
    load_for_resume,
    previous_plan,
    selections,
    start_fresh,
    state_folder,
)
from kafka_sre_tui.engine.restore.state import PartitionProgress, locked
from kafka_sre_tui.engine.target.checks import FAIL
from kafka_sre_tui.engine.target.topic import inspect_target


class MigrationRefused(Refused):
    """A check failed before the first record; nothing was written."""


def refuse_read_only(cluster: ClusterConfig, what: str, action: str, topic: str | None = None,
                     parameters: Mapping[str, Any] | None = None) -> None:
    """A ``read_only`` target: refused, and the refusal logged in the audit log."""
    audit.refuse_read_only(cluster.read_only, cluster.name, cluster.source, action, what,
                           "pick another --target-cluster", topic=topic, parameters=parameters)


def migration_parameters(source: ClusterConfig, request: MigrateRequest) -> dict[str, Any]:
    return {"source_cluster": source.name} | audit.request_parameters(request)


async def migrate(source: ClusterConfig, target: ClusterConfig, request: MigrateRequest, emit: Emit = ignore,
                  settle_seconds: float = 0.5) -> MigrateResult:
    validate(request)
    parameters = migration_parameters(source, request)
    refuse_read_only(target, "migrate into", "migrate", request.target, parameters)
    with audit.audited("migrate", cluster=target.name, topic=request.target, parameters=parameters) as outcome:
        result = await _migrate(source, target, request, emit, settle_seconds)
        outcome.parameters.update(records_copied=result.metrics.records, replication_lag=result.lag_records)
        return result


async def _migrate(source: ClusterConfig, target: ClusterConfig, request: MigrateRequest, emit: Emit,
                   settle_seconds: float) -> MigrateResult:
    keep_large_buffers()  # fetch responses and produce requests of a few MB, reused instead of mmapped each time
    source_name = f"{source.name}/{request.source_topic}"
    target_name = f"{target.name}/{request.target}"
    async with KafkaSession(source) as source_session, KafkaSession(target) as target_session:
        found = await inspect_source(source_session, request.source_topic)
        existing = await inspect_target(target_session, request.target)
        if source.name == target.name and request.source_topic == request.target:
            raise ConfigError(f"source and target are the same topic ({source_name}); give another --target-topic "
                              "or --target-cluster")
        pairs = selections(request, found)
        states = state_folder(request, found, existing.cluster_id)
        with locked(states):
            plan = previous_plan(states)
            skip: dict[int, int] = {}
            if plan is None:
                checks = check(request, found, existing, pairs, f"cluster '{target.name}'")
                failed = [c for c in checks if c.level == FAIL]
                emit(MigrateStarted(source_name, target_name, False, states, tuple(checks), ()))
                if failed:
                    more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
                    raise MigrationRefused(f"migration refused: {failed[0].message}{more}; nothing was written")
                plan, progress = await start_fresh(target_session, request, found, existing, pairs, states,
                                                   source_name)
            else:
                progress, skip = await load_for_resume(target_session, request, plan, pairs, states, settle_seconds)
            stops = _stops(request, progress, found.stable_end)
            emit(MigrateStarted(source_name, target_name, bool(skip) or any(p.written for p in progress), states,
                                (), tuple((p.selection.partition, p.selection.target_partition, p.source_position,
                                           -1 if stops is None else stops[p.selection.partition])
                                          for p in progress),
                                tuple((s, n) for s, n in skip.items() if n)))
            settings = WriterSettings(max_batch_bytes=plan["max_batch_bytes"], rate_limit_mb_s=request.rate_limit_mb_s,
                                      compression=plan.get("compression"))
            records, size, seconds, lag = await copy_records(
                source, target, request.source_topic, request.target, progress, stops, skip, settings, states,
                request.checkpoint_seconds, emit, found.stable_end)
        commits = []
        if request.groups is not None:
            commits = await commit_groups(source_session, target_session, request.source_topic, request.target,
                                          request.groups, progress, request.force)
    metrics = MigrateMetrics(round(seconds, 3), records, size, round(size / 1e6 / seconds, 2) if seconds else 0.0,
                             round(records / seconds, 1) if seconds else 0.0, sum(skip.values()))
    return MigrateResult(source_name, target_name, tuple(_outcome(p) for p in progress), metrics, lag,
                         tuple(commits), states)


def _stops(request: MigrateRequest, progress: list[PartitionProgress], now: dict[int, int]) -> dict[int, int] | None:
    """Where this run stops: nowhere (--follow), the source's end now (catch-up), or the end offsets
    captured when the migration started (a plain run, also when resumed)."""
    if request.follow:
        for p in progress:
            p.done = False
        return None
    if request.catch_up:
        return {p.selection.partition: max(now.get(p.selection.partition, 0), p.source_position) for p in progress}
    return {p.selection.partition: max(p.selection.end, p.source_position) for p in progress}


def _outcome(p: PartitionProgress) -> PartitionCopy:
    return PartitionCopy(p.selection.partition, p.selection.target_partition, p.selection.start, p.source_position,
                         p.target_start, p.written, tuple(p.map.runs))

