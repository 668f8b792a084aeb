"""Keeps one connection to the active cluster and refreshes in stages: topics (metadata), then their
offsets, then groups, then the topics' sizes on disk, then the groups' data loss ahead (AT RISK / LOST),
each posted as soon as it arrives. The last good data stays on screen."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Protocol

from textual.message_pump import MessagePump

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.errors import KsreError
from kafka_sre_tui.tui.messages import (
    ClusterProbed,
    DataLossLoaded,
    GroupsLoaded,
    RefreshDone,
    RefreshFailed,
    TopicSizesLoaded,
    TopicsLoaded,
)

if TYPE_CHECKING:  # the Kafka client loads in the engine thread, after the first frame
    from kafka_sre_tui.engine.drain.groups_data_loss import GroupsDataLoss
    from kafka_sre_tui.engine.kafka.session import KafkaSession


class Refresher(Protocol):
    """Where the dashboard's data comes from; the real one is ClusterRefresher."""

    async def session(self) -> KafkaSession: ...
    async def refresh(self) -> None: ...
    async def probe(self, name: str, cluster: ClusterConfig) -> None: ...
    async def close(self) -> None: ...


class ClusterRefresher:
    def __init__(self, cluster: ClusterConfig, target: MessagePump) -> None:
        self.cluster = cluster
        self.target = target
        self._session: KafkaSession | None = None
        self._losses: GroupsDataLoss | None = None  # keeps the log start's movement between refreshes
        self._shown = False  # topics on screen: a refresh no longer paints them before their offsets
        self._connecting = asyncio.Lock()  # a refresh and a detail screen may both want one

    async def session(self) -> KafkaSession:
        """The live session, reconnecting when the last one failed."""
        from kafka_sre_tui.engine.kafka.session import KafkaSession

        async with self._connecting:
            if self._session is None:
                self._session = await KafkaSession(self.cluster).__aenter__()
            return self._session

    async def refresh(self) -> None:
        from kafka_sre_tui.engine.drain.groups_data_loss import GroupsDataLoss
        from kafka_sre_tui.engine.inspect.cluster import list_topics
        from kafka_sre_tui.engine.inspect.groups import list_groups
        from kafka_sre_tui.engine.kafka.log_dirs import apply_sizes, describe_log_dirs

        started = time.monotonic()
        try:
            session = await self.session()
            # later refreshes keep the last good rows until the new ones have offsets (at 40,000 partitions,
            # building and showing them costs 0.3-0.8 s)
            if not self._shown:
                self.target.post_message(TopicsLoaded(await list_topics(session, with_offsets=False), False, self))
            topics = await list_topics(session)
            self.target.post_message(TopicsLoaded(topics, True, self))
            self._shown = True
            read_at = time.time()
            groups = await list_groups(session)
            self.target.post_message(GroupsLoaded(groups, self))
            # last: a broker that is slow to answer (or refuses) never holds back offsets or lag
            sizes = await describe_log_dirs(session)
            sized = await asyncio.to_thread(apply_sizes, topics, sizes)
            self.target.post_message(TopicSizesLoaded(sized, sizes.problems, self))
            if self._losses is None:
                self._losses = GroupsDataLoss(session)
            try:  # an extra: a cluster that refuses part of it still shows topics, groups and lag
                losses = await self._losses.look(sized, groups, read_at)
            except KsreError:
                losses = {}
            self.target.post_message(DataLossLoaded(losses, self))
        except KsreError as exc:
            await self.close()
            self.target.post_message(RefreshFailed(str(exc), self))
            return
        self.target.post_message(RefreshDone(time.monotonic() - started, self))

    async def close(self) -> None:
        losses, self._losses = self._losses, None
        if losses is not None:
            await losses.close()
        session, self._session = self._session, None
        if session is not None:
            await session.__aexit__(None, None, None)

    async def probe(self, name: str, cluster: ClusterConfig) -> None:
        """Reachability of a cluster: one metadata request on a connection of its own."""
        from kafka_sre_tui.engine.inspect.cluster import describe_cluster
        from kafka_sre_tui.engine.kafka.session import KafkaSession

        try:
            async with KafkaSession(cluster) as session:
                self.target.post_message(ClusterProbed(name, await describe_cluster(session), None))
        except KsreError as exc:
            self.target.post_message(ClusterProbed(name, None, str(exc)))
