"""Helpers for the drain tests: paced producers and consumers, and the CLI run as a real process.

``python -m tests.drain_helpers ARGS`` runs the command line (``kafka_sre_tui.cli.main.main``).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

ROOT = Path(__file__).resolve().parent.parent
TICK = 0.05


class PacedConsumer:
    """A group member reading ``rate`` records/s and committing every ``commit_every`` s while
    ``committing`` is true. It stays a member (polling, heartbeating) until :meth:`stop`."""

    def __init__(self, bootstrap: str, group: str, topic: str, rate: float, commit_every: float = 0.2) -> None:
        self.rate, self.commit_every, self.committing = rate, commit_every, True
        self.consumed = 0
        self.consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group,
                                         enable_auto_commit=False, auto_offset_reset="earliest")
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> PacedConsumer:
        await self.consumer.start()
        self._task = asyncio.create_task(self._run())
        deadline = time.monotonic() + 20
        while not self.consumer.assignment():
            assert time.monotonic() < deadline, "the paced consumer got no assignment"
            await asyncio.sleep(TICK)
        return self

    async def _run(self) -> None:
        last_commit = time.monotonic()
        allowance = 0.0
        while True:
            allowance = min(allowance + self.rate * TICK, self.rate)  # tokens, at most one second's worth
            if allowance >= 1:
                batch = await self.consumer.getmany(timeout_ms=int(TICK * 1000), max_records=int(allowance))
                got = sum(len(v) for v in batch.values())
                self.consumed += got
                allowance -= got
            if self.committing and time.monotonic() - last_commit >= self.commit_every:
                await self.consumer.commit()
                last_commit = time.monotonic()
            await asyncio.sleep(TICK)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.consumer.stop()


class PacedProducer:
    """Writes ``rate`` records/s round-robin over ``partitions`` until :meth:`stop`."""

    def __init__(self, bootstrap: str, topic: str, partitions: int, rate: float) -> None:
        self.topic, self.partitions, self.rate = topic, partitions, rate
        self.producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
        self.sent = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> PacedProducer:
        await self.producer.start()
        self._task = asyncio.create_task(self._run())
        return self

    async def _run(self) -> None:
        started = time.monotonic()
        while True:
            due = int((time.monotonic() - started) * self.rate)
            while self.sent < due:
                await self.producer.send(self.topic, b"x", partition=self.sent % self.partitions)
                self.sent += 1
            await asyncio.sleep(TICK)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.producer.stop()


@dataclass
class CliRun:
    code: int
    seconds: float  # wall time of the whole process
    lines: list[dict[str, Any]] = field(default_factory=list)  # JSON lines, each with "arrived" (monotonic)
    stderr: str = ""

    @property
    def samples(self) -> list[dict[str, Any]]:
        return [line for line in self.lines if line.get("event") == "sample"]

    @property
    def result(self) -> dict[str, Any]:
        return next(line for line in self.lines if line.get("event") == "result")


async def run_cli(*args: str, limit: float = 40.0) -> CliRun:
    """Run ``kafka-sre-tui ARGS --json`` as a process; each JSON line is stamped when it arrives."""
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.drain_helpers", *args, "--json", cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    lines = []
    try:
        async with asyncio.timeout(limit):
            async for raw in proc.stdout:
                lines.append({**json.loads(raw), "arrived": time.monotonic()})
            code = await proc.wait()
    except TimeoutError:
        proc.kill()
        raise AssertionError(f"kafka-sre-tui {' '.join(args)} did not end within {limit:g} s") from None
    stderr = (await proc.stderr.read()).decode()
    return CliRun(code, time.monotonic() - started, lines, stderr)


def _main(argv: Sequence[str]) -> int:
    from kafka_sre_tui.cli.main import main

    return main(argv)


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
