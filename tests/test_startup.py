"""A command imports only what it needs: ``--help`` no Kafka client, a listing no backup engine.

Start-up time is measured by the bench (``python -m bench`` prints it); these tests guard its cause,
the modules a command loads, which a wall-clock assert on a shared machine could not.
"""

from __future__ import annotations

import subprocess
import sys

from kafka_sre_tui.cli.migrate import CUTOVER_STEPS
from kafka_sre_tui.engine.migrate import STEPS
from kafka_sre_tui.localkafka import LocalKafka

_HEAVY = ("aiokafka", "asyncio", "rich", "textual", "yaml", "zstandard", "lz4", "snappy", "crc32c", "cryptography",
          "kafka_sre_tui.engine.kafka", "kafka_sre_tui.engine.backup", "kafka_sre_tui.engine.restore",
          "kafka_sre_tui.engine.migrate", "kafka_sre_tui.engine.drain", "kafka_sre_tui.engine.storage",
          "kafka_sre_tui.engine.inspect", "kafka_sre_tui.tui")


def _loaded(*argv: str) -> set[str]:
    """Top-level names of what ``kafka-sre-tui ARGV`` imported (from ``-X importtime``)."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "kafka_sre_tui", *argv],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}


def _heavy(modules: set[str]) -> set[str]:
    return {m for m in modules if any(m == h or m.startswith(h + ".") for h in _HEAVY)}


def test_help_loads_no_kafka_client_and_no_engine() -> None:
    for argv in (["--help"], ["backup", "--help"], ["restore", "--help"], ["migrate", "--help"]):
        modules = _loaded(*argv)
        assert _heavy(modules) == set(), argv
        # no log file to open, no table to print: the rotating handler (socket, pickle) and the value types wait
        assert modules & {"logging.handlers", "socket", "kafka_sre_tui.engine.models", "kafka_sre_tui.cli.output"} \
            == set(), argv


def test_topics_listing_loads_only_inspection(kafka: LocalKafka) -> None:
    modules = _loaded("topics", "--cluster", kafka.bootstrap_servers, "--json")
    assert "aiokafka" in modules and "kafka_sre_tui.engine.inspect.cluster" in modules
    capabilities = ("backup", "restore", "migrate", "drain", "storage")
    assert {m for m in modules if m.split(".")[:3] in [["kafka_sre_tui", "engine", c] for c in capabilities]} == set()
    assert {m for m in modules if m.split(".")[0] in ("rich", "textual", "yaml", "zstandard", "lz4")} == set()
    assert "logging.handlers" not in modules  # a listing writes no log file


def test_cutover_steps_offered_by_the_cli_are_the_engines() -> None:
    assert CUTOVER_STEPS == STEPS
