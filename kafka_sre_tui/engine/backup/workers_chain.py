"""A continuous backup written by a workers group: a chain of links, each one a one-shot workers set.

Between two links a worker keeps its consumer in the group (its partitions stay assigned: no rebalance
at a roll) and checks, every second or so, what comes next:

- the group published a newer run (another worker's roll came first): it joins that link at once;
- else, once its own roll is due (``roll_seconds`` after the sealed link was planned, by the link's
  ``created_at``; sooner with ``roll_bytes``), it plans the next link from the sealed one and publishes
  it with the create-only run file (:func:`.workers_set.join_set`); a worker that loses that race joins
  the winner's link.

So whoever comes first plans a link and the others join it; each link continues the group's previous
link, named by the previous run file, whatever the hosts' clocks say.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from kafka_sre_tui.engine.backup.continuous import link_lag, roll_bytes_due
from kafka_sre_tui.engine.backup.set_events import LinkSealed
from kafka_sre_tui.engine.backup.set_plan import SetRequest
from kafka_sre_tui.engine.backup.set_run import link_notes
from kafka_sre_tui.engine.backup.workers_set import JoinedSet, join_set, newest_run, open_run
from kafka_sre_tui.engine.errors import KsreError
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.storage.backup_set import SetManifest, read_set_manifest
from kafka_sre_tui.engine.storage.store import Location

Now = Callable[[], datetime]


class LinkFollower:
    """What one worker knows of its group's chain: the newest link it saw sealed and the links it saw
    sealed since it started (kept across the worker's reconnections)."""

    def __init__(self, base: Location, request: SetRequest, group: str, now: Now,
                 emit: Callable[[LinkSealed], None]) -> None:
        self.base, self.request, self.group, self.now, self.emit = base, request, group, now, emit
        self.last: SetManifest | None = None
        self.run = 0  # the run number of ``last``
        self.sealed: list[str] = []

    async def on_sealed(self, session: KafkaSession, manifest: SetManifest, run: int) -> None:
        """A link of the group was sealed (by this worker or another): one progress line for it."""
        self.last, self.run = manifest, run
        if manifest.set_id in self.sealed:
            return
        self.sealed.append(manifest.set_id)
        try:
            lag_records, lag_seconds = await link_lag(session, manifest, self.now)
        except KsreError:
            lag_records, lag_seconds = None, None
        self.emit(LinkSealed(manifest.set_id, int(manifest.chain["link"]), manifest.records,
                             lag_records, lag_seconds, tuple(link_notes(manifest))))

    async def next_link(self, session: KafkaSession) -> JoinedSet | None:
        """The link to write now: a newer one of the group, or one this worker plans because its roll
        is due; None while the roll is not due."""
        newest = await asyncio.to_thread(newest_run, self.base, self.group)
        if newest is not None and newest[0] > self.run:
            folder = self.base / newest[1]
            newer = await asyncio.to_thread(open_run, folder, newest[0])
            if newer is not None:
                return newer
            await self.on_sealed(session, read_set_manifest(folder)[0], newest[0])  # sealed while unseen
        if not await self._roll_due(session):
            return None
        joined = await join_set(session, self.base, self.request, self.group, self.now(), self.now)
        assert isinstance(joined, JoinedSet)  # a continuous group never returns a finished set
        return joined

    async def _roll_due(self, session: KafkaSession) -> bool:
        last = self.last
        if last is None:
            return True
        if self.now() >= datetime.fromisoformat(last.created_at) + timedelta(seconds=self.request.roll_seconds):
            return True
        if self.request.roll_bytes is None:
            return False
        try:
            return await roll_bytes_due(session, last, self.request.roll_bytes)
        except KsreError:
            return False  # the cluster is away: the time roll still comes
