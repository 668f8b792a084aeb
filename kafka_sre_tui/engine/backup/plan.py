"""What a backup will hold, decided once at start and saved, so a resumed backup ends where the
first run would have: the snapshot's end offsets, the topic's metadata and its groups' offsets."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kafka_sre_tui.engine.errors import ConfigError
from kafka_sre_tui.engine.input_checks import check_count, check_range, check_rate, check_seconds, check_topic_name
from kafka_sre_tui.engine.inspect.cluster import describe_cluster, list_topics
from kafka_sre_tui.engine.inspect.groups import committed_offsets_for_topic
from kafka_sre_tui.engine.kafka.offsets import EARLIEST, LATEST, READ_COMMITTED, list_offsets
from kafka_sre_tui.engine.kafka.protocol import TopicIds, topic_id_text
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.models import TopicPartition
from kafka_sre_tui.engine.storage.codecs import codec
from kafka_sre_tui.engine.storage.encryption import EncryptionKey

if TYPE_CHECKING:
    from kafka_sre_tui.engine.storage.store import Location


@dataclass(frozen=True)
class BackupRequest:
    topic: str
    base_path: Location | Path  # a local Path is opened as a LocalDir
    compression: str = "zstd"
    level: int | None = None
    partitions: tuple[int, ...] | None = None
    from_offset: int | None = None
    to_offset: int | None = None  # inclusive
    from_time_ms: int | None = None
    to_time_ms: int | None = None  # inclusive
    max_messages: int | None = None  # per partition
    max_concurrent_backups: int = 2
    checkpoint_seconds: float = 5.0
    rate_limit_mb_s: float | None = None
    fetch_max_bytes: int = 32 << 20
    partition_fetch_max_bytes: int = 8 << 20
    encryption_key: EncryptionKey | None = None  # AES-256-GCM per block when set


@dataclass(frozen=True)
class PartitionPlan:
    partition: int
    start_offset: int
    end_offset: int  # exclusive
    log_start_offset: int


@dataclass(frozen=True)
class BackupPlan:
    backup_id: str
    created_at: str
    source: dict[str, Any]
    topic: dict[str, Any]
    selection: dict[str, Any]
    compression: dict[str, Any]
    partitions: tuple[PartitionPlan, ...]
    consumer_groups: dict[str, dict[str, int]] = field(default_factory=dict)
    encryption: dict[str, Any] | None = None  # {"algorithm", "key_id"}: never the key

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> BackupPlan:
        return cls(**{**doc, "partitions": tuple(PartitionPlan(**p) for p in doc["partitions"])})

    @property
    def max_messages(self) -> int | None:
        value = self.selection.get("max_messages")
        return int(value) if value is not None else None


def validate_request(request: BackupRequest) -> None:
    codec(request.compression, request.level)  # raises ConfigError with the way out
    if request.from_offset is not None and request.from_time_ms is not None:
        raise ConfigError("give either --from-offset/--to-offset or --from-time/--to-time, not both")
    if (request.to_offset is not None and request.from_time_ms is not None) or (
            request.to_time_ms is not None and request.from_offset is not None):
        raise ConfigError("give either --from-offset/--to-offset or --from-time/--to-time, not both")
    if request.rate_limit_mb_s is not None:
        check_rate("--rate-limit", request.rate_limit_mb_s)
    if request.max_messages is not None:
        check_count("--max-messages", request.max_messages)
    check_topic_name(request.topic)
    check_range(request.from_offset, request.to_offset, request.from_time_ms, request.to_time_ms)
    check_seconds("--checkpoint-seconds", request.checkpoint_seconds)


async def make_plan(session: KafkaSession, request: BackupRequest, backup_id: str, now: datetime) -> BackupPlan:
    validate_request(request)
    [topic] = await list_topics(session, names=[request.topic], include_internal=True, with_offsets=False,
                                with_configs=True)
    count = len(topic.partitions)
    wanted = request.partitions if request.partitions is not None else tuple(range(count))
    missing = [p for p in wanted if not 0 <= p < count]
    if missing:
        raise ConfigError(f"topic '{request.topic}' has partitions 0-{count - 1}; partition(s) "
                          f"{', '.join(map(str, missing))} do not exist")
    leaders = {TopicPartition(request.topic, p.partition): p.leader for p in topic.partitions
               if p.partition in wanted}
    earliest = await list_offsets(session, leaders, EARLIEST)
    stable = await list_offsets(session, leaders, LATEST, READ_COMMITTED)  # the snapshot's end
    start_at = end_at = {}
    if request.from_time_ms is not None:
        start_at = await list_offsets(session, leaders, request.from_time_ms)
    if request.to_time_ms is not None:
        end_at = await list_offsets(session, leaders, request.to_time_ms + 1)
    parts = []
    for tp in sorted(leaders):
        if tp not in earliest or tp not in stable:
            raise ConfigError(f"partition {tp.partition} of '{tp.topic}' has no leader now; retry when it has")
        low, end = earliest[tp], stable[tp]
        start = max(low, request.from_offset if request.from_offset is not None else low)
        if request.to_offset is not None:
            end = min(end, request.to_offset + 1)
        if request.from_time_ms is not None:
            start = max(low, start_at.get(tp, end))
        if request.to_time_ms is not None:
            end = min(end, end_at.get(tp, end))
        parts.append(PartitionPlan(tp.partition, min(start, end), end, low))
    overview = await describe_cluster(session)
    found_id = await topic_id(session, request.topic)
    groups = await committed_offsets_for_topic(session, request.topic)
    codec_obj, level = codec(request.compression, request.level)
    return BackupPlan(
        backup_id=backup_id,
        created_at=now.isoformat(),
        source={"cluster_name": session.cluster.name, "bootstrap_servers": list(session.cluster.bootstrap_servers),
                "cluster_id": overview.cluster_id},
        topic={"name": topic.name, "partition_count": count, "replication_factor": topic.replication_factor,
               "configs": topic.configs, "topic_id": found_id},
        selection={"partitions": list(wanted), "from_offset": request.from_offset, "to_offset": request.to_offset,
                   "from_time_ms": request.from_time_ms, "to_time_ms": request.to_time_ms,
                   "max_messages": request.max_messages},
        compression={"codec": codec_obj.name, "level": level},
        partitions=tuple(parts),
        consumer_groups={g: {str(p): o for p, o in offsets.items()} for g, offsets in groups.items()},
        encryption=request.encryption_key.describe() if request.encryption_key else None,
    )


async def topic_id(session: KafkaSession, topic: str) -> str | None:
    """The topic's id (it changes when the topic is deleted and created again); None if it is gone."""
    response = await session.send(session.broker_ids()[0], TopicIds([topic]), f"reading the id of topic '{topic}'")
    return next((topic_id_text(t[2]) for t in response.topics if t[1] == topic and not t[0]), None)
