"""The benchmark harness (bench/) end to end in quick mode, against real brokers, so it never rots."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = ("backup lz4", "backup zstd", "verify (zstd backup)", "restore (zstd backup) into a new topic",
        "backup zstd, small", "restore (zstd backup), small", "100 B records: backup zstd")
PEERS = ("kcat consume → file", "kcat produce ← file", "Kafka ConsumerPerformance", "Kafka ProducerPerformance",
         "100 B records: kcat consume → file")


@pytest.mark.timeout(330)  # about 70 s alone; 140 s was too little in a clean CI run (fresh venv, shared cores)
def test_quick_benchmark_runs_end_to_end(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "bench", "--quick", "--no-install-kcat", "--out", str(tmp_path)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    doc = json.loads((tmp_path / "latest.json").read_text())
    rows = {r["name"]: r for r in doc["rows"]}

    for name in OURS:
        assert rows[name]["available"], rows[name]["note"]
        assert rows[name]["mb_s"] > 0 and rows[name]["max_peak_rss_mb"] > 0, rows[name]
    assert rows["backup zstd"]["size_bytes"] > 0
    assert doc["topic"]["records"] == 20_000 and doc["topic"]["log_bytes"] > 20_000 * 1024

    for name in PEERS:  # measured, or reported unavailable with the reason (kcat is optional)
        peer = rows[name]
        assert peer["mb_s"] > 0 if peer["available"] else peer["note"], peer
    assert rows["per-record decode + re-encode (aiokafka), zstd"]["mb_s"] > 0
    assert rows["Kafka ConsumerPerformance"]["available"], rows["Kafka ConsumerPerformance"]["note"]

    migrate = next(r for r in doc["rows"] if r["name"].startswith("migrate"))
    assert migrate["mb_s"] > 0 if migrate["available"] else migrate["note"], migrate

    refresh, ui = doc["inspection"]["refresh"], doc["inspection"]["ui"]
    assert refresh["topics"] >= 40 and refresh["groups"] >= 20 and refresh["median"]["total_s"] > 0, refresh
    assert ui["first_load"]["longest_frame_ms"] > 0 and ui["topics_rows"] >= 40, ui

    targets = {t["name"] for t in doc["targets"]}
    assert "verify ÷ backup (zstd)" in targets
    markdown = (tmp_path / "latest.md").read_text()
    assert "| backup zstd |" in markdown and "Machine:" in markdown
