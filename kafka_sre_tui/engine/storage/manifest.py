"""The manifest: what a backup holds and how to check it. JSON, written last (see docs/backup-format.md)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kafka_sre_tui.engine.errors import KsreError
from kafka_sre_tui.engine.storage.blocks import BlockInfo
from kafka_sre_tui.engine.storage.store import Location, open_location, read_json
from kafka_sre_tui.engine.storage.writer import SegmentInfo

FORMAT = "kafka-sre-tui-backup"
FORMAT_VERSION = 1
ENCRYPTED_FORMAT_VERSION = 2  # blocks sealed with AES-256-GCM; unencrypted backups stay version 1
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class PartitionManifest:
    partition: int
    start_offset: int  # first offset asked for
    end_offset: int  # exclusive: the snapshot's end (or the range's end)
    log_start_offset: int
    records: int
    raw_bytes: int
    stored_bytes: int
    first_offset: int | None
    last_offset: int | None
    first_timestamp: int | None
    last_timestamp: int | None
    gaps: tuple[tuple[int, int], ...]  # [from, to) offset ranges in range with no record stored (first 1000)
    gap_count: int
    segments: tuple[SegmentInfo, ...]


@dataclass(frozen=True)
class Manifest:
    backup_id: str
    created_at: str
    completed_at: str
    source: dict[str, Any]
    topic: dict[str, Any]
    selection: dict[str, Any]
    compression: dict[str, Any]
    partitions: tuple[PartitionManifest, ...]
    consumer_groups: dict[str, dict[str, int]]
    metrics: dict[str, Any]
    format: str = FORMAT
    format_version: int = FORMAT_VERSION
    isolation: str = "read_committed"
    extra: dict[str, Any] = field(default_factory=dict)
    encryption: dict[str, Any] | None = None  # {"algorithm", "key_id"}; absent from an unencrypted manifest

    @property
    def records(self) -> int:
        return sum(p.records for p in self.partitions)

    @property
    def stored_bytes(self) -> int:
        return sum(p.stored_bytes for p in self.partitions)


def _canonical(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def manifest_checksum(doc: dict[str, Any]) -> str:
    return hashlib.sha256(_canonical({k: v for k, v in doc.items() if k != "manifest_sha256"})).hexdigest()


def write_manifest(backup_dir: Location, manifest: Manifest) -> None:
    """Write the manifest, which marks the backup complete, and read it back (no conditional write is
    relied on: each backup writes only under its own unique id)."""
    doc = asdict(manifest)
    if doc["encryption"] is None:
        del doc["encryption"]
    write_checked(backup_dir / MANIFEST, doc, manifest.backup_id)


def write_checked(path: Location, doc: dict[str, Any], resume_id: str, create_only: bool = False) -> bool:
    """Write a manifest document with its checksum, then read it back: an object store that acknowledged
    a write it did not keep is caught here, not at restore time; the file is removed (the backup stays
    incomplete, hence resumable) and the error says how to continue. ``create_only``: write only if
    ``path`` does not exist yet; False when it did."""
    data = json.dumps({**doc, "manifest_sha256": manifest_checksum(doc)}, indent=1, sort_keys=True).encode() + b"\n"
    if create_only:
        if path.write_if(data, None) is None:
            return False
    else:
        path.write_atomic(data)
    if read_json(path) != json.loads(data):
        path.unlink(missing_ok=True)
        raise KsreError(f"{path} did not read back as it was written (the store lost the write); continue with "
                        f"kafka-sre-tui backup --resume {resume_id}")
    return True


class ManifestError(ValueError):
    pass


def read_checked(path: Location, what: str) -> tuple[dict[str, Any], bool]:
    """A manifest document (``what`` it should be, for errors) without its checksum, and whether the
    checksum holds (False: edited after it was written)."""
    try:
        doc = read_json(path)
    except (OSError, ValueError) as exc:
        raise ManifestError(f"cannot read {path}: {exc}") from None
    if not isinstance(doc, dict):
        raise ManifestError(f"{path} is not {what} (a JSON object was expected)")
    intact = doc.pop("manifest_sha256", None) == manifest_checksum(doc)
    return doc, intact


def read_manifest(backup_dir: Location | Path) -> tuple[Manifest, bool]:
    """The manifest, and whether its own checksum holds (False: edited after it was written)."""
    backup_dir = open_location(backup_dir)
    doc, intact = read_checked(backup_dir / MANIFEST, "a manifest")
    try:
        version = ENCRYPTED_FORMAT_VERSION if doc.get("encryption") else FORMAT_VERSION
        if doc.get("format") != FORMAT or doc.get("format_version") != version:
            raise ManifestError(f"{backup_dir / MANIFEST}: format {doc.get('format')} "
                                f"v{doc.get('format_version')} is not {FORMAT} v{version}")
        partitions = tuple(_partition(p) for p in doc.pop("partitions"))
        return Manifest(partitions=partitions, **doc), intact
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ManifestError(f"{backup_dir / MANIFEST}: malformed ({exc})") from None


def _partition(doc: dict[str, Any]) -> PartitionManifest:
    segments = tuple(segment_from_json(s) for s in doc.pop("segments"))
    gaps = tuple((a, b) for a, b in doc.pop("gaps"))
    return PartitionManifest(segments=segments, gaps=gaps, **doc)


def segment_path(backup_dir: Location, file: str) -> Location:
    """Where a segment named in a manifest lives; ManifestError for a name leading outside the backup
    (absolute, ``..``, or a symlink out of it): a hostile manifest must not make us read other files."""
    relative = Path(file)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise ManifestError(f"segment '{file}' is not a path inside the backup: the manifest is not trustworthy")
    path = backup_dir / relative.as_posix()
    if not backup_dir.contains(path):
        raise ManifestError(f"segment '{file}' leads outside the backup (a symlink): the manifest is not trustworthy")
    return path


def segment_from_json(doc: dict[str, Any]) -> SegmentInfo:
    blocks = tuple(BlockInfo(**b) for b in doc["blocks"])
    return SegmentInfo(**{**doc, "blocks": blocks})
