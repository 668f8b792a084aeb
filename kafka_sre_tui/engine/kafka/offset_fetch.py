"""OffsetFetch v8: the committed offsets of many groups in one request per coordinator.

aiokafka's OffsetFetch stops at v3, one group per request: a listing of 2,500 groups was 2,500
round trips, each encoded and decoded field by field in Python. v8 (KIP-709, Kafka 3.0) asks for
a list of groups at once; the answer is decoded here with one ``struct`` call per partition. Field
layout from Kafka's ``OffsetFetchRequest.json`` / ``OffsetFetchResponse.json`` (flexible versions:
compact arrays and strings, a tagged-field section closing every structure).
"""

from __future__ import annotations

import struct

from aiokafka.protocol.api import Request, RequestStruct, Response

from kafka_sre_tui.engine.kafka.protocol import RAW_BODY
from kafka_sre_tui.engine.kafka.wire import Reader, compact_string, uvarint
from kafka_sre_tui.engine.models import TopicPartition

_PARTITION = struct.Struct(">iqi")  # index, committed offset, committed leader epoch
GROUPS_PER_REQUEST = 500  # keeps an answer for groups with many partitions to a few MB

# group id -> (its error code, {partition: (committed offset, partition error code)})
Committed = dict[str, tuple[int, dict[TopicPartition, tuple[int, int]]]]


class _Answer(Response):
    API_KEY = 9
    API_VERSION = 8
    SCHEMA = RAW_BODY


class _Ask(RequestStruct):
    FLEXIBLE_VERSION = True
    API_KEY = 9
    API_VERSION = 8
    RESPONSE_TYPE = _Answer
    SCHEMA = RAW_BODY


class OffsetFetch(Request[_Ask]):
    """Every committed offset of each group in ``group_ids`` (topics: null, meaning all of them)."""

    API_KEY = 9

    def __init__(self, group_ids: list[str]) -> None:
        self._group_ids = group_ids

    def build(self, request_struct_class: type[_Ask]) -> _Ask:
        parts = [uvarint(len(self._group_ids) + 1)]
        for group_id in self._group_ids:
            parts += [compact_string(group_id), b"\x00", b"\x00"]  # topics: null (all); no tagged fields
        parts.append(b"\x00\x00")  # require_stable: false; no tagged fields
        return request_struct_class(b"".join(parts))


def committed_answer(body: bytes) -> Committed:
    """An OffsetFetch v8 answer, per group: its error code and each partition's committed offset and
    error code (offset -1: nothing committed there)."""
    r = Reader(body)
    r.pos += 4  # throttle time
    result: Committed = {}
    for _ in range(r.count()):
        group_id = r.compact_string() or ""
        offsets: dict[TopicPartition, tuple[int, int]] = {}
        for _ in range(r.count()):
            topic = r.compact_string() or ""
            for _ in range(r.count()):
                index, offset, _epoch = _PARTITION.unpack_from(r.buf, r.pos)
                r.pos += _PARTITION.size
                r.skip_compact_string()  # the commit's metadata
                error_code = r.int16()
                r.skip_tags()
                offsets[TopicPartition(topic, index)] = (offset, error_code)
            r.skip_tags()
        group_error = r.int16()
        r.skip_tags()
        result[group_id] = (group_error, offsets)
    r.skip_tags()
    r.done("OffsetFetch")
    return result

