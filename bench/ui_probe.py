"""Child process: the dashboard (KsreApp under App.run_test, headless) loading a cluster.

    python -m bench.ui_probe BOOTSTRAP   -> JSON on stdout

How frames are measured: a task on the app's event loop sleeps 2 ms at a time and records how late it
wakes. Everything the dashboard does on that loop (message handlers, table updates, layout, rendering)
blocks that task, and so does the refresh's engine code where it holds the interpreter (it runs on a loop
of its own, in a thread: tui/engine_thread.py; the garbage collector stops both), so its worst lateness is
the longest time the UI could not draw or answer a key: the longest frame. Measured over the first load (app start to
RefreshDone plus a settle) and over a second, manual refresh ("r").
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from textual.message import Message

from kafka_sre_tui.config import ClusterConfig, UiSettings
from kafka_sre_tui.tui.app import KsreApp
from kafka_sre_tui.tui.messages import RefreshDone, RefreshFailed

TICK = 0.002


class LagMonitor:
    def __init__(self) -> None:
        self.stalls: list[float] = []

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await asyncio.sleep(TICK)
            self.stalls.append(loop.time() - started - TICK)

    def summary(self) -> dict[str, Any]:
        stalls = sorted(self.stalls) or [0.0]
        return {"longest_frame_ms": round(stalls[-1] * 1000, 1),
                "p99_frame_ms": round(stalls[int(len(stalls) * 0.99)] * 1000, 1),
                "frames_over_100ms": sum(s > 0.1 for s in stalls)}


async def probe(bootstrap: str) -> dict[str, Any]:
    done: asyncio.Queue[Message] = asyncio.Queue()

    def hook(message: Message) -> None:
        if isinstance(message, RefreshDone | RefreshFailed):
            done.put_nowait(message)

    cluster = ClusterConfig(name="bench", bootstrap_servers=tuple(bootstrap.split(",")), request_timeout_seconds=60)
    app = KsreApp(cluster, UiSettings(refresh_seconds=3600))
    result: dict[str, Any] = {}
    started = time.perf_counter()
    async with app.run_test(size=(200, 60), message_hook=hook) as pilot:
        for phase in ("first_load", "second_refresh"):
            monitor = LagMonitor()
            task = asyncio.create_task(monitor.run())
            t0 = time.perf_counter()
            if phase == "second_refresh":
                await pilot.press("r")
            message = await asyncio.wait_for(done.get(), 600)
            loaded = time.perf_counter() - (started if phase == "first_load" else t0)
            await pilot.pause()
            await asyncio.sleep(0.5)  # trailing renders of the tables
            task.cancel()
            if isinstance(message, RefreshFailed):
                raise SystemExit(f"dashboard refresh failed: {message.error}")
            result[phase] = {"seconds": round(loaded, 3), **monitor.summary()}
        result["topics_rows"] = app.topics_pane.table.row_count
    return result


if __name__ == "__main__":
    print(json.dumps(asyncio.run(probe(sys.argv[1]))))
