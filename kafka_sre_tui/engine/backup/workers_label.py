"""How a groups listing tells a backup workers group (membership only, never an offset) from a consumer's."""

from __future__ import annotations

from kafka_sre_tui.engine.models import GroupInfo

WORKER_CLIENT_ID = "kafka-sre-tui-backup-worker"  # the client id every backup worker's group member carries
WORKERS_LABEL = "backup workers"


def is_workers_group(group: GroupInfo) -> bool:
    """Every member is a kafka-sre-tui backup worker (an empty group cannot be told apart)."""
    return bool(group.members) and all(m.client_id == WORKER_CLIENT_ID for m in group.members)
