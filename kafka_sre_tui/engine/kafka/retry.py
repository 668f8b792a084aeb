"""Trying a Kafka call again while Kafka says it is only momentarily unable to answer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from kafka_sre_tui.engine.errors import KafkaRequestFailed, KsreError
from kafka_sre_tui.engine.jobs import Retrying

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


FIRST_PAUSE_SECONDS = 0.5
MAX_PAUSE_SECONDS = 5.0


async def retry_while_away(attempt: Callable[[bool], Awaitable[T]], retry_seconds: float,
                           on_retry: Callable[[Retrying], None], resumable: Callable[[], str | None] = lambda: None,
                           sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
                           clock: Callable[[], float] = time.monotonic) -> T:
    """``attempt(again)`` until it succeeds, fails for good, or the cluster stays away too long.

    A retriable error (no connection, no answer, a broker not ready, a partition without a leader)
    pauses 0.5 s, doubling up to 5 s, and calls ``attempt(True)``: the job resumes from its durable
    state. It gives up (raising the last error) once failures have gone on for ``retry_seconds``; an
    attempt that ran ``retry_seconds`` or longer before failing starts a new count, so two restarts an
    hour apart are two separate outages. When it gives up, ``resumable()`` (how to continue, if the job
    left durable state) is added to the error unless it says so already."""
    failing_since: float | None = None
    pause = FIRST_PAUSE_SECONDS
    again = False
    while True:
        started = clock()
        try:
            return await attempt(again)
        except KsreError as exc:
            now = clock()
            if not exc.retriable:
                raise
            if failing_since is None or now - started >= retry_seconds:
                failing_since, pause = now, FIRST_PAUSE_SECONDS
            left = retry_seconds - (now - failing_since)
            if left <= 0:
                hint = resumable()
                if hint is None or hint in str(exc):
                    raise
                gave_up = type(exc)(f"{exc}; gave up after {retry_seconds:g} s (retry_seconds); {hint}")
                gave_up.retriable = exc.retriable
                raise gave_up from exc
            wait = min(pause, left)
            on_retry(Retrying(str(exc), wait, left))
            await sleep(wait)
            pause = min(pause * 2, MAX_PAUSE_SECONDS)
            again = True
