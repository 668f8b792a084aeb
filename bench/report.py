"""Results as JSON (everything) and markdown (the tables the README quotes)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.stats import Row
from bench.targets import Check


def _num(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _row_line(row: Row) -> str:
    doc = row.to_json()
    if not row.available:
        return f"| {row.name} | unavailable | | | | | {row.note} |"
    size = _num(row.size_bytes / 1e6) if row.size_bytes else ""
    return (f"| {row.name} | {_num(row.mb_s)} | {row.records_s:,.0f} | {_num(doc['median_engine_mb_s'])} | "
            f"{_num(doc['max_peak_rss_mb'], 0)} | {size} | {row.note} |")


def markdown(result: dict[str, Any], rows: list[Row], checks: list[Check]) -> str:
    m, t = result["machine"], result["topic"]
    lines = [
        f"# Benchmark results ({result['mode']} mode, {result['started']})",
        "",
        f"Command: `{result['command']}`",
        "",
        f"Machine: {m['cpu_model']}, {m['cores']} cores, {m['memory_gb']} GB, load average at start "
        f"{' / '.join(map(str, m['load_average_at_start']))}; Python {m['python']}, aiokafka {m['aiokafka']}, "
        f"textual {m['textual']}, Kafka {m['kafka_broker']} ({m['java']}), {m['kcat'] or 'no kcat'}.",
        "",
        f"Topic: {t['records']:,} records of {t['value_bytes']} B (JSON-like, keys, 2 headers) over "
        f"{t['partitions']} partitions, {t['log_bytes'] / 1e6:,.1f} MB of broker log; loaded in {t['load_seconds']} s. "
        f"Medians of {result['settings']['repeats']} repeat(s). Every child process is timed whole (start-up "
        "included); MB/s = topic log MB ÷ wall seconds, the same basis for ours and the peers. "
        "\"Own MB/s\" is the tool's own figure (our --json metrics; the perf tools' reports).",
        "",
        "| run | MB/s | records/s | own MB/s | peak RSS MB | stored MB | note |",
        "|---|---:|---:|---:|---:|---:|---|",
        *(_row_line(r) for r in rows),
        "",
        "| target | value | target | met |",
        "|---|---:|---|---|",
        *(f"| {c.name} | {_num(c.value, 2)} | {c.target} | "
          f"{'–' if c.met is None else ('yes' if c.met else '**no**')} |" for c in checks),
        "",
    ]
    lines += _startup(result.get("startup", {}))
    lines += _inspection(result.get("inspection", {}))
    for name, top in result.get("profiles", {}).items():
        lines += ["", f"Profile of one {name} (py-spy, share of samples by own time):", "", "```", *top[:12], "```"]
    if result["notes"]:
        lines += ["", "Notes:", *(f"- {n}" for n in result["notes"])]
    return "\n".join(lines) + "\n"


def _startup(found: dict[str, Any]) -> list[str]:
    if not found:
        return []
    return ["Start-up (bench/startup.py; CPU is user + system of the whole process, min of the runs; ours = "
            "minus a bare `python -c pass`):", "",
            "| command | CPU s | ours CPU s | wall min s | wall median s |", "|---|---:|---:|---:|---:|",
            *(f"| {name} | {f['cpu_min_s']} | {f.get('ours_cpu_s', '–')} | {f['wall_min_s']} | {f['wall_median_s']} |"
              for name, f in found.items()), ""]


def _inspection(insp: dict[str, Any]) -> list[str]:
    refresh, ui = insp.get("refresh", {}), insp.get("ui", {})
    if "error" in refresh or "error" in ui or not refresh:
        return [f"Inspection: {refresh.get('error') or ui.get('error') or 'not measured'}"]
    med, first = refresh["median"], refresh["first"]
    out = [f"Inspection: {refresh['topics']:,} topics, {refresh['partitions']:,} partitions, "
           f"{refresh['groups']} groups ({refresh['group_partitions']:,} group partitions); "
           f"cluster built in {insp.get('build_seconds')} s.",
           "",
           "| refresh stage (engine, one session) | first s | median of later s |", "|---|---:|---:|"]
    for key, label in (("topics_metadata_s", "topics (metadata, first refresh)"),
                       ("topics_offsets_s", "topics with offsets"), ("groups_lag_s", "groups with lag"),
                       ("sizes_s", "sizes on disk"), ("data_loss_s", "data loss ahead"), ("total_s", "full refresh")):
        out.append(f"| {label} | {first[key]:.3f} | {med[key]:.3f} |")
    out += ["", "| dashboard (KsreApp, headless run_test) | loaded in s | longest frame ms | p99 frame ms | "
            "frames > 100 ms |", "|---|---:|---:|---:|---:|"]
    for phase in ("first_load", "second_refresh"):
        p = ui.get(phase, {})
        out.append(f"| {phase.replace('_', ' ')} | {p.get('seconds')} | {p.get('longest_frame_ms')} | "
                   f"{p.get('p99_frame_ms')} | {p.get('frames_over_100ms')} |")
    return out


def write(out_dir: Path, stem: str, result: dict[str, Any], rows: list[Row], checks: list[Check]) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    doc = {**result, "rows": [r.to_json() for r in rows], "targets": [c.to_json() for c in checks]}
    (out_dir / f"{stem}.json").write_text(json.dumps(doc, indent=1) + "\n")
    md = out_dir / f"{stem}.md"
    md.write_text(markdown(result, rows, checks))
    return md


def rerender(path: Path) -> Path:
    """Write the markdown again from a results JSON (after a change to this module's layout)."""
    doc = json.loads(path.read_text())
    fields = set(Row.__dataclass_fields__)
    rows = [Row(**{k: v for k, v in r.items() if k in fields}) for r in doc.pop("rows")]
    checks = [Check(**c) for c in doc.pop("targets")]
    md = path.with_suffix(".md")
    md.write_text(markdown(doc, rows, checks))
    return md


if __name__ == "__main__":
    import sys

    print(rerender(Path(sys.argv[1])))
