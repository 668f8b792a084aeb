"""Read and write one group's committed offsets (OffsetFetch / OffsetCommit on its coordinator)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from aiokafka import AIOKafkaConsumer
from aiokafka import TopicPartition as KafkaTP
from aiokafka import errors as kerr
from aiokafka.protocol.commit import OffsetFetchRequest

from kafka_sre_tui.engine.errors import KafkaRequestFailed, KsreError
from kafka_sre_tui.engine.kafka.session import KafkaSession, client_settings, translate_error
from kafka_sre_tui.engine.models import TopicPartition

COORDINATOR_RETRIES = 5  # a coordinator loading its offsets, moving or being elected: asked again
COORDINATOR_BACKOFF_SECONDS = 0.2


async def committed_offsets(session: KafkaSession, group: str) -> dict[TopicPartition, int]:
    """Every partition the group has a commit on (a group that never committed: empty).

    Not aiokafka's ``list_consumer_group_offsets``: it ignores the answer's top-level error, so a
    coordinator that is loading its offsets or has just moved (a broker under load or restarting) read
    as a group without commits, and ``records --group`` as an empty read, an offsets reset as "no commit".
    Here such an answer is asked again (a retriable error), of the coordinator found anew, then raised."""
    action = f"reading committed offsets of group '{group}'"
    for attempt in range(COORDINATOR_RETRIES):
        try:
            return await _committed_once(session, group, action)
        except KsreError as exc:  # a coordinator loading, moving or not elected yet: retriable
            if not exc.retriable:
                raise
        await asyncio.sleep(COORDINATOR_BACKOFF_SECONDS * (attempt + 1))
    return await _committed_once(session, group, action)


async def _committed_once(session: KafkaSession, group: str, action: str) -> dict[TopicPartition, int]:
    node = await session.guard(session.admin.find_coordinator(group), action)
    response = await session.send(node, OffsetFetchRequest(group, None), action)
    session.raise_for_code(getattr(response, "error_code", 0), action)
    found = {}
    for topic, partitions in response.topics:
        for partition, offset, _metadata, error_code in partitions:
            session.raise_for_code(error_code, action)
            if offset >= 0:
                found[TopicPartition(topic, partition)] = offset
    return found


async def commit_offsets(session: KafkaSession, group: str, offsets: Mapping[TopicPartition, int]) -> None:
    """Commit ``offsets`` for a group with no active members (Kafka refuses it otherwise: the caller
    checks first, and a member that joins in between makes this fail in words)."""
    consumer = AIOKafkaConsumer(**client_settings(session.cluster), group_id=group, enable_auto_commit=False)
    action = f"committing offsets of group '{group}'"
    try:
        async with asyncio.timeout(session.cluster.request_timeout_seconds):
            await consumer.start()
            wanted = {KafkaTP(tp.topic, tp.partition): offset for tp, offset in offsets.items()}
            consumer.assign(list(wanted))
            await consumer.commit(wanted)
    except (kerr.CommitFailedError, kerr.IllegalGenerationError, kerr.UnknownMemberIdError,
            kerr.RebalanceInProgressError) as exc:
        raise KafkaRequestFailed(f"{action} on cluster '{session.cluster.name}': the group became active while "
                                 f"committing ({type(exc).__name__}); stop its consumers and try again") from exc
    except Exception as exc:
        raise translate_error(exc, session.cluster, action) from exc
    finally:
        await consumer.stop()
