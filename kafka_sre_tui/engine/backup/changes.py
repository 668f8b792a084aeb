"""The topic changing under a running backup: deleted and created again (its id changes), or given
more partitions. A recreated topic stops the backup (its records must never be mixed with the old
topic's); added partitions are not in the snapshot and are recorded in the manifest."""

from __future__ import annotations

from typing import Any

from kafka_sre_tui.engine.backup.plan import BackupPlan, topic_id
from kafka_sre_tui.engine.errors import KsreError
from kafka_sre_tui.engine.kafka.session import KafkaSession


class TopicRecreated(KsreError):
    """The topic was deleted (and maybe created again) while it was backed up."""


async def check_same_topic(session: KafkaSession, plan: BackupPlan) -> None:
    """Raise TopicRecreated when the topic's id is no longer the one the backup started with."""
    expected = plan.topic.get("topic_id")
    if expected is None:
        return  # a broker too old to have topic ids
    name = plan.topic["name"]
    now = await topic_id(session, name)
    if now == expected:
        return
    state = "deleted" if now is None else f"deleted and created again (topic id {expected}, now {now})"
    raise TopicRecreated(f"topic '{name}' was {state} while backup {plan.backup_id} ran: the records read so far "
                         "are the old topic's and nothing of a new one was mixed in; the backup is left incomplete "
                         "(it cannot be resumed): start a new backup")


def partitions_added(plan: BackupPlan, metadata: dict[str, Any]) -> list[int]:
    """Partitions the topic has now that it did not have when the backup started (not in its snapshot)."""
    before = plan.topic["partition_count"]
    now = [p["partition"] for t in metadata["topics"] if t["topic"] == plan.topic["name"] and not t["error_code"]
           for p in t["partitions"]]
    return sorted(p for p in now if p >= before)
