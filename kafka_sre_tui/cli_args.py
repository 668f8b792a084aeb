"""Argument helpers every command-line face shares: which cluster, which backup directory, and
the parsers for partition lists and ISO-8601 times."""

from __future__ import annotations

import argparse
import dataclasses
from datetime import UTC, datetime
from pathlib import Path

from kafka_sre_tui.config import AppConfig, ClusterConfig


def cluster_from_args(args: argparse.Namespace, config: AppConfig) -> ClusterConfig:
    """``--cluster`` (a configured name or host:port) with ``--timeout`` applied."""
    cluster = config.cluster(getattr(args, "cluster", None))
    timeout = getattr(args, "timeout", None)
    return dataclasses.replace(cluster, request_timeout_seconds=timeout) if timeout is not None else cluster


def backup_base(args: argparse.Namespace, config: AppConfig) -> Path:
    """``--backup-dir``, else ``[backup] base_path``."""
    chosen = getattr(args, "backup_dir", None)
    return Path(chosen).expanduser() if chosen else config.backup.base_path.expanduser()


def partitions_arg(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected partition numbers like 0,3; got '{text}'") from None


def time_arg(text: str) -> int:
    """ISO-8601 to epoch milliseconds; no zone means UTC."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected ISO-8601 like 2026-11-24T10:00:00Z; got '{text}'") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)
