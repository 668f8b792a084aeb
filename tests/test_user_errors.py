"""Errors a user meets are one line in their words, with the right exit code, and write nothing."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import errors as kerr
from aiokafka.protocol.admin import DescribeGroupsRequest_v0, DescribeGroupsResponse_v0
from aiokafka.protocol.api import Request
from aiokafka.protocol.types import Int64, Schema

from kafka_sre_tui.cli.main import main
from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.errors import KafkaRequestFailed
from kafka_sre_tui.engine.kafka.session import KafkaSession, translate_error
from kafka_sre_tui.localkafka import LocalKafka
from tests.conftest import _start

CLI = [sys.executable, "-m", "kafka_sre_tui"]


@pytest.fixture(scope="module")
def fresh_kafka() -> Iterator[LocalKafka]:
    """A cluster no client has used yet: __consumer_offsets does not exist until the first group request."""
    broker = _start()
    yield broker
    broker.stop()


async def _cli(*args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(*CLI, *args, stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return proc.returncode, err.decode()


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr and "Error:" not in stderr and "Error]" not in stderr, stderr
    return lines[0]


async def test_unknown_group_on_a_fresh_cluster(fresh_kafka: LocalKafka) -> None:
    """Both commands start before the group coordinator exists; they wait for it, then answer."""
    bootstrap = fresh_kafka.bootstrap_servers
    (lag_code, lag_err), (drain_code, drain_err) = await asyncio.gather(
        _cli("lag", "nogroup", "--cluster", bootstrap),
        _cli("drain", "--group-id", "nogroup", "--max-lag", "0", "--cluster", bootstrap))
    expected = f"consumer group 'nogroup' does not exist on cluster '{bootstrap}'; list them with: kafka-sre-tui groups"
    assert lag_code == 1 and expected in _one_line(lag_err)
    assert drain_code == 2 and expected in _one_line(drain_err.split("\n", 1)[-1] if "waiting" in drain_err
                                                      else drain_err)


@pytest.mark.parametrize("command", [["topics", "nope"], ["backup", "--topic", "nope"],
                                     ["migrate", "--source-topic", "nope", "--target-topic", "x"]])
async def test_unknown_topic(command: list[str], kafka: LocalKafka, tmp_path: Path) -> None:
    bootstrap = kafka.bootstrap_servers
    where = (["--source-cluster", bootstrap, "--target-cluster", bootstrap, "--state-dir", str(tmp_path)]
             if command[0] == "migrate" else ["--cluster", bootstrap])
    dirs = ["--backup-dir", str(tmp_path)] if command[0] == "backup" else []
    code, err = await _cli(*command, *where, *dirs)
    assert code == 1
    assert (f"topic 'nope' does not exist on cluster '{bootstrap}'; list them with: kafka-sre-tui topics"
            in _one_line(err))
    assert list(tmp_path.iterdir()) == []


BAD_INPUT = {
    "invalid topic name": (["backup", "--topic", "a/b"], "'a/b' is not a valid Kafka topic name"),
    "offsets reversed": (["backup", "--topic", "t", "--from-offset", "10", "--to-offset", "5"],
                         "--from-offset 10 is after --to-offset 5"),
    "times reversed": (["backup", "--topic", "t", "--from-time", "2026-01-02", "--to-time", "2026-01-01"],
                       "--from-time is after --to-time"),
    "start time in the future": (["backup", "--topic", "t", "--from-time", "2999-01-01"], "in the future"),
    "negative offset": (["backup", "--topic", "t", "--from-offset", "-1"], "--from-offset must be >= 0"),
    "NaN rate": (["backup", "--topic", "t", "--rate-limit", "nan"], "--rate-limit must be > 0 MB/s"),
    "negative rate": (["restore", "--backup-id", "x", "--rate-limit", "-3"], "--rate-limit must be > 0 MB/s"),
    "NaN checkpoint": (["backup", "--topic", "t", "--checkpoint-seconds", "nan"], "--checkpoint-seconds must be"),
    "NaN timeout": (["topics", "--timeout", "nan"], "expected a number of seconds > 0; got 'nan'"),
    "zero timeout": (["groups", "--timeout", "0"], "expected a number of seconds > 0; got '0'"),
    "restore target name": (["restore", "--backup-id", "20261124T181500123Z-t-a1b2c3", "--target-topic", "../x"],
                            "'../x' is not a valid Kafka topic name"),
    "migrate target name": (["migrate", "--source-cluster", "h:1", "--source-topic", "t", "--target-cluster",
                             "h:1", "--target-topic", "x y"], "'x y' is not a valid Kafka topic name"),
    "NaN lag goal": (["drain", "--group-id", "g", "--max-lag-seconds", "nan"], "--max-lag-seconds must be"),
    "hostile backup id": (["verify", "../../etc"], "invalid backup id '../../etc'"),
    "infinite rate": (["migrate", "--source-cluster", "h:1", "--source-topic", "t", "--target-cluster", "h:1",
                       "--target-topic", "u", "--rate-limit", "inf"], "--rate-limit must be > 0 MB/s and at most"),
    "offset beyond int64": (["backup", "--topic", "t", "--from-offset", "9" * 20],
                            "--from-offset must be at most 9223372036854775807"),
    "huge checkpoint": (["restore", "--backup-id", "20261124T181500123Z-t-a1b2c3", "--checkpoint-seconds", "1e30"],
                        "--checkpoint-seconds must be a number of seconds > 0 and at most 31,622,400"),
    "replication factor beyond int16": (["restore", "--backup-id", "20261124T181500123Z-t-a1b2c3",
                                         "--replication-factor", "40000"], "--replication-factor must be from 1"),
    "negative partition": (["backup", "--topic", "t", "--partitions", "0,-1"], "expected partition numbers"),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_exit_2_one_line_nothing_written(case: str, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """Refused before any connection (the cluster address is a closed port) and before any file."""
    args, expected = BAD_INPUT[case]
    where = [] if args[0] in ("migrate", "verify") else ["--cluster", "127.0.0.1:1"]
    dirs = ["--backup-dir", str(tmp_path)] if args[0] in ("backup", "restore", "verify") else []
    try:
        code = main([*args, *where, *dirs, "--timeout", "5"] if args[0] not in ("verify", "topics", "groups")
                    else [*args, *where, *dirs])
    except SystemExit as exc:  # argparse's own refusals
        code = exc.code  # type: ignore[assignment]
    err = capsys.readouterr().err
    assert code == 2, err
    assert expected in err.strip().splitlines()[-1], err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_kafka_internals_are_put_in_words() -> None:
    cluster = ClusterConfig(name="prod", bootstrap_servers=("h1:9092",))
    node = translate_error(kerr.NodeNotReadyError("Attempt to send a request to node which is not ready "
                                                  "(node id 1)."), cluster, "fetching records")
    assert str(node) == ("fetching records on cluster 'prod' (h1:9092): a broker is not ready; a broker may be "
                         "restarting or a leader election under way; try again in a few seconds")
    assert node.retriable
    coordinator = str(translate_error(kerr.GroupCoordinatorNotAvailableError(), cluster, "reading group 'g'"))
    assert "the group coordinator is not available yet" in coordinator and "(Kafka error code 15)" in coordinator
    for exc in (kerr.NodeNotReadyError(), kerr.GroupCoordinatorNotAvailableError(), kerr.NotCoordinatorForGroupError(),
                kerr.LeaderNotAvailableError(), kerr.RequestTimedOutError(), kerr.PolicyViolationError()):
        assert type(exc).__name__ not in str(translate_error(exc, cluster, "x"))


class _MisreadDescribeGroupsResponse(DescribeGroupsResponse_v0):
    """DescribeGroups v0 as a broken protocol class would read it: one field more than the broker sends."""

    SCHEMA = Schema(*zip(DescribeGroupsResponse_v0.SCHEMA.names, DescribeGroupsResponse_v0.SCHEMA.fields,
                         strict=True), ("field_the_broker_never_sends", Int64))


class _MisreadDescribeGroupsRequest(DescribeGroupsRequest_v0):
    RESPONSE_TYPE = _MisreadDescribeGroupsResponse


class _MisreadDescribeGroups(Request[_MisreadDescribeGroupsRequest]):
    API_KEY = 15

    def build(self, request_struct_class: type[_MisreadDescribeGroupsRequest]) -> _MisreadDescribeGroupsRequest:
        return request_struct_class(["no-such-group"])


async def test_an_answer_the_tool_cannot_read_is_not_called_a_connection_problem(kafka: LocalKafka,
                                                                                  cluster: ClusterConfig) -> None:
    """A protocol class that misreads a broker's answer (as StreamsGroupDescribe once did) used to
    surface as 'cannot connect; check bootstrap_servers': the SRE checks the network for nothing."""
    async with KafkaSession(cluster) as session:
        with pytest.raises(KafkaRequestFailed) as raised:
            await session.send(session.broker_ids()[0], _MisreadDescribeGroups(), "describing groups")
    message = str(raised.value)
    assert "the broker's answer could not be read" in message and "cannot connect" not in message
    assert "describing groups" in message and "--debug" in message and not raised.value.retriable
