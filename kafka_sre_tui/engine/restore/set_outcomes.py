"""A set restore's figures: overall progress from its members' restores, and each topic's partitions
over all its links (one offset map per partition, for the groups)."""

from __future__ import annotations

import time
from typing import Any

from kafka_sre_tui.engine.kafka.offset_map import OffsetMap
from kafka_sre_tui.engine.restore.events import Emit, PartitionOutcome, RestoreEvent, RestoreMetrics, RestoreProgress
from kafka_sre_tui.engine.restore.plan import PartitionSelection
from kafka_sre_tui.engine.restore.preflight import Preflight
from kafka_sre_tui.engine.restore.set_events import SetEmit, SetPartitionOutcome, SetRestoreProgress
from kafka_sre_tui.engine.restore.state import PartitionProgress


def merged_partitions(outcomes: list[PartitionOutcome]) -> tuple[list[SetPartitionOutcome], list[PartitionProgress]]:
    """Each partition over the links (``outcomes`` oldest link first): where it starts and ends on the
    target and one offset map; and the same as restore progress, which the group committer takes."""
    by_partition: dict[int, list[PartitionOutcome]] = {}
    for o in outcomes:
        by_partition.setdefault(o.partition, []).append(o)
    merged, progress = [], []
    for partition, parts in sorted(by_partition.items()):
        offsets = OffsetMap()
        for o in parts:
            for run in o.offset_map:
                offsets.add(*run)
        first, last = parts[0], parts[-1]
        start, end = first.target_start, last.target_start + last.records
        merged.append(SetPartitionOutcome(partition, start, end, sum(o.records for o in parts),
                                          sum(o.skipped_on_resume for o in parts), tuple(offsets.runs)))
        selection = PartitionSelection(partition, first.target_partition, first.source_start, last.source_end)
        progress.append(PartitionProgress(selection, start, last.source_end, end - start, offsets, True))
    return merged, progress


class OverallProgress:
    """Turns the progress of the member restores running now into the set's: this run's records and
    bytes and the offsets done over every topic, and the topic that reported."""

    def __init__(self, plan: dict[str, Any], emit: SetEmit) -> None:
        self.set_id, self.emit = plan["set_id"], emit
        self.topic_totals = {t["target"]: sum(m["offsets"] for m in t["members"]) for t in plan["topics"]}
        self.total = sum(self.topic_totals.values())
        self.topics_total = len(plan["topics"])
        self.done = self.records = self.bytes = self.topics_done = self.skipped = 0
        self.topic_done: dict[str, int] = {}
        self.live: dict[str, RestoreProgress] = {}  # target topic -> its member restore's latest progress
        self.started = time.monotonic()

    def member_emit(self, topic: str) -> Emit:
        def emit(event: RestoreEvent) -> None:
            if isinstance(event, RestoreProgress):
                self.live[topic] = event
                self._progress(topic)
            elif not isinstance(event, Preflight):  # the set's preflight was shown; resumes, retries pass on
                self.emit(event)
        return emit

    def _progress(self, topic: str) -> None:
        live = list(self.live.values())
        event = self.live[topic]
        topic_total = self.topic_totals.get(topic, 0)
        topic_done = self.topic_done.get(topic, 0) + event.offsets_done
        self.emit(SetRestoreProgress(
            records=self.records + sum(e.records for e in live), bytes=self.bytes + sum(e.bytes for e in live),
            elapsed_seconds=time.monotonic() - self.started,
            offsets_done=self.done + sum(e.offsets_done for e in live), offsets_total=self.total,
            partitions_done=event.partitions_done, partitions_total=event.partitions_total, set_id=self.set_id,
            topic=topic, topic_fraction=topic_done / topic_total if topic_total else 1.0,
            topics_done=self.topics_done, topics_total=self.topics_total))

    def member_done(self, topic: str, offsets: int, metrics: RestoreMetrics | None) -> None:
        self.live.pop(topic, None)
        self.done += offsets
        self.topic_done[topic] = self.topic_done.get(topic, 0) + offsets
        if metrics is not None:
            self.records += metrics.messages
            self.bytes += metrics.bytes_written
            self.skipped += metrics.skipped_on_resume

    def topic_finished(self) -> None:
        self.topics_done += 1

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started
