"""A cluster that does not answer fails fast and in one line; it never hangs the tool."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from textual.widgets import Static

from kafka_sre_tui.config import ClusterConfig, UiSettings
from kafka_sre_tui.engine.errors import ClusterUnreachable
from kafka_sre_tui.engine.inspect.cluster import list_topics
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.localkafka import free_port
from kafka_sre_tui.tui.app import KsreApp
from tests.kafka_helpers import wait_for


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts TCP connections and never says a word: a broker that hangs."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    yield f"127.0.0.1:{server.getsockname()[1]}"
    server.close()


async def test_closed_port_fails_fast() -> None:
    cluster = ClusterConfig(name="gone", bootstrap_servers=(f"127.0.0.1:{free_port()}",), request_timeout_seconds=5)
    started = time.monotonic()
    with pytest.raises(ClusterUnreachable, match="cannot connect"):
        async with KafkaSession(cluster) as s:
            await list_topics(s)
    assert time.monotonic() - started < 5


async def test_hung_broker_fails_within_the_configured_time(silent_server: str) -> None:
    cluster = ClusterConfig(name="hung", bootstrap_servers=(silent_server,), request_timeout_seconds=1.5)
    started = time.monotonic()
    with pytest.raises(ClusterUnreachable, match=r"no answer within 1.5 s"):
        async with KafkaSession(cluster) as s:
            await list_topics(s)
    assert time.monotonic() - started < 4


def test_cli_unreachable_is_one_line_exit_1(silent_server: str) -> None:
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "kafka_sre_tui", "topics", "--cluster", silent_server,
                             "--timeout", "1"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr and silent_server in result.stderr
    assert time.monotonic() - started < 15


def test_asyncio_timeout_is_translated_not_leaked() -> None:
    # the guard must turn asyncio's TimeoutError into our typed error even when the engine's
    # own call raised it, so the CLI never prints a bare traceback for a slow cluster
    from kafka_sre_tui.engine.kafka.session import translate_error

    err = translate_error(TimeoutError(), ClusterConfig(name="x", bootstrap_servers=("h:1",)), "reading")
    assert isinstance(err, ClusterUnreachable) and err.retriable


@pytest.mark.parametrize("kind", ["closed port", "unresolvable name", "silent broker"])
def test_cli_every_kind_of_unreachable_is_one_line_within_the_time(kind: str, silent_server: str) -> None:
    address = {"closed port": f"127.0.0.1:{free_port()}", "unresolvable name": "no-such-broker.invalid:9092",
               "silent broker": silent_server}[kind]
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "kafka_sre_tui", "groups", "--help"], capture_output=True, timeout=60)
    startup = time.monotonic() - started  # importing the tool, on this machine now
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "kafka_sre_tui", "groups", "--cluster", address, "--timeout", "2"],
                            capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: connecting on cluster '{address}': ") and "Traceback" not in result.stderr
    assert ("no answer within 2 s" if kind == "silent broker" else "cannot connect") in line
    assert elapsed < startup + 2 + 3, (elapsed, startup)  # the configured 2 s, give or take


async def test_dashboard_on_a_silent_broker_says_so_and_keeps_running(silent_server: str) -> None:
    hung = ClusterConfig(name="hung", bootstrap_servers=(silent_server,), request_timeout_seconds=1)
    app = KsreApp(hung, UiSettings(refresh_seconds=1))
    async with app.run_test(size=(100, 24)) as pilot:
        status = app.query_one("#status", Static)
        await wait_for(lambda: "no answer within 1 s" in str(status.render()), "the timeout in the status line", 60)
        await pilot.press("t")  # still answering keys
        await pilot.press("r")
        assert app.is_running
