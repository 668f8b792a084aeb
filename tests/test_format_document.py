"""docs/backup-format.md is enough to read a backup: tests/format_reader.py, written from the document
alone, reads real backups of every block codec (and an encrypted one) and finds exactly the records a
consumer of the source topic sees — producer compression of every kind, headers, null keys and
values, transactions, a range cut through batches — with every checksum the document names."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.storage.encryption import EncryptionKey
from kafka_sre_tui.localkafka import LocalKafka
from tests import format_reader
from tests.backup_helpers import backup
from tests.kafka_helpers import create_topic, read_all
from tests.migrate_helpers import produce_varied
from tests.set_helpers import back_up_set, delete_records

PRODUCER_CODECS = (None, "gzip", "snappy", "lz4", "zstd")


async def _topic(kafka: LocalKafka, topic: str) -> None:
    """Partitions 0-4: batches compressed by the producer with each Kafka codec; all: the varied records."""
    bs = kafka.bootstrap_servers
    await create_topic(bs, topic, len(PRODUCER_CODECS))
    await produce_varied(bs, topic, len(PRODUCER_CODECS), 12)
    for partition, codec in enumerate(PRODUCER_CODECS):
        producer = AIOKafkaProducer(bootstrap_servers=bs, compression_type=codec, linger_ms=20)
        await producer.start()
        try:
            for i in range(40):
                await producer.send(topic, f"compressed-{codec}-{i}".encode() * 8, key=f"c{i}".encode(),
                                    partition=partition, headers=[("codec", str(codec).encode())])
            await producer.flush()
        finally:
            await producer.stop()


@pytest.mark.parametrize("block_codec", ["none", "gzip", "snappy", "lz4", "zstd"])
async def test_a_reader_written_from_the_document_reads_every_record(kafka: LocalKafka, cluster: ClusterConfig,
                                                                     unique: str, tmp_path: Path,
                                                                     block_codec: str) -> None:
    await _topic(kafka, unique)
    expected = await read_all(kafka.bootstrap_servers, unique)
    done = await backup(cluster, unique, tmp_path, compression=block_codec)
    assert format_reader.read(done.path) == expected


async def test_it_reads_an_encrypted_backup_and_a_range_cut_through_batches(
        kafka: LocalKafka, cluster: ClusterConfig, unique: str, tmp_path: Path) -> None:
    await _topic(kafka, unique)
    expected = await read_all(kafka.bootstrap_servers, unique)
    key = os.urandom(32)
    sealed = await backup(cluster, unique, tmp_path, encryption_key=EncryptionKey(key, "test"))
    assert format_reader.read(sealed.path, key) == expected
    with pytest.raises(format_reader.FormatError, match="another key"):
        format_reader.read(sealed.path, os.urandom(32))

    cut = await backup(cluster, unique, tmp_path, from_offset=15, to_offset=29)  # inside compressed batches
    assert format_reader.read(cut.path) == {p: [r for r in rs if 15 <= r[0] <= 29] for p, rs in expected.items()}


async def test_it_refuses_a_manifest_changed_by_one_character(kafka: LocalKafka, cluster: ClusterConfig, unique: str,
                                                              tmp_path: Path) -> None:
    await create_topic(kafka.bootstrap_servers, unique, 1)
    await produce_varied(kafka.bootstrap_servers, unique, 1, 5)
    done = await backup(cluster, unique, tmp_path)
    assert format_reader.read(done.path)[0]  # the checksum as the document defines it matches the tool's
    manifest = done.path / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"read_committed"', '"read_uncommitted"'))
    with pytest.raises(format_reader.FormatError, match="manifest_sha256"):
        format_reader.read(done.path)


async def test_it_reads_a_chain_of_sets_with_a_retention_hole(kafka: LocalKafka, cluster: ClusterConfig, unique: str,
                                                             tmp_path: Path) -> None:
    """The "Backup sets and chains" section is enough to read a set and follow its chain: a base of two
    topics, then a link after more traffic and after retention deleted past the base's end in one
    partition; read through the chain, each topic holds every record a consumer could read, but the hole."""
    bs = kafka.bootstrap_servers
    await _topic(kafka, f"{unique}-a")
    await create_topic(bs, f"{unique}-b", 2)
    await produce_varied(bs, f"{unique}-b", 2, 10)
    base = await back_up_set(cluster, tmp_path, f"{unique}-*")
    await produce_varied(bs, f"{unique}-a", len(PRODUCER_CODECS), 6)
    await produce_varied(bs, f"{unique}-b", 2, 10)
    ends = {p: part.end_offset for p, part in ((q.partition, q) for q in base.manifest.members[1].partitions)}
    before = await read_all(bs, f"{unique}-b")
    await delete_records(bs, f"{unique}-b", 1, ends[1] + 3)  # three records no backup will ever hold
    link = await back_up_set(cluster, tmp_path, f"{unique}-*", incremental=True)
    assert link.manifest.chain["parent"] == base.set_id

    read = format_reader.read_set(tmp_path, link.set_id)
    assert read[f"{unique}-a"] == await read_all(bs, f"{unique}-a")
    assert read[f"{unique}-b"] == {0: before[0], 1: [r for r in before[1] if not ends[1] <= r[0] < ends[1] + 3]}
    member_b = link.manifest.member(f"{unique}-b")
    assert member_b is not None and member_b.partitions[1].lost == (ends[1], ends[1] + 3)

    (tmp_path / base.set_id / "set.json").unlink()
    with pytest.raises(format_reader.FormatError, match=f"{base.set_id} is missing"):
        format_reader.read_set(tmp_path, link.set_id)
