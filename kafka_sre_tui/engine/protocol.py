"""Request classes where aiokafka's own are wrong for our use.

aiokafka 0.14 builds DescribeGroups v3 but decodes its answer with the v2 schema, which lacks the
per-group ``authorized_operations`` field: with two or more groups in one answer the decoder
runs off the end ("Buffer underrun decoding string") and the connection is dropped. We do not
need authorized operations, so DescribeGroups is capped at v2, which every Kafka 4.x broker serves.
"""

from __future__ import annotations

from typing import TypeAlias

from aiokafka.protocol.admin import DescribeGroupsRequest_v0, DescribeGroupsRequest_v1, DescribeGroupsRequest_v2
from aiokafka.protocol.api import Request

_DescribeGroupsUpToV2: TypeAlias = DescribeGroupsRequest_v0 | DescribeGroupsRequest_v1 | DescribeGroupsRequest_v2


class DescribeGroups(Request[_DescribeGroupsUpToV2]):
    API_KEY = 15

    def __init__(self, groups: list[str]) -> None:
        self._groups = groups

    def build(self, request_struct_class: type[_DescribeGroupsUpToV2]) -> _DescribeGroupsUpToV2:
        return request_struct_class(self._groups)
