"""Cutover, as steps an SRE runs one by one or as one guided flow. Each step returns what it checked.

1. catch-up: copy up to the source's end offsets of now, again until the replication lag is 0 (stop
   the source's producers first, or it never is);
2. drain: wait until each source group has no lag (the drain monitor);
3. commit: with the source groups stopped and the lag still 0, commit the translated offsets on the
   target (groups with no active members there; never backwards);
4. switch: check the target groups hold those offsets and say what to switch.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.audit import AuditOutcome, audited
from kafka_sre_tui.engine.drain import DrainGoal, MonitorSettings, Outcome, monitor_group
from kafka_sre_tui.engine.drain.monitor import Event
from kafka_sre_tui.engine.errors import ConfigError, NotFound
from kafka_sre_tui.engine.inspect.groups import describe_group
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.kafka.topic_settings import set_topic_configs
from kafka_sre_tui.engine.migrate.groups import commit_groups
from kafka_sre_tui.engine.migrate.request import Emit, MigrateRequest, ignore
from kafka_sre_tui.engine.migrate.run import migrate, migration_parameters, refuse_read_only
from kafka_sre_tui.engine.migrate.setup import inspect_source, stable_ends, state_folder
from kafka_sre_tui.engine.restore.offsets import translate
from kafka_sre_tui.engine.restore.state import PartitionProgress, load_partitions, load_plan
from kafka_sre_tui.engine.target.topic import inspect_target

STEPS = ("catch-up", "drain", "commit", "switch")
CATCH_UP_ROUNDS = 3


@dataclass(frozen=True)
class StepReport:
    step: str
    ok: bool
    checked: tuple[str, ...]  # each thing this step looked at, as a sentence
    next_action: str  # what to do now


@dataclass(frozen=True)
class CutoverSettings:
    drain_timeout_seconds: float = 600.0
    drain_interval_seconds: float = 2.0
    drain_hold_samples: int = 3


async def _progress(source: KafkaSession, target: KafkaSession,
                    request: MigrateRequest) -> tuple[list[PartitionProgress], dict[int, int], dict[str, Any]]:
    found = await inspect_source(source, request.source_topic)
    existing = await inspect_target(target, request.target)
    states = state_folder(request, found, existing.cluster_id)
    plan = load_plan(states)
    if plan is None:
        raise ConfigError(f"no migration of {source.cluster.name}/{request.source_topic} to "
                          f"{target.cluster.name}/{request.target} (looked in {states}); start it with migrate")
    return load_partitions(states, plan["partitions"]), found.stable_end, plan


def _lag(progress: list[PartitionProgress], ends: dict[int, int]) -> dict[int, int]:
    return {p.selection.partition: ends.get(p.selection.partition, 0) - p.source_position for p in progress
            if ends.get(p.selection.partition, 0) > p.source_position}


def _audited(step: str, source: ClusterConfig, target: ClusterConfig,
             request: MigrateRequest) -> AbstractContextManager[AuditOutcome]:
    """Every step is a line in the audit log (drain's on the source): ``ok`` when it passed,
    ``refused`` with what to do when it did not."""
    return audited(f"cutover.{step}", cluster=target.name, topic=request.target,
                   parameters=migration_parameters(source, request))


def _passed(outcome: AuditOutcome, report: StepReport) -> StepReport:
    if not report.ok:
        outcome.refuse(f"step {report.step} not passed: {'; '.join(report.checked)}; next: {report.next_action}")
    return report


async def catch_up(source: ClusterConfig, target: ClusterConfig, request: MigrateRequest,
                   emit: Emit = ignore) -> StepReport:
    refuse_read_only(target, "migrate into", "cutover.catch-up", request.target, migration_parameters(source, request))
    with _audited("catch-up", source, target, request) as outcome:
        return _passed(outcome, await _catch_up(source, target, request, emit))


async def _catch_up(source: ClusterConfig, target: ClusterConfig, request: MigrateRequest,
                    emit: Emit) -> StepReport:
    checked = []
    for round_ in range(1, CATCH_UP_ROUNDS + 1):
        result = await migrate(source, target, dataclasses.replace(request, follow=False, catch_up=True,
                                                                   groups=None), emit)
        checked.append(f"round {round_}: copied {result.metrics.records:,} records up to the source's last stable "
                       f"offsets ({result.source} -> {result.target})")
        async with KafkaSession(source) as s:
            ends = await stable_ends(s, request.source_topic)
        copied = {p.partition: p.source_position for p in result.partitions}
        behind = {p: ends.get(p, 0) - o for p, o in copied.items() if ends.get(p, 0) > o}
        if not behind:
            checked.append("replication lag is 0: every source partition's last stable offset equals the copied "
                           "position (" + ", ".join(f"{p}:{o}" for p, o in sorted(copied.items())) + ")")
            return StepReport("catch-up", True, tuple(checked), "run the drain step")
        checked.append(f"{sum(behind.values()):,} records arrived meanwhile on partition(s) "
                       f"{', '.join(map(str, sorted(behind)))}")
    return StepReport("catch-up", False, tuple(checked),
                      "the source topic still receives records: stop its producers, then run catch-up again")


async def drain(source: ClusterConfig, groups: tuple[str, ...], settings: CutoverSettings,
                on_sample: Callable[[Event], None] = lambda _e: None) -> StepReport:
    if not groups:
        raise ConfigError("the drain step needs the groups to wait for: --groups G1,G2")
    with audited("cutover.drain", cluster=source.name, parameters={"groups": groups}) as outcome:
        return _passed(outcome, await _drain(source, groups, settings, on_sample))


async def _drain(source: ClusterConfig, groups: tuple[str, ...], settings: CutoverSettings,
                 on_sample: Callable[[Event], None]) -> StepReport:
    checked, ok = [], True
    goal = DrainGoal(max_lag=0, hold_samples=settings.drain_hold_samples,
                     timeout_seconds=settings.drain_timeout_seconds)
    async with KafkaSession(source) as session:
        for group in groups:
            result = await monitor_group(session, group, on_sample, goal=goal,
                                         settings=MonitorSettings(interval_seconds=settings.drain_interval_seconds))
            drained = result.outcome == Outcome.DRAINED
            ok = ok and drained
            checked.append(f"group '{group}' on '{source.name}': {'drained' if drained else 'NOT drained'}, "
                           f"{result.reason} ({result.samples} samples, {goal.describe()})")
    return StepReport("drain", ok, tuple(checked), "stop the source consumers, then run the commit step" if ok else
                      "let the consumers finish (or find why they stall), then run drain again")


async def commit(source: ClusterConfig, target: ClusterConfig, request: MigrateRequest) -> StepReport:
    refuse_read_only(target, "commit offsets on", "cutover.commit", request.target,
                     migration_parameters(source, request))
    with _audited("commit", source, target, request) as outcome:
        return _passed(outcome, await _commit(source, target, request))


async def _commit(source: ClusterConfig, target: ClusterConfig, request: MigrateRequest) -> StepReport:
    async with KafkaSession(source) as s, KafkaSession(target) as t:
        progress, ends, _plan = await _progress(s, t, request)
        behind = _lag(progress, ends)
        if behind:
            return StepReport("commit", False, (f"replication lag is {sum(behind.values()):,} records (partitions "
                                                f"{', '.join(map(str, sorted(behind)))})",),
                              "run the catch-up step first (with the source's producers stopped)")
        checked = ["replication lag is 0 (the checkpointed copy reaches every source last stable offset)"]
        commits = await commit_groups(s, t, request.source_topic, request.target, request.groups or (), progress,
                                      request.force, idle_source=True)
    for c in commits:
        shown = ", ".join(f"{p}:{o}" for p, o in sorted(c.offsets.items()))
        checked.append(f"group '{c.group}': " + (f"no active members on either side, not backwards, committed on "
                                                 f"'{target.name}' ({shown})" if c.committed else
                                                 f"NOT committed: {c.reason}"))
    ok = bool(commits) and all(c.committed for c in commits)
    if not commits:
        checked.append("no group has committed offsets on the source topic")
    return StepReport("commit", ok, tuple(checked), "run the switch step" if ok else "fix what is named, then commit "
                      "again")


async def switch(source: ClusterConfig, target: ClusterConfig, request: MigrateRequest) -> StepReport:
    with _audited("switch", source, target, request) as outcome:
        return _passed(outcome, await _switch(source, target, request))


async def _switch(source: ClusterConfig, target: ClusterConfig, request: MigrateRequest) -> StepReport:
    async with KafkaSession(source) as s, KafkaSession(target) as t:
        progress, ends, plan = await _progress(s, t, request)
        behind = _lag(progress, ends)
        checked = ["replication lag is 0" if not behind else
                   f"replication lag is {sum(behind.values()):,} records: records reached the source after the copy"]
        problems = checked[:] if behind else []
        for group in request.groups or ():
            wanted, _source = translate(
                {str(p): o for p, o in (await _source_offsets(s, group, request.source_topic)).items()}, progress)
            try:
                info = await describe_group(t, group)
                have = {p.partition: p.committed for p in info.partitions if p.topic == request.target}
            except NotFound:
                have = {}
            if wanted and all(have.get(p) == o for p, o in wanted.items()):
                checked.append(f"group '{group}' on '{target.name}' holds the translated offsets "
                               f"({', '.join(f'{p}:{o}' for p, o in sorted(wanted.items()))})")
            else:
                checked.append(f"group '{group}' on '{target.name}' does NOT hold the translated offsets: run commit")
                problems.append(checked[-1])
        if plan.get("configs_after") and not problems:  # the copy is over: records to come are the target's own
            await set_topic_configs(t, request.target, plan["configs_after"])
            checked.append(f"topic '{request.target}' set to {_settings(plan['configs_after'])} for the records to "
                           "come (the copied ones keep the source's append times)")
    servers = ",".join(target.bootstrap_servers)
    action = (f"switch consumers of {', '.join(request.groups or ()) or 'the migrated groups'} to cluster "
              f"'{target.name}' ({servers}), topic '{request.target}'; then producers of '{request.source_topic}' "
              f"to the same; keep '{source.name}/{request.source_topic}' untouched for a rollback")
    return StepReport("switch", not problems, tuple(checked),
                      "do not switch yet: " + "; ".join(problems) if problems else action)


def _settings(values: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items())


async def _source_offsets(session: KafkaSession, group: str, topic: str) -> dict[int, int]:
    try:
        info = await describe_group(session, group)
    except NotFound:
        return {}
    return {p.partition: p.committed for p in info.partitions if p.topic == topic and p.committed is not None}
