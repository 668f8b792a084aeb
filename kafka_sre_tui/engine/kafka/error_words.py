"""Kafka's error codes in a user's words: what happened and what to do, never a class name alone.

Used by :func:`kafka_sre_tui.engine.kafka.session.translate_error` for the errors it has no more
specific type for. Kafka's error code stays at the end in brackets, so it can be looked up.
"""

from __future__ import annotations

from aiokafka import errors as kerr

_RESTARTING = "a broker may be restarting or a leader election under way; try again in a few seconds"
_COORDINATOR = ("the group coordinator is not available yet (a new cluster creates __consumer_offsets on first "
                "use; a restarting broker hands its groups over); try again in a few seconds")

_WORDS: dict[type[BaseException], str] = {
    kerr.NodeNotReadyError: f"a broker is not ready; {_RESTARTING}",
    kerr.RequestTimedOutError: f"a broker did not answer in time; {_RESTARTING}",
    kerr.LeaderNotAvailableError: f"a partition has no leader right now; {_RESTARTING}",
    kerr.NotLeaderForPartitionError: f"a partition's leader moved; {_RESTARTING}",
    kerr.NotEnoughReplicasError: "too few in-sync replicas to accept writes (min.insync.replicas); "
                                 "check the brokers holding this topic's replicas",
    kerr.GroupCoordinatorNotAvailableError: _COORDINATOR,
    kerr.NotCoordinatorForGroupError: _COORDINATOR,
    kerr.CoordinatorLoadInProgressError: _COORDINATOR,
    kerr.InvalidTopicError: "the topic name is not valid (letters, digits, '.', '_', '-'; at most 249 "
                            "characters) or it is an internal topic",
    kerr.TopicAlreadyExistsError: "the topic already exists",
    kerr.InvalidPartitionsError: "the number of partitions is not valid (it must be at least 1)",
    kerr.InvalidReplicationFactorError: "the replication factor is not valid: it must be at least 1 and at "
                                        "most the number of brokers",
    kerr.PolicyViolationError: "the cluster's create-topic policy refused the settings",
    kerr.MessageSizeTooLargeError: "a record batch is larger than the topic's max.message.bytes; raise it on "
                                   "the target topic",
    kerr.RecordListTooLargeError: "a record batch is larger than the topic's segment size",
    kerr.UnknownMemberIdError: "the group's membership changed meanwhile; try again",
    kerr.RebalanceInProgressError: "the group is rebalancing; try again when it is stable",
    kerr.InvalidTimestampError: "a record's timestamp is outside the topic's allowed range "
                                "(message.timestamp.*.max.ms)",
}


def describe_kafka_error(exc: kerr.KafkaError) -> str:
    """One line: what Kafka said, in words; Kafka's error code in brackets when there is one (errors
    aiokafka raises on its own, such as a broker not ready, have none)."""
    code = getattr(exc, "errno", None)
    suffix = f" (Kafka error code {code})" if isinstance(code, int) and code > 0 else ""
    for kind, words in _WORDS.items():
        if isinstance(exc, kind):
            return words + suffix
    description = getattr(exc, "description", None)
    if description:
        return f"Kafka refused it: {description.split('. ')[0].rstrip('.')}{suffix}"
    return f"Kafka refused it{suffix}"
