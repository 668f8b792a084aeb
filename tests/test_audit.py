"""The audit log's lines, as an auditor reads them after the fact."""

from __future__ import annotations

import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kafka_sre_tui.engine.audit import FAILED, OK, audit, read_audit


def test_entries_are_json_lines_in_an_owner_only_file(tmp_path: Path) -> None:
    path = tmp_path / "state" / "ksre" / "audit.log"
    old = os.umask(0o022)
    try:
        audit("restore", cluster="prod", result=OK, topic="orders", parameters={"backup_id": "b1"}, path=path)
        audit("offsets.reset", cluster="prod", result=FAILED, group="g", error="coordinator away", path=path)
    finally:
        os.umask(old)
    first, second = read_audit(path)
    assert first["action"] == "restore" and first["topic"] == "orders" and first["parameters"] == {"backup_id": "b1"}
    assert first["result"] == "ok" and first["error"] is None and first["user"] and first["host"]
    assert first["time"].endswith("Z")
    assert second["group"] == "g" and second["result"] == "failed" and second["error"] == "coordinator away"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.parent.stat().st_mode) == 0o700  # parents it created too


def test_concurrent_writers_never_interleave_inside_a_line(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    big = "x" * 3000
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: audit("prune", cluster=f"c{i}", result=OK, parameters={"pad": big}, path=path),
                      range(200)))
    entries = read_audit(path)
    assert sorted(e["cluster"] for e in entries) == sorted(f"c{i}" for i in range(200))
