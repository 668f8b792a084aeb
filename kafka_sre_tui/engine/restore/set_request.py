"""What a restore of a backup set asks for: which set (any link of a chain), which topics, their
names on the target, the point in time, the groups; and the checks on it that need no cluster."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from kafka_sre_tui.engine.errors import ConfigError
from kafka_sre_tui.engine.input_checks import check_rate, check_replication_factor, check_seconds, check_topic_name
from kafka_sre_tui.engine.storage.encryption import EncryptionKey
from kafka_sre_tui.engine.storage.store import Location, open_location


@dataclass(frozen=True)
class SetRestoreRequest:
    backup_base: Location | Path
    set_id: str  # any link of a chain: the chain up to it is restored
    topics: tuple[str, ...] = ()  # shell-style patterns of the set's topic names; empty: every topic
    topic_map: dict[str, str] | None = None  # source topic -> target topic (the others keep their names)
    topic_prefix: str | None = None  # every target topic is named PREFIX + source topic
    to_time_ms: int | None = None  # inclusive: every partition stops at the first record stamped after it
    dry_run: bool = False
    restore_consumer_offsets: tuple[str, ...] | None = ()  # None: no; (): every group of the restored topics
    resume: bool = False
    replication_factor: int | None = None  # of created topics (default: the source's)
    rate_limit_mb_s: float | None = None
    encryption_key: EncryptionKey | None = None
    state_dir: Path | None = None  # default: <backup_base>/.restores, for a bucket a local state directory
    force: bool = False  # write into targets holding records; let group offsets move backwards
    checkpoint_seconds: float = 1.0

    @property
    def states_base(self) -> Path:
        if self.state_dir is not None:
            return self.state_dir
        local = open_location(self.backup_base).local_dir()
        if local is not None:
            return local / ".restores"
        return Path(os.environ.get("XDG_STATE_HOME") or "~/.local/state").expanduser() / "kafka-sre-tui" / "restores"

    def target_of(self, topic: str) -> str:
        """The target topic a source topic is restored into."""
        if self.topic_map is not None:
            return self.topic_map.get(topic, topic)
        return f"{self.topic_prefix}{topic}" if self.topic_prefix else topic


def validate_set_request(request: SetRestoreRequest) -> None:
    if request.topic_map is not None and request.topic_prefix is not None:
        raise ConfigError("give either --topic-map or --topic-prefix, not both")
    if request.resume and request.dry_run:
        raise ConfigError("--dry-run cannot be combined with --resume: run the dry run without --resume to see "
                          "the preflight, then --resume to continue writing")
    if request.replication_factor is not None:
        check_replication_factor(request.replication_factor)
    if request.rate_limit_mb_s is not None:
        check_rate("--rate-limit", request.rate_limit_mb_s)
    check_seconds("--checkpoint-seconds", request.checkpoint_seconds)
    for source, target in (request.topic_map or {}).items():
        check_topic_name(source, "--topic-map")
        check_topic_name(target, "--topic-map")
    if request.topic_prefix:
        check_topic_name(request.topic_prefix, "--topic-prefix")
    targets = list((request.topic_map or {}).values())
    if len(set(targets)) != len(targets):
        raise ConfigError(f"--topic-map sends two topics into one ({_map_text(request.topic_map or {})}): their "
                          "records would mix; give each its own target")


def _map_text(mapping: dict[str, str]) -> str:
    return ",".join(f"{s}:{t}" for s, t in mapping.items())


def parse_topic_map(text: str) -> dict[str, str]:
    """``orders:orders-dr,payments:pay-dr`` -> {"orders": "orders-dr", "payments": "pay-dr"}."""
    pairs = [item.strip().split(":") for item in text.split(",") if item.strip()]
    if not pairs or any(len(p) != 2 or not p[0] or not p[1] for p in pairs):
        raise ConfigError(f"--topic-map takes SOURCE:TARGET pairs like orders:orders-dr,payments:pay-dr; got '{text}'")
    mapping = {s: t for s, t in pairs}
    if len(mapping) != len(pairs):
        raise ConfigError(f"--topic-map names a source topic twice: '{text}'")
    return mapping
