"""Change some of a topic's configs and leave the rest alone: IncrementalAlterConfigs v0 (API 44,
Kafka 2.3+), from Kafka's IncrementalAlterConfigsRequest/Response.json. aiokafka 0.14 has only the
older AlterConfigs, which replaces a topic's whole set of configs (anything not named falls back to
the broker's default): never what a tool that touches one setting of a production topic wants."""

from __future__ import annotations

from collections.abc import Mapping

from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import Array, Boolean, Int8, Int16, Int32, Schema, String

from kafka_sre_tui.engine.errors import KafkaRequestFailed
from kafka_sre_tui.engine.kafka.session import KafkaSession

TOPIC_RESOURCE = 2
SET = 0
_STR = String("utf-8")


class _IncrementalAlterConfigsResponse_v0(Response):
    API_KEY = 44
    API_VERSION = 0
    SCHEMA = Schema(("throttle_time_ms", Int32),
                    ("responses", Array(("error_code", Int16), ("error_message", _STR), ("resource_type", Int8),
                                        ("resource_name", _STR))))


class _IncrementalAlterConfigsRequest_v0(RequestStruct):
    API_KEY = 44
    API_VERSION = 0
    RESPONSE_TYPE = _IncrementalAlterConfigsResponse_v0
    SCHEMA = Schema(("resources", Array(("resource_type", Int8), ("resource_name", _STR),
                                        ("configs", Array(("name", _STR), ("config_operation", Int8),
                                                          ("value", _STR))))),
                    ("validate_only", Boolean))


class IncrementalAlterConfigs(Request[_IncrementalAlterConfigsRequest_v0]):
    API_KEY = 44

    def __init__(self, topic: str, values: Mapping[str, str]) -> None:
        self._topic, self._values = topic, dict(values)

    def build(self, request_struct_class: type[_IncrementalAlterConfigsRequest_v0]
              ) -> _IncrementalAlterConfigsRequest_v0:
        configs = [(name, SET, value) for name, value in self._values.items()]
        return request_struct_class([(TOPIC_RESOURCE, self._topic, configs)], False)


async def set_topic_configs(session: KafkaSession, topic: str, values: Mapping[str, str]) -> None:
    """Set ``values`` on ``topic``; every other config of it stays as it is."""
    action = f"setting {', '.join(f'{k}={v}' for k, v in values.items())} on topic '{topic}'"
    if not session.broker_ids():
        await session.metadata([])
    response = await session.send(session.broker_ids()[0], IncrementalAlterConfigs(topic, values), action)
    for error_code, message, _type, _name in response.responses:
        if error_code:
            session.raise_for_code(error_code, f"{action}{f' ({message})' if message else ''}")
    if not response.responses:
        raise KafkaRequestFailed(f"{action}: the broker answered without the topic")
