"""How the dashboard looks, at 80×24 and 160×48: fixed data, pinned theme, no live timers.

The data comes from a fixed Refresher (the app's data seam), not from Kafka: these tests are about
looks only; tests/test_dashboard.py drives the same app against the real broker.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from textual.message_pump import MessagePump

from kafka_sre_tui.config import AppConfig, BackupSettings, ClusterConfig, UiSettings, parse_config
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.models import (
    Broker,
    ClusterOverview,
    GroupInfo,
    GroupMember,
    PartitionInfo,
    PartitionLag,
    TopicInfo,
    TopicPartition,
)
from kafka_sre_tui.tui.app import KsreApp
from kafka_sre_tui.tui.messages import ClusterProbed, GroupsLoaded, RefreshDone, TopicSizesLoaded, TopicsLoaded

SIZES = [(80, 24), (160, 48)]
BROKERS = tuple(Broker(i, f"kafka-{i}.prod.example", 9093, f"eu-west-1{'abc'[i - 1]}") for i in (1, 2, 3))


def _topic(name: str, partitions: int, messages: int, record_bytes: int, urp: int = 0) -> TopicInfo:
    size = messages // partitions * record_bytes
    return TopicInfo(name, False, tuple(
        PartitionInfo(p, 1 + p % 3, (1, 2, 3), (1, 2) if p < urp else (1, 2, 3), (), 0, messages // partitions,
                      size_bytes=size, replicas_size_bytes=3 * size)
        for p in range(partitions)))


TOPICS = [_topic("orders", 12, 4_812_000, 412), _topic("payments", 6, 1_203_000, 230, urp=1),
          _topic("audit-log", 3, 96_000, 1_870)]
MEMBER = GroupMember("consumer-1-6f1c", "orders-svc", "/10.0.3.17",
                     tuple(TopicPartition("orders", p) for p in range(12)))
GROUPS = [
    GroupInfo("orders-processor", "Stable", "consumer", "range", 1, (MEMBER,),
              tuple(PartitionLag("orders", p, 401_000, 401_000 - 350 * p, MEMBER.member_id) for p in range(12))),
    GroupInfo("audit-archiver", "Empty", "consumer", "", 2, (),
              tuple(PartitionLag("audit-log", p, 32_000, 20_000 if p else None) for p in range(3))),
]


class FixedData:
    """A Refresher that answers at once with the data above."""

    def __init__(self, cluster: ClusterConfig, target: MessagePump) -> None:
        self.target = target

    async def session(self) -> KafkaSession:
        raise AssertionError("snapshot tests never talk to Kafka")

    async def refresh(self) -> None:
        self.target.post_message(TopicsLoaded(TOPICS, True, self))
        self.target.post_message(GroupsLoaded(GROUPS, self))
        self.target.post_message(TopicSizesLoaded(TOPICS, source=self))
        self.target.post_message(RefreshDone(0.04, self))

    async def probe(self, name: str, cluster: ClusterConfig) -> None:
        if name == "staging":
            self.target.post_message(ClusterProbed(name, None, "cannot connect"))
        else:
            self.target.post_message(ClusterProbed(name, ClusterOverview("q1Xc-prod", 2, BROKERS), None))

    async def close(self) -> None:
        return None


def _app(tmp_path: Path, refresher: type = FixedData) -> KsreApp:
    config = parse_config({"clusters": {
        "prod": {"bootstrap_servers": "kafka-1.prod.example:9093", "read_only": True, "color": "darkred"},
        "staging": {"bootstrap_servers": "kafka.staging.example:9092"}}}, tmp_path / "config.toml")
    config = AppConfig(path=config.path, clusters=config.clusters,
                       backup=BackupSettings(base_path=tmp_path / "backups"), ui=config.ui)
    return KsreApp(config.cluster("prod"), UiSettings(refresh_seconds=3600, theme="ksre-night"), config=config,
                   refresher=refresher, clock=lambda: datetime(2026, 11, 24, 3, 12, 5))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("keys", [[], ["g"], ["g", "s"], ["c"], ["question_mark"]],
                         ids=["topics", "groups", "groups-by-lag", "clusters", "help"])
def test_looks(snap_compare, tmp_path: Path, size: tuple[int, int], keys: list[str]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(tmp_path), terminal_size=size, press=keys)
