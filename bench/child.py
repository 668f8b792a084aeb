"""Run one measured child process: wall time, peak RSS (os.wait4's ru_maxrss) and its output."""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ChildRun:
    cmd: tuple[str, ...]
    seconds: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def failure(self) -> str:
        """One line saying how the child failed (its last stderr lines)."""
        tail = " | ".join(line for line in self.stderr.strip().splitlines()[-3:] if line.strip())
        return f"{Path(self.cmd[0]).name} {' '.join(self.cmd[1:3])} exited {self.returncode}: {tail}"


def run_child(cmd: Sequence[str], *, stdout_path: Path | None = None, stdin_path: Path | None = None,
              env: Mapping[str, str] | None = None, timeout: float = 1800.0) -> ChildRun:
    """Run ``cmd`` to completion. Output goes to files, never pipes, so a chatty child cannot block.
    ``stdout_path`` keeps stdout there (a peer writing a topic to a file); otherwise it is returned."""
    with tempfile.TemporaryDirectory(prefix="ksre-bench-child-") as tmp:
        out_path = stdout_path or Path(tmp) / "stdout"
        err_path = Path(tmp) / "stderr"
        with open(out_path, "wb") as out, open(err_path, "wb") as err, \
                open(stdin_path or os.devnull, "rb") as stdin:
            started = time.monotonic()
            proc = subprocess.Popen(list(cmd), stdout=out, stderr=err, stdin=stdin,
                                    env={**os.environ, **(env or {})})
            watchdog = threading.Timer(timeout, proc.kill)
            watchdog.start()
            try:
                _pid, status, usage = os.wait4(proc.pid, 0)
            finally:
                watchdog.cancel()
            seconds = time.monotonic() - started
            proc.returncode = os.waitstatus_to_exitcode(status)
        stdout = "" if stdout_path else out_path.read_text(errors="replace")
        return ChildRun(tuple(cmd), seconds, usage.ru_maxrss / 1024, proc.returncode, stdout,
                        err_path.read_text(errors="replace"))
