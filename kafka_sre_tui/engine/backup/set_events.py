"""What a backup set reports while it runs, and what it returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kafka_sre_tui.engine.jobs import Checkpointed, Progress, Retrying
from kafka_sre_tui.engine.storage.backup_set import SetManifest
from kafka_sre_tui.engine.storage.store import Location


@dataclass(frozen=True)
class TopicProgress:
    topic: str
    records: int
    bytes: int
    offsets_done: int
    offsets_total: int

    @property
    def done(self) -> bool:
        return self.offsets_done >= self.offsets_total


@dataclass(frozen=True, kw_only=True)
class SetProgress(Progress):
    """The whole set (every partition of every topic), and each topic on its own."""

    set_id: str
    topics: tuple[TopicProgress, ...]

    @property
    def topics_done(self) -> int:
        return sum(t.done for t in self.topics)


@dataclass(frozen=True)
class LinkSealed:
    """A continuous backup sealed a link: a recovery point. ``lag_records`` are the committed records
    the topics hold past it now; ``lag_seconds`` how long ago its end offsets were taken (0 when
    nothing waits): every record older than that is in a sealed link."""

    set_id: str
    link: int
    records: int
    lag_records: int | None  # None: the cluster did not answer just then
    lag_seconds: float | None
    notes: tuple[str, ...] = ()  # as SetResult.notes, for this link


@dataclass(frozen=True)
class SetResult:
    set_id: str  # the last link written (a continuous backup: the last sealed one)
    path: Location
    manifest: SetManifest
    links: tuple[str, ...]  # the links this run sealed, oldest first
    notes: tuple[str, ...] = ()  # what the operator should know: no parent found, lost ranges, new chains


SetEvent = SetProgress | LinkSealed | Checkpointed | Retrying
SetEmit = Callable[[SetEvent], None]


def ignore(_: SetEvent) -> None:
    return None
