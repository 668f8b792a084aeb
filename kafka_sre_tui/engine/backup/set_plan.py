"""What a backup set will hold, decided once at its start and saved (``set-plan.json``, plus one
``backup.json`` per member), so a resumed set ends where the first run would have: the selected
topics, each partition's range (from its parent link's end for an incremental link), the ranges
retention deleted since the parent, and the committed offsets of every group on those topics."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kafka_sre_tui.engine.backup.plan import BackupPlan, PartitionPlan
from kafka_sre_tui.engine.errors import ConfigError
from kafka_sre_tui.engine.input_checks import check_rate, check_seconds
from kafka_sre_tui.engine.inspect.cluster import describe_cluster, list_topics
from kafka_sre_tui.engine.inspect.groups import committed_offsets_for_topics
from kafka_sre_tui.engine.kafka.offsets import EARLIEST, LATEST, READ_COMMITTED, list_offsets
from kafka_sre_tui.engine.kafka.protocol import TopicIds, topic_id_text
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.models import TopicPartition
from kafka_sre_tui.engine.storage.backup_set import FULL, INCREMENTAL, SetManifest, select_topics
from kafka_sre_tui.engine.storage.codecs import codec
from kafka_sre_tui.engine.storage.encryption import EncryptionKey
from kafka_sre_tui.engine.storage.layout import new_backup_id

if TYPE_CHECKING:
    from kafka_sre_tui.engine.storage.store import Location


@dataclass(frozen=True)
class SetRequest:
    base_path: Location | Path
    topics: tuple[str, ...] = ()  # shell-style patterns
    exclude: tuple[str, ...] = ()
    all_topics: bool = False
    name: str = "set"
    compression: str = "zstd"
    level: int | None = None
    incremental: bool = False  # parent: the newest complete set of the same selection
    incremental_from: str | None = None
    continuous: bool = False
    roll_seconds: float = 60.0
    roll_bytes: int | None = None
    max_concurrent_backups: int = 2
    checkpoint_seconds: float = 5.0
    rate_limit_mb_s: float | None = None
    encryption_key: EncryptionKey | None = None

    @property
    def selection(self) -> dict[str, Any]:
        return {"topics": list(self.topics), "exclude": list(self.exclude), "all_topics": self.all_topics,
                "continuous": self.continuous}


@dataclass(frozen=True)
class MemberPlan:
    member_id: str
    topic: str
    chain_start: bool
    note: str | None
    lost: dict[str, list[int]] = field(default_factory=dict)  # partition -> [from, to) deleted since the parent


@dataclass(frozen=True)
class SetPlan:
    set_id: str
    created_at: str
    source: dict[str, Any]
    selection: dict[str, Any]
    compression: dict[str, Any]
    kind: str
    chain: dict[str, Any]
    consumer_groups: dict[str, dict[str, dict[str, int]]]
    members: tuple[MemberPlan, ...]
    encryption: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> SetPlan:
        return cls(**{**doc, "members": tuple(MemberPlan(**m) for m in doc["members"])})


def validate_set_request(request: SetRequest) -> None:
    codec(request.compression, request.level)
    if not request.topics and not request.all_topics:
        raise ConfigError("a backup set needs --topics PATTERNS or --all-topics")
    if request.incremental and request.incremental_from:
        raise ConfigError("give either --incremental or --incremental-from SET_ID, not both")
    if any(not p.strip() for p in request.topics + request.exclude):
        raise ConfigError("--topics/--exclude: an empty pattern; separate patterns with commas, e.g. 'orders-*,pay'")
    if request.rate_limit_mb_s is not None:
        check_rate("--rate-limit", request.rate_limit_mb_s)
    check_seconds("--checkpoint-seconds", request.checkpoint_seconds)
    check_seconds("--roll-seconds", request.roll_seconds)
    if request.roll_bytes is not None and request.roll_bytes <= 0:
        raise ConfigError(f"--roll-bytes {request.roll_bytes}: give a positive number of bytes")


def describe_selection(request: SetRequest) -> str:
    chosen = "every topic" if request.all_topics else f"--topics '{','.join(request.topics)}'"
    return chosen + (f" --exclude '{','.join(request.exclude)}'" if request.exclude else "")


async def make_set_plan(session: KafkaSession, request: SetRequest, set_id: str, started: datetime,
                        parent: SetManifest | None) -> tuple[SetPlan, list[BackupPlan]]:
    """The set's plan and one ordinary backup plan per member topic; bad input fails here, before
    any file is written."""
    validate_set_request(request)
    meta = await session.metadata_object(None)
    names = select_topics([t["topic"] for t in meta["topics"] if not t["error_code"]], request.topics,
                          request.exclude, request.all_topics)
    if not names:
        raise ConfigError(f"no topic matches {describe_selection(request)}; list the topics with: "
                          "kafka-sre-tui topics")
    overview = await describe_cluster(session)
    if parent is not None and parent.source.get("cluster_id") != overview.cluster_id:
        raise ConfigError(f"set {parent.set_id} was taken from cluster id {parent.source.get('cluster_id')}, not "
                          f"{overview.cluster_id}: an incremental link continues a set of the same cluster")
    topics = await list_topics(session, names=names, include_internal=True, with_offsets=False, with_configs=True)
    leaders = {TopicPartition(t.name, p.partition): p.leader for t in topics for p in t.partitions}
    earliest = await list_offsets(session, leaders, EARLIEST)
    stable = await list_offsets(session, leaders, LATEST, READ_COMMITTED)  # the snapshot's end
    ids = await topic_ids(session, names)
    groups = await committed_offsets_for_topics(session, names)
    codec_obj, level = codec(request.compression, request.level)
    source = {"cluster_name": session.cluster.name, "bootstrap_servers": list(session.cluster.bootstrap_servers),
              "cluster_id": overview.cluster_id}
    encryption = request.encryption_key.describe() if request.encryption_key else None
    members, plans = [], []
    for topic in topics:
        member_id = new_backup_id(topic.name, started)
        topic_doc = {"name": topic.name, "partition_count": len(topic.partitions),
                     "replication_factor": topic.replication_factor, "configs": topic.configs,
                     "topic_id": ids.get(topic.name)}
        before = parent.member(topic.name) if parent is not None else None
        chain_start, note = _chain_start(parent is not None, before.topic.get("topic_id") if before else None,
                                         before is not None, ids.get(topic.name))
        ends = {p.partition: p.end_offset for p in before.partitions} if before and not chain_start else {}
        parts, lost = [], {}
        for p in sorted(topic.partitions, key=lambda p: p.partition):
            tp = TopicPartition(topic.name, p.partition)
            if tp not in earliest or tp not in stable:
                raise ConfigError(f"partition {p.partition} of '{topic.name}' has no leader now; retry when it has")
            low, end = earliest[tp], stable[tp]
            start = low
            if p.partition in ends:
                start = max(ends[p.partition], low)
                if low > ends[p.partition]:
                    lost[str(p.partition)] = [ends[p.partition], low]
            parts.append(PartitionPlan(p.partition, min(start, end), end, low))
        members.append(MemberPlan(member_id, topic.name, chain_start, note, lost))
        plans.append(BackupPlan(
            backup_id=member_id, created_at=started.isoformat(), source=source, topic=topic_doc,
            selection={"partitions": [p.partition for p in parts], "from_offset": None, "to_offset": None,
                       "from_time_ms": None, "to_time_ms": None, "max_messages": None},
            compression={"codec": codec_obj.name, "level": level}, partitions=tuple(parts),
            consumer_groups={g: {str(p): o for p, o in on[topic.name].items()}
                             for g, on in groups.items() if topic.name in on},
            encryption=encryption))
    chain = ({"base": set_id, "parent": None, "link": 0} if parent is None else
             {"base": parent.chain["base"], "parent": parent.set_id, "link": int(parent.chain["link"]) + 1})
    plan = SetPlan(
        set_id=set_id, created_at=started.isoformat(), source=source, selection=request.selection,
        compression={"codec": codec_obj.name, "level": level}, kind=FULL if parent is None else INCREMENTAL,
        chain=chain, consumer_groups={g: {t: {str(p): o for p, o in parts_.items()} for t, parts_ in on.items()}
                                      for g, on in groups.items()},
        members=tuple(members), encryption=encryption)
    return plan, plans


def _chain_start(has_parent: bool, before: str | None, in_parent: bool, now: str | None) -> tuple[bool, str | None]:
    """Whether a topic's chain starts in this link, and why when it starts again."""
    if not has_parent:
        return True, None
    if not in_parent:
        return True, "new topic since the parent link"
    if before is not None and before != now:
        return True, f"topic recreated (id {before} -> {now})"
    return False, None


async def topic_ids(session: KafkaSession, names: list[str]) -> dict[str, str | None]:
    """Each topic's id (it changes when a topic is deleted and created again), in one request."""
    response = await session.send(session.broker_ids()[0], TopicIds(names), "reading topic ids")
    return {t[1]: topic_id_text(t[2]) for t in response.topics if not t[0]}
