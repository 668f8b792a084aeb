"""`records` against the real broker: every field shown exactly, starts (offset, time, tail, group),
filters, limits and read_committed."""

from __future__ import annotations

import json

from aiokafka import AIOKafkaProducer

from kafka_sre_tui.localkafka import LocalKafka
from tests.drain_helpers import run_cli
from tests.kafka_helpers import consume_and_commit, create_topic

BINARY = bytes(range(256))


async def _send_odd_records(bs: str, topic: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bs)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b'{"order": 7, "items": [1, 2]}', key=None, partition=0,
                                     timestamp_ms=1_700_000_000_000,
                                     headers=[("trace", b"a"), ("trace", b"b"), ("empty", None)])
        await producer.send_and_wait(topic, b"", key=b"", partition=0, timestamp_ms=1_700_000_001_000)
        await producer.send_and_wait(topic, BINARY, key=b"k\xff", partition=0, timestamp_ms=1_700_000_002_000)
        await producer.send_and_wait(topic, None, key=b"gone", partition=0, timestamp_ms=1_700_000_003_000)
    finally:
        await producer.stop()


async def test_records_are_shown_exactly(kafka: LocalKafka, unique: str) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 1)
    await _send_odd_records(bs, unique)
    run = await run_cli("records", unique, "--cluster", bs)
    assert run.code == 0, run.stderr
    first, empty, binary, tombstone = run.lines
    assert (first["offset"], first["partition"], first["timestamp_type"]) == (0, 0, "CreateTime")
    assert first["timestamp"] == "2023-11-14T22:13:20.000Z" and first["timestamp_ms"] == 1_700_000_000_000
    assert first["key"] is None and first["key_format"] == "null"
    assert [(h["name"], h["value"]) for h in first["headers"]] == [("trace", "a"), ("trace", "b"), ("empty", None)]
    assert first["value_format"] == "json" and json.loads(first["value"]) == {"order": 7, "items": [1, 2]}
    assert (empty["key"], empty["key_format"], empty["value"], empty["value_size"]) == ("", "text", "", 0)
    assert binary["value_format"] == "hex" and bytes.fromhex(binary["value"]) == BINARY
    assert binary["value_size"] == 256 and binary["key"] == "6bff" and binary["key_format"] == "hex"
    assert tombstone["value"] is None and tombstone["value_format"] == "null" and tombstone["key"] == "gone"
    assert "4 records shown" in run.stderr


async def test_log_append_time_and_cut_values(kafka: LocalKafka, unique: str) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 1, {"message.timestamp.type": "LogAppendTime"})
    producer = AIOKafkaProducer(bootstrap_servers=bs)
    await producer.start()
    try:
        sent = await producer.send_and_wait(unique, b"x" * 5000, partition=0, timestamp_ms=1_000)
    finally:
        await producer.stop()
    run = await run_cli("records", unique, "--cluster", bs, "--max-chars", "100")
    (record,) = run.lines
    assert record["timestamp_type"] == "LogAppendTime" and record["timestamp_ms"] == sent.timestamp != 1_000
    assert record["value"] == "x" * 100 and record["value_size"] == 5000 and record["value_truncated"] is True


async def test_starts_time_tail_offset_group(kafka: LocalKafka, unique: str) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 2)
    producer = AIOKafkaProducer(bootstrap_servers=bs)
    await producer.start()
    try:
        for p in (0, 1):
            for i in range(10):
                await producer.send(unique, f"{p}-{i}".encode(), partition=p, timestamp_ms=1_000_000 + i * 1000)
        await producer.flush()
    finally:
        await producer.stop()
    await consume_and_commit(bs, f"{unique}-g", unique, {0: 4})  # no commit on partition 1

    def seen(run: object) -> list[tuple[int, int]]:
        return [(line["partition"], line["offset"]) for line in run.lines]  # type: ignore[attr-defined]

    at_time = await run_cli("records", unique, "--cluster", bs, "--time", "1970-01-01T00:16:46.500Z")
    assert seen(at_time) == [(0, 7), (0, 8), (0, 9), (1, 7), (1, 8), (1, 9)]  # 1,006,500 ms -> the 1,007,000 one
    tail = await run_cli("records", unique, "--cluster", bs, "--tail", "2", "--partition", "1")
    assert seen(tail) == [(1, 8), (1, 9)], tail.stderr
    offset = await run_cli("records", unique, "--cluster", bs, "--offset", "9")
    assert seen(offset) == [(0, 9), (1, 9)]
    group = await run_cli("records", unique, "--cluster", bs, "--group", f"{unique}-g", "--limit", "2")
    assert seen(group) == [(0, 4), (0, 5)]
    assert "partition 1: group" in group.stderr and "no commit" in group.stderr
    assert "--limit reached" in group.stderr


async def test_filters_match_value_key_and_headers(kafka: LocalKafka, unique: str) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 1)
    producer = AIOKafkaProducer(bootstrap_servers=bs)
    await producer.start()
    try:
        await producer.send(unique, b"payment failed", key=b"user-1", partition=0, headers=[("kind", b"error")])
        await producer.send(unique, b"payment ok", key=b"user-2", partition=0, headers=[("kind", b"info")])
        await producer.send(unique, b"refund failed", key=b"user-2", partition=0, headers=[("retry", None)])
        await producer.flush()
    finally:
        await producer.stop()

    async def offsets(*options: str) -> list[int]:
        run = await run_cli("records", unique, "--cluster", bs, *options)
        assert run.code == 0, run.stderr
        return [line["offset"] for line in run.lines]

    assert await offsets("--grep", "fail") == [0, 2]
    assert await offsets("--key=-2$") == [1, 2]
    assert await offsets("--header", "kind=err") == [0]
    assert await offsets("--header", "retry") == [2]
    assert await offsets("--grep", "fail", "--key", "user-2") == [2]
    bad = await run_cli("records", unique, "--cluster", bs, "--grep", "(")
    assert bad.code == 2 and "--grep: not a regular expression" in bad.stderr


async def test_aborted_transactions_are_left_out(kafka: LocalKafka, unique: str) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 1)
    producer = AIOKafkaProducer(bootstrap_servers=bs, transactional_id=f"{unique}-tx")
    await producer.start()
    try:
        async with producer.transaction():
            await producer.send(unique, b"committed", partition=0)
        await producer.begin_transaction()
        await producer.send(unique, b"aborted", partition=0)
        await producer.abort_transaction()
        async with producer.transaction():
            await producer.send(unique, b"after", partition=0)
    finally:
        await producer.stop()
    run = await run_cli("records", unique, "--cluster", bs)
    assert [line["value"] for line in run.lines] == ["committed", "after"], run.stderr
    raw = await run_cli("records", unique, "--cluster", bs, "--read-uncommitted")
    assert [line["value"] for line in raw.lines] == ["committed", "aborted", "after"]


async def test_unknown_topic_is_one_line(kafka: LocalKafka, unique: str) -> None:
    run = await run_cli("records", f"{unique}-nope", "--cluster", kafka.bootstrap_servers)
    assert run.code == 1 and run.stderr.count("\n") == 1 and "error:" in run.stderr
