"""Links of a chain for the catalog's tests, made by the set backup engine."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.backup.set_plan import SetRequest
from kafka_sre_tui.engine.backup.set_run import backup_set
from kafka_sre_tui.engine.storage.backup_set import SetManifest


async def set_link(cluster: ClusterConfig, base: Path, topics: list[str], parent: SetManifest | None = None,
                   at: datetime | None = None, name: str = "set") -> SetManifest:
    """A full set of ``topics``, or the link that continues ``parent``; stamped ``at`` (its id and
    creation time) when given, so prune can be tested on links of different ages."""
    request = SetRequest(base_path=base, topics=tuple(topics), name=name,
                         incremental_from=parent.set_id if parent else None)
    result = await backup_set(cluster, request, now=(lambda: at) if at else (lambda: datetime.now(UTC)))
    return result.manifest
