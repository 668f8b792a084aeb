"""Facts about the machine and versions, recorded with every result."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from importlib.metadata import version
from pathlib import Path
from typing import Any

from kafka_sre_tui.localkafka import KAFKA_VERSION


def _cpu_model() -> str:
    text = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    match = re.search(r"model name\s*:\s*(.+)", text)
    return match.group(1).strip() if match else platform.processor() or "unknown"


def _memory_gb() -> float:
    text = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    match = re.search(r"MemTotal:\s*(\d+) kB", text)
    return round(int(match.group(1)) / 1024 / 1024, 1) if match else 0.0


def _java() -> str:
    result = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False)
    return (result.stderr or result.stdout).splitlines()[0].strip() if (result.stderr or result.stdout) else "?"


def facts(kcat: str) -> dict[str, Any]:
    return {
        "cpu_model": _cpu_model(),
        "cores": len(os.sched_getaffinity(0)),
        "memory_gb": _memory_gb(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "os": platform.platform(),
        "python": platform.python_version(),
        "kafka_sre_tui": version("kafka-sre-tui"),
        "aiokafka": version("aiokafka"),
        "textual": version("textual"),
        "kafka_broker": KAFKA_VERSION,
        "java": _java(),
        "kcat": kcat,
    }
