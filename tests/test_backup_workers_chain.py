"""The shared files of a continuous workers group, on a local directory (no Kafka needed): which links
a publisher removes, which group a link belongs to, and who may take over the sealing of a link."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from kafka_sre_tui.engine.backup.set_plan import SetRequest
from kafka_sre_tui.engine.backup.workers_set import (
    FINISHING,
    _drop_lost_links,
    _take_sealing,
    link_of_group,
    open_run,
    runs_dir,
)
from kafka_sre_tui.engine.storage.backup_set import SET_MANIFEST, SET_PLAN
from kafka_sre_tui.engine.storage.local_store import LocalDir

REQUEST = SetRequest(base_path=Path("."), topics=("orders-*",), name="cont", continuous=True)


def _link(base: Path, set_id: str, parent: str | None, sealed: bool = False, selection: dict | None = None) -> None:
    folder = base / set_id
    folder.mkdir(parents=True)
    (folder / SET_PLAN).write_text(json.dumps({"chain": {"parent": parent},
                                               "selection": selection or REQUEST.selection}))
    if sealed:
        (folder / SET_MANIFEST).write_text("{}")


def test_the_publisher_of_a_link_removes_the_lost_plans_of_the_run_before_and_nothing_else(tmp_path: Path) -> None:
    grandparent, parent = "20261130T010000000Z-cont-aaaaaa", "20261130T010001000Z-cont-bbbbbb"
    _link(tmp_path, grandparent, None, sealed=True)
    _link(tmp_path, parent, grandparent, sealed=True)
    _link(tmp_path, "20261130T010001001Z-cont-cccccc", grandparent)  # lost the race for the parent's run
    _link(tmp_path, "20261130T010002000Z-cont-dddddd", parent)  # the new link and a rival: still planning
    _link(tmp_path, "20261130T010001002Z-cont-eeeeee", grandparent, selection={**REQUEST.selection,
                                                                                "topics": ["other"]})
    _link(tmp_path, "20261130T010001003Z-nightly-ffffff", grandparent)  # another backup's name
    _drop_lost_links(LocalDir(tmp_path), REQUEST, SimpleNamespace(chain={"parent": grandparent}))  # type: ignore[arg-type]
    assert sorted(p.name for p in tmp_path.iterdir()) == [grandparent, parent, "20261130T010001002Z-cont-eeeeee",
                                                         "20261130T010001003Z-nightly-ffffff",
                                                         "20261130T010002000Z-cont-dddddd"]


def test_a_link_named_by_a_groups_newest_run_belongs_to_that_group(tmp_path: Path) -> None:
    base = LocalDir(tmp_path)
    runs = runs_dir(base, "g1")
    runs.make_dirs()
    (runs / "00000001.json").write_text(json.dumps({"set_id": "old"}))
    (runs / "00000002.json").write_text(json.dumps({"set_id": "new"}))
    assert link_of_group(base, "new") == "g1"
    assert link_of_group(base, "old") is None and link_of_group(base, "other") is None


def test_sealing_is_taken_over_only_from_a_sealer_that_left_the_group(tmp_path: Path) -> None:
    path = LocalDir(tmp_path) / FINISHING
    assert _take_sealing(path, "w1", lambda _: True)  # the first sealer creates finishing.json
    assert not _take_sealing(path, "w2", lambda member: member == "w1")  # w1 still seals
    assert _take_sealing(path, "w2", lambda member: member == "w2")  # w1 left the group: w2 takes over
    assert json.loads(path.read_bytes())["worker"] == "w2"
    assert not _take_sealing(path, "w3", lambda member: member in {"w2", "w3"})


def test_a_run_sealed_while_it_is_opened_is_seen_as_sealed(tmp_path: Path) -> None:
    """``set-plan.json`` goes once ``set.json`` is written: a worker opening the run just then reads no
    plan and sees the set sealed, instead of failing."""
    (tmp_path / SET_MANIFEST).write_text("{}")
    assert open_run(LocalDir(tmp_path), 3) is None
    (tmp_path / SET_MANIFEST).unlink()
    with pytest.raises(FileNotFoundError):  # neither a plan nor set.json: a damaged set is an error
        open_run(LocalDir(tmp_path), 3)
