"""Start-up of the CLI: ``--help`` and a ``topics`` listing, each run whole ``repeats`` times.

CPU seconds (user + system, from the child's rusage) are reported beside wall seconds: on a shared
machine the wall clock mostly measures the neighbours. "Ours" subtracts a bare ``python -c pass``.

    .venv/bin/python -m bench.startup [BOOTSTRAP]      # without a broker: --help only
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
from typing import Any

REPEATS = 10


def _measure(argv: list[str], repeats: int) -> dict[str, float]:
    cpu, wall = [], []
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = os.times().elapsed
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        wall.append(os.times().elapsed - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return {"cpu_min_s": round(min(cpu), 3), "cpu_median_s": round(statistics.median(cpu), 3),
            "wall_min_s": round(min(wall), 3), "wall_median_s": round(statistics.median(wall), 3)}


def measure(bootstrap: str | None, repeats: int = REPEATS) -> dict[str, Any]:
    cli = [sys.executable, "-m", "kafka_sre_tui"]
    bare = _measure([sys.executable, "-c", "pass"], repeats)
    commands = {"--help": [*cli, "--help"]}
    if bootstrap:
        commands["topics --json"] = [*cli, "topics", "--cluster", bootstrap, "--json"]
        commands["topics (table)"] = [*cli, "topics", "--cluster", bootstrap]
    result: dict[str, Any] = {"bare python": bare}
    for name, argv in commands.items():
        found = _measure(argv, repeats)
        found["ours_cpu_s"] = round(found["cpu_min_s"] - bare["cpu_min_s"], 3)
        result[name] = found
    result["dashboard first frame"] = first_frame(repeats)
    return result


def first_frame(repeats: int) -> dict[str, float]:
    """Seconds from the interpreter's start to the dashboard's first frame (bench/first_frame.py), median."""
    wall, cpu = [], []
    for _ in range(repeats):
        run = subprocess.run([sys.executable, "-m", "bench.first_frame"], capture_output=True, text=True, check=False)
        if run.returncode == 0:
            found = json.loads(run.stdout.strip().splitlines()[-1])
            wall.append(found["first_frame_wall_s"])
            cpu.append(found["first_frame_cpu_s"])
    if not wall:
        return {}
    return {"cpu_min_s": round(min(cpu), 3), "cpu_median_s": round(statistics.median(cpu), 3),
            "wall_min_s": round(min(wall), 3), "wall_median_s": round(statistics.median(wall), 3)}


def main() -> int:
    for name, figures in measure(sys.argv[1] if len(sys.argv) > 1 else None).items():
        print(f"{name:16} " + "  ".join(f"{k} {v}" for k, v in figures.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
