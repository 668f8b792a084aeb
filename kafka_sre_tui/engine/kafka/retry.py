"""Trying a Kafka call again while Kafka says it is only momentarily unable to answer."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from kafka_sre_tui.engine.errors import KafkaRequestFailed

T = TypeVar("T")
COORDINATOR_TRIES = 20
COORDINATOR_PAUSE_SECONDS = 0.5


async def with_coordinator_retries(call: Callable[[], Awaitable[T]], tries: int = COORDINATOR_TRIES,
                                   sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> T:
    """``call()``, again after a pause while Kafka answers with a retriable error, ``tries`` times at
    most. A cluster's first group request creates __consumer_offsets, and its coordinator answers
    GroupCoordinatorNotAvailable / CoordinatorLoadInProgress for a few seconds. Not retried: anything
    else, including no answer at all (ClusterUnreachable, already after a full request timeout)."""
    for attempt in range(tries):
        try:
            return await call()
        except KafkaRequestFailed as exc:
            if not exc.retriable or attempt == tries - 1:
                raise
            await sleep(COORDINATOR_PAUSE_SECONDS)
    raise AssertionError("unreachable")
