"""Request classes where aiokafka's own are wrong for our use.

aiokafka 0.14 builds DescribeGroups v3 but decodes its answer with the v2 schema, which lacks the
per-group ``authorized_operations`` field: with two or more groups in one answer the decoder
runs off the end ("Buffer underrun decoding string") and the connection is dropped. We do not
need authorized operations, so DescribeGroups is capped at v2, which every Kafka 4.x broker serves.

aiokafka's Metadata stops at v5, before topic ids (v10+); ``TopicIds`` asks for v12.

aiokafka has no DescribeLogDirs at all; ``DescribeLogDirs`` asks each broker for its replicas' sizes.
"""

from __future__ import annotations

import base64
import struct
from io import BytesIO
from typing import Any, TypeAlias

from aiokafka.protocol.admin import DescribeGroupsRequest_v0, DescribeGroupsRequest_v1, DescribeGroupsRequest_v2
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import (
    AbstractType,
    Array,
    Boolean,
    CompactArray,
    CompactString,
    Int16,
    Int32,
    Int64,
    Schema,
    String,
    TaggedFields,
)

from kafka_sre_tui.engine.kafka.wire import Reader

_DescribeGroupsUpToV2: TypeAlias = DescribeGroupsRequest_v0 | DescribeGroupsRequest_v1 | DescribeGroupsRequest_v2


class DescribeGroups(Request[_DescribeGroupsUpToV2]):
    API_KEY = 15

    def __init__(self, groups: list[str]) -> None:
        self._groups = groups

    def build(self, request_struct_class: type[_DescribeGroupsUpToV2]) -> _DescribeGroupsUpToV2:
        return request_struct_class(self._groups)


class Raw(AbstractType[bytes]):
    """Bytes passed through as they are: a body encoded by hand, or an answer left undecoded for a
    decoder that runs off the event loop or decodes faster than aiokafka's field-by-field one."""

    @classmethod
    def encode(cls, value: bytes) -> bytes:
        return value

    @classmethod
    def decode(cls, data: BytesIO) -> bytes:
        return data.read()


# The schema of a request encoded by hand, or of an answer left undecoded: one field, the body. aiokafka
# wants a request class and an answer class per API key and version, each with every attribute spelled out.
RAW_BODY = Schema(("body", Raw))


class Uuid(AbstractType[bytes]):
    """Kafka's UUID: 16 raw bytes."""

    @classmethod
    def encode(cls, value: bytes) -> bytes:
        return value

    @classmethod
    def decode(cls, data: BytesIO) -> bytes:
        value = data.read(16)
        if len(value) != 16:
            raise ValueError("Buffer underrun decoding a UUID")
        return value


_TOPIC_IDS_RESPONSE = Schema(
    ("throttle_time_ms", Int32),
    ("brokers", CompactArray(("node_id", Int32), ("host", CompactString("utf-8")), ("port", Int32),
                             ("rack", CompactString("utf-8")), ("tags", TaggedFields))),
    ("cluster_id", CompactString("utf-8")),
    ("controller_id", Int32),
    ("topics", CompactArray(
        ("error_code", Int16), ("name", CompactString("utf-8")), ("topic_id", Uuid), ("is_internal", Boolean),
        ("partitions", CompactArray(
            ("error_code", Int16), ("partition_index", Int32), ("leader_id", Int32), ("leader_epoch", Int32),
            ("replica_nodes", CompactArray(Int32)), ("isr_nodes", CompactArray(Int32)),
            ("offline_replicas", CompactArray(Int32)), ("tags", TaggedFields))),
        ("topic_authorized_operations", Int32), ("tags", TaggedFields))),
    ("tags", TaggedFields),
)


class _MetadataResponse_v12(Response):
    API_KEY = 3
    API_VERSION = 12
    SCHEMA = _TOPIC_IDS_RESPONSE


class _MetadataRequest_v12(RequestStruct):
    """Metadata v12 (Kafka 3.3+), the first aiokafka does not know: it carries topic ids."""

    FLEXIBLE_VERSION = True
    API_KEY = 3
    API_VERSION = 12
    RESPONSE_TYPE = _MetadataResponse_v12
    SCHEMA = Schema(
        ("topics", CompactArray(("topic_id", Uuid), ("name", CompactString("utf-8")), ("tags", TaggedFields))),
        ("allow_auto_topic_creation", Boolean),
        ("include_topic_authorized_operations", Boolean),
        ("tags", TaggedFields),
    )


class TopicIds(Request[_MetadataRequest_v12]):
    """Metadata for the named topics, with their topic ids; never creates a topic."""

    API_KEY = 3

    def __init__(self, topics: list[str]) -> None:
        self._topics = topics

    def build(self, request_struct_class: type[_MetadataRequest_v12]) -> _MetadataRequest_v12:
        return request_struct_class([(bytes(16), name, {}) for name in self._topics], False, False, {})


def topic_id_text(raw: bytes) -> str | None:
    """A topic id as Kafka's tools print it (URL-safe base64, no padding); None for the zero id."""
    if raw == bytes(16):
        return None
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# -- DescribeLogDirs (API 35): aiokafka has no struct for it -----------------------------------
# v0 (Kafka 1.0) and v1 share a schema; v2+ are flexible, v3 adds a top-level error code (a refused
# request says so instead of answering with no log dirs), v4 the volume's total and usable bytes.
# A broker that serves v2 or v3 at most is asked with v1; Kafka 4 serves 1-4.

_LOG_DIRS_REQUEST_V0 = Schema(("topics", Array(("topic", String("utf-8")), ("partitions", Array(Int32)))))
_LOG_DIRS_REQUEST_V4 = Schema(
    ("topics", CompactArray(("topic", CompactString("utf-8")), ("partitions", CompactArray(Int32)),
                            ("tags", TaggedFields))),
    ("tags", TaggedFields),
)
_LOG_DIRS_RESPONSE_V0 = Schema(
    ("throttle_time_ms", Int32),
    ("results", Array(
        ("error_code", Int16), ("log_dir", String("utf-8")),
        ("topics", Array(
            ("name", String("utf-8")),
            ("partitions", Array(("partition_index", Int32), ("partition_size", Int64), ("offset_lag", Int64),
                                 ("is_future_key", Boolean))))))),
)
_LOG_DIRS_RESPONSE_V4 = Schema(
    ("throttle_time_ms", Int32),
    ("error_code", Int16),
    ("results", CompactArray(
        ("error_code", Int16), ("log_dir", CompactString("utf-8")),
        ("topics", CompactArray(
            ("name", CompactString("utf-8")),
            ("partitions", CompactArray(("partition_index", Int32), ("partition_size", Int64), ("offset_lag", Int64),
                                        ("is_future_key", Boolean), ("tags", TaggedFields))),
            ("tags", TaggedFields))),
        ("total_bytes", Int64), ("usable_bytes", Int64), ("tags", TaggedFields))),
    ("tags", TaggedFields),
)


class _LogDirsResponse(Response):
    """Answers arrive undecoded: a broker with 50,000 replicas answers with 1 MB that takes 0.15 s
    to decode, which belongs in a worker thread, not on the event loop (the dashboard's)."""

    API_KEY = 35
    API_VERSION = 0
    SCHEMA = RAW_BODY
    BODY: Schema = _LOG_DIRS_RESPONSE_V0


class _LogDirsResponse_v1(_LogDirsResponse):
    API_VERSION = 1


class _LogDirsResponse_v4(_LogDirsResponse):
    API_VERSION = 4
    BODY = _LOG_DIRS_RESPONSE_V4


def log_dirs_answer(response: Any) -> tuple[int, list[Any]]:
    """Decode a DescribeLogDirs answer: its top-level error code (0 before v3) and its results, one
    per log dir: ``(error_code, log_dir, [(topic, [(partition, size, offset_lag, is_future, ...)], ...)], ...)``.
    v4, what Kafka 3.3 and newer serve, is decoded by hand: a fifth of aiokafka's time."""
    if response.API_VERSION == 4:
        return _log_dirs_v4(response.body)
    decoded = response.BODY.decode(BytesIO(response.body))
    return 0, decoded[1]


_REPLICA = struct.Struct(">iqq?")  # partition, size, offset lag, is future


def _log_dirs_v4(body: bytes) -> tuple[int, list[Any]]:
    r = Reader(body)
    r.pos += 4  # throttle time
    error_code = r.int16()
    results = []
    for _ in range(r.count()):
        dir_error, log_dir = r.int16(), r.compact_string()
        topics = []
        for _ in range(r.count()):
            name = r.compact_string()
            partitions = []
            for _ in range(r.count()):
                partitions.append(_REPLICA.unpack_from(r.buf, r.pos))
                r.pos += _REPLICA.size
                r.skip_tags()
            r.skip_tags()
            topics.append((name, partitions))
        r.pos += 16  # total and usable bytes of the volume
        r.skip_tags()
        results.append((dir_error, log_dir, topics))
    r.skip_tags()
    r.done("DescribeLogDirs")
    return error_code, results


class _LogDirsRequest_v0(RequestStruct):
    API_KEY = 35
    API_VERSION = 0
    RESPONSE_TYPE = _LogDirsResponse
    SCHEMA = _LOG_DIRS_REQUEST_V0


class _LogDirsRequest_v1(RequestStruct):
    API_KEY = 35
    API_VERSION = 1
    RESPONSE_TYPE = _LogDirsResponse_v1
    SCHEMA = _LOG_DIRS_REQUEST_V0


class _LogDirsRequest_v4(RequestStruct):
    FLEXIBLE_VERSION = True
    API_KEY = 35
    API_VERSION = 4
    RESPONSE_TYPE = _LogDirsResponse_v4
    SCHEMA = _LOG_DIRS_REQUEST_V4


_LogDirsRequest: TypeAlias = _LogDirsRequest_v0 | _LogDirsRequest_v1 | _LogDirsRequest_v4


class DescribeLogDirs(Request[_LogDirsRequest]):
    """The size of every replica a broker holds, per log dir: of the given partitions (topic ->
    partition numbers), or of all of them when ``topics`` is None. Each broker answers for itself."""

    API_KEY = 35

    def __init__(self, topics: dict[str, list[int]] | None) -> None:
        self._topics = topics

    def build(self, request_struct_class: type[_LogDirsRequest]) -> _LogDirsRequest:
        flexible = request_struct_class.FLEXIBLE_VERSION
        topics: list[tuple[Any, ...]] | None = None
        if self._topics is not None:
            topics = [(name, partitions, {}) if flexible else (name, partitions)
                      for name, partitions in self._topics.items()]
        return request_struct_class(topics, {}) if flexible else request_struct_class(topics)
