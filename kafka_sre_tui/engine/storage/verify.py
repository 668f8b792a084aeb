"""Recompute every checksum of a backup and name what is damaged: partition, file, offsets.

A caller that needs the records too (restore's preflight scan) passes ``inspect``: it is handed each
block's Kafka batches once the block has passed its checks, so the backup is read once for both."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import crc32c

from kafka_sre_tui.engine.kafka.batches import BatchFormatError, crc_region, split_batches
from kafka_sre_tui.engine.storage.blocks import FRAME_SIZE, BlockError, Seal, decode_frame, decode_payload
from kafka_sre_tui.engine.storage.encryption import BackupCipher, cipher_of
from kafka_sre_tui.engine.storage.manifest import ManifestError, PartitionManifest, read_manifest, segment_path
from kafka_sre_tui.engine.storage.store import Location, open_location
from kafka_sre_tui.engine.storage.writer import SegmentInfo

VERIFY_THREADS = 2

BlockHook = Callable[[int, bytes], None]  # (partition, the block's raw Kafka batches)


@dataclass(frozen=True)
class Damage:
    problem: str
    partition: int | None = None
    file: str | None = None
    offsets: tuple[int, int] | None = None

    def describe(self, backup_id: str) -> str:
        return describe_damage(self.problem, [f"backup {backup_id}"], self.partition, self.file, self.offsets)


def describe_damage(problem: str, where: list[str], partition: int | None, file: str | None,
                    offsets: tuple[int, int] | None) -> str:
    """``where`` (the backup, or the set's link and topic), then partition, file and offsets, then the problem."""
    if partition is not None:
        where = [*where, f"partition {partition}"]
    if file:
        where = [*where, f"file {file}"]
    if offsets:
        where = [*where, f"offsets {offsets[0]}-{offsets[1]}"]
    return f"{', '.join(where)}: {problem}"


@dataclass(frozen=True)
class VerifyResult:
    backup_id: str
    records: int
    bytes_checked: int
    seconds: float
    damage: tuple[Damage, ...]

    @property
    def intact(self) -> bool:
        return not self.damage


def verify_backup(folder: Location | Path, inspect: BlockHook | None = None) -> VerifyResult:
    """Every checksum; in an encrypted backup also every block's AES-GCM tag, with the key
    :func:`~kafka_sre_tui.engine.storage.encryption.unlock` registered (without it: an error)."""
    started = time.monotonic()
    folder = open_location(folder)
    try:
        manifest, intact = read_manifest(folder)
    except ManifestError as exc:
        return VerifyResult(folder.name, 0, 0, time.monotonic() - started, (Damage(str(exc)),))
    cipher = cipher_of(folder)
    damage: list[Damage] = []
    if not intact:
        damage.append(Damage("manifest.json was changed after it was written (its checksum does not match)"))
    with ThreadPoolExecutor(VERIFY_THREADS) as pool:
        results = list(pool.map(lambda p: _verify_partition(folder, p, cipher, inspect), manifest.partitions))
    records = checked = 0
    for part_damage, part_records, part_bytes in results:
        damage.extend(part_damage)
        records += part_records
        checked += part_bytes
    return VerifyResult(manifest.backup_id, records, checked, time.monotonic() - started, tuple(damage))


def _verify_partition(folder: Location, part: PartitionManifest, cipher: BackupCipher | None,
                      inspect: BlockHook | None) -> tuple[list[Damage], int, int]:
    damage: list[Damage] = []
    records = checked = 0
    unseal = partial(cipher.open, part.partition) if cipher else None
    for segment in part.segments:
        seg_damage, seg_records, seg_bytes = _verify_segment(folder, part.partition, segment, unseal, inspect)
        damage.extend(seg_damage)
        records += seg_records
        checked += seg_bytes
    if not damage and records != sum(s.records for s in part.segments):
        damage.append(Damage(f"holds {records} records, the manifest says {part.records}", part.partition))
    return damage, records, checked


def _verify_segment(folder: Location, partition: int, segment: SegmentInfo, unseal: Seal | None,
                    inspect: BlockHook | None) -> tuple[list[Damage], int, int]:
    """One sequential pass: hash every byte, and check every block against the index as it passes."""
    span = (segment.first_offset, segment.last_offset)
    try:
        path = segment_path(folder, segment.file)
    except ManifestError as exc:
        return [Damage(str(exc), partition, segment.file, span)], 0, 0
    try:
        size = path.size()
    except FileNotFoundError:
        return [Damage("file is missing", partition, segment.file, span)], 0, 0
    damage: list[Damage] = []
    if size != segment.size:
        kind = "truncated" if size < segment.size else "longer than recorded"
        damage.append(Damage(f"file is {kind}: {size} bytes, the manifest says {segment.size}", partition,
                             segment.file, span))
    digest = hashlib.sha256()
    records = 0
    with path.open_read() as handle:
        for block in segment.blocks:
            block_span = (block.first_offset, block.last_offset)
            try:
                if handle.tell() != block.position:
                    handle.seek(block.position)
                    raise BlockError(f"block expected at byte {block.position} is not where the previous one ends")
                frame = handle.read(FRAME_SIZE)
                if block.stored_length > size - block.position - FRAME_SIZE:  # never read what is not there
                    raise BlockError(f"block at byte {block.position} claims {block.stored_length} bytes, the file "
                                     f"holds {max(0, size - block.position - FRAME_SIZE)} after its header")
                stored = handle.read(block.stored_length)
                digest.update(frame)
                digest.update(stored)
                info, codec = decode_frame(frame, block.position, encrypted=unseal is not None)
                if info != block:
                    raise BlockError(f"block header at byte {block.position} disagrees with the manifest")
                raw = decode_payload(info, codec, stored, unseal)
                records += _check_batches(raw, block.first_offset, block.last_offset, block.records, block.batches)
                if inspect is not None:
                    inspect(partition, raw)
            except (BlockError, BatchFormatError) as exc:
                damage.append(Damage(str(exc), partition, segment.file, block_span))
        while chunk := handle.read(1 << 20):  # bytes past the last block count in the checksum too
            digest.update(chunk)
    if not damage and digest.hexdigest() != segment.sha256:
        damage.append(Damage("file checksum (SHA-256) does not match", partition, segment.file, span))
    return damage, records, size


def _check_batches(raw: bytes, first: int, last: int, records: int, batches: int) -> int:
    found_records = found_batches = 0
    previous_end = first
    for header, view in split_batches(raw):
        if crc32c.crc32c(crc_region(view)) != header.crc:
            raise BlockError(f"Kafka batch at offset {header.base_offset} fails its CRC-32C")
        if header.base_offset < previous_end or header.last_offset > last:
            raise BlockError(f"Kafka batch at offset {header.base_offset} is out of order")
        previous_end = header.next_offset
        found_records += header.record_count
        found_batches += 1
    if (found_records, found_batches) != (records, batches):
        raise BlockError(f"block holds {found_batches} batches / {found_records} records, its header says "
                         f"{batches} / {records}")
    return found_records
