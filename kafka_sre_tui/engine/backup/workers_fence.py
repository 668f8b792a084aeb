"""Fencing a partition's durable state between the workers of one group.

A partition's ``state.json`` (everything before ``next_offset`` is in its listed segments) names its
owner: ``{"worker": member id, "generation": group generation}``. A worker assigned the partition
*claims* it: it reads the state and its version, and writes it back with itself as owner, on the
condition that the version did not change (a compare-and-swap: an ``flock``-ed compare on disk, an
``If-Match: ETAG`` PUT on an object store). Every later checkpoint of that worker is a
compare-and-swap on the version it wrote last, so once another worker claimed the partition the old
owner's writes are refused (:class:`Fenced`): it can never commit offsets it read after losing it.
Every write of the owner doc also records when it was made (``checkpoint_at``, ISO 8601 UTC): how
:mod:`.workers_fleet` tells a worker that still checkpoints from a silent one.
A claim by an older generation than the recorded owner's is refused too (a worker delayed between
its assignment and its claim), unless that owner has left the group (the group was emptied and its
generations started again).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from kafka_sre_tui.engine.backup.partition import STATE_FILE, PartitionState
from kafka_sre_tui.engine.backup.plan import PartitionPlan
from kafka_sre_tui.engine.errors import KsreError
from kafka_sre_tui.engine.storage.store import Location

CLAIM_ATTEMPTS = 5

Now = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Fenced(KsreError):
    """Another worker owns this partition now: this worker's writes to it are refused."""


@dataclass(frozen=True)
class Owner:
    worker: str  # the group member id
    generation: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def stamped(self, now: Now) -> dict[str, Any]:
        """The owner doc of one write: who, in which generation, and when (``checkpoint_at``)."""
        return {**asdict(self), "checkpoint_at": now().astimezone(UTC).isoformat()}


def encode_state(doc: Any) -> bytes:
    return json.dumps(doc, indent=1, sort_keys=True).encode() + b"\n"


class FencedState:
    """``state.json`` of one partition as one owner writes it: each write replaces the version it last wrote."""

    def __init__(self, path: Location, owner: Owner, version: str, now: Now = _utc_now) -> None:
        self.path, self.owner, self.version, self.now = path, owner, version, now

    def save(self, path: Location, doc: Any) -> None:
        """The ``save_state`` of a :class:`PartitionBackup`: raises :class:`Fenced` once another owns it."""
        doc = {**doc, "owner": self.owner.stamped(self.now)}
        written = path.write_if(encode_state(doc), self.version)
        if written is None:
            raise Fenced(f"{path}: another worker of the group owns this partition now (this worker had it in "
                         f"generation {self.owner.generation}); its progress since then is dropped, not written")
        self.version = written


def read_state(folder: Location, plan: PartitionPlan) -> tuple[PartitionState, str | None]:
    """The partition's durable state and its version (a fresh state and None before any write)."""
    got = (folder / "partitions" / str(plan.partition) / STATE_FILE).read_versioned()
    if got is None:
        return PartitionState.fresh(plan), None
    return PartitionState.from_json(json.loads(got[0])), got[1]


def claim(folder: Location, plan: PartitionPlan, owner: Owner, in_group: Callable[[str], bool],
          now: Now = _utc_now) -> tuple[PartitionState, FencedState] | None:
    """Make ``owner`` the partition's owner; its durable state (where the new owner resumes), or None
    when a newer generation's owner, still in the group, holds it (this worker is the stale one)."""
    (folder / "partitions" / str(plan.partition)).make_dirs()
    path = folder / "partitions" / str(plan.partition) / STATE_FILE
    for _attempt in range(CLAIM_ATTEMPTS):
        state, version = read_state(folder, plan)
        before = state.owner
        if before is not None and before["generation"] > owner.generation and in_group(before["worker"]):
            return None
        state.owner = owner.stamped(now)
        written = path.write_if(encode_state(asdict(state)), version)
        if written is not None:
            return state, FencedState(path, owner, written, now)
    raise Fenced(f"{path}: could not claim the partition ({CLAIM_ATTEMPTS} writers raced); the group rebalances")
