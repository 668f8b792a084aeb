"""A restore's durable progress: what it writes where, and per partition how far it got.

``<states>/<backup id>/<target cluster id>/<target topic>/``: ``restore.json`` (the plan, written
before the first record), ``partitions/<p>.json`` (checkpoints: source position, target start
offset, records written, the offset map) and ``.lock`` (an flock: one restore per target at once;
a killed process releases it). Every file is replaced atomically (tmp, fsync, rename).
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kafka_sre_tui.engine.errors import KsreError
from kafka_sre_tui.engine.kafka.offset_map import OffsetMap
from kafka_sre_tui.engine.restore.plan import PartitionSelection
from kafka_sre_tui.engine.storage.files import make_private_dir, open_private, read_json, write_json_atomic

PLAN = "restore.json"
LOCK = ".lock"


@dataclass
class PartitionProgress:
    selection: PartitionSelection
    target_start: int  # the target partition's end offset before this restore wrote anything
    source_position: int  # next source offset to write
    written: int = 0
    map: OffsetMap = field(default_factory=OffsetMap)
    done: bool = False
    skipped_on_resume: int = 0  # records a killed run had written after its last checkpoint

    @classmethod
    def fresh(cls, selection: PartitionSelection, target_start: int) -> PartitionProgress:
        return cls(selection, target_start, selection.start, done=selection.start >= selection.end)

    @property
    def target_next(self) -> int:
        return self.target_start + self.written

    def record_written(self, source_offsets: list[int], target_base: int) -> None:
        self.map.add_offsets(source_offsets, target_base)
        self.written += len(source_offsets)
        self.source_position = source_offsets[-1] + 1

    def to_json(self) -> dict[str, Any]:
        return {"selection": self.selection.to_json(), "target_start": self.target_start,
                "source_position": self.source_position, "written": self.written, "map": self.map.to_json(),
                "done": self.done, "skipped_on_resume": self.skipped_on_resume}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> PartitionProgress:
        return cls(PartitionSelection(**doc["selection"]), doc["target_start"], doc["source_position"],
                   doc["written"], OffsetMap.from_json(doc["map"]), doc["done"], doc.get("skipped_on_resume", 0))


def state_dir(base: Path, backup_id: str, cluster_id: str | None, topic: str) -> Path:
    return base / backup_id / (cluster_id or "unknown-cluster") / topic


def _partition_file(folder: Path, partition: int) -> Path:
    return folder / "partitions" / f"{partition}.json"


def save_plan(folder: Path, plan: dict[str, Any]) -> None:
    write_json_atomic(folder / PLAN, plan)


def load_plan(folder: Path) -> dict[str, Any] | None:
    path = folder / PLAN
    return read_json(path) if path.exists() else None


def save_partition(folder: Path, doc: dict[str, Any]) -> None:
    write_json_atomic(_partition_file(folder, doc["selection"]["partition"]), doc)


def load_partitions(folder: Path, partitions: list[int]) -> list[PartitionProgress]:
    missing = [p for p in partitions if not _partition_file(folder, p).exists()]
    if missing:
        raise KsreError(f"restore state in {folder} lacks partition(s) {', '.join(map(str, missing))}; it is "
                        "damaged: restore into a new topic instead")
    return [PartitionProgress.from_json(read_json(_partition_file(folder, p))) for p in partitions]


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold the target's lock: two restores into one topic at once would interleave their records."""
    make_private_dir(folder / "partitions")
    with open_private(folder / LOCK, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise KsreError(f"another restore or migration is writing into this target right now "
                            f"(lock {folder / LOCK})") from None
        yield
