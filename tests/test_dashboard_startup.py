"""The dashboard's first frame waits only for Textual and its own widgets.

The Kafka client loads in the engine thread with the first refresh, the backup engine with the Backups
tab's first listing, forms, detail screens and plots when they open. A timing assert on a shared machine
could not fail reliably; what the app loads before it runs can (``python -m bench.first_frame`` times it).
"""

from __future__ import annotations

import subprocess
import sys

_NOT_BEFORE_FIRST_FRAME = (
    "aiokafka", "zstandard", "lz4", "snappy", "crc32c", "cryptography", "yaml", "plotext", "textual_plotext",
    "kafka_sre_tui.engine.kafka", "kafka_sre_tui.engine.backup", "kafka_sre_tui.engine.restore",
    "kafka_sre_tui.engine.migrate", "kafka_sre_tui.engine.storage", "kafka_sre_tui.engine.drain.monitor",
    "kafka_sre_tui.engine.drain.sampler", "kafka_sre_tui.engine.drain.timestamps",
    "kafka_sre_tui.engine.inspect", "kafka_sre_tui.engine.replay", "kafka_sre_tui.engine.records",
    "kafka_sre_tui.engine.group_offsets", "kafka_sre_tui.tui.screens",
)

_PROBE = """
import sys
from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.tui.app import KsreApp

KsreApp(ClusterConfig(name="probe", bootstrap_servers=("127.0.0.1:1",)))
print("\\n".join(sorted(sys.modules)))
"""


def _loaded_by_the_app() -> set[str]:
    result = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return set(result.stdout.split())


def test_dashboard_loads_no_kafka_client_engine_or_forms_before_its_first_frame() -> None:
    modules = _loaded_by_the_app()
    assert "textual.app" in modules and "kafka_sre_tui.tui.widgets.topics_pane" in modules
    early = {m for m in modules if any(m == h or m.startswith(h + ".") for h in _NOT_BEFORE_FIRST_FRAME)}
    assert early == set()
