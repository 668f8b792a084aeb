"""Read and write one group's committed offsets (OffsetFetch / OffsetCommit on its coordinator)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from aiokafka import AIOKafkaConsumer
from aiokafka import TopicPartition as KafkaTP
from aiokafka import errors as kerr

from kafka_sre_tui.engine.errors import KafkaRequestFailed
from kafka_sre_tui.engine.kafka.session import KafkaSession, client_settings, translate_error
from kafka_sre_tui.engine.models import TopicPartition


async def committed_offsets(session: KafkaSession, group: str) -> dict[TopicPartition, int]:
    """Every partition the group has a commit on (a group that never committed: empty)."""
    answer = await session.guard(session.admin.list_consumer_group_offsets(group),
                                 f"reading committed offsets of group '{group}'")
    return {TopicPartition(tp.topic, tp.partition): meta.offset for tp, meta in answer.items() if meta.offset >= 0}


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
