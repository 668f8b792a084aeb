"""What every long engine job (backup, restore, migration) reports while it runs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Progress:
    records: int  # handled by this run
    bytes: int  # moved by this run: read by a backup, written by a restore or migration
    elapsed_seconds: float
    offsets_done: int  # of the offset ranges the job covers
    offsets_total: int
    partitions_done: int
    partitions_total: int

    @property
    def mb_per_second(self) -> float:
        return self.bytes / 1e6 / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0

    @property
    def records_per_second(self) -> float:
        return self.records / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0

    @property
    def fraction(self) -> float:
        return self.offsets_done / self.offsets_total if self.offsets_total else 1.0

    @property
    def eta_seconds(self) -> float | None:
        """Time left at the pace so far; None before there is a pace."""
        if self.fraction <= 0 or self.elapsed_seconds <= 0:
            return None
        return self.elapsed_seconds * (1 - self.fraction) / self.fraction


@dataclass(frozen=True)
class Checkpointed:
    """Everything the job has done so far is durable: killed now, it resumes from here."""


@dataclass(frozen=True)
class Retrying:
    """A job lost its cluster (a broker restarting, the network gone) and tries again after a pause;
    it gives up ``gives_up_in_seconds`` from now unless the cluster answers."""

    error: str
    pause_seconds: float
    gives_up_in_seconds: float

    def describe(self) -> str:
        return (f"{self.error}; retrying in {self.pause_seconds:.1f} s "
                f"(gives up in {self.gives_up_in_seconds:.0f} s, retry_seconds sets it)")
