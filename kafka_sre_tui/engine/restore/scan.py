"""What the records a restore will write look like (sizes, keys, timestamps), for the preflight checks.

Gathered while the backup is verified: verify hands every block it has checked to the partition's
:class:`RangeScanner`, so a restore reads the backup twice (verify with this scan, then the write),
not three times. The scan decodes the records in range (holding the GIL) while the other verify
thread hashes and decompresses (which do not)."""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder

from kafka_sre_tui.engine.kafka.batches import split_batches
from kafka_sre_tui.engine.restore.plan import PartitionSelection
from kafka_sre_tui.engine.storage.manifest import PartitionManifest
from kafka_sre_tui.engine.storage.reader import bounds


@dataclass(frozen=True)
class RangeStats:
    """The records a partition's selection holds, as the preflight needs them."""

    records: int = 0
    bytes: int = 0
    null_keys: int = 0
    min_timestamp: int | None = None
    max_timestamp: int | None = None
    max_batch_bytes: int = 0  # the largest record as a batch of one
    log_append_time: int = 0  # records the source stamped with LogAppendTime


class RangeScanner:
    """Accumulates :class:`RangeStats` of one partition's selected range from its blocks, in order."""

    def __init__(self, part: PartitionManifest, selection: PartitionSelection) -> None:
        self.lo, self.hi = bounds(part, selection.start, selection.end)
        self.records = self.bytes = self.null_keys = self.largest = self.log_append = 0
        self.low: int | None = None
        self.high: int | None = None

    def add_block(self, raw: bytes) -> None:
        lo, hi = self.lo, self.hi
        estimate = DefaultRecordBatchBuilder.estimate_size_in_bytes
        for header, view in split_batches(raw):
            if header.last_offset < lo or header.base_offset >= hi:
                continue
            whole = lo <= header.base_offset and header.last_offset < hi
            appended = header.log_append_time
            for r in DefaultRecordBatch(view):
                if not whole and not lo <= r.offset < hi:
                    continue
                key, value, headers, stamp = r.key, r.value, r.headers, r.timestamp
                self.records += 1
                self.bytes += len(key or b"") + len(value or b"")
                for name, data in headers:
                    self.bytes += len(name) + len(data or b"")
                if key is None:
                    self.null_keys += 1
                if appended:
                    self.log_append += 1
                if self.low is None or stamp < self.low:
                    self.low = stamp
                if self.high is None or stamp > self.high:
                    self.high = stamp
                batch_of_one = estimate(key, value, headers)
                if batch_of_one > self.largest:
                    self.largest = batch_of_one

    def stats(self) -> RangeStats:
        return RangeStats(self.records, self.bytes, self.null_keys, self.low, self.high, self.largest,
                          self.log_append)
