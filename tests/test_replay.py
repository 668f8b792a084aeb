"""`replay` against the real broker: exactly the filtered range is copied, faithfully; a dry run writes
nothing; a read_only target is refused; runs are audit-logged."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from kafka_sre_tui.engine.audit import read_audit
from kafka_sre_tui.localkafka import LocalKafka
from tests.kafka_helpers import create_topic, read_all
from tests.test_offsets_reset import ksre


async def test_replay_copies_exactly_the_filtered_range(kafka: LocalKafka, unique: str, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    monkeypatch.setenv("KAFKA_SRE_TUI_AUDIT_LOG", str(tmp_path / "kafka-sre-tui" / "audit.log"))
    bs, dlq, main = kafka.bootstrap_servers, f"{unique}-dlq", f"{unique}-main"
    await create_topic(bs, dlq, 2)
    await create_topic(bs, main, 2)
    producer = AIOKafkaProducer(bootstrap_servers=bs)
    await producer.start()
    try:
        for i in range(20):
            value = f"{'ERR' if i % 2 else 'ok'} {i}".encode()
            await producer.send(dlq, value, key=None if i == 7 else str(i).encode(), partition=0,
                                timestamp_ms=1_700_000_000_000 + i,
                                headers=[("cause", b"timeout"), ("cause", None), ("n", str(i).encode())])
            await producer.send(dlq, b"ERR elsewhere", partition=1)
        await producer.flush()
    finally:
        await producer.stop()
    source = [r for r in (await read_all(bs, dlq))[0] if 5 <= r[0] <= 14 and r[4] and r[4].startswith(b"ERR")]
    assert [r[0] for r in source] == [5, 7, 9, 11, 13]

    options = ["replay", "--cluster", bs, "--source-topic", dlq, "--partitions", "0", "--from-offset", "5",
               "--to-offset", "14", "--grep", "^ERR", "--target-topic", main]
    code, dry, err = await ksre(*options)
    assert code == 0 and dry["dry_run"] and dry["records"] == 5, err
    assert (await read_all(bs, main)) == {0: [], 1: []}
    code, done, err = await ksre(*options, "--execute")
    assert code == 0 and not done["dry_run"] and done["partitions"] == [
        {"partition": 0, "records": 5, "first_offset": 5, "last_offset": 13}], (done, err)
    copied = (await read_all(bs, main))[0]
    # offsets are the target's own; timestamp, its type, key, value and headers are the source's
    assert [r[1:] for r in copied] == [r[1:] for r in source]
    assert (await read_all(bs, main))[1] == []
    assert [(e["action"], e["result"], e["topic"]) for e in read_audit(tmp_path / "kafka-sre-tui" / "audit.log")] == [
        ("replay", "ok", main)]

    config = tmp_path / "config.toml"
    config.write_text(f'[clusters.src]\nbootstrap_servers = "{bs}"\n'
                      f'[clusters.prod]\nbootstrap_servers = "{bs}"\nread_only = true\n')
    code, _, err = await ksre("replay", "--config", str(config), "--cluster", "src", "--source-topic", dlq,
                              "--target-topic", main, "--target-cluster", "prod", "--execute")
    assert code == 2 and "read_only" in err and len((await read_all(bs, main))[0]) == 5
