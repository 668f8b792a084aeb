"""Coverage-guided fuzzing of the backup reader and ``verify`` with atheris (libFuzzer for Python).
Opt-in, not part of the test suite: ``pip install atheris`` first (wheels for CPython on Linux x86-64).

Each input is a backup file: its first byte picks which (0: a segment, 1: the manifest, re-signed
when it is a JSON object, so a lying but consistent manifest is tried too), the rest is the file. The
seed is a real backup of two partitions and several blocks, written by the tool's own writer, so the
mutations start deep inside the format. Anything but a clear, typed error (BlockError,
BatchFormatError, ManifestError) is a crash that atheris reports with the input that caused it;
``-rss_limit_mb`` makes an input that blows up memory (a length field believed) one too.

    .venv/bin/python -m bench.fuzz_reader -max_total_time=300 -rss_limit_mb=1024 [CORPUS_DIR]
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from kafka_sre_tui.engine.kafka.batches import BatchFormatError, split_batches
    from kafka_sre_tui.engine.storage.blocks import BlockError
    from kafka_sre_tui.engine.storage.codecs import CODECS
    from kafka_sre_tui.engine.storage.manifest import (
        MANIFEST,
        Manifest,
        ManifestError,
        PartitionManifest,
        manifest_checksum,
        read_manifest,
        write_manifest,
    )
    from kafka_sre_tui.engine.storage.reader import iter_records
    from kafka_sre_tui.engine.storage.verify import verify_backup
    from kafka_sre_tui.engine.storage.writer import PartitionWriter

from aiokafka.record.default_records import DefaultRecordBatchBuilder

TYPED = (BlockError, BatchFormatError, ManifestError)
BACKUP_ID = "20261129T120000000Z-fuzzed-a1b2c3"


def _batches(count: int, per_batch: int) -> bytes:
    """``count`` Kafka batches of ``per_batch`` records, offsets from 0, as a broker would store them."""
    out = bytearray()
    for b in range(count):
        builder = DefaultRecordBatchBuilder(2, 0, 0, -1, -1, -1, 1 << 20)
        for i in range(per_batch):
            builder.append(i, 1_700_000_000_000 + i, f"k{i}".encode(), os.urandom(200) if i % 3 else b"v" * 300,
                           [("h", b"1")])
        batch = builder.build()
        batch[0:8] = (b * per_batch).to_bytes(8, "big")  # the base offset is outside the batch's CRC
        out += batch
    return bytes(out)


def seed_backup(folder: Path) -> None:
    """A complete backup of 2 partitions (gzip, several blocks) written by the tool's own writer."""
    parts = []
    for partition in (0, 1):
        writer = PartitionWriter(folder, partition, CODECS["gzip"], 6)
        raw = _batches(40, 30)
        for header, view in split_batches(raw):
            writer.append(header, view)
        sealed = writer.checkpoint()
        assert sealed is not None
        parts.append(PartitionManifest(partition, 0, 1200, 0, 1200, len(raw), sealed.size, 0, 1199,
                                       1_700_000_000_000, 1_700_000_000_029, (), 0, (sealed,)))
    now = datetime.now(UTC).isoformat()
    write_manifest(folder, Manifest(BACKUP_ID, now, now, {"cluster": "fuzz"}, {"name": "fuzzed"}, {},
                                    {"codec": "gzip", "level": 6}, tuple(parts), {"g": {"0": 5}}, {}))


def _read_everything(folder: Path) -> None:
    verify_backup(folder)  # reports damage, never raises it
    manifest, _intact = read_manifest(folder)
    for part in manifest.partitions:
        for _record in iter_records(folder, part):
            pass


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="fuzz-reader-"))
    pristine, folder = work / "pristine" / BACKUP_ID, work / "live" / BACKUP_ID
    seed_backup(pristine)
    segment = sorted(pristine.glob("partitions/0/*.kseg"))[0].relative_to(pristine)
    corpus = Path(sys.argv[-1]) if len(sys.argv) > 1 and not sys.argv[-1].startswith("-") else None
    if corpus is not None:  # seeds: the real files, one per kind of input
        corpus.mkdir(parents=True, exist_ok=True)
        (corpus / "segment").write_bytes(b"\0" + (pristine / segment).read_bytes())
        (corpus / "manifest").write_bytes(b"\1" + (pristine / MANIFEST).read_bytes())

    def one_input(data: bytes) -> None:
        if not data:
            return
        shutil.rmtree(folder.parent, ignore_errors=True)
        shutil.copytree(pristine, folder)
        body = data[1:]
        if data[0] % 2 == 0:
            (folder / segment).write_bytes(body)
        else:
            try:
                doc = json.loads(body)
            except (ValueError, UnicodeDecodeError):
                doc = None
            if isinstance(doc, dict):
                doc["manifest_sha256"] = manifest_checksum(doc)
                body = json.dumps(doc).encode()
            (folder / MANIFEST).write_bytes(body)
        with contextlib.suppress(TYPED):  # a clear, typed error is the right answer to a damaged file
            _read_everything(folder)

    try:
        atheris.Setup(sys.argv, one_input)
        atheris.Fuzz()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
