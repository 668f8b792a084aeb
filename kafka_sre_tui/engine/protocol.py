"""Request classes where aiokafka's own are wrong for our use.

aiokafka 0.14 builds DescribeGroups v3 but decodes its answer with the v2 schema, which lacks the
per-group ``authorized_operations`` field: with two or more groups in one answer the decoder
runs off the end ("Buffer underrun decoding string") and the connection is dropped. We do not
need authorized operations, so DescribeGroups is capped at v2, which every Kafka 4.x broker serves.

aiokafka's Metadata stops at v5, before topic ids (v10+); ``TopicIds`` asks for v12.
"""

from __future__ import annotations

import base64
from io import BytesIO
from typing import TypeAlias

from aiokafka.protocol.admin import DescribeGroupsRequest_v0, DescribeGroupsRequest_v1, DescribeGroupsRequest_v2
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import (
    AbstractType,
    Boolean,
    CompactArray,
    CompactString,
    Int16,
    Int32,
    Schema,
    TaggedFields,
)

_DescribeGroupsUpToV2: TypeAlias = DescribeGroupsRequest_v0 | DescribeGroupsRequest_v1 | DescribeGroupsRequest_v2


class DescribeGroups(Request[_DescribeGroupsUpToV2]):
    API_KEY = 15

    def __init__(self, groups: list[str]) -> None:
        self._groups = groups

    def build(self, request_struct_class: type[_DescribeGroupsUpToV2]) -> _DescribeGroupsUpToV2:
        return request_struct_class(self._groups)


class _Uuid(AbstractType[bytes]):
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
        ("error_code", Int16), ("name", CompactString("utf-8")), ("topic_id", _Uuid), ("is_internal", Boolean),
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
        ("topics", CompactArray(("topic_id", _Uuid), ("name", CompactString("utf-8")), ("tags", TaggedFields))),
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
