"""Group requests aiokafka 0.14 lacks, from Kafka's own JSON message schemas
(``clients/src/main/resources/common/message/*.json``), as Kafka 3.9 to 4.4 serve them.

- ListGroups v5 (KIP-848): every group with its state and its **type** (classic, consumer, share,
  streams); ``types_filter`` asks for some types only. A broker without v5 is asked with aiokafka's
  v0-v2, whose groups are all classic.
- ConsumerGroupDescribe v0-v1 (API 69): groups of the new consumer protocol, with member epochs and
  each member's current and target assignment (v1 adds the member type).
- ShareGroupDescribe v0-v1 (API 77): share groups (KIP-932); v1 has v0's layout.
- StreamsGroupDescribe v0 (API 89, KIP-1071): streams groups, their topology (which topics each
  subtopology reads) and each member's tasks; a 4.4 broker also serves v0.
- DescribeShareGroupOffsets v0-v1 (API 90): each share partition's start offset; v1 adds the
  broker's own lag and takes ``null`` topics for "every topic the group has state on".

Every one of these is a flexible version: compact strings and arrays, tagged fields after each struct.
"""

from __future__ import annotations

from io import BytesIO
from struct import pack, unpack
from typing import Any, TypeAlias

from aiokafka.protocol.admin import ListGroupsRequest_v0, ListGroupsRequest_v1, ListGroupsRequest_v2
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import (
    AbstractType,
    Boolean,
    CompactArray,
    CompactString,
    Int8,
    Int16,
    Int32,
    Int64,
    Schema,
    TaggedFields,
)

from kafka_sre_tui.engine.kafka.protocol import Uuid

_STR = CompactString("utf-8")
_TAGS = ("tags", TaggedFields)


class _UInt16(AbstractType[int]):
    @classmethod
    def encode(cls, value: int) -> bytes:
        return pack(">H", value)

    @classmethod
    def decode(cls, data: BytesIO) -> int:
        raw = data.read(2)
        if len(raw) != 2:
            raise ValueError("Buffer underrun decoding a uint16")
        return int(unpack(">H", raw)[0])


class _NullableStruct(AbstractType[Any]):
    """A struct field marked nullable in the schema: an int8 before it, -1 for null, 1 when present
    (Kafka's generated code; not a plain struct, whose fields follow directly)."""

    def __init__(self, *fields: tuple[str, Any]) -> None:
        self.schema = Schema(*fields)

    def encode(self, value: Any) -> bytes:  # type: ignore[override]
        return Int8.encode(-1) if value is None else Int8.encode(1) + self.schema.encode(value)

    def decode(self, data: BytesIO) -> Any:  # type: ignore[override]
        return None if Int8.decode(data) < 0 else self.schema.decode(data)


# -- ListGroups (API 16) -----------------------------------------------------------------------

class _ListGroupsResponse_v5(Response):
    API_KEY = 16
    API_VERSION = 5
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        ("error_code", Int16),
        ("groups", CompactArray(("group_id", _STR), ("protocol_type", _STR), ("group_state", _STR),
                                ("group_type", _STR), _TAGS)),
        _TAGS,
    )


class _ListGroupsRequest_v5(RequestStruct):
    FLEXIBLE_VERSION = True
    API_KEY = 16
    API_VERSION = 5
    RESPONSE_TYPE = _ListGroupsResponse_v5
    SCHEMA = Schema(("states_filter", CompactArray(_STR)), ("types_filter", CompactArray(_STR)), _TAGS)


_ListGroupsRequest: TypeAlias = (ListGroupsRequest_v0 | ListGroupsRequest_v1 | ListGroupsRequest_v2
                                 | _ListGroupsRequest_v5)


class ListGroups(Request[_ListGroupsRequest]):
    """The groups a broker coordinates. ``types`` (lower case, e.g. ``["consumer"]``) filters on a
    broker with v5; an empty list asks for every type. Read answers with :func:`listed_groups`."""

    API_KEY = 16

    def __init__(self, types: list[str] | None = None) -> None:
        self._types = types or []

    def build(self, request_struct_class: type[_ListGroupsRequest]) -> _ListGroupsRequest:
        if request_struct_class is _ListGroupsRequest_v5:
            return _ListGroupsRequest_v5([], self._types, {})
        return request_struct_class()


def listed_groups(response: Any) -> list[tuple[str, str, str | None, str]]:
    """``(group_id, protocol_type, state or None, type)`` of each group in a ListGroups answer;
    before v5 the state is unknown and every group is classic."""
    if response.API_VERSION >= 5:
        return [(g[0], g[1], g[2], g[3].lower()) for g in response.groups]
    return [(g[0], g[1], None, "classic") for g in response.groups]


# -- ConsumerGroupDescribe (API 69) and ShareGroupDescribe (API 77) ----------------------------

_TOPIC_PARTITIONS = CompactArray(("topic_id", Uuid), ("topic_name", _STR), ("partitions", CompactArray(Int32)),
                                 _TAGS)
_ASSIGNMENT = Schema(("topic_partitions", _TOPIC_PARTITIONS), _TAGS)


def _described_groups(*member_fields: tuple[str, Any]) -> Schema:
    return Schema(
        ("throttle_time_ms", Int32),
        ("groups", CompactArray(
            ("error_code", Int16), ("error_message", _STR), ("group_id", _STR), ("group_state", _STR),
            ("group_epoch", Int32), ("assignment_epoch", Int32), ("assignor_name", _STR),
            ("members", CompactArray(*member_fields, _TAGS)),
            ("authorized_operations", Int32), _TAGS)),
        _TAGS,
    )


_CONSUMER_MEMBER_V0 = (
    ("member_id", _STR), ("instance_id", _STR), ("rack_id", _STR), ("member_epoch", Int32), ("client_id", _STR),
    ("client_host", _STR), ("subscribed_topic_names", CompactArray(_STR)), ("subscribed_topic_regex", _STR),
    ("assignment", _ASSIGNMENT), ("target_assignment", _ASSIGNMENT))
_SHARE_MEMBER = (
    ("member_id", _STR), ("rack_id", _STR), ("member_epoch", Int32), ("client_id", _STR), ("client_host", _STR),
    ("subscribed_topic_names", CompactArray(_STR)), ("assignment", _ASSIGNMENT))
_DESCRIBE_REQUEST = Schema(("group_ids", CompactArray(_STR)), ("include_authorized_operations", Boolean), _TAGS)


class _ConsumerGroupDescribeResponse_v0(Response):
    API_KEY = 69
    API_VERSION = 0
    SCHEMA = _described_groups(*_CONSUMER_MEMBER_V0)


class _ConsumerGroupDescribeResponse_v1(Response):
    API_KEY = 69
    API_VERSION = 1
    SCHEMA = _described_groups(*_CONSUMER_MEMBER_V0, ("member_type", Int8))


class _ConsumerGroupDescribeRequest_v0(RequestStruct):
    FLEXIBLE_VERSION = True
    API_KEY = 69
    API_VERSION = 0
    RESPONSE_TYPE = _ConsumerGroupDescribeResponse_v0
    SCHEMA = _DESCRIBE_REQUEST


class _ConsumerGroupDescribeRequest_v1(_ConsumerGroupDescribeRequest_v0):
    API_VERSION = 1
    RESPONSE_TYPE = _ConsumerGroupDescribeResponse_v1


class _ShareGroupDescribeResponse_v0(Response):
    API_KEY = 77
    API_VERSION = 0
    SCHEMA = _described_groups(*_SHARE_MEMBER)


class _ShareGroupDescribeResponse_v1(_ShareGroupDescribeResponse_v0):
    API_VERSION = 1


class _ShareGroupDescribeRequest_v0(RequestStruct):
    FLEXIBLE_VERSION = True
    API_KEY = 77
    API_VERSION = 0
    RESPONSE_TYPE = _ShareGroupDescribeResponse_v0
    SCHEMA = _DESCRIBE_REQUEST


class _ShareGroupDescribeRequest_v1(_ShareGroupDescribeRequest_v0):
    API_VERSION = 1
    RESPONSE_TYPE = _ShareGroupDescribeResponse_v1


_ConsumerGroupDescribeRequest: TypeAlias = _ConsumerGroupDescribeRequest_v0 | _ConsumerGroupDescribeRequest_v1
_ShareGroupDescribeRequest: TypeAlias = _ShareGroupDescribeRequest_v0 | _ShareGroupDescribeRequest_v1


class ConsumerGroupDescribe(Request[_ConsumerGroupDescribeRequest]):
    """Groups of the consumer protocol (KIP-848). Each answer group:
    ``(error_code, error_message, group_id, state, group_epoch, assignment_epoch, assignor, members, ...)``,
    each member ``(member_id, instance_id, rack_id, member_epoch, client_id, host, topics, regex,
    assignment, target_assignment, ...)``, an assignment ``([(topic_id, topic, [partition], tags)], tags)``."""

    API_KEY = 69

    def __init__(self, group_ids: list[str]) -> None:
        self._group_ids = group_ids

    def build(self, request_struct_class: type[_ConsumerGroupDescribeRequest]) -> _ConsumerGroupDescribeRequest:
        return request_struct_class(self._group_ids, False, {})


class ShareGroupDescribe(Request[_ShareGroupDescribeRequest]):
    """Share groups (KIP-932): like :class:`ConsumerGroupDescribe`, members without instance id,
    regex or target assignment: ``(member_id, rack_id, member_epoch, client_id, host, topics, assignment, tags)``."""

    API_KEY = 77

    def __init__(self, group_ids: list[str]) -> None:
        self._group_ids = group_ids

    def build(self, request_struct_class: type[_ShareGroupDescribeRequest]) -> _ShareGroupDescribeRequest:
        return request_struct_class(self._group_ids, False, {})


# -- StreamsGroupDescribe (API 89) -------------------------------------------------------------

_TOPIC_INFO = CompactArray(("name", _STR), ("partitions", Int32), ("replication_factor", Int16),
                           ("topic_configs", CompactArray(("key", _STR), ("value", _STR), _TAGS)), _TAGS)
_TASKS = CompactArray(("subtopology_id", _STR), ("partitions", CompactArray(Int32)), _TAGS)
_TASK_OFFSETS = CompactArray(("subtopology_id", _STR), ("partition", Int32), ("offset", Int64), _TAGS)
_STREAMS_ASSIGNMENT = Schema(("active_tasks", _TASKS), ("standby_tasks", _TASKS), ("warmup_tasks", _TASKS), _TAGS)


class _StreamsGroupDescribeResponse_v0(Response):
    API_KEY = 89
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        ("groups", CompactArray(
            ("error_code", Int16), ("error_message", _STR), ("group_id", _STR), ("group_state", _STR),
            ("group_epoch", Int32), ("assignment_epoch", Int32),
            ("topology", _NullableStruct(
                ("epoch", Int32),
                ("subtopologies", CompactArray(
                    ("subtopology_id", _STR), ("source_topics", CompactArray(_STR)),
                    ("repartition_sink_topics", CompactArray(_STR)), ("state_changelog_topics", _TOPIC_INFO),
                    ("repartition_source_topics", _TOPIC_INFO), _TAGS)),
                _TAGS)),
            ("members", CompactArray(
                ("member_id", _STR), ("member_epoch", Int32), ("instance_id", _STR), ("rack_id", _STR),
                ("client_id", _STR), ("client_host", _STR), ("topology_epoch", Int32), ("process_id", _STR),
                ("user_endpoint", _NullableStruct(("host", _STR), ("port", _UInt16), _TAGS)),
                ("client_tags", CompactArray(("key", _STR), ("value", _STR), _TAGS)),
                ("task_offsets", _TASK_OFFSETS), ("task_end_offsets", _TASK_OFFSETS),
                ("assignment", _STREAMS_ASSIGNMENT), ("target_assignment", _STREAMS_ASSIGNMENT),
                ("is_classic", Boolean), _TAGS)),
            ("authorized_operations", Int32), _TAGS)),
        _TAGS,
    )


class _StreamsGroupDescribeRequest_v0(RequestStruct):
    FLEXIBLE_VERSION = True
    API_KEY = 89
    API_VERSION = 0
    RESPONSE_TYPE = _StreamsGroupDescribeResponse_v0
    SCHEMA = _DESCRIBE_REQUEST


class StreamsGroupDescribe(Request[_StreamsGroupDescribeRequest_v0]):
    """Streams groups (KIP-1071): state, epochs, the topology (``(epoch, [(subtopology_id,
    source_topics, repartition_sink_topics, changelogs, repartition_sources, tags)], tags)``) and
    members with their current and target tasks."""

    API_KEY = 89

    def __init__(self, group_ids: list[str]) -> None:
        self._group_ids = group_ids

    def build(self, request_struct_class: type[_StreamsGroupDescribeRequest_v0]) -> _StreamsGroupDescribeRequest_v0:
        return request_struct_class(self._group_ids, False, {})


# -- DescribeShareGroupOffsets (API 90) --------------------------------------------------------

def _share_offsets_response(*partition_fields: tuple[str, Any]) -> Schema:
    return Schema(
        ("throttle_time_ms", Int32),
        ("groups", CompactArray(
            ("group_id", _STR),
            ("topics", CompactArray(("topic_name", _STR), ("topic_id", Uuid),
                                    ("partitions", CompactArray(*partition_fields, _TAGS)), _TAGS)),
            ("error_code", Int16), ("error_message", _STR), _TAGS)),
        _TAGS,
    )


class _ShareOffsetsResponse_v0(Response):
    API_KEY = 90
    API_VERSION = 0
    SCHEMA = _share_offsets_response(("partition_index", Int32), ("start_offset", Int64), ("leader_epoch", Int32),
                                     ("error_code", Int16), ("error_message", _STR))


class _ShareOffsetsResponse_v1(Response):
    API_KEY = 90
    API_VERSION = 1
    SCHEMA = _share_offsets_response(("partition_index", Int32), ("start_offset", Int64), ("leader_epoch", Int32),
                                     ("lag", Int64), ("error_code", Int16), ("error_message", _STR))


_SHARE_OFFSETS_REQUEST = Schema(
    ("groups", CompactArray(
        ("group_id", _STR),
        ("topics", CompactArray(("topic_name", _STR), ("partitions", CompactArray(Int32)), _TAGS)),
        _TAGS)),
    _TAGS,
)


class _ShareOffsetsRequest_v0(RequestStruct):
    FLEXIBLE_VERSION = True
    API_KEY = 90
    API_VERSION = 0
    RESPONSE_TYPE = _ShareOffsetsResponse_v0
    SCHEMA = _SHARE_OFFSETS_REQUEST


class _ShareOffsetsRequest_v1(_ShareOffsetsRequest_v0):
    API_VERSION = 1
    RESPONSE_TYPE = _ShareOffsetsResponse_v1


_ShareOffsetsRequest: TypeAlias = _ShareOffsetsRequest_v0 | _ShareOffsetsRequest_v1


class DescribeShareGroupOffsets(Request[_ShareOffsetsRequest]):
    """Start offsets of a share group's partitions. ``topics`` names the partitions to ask about;
    a v1 broker is asked for every topic the group has state on (``null``), a v0 broker (Kafka 4.1)
    only for ``topics``. Read answers with :func:`share_offsets`."""

    API_KEY = 90

    def __init__(self, group_id: str, topics: dict[str, list[int]]) -> None:
        self._group_id = group_id
        self._topics = topics

    def build(self, request_struct_class: type[_ShareOffsetsRequest]) -> _ShareOffsetsRequest:
        topics: list[tuple[str, list[int], dict[int, bytes]]] | None = None
        if request_struct_class.API_VERSION == 0:
            topics = [(name, parts, {}) for name, parts in sorted(self._topics.items())]
        return request_struct_class([(self._group_id, topics, {})], {})


def share_offsets(response: Any) -> tuple[int, list[tuple[str, int, int, int | None, int]]]:
    """A DescribeShareGroupOffsets answer for one group: its error code and, per partition,
    ``(topic, partition, start_offset, lag or None, error_code)``; the lag is the broker's own (v1+,
    -1 when it does not know)."""
    with_lag = response.API_VERSION >= 1
    group = response.groups[0]
    rows = []
    for topic, _topic_id, partitions, _tags in group[1]:
        for p in partitions:
            lag = p[3] if with_lag and p[3] >= 0 else None
            rows.append((topic, p[0], p[1], lag, p[4] if with_lag else p[3]))
    return group[2], rows
