"""`:` / Ctrl+P, k9s style: type part of a cluster, topic or group name and jump to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider


class KafkaObjects(Provider):
    """Clusters from the config, topics and groups from the last refresh."""

    def _clusters(self) -> Iterator[tuple[str, Callable[[], Any], str]]:
        app: Any = self.app
        for name in app.config.clusters:
            if name != app.cluster.name:
                yield f"cluster {name}", partial(app.switch_cluster, name), "switch the dashboard to this cluster"

    def _targets(self) -> Iterator[tuple[str, Callable[[], Any], str]]:
        app: Any = self.app
        yield from self._clusters()
        for topic in app.topics_pane.topics:
            yield f"topic {topic.name}", partial(app.open_topic, topic.name), "partitions, configs, consumers"
        for group in app.groups_pane.groups:
            gid = group.group_id
            yield f"group {gid}", partial(app.open_group, gid), "per-partition lag, members"
            yield f"drain {gid}", partial(app.action_drain_group, gid), "live drain monitor (runs as a job)"

    async def discover(self) -> Hits:
        """Before anything is typed: the other clusters (topics and groups would be thousands)."""
        for text, command, help_text in self._clusters():
            yield DiscoveryHit(text, command, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, command, help_text in self._targets():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), command, help=help_text)
