"""The checks every write into a topic passes before its first record, shared by restore and
migration (the caller names where the records come from): the topic exists or will be created, the
replication factor fits the cluster, every record lands in a partition that exists and where its key
hashes, and the target partitions are empty unless --force. Pure: it judges facts gathered elsewhere."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kafka_sre_tui.engine.target.topic import TargetTopic

OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass(frozen=True)
class Check:
    name: str
    level: str  # ok, warn, fail
    message: str


@dataclass(frozen=True)
class Source:
    """Where the records come from, as the checks name it."""

    noun: str  # "the backup", "the source"
    partitions: int


@dataclass(frozen=True)
class Write:
    """What is asked of the target."""

    action: str  # "restore", "copy": the verb the messages use
    topic: str
    where: str  # "cluster 'prod'"
    create_topic: bool
    replication_factor: int  # when created
    create_configs: dict[str, str]
    pairs: Sequence[tuple[int, int]]  # (source partition, target partition)
    partition_map: bool  # the pairs come from --partition-map
    force: bool


def target_checks(target: TargetTopic, source: Source, write: Write) -> list[Check]:
    count = target.partitions if target.exists else source.partitions
    return [*_topic_checks(target, source, write, count), _partition_check(source, write, count),
            *([_empty_check(target, write)] if target.exists else [])]


def _topic_checks(target: TargetTopic, source: Source, write: Write, count: int) -> list[Check]:
    topic, where, rf = write.topic, write.where, write.replication_factor
    if target.exists:
        return [Check("topic", OK, f"topic '{topic}' exists on {where} with {count} partitions")]
    if not write.create_topic:
        return [Check("topic", FAIL, f"topic '{topic}' does not exist on {where}; add --create-topic to create it "
                                     f"with {source.noun}'s {source.partitions} partitions and configs")]
    shown = ", ".join(f"{k}={v}" for k, v in sorted(write.create_configs.items())) or "none"
    checks = [Check("topic", OK, f"topic '{topic}' will be created on {where} with {count} partitions, replication "
                                 f"factor {rf} and {source.noun}'s configs ({shown})")]
    if rf > target.brokers:
        checks.append(Check("replication", FAIL, f"replication factor {rf} needs {rf} brokers, {where} has "
                                                 f"{target.brokers}; pass --replication-factor {target.brokers} or "
                                                 "less"))
    return checks


def _partition_check(source: Source, write: Write, count: int) -> Check:
    outside = sorted(t for _s, t in write.pairs if t >= count)
    if outside:
        return Check("partitions", FAIL, f"topic '{write.topic}' has partitions 0-{count - 1}; partition(s) "
                                         f"{', '.join(map(str, outside))} do not exist there; add partitions to it "
                                         "or pass --partition-map")
    if write.partition_map:
        return Check("partitions", OK, "partitions mapped by --partition-map: "
                                       + ", ".join(f"{s}->{t}" for s, t in write.pairs))
    if count != source.partitions:
        return Check("partitions", FAIL, f"{source.noun} has {source.partitions} partitions, topic '{write.topic}' "
                                         f"has {count}: records would not land where their keys hash; say where "
                                         "each goes with --partition-map (e.g. 0:0,1:1)")
    return Check("partitions", OK, f"every record keeps its partition ({len(write.pairs)} of {count})")


def _empty_check(target: TargetTopic, write: Write) -> Check:
    holding = {t: target.latest.get(t, 0) - target.earliest.get(t, 0) for _s, t in write.pairs}
    full = {p: n for p, n in sorted(holding.items()) if n > 0}
    topic = write.topic
    if not full:
        return Check("empty", OK, f"the target partitions of '{topic}' hold no records")
    shown = ", ".join(f"partition {p}: {n:,}" for p, n in full.items())
    if write.force:
        return Check("empty", WARN, f"topic '{topic}' is not empty ({shown}); --force: the new records go after them")
    acting = write.action.removesuffix("e") + "ing"
    return Check("empty", FAIL, f"topic '{topic}' is not empty ({shown}); {acting} into it would mix records; "
                                f"{write.action} into a new topic (--target-topic) or pass --force")
