"""Helpers for the observability tests: scrape a metrics endpoint, run the CLI as a process."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parent.parent
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(port: int) -> Samples | None:
    """Every sample on ``/metrics``, keyed by (name, labels); None while nothing listens."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
    except OSError:
        return None
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float | None:
    """The one sample called ``name`` whose labels include ``labels``."""
    found = [v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= set(ls)]
    assert len(found) <= 1, f"{name} {labels}: {len(found)} samples"
    return found[0] if found else None


class CliProcess:
    """``python -m kafka_sre_tui ARGS`` with its stdout lines collected as they arrive."""

    def __init__(self, *args: str, state_dir: Path) -> None:
        self.args = args
        self.env = {**os.environ, "XDG_STATE_HOME": str(state_dir), "PYTHONPATH": str(ROOT)}
        self.lines: list[str] = []
        self.proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._errors: asyncio.Task[bytes] | None = None

    async def __aenter__(self) -> CliProcess:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "kafka_sre_tui", *self.args, cwd=ROOT, env=self.env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        self._reader = asyncio.create_task(self._read())
        # stderr is read as it comes too: a child writing more than a pipe holds (64 KiB of progress lines
        # and warnings) would otherwise block on its next write and never handle a signal or exit
        assert self.proc.stderr is not None
        self._errors = asyncio.create_task(self.proc.stderr.read())
        return self

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        async for raw in self.proc.stdout:
            self.lines.append(raw.decode())

    async def wait(self, limit: float = 60.0) -> int:
        assert self.proc is not None and self._reader is not None
        async with asyncio.timeout(limit):
            code = await self.proc.wait()
            await self._reader
        return code

    @property
    def output(self) -> Any:
        """The whole stdout as one JSON document."""
        return json.loads("".join(self.lines))

    @property
    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines if line.startswith("{")]

    async def __aexit__(self, *exc: object) -> None:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


class Receiver:
    """Records every POST; the first ``fail_first`` requests on a path get HTTP 503."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.attempts: dict[str, int] = {}
        self.fail_first: dict[str, int] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.attempts[self.path] = receiver.attempts.get(self.path, 0) + 1
                if receiver.attempts[self.path] <= receiver.fail_first.get(self.path, 0):
                    self.send_response(503)
                else:
                    receiver.received.append((self.path, body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def bodies(self, path: str) -> list[dict[str, Any]]:
        return [body for p, body in self.received if p == path]

    def __enter__(self) -> Receiver:
        import threading

        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
