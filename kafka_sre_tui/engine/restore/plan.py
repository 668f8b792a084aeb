"""What a restore will write: the request, and each partition's source range and target partition."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kafka_sre_tui.engine.errors import ConfigError
from kafka_sre_tui.engine.input_checks import (
    check_partition_number,
    check_range,
    check_rate,
    check_replication_factor,
    check_seconds,
    check_topic_name,
)
from kafka_sre_tui.engine.storage.encryption import EncryptionKey
from kafka_sre_tui.engine.storage.manifest import Manifest, PartitionManifest
from kafka_sre_tui.engine.storage.reader import iter_records
from kafka_sre_tui.engine.storage.store import Location, open_location


@dataclass(frozen=True)
class RestoreRequest:
    backup_base: Location | Path
    backup_id: str
    target_topic: str | None = None  # default: the backed-up topic's name
    partitions: tuple[int, ...] | None = None  # source partitions; default all in the backup
    from_offset: int | None = None
    to_offset: int | None = None  # inclusive
    from_time_ms: int | None = None
    to_time_ms: int | None = None  # inclusive
    dry_run: bool = False
    rate_limit_mb_s: float | None = None
    create_topic: bool = False
    replication_factor: int | None = None
    partition_map: dict[int, int] | None = None  # source partition -> target partition
    restore_consumer_offsets: tuple[str, ...] | None = None  # None: no; (): every backed-up group
    force: bool = False
    override_retention: bool = False  # create the topic with retention.ms=-1
    new_timestamps: bool = False  # stamp records with the time of writing instead of theirs
    resume: bool = False
    checkpoint_seconds: float = 1.0
    state_dir: Path | None = None  # default: <backup_base>/.restores, for a bucket a local state directory
    compression: str | None = None  # producer compression
    encryption_key: EncryptionKey | None = None  # for an encrypted backup

    @property
    def states_base(self) -> Path:
        if self.state_dir is not None:
            return self.state_dir
        local = open_location(self.backup_base).local_dir()
        if local is not None:
            return local / ".restores"
        return Path(os.environ.get("XDG_STATE_HOME") or "~/.local/state").expanduser() / "kafka-sre-tui" / "restores"


@dataclass(frozen=True)
class PartitionSelection:
    partition: int  # in the backup
    target_partition: int
    start: int  # first source offset
    end: int  # exclusive

    def to_json(self) -> dict[str, int]:
        return asdict(self)


def validate_request(request: RestoreRequest) -> None:
    offsets = request.from_offset is not None or request.to_offset is not None
    times = request.from_time_ms is not None or request.to_time_ms is not None
    if offsets and times:
        raise ConfigError("give either --from-offset/--to-offset or --from-time/--to-time, not both")
    check_range(request.from_offset, request.to_offset, request.from_time_ms, request.to_time_ms)
    check_seconds("--checkpoint-seconds", request.checkpoint_seconds)
    if request.target_topic is not None:
        check_topic_name(request.target_topic, "--target-topic")
    if request.rate_limit_mb_s is not None:
        check_rate("--rate-limit", request.rate_limit_mb_s)
    if request.resume and request.dry_run:  # a resume writes at once: it has no dry run to offer
        raise ConfigError("--dry-run cannot be combined with --resume: run the dry run without --resume to see "
                          "the preflight, then --resume to continue writing")
    if request.replication_factor is not None:
        check_replication_factor(request.replication_factor)
    if request.partition_map:
        targets = list(request.partition_map.values())
        if len(set(targets)) != len(targets):
            raise ConfigError("--partition-map must send each partition to its own target partition "
                              f"(got {_map_text(request.partition_map)}): merging partitions would mix their order")
        if not all(check_partition_number(p) for pair in request.partition_map.items() for p in pair):
            raise ConfigError(f"--partition-map takes partition numbers from 0 to 2147483647, got "
                              f"{_map_text(request.partition_map)}")


def _map_text(mapping: dict[int, int]) -> str:
    return ",".join(f"{s}:{t}" for s, t in mapping.items())


def select(folder: Location, manifest: Manifest, request: RestoreRequest) -> list[PartitionSelection]:
    """Each restored partition's source range [start, end) and target partition. A time range works
    like Kafka's offsets-for-times: from the first record stamped at or after --from-time, up to
    (not including) the first record stamped after --to-time."""
    in_backup = {p.partition: p for p in manifest.partitions}
    wanted = request.partitions if request.partitions is not None else tuple(sorted(in_backup))
    missing = [p for p in wanted if p not in in_backup]
    if missing:
        raise ConfigError(f"backup {manifest.backup_id} holds partitions {_list(in_backup)}; "
                          f"partition(s) {_list(missing)} are not in it")
    mapping = request.partition_map
    if mapping is not None:
        unmapped = [p for p in wanted if p not in mapping]
        if unmapped:
            raise ConfigError(f"--partition-map does not say where partition(s) {_list(unmapped)} go; "
                              "add them (e.g. 0:0,1:1) or restrict --partitions")
    result = []
    for p in wanted:
        part = in_backup[p]
        start, end = part.start_offset, part.end_offset
        if request.from_offset is not None:
            start = max(start, request.from_offset)
        if request.to_offset is not None:
            end = min(end, request.to_offset + 1)
        if request.from_time_ms is not None or request.to_time_ms is not None:
            start, end = _time_range(folder, part, request.from_time_ms, request.to_time_ms)
        target = mapping[p] if mapping is not None else p
        result.append(PartitionSelection(p, target, min(start, end), end))
    return result


def _list(items: Any) -> str:
    return ", ".join(map(str, sorted(items)))


def _time_range(folder: Location, part: PartitionManifest, from_ms: int | None, to_ms: int | None) -> tuple[int, int]:
    start = part.start_offset if from_ms is None else None
    end = None
    for record in iter_records(folder, part):
        if start is None and record.timestamp >= from_ms:  # type: ignore[operator]
            start = record.offset
        if to_ms is not None and end is None and record.timestamp > to_ms:
            end = record.offset
        if start is not None and (end is not None or to_ms is None):
            break
    return (part.end_offset if start is None else start), (part.end_offset if end is None else end)


def parse_partition_map(text: str) -> dict[int, int]:
    """``0:1,1:0`` -> {0: 1, 1: 0}."""
    try:
        pairs = [item.split(":") for item in text.split(",") if item.strip()]
        mapping = {int(s): int(t) for s, t in pairs}
    except ValueError:
        raise ConfigError(f"--partition-map takes SOURCE:TARGET pairs like 0:1,1:0; got '{text}'") from None
    if len(mapping) != len(pairs):
        raise ConfigError(f"--partition-map names a source partition twice: '{text}'")
    if not all(check_partition_number(p) for pair in mapping.items() for p in pair):
        raise ConfigError(f"--partition-map takes partition numbers from 0 to 2147483647; got '{text}'")
    return mapping
