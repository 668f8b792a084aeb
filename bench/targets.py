"""The issue's targets, evaluated on one run's rows: ratios ours ÷ peer and limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.settings import DEFAULT_CODEC
from bench.stats import Row, ratio

RSS_LIMIT_MB = 256.0
FLAT_RSS = 1.25  # "the same at two sizes": the larger size may use at most 25% more
REFRESH_LIMIT_S = 3.0
FRAME_LIMIT_MS = 100.0


@dataclass(frozen=True)
class Check:
    name: str
    value: float | None
    target: str
    met: bool | None  # None: could not be measured in this run

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "value": None if self.value is None else round(self.value, 3),
                "target": self.target, "met": self.met}


def _at_least(name: str, value: float | None, limit: float, target: str) -> Check:
    return Check(name, value, target, None if value is None else value >= limit)


def _at_most(name: str, value: float | None, limit: float, target: str) -> Check:
    return Check(name, value, target, None if value is None else value <= limit)


def _stored(ours: Row | None, peer: Row | None) -> float | None:
    if ours is None or peer is None or not (ours.available and peer.available and ours.size_bytes and peer.size_bytes):
        return None
    return ours.size_bytes / peer.size_bytes


def evaluate(rows: dict[str, Row], inspection: dict[str, Any]) -> list[Check]:
    backup, verify = rows.get(f"backup {DEFAULT_CODEC}"), rows.get(f"verify ({DEFAULT_CODEC} backup)")
    restore = rows.get(f"restore ({DEFAULT_CODEC} backup) into a new topic")
    kcat_c, kcat_p = rows.get("kcat consume → file"), rows.get("kcat produce ← file")
    cperf = rows.get("Kafka ConsumerPerformance")
    rust_backup = rows.get(f"kafka-backup (Rust) backup {DEFAULT_CODEC}")
    rust_restore = rows.get("kafka-backup (Rust) restore into a new topic")
    migrate = next((r for r in rows.values() if r.name.startswith("migrate ") and "small" not in r.name), None)
    pipe = next((r for r in rows.values() if r.name.startswith("kcat -C → kcat -P")), None)
    backups = [r for r in rows.values() if r.name.startswith("backup ") and "small" not in r.name and r.available]
    best = max(backups, key=lambda r: r.mb_s, default=None)
    checks = [
        _at_least(f"backup ({DEFAULT_CODEC}) ÷ kcat consume-to-file", ratio(backup, kcat_c), 1.0, "≥ 1.0"),
        _at_least(f"fastest backup ({best.name if best else '-'}) ÷ kcat consume-to-file", ratio(best, kcat_c),
                  1.0, "≥ 1.0"),
        _at_least(f"backup ({DEFAULT_CODEC}) ÷ kcat consume-to-file, 100 B records",
                  ratio(rows.get(f"100 B records: backup {DEFAULT_CODEC}"),
                        rows.get("100 B records: kcat consume → file")),
                  1.0, "≥ 1.0"),
        _at_least(f"backup ({DEFAULT_CODEC}) ÷ ConsumerPerformance, wall clock", ratio(backup, cperf), 0.7, "≥ 0.7"),
        _at_least(f"backup ({DEFAULT_CODEC}) ÷ ConsumerPerformance, each tool's own MB/s",
                  ratio(backup, cperf, "engine_mb_s"), 0.7, "≥ 0.7"),
        _at_least("restore ÷ kcat produce (we keep headers and timestamps)", ratio(restore, kcat_p), 1.0, "≥ 1.0"),
        _at_least(f"verify ÷ backup ({DEFAULT_CODEC})", ratio(verify, backup), 3.0, "≥ 3.0"),
        _at_least(f"backup ({DEFAULT_CODEC}) ÷ kafka-backup (Rust) backup", ratio(backup, rust_backup), 1.2, "≥ 1.2"),
        _at_least("restore ÷ kafka-backup (Rust) restore", ratio(restore, rust_restore), 1.2, "≥ 1.2"),
        _at_most(f"backup ({DEFAULT_CODEC}) stored MB ÷ kafka-backup's", _stored(backup, rust_backup), 1.0, "≤ 1.0"),
        _at_least("migrate ÷ kcat -C → kcat -P pipe (we keep headers and timestamps)", ratio(migrate, pipe), 2.0,
                  "≥ 2.0"),
        _at_least("migrate ÷ restore of the same data", ratio(migrate, restore), 0.9, "≥ 0.9"),
    ]
    for op, full_name in (("backup", f"backup {DEFAULT_CODEC}"),
                          ("restore", f"restore ({DEFAULT_CODEC} backup) into a new topic")):
        full = rows.get(full_name)
        small = next((r for r in rows.values() if r.name.startswith(op) and r.name.endswith("small")), None)
        peak = [max(r.peak_rss_mb) for r in (small, full) if r and r.available and r.peak_rss_mb]
        checks.append(_at_most(f"{op} peak RSS MB, larger of two sizes", max(peak) if peak else None,
                               RSS_LIMIT_MB, f"≤ {RSS_LIMIT_MB:.0f}"))
        checks.append(_at_most(f"{op} peak RSS, full ÷ small size", peak[-1] / peak[0] if len(peak) == 2 else None,
                               FLAT_RSS, f"≤ {FLAT_RSS} (flat)"))
    refresh = inspection.get("refresh", {}).get("median", {}).get("total_s")
    checks.append(_at_most(f"full refresh of {inspection.get('refresh', {}).get('partitions', '?')} partitions, s",
                           refresh, REFRESH_LIMIT_S, f"≤ {REFRESH_LIMIT_S:.0f}"))
    frames = [inspection.get("ui", {}).get(p, {}).get("longest_frame_ms") for p in ("first_load", "second_refresh")]
    known = [f for f in frames if f is not None]
    checks.append(_at_most("longest UI frame while the dashboard loads it, ms", max(known) if known else None,
                           FRAME_LIMIT_MS, f"≤ {FRAME_LIMIT_MS:.0f}"))
    return checks
