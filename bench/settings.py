"""What one benchmark run measures: sizes, repeats, codecs, inspection scale."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bench.inspection import Scale

ALL_CODECS = ("none", "gzip", "snappy", "lz4", "zstd")
DEFAULT_CODEC = "zstd"  # the config default; restore, verify and the ratios use this backup


@dataclass(frozen=True)
class Settings:
    records: int = 1_000_000
    value_bytes: int = 1024
    partitions: int = 6
    batch_kib: int = 256
    repeats: int = 3
    codecs: tuple[str, ...] = ALL_CODECS
    small_fraction: float = 0.2  # the second topic size for peak RSS (a --max-messages backup of the topic)
    scale: Scale = field(default_factory=lambda: Scale(topics=2000, partitions=5, groups=500))
    refresh_repeats: int = 3
    second_cluster: bool = True  # migrate target; quick mode migrates within one cluster
    install_kcat: bool = True
    profile: bool = False
    restore_only: bool = False  # leave out what the restore ratio does not need (see --restore-only)
    migrate_only: bool = False  # only migrate, at two topic sizes (see --migrate-only)
    mode: str = "full"
    out_dir: Path = Path(__file__).parent / "results"

    @classmethod
    def quick(cls, out_dir: Path) -> Settings:
        return cls(records=20_000, repeats=1, codecs=("lz4", "zstd"), scale=Scale(topics=40, partitions=5, groups=20),
                   refresh_repeats=2, second_cluster=False, install_kcat=False, mode="quick", out_dir=out_dir)

    @property
    def topic_gb(self) -> float:
        return self.records * self.value_bytes / 1e9
