"""Waiting for groups made by Kafka's Java clients (tests/java_clients.py) to reach a state."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from kafka_sre_tui.engine.errors import KafkaRequestFailed, NotFound
from kafka_sre_tui.engine.inspect.groups import describe_group
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.models import GroupInfo

JAVA_PATIENCE = 150.0  # seconds: a JVM starting on a loaded 2-core machine takes long to join


async def until_group(session: KafkaSession, group_id: str, ready: Callable[[GroupInfo], bool], what: str,
                      seconds: float = JAVA_PATIENCE) -> GroupInfo:
    """The group as soon as ``ready`` holds for it; fails naming ``what`` (and the last look) after ``seconds``."""
    last: GroupInfo | str = "never described"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        try:
            last = await describe_group(session, group_id)
            if ready(last):
                return last
        except (NotFound, KafkaRequestFailed) as exc:  # not yet there, or its coordinator still loading
            if isinstance(exc, KafkaRequestFailed) and not exc.retriable:
                raise
            last = str(exc)
        await asyncio.sleep(0.5)
    raise AssertionError(f"timed out after {seconds:g} s waiting for {what}; last: {last}")


def caught_up(g: GroupInfo, partitions: int) -> bool:
    return len(g.partitions) == partitions and all(p.lag == 0 for p in g.partitions)
