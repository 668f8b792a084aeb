"""The launcher's failures must be legible: a missing tool in one line, a broken broker with its log."""

from __future__ import annotations

import socket
import subprocess
import threading
from pathlib import Path

import pytest

from kafka_sre_tui.localkafka import Listener, LocalKafka, LocalKafkaError, kafka_libs

from .kafka_helpers import create_topic, produce, read_all


def test_missing_java_or_maven_is_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KSRE_CACHE_DIR", str(tmp_path / "empty-cache"))  # nothing fetched yet
    monkeypatch.setenv("PATH", str(tmp_path))  # no java, no mvn
    with pytest.raises(LocalKafkaError) as info:
        kafka_libs()
    message = str(info.value)
    assert "\n" not in message and message.startswith("java not found on PATH: install a JDK")


def test_broker_that_cannot_start_shows_its_log_tail(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        broken = LocalKafka(data_dir=tmp_path, listeners=[Listener("TAKEN", port=port)], startup_timeout=60)
        with pytest.raises(LocalKafkaError) as info:
            broken.start()
    message = str(info.value)
    assert "exited during startup" in message and "log tail:" in message
    assert f"{port}" in message and "Address already in use" in message  # the broker's own complaint
    assert not broken.running


def test_bad_broker_setting_names_the_setting(tmp_path: Path) -> None:
    broken = LocalKafka(data_dir=tmp_path, broker_properties={"num.network.threads": "not-a-number"})
    with pytest.raises(LocalKafkaError, match=r"formatting Kafka storage .* failed: .*num.network.threads"):
        broken.start()


def test_restart_keeps_address_and_data(tmp_path: Path) -> None:
    kafka = LocalKafka(data_dir=tmp_path / "node").start()
    try:
        address, cluster_id = kafka.bootstrap_servers, kafka.cluster_id
        kafka.kill()
        assert not kafka.running
        kafka.start()
        assert kafka.running and kafka.bootstrap_servers == address
        assert (tmp_path / "node" / "log" / "meta.properties").read_text().count(cluster_id) == 1
    finally:
        kafka.stop()
    assert (tmp_path / "node").exists()  # a data dir given by the caller is the caller's to delete


async def test_clean_restart_keeps_address_topics_and_records() -> None:
    kafka = LocalKafka(heap="256m").start()  # the launcher's own temporary data dir
    try:
        address = kafka.bootstrap_servers
        await create_topic(address, "kept", 1)
        await produce(address, "kept", {0: 3})
        kafka.stop(keep_data=True)
        assert not kafka.running and kafka.data_dir.exists()
        kafka.start()
        assert kafka.bootstrap_servers == address
        records = await read_all(address, "kept")
        assert [r[4] for r in records[0]] == [b"0-0", b"0-1", b"0-2"]
        kafka.restart()
        assert len((await read_all(address, "kept"))[0]) == 3
    finally:
        kafka.stop()
    assert not kafka.data_dir.exists()  # a plain stop still cleans up the launcher's own dir


def test_broker_started_from_a_thread_outlives_the_thread() -> None:
    kafka = LocalKafka(heap="256m")
    starter = threading.Thread(target=kafka.start)  # as asyncio.to_thread would, from a test's event loop
    starter.start()
    starter.join()
    try:
        assert kafka._proc is not None
        with pytest.raises(subprocess.TimeoutExpired):  # a SIGTERM'd broker exits in 5-10 s on a busy machine
            kafka._proc.wait(20)
        assert kafka.running
    finally:
        kafka.stop()


def test_cluster_ids_never_look_like_options() -> None:
    from kafka_sre_tui.localkafka import _cluster_id

    ids = [_cluster_id() for _ in range(2000)]  # about 31 of 2000 would start with "-" by chance
    assert not any(i.startswith("-") for i in ids) and all(len(i) == 22 for i in ids)
