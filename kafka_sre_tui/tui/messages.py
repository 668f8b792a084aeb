"""Messages the dashboard's workers post to its widgets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

from kafka_sre_tui.engine.models import ClusterOverview, GroupInfo, TopicInfo, TopicPartition
from kafka_sre_tui.tui.jobs import Job

if TYPE_CHECKING:  # the drain engine (and aiokafka) loads with the first drain, not before the first frame
    from kafka_sre_tui.engine.drain import Assessment
    from kafka_sre_tui.engine.drain.data_loss import DataLoss
    from kafka_sre_tui.engine.drain.stuck import StuckRecord

# Refresh results name the refresher that produced them (``source``): after a switch of cluster, an
# answer the old refresher was still decoding must not land under the new cluster's header.


@dataclass
class TopicsLoaded(Message):
    topics: list[TopicInfo]
    with_offsets: bool
    source: object = None


@dataclass
class TopicSizesLoaded(Message):
    """The refresh's last topic stage: the topics again, with their sizes on disk (DescribeLogDirs).
    ``problems`` say why some sizes are unknown (no Describe on the Cluster, a broker not answering)."""

    topics: list[TopicInfo]
    problems: tuple[str, ...] = ()
    source: object = None


@dataclass
class GroupsLoaded(Message):
    groups: list[GroupInfo]
    source: object = None


@dataclass
class DataLossLoaded(Message):
    """The refresh's last stage: per group, the data loss ahead on its lagging partitions."""

    losses: dict[str, dict[TopicPartition, DataLoss]]
    source: object = None


@dataclass
class ClusterProbed(Message):
    name: str
    overview: ClusterOverview | None
    error: str | None


@dataclass
class RefreshDone(Message):
    seconds: float
    source: object = None


@dataclass
class RefreshFailed(Message):
    error: str
    source: object = None


class JobChanged(Message):
    """A job's progress or state changed. A newer one replaces a queued older one for the same job,
    so a fast job cannot flood the UI."""

    def __init__(self, job: Job) -> None:
        super().__init__()
        self.job = job

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, JobChanged) and message.job.job_id == self.job.job_id


class DrainSampled(Message):
    """A drain monitor job took a sample."""

    def __init__(self, job: Job, assessment: Assessment, losses: dict[TopicPartition, DataLoss] | None = None,
                 stuck: dict[TopicPartition, StuckRecord] | None = None) -> None:
        super().__init__()
        self.job = job
        self.assessment = assessment
        self.losses = losses or {}
        self.stuck = stuck or {}
