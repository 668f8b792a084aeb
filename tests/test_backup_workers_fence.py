"""The fencing of a partition's state between workers, on a real directory and a real S3 server (s3proxy):
a worker whose partition was claimed by a newer generation can no longer write its state, and a
delayed worker of an older generation cannot claim it back while the newer owner is in the group."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kafka_sre_tui.engine.backup.partition import STATE_FILE
from kafka_sre_tui.engine.backup.plan import PartitionPlan
from kafka_sre_tui.engine.backup.workers_fence import Fenced, Owner, claim, read_state
from kafka_sre_tui.engine.storage.store import Location, open_location
from tests.object_servers import S3Proxy

PLAN = PartitionPlan(partition=3, start_offset=0, end_offset=100, log_start_offset=0)


@pytest.fixture(params=["disk", "s3"])
def member(request: pytest.FixtureRequest, tmp_path: Path) -> Location:
    if request.param == "disk":
        return open_location(tmp_path / "member")
    s3proxy: S3Proxy = request.getfixturevalue("s3proxy")
    bucket: str = request.getfixturevalue("s3_bucket")
    return open_location(f"s3://{bucket}/dr/set/topics/member", s3proxy.options())


def _everyone(_worker: str) -> bool:
    return True


def _who(owner: dict[str, Any] | None) -> tuple[str, int]:
    assert owner is not None
    return owner["worker"], owner["generation"]


def _clock(start: datetime) -> Callable[[], datetime]:
    """A clock that moves on 1 s at each reading."""
    ticks = itertools.count()
    return lambda: start + timedelta(seconds=next(ticks))


def _save_progress(fence_save: Callable[[Location, object], None], where: Location, next_offset: int) -> None:
    state = read_state(where, PLAN)[0]
    state.next_offset = next_offset
    fence_save(where / "partitions" / "3" / STATE_FILE, state.__dict__)


def test_a_stale_owner_cannot_write_after_a_newer_claim(member: Location) -> None:
    start = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    first = claim(member, PLAN, Owner("w1", 4), _everyone, _clock(start))
    assert first is not None
    state, old = first
    assert state.next_offset == 0
    assert state.owner == {"worker": "w1", "generation": 4, "checkpoint_at": "2026-11-30T01:00:00+00:00"}
    _save_progress(old.save, member, 40)  # the owner checkpoints as often as it likes
    _save_progress(old.save, member, 50)
    owner = read_state(member, PLAN)[0].owner or {}
    assert owner["checkpoint_at"] == "2026-11-30T01:00:02+00:00"  # each write says when it was made

    second = claim(member, PLAN, Owner("w2", 5), _everyone)  # a rebalance moved the partition
    assert second is not None
    resumed, new = second
    assert resumed.next_offset == 50  # the new owner resumes from the last durable offset

    with pytest.raises(Fenced, match="another worker of the group owns this partition"):
        _save_progress(old.save, member, 90)  # the old owner read on: its progress is refused
    after = read_state(member, PLAN)[0]
    assert after.next_offset == 50 and _who(after.owner) == ("w2", 5)
    _save_progress(new.save, member, 60)
    assert read_state(member, PLAN)[0].next_offset == 60


def test_a_delayed_worker_of_an_older_generation_cannot_claim_back(member: Location) -> None:
    assert claim(member, PLAN, Owner("w2", 7), _everyone) is not None
    assert claim(member, PLAN, Owner("w1", 6), _everyone) is None  # w2 (generation 7) is still a member
    assert _who(read_state(member, PLAN)[0].owner) == ("w2", 7)
    # the group was emptied and its generations started again: w2 is gone, the claim is allowed
    assert claim(member, PLAN, Owner("w3", 1), lambda worker: worker != "w2") is not None


def test_only_one_of_racing_claims_keeps_writing(member: Location) -> None:
    fences: dict[str, object] = {}

    def claim_as(worker: str) -> None:
        got = claim(member, PLAN, Owner(worker, 9), _everyone)
        assert got is not None
        fences[worker] = got[1]

    threads = [threading.Thread(target=claim_as, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = []
    for worker, fence in fences.items():
        try:
            _save_progress(fence.save, member, 10)  # type: ignore[attr-defined]
            winners.append(worker)
        except Fenced:
            pass
    assert winners == [read_state(member, PLAN)[0].owner["worker"]]  # type: ignore[index]


def test_create_only_writes_refuse_an_existing_file(member: Location) -> None:
    target = member / "set.json"
    if member.local_dir() is not None:
        member.make_dirs()
    assert target.write_if(b"first\n", None) is not None
    assert target.write_if(b"second\n", None) is None
    assert target.read_bytes() == b"first\n"
