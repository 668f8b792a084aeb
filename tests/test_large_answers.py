"""The hand-written Metadata, ListOffsets and OffsetFetch codecs read what aiokafka's schema types read.

Pure logic: answers encoded with aiokafka's schemas, decoded both ways. The requests themselves are
exercised against real brokers by every listing test (topics, groups, lag, records)."""

from __future__ import annotations

import io

import pytest
from aiokafka.protocol.metadata import MetadataResponse_v5
from aiokafka.protocol.offset import OffsetResponse_v4
from aiokafka.protocol.types import Boolean, CompactArray, CompactString, Int16, Int32, Int64, Schema, TaggedFields

from kafka_sre_tui.engine.kafka.large_answers import metadata_dict, offsets_answer
from kafka_sre_tui.engine.kafka.offset_fetch import OffsetFetch, committed_answer
from kafka_sre_tui.engine.models import TopicPartition


def test_metadata_matches_aiokafka_on_brokers_topics_and_odd_partitions() -> None:
    brokers = [(1, "b1.example", 9092, None), (2, "b2.example", 9093, "rack-ü")]
    topics = [
        (0, "orders", False, [(0, 0, 1, [1, 2], [1, 2], []), (5, 1, -1, [2, 1], [], [2])]),  # leaderless
        (0, "__consumer_offsets", True, [(0, 0, 2, [2], [2], [])]),
        (3, "gone", False, []),  # an error code and no partitions
        (0, "ünïcode-topic", False, [(0, 7, 1, [], [], [])]),  # no replicas at all
    ]
    body = MetadataResponse_v5(10, brokers, "cluster-x", 2, topics).encode()
    expected = MetadataResponse_v5.decode(io.BytesIO(body)).to_object()
    assert metadata_dict(body) == expected
    assert metadata_dict(MetadataResponse_v5(0, brokers, None, -1, []).encode())["cluster_id"] is None


def test_metadata_rejects_an_answer_with_bytes_left_over() -> None:
    body = MetadataResponse_v5(0, [(1, "h", 1, None)], "c", 1, []).encode()
    with pytest.raises(ValueError, match="4 bytes past its last field"):
        metadata_dict(body + b"\x00" * 4)


def test_offsets_read_every_partition_with_its_error_code() -> None:
    answer = OffsetResponse_v4(0, [
        ("a", [(0, 0, -1, 120, 3), (1, 6, -1, -1, -1)]),  # partition 1: not the leader
        ("b-ü", [(4, 0, 1_700_000_000_000, 2**40, 0)]),
        ("empty", []),
    ])
    assert offsets_answer(answer.encode()) == [
        (TopicPartition("a", 0), 0, 120), (TopicPartition("a", 1), 6, -1), (TopicPartition("b-ü", 4), 0, 2**40)]


_OFFSET_FETCH_V8 = Schema(
    ("throttle_time_ms", Int32),
    ("groups", CompactArray(
        ("group_id", CompactString("utf-8")),
        ("topics", CompactArray(
            ("name", CompactString("utf-8")),
            ("partitions", CompactArray(("index", Int32), ("offset", Int64), ("epoch", Int32),
                                        ("metadata", CompactString("utf-8")), ("error_code", Int16),
                                        ("tags", TaggedFields))),
            ("tags", TaggedFields))),
        ("error_code", Int16), ("tags", TaggedFields))),
    ("tags", TaggedFields),
)


def test_offset_fetch_reads_each_group_its_error_and_partitions_past_tagged_fields() -> None:
    # aiokafka writes a tagged field's bytes as given: they start with their size, as on the wire
    body = _OFFSET_FETCH_V8.encode((7, [
        ("orders-app", [("orders", [(0, 42, 3, None, 0, {}), (1, -1, -1, "", 0, {5: b"\x06future"})], {})], 0, {}),
        ("not-mine", [], 16, {}),  # NOT_COORDINATOR
        ("grüppe", [("t", [(2, 2**40, -1, "meta data", 0, {})], {3: b"\x01x"})], 0, {}),
    ], {1: b"\x04tail"}))
    assert committed_answer(body) == {
        "orders-app": (0, {TopicPartition("orders", 0): (42, 0), TopicPartition("orders", 1): (-1, 0)}),
        "not-mine": (16, {}),
        "grüppe": (0, {TopicPartition("t", 2): (2**40, 0)}),
    }


def test_offset_fetch_asks_for_every_topic_of_each_group() -> None:
    request = OffsetFetch(["a", "bé"]).build(OffsetFetch._CLASSES[0])
    request_schema = Schema(("groups", CompactArray(("group_id", CompactString("utf-8")),
                                                    ("topics", CompactArray(("name", CompactString("utf-8")),
                                                                            ("partitions", CompactArray(Int32)),
                                                                            ("tags", TaggedFields))),
                                                    ("tags", TaggedFields))),
                            ("require_stable", Boolean), ("tags", TaggedFields))
    assert request_schema.decode(io.BytesIO(request.encode())) == ([("a", None, {}), ("bé", None, {})], False, {})


def test_log_dirs_v4_read_by_hand_as_aiokafka_reads_them() -> None:
    from kafka_sre_tui.engine.kafka.protocol import _LOG_DIRS_RESPONSE_V4, _LogDirsResponse_v4, log_dirs_answer

    decoded = (0, 0, [
        (0, "/data/a", [("orders", [(0, 1234, 0, False, {}), (3, 2**35, 7, True, {2: b"\x01z"})], {}),
                        ("ü", [], {})], 10**12, 5 * 10**11, {}),
        (57, "/data/b", [], -1, -1, {}),  # an offline log dir
    ], {})
    response = _LogDirsResponse_v4(_LOG_DIRS_RESPONSE_V4.encode(decoded))
    assert log_dirs_answer(response) == (0, [
        (0, "/data/a", [("orders", [(0, 1234, 0, False), (3, 2**35, 7, True)]), ("ü", [])]),
        (57, "/data/b", []),
    ])
