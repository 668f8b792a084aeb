"""Defaults the command line shows in --help, kept apart so the parser never imports prometheus-client."""

DEFAULT_ADDR = "127.0.0.1"  # metrics are served on loopback unless told otherwise
MAX_PARTITION_SERIES = 10_000  # per-partition lag series, in all
MAX_GROUPS = 1000  # groups exported per cluster
