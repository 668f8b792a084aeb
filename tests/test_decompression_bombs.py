"""Decompression bombs: a small block crafted to expand far beyond what its header claims. Every codec
stops at the claimed size, through the reader and through ``verify``, with one clear line and a peak
memory that does not grow with what the bomb would expand to."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zlib
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import lz4.frame
import pytest
import snappy
import zstandard

from kafka_sre_tui.engine.storage.blocks import MAX_RAW_LENGTH, BlockError, decode_frame, encode_block
from kafka_sre_tui.engine.storage.codecs import CODECS, OutputTooLarge
from kafka_sre_tui.engine.storage.local_store import LocalDir
from kafka_sre_tui.engine.storage.manifest import Manifest, PartitionManifest, write_manifest
from kafka_sre_tui.engine.storage.writer import SegmentInfo

CLAIMED = 64 << 10  # what the block's header says it holds
EXPANDS_TO = 256 << 20  # what it would decompress to without a limit
GROWTH_LIMIT_KIB = 48 << 10  # peak memory may grow this much (the stored payload, buffers), not 256 MiB
BOMBED = ("gzip", "snappy", "lz4", "zstd")


def _zeros(total: int) -> list[bytes]:
    chunk = bytes(1 << 20)
    return [chunk] * (total // len(chunk))


def bomb(codec: str, expands_to: int) -> bytes:
    """A valid stream of ``codec`` holding ``expands_to`` zero bytes, compressed as small as it goes."""
    if codec == "gzip":
        stream = zlib.compressobj(9)
        return b"".join(stream.compress(c) for c in _zeros(expands_to)) + stream.flush()
    if codec == "lz4":
        frame = lz4.frame.LZ4FrameCompressor()
        return frame.begin() + b"".join(frame.compress(c) for c in _zeros(expands_to)) + frame.flush()
    if codec == "zstd":
        writer = zstandard.ZstdCompressor(level=19).compressobj()
        return b"".join(writer.compress(c) for c in _zeros(expands_to)) + writer.flush()
    return snappy.compress(bytes(expands_to))  # snappy's raw format has no streaming form


def bomb_backup(base: Path, codec: str, payload: bytes, claimed: int = CLAIMED) -> tuple[str, Path]:
    """A complete, consistent backup (manifest checksum and all) of one block whose header claims
    ``claimed`` bytes and whose payload is ``payload``: framed by the writer's own code."""
    backup_id = f"20261129T120000000Z-bomb-{codec}-{os.urandom(3).hex()}"
    folder = base / backup_id
    (folder / "partitions" / "0").mkdir(parents=True)
    forged = replace(CODECS[codec], compress=lambda _raw, _level: payload)
    frame, stored, info = encode_block(bytes(claimed), forged, None, 0, 99, 0, 0, 100, 1, 0)
    segment_file = "partitions/0/00000000000000000000.kseg"
    (folder / segment_file).write_bytes(frame + stored)
    segment = SegmentInfo(segment_file, len(frame) + len(stored), hashlib.sha256(frame + stored).hexdigest(), 0, 99,
                          100, claimed, (info,))
    part = PartitionManifest(0, 0, 100, 0, 100, claimed, len(stored), 0, 99, 0, 0, (), 0, (segment,))
    now = datetime.now(UTC).isoformat()
    write_manifest(LocalDir(folder), Manifest(backup_id, now, now, {"cluster": "test"}, {"name": "bomb"}, {},
                                    {"codec": codec, "level": None}, (part,), {}, {}))
    return backup_id, folder


_MEASURE = """
import json, resource, sys
from pathlib import Path
from kafka_sre_tui.cli.main import main
from kafka_sre_tui.engine.backup import catalog
from kafka_sre_tui.engine.storage import blocks, reader, verify
from kafka_sre_tui.engine.storage.manifest import read_manifest
base, backup_id, mode, report = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
outcome = {}
if mode == "reader":
    manifest, _ = read_manifest(base / backup_id)
    try:
        for _ in reader.iter_records(base / backup_id, manifest.partitions[0]):
            pass
    except blocks.BlockError as exc:
        outcome["error"] = str(exc)
else:
    outcome["exit"] = main(["verify", backup_id, "--backup-dir", str(base)])
outcome["grew_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
Path(report).write_text(json.dumps(outcome))
"""


def measured(base: Path, backup_id: str, mode: str, tmp_path: Path) -> tuple[dict[str, object], str]:
    """Read the backup in a fresh process; what happened, how much its peak memory grew, its stdout."""
    report = tmp_path / f"{mode}.json"
    done = subprocess.run([sys.executable, "-c", _MEASURE, str(base), backup_id, mode, str(report)],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert "Traceback" not in done.stderr, done.stderr
    return json.loads(report.read_text()), done.stdout + done.stderr


@pytest.mark.parametrize("codec", BOMBED)
def test_a_bomb_stops_at_the_claimed_size_in_the_reader_and_verify(codec: str, tmp_path: Path) -> None:
    backup_id, _folder = bomb_backup(tmp_path, codec, bomb(codec, EXPANDS_TO))
    expected = f"block expands beyond the {CLAIMED} bytes its header claims (a decompression bomb or damage)"

    read, _ = measured(tmp_path, backup_id, "reader", tmp_path)
    assert str(read["error"]).startswith(expected)
    assert int(read["grew_kib"]) < GROWTH_LIMIT_KIB, read  # type: ignore[call-overload]

    checked, printed = measured(tmp_path, backup_id, "verify", tmp_path)
    assert checked["exit"] == 1
    assert int(checked["grew_kib"]) < GROWTH_LIMIT_KIB, checked  # type: ignore[call-overload]
    damage, summary = printed.strip().splitlines()
    assert damage == f"backup {backup_id}, partition 0, file partitions/0/00000000000000000000.kseg, " \
                     f"offsets 0-99: {expected}: decompression stopped there"
    assert summary.startswith(f"backup {backup_id}: DAMAGED (1 problems)")


@pytest.mark.parametrize("codec", BOMBED)
def test_an_honest_block_of_the_claimed_size_still_decompresses(codec: str) -> None:
    payload = bomb(codec, 4 << 20)
    assert CODECS[codec].decompress(payload, 4 << 20) == bytes(4 << 20)
    with pytest.raises(OutputTooLarge):
        CODECS[codec].decompress(payload, (4 << 20) - 1)


@pytest.mark.parametrize("codec", BOMBED)
def test_a_cut_stream_is_an_error_or_a_short_block_never_too_large(codec: str) -> None:
    original = os.urandom(100_000)
    payload = CODECS[codec].compress(original, None)
    try:
        raw = CODECS[codec].decompress(payload[:len(payload) // 2], len(original))
    except OutputTooLarge:
        pytest.fail("a cut stream is not a bomb")
    except Exception:  # each codec library has its own error type
        return
    assert len(raw) < len(original)  # zstd's reader returns what it has: the block's length check catches it


def test_a_header_claiming_more_than_a_block_can_hold_is_refused_before_reading() -> None:
    frame, _stored, _info = encode_block(b"honest", CODECS["zstd"], 3, 0, 0, 0, 0, 1, 1, 0)
    forged = frame[:48] + (MAX_RAW_LENGTH + 1).to_bytes(4, "big") + frame[52:]
    with pytest.raises(BlockError, match=rf"claims {MAX_RAW_LENGTH + 1} bytes uncompressed, more than the "
                                         rf"{MAX_RAW_LENGTH} a block may hold \(damaged or crafted\)"):
        decode_frame(forged, 0)
