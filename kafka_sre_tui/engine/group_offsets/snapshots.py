"""Snapshots of a group's committed offsets, written before every reset so it can be rolled back.

One JSON file per snapshot in ``$XDG_STATE_HOME/kafka-sre-tui/offset-snapshots/`` (default
``~/.local/state``), directory 0700 and files 0600, written to a temporary name and renamed.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kafka_sre_tui.engine.errors import ConfigError

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def snapshot_dir() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "kafka-sre-tui" / "offset-snapshots"


@dataclass(frozen=True)
class Snapshot:
    snapshot_id: str
    created: str  # UTC, ISO 8601
    cluster: str
    group: str
    topic: str
    offsets: dict[int, int | None]  # partition -> committed offset before the reset (None: no commit)
    reason: str  # what was about to happen: "reset to the earliest offset", "rollback of ..."

    def to_json(self) -> dict[str, Any]:
        return {"snapshot_id": self.snapshot_id, "created": self.created, "cluster": self.cluster,
                "group": self.group, "topic": self.topic, "reason": self.reason,
                "offsets": {str(p): o for p, o in sorted(self.offsets.items())}}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Snapshot:
        return cls(doc["snapshot_id"], doc["created"], doc["cluster"], doc["group"], doc["topic"],
                   {int(p): o for p, o in doc["offsets"].items()}, doc["reason"])


def save_snapshot(cluster: str, group: str, topic: str, offsets: dict[int, int | None], reason: str,
                  folder: Path | None = None) -> Snapshot:
    now = datetime.now(UTC)
    stamp = f"{now:%Y%m%dT%H%M%S}{now.microsecond // 1000:03d}Z"
    snapshot_id = f"{stamp}-{_UNSAFE.sub('_', group)[:40]}-{secrets.token_hex(3)}"
    snapshot = Snapshot(snapshot_id, now.isoformat(timespec="milliseconds").replace("+00:00", "Z"), cluster, group,
                        topic, dict(offsets), reason)
    target = folder or snapshot_dir()
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = target / f".{snapshot_id}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(snapshot.to_json(), out, indent=2)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, target / f"{snapshot_id}.json")
    return snapshot


def load_snapshot(snapshot_id: str, folder: Path | None = None) -> Snapshot:
    path = (folder or snapshot_dir()) / f"{snapshot_id}.json"
    if _UNSAFE.sub("", snapshot_id) != snapshot_id or not path.is_file():
        raise ConfigError(f"no offsets snapshot '{snapshot_id}' in {path.parent}; list them with: "
                          "kafka-sre-tui offsets snapshots")
    return Snapshot.from_json(json.loads(path.read_text()))


def list_snapshots(folder: Path | None = None) -> list[Snapshot]:
    target = folder or snapshot_dir()
    if not target.is_dir():
        return []
    return [Snapshot.from_json(json.loads(p.read_text())) for p in sorted(target.glob("*.json"))]
