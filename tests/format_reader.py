"""A backup reader written from docs/backup-format.md alone, the way an outside implementer would: no
project code, only the document's tables and Kafka's own record format. Used by
tests/test_format_document.py to read real backups, so the document cannot drift from the bytes.

Every check the document asks of a reader is made here (manifest checksum, segment SHA-256, frames,
block CRC-32, decompressed length, batch CRC-32C, range clipping); a failure raises FormatError.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import struct
import zlib
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import lz4.frame
import snappy
import zstandard
from aiokafka.record.util import calc_crc32c  # Kafka's CRC-32C (Castagnoli); not the project's code
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FRAME = struct.Struct(">4sBBHqqqqIIIII")  # 60 bytes
BATCH_HEADER = struct.Struct(">qiiBIhiqqqhii")  # 61 bytes: baseOffset .. recordCount
XERIAL_MAGIC = b"\x82SNAPPY\x00"

Record = tuple[int, int, int, bytes | None, bytes | None, tuple[tuple[str, bytes | None], ...]]


class FormatError(Exception):
    pass


def read(backup_dir: Path, key: bytes | None = None) -> dict[int, list[Record]]:
    """Every record of the backup per partition: (offset, timestamp, timestamp type 0/1, key, value,
    headers), as a consumer of the source topic saw it."""
    manifest = json.loads((backup_dir / "manifest.json").read_text(encoding="utf-8"))
    _check_manifest(manifest)
    sealed = manifest["format_version"] == 2
    if sealed and (key is None or _key_id(key) != manifest["encryption"]["key_id"]):
        raise FormatError("the backup is encrypted with another key")
    result = {}
    for partition in manifest["partitions"]:
        records: list[Record] = []
        for segment in partition["segments"]:
            data = (backup_dir / segment["file"]).read_bytes()
            if len(data) != segment["size"] or hashlib.sha256(data).hexdigest() != segment["sha256"]:
                raise FormatError(f"segment {segment['file']} differs from the manifest")
            for raw in _blocks(data, segment, manifest["backup_id"], partition["partition"], key if sealed else None):
                records += _records(raw)
        result[partition["partition"]] = [r for r in records
                                          if partition["start_offset"] <= r[0] < partition["end_offset"]]
    return result


def read_set(base: Path, set_id: str, key: bytes | None = None) -> dict[str, dict[int, list[Record]]]:
    """Every record of every topic of a backup set as of link ``set_id``, following its chain back to its
    base ("Backup sets and chains"): per topic and partition, the members of the links from the topic's
    last chain start up to this link, in order, each continuing the previous one but for its lost range."""
    links = []
    wanted: str | None = set_id
    while wanted is not None:
        path = base / wanted / "set.json"
        if not path.exists():
            raise FormatError(f"link {wanted} is missing: the chain is broken")
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("format") != "kafka-sre-tui-backup-set" or doc.get("format_version") != 3:
            raise FormatError("not a backup set of a version this reader knows")
        _check_checksum(doc)
        links.append(doc)
        wanted = doc["chain"]["parent"]
    links.reverse()
    result: dict[str, dict[int, list[Record]]] = {}
    ends: dict[str, dict[int, int]] = {}
    for link in links:
        for member in link["members"]:
            topic = member["topic"]["name"]
            if member["chain_start"]:
                result[topic], ends[topic] = {}, {}
            records = read(base / link["set_id"] / "topics" / member["member_id"], key)
            for part in member["partitions"]:
                p = part["partition"]
                lost = part["lost"]
                if p in ends[topic]:
                    expected = ends[topic][p] if lost is None else lost[1]
                    if part["start_offset"] != expected or (lost is not None and lost[0] != ends[topic][p]):
                        raise FormatError(f"{topic}/{p} in link {link['chain']['link']} does not continue its parent")
                result[topic].setdefault(p, []).extend(records[p])
                ends[topic][p] = part["end_offset"]
    return result


def _check_manifest(manifest: dict[str, Any]) -> None:
    if manifest.get("format") != "kafka-sre-tui-backup" or manifest.get("format_version") not in (1, 2):
        raise FormatError("not a backup of a version this reader knows")
    _check_checksum(manifest)


def _check_checksum(manifest: dict[str, Any]) -> None:
    rest = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    canonical = json.dumps(rest, sort_keys=True, separators=(",", ":")).encode("ascii")
    if hashlib.sha256(canonical).hexdigest() != manifest["manifest_sha256"]:
        raise FormatError("manifest_sha256 does not match")


def _key_id(key: bytes) -> str:
    return hashlib.sha256(b"kafka-sre-tui backup key id" + b"\0" + key).digest()[:16].hex()


def _blocks(data: bytes, segment: dict[str, Any], backup_id: str, partition: int,
            key: bytes | None) -> Iterator[bytes]:
    position = 0
    for entry in segment["blocks"]:
        if entry["position"] != position:
            raise FormatError("a block does not start where the previous one ended")
        (magic, version, codec, _reserved, first, last, first_ts, max_ts, records, batches, raw_length,
         stored_length, crc) = FRAME.unpack_from(data, position)
        expected = (entry["first_offset"], entry["last_offset"], entry["first_timestamp"], entry["max_timestamp"],
                    entry["records"], entry["batches"], entry["raw_length"], entry["stored_length"], entry["crc32"])
        if magic != b"KSRB" or (first, last, first_ts, max_ts, records, batches, raw_length, stored_length,
                                crc) != expected:
            raise FormatError(f"block at {position} differs from the manifest")
        payload = data[position + FRAME.size:position + FRAME.size + stored_length]
        if zlib.crc32(payload) != crc:
            raise FormatError(f"block at {position}: CRC-32 mismatch")
        if version == 2:
            if key is None:
                raise FormatError("a sealed block in an unencrypted backup")
            aad = data[position:position + 56] + b"\0" + backup_id.encode() + b"\0" + str(partition).encode()
            payload = AESGCM(key).decrypt(payload[:12], payload[12:], aad)
        raw = _decompress(codec, payload, raw_length)
        if len(raw) != raw_length:
            raise FormatError(f"block at {position} decompresses to {len(raw)} bytes, not {raw_length}")
        yield raw
        position += FRAME.size + stored_length
    if position != len(data):
        raise FormatError("bytes after the last block")


def _decompress(codec: int, payload: bytes, raw_length: int) -> bytes:
    if codec == 0:
        return payload
    if codec == 1:
        inflater = zlib.decompressobj()
        return inflater.decompress(payload, raw_length + 1)  # never more than claimed (+1 to notice)
    if codec == 2:
        return bytes(snappy.decompress(payload))
    if codec == 3:
        if lz4.frame.get_frame_info(payload)["content_size"] != raw_length:
            raise FormatError("lz4 frame content size differs from raw length")
        return bytes(lz4.frame.decompress(payload))
    if codec == 4:
        if zstandard.frame_content_size(payload) != raw_length:
            raise FormatError("zstd frame content size differs from raw length")
        return bytes(zstandard.ZstdDecompressor().decompress(payload, max_output_size=raw_length))
    raise FormatError(f"unknown codec id {codec}")


def _records(raw: bytes) -> Iterator[Record]:
    """Kafka v2 record batches back to back."""
    position = 0
    while position < len(raw):
        (base_offset, batch_length, _epoch, magic, crc, attributes, _last_delta, first_ts, max_ts, _pid, _pepoch,
         _seq, count) = BATCH_HEADER.unpack_from(raw, position)
        end = position + 12 + batch_length
        if magic != 2 or calc_crc32c(raw[position + 21:end]) != crc:
            raise FormatError(f"batch at offset {base_offset}: not magic 2 or CRC-32C mismatch")
        body = raw[position + BATCH_HEADER.size:end]
        position = end
        if attributes & 0x20 or count == 0:  # a control batch, or one the cleaner emptied: no records
            continue
        body = _kafka_decompress(attributes & 0x07, body)
        log_append = bool(attributes & 0x08)
        stream = BytesIO(body)
        for _ in range(count):
            yield _record(stream, base_offset, first_ts, max_ts if log_append else None, int(log_append))


def _kafka_decompress(codec: int, body: bytes) -> bytes:
    if codec == 0:
        return body
    if codec == 1:
        return gzip.decompress(body)
    if codec == 2:
        if not body.startswith(XERIAL_MAGIC):
            return bytes(snappy.decompress(body))
        out, at = bytearray(), 16  # magic, version, compatible version
        while at < len(body):
            (length,) = struct.unpack_from(">i", body, at)
            out += snappy.decompress(body[at + 4:at + 4 + length])
            at += 4 + length
        return bytes(out)
    if codec == 3:
        return bytes(lz4.frame.decompress(body))
    if codec == 4:
        return zstandard.ZstdDecompressor().decompressobj().decompress(body)
    raise FormatError(f"unknown Kafka compression {codec}")


def _varint(stream: BytesIO) -> int:
    shift = value = 0
    while True:
        byte = stream.read(1)[0]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return (value >> 1) ^ -(value & 1)  # zigzag
        shift += 7


def _bytes(stream: BytesIO) -> bytes | None:
    length = _varint(stream)
    return None if length < 0 else stream.read(length)


def _record(stream: BytesIO, base_offset: int, first_ts: int, append_time: int | None, ts_type: int) -> Record:
    _varint(stream)  # length
    stream.read(1)  # attributes
    timestamp = first_ts + _varint(stream)
    offset = base_offset + _varint(stream)
    key, value = _bytes(stream), _bytes(stream)
    headers = []
    for _ in range(_varint(stream)):
        name = _bytes(stream) or b""
        headers.append((name.decode("utf-8"), _bytes(stream)))
    return offset, append_time if append_time is not None else timestamp, ts_type, key, value, tuple(headers)
