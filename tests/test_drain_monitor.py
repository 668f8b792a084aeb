"""The monitor loop and the CLI face with a fake clock and a fake sampler. No Kafka."""

from __future__ import annotations

import argparse
import asyncio
import io
import json

import pytest

from kafka_sre_tui.cli import drain as drain_cli
from kafka_sre_tui.engine.drain import DrainGoal, MonitorSettings, Outcome, SampleFailed, monitor_group
from kafka_sre_tui.engine.drain.monitor import Event
from kafka_sre_tui.engine.drain.samples import GroupSample, PartitionSample
from kafka_sre_tui.engine.errors import ClusterUnreachable, ConfigError, NotFound

EPOCH = 1_700_000_000.0


class FakeTime:
    def __init__(self) -> None:
        self.now = EPOCH
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


class FakeSampler:
    """A stopped group (lag 600, no members); each sample takes ``cost`` seconds of fake time."""

    def __init__(self, time: FakeTime, cost: float = 0.0, fail_at: dict[int, Exception] | None = None) -> None:
        self.time, self.cost, self.fail_at = time, cost, fail_at or {}
        self.calls = 0
        self.closed = False

    async def sample(self) -> GroupSample:
        self.calls += 1
        self.time.now += self.cost
        if self.calls in self.fail_at:
            raise self.fail_at[self.calls]
        part = PartitionSample("t", 0, 1000, 400)
        return GroupSample("g", self.time.now, "Empty", 0, (part,))

    async def close(self) -> None:
        self.closed = True


async def _monitor(sampler: FakeSampler, time: FakeTime, events: list[Event], **kw: object) -> object:
    goal = kw.pop("goal", None)
    settings = MonitorSettings(**kw)  # type: ignore[arg-type]
    return await monitor_group(None, "g", events.append, goal=goal, settings=settings,  # type: ignore[arg-type]
                               clock=time.clock, sleep=time.sleep, sampler=sampler)


async def test_times_out_at_the_deadline_not_at_the_next_tick() -> None:
    time = FakeTime()
    sampler = FakeSampler(time, cost=0.1)
    events: list[Event] = []
    result = await _monitor(sampler, time, events, interval_seconds=1.0, goal=DrainGoal(timeout_seconds=2.5))
    assert result.outcome is Outcome.TIMED_OUT  # type: ignore[attr-defined]
    assert time.sleeps == [0.9, 0.9, 0.4]  # the interval counts from the start of each sample
    assert [round(e.elapsed, 3) for e in events] == [0.1, 1.1, 2.1, 2.6]  # type: ignore[union-attr]
    assert sampler.closed


async def test_a_retriable_failure_is_reported_and_the_watch_goes_on() -> None:
    time = FakeTime()
    sampler = FakeSampler(time, fail_at={2: ClusterUnreachable("broker restarting")})
    events: list[Event] = []
    result = await _monitor(sampler, time, events, interval_seconds=0.5, max_samples=3)
    assert [type(e).__name__ for e in events] == ["Assessment", "SampleFailed", "Assessment", "Assessment"]
    assert isinstance(events[1], SampleFailed) and "restarting" in events[1].error
    assert result.outcome is None and result.samples == 3  # type: ignore[attr-defined]


async def test_errors_that_retrying_cannot_fix_end_the_run() -> None:
    time = FakeTime()
    for failing in ({1: ClusterUnreachable("down")}, {2: NotFound("group gone")}):
        sampler = FakeSampler(time, fail_at=failing)  # type: ignore[arg-type]
        with pytest.raises((ClusterUnreachable, NotFound)):
            await _monitor(sampler, time, [], interval_seconds=0.5)
        assert sampler.closed


async def test_cancelling_closes_what_was_opened() -> None:
    time = FakeTime()
    sampler = FakeSampler(time)
    forever, sleeping = asyncio.Event(), asyncio.Event()

    async def sleep(_: float) -> None:
        sleeping.set()
        await forever.wait()

    task = asyncio.create_task(monitor_group(None, "g", lambda e: None, sampler=sampler,  # type: ignore[arg-type]
                                             clock=time.clock, sleep=sleep))
    await sleeping.wait()  # the first sample is taken, the monitor waits for the next tick
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sampler.closed


@pytest.mark.parametrize("kwargs", [{"interval_seconds": 0}, {"max_samples": 0}])
def test_bad_monitor_settings_are_config_errors(kwargs: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        MonitorSettings(**kwargs)  # type: ignore[arg-type]


async def test_json_lines_and_status_line() -> None:
    time = FakeTime()
    events: list[Event] = []
    await _monitor(FakeSampler(time), time, events, interval_seconds=1.0, goal=DrainGoal(timeout_seconds=1))
    out = io.StringIO()
    printer = drain_cli._Printer(as_json=True, watch=False, out=out)
    for e in events:
        printer.event(e)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["sample"] for r in records] == [1, 2]
    last = records[-1]
    assert last["event"] == "sample" and last["status"] == "STOPPED" and last["outcome"] == "timed_out"
    assert last["eta"] == "not draining" and last["total_lag"] == 600 and last["goal_met"] is False
    assert last["partitions"][0]["lag_seconds_method"] == "interpolated"
    line = drain_cli.status_line(events[-1])  # type: ignore[arg-type]
    assert "STOPPED" in line and "lag 600" in line and "ETA not draining" in line


def test_sparkline() -> None:
    assert drain_cli.sparkline([0, 50, 100]) == "▁▅█"
    assert drain_cli.sparkline([7, 7]) == "▁▁" and drain_cli.sparkline([]) == ""


def test_commands_parse_with_their_options() -> None:
    common = argparse.ArgumentParser(add_help=False)
    cluster = argparse.ArgumentParser(add_help=False)
    cluster.add_argument("--cluster")
    as_json = argparse.ArgumentParser(add_help=False)
    as_json.add_argument("--json", action="store_true")
    parser = argparse.ArgumentParser(prog="kafka-sre-tui")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("lag").add_argument("group")
    drain_cli.add_commands(sub, {"common": common, "cluster": cluster, "json": as_json})
    args = parser.parse_args(["drain", "--cluster", "h:1", "-g", "G", "--max-lag", "5", "--max-partition-lag", "2",
                              "--max-lag-seconds", "30", "--timeout-seconds", "60", "--interval", "0.5",
                              "--stall-seconds", "9", "--json"])
    assert (args.group_id, args.max_lag, args.max_partition_lag, args.max_lag_seconds, args.timeout_seconds,
            args.interval, args.stall_seconds, args.json, args.hold) == ("G", 5, 2, 30.0, 60.0, 0.5, 9.0, True, 3)
    watch = parser.parse_args(["lag", "G", "--watch", "--count", "4"])
    assert watch.watch and watch.count == 4 and watch.interval == 2.0
    with pytest.raises(SystemExit) as info:
        parser.parse_args(["drain", "--max-lag", "many"])
    assert info.value.code == 2
