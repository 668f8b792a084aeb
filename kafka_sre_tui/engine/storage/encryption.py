"""Encryption at rest: each block's compressed payload sealed with AES-256-GCM.

The key (32 bytes) comes from a file or an environment variable, written as 64 hex digits or
base64 (a key file may also hold the 32 raw bytes). The manifest records only the algorithm and a
key id, a fingerprint of the key that cannot be turned back into it. Every block gets a fresh
random 96-bit nonce; the authenticated data binds the sealed payload to its block header (offsets,
timestamps, counts, lengths), its partition and its backup, so a block moved elsewhere fails to
open just like a flipped bit. See docs/backup-format.md for the layout and the nonce argument.

Reading an encrypted backup starts with :func:`unlock`, which checks the key against the manifest
(or the plan of an unfinished backup) and registers it for that backup directory; the reader and
verify then find it with :func:`cipher_of`. This keeps the key out of every signature between the
command and the block reader.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kafka_sre_tui.engine.errors import ConfigError
from kafka_sre_tui.engine.storage.store import Location, open_location, read_json

ALGORITHM = "AES-256-GCM"
KEY_SIZE, NONCE_SIZE, TAG_SIZE = 32, 12, 16
OVERHEAD = NONCE_SIZE + TAG_SIZE
_HEX = re.compile(r"^[0-9a-fA-F]{64}$")
MANIFEST = "manifest.json"  # engine/storage/manifest.py's name, which imports this module
_unlocked: dict[str, BackupCipher | None] = {}  # by the backup's resolved path or URL


class EncryptionKeyError(ConfigError):
    """No key for an encrypted backup, the wrong key, or a key that is not 32 bytes."""


class SealError(ValueError):
    """A sealed block does not open: damaged, tampered with, or moved from elsewhere."""


@dataclass(frozen=True)
class EncryptionKey:
    key: bytes = field(repr=False)
    source: str  # where it came from, for messages: "file /x" or "environment variable X"

    @property
    def key_id(self) -> str:
        """A fingerprint: the first 16 bytes of SHA-256 over a label and the key, in hex."""
        return hashlib.sha256(b"kafka-sre-tui backup key id\0" + self.key).hexdigest()[:32]

    def describe(self) -> dict[str, Any]:
        return {"algorithm": ALGORITHM, "key_id": self.key_id}


def key_from_file(path: Path) -> EncryptionKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EncryptionKeyError(f"cannot read the encryption key file {path} ({exc.strerror}); check "
                                 "--encryption-key-file or [backup] encryption_key_file") from None
    source = f"file {path}"
    return EncryptionKey(data, source) if len(data) == KEY_SIZE else EncryptionKey(_parse(data, source), source)


def key_from_env(variable: str) -> EncryptionKey:
    value = os.environ.get(variable)
    if value is None:
        raise EncryptionKeyError(f"environment variable {variable} (the encryption key) is not set; export it "
                                 "or use --encryption-key-file")
    source = f"environment variable {variable}"
    return EncryptionKey(_parse(value.encode(), source), source)


def new_key_text() -> str:
    """A fresh random key as 64 hex digits (what ``openssl rand -hex 32`` prints)."""
    return os.urandom(KEY_SIZE).hex()


def _parse(data: bytes, source: str) -> bytes:
    text = data.strip().decode("ascii", errors="replace")
    if _HEX.match(text):
        return bytes.fromhex(text)
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_SIZE:
        raise EncryptionKeyError(f"the encryption key in {source} is not 32 bytes (64 hex digits, base64, or 32 "
                                 "raw bytes in a file); make one with: openssl rand -hex 32")
    return key


class BackupCipher:
    """AES-256-GCM for the blocks of one backup."""

    def __init__(self, key: EncryptionKey, backup_id: str) -> None:
        self._aead = AESGCM(key.key)
        self._backup_id = backup_id.encode()

    def _aad(self, partition: int, head: bytes) -> bytes:
        return head + b"\0" + self._backup_id + b"\0" + str(partition).encode()

    def seal(self, partition: int, head: bytes, data: bytes) -> bytes:
        nonce = os.urandom(NONCE_SIZE)
        return nonce + self._aead.encrypt(nonce, data, self._aad(partition, head))

    def open(self, partition: int, head: bytes, stored: bytes) -> bytes:
        try:
            return self._aead.decrypt(stored[:NONCE_SIZE], stored[NONCE_SIZE:], self._aad(partition, head))
        except InvalidTag:
            raise SealError("block fails AES-256-GCM authentication (damaged or tampered with)") from None


def check_key(backup_id: str, encryption: dict[str, Any] | None, key: EncryptionKey | None) -> BackupCipher | None:
    """The cipher for a backup whose manifest (or plan) says ``encryption``; a clear error when the
    key is missing or is not the one it was encrypted with. A key given for an unencrypted backup is
    not needed and not used."""
    if not encryption:
        return None
    if encryption.get("algorithm") != ALGORITHM:
        raise EncryptionKeyError(f"backup {backup_id} is encrypted with {encryption.get('algorithm')}, which this "
                                 f"version does not read")
    if key is None:
        raise EncryptionKeyError(f"backup {backup_id} is encrypted (key id {encryption.get('key_id')}): pass its key "
                                 "with --encryption-key-file or --encryption-key-env")
    if key.key_id != encryption.get("key_id"):
        raise EncryptionKeyError(f"backup {backup_id} was encrypted with key id {encryption.get('key_id')}, but the "
                                 f"key from {key.source} has id {key.key_id}: use the key it was made with")
    return BackupCipher(key, backup_id)


def unlock(folder: Location | Path, encryption: dict[str, Any] | None, key: EncryptionKey | None) -> None:
    """Check ``key`` for the backup in ``folder`` and register it for :func:`cipher_of`."""
    _unlocked[str(open_location(folder).resolve())] = check_key(open_location(folder).name, encryption, key)


def unlock_backup(folder: Location | Path, key: EncryptionKey | None) -> None:
    """:func:`unlock` for a complete backup, with what its manifest says."""
    try:
        encryption = read_json(open_location(folder) / MANIFEST).get("encryption")
    except (OSError, ValueError):
        encryption = None  # no readable manifest: verify and the reader say what is wrong
    unlock(folder, encryption, key)


def cipher_of(folder: Location | Path) -> BackupCipher | None:
    """The cipher :func:`unlock` registered for this backup; None for an unencrypted one. An
    encrypted backup that was not unlocked is an error that asks for the key."""
    where = str(open_location(folder).resolve())
    if where not in _unlocked:
        unlock_backup(folder, None)  # raises when encrypted
    return _unlocked[where]
