"""Preflight: everything a restore checks before it writes anything, and all that --dry-run does.
Pure: it judges facts gathered elsewhere (the backup's records, the target as it is now)."""

from __future__ import annotations

from dataclasses import dataclass, field

from kafka_sre_tui.engine.restore.plan import PartitionSelection, RestoreRequest
from kafka_sre_tui.engine.restore.scan import RangeStats
from kafka_sre_tui.engine.storage.manifest import Manifest
from kafka_sre_tui.engine.target.checks import FAIL, OK, WARN, Check, Source, Write, target_checks
from kafka_sre_tui.engine.target.topic import NOT_COPIED, TargetTopic

NO_LIMIT = 2**63 - 1
DAY_MS = 86_400_000


@dataclass(frozen=True)
class Preflight:
    cluster: str
    topic: str
    create: bool  # the restore creates the topic
    partitions: int  # the target's partition count (after creation)
    replication_factor: int | None  # when created
    create_configs: dict[str, str]
    selections: tuple[PartitionSelection, ...]
    stats: dict[int, RangeStats]
    checks: tuple[Check, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return all(c.level != FAIL for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.level == FAIL]

    @property
    def records(self) -> int:
        return sum(s.records for s in self.stats.values())

    @property
    def bytes(self) -> int:
        return sum(s.bytes for s in self.stats.values())


def evaluate(request: RestoreRequest, manifest: Manifest, selections: list[PartitionSelection],
             stats: dict[int, RangeStats], target: TargetTopic, cluster: str, read_only: bool, topic: str,
             now_ms: int) -> Preflight:
    checks: list[Check] = []
    add = checks.append
    backed_up = manifest.topic["partition_count"]
    rf = request.replication_factor or manifest.topic.get("replication_factor") or 1
    create = not target.exists
    create_configs = {k: v for k, v in manifest.topic.get("configs", {}).items() if k not in NOT_COPIED}
    if request.override_retention:
        create_configs["retention.ms"] = "-1"
    effective = target.configs if target.exists else {**target.configs, **create_configs}
    count = target.partitions if target.exists else backed_up

    add(Check("cluster", FAIL, f"cluster '{cluster}' is read_only in the config: restore writes nothing into it")
        if read_only else Check("cluster", OK, f"cluster '{cluster}' accepts writes"))
    records = sum(s.records for s in stats.values())
    add(Check("backup", OK, f"backup {manifest.backup_id} is intact; {records:,} records in range"))
    write = Write("restore", topic, f"cluster '{cluster}'", request.create_topic, rf, create_configs,
                  [(s.partition, s.target_partition) for s in selections], request.partition_map is not None,
                  request.force)
    checks.extend(target_checks(target, Source("the backup", backed_up), write))
    checks.extend(_record_checks(request, stats, effective, topic, now_ms, create))
    checks.extend(_group_checks(request, manifest))
    return Preflight(cluster, topic, create and request.create_topic, count, rf if create else None, create_configs,
                     tuple(selections), stats, tuple(checks))


def _config_int(configs: dict[str, str], key: str, default: int) -> int:
    try:
        return int(configs.get(key, default))
    except (TypeError, ValueError):
        return default


def _record_checks(request: RestoreRequest, stats: dict[int, RangeStats], configs: dict[str, str], topic: str,
                   now_ms: int, create: bool) -> list[Check]:
    checks = []
    largest = max((s.max_batch_bytes for s in stats.values()), default=0)
    limit = _config_int(configs, "max.message.bytes", 1048588)
    if largest > limit:
        checks.append(Check("max.message.bytes", FAIL, f"the largest record needs {largest:,} bytes, topic '{topic}' "
                                                       f"takes {limit:,}; raise its max.message.bytes"))
    else:
        checks.append(Check("max.message.bytes", OK, f"largest record {largest:,} bytes <= {limit:,}"))
    null_keys = sum(s.null_keys for s in stats.values())
    if "compact" in configs.get("cleanup.policy", "delete"):
        checks.append(Check("compaction", FAIL, f"topic '{topic}' is compacted and {null_keys:,} records have no key; "
                                                "the broker would refuse them") if null_keys else
                      Check("compaction", OK, "topic is compacted and every record has a key"))
    if request.new_timestamps:
        checks.append(Check("timestamps", WARN, "--new-timestamps: records get the time of writing, not theirs"))
        return checks
    lows = [s.min_timestamp for s in stats.values() if s.min_timestamp is not None]
    highs = [s.max_timestamp for s in stats.values() if s.max_timestamp is not None]
    deferred = configs.get("message.timestamp.type") == "LogAppendTime" and create
    if configs.get("message.timestamp.type") == "LogAppendTime" and not create:
        checks.append(Check("timestamps", WARN, f"topic '{topic}' uses LogAppendTime: the broker stamps records with "
                                                "the time of writing; to keep theirs, use a target with "
                                                "message.timestamp.type=CreateTime, or a new topic (--create-topic)"))
        return checks
    after = _config_int(configs, "message.timestamp.after.max.ms", NO_LIMIT)
    before = _config_int(configs, "message.timestamp.before.max.ms", NO_LIMIT)
    if highs and after < NO_LIMIT and max(highs) > now_ms + after:
        checks.append(Check("timestamps", FAIL, f"records are stamped up to {(max(highs) - now_ms) / DAY_MS:,.1f} "
                                                f"days ahead; topic '{topic}' refuses more than "
                                                f"message.timestamp.after.max.ms={after}; raise it or use "
                                                "--new-timestamps"))
    elif lows and before < NO_LIMIT and min(lows) < now_ms - before:
        checks.append(Check("timestamps", FAIL, f"records are stamped {(now_ms - min(lows)) / DAY_MS:,.1f} days ago; "
                                                f"topic '{topic}' refuses more than message.timestamp.before.max.ms="
                                                f"{before}; raise it or use --new-timestamps"))
    elif deferred:
        checks.append(Check("timestamps", OK, f"topic '{topic}' will use LogAppendTime: it is created with CreateTime "
                                              "so every record keeps its time (the source broker's append time), "
                                              "and set to LogAppendTime once every record is written"))
    else:
        checks.append(Check("timestamps", OK, "every record keeps its timestamp (CreateTime)"))
    retention = _config_int(configs, "retention.ms", -1)
    old = retention >= 0 and lows and min(lows) < now_ms - retention
    if old:
        way_out = ("add --override-retention (creates the topic with retention.ms=-1)" if create else
                   f"raise retention.ms of '{topic}' first (kafka-configs --alter --add-config retention.ms=-1)")
        checks.append(Check("retention", WARN, f"the oldest records are {(now_ms - min(lows)) / DAY_MS:,.1f} days "
                                               f"old, retention.ms={retention} keeps {retention / DAY_MS:,.1f} days: "
                                               f"the broker would delete them soon after writing; {way_out}, or "
                                               "--new-timestamps if their original time does not matter"))
    else:
        checks.append(Check("retention", OK, "retention keeps every record" if retention < 0 else
                            f"retention.ms={retention} keeps every record's timestamp"))
    return checks


def _group_checks(request: RestoreRequest, manifest: Manifest) -> list[Check]:
    if request.restore_consumer_offsets is None:
        return []
    groups = manifest.consumer_groups
    unknown = [g for g in request.restore_consumer_offsets if g not in groups]
    if unknown:
        return [Check("groups", FAIL, f"group(s) {', '.join(unknown)} have no offsets in the backup (it has: "
                                      f"{', '.join(sorted(groups)) or 'none'})")]
    wanted = request.restore_consumer_offsets or tuple(sorted(groups))
    return [Check("groups", OK, f"offsets of {len(wanted)} group(s) will be translated: {', '.join(wanted)}"
                  if wanted else "the backup holds no consumer group offsets")]
