"""Restore's fast path: whole stored batches are sent as they are stored (records not decoded or
encoded again), and the result is the same record for record as the per-record path's.

Proof that a batch went as stored: the target, backed up in turn, holds a batch with the same codec,
record count, timestamps and record bytes as the source's. Proof that it is exact: the target read
back record by record (keys, values, headers, timestamps, partitions, offsets, group offsets).
"""

from __future__ import annotations

import asyncio
import struct
import time
from pathlib import Path

import crc32c
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.protocol.produce import ProduceRequest
from aiokafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder
from hypothesis import given
from hypothesis import strategies as st

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.errors import ClusterUnreachable, ConfigError, KafkaRequestFailed
from kafka_sre_tui.engine.inspect.cluster import topic_configs
from kafka_sre_tui.engine.kafka.batches import HEADER_SIZE, RawBatch, client_header, split_batches
from kafka_sre_tui.engine.kafka.retry import with_coordinator_retries
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.kafka.topic_writer import TopicWriter, WriterSettings
from kafka_sre_tui.engine.storage.manifest import read_manifest
from kafka_sre_tui.engine.storage.reader import iter_batches
from kafka_sre_tui.localkafka import LocalKafka
from tests.backup_helpers import backup
from tests.kafka_helpers import create_topic, read_all
from tests.restore_helpers import content, records_sent_as_stored, restore, stored_batches
from tests.test_restore_offsets import _read_as_group

BATCHES, PER_BATCH = 10, 20
CODECS = {"none": None, "gzip": "gzip", "snappy": "snappy", "lz4": "lz4", "zstd": "zstd"}


def _record(p: int, i: int, now_ms: int) -> dict[str, object]:
    """Varied records: null keys and values, repeated and null headers, timestamps out of order."""
    return {"key": None if i % 7 == 3 else f"k{p}-{i}".encode(),
            "value": None if i % 11 == 5 else f"value {p}-{i} ".encode() * (1 + i % 5),
            "headers": [("n", str(i).encode()), ("dup", b"1"), ("dup", None)] if i % 3 else [],
            "timestamp": now_ms - 60_000 + i * 10 - (500 if i % 4 == 1 else 0)}


async def _batched(bs: str, topic: str, codec: str | None, partitions: int = 2, batches: int = BATCHES,
                   per_batch: int = PER_BATCH, value_bytes: int = 0, configs: dict[str, str] | None = None) -> None:
    """``batches`` batches of ``per_batch`` records in each partition, compressed with ``codec``, from an
    idempotent producer (their producer id, epoch and sequences are its own)."""
    await create_topic(bs, topic, partitions, configs)
    producer = AIOKafkaProducer(bootstrap_servers=bs, compression_type=codec, enable_idempotence=True,  # Java's default
                                max_batch_size=4 << 20, max_request_size=8 << 20)
    await producer.start()
    now_ms = int(time.time() * 1000)
    try:
        for b in range(batches):
            sent = []
            for p in range(partitions):
                builder = producer.create_batch()
                for i in range(b * per_batch, (b + 1) * per_batch):
                    record = _record(p, i, now_ms)
                    if value_bytes:
                        record["value"] = bytes([i % 251]) * value_bytes
                    assert builder.append(**record) is not None  # type: ignore[arg-type]
                sent.append(await producer.send_batch(builder, topic, partition=p))
            await asyncio.gather(*sent)
    finally:
        await producer.stop()


@pytest.mark.parametrize("codec", list(CODECS))
async def test_every_codec_is_sent_as_stored_and_exact(kafka: LocalKafka, cluster: ClusterConfig, unique: str,
                                                     tmp_path: Path, codec: str) -> None:
    bs, target = kafka.bootstrap_servers, f"{unique}-r"
    await _batched(bs, unique, CODECS[codec])
    done = await backup(cluster, unique, tmp_path)
    result = await restore(cluster, tmp_path, done.backup_id, target_topic=target, create_topic=True,
                           partition_map={0: 1, 1: 0})
    source, restored = await read_all(bs, unique), await read_all(bs, target)
    assert restored[1] == source[0] and restored[0] == source[1]  # offsets too: fresh partitions, no gaps
    assert len(source[0]) == BATCHES * PER_BATCH
    assert [(p.partition, p.target_partition, p.offset_map) for p in result.partitions] == [
        (0, 1, ((0, 0, BATCHES * PER_BATCH),)), (1, 0, ((0, 0, BATCHES * PER_BATCH),))]
    before = stored_batches(done.path)
    after = stored_batches((await backup(cluster, target, tmp_path)).path)
    assert {b[0] for b in before[0]} == {list(CODECS).index(codec)}
    assert records_sent_as_stored(before[0], after[1]) == len(before[0]) == BATCHES
    assert records_sent_as_stored(before[1], after[0]) == BATCHES


async def test_restoring_twice_writes_twice(kafka: LocalKafka, cluster: ClusterConfig, unique: str,
                                           tmp_path: Path) -> None:
    """The batches go with the writer's producer id and sequences: sent with the source producer's, the
    broker would take the second copy for a retry of the first and drop it."""
    bs, target = kafka.bootstrap_servers, f"{unique}-r"
    await _batched(bs, unique, "lz4", partitions=1, batches=3)
    done = await backup(cluster, unique, tmp_path)
    await restore(cluster, tmp_path, done.backup_id, target_topic=target, create_topic=True)
    again = await restore(cluster, tmp_path, done.backup_id, target_topic=target, force=True)
    assert again.partitions[0].offset_map == ((0, 3 * PER_BATCH, 3 * PER_BATCH),)
    source, restored = (await read_all(bs, unique))[0], (await read_all(bs, target))[0]
    assert content(restored) == content(source) * 2


async def test_committed_transactions_are_sent_as_stored(kafka: LocalKafka, cluster: ClusterConfig, unique: str,
                                                        tmp_path: Path) -> None:
    bs, target = kafka.bootstrap_servers, f"{unique}-r"
    await create_topic(bs, unique, 1)
    producer = AIOKafkaProducer(bootstrap_servers=bs, transactional_id=f"{unique}-tx", compression_type="lz4",
                                linger_ms=50)
    await producer.start()
    try:
        for round_, commit in enumerate([True, False, True]):
            await producer.begin_transaction()
            await asyncio.gather(*[await producer.send(unique, f"{round_}-{i}".encode(), key=b"k") for i in range(30)])
            await (producer.commit_transaction() if commit else producer.abort_transaction())
    finally:
        await producer.stop()
    done = await backup(cluster, unique, tmp_path)
    result = await restore(cluster, tmp_path, done.backup_id, target_topic=target, create_topic=True)
    source, restored = await read_all(bs, unique), await read_all(bs, target)
    assert content(restored[0]) == content(source[0]) and len(source[0]) == 60  # the aborted round is not there
    assert result.partitions[0].offset_map[0] == (0, 0, 30)  # then a gap: the aborted round and the markers
    before = stored_batches(done.path)[0]
    after = stored_batches((await backup(cluster, target, tmp_path)).path)[0]
    assert records_sent_as_stored(before, after) == len(before) == len(after)


async def test_log_append_time_batches_keep_the_times_consumers_saw(kafka: LocalKafka, cluster: ClusterConfig,
                                                                    unique: str, tmp_path: Path) -> None:
    bs, target = kafka.bootstrap_servers, f"{unique}-r"
    await _batched(bs, unique, "zstd", partitions=1, batches=3, configs={"message.timestamp.type": "LogAppendTime"})
    await create_topic(bs, target, 1)  # CreateTime: the records keep the times the source stamped
    done = await backup(cluster, unique, tmp_path)
    await restore(cluster, tmp_path, done.backup_id, target_topic=target)
    source, restored = (await read_all(bs, unique))[0], (await read_all(bs, target))[0]
    assert all(r[2] == 1 for r in source) and all(r[2] == 0 for r in restored)
    assert [(r[0], r[1], *r[3:]) for r in restored] == [(r[0], r[1], *r[3:]) for r in source]
    # the batches hold the producer's own (earlier) times: sent as stored, a consumer would see those
    assert all(b[3] < b[4] for b in stored_batches(done.path)[0])
    after = stored_batches((await backup(cluster, target, tmp_path)).path)
    assert records_sent_as_stored(stored_batches(done.path)[0], after[0]) == 0


async def test_a_log_append_time_topic_restored_as_a_new_topic_keeps_its_times_and_its_type(
        kafka: LocalKafka, cluster: ClusterConfig, unique: str, tmp_path: Path) -> None:
    """Created LogAppendTime, the new topic would stamp every record with the restore's time (time-based
    seeks and retention wrong): it is created CreateTime, written, then set to LogAppendTime."""
    bs, target = kafka.bootstrap_servers, f"{unique}-r"
    await _batched(bs, unique, "zstd", partitions=1, batches=3, configs={"message.timestamp.type": "LogAppendTime"})
    source = (await read_all(bs, unique))[0]
    await asyncio.sleep(0.05)  # the restore's own time differs from every append time
    done = await backup(cluster, unique, tmp_path)
    result = await restore(cluster, tmp_path, done.backup_id, target_topic=target, create_topic=True)
    assert "set to LogAppendTime once every record is written" in {c.name: c.message for c in
                                                                    result.preflight.checks}["timestamps"]
    restored = (await read_all(bs, target))[0]
    assert [(r[0], r[1], *r[3:]) for r in restored] == [(r[0], r[1], *r[3:]) for r in source]
    async with KafkaSession(cluster) as session:
        assert (await topic_configs(session, [target]))[target]["message.timestamp.type"] == "LogAppendTime"
    when = source[len(source) // 2][1]
    seek = AIOKafkaConsumer(bootstrap_servers=bs)
    await seek.start()
    try:  # a time-based seek lands on the first record a consumer of the source saw at or after that time
        found = await seek.offsets_for_times({TopicPartition(target, 0): when})
    finally:
        await seek.stop()
    assert found[TopicPartition(target, 0)].offset == min(r[0] for r in source if r[1] >= when)
    producer = AIOKafkaProducer(bootstrap_servers=bs)
    await producer.start()
    try:  # and new records get the broker's time again
        await producer.send_and_wait(target, b"new", partition=0, timestamp_ms=1_000)
    finally:
        await producer.stop()
    newest = (await read_all(bs, target))[0][-1]
    assert newest[2] == 1 and newest[1] > 1_000


async def test_a_range_cuts_batches_and_restores_exactly_it(kafka: LocalKafka, cluster: ClusterConfig, unique: str,
                                                            tmp_path: Path) -> None:
    bs, target = kafka.bootstrap_servers, f"{unique}-r"
    await _batched(bs, unique, "zstd", partitions=1)
    done = await backup(cluster, unique, tmp_path)
    result = await restore(cluster, tmp_path, done.backup_id, target_topic=target, create_topic=True,
                           from_offset=25, to_offset=164)
    source, restored = (await read_all(bs, unique))[0], (await read_all(bs, target))[0]
    assert content(restored) == content(source[25:165]) and [r[0] for r in restored] == list(range(140))
    assert result.partitions[0].offset_map == ((25, 0, 140),)
    after = stored_batches((await backup(cluster, target, tmp_path)).path)[0]
    assert records_sent_as_stored(stored_batches(done.path)[0], after) == 6  # offsets 40-159; both ends re-encoded
    assert [b[2] for b in after] == [15, 20, 20, 20, 20, 20, 20, 5]


async def test_batches_larger_than_the_target_takes_are_split(kafka: LocalKafka, cluster: ClusterConfig, unique: str,
                                                              tmp_path: Path) -> None:
    bs, target = kafka.bootstrap_servers, f"{unique}-r"
    await _batched(bs, unique, None, partitions=1, batches=3, per_batch=40, value_bytes=1000)
    await create_topic(bs, target, 1, {"max.message.bytes": "20000"})
    done = await backup(cluster, unique, tmp_path)
    assert all(len(b[5]) > 40_000 for b in stored_batches(done.path)[0])
    await restore(cluster, tmp_path, done.backup_id, target_topic=target)
    assert (await read_all(bs, target))[0] == (await read_all(bs, unique))[0]
    after = stored_batches((await backup(cluster, target, tmp_path)).path)[0]
    assert len(after) > 6 and all(len(b[5]) + HEADER_SIZE <= 20_000 for b in after)


async def _compacted_with_holes(bs: str, topic: str) -> None:
    """lz4 batches of one partition, compacted: [k0..k9] loses k1, k3, k5 (a batch with holes); [k1 k3 k5
    k20 k21] and [k30..k34] stay whole; [k40 (tombstone) k41] stays whole but the cleaner marks it."""
    await create_topic(bs, topic, 1, {"cleanup.policy": "compact", "segment.ms": "100",
                                      "min.cleanable.dirty.ratio": "0.001", "min.compaction.lag.ms": "0",
                                      "delete.retention.ms": "86400000"})
    producer = AIOKafkaProducer(bootstrap_servers=bs, compression_type="lz4")
    await producer.start()
    try:
        for keys in (range(10), (1, 3, 5, 20, 21), range(30, 35), (40, 41)):
            builder = producer.create_batch()
            for k in keys:
                builder.append(key=f"k{k}".encode(), value=None if k == 40 else f"v{k}".encode(), timestamp=None,
                               headers=[("h", str(k).encode())])
            await (await producer.send_batch(builder, topic, partition=0))
        for _ in range(120):  # the cleaner runs every 250 ms in the test broker; a new record rolls the segment
            await asyncio.sleep(0.25)
            await producer.send_and_wait(topic, b"roll", key=b"roll")
            if [r[0] for r in (await read_all(bs, topic))[0][:4]] == [0, 2, 4, 6]:
                break
    finally:
        await producer.stop()
    stable = await read_all(bs, topic)
    for _ in range(60):  # no more writes: wait until the cleaner has nothing left to do
        await asyncio.sleep(0.5)
        previous, stable = stable, await read_all(bs, topic)
        if previous == stable:
            return
    raise AssertionError("the log cleaner did not settle")


async def _commit(bs: str, group: str, topic: str, offset: int) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bs, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, 0)])
        await consumer.commit({TopicPartition(topic, 0): offset})
    finally:
        await consumer.stop()


async def test_compacted_batches_with_holes_and_translated_group(kafka: LocalKafka, cluster: ClusterConfig,
                                                                 unique: str, tmp_path: Path) -> None:
    bs, target, group = kafka.bootstrap_servers, f"{unique}-r", f"{unique}-g"
    await _compacted_with_holes(bs, unique)
    await _commit(bs, group, unique, 3)  # it had read k0 (offset 0) and k2 (2); offset 3 is a hole
    await create_topic(bs, target, 1)  # not compacted: nothing changes under the comparison
    done = await backup(cluster, unique, tmp_path)
    headers = [h for h, _view in iter_batches(done.path, read_manifest(done.path)[0].partitions[0])]
    assert [(h.base_offset, h.record_count, h.last_offset_delta) for h in headers[:2]] == [(0, 7, 9), (10, 5, 4)]
    assert headers[3].attributes & 0x40  # the cleaner set the delete horizon of the batch with the tombstone

    result = await restore(cluster, tmp_path, done.backup_id, target_topic=target,
                           restore_consumer_offsets=(group,))
    source, restored = (await read_all(bs, unique))[0], (await read_all(bs, target))[0]
    assert content(restored) == content(source) and [r[0] for r in restored] == list(range(len(source)))
    runs = result.partitions[0].offset_map  # k6..k41 at consecutive offsets, then the roll records left
    assert runs[:3] == ((0, 0, 1), (2, 1, 1), (4, 2, 1)) and runs[3][:2] == (6, 3) and runs[3][2] >= 16
    [commit] = result.groups
    assert commit.committed and commit.offsets == {0: 2}  # source 3 is a hole: the next record, k4, is target 2
    read = (await _read_as_group(bs, group, target, [0]))[0]
    assert content(read) == content([r for r in source if r[0] >= 3]) and read[0][3] == b"k4"
    after = stored_batches((await backup(cluster, target, tmp_path)).path)[0]
    whole = [h for h in headers if h.resendable]  # the two whole, unmarked lz4 batches and the roll records
    assert headers[1] in whole and headers[2] in whole and headers[0] not in whole and headers[3] not in whole
    assert records_sent_as_stored(stored_batches(done.path)[0], after) == len(whole)


async def test_the_broker_refuses_a_client_batch_with_holes(kafka: LocalKafka, unique: str) -> None:
    """What makes a compacted batch with holes go the per-record way: Kafka (LogValidator) refuses a
    client batch whose record count disagrees with its offset range, compressed or not."""
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 1)
    producer = AIOKafkaProducer(bootstrap_servers=bs)
    await producer.start()
    try:
        client = producer.client
        await client._wait_on_metadata(unique)
        leader = client.cluster.leader_for_partition(TopicPartition(unique, 0))
        answers = {}
        for codec in (0, 4):
            for deltas in ((0, 2, 5), (0, 1, 2)):
                builder = DefaultRecordBatchBuilder(2, codec, 0, -1, -1, -1, 1 << 20)
                for d in deltas:
                    builder.append(d, 1_700_000_000_000 + d, f"k{d}".encode(), b"v", [])
                request = ProduceRequest(None, -1, 10_000, [(unique, [(0, bytes(builder.build()))])])
                [(_topic, [(_p, code, *_rest)])] = (await client.send(leader, request)).topics
                answers[codec, deltas] = code
    finally:
        await producer.stop()
    assert answers == {(0, (0, 2, 5)): 87, (0, (0, 1, 2)): 0, (4, (0, 2, 5)): 87, (4, (0, 1, 2)): 0}  # INVALID_RECORD
    assert len((await read_all(bs, unique))[0]) == 6


async def test_a_batch_waits_for_its_partitions_leader(kafka: LocalKafka, cluster: ClusterConfig,
                                                       unique: str) -> None:
    """The sender with no leader known for the partition (a topic just created, metadata not there yet):
    the batch waits for one, then lands once, at the offset expected."""
    bs = kafka.bootstrap_servers
    builder = DefaultRecordBatchBuilder(2, 4, 0, -1, -1, -1, 1 << 20)
    for i in range(50):
        builder.append(i, 1_700_000_000_000 + i, f"k{i}".encode(), f"v{i}".encode(), [("h", b"x")])
    [(header, view)] = list(split_batches(bytes(builder.build())))
    written: list[tuple[int, list[int], int]] = []
    async with TopicWriter(cluster, unique, WriterSettings(stall_seconds=60),
                           lambda *w: written.append(w)) as writer:
        writer.expect(0, 0)
        await writer.write_batch(0, RawBatch(header, view))
        await asyncio.sleep(0.5)
        assert not written
        await create_topic(bs, unique, 1)
        await writer.flush()
    assert written == [(0, list(range(50)), 0)]
    restored = (await read_all(bs, unique))[0]
    assert [(r[0], r[1], r[3]) for r in restored] == [(i, 1_700_000_000_000 + i, f"k{i}".encode()) for i in range(50)]


maybe_bytes = st.one_of(st.none(), st.binary(max_size=300))
records = st.lists(st.tuples(maybe_bytes, maybe_bytes, st.lists(st.tuples(st.text(max_size=5), maybe_bytes),
                                                                max_size=3)), min_size=1, max_size=30)


@given(records, st.sampled_from([0, 1, 2, 3, 4]), st.booleans(), st.integers(0, 2**40), st.integers(0, 2**31 - 1))
def test_client_header_rewrites_only_what_a_producer_owns(batch_records: list, codec: int, transactional: bool,
                                                          producer_id: int, sequence: int) -> None:
    builder = DefaultRecordBatchBuilder(2, codec, int(transactional), 99, 7, 1234, 1 << 30)
    for i, (key, value, headers) in enumerate(batch_records):
        builder.append(i, 1_700_000_000_000 - i * 13, key, value, headers)
    stored = bytearray(builder.build())
    struct.pack_into(">q", stored, 0, 5000)  # as a broker stores it: its offset and leader epoch
    struct.pack_into(">i", stored, 12, 42)
    [(header, view)] = list(split_batches(bytes(stored)))
    assert header.resendable
    sent = client_header(view, producer_id, 3, sequence) + bytes(view[HEADER_SIZE:])
    assert struct.unpack_from(">qiib", sent) == (0, len(sent) - 12, -1, 2)
    assert struct.unpack_from(">qhi", sent, 43) == (producer_id, 3, sequence)
    assert struct.unpack_from(">h", sent, 21)[0] == header.attributes & ~0x10  # codec kept, no transaction
    assert struct.unpack_from(">I", sent, 17)[0] == crc32c.crc32c(sent[21:])
    assert sent[23:43] == bytes(stored[23:43]) and sent[57:] == bytes(stored[57:])  # deltas, times, count, records
    assert DefaultRecordBatch(sent).validate_crc()
    assert [(r.offset, r.timestamp, r.key, r.value, r.headers) for r in DefaultRecordBatch(sent)] == [
        (i, 1_700_000_000_000 - i * 13, k, v, h) for i, (k, v, h) in enumerate(batch_records)]


def test_which_stored_batches_can_be_sent_as_stored() -> None:
    def header(deltas: tuple[int, ...] = (0, 1, 2), attributes: int = 0) -> object:
        builder = DefaultRecordBatchBuilder(2, 0, 0, -1, -1, -1, 1 << 20)
        for d in deltas:
            builder.append(d, 1000 + d, b"k", b"v", [])
        data = bytearray(builder.build())
        struct.pack_into(">h", data, 21, attributes)
        return next(split_batches(bytes(data)))[0]

    assert header().resendable and header(attributes=4).resendable and header(attributes=0x10).resendable
    assert not header((0, 2, 3)).resendable  # compacted: a hole
    assert not header(attributes=0x08).resendable  # LogAppendTime: the broker would keep the producer's times
    assert not header(attributes=0x20).resendable  # control batch
    assert not header(attributes=0x40).resendable  # delete horizon set by the log cleaner
    assert not header(attributes=5).resendable  # unknown codec


async def test_coordinator_errors_are_retried_a_bounded_number_of_times() -> None:
    calls: list[int] = []
    pauses: list[float] = []

    async def pause(seconds: float) -> None:
        pauses.append(seconds)

    async def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise KafkaRequestFailed("CoordinatorLoadInProgressError", retriable=True)
        return "committed"

    assert await with_coordinator_retries(flaky, tries=5, sleep=pause) == "committed" and len(calls) == 3
    for error, expected_calls in ((KafkaRequestFailed("busy", retriable=True), 4), (KafkaRequestFailed("no"), 1),
                                  (ClusterUnreachable("down"), 1), (ConfigError("bad"), 1)):
        calls.clear()

        async def failing(error: Exception = error) -> str:
            calls.append(1)
            raise error

        with pytest.raises(type(error)):
            await with_coordinator_retries(failing, tries=4, sleep=pause)
        assert len(calls) == expected_calls
