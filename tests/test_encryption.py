"""Encryption at rest against the real broker: an encrypted backup holds no plaintext, names its key
only by id, needs the key to verify and restore (a clear error without it or with another), detects
a flipped bit in every block even when the CRC is forged, and never reuses a nonce."""

from __future__ import annotations

import asyncio
import hashlib
import json
import struct
import zlib
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from kafka_sre_tui.cli.main import main
from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.backup.catalog import verify
from kafka_sre_tui.engine.backup.run import BackupResult
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.storage.blocks import FRAME_SIZE
from kafka_sre_tui.engine.storage.encryption import EncryptionKey, EncryptionKeyError, key_from_env, key_from_file
from kafka_sre_tui.engine.storage.manifest import manifest_checksum
from kafka_sre_tui.engine.target.topic import inspect_target
from kafka_sre_tui.localkafka import LocalKafka
from tests.backup_helpers import backup
from tests.kafka_helpers import create_topic, read_all
from tests.restore_helpers import content, restore

MARKER = b"plaintext-marker-"
KEY_HEX = "8f" * 32


async def _produce(bootstrap: str, topic: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        for i in range(1200):  # 2.4 MB on partition 0: several 1 MiB blocks
            await producer.send(topic, MARKER + str(i).encode() + b"x" * 2000, key=b"k", partition=i % 4 // 3)
        await producer.flush()
    finally:
        await producer.stop()


@pytest.fixture
async def encrypted(kafka: LocalKafka, cluster: ClusterConfig, unique: str, tmp_path: Path) -> BackupResult:
    await create_topic(kafka.bootstrap_servers, unique, 2)
    await _produce(kafka.bootstrap_servers, unique)
    (tmp_path / "key").write_text(KEY_HEX + "\n")
    return await backup(cluster, unique, tmp_path / "b", compression="none",
                        encryption_key=key_from_file(tmp_path / "key"))


def _blocks(result: BackupResult) -> list[tuple[Path, int, int]]:
    """(file, payload position, payload length) of every block of the backup."""
    return [(result.path / s.file, b.position + FRAME_SIZE, b.stored_length)
            for p in result.manifest.partitions for s in p.segments for b in s.blocks]


def _forge(result: BackupResult, path: Path, at: int, length: int, data: bytearray) -> None:
    """What an attacker without the key can do after changing a block: fix its CRC-32 in the frame
    and the manifest, the file's SHA-256 and the manifest's own checksum."""
    crc = zlib.crc32(bytes(data[at:at + length]))
    struct.pack_into(">I", data, at - 4, crc)
    path.write_bytes(bytes(data))
    doc = json.loads((result.path / "manifest.json").read_text())
    relative = str(path.relative_to(result.path))
    for part in doc["partitions"]:
        for segment in part["segments"]:
            if segment["file"] == relative:
                segment["sha256"] = hashlib.sha256(data).hexdigest()
                for block in segment["blocks"]:
                    if block["position"] + FRAME_SIZE == at:
                        block["crc32"] = crc
    doc["manifest_sha256"] = manifest_checksum(doc)
    (result.path / "manifest.json").write_text(json.dumps(doc))


async def test_encrypted_backup_keeps_no_plaintext_and_needs_its_key(encrypted: BackupResult, cluster: ClusterConfig,
                                                                     tmp_path: Path) -> None:
    manifest = json.loads((encrypted.path / "manifest.json").read_text())
    key = EncryptionKey(bytes.fromhex(KEY_HEX), "test")
    assert manifest["format_version"] == 2
    assert manifest["encryption"] == {"algorithm": "AES-256-GCM", "key_id": key.key_id}
    files = [p for p in encrypted.path.rglob("*") if p.is_file()]
    assert not [p for p in files if MARKER in p.read_bytes() or KEY_HEX.encode() in p.read_bytes()
                or key.key in p.read_bytes()]
    blocks = _blocks(encrypted)
    assert len(blocks) >= 3
    nonces = {path.read_bytes()[at:at + 12] for path, at, _ in blocks}
    assert len(nonces) == len(blocks)

    base = encrypted.path.parent
    with pytest.raises(EncryptionKeyError, match=f"is encrypted \\(key id {key.key_id}\\): pass its key"):
        await verify(base, encrypted.backup_id)
    other = EncryptionKey(bytes(32), "file other.key")
    with pytest.raises(EncryptionKeyError, match=f"encrypted with key id {key.key_id}, but the key from file other"):
        await verify(base, encrypted.backup_id, other)
    result = await verify(base, encrypted.backup_id, key)
    assert result.intact and result.records == 1200

    for wrong in (None, other):
        with pytest.raises(EncryptionKeyError):
            await restore(cluster, base, encrypted.backup_id, target_topic=f"{encrypted.manifest.topic['name']}-x",
                          create_topic=True, encryption_key=wrong)
    async with KafkaSession(cluster) as session:
        assert not (await inspect_target(session, f"{encrypted.manifest.topic['name']}-x")).exists
    topic = encrypted.manifest.topic["name"]
    await restore(cluster, base, encrypted.backup_id, target_topic=f"{topic}-r", create_topic=True,
                  encryption_key=key)
    bs = cluster.bootstrap_servers[0]
    source, restored = await read_all(bs, topic), await read_all(bs, f"{topic}-r")
    assert {p: content(r) for p, r in restored.items()} == {p: content(r) for p, r in source.items()}


async def test_a_flipped_bit_in_any_block_is_found_even_with_a_forged_crc(encrypted: BackupResult) -> None:
    key = EncryptionKey(bytes.fromhex(KEY_HEX), "test")
    manifest = (encrypted.path / "manifest.json").read_bytes()
    for path, at, length in _blocks(encrypted):
        original = path.read_bytes()
        data = bytearray(original)
        data[at + length // 2] ^= 0x10
        _forge(encrypted, path, at, length, data)
        result = await verify(encrypted.path.parent, encrypted.backup_id, key)
        path.write_bytes(original)
        (encrypted.path / "manifest.json").write_bytes(manifest)
        assert [d.problem for d in result.damage] == ["block fails AES-256-GCM authentication (damaged or "
                                                      "tampered with)"]
    assert (await verify(encrypted.path.parent, encrypted.backup_id, key)).intact


def test_cli_encrypts_with_a_key_from_the_environment_and_refuses_verify_without_it(
        kafka: LocalKafka, unique: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    asyncio.run(create_topic(kafka.bootstrap_servers, unique, 2))
    asyncio.run(_produce(kafka.bootstrap_servers, unique))
    monkeypatch.setenv("KSRE_TEST_BACKUP_KEY", KEY_HEX)
    base = ["--backup-dir", str(tmp_path)]
    assert main(["backup", "--cluster", kafka.bootstrap_servers, "--topic", unique, *base, "--json",
                 "--encryption-key-env", "KSRE_TEST_BACKUP_KEY"]) == 0
    backup_id = json.loads(capsys.readouterr().out)["backup_id"]
    assert main(["verify", backup_id, *base]) == 2
    [error] = capsys.readouterr().err.splitlines()
    assert error.startswith(f"error: backup {backup_id} is encrypted (key id ")
    assert main(["verify", backup_id, *base, "--encryption-key-env", "KSRE_TEST_BACKUP_KEY"]) == 0
    assert KEY_HEX not in capsys.readouterr().out


def test_keys_are_32_bytes_in_hex_base64_or_raw(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = bytes(range(32))
    (tmp_path / "raw").write_bytes(raw)
    monkeypatch.setenv("K_B64", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
    monkeypatch.setenv("K_SHORT", "abcd")
    assert key_from_file(tmp_path / "raw").key == raw == key_from_env("K_B64").key
    assert key_from_file(tmp_path / "raw").key_id == key_from_env("K_B64").key_id != raw.hex()[:32]
    with pytest.raises(EncryptionKeyError, match=r"K_SHORT is not 32 bytes .*openssl rand -hex 32"):
        key_from_env("K_SHORT")
    with pytest.raises(EncryptionKeyError, match=r"K_UNSET .* is not set"):
        key_from_env("K_UNSET")
    assert "key=" not in repr(key_from_env("K_B64"))
