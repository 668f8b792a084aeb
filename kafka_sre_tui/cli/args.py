"""Argument helpers every command-line face shares: which cluster, which backup directory, and
the parsers for partition lists, ISO-8601 times and group lists (plain functions raising ConfigError,
also used by the dashboard's job forms, wrapped here as argparse types)."""

from __future__ import annotations

import argparse
import dataclasses
import math
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from kafka_sre_tui.config import AppConfig, BackupSettings, ClusterConfig
from kafka_sre_tui.engine.errors import ConfigError
from kafka_sre_tui.engine.input_checks import check_partition_number

if TYPE_CHECKING:  # cryptography is imported only when a key is read (see cli/main.py on start-up)
    from kafka_sre_tui.engine.storage.encryption import EncryptionKey
    from kafka_sre_tui.engine.storage.store import Location

T = TypeVar("T")


def cluster_from_args(args: argparse.Namespace, config: AppConfig) -> ClusterConfig:
    """``--cluster`` (a configured name or host:port) with ``--timeout`` and ``--retry-seconds`` applied."""
    return with_time_limits(config.cluster(getattr(args, "cluster", None)), args)


def with_time_limits(cluster: ClusterConfig, args: argparse.Namespace) -> ClusterConfig:
    timeout, retry = getattr(args, "timeout", None), getattr(args, "retry_seconds", None)
    if timeout is not None:
        cluster = dataclasses.replace(cluster, request_timeout_seconds=timeout)
    return dataclasses.replace(cluster, retry_seconds=retry) if retry is not None else cluster


def add_retry_option(parser: argparse.ArgumentParser) -> None:
    """``--retry-seconds``: the jobs that write (backup, restore, migrate) wait this long for a cluster that
    went away (a broker restarting) before they stop, resumable."""
    parser.add_argument("--retry-seconds", type=retry_seconds_arg, metavar="S", default=argparse.SUPPRESS,
                        help="keep retrying this long while the cluster is away, then stop resumable "
                             "(default: the cluster's retry_seconds, 60; 0: no retries)")


def retry_seconds_arg(text: str) -> float:
    return 0.0 if text.strip() in ("0", "0.0") else seconds_arg(text)


def backup_base(args: argparse.Namespace, config: AppConfig) -> Location:
    """``--backup-dir``, else ``[backup] base_path``: a directory or an object-store URL."""
    return backup_location(getattr(args, "backup_dir", None), config.backup)


def backup_location(chosen: str | None, settings: BackupSettings) -> Location:
    """Where backups are kept: ``chosen`` (a directory or ``s3://``, ``az://``, ``gs://`` URL; any other
    ``scheme://`` is a ConfigError), else ``[backup] base_path``, with ``[backup.object_store]`` options."""
    from kafka_sre_tui.engine.storage.store import open_location

    return open_location(chosen or settings.base_path, settings.object_store)


def add_encryption_options(parser: argparse.ArgumentParser, action: str) -> None:
    parser.add_argument("--encryption-key-file", metavar="PATH",
                        help=f"AES-256 key (64 hex digits, base64 or 32 bytes) to {action}; default: [backup] "
                             "encryption_key_file")
    parser.add_argument("--encryption-key-env", metavar="VAR",
                        help="environment variable holding that key; default: [backup] encryption_key_env")


def encryption_key(args: argparse.Namespace, config: AppConfig) -> EncryptionKey | None:
    """The key from the command line, else from the config's [backup] section, else none."""
    from kafka_sre_tui.engine.storage.encryption import key_from_env, key_from_file

    key_file, key_env = getattr(args, "encryption_key_file", None), getattr(args, "encryption_key_env", None)
    if key_file and key_env:
        raise ConfigError("give --encryption-key-file or --encryption-key-env, not both")
    if key_file:
        return key_from_file(Path(key_file).expanduser())
    if key_env:
        return key_from_env(key_env)
    if config.backup.encryption_key_file is not None:
        return key_from_file(config.backup.encryption_key_file)
    if config.backup.encryption_key_env:
        return key_from_env(config.backup.encryption_key_env)
    return None


def parse_partitions(text: str) -> tuple[int, ...]:
    """``0,3`` -> (0, 3); ConfigError otherwise. The CLI's ``--partitions`` and the dashboard's forms."""
    try:
        numbers = tuple(int(p) for p in text.split(","))
    except ValueError:
        numbers = ()
    if not numbers or not all(check_partition_number(p) for p in numbers):
        raise ConfigError(f"expected partition numbers like 0,3 (0 to 2147483647); got '{text}'")
    return numbers


def parse_time(text: str) -> int:
    """ISO-8601 to epoch milliseconds; no zone means UTC. ConfigError otherwise."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"expected ISO-8601 like 2026-11-24T10:00:00Z; got '{text}'") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def parse_groups(text: str) -> tuple[str, ...]:
    """``g1,g2`` -> ("g1", "g2"); empty items dropped."""
    return tuple(g for g in text.split(",") if g)


def parse_seconds(text: str) -> float:
    """A duration in seconds: finite and > 0."""
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"expected a number of seconds; got '{text}'") from None
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(f"expected a number of seconds > 0; got '{text}'")
    return value


def seconds_arg(text: str) -> float:
    return _argparse_type(parse_seconds, text)


def partitions_arg(text: str) -> tuple[int, ...]:
    return _argparse_type(parse_partitions, text)


def time_arg(text: str) -> int:
    return _argparse_type(parse_time, text)


def _argparse_type(parse: Callable[[str], T], text: str) -> T:
    """argparse shows an ArgumentTypeError's own message (any other error becomes "invalid value")."""
    try:
        return parse(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
