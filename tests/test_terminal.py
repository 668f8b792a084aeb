"""The dashboard in a real terminal multiplexer at 80×24: what an SRE on a jump host sees.

Pilot tests drive the app headless; this one runs it under tmux (a real pty, TERM=tmux-256color),
types keys into it and reads the screen back, with the snapshot tests' fixed data.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SESSION = f"ksre-test-{os.getpid()}"


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True).stdout


def _screen_until(condition: Callable[[str], bool], what: str, seconds: float = 20.0) -> str:
    deadline = time.monotonic() + seconds
    shown = ""
    while time.monotonic() < deadline:
        shown = _tmux("capture-pane", "-p", "-t", SESSION)
        if condition(shown):
            return shown
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}; the screen showed:\n{shown}")


@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[str]:
    assert shutil.which("tmux"), "tmux is needed for the terminal test (Debian package tmux)"
    script = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); from pathlib import Path; "
              f"from tests.test_dashboard_snapshots import _app; _app(Path({str(tmp_path)!r})).run()")
    _tmux("new-session", "-d", "-s", SESSION, "-x", "80", "-y", "24", f"{sys.executable} -c {script!r}")
    try:
        yield SESSION
    finally:
        subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)


def test_dashboard_in_tmux_at_80x24_shows_topics_then_groups_and_quits(dashboard: str) -> None:
    shown = _screen_until(lambda s: "orders" in s and "4,812,000" in s, "the topics table")
    lines = shown.splitlines()
    assert len(lines) <= 24 and all(len(line) <= 80 for line in lines)
    assert "READ-ONLY" in shown  # the production cluster says so in the header
    header = next(line for line in lines if "Topic" in line and "Partitions" in line)
    assert "Size" in header and "URP" in header
    _tmux("send-keys", "-t", dashboard, "g")
    shown = _screen_until(lambda s: "orders-processor" in s, "the groups table")
    assert "STOPPED" in shown  # audit-archiver has lag and no members
    _tmux("send-keys", "-t", dashboard, "q")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        alive = subprocess.run(["tmux", "has-session", "-t", dashboard], capture_output=True).returncode == 0
        if not alive:
            return
        time.sleep(0.1)
    raise AssertionError("q did not quit the dashboard")
