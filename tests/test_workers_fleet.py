"""The progress of a workers group's set while it is written, read from its durable state: two worker
processes against the real broker seen through ``backups show`` while they run and after the set is
sealed; and the reader on hand-written state files (a stale worker, a partition nobody claimed)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kafka_sre_tui.cli.main import main
from kafka_sre_tui.engine.backup.partition import STATE_FILE, PartitionState
from kafka_sre_tui.engine.backup.plan import BackupPlan, PartitionPlan
from kafka_sre_tui.engine.backup.run import PLAN_FILE
from kafka_sre_tui.engine.backup.set_plan import MemberPlan, SetPlan
from kafka_sre_tui.engine.backup.workers_fence import encode_state
from kafka_sre_tui.engine.backup.workers_fleet import fleet_of_set, read_fleet
from kafka_sre_tui.engine.storage.backup_set import SET_PLAN, member_dir, set_dir
from kafka_sre_tui.engine.storage.store import open_location, write_json
from kafka_sre_tui.localkafka import LocalKafka
from tests.fleet_helpers import PARTITIONS, group_set, load_topic, workers
from tests.kafka_helpers import wait_for

pytestmark = pytest.mark.timeout(180)

SET_ID = "20261130T010000000Z-fleet-a1b2c3"
MEMBER_ID = "20261130T010000000Z-orders-d4e5f6"


def _show(base: Path, set_id: str, *more: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kafka_sre_tui", "backups", "show", set_id, "--backup-dir",
                           str(base), *more], capture_output=True, text=True, timeout=60)


async def test_backups_show_follows_two_workers_then_shows_the_sealed_set(kafka: LocalKafka, unique: str,
                                                                          tmp_path: Path) -> None:
    bs, base, group = kafka.bootstrap_servers, tmp_path / "backups", f"{unique}-fleet"
    await load_topic(bs, unique)
    with workers(bs, unique, base, group, tmp_path) as procs:
        await wait_for(lambda: group_set(base, group) is not None, "the group's set", 60)
        set_id = group_set(base, group)
        assert set_id is not None

        def both_at_work() -> bool:
            fleet = fleet_of_set(open_location(base), set_id, datetime.now(UTC))
            # a claim stamps checkpoint_at before any record is stored: wait for stored progress too
            return fleet is not None and sum(w.state == "working" for w in fleet.workers) == 2 and fleet.fraction > 0

        await wait_for(both_at_work, "both workers checkpointing records of their partitions", 60)
        first = await asyncio.to_thread(_show, base, set_id, "--json")
        assert first.returncode == 0, first.stderr
        before = json.loads(first.stdout)
        assert before["group"] == group and before["status"] == "running"
        working = [w for w in before["workers"] if w["state"] == "working"]
        assert len(working) == 2
        owned = sorted(p for w in before["workers"] for p in w["owns"])
        assert owned == sorted(f"{unique}/{p}" for p in range(PARTITIONS))  # each under the one worker that owns it
        assert all(w["partitions"] >= 1 and w["checkpoint_at"] for w in working)
        assert len(before["partition_progress"]) == PARTITIONS and 0 < before["fraction"] < 1

        def moved_on() -> bool:
            fleet = fleet_of_set(open_location(base), set_id, datetime.now(UTC))
            return fleet is not None and fleet.raw_bytes > before["raw_bytes"]

        await wait_for(moved_on, "more progress made durable", 30)
        text = await asyncio.to_thread(_show, base, set_id)
        assert text.returncode == 0, text.stderr
        assert f"backup set {set_id}: running, written by workers group {group}" in text.stdout
        for worker in working:
            row = next(line for line in text.stdout.splitlines() if line.strip().startswith(worker["worker"]))
            assert f"{unique}: " in row  # the partitions it owns
        after = json.loads((await asyncio.to_thread(_show, base, set_id, "--json")).stdout)
        assert after["raw_bytes"] > before["raw_bytes"] and after["fraction"] > before["fraction"]

        codes = [await asyncio.to_thread(p.wait, 90) for p in procs]
        assert codes == [0, 0], [(tmp_path / f"worker{i}.err").read_text()[-2000:] for i in range(2)]
    sealed = await asyncio.to_thread(_show, base, set_id)
    assert sealed.returncode == 0, sealed.stderr
    assert sealed.stdout.startswith(f"backup set {set_id}: full, link 0") and "workers group" not in sealed.stdout


def _partition_state(partition: int, next_offset: int, owner: dict[str, Any] | None) -> bytes:
    state = PartitionState(partition, 0, 100, next_offset, next_offset, records=next_offset,
                           raw_bytes=next_offset * 1_000, owner=owner)
    return encode_state(asdict(state))


def _hand_written_set(base: Path, now: datetime) -> None:
    """Five partitions of 100 offsets: worker A (one done long ago, one at 40, checkpointed 5 s ago), B (at 30,
    silent for 90 s), C (done, silent for 200 s), and partition 3 that nobody claimed."""
    created = (now - timedelta(seconds=105)).isoformat()
    folder = set_dir(base, SET_ID)
    parts = tuple(PartitionPlan(p, 0, 100, 0) for p in range(5))
    member = member_dir(folder, MEMBER_ID)
    member.make_dirs()
    write_json(member / PLAN_FILE, BackupPlan(MEMBER_ID, created, {"cluster_name": "t"}, {"name": "orders"}, {},
                                              {"codec": "none", "level": None}, parts).to_json())
    write_json(folder / SET_PLAN, SetPlan(SET_ID, created, {"cluster_name": "t"}, {"topics": ["orders"]},
                                          {"codec": "none", "level": None}, "full", {"link": 0, "base": SET_ID}, {},
                                          (MemberPlan(MEMBER_ID, "orders", True, None),)).to_json())

    def owner(worker: str, generation: int, ago: float) -> dict[str, Any]:
        return {"worker": worker, "generation": generation,
                "checkpoint_at": (now - timedelta(seconds=ago)).isoformat()}

    for partition, next_offset, who in ((0, 100, owner("A", 2, 100)), (1, 40, owner("A", 3, 5)),
                                        (2, 30, owner("B", 3, 90)), (4, 100, owner("C", 1, 200))):
        where = member / "partitions" / str(partition)
        where.make_dirs()
        (where / STATE_FILE).write_atomic(_partition_state(partition, next_offset, who))
    runs = open_location(base) / ".workers" / "nightly"
    runs.make_dirs()
    write_json(runs / "00000001.json", {"set_id": SET_ID})


def test_the_fleet_from_hand_written_state(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    now = datetime.now(UTC)
    _hand_written_set(tmp_path, now)
    fleet = read_fleet(set_dir(tmp_path, SET_ID), now)
    assert fleet is not None
    by_worker = {w.worker: w for w in fleet.workers}
    assert {w: (x.generation, len(x.partitions), x.partitions_done, x.offsets_left, x.state)
            for w, x in by_worker.items()} == {"A": (3, 2, 1, 60, "working"), "B": (3, 1, 0, 70, "stale"),
                                               "C": (1, 1, 1, 0, "done")}
    assert [(p.topic, p.partition) for p in fleet.unowned] == [("orders", 3)]
    assert fleet.fraction == pytest.approx(1 - 230 / 500)
    assert fleet.seconds == pytest.approx(100)  # the plan to the newest checkpoint (A's, 5 s ago)
    assert fleet.eta_seconds == pytest.approx(230 * 100 / 270)
    assert fleet.mb_per_second == pytest.approx(270_000 / 1e6 / 100)

    assert main(["backups", "show", SET_ID, "--backup-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"backup set {SET_ID}: running, written by workers group nightly; 3 workers (1 working, 1 stale)" in out
    assert "2 of 5 partitions done, 1 not claimed yet" in out and "not claimed yet: orders: 3" in out
    rows = {cells[0]: cells for cells in map(str.split, out.splitlines()) if cells and cells[0] in ("A", "B", "C")}
    assert rows["B"][2] == "stale" and rows["A"][2] == "working" and rows["C"][2] == "done"
    assert main(["backups", "list", "--backup-dir", str(tmp_path), "--json"]) == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert (listed["status"], listed["workers"]) == ("running", 1)  # B is stale, C is done

    (set_dir(tmp_path, SET_ID) / SET_PLAN).unlink()  # no plan: not a fleet any more, an incomplete set as before
    assert fleet_of_set(open_location(tmp_path), SET_ID, now) is None
    assert main(["backups", "show", SET_ID, "--backup-dir", str(tmp_path)]) != 0
    assert f"backup set {SET_ID} is incomplete" in capsys.readouterr().err
