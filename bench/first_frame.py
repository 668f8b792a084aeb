"""Child process: the dashboard, headless, until its first frame is on screen (Textual's ``Ready`` event).

    python -m bench.first_frame [BOOTSTRAP]   -> JSON on stdout: seconds from the interpreter's start to the
                                                 first frame (wall and CPU), and the modules loaded by then

Without a broker the cluster is an address nobody answers: the first frame must not wait for Kafka.
``--modules`` adds the list of loaded modules (tests/test_dashboard_startup.py reads it).
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys


def _since_start() -> float:
    """Wall seconds since this process was created (the kernel's start time, so imports are counted)."""
    with open("/proc/self/stat") as stat:
        started_ticks = int(stat.read().rsplit(")", 1)[1].split()[19])
    with open("/proc/uptime") as uptime:
        up = float(uptime.read().split()[0])
    return up - started_ticks / os.sysconf("SC_CLK_TCK")


def main(argv: list[str]) -> int:
    from textual.events import Ready
    from textual.message import Message

    from kafka_sre_tui.config import ClusterConfig
    from kafka_sre_tui.tui.app import KsreApp

    bootstrap = next((a for a in argv if not a.startswith("--")), "127.0.0.1:1")
    found: dict[str, object] = {}

    app = KsreApp(ClusterConfig(name="probe", bootstrap_servers=(bootstrap,)))

    def on_message(message: Message) -> None:
        if isinstance(message, Ready) and not found:
            usage = resource.getrusage(resource.RUSAGE_SELF)
            found.update(first_frame_wall_s=round(_since_start(), 3),
                         first_frame_cpu_s=round(usage.ru_utime + usage.ru_stime, 3))
            if "--modules" in argv:
                found["modules"] = sorted(sys.modules)

    async def run() -> None:
        async with app.run_test(message_hook=on_message) as pilot:
            while not found:
                await pilot.pause(0.01)

    asyncio.run(run())
    print(json.dumps(found))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
