"""How the dashboard shows a workers group writing a set: one Jobs row per group, and a detail per worker."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the backup engine loads with the first reading of the backup directory
    from kafka_sre_tui.engine.backup.workers_fleet import Fleet, WorkerProgress


def fleet_state(fleet: Fleet) -> str:
    """``sealing``, ``running`` while a worker checkpoints, else ``stalled`` (every worker silent or gone)."""
    if fleet.sealing:
        return "sealing"
    return "running" if fleet.live_workers or fleet.partitions_done == len(fleet.partitions) else "stalled"


def fleet_detail(fleet: Fleet) -> str:
    """``2 workers (1 stale) · partitions 7/9 · 3.4 MB · 1 unclaimed``: what the Jobs row's Detail says."""
    stale = sum(w.state == "stale" for w in fleet.workers)
    gone = sum(w.state == "left group" for w in fleet.workers)
    notes = ", ".join(n for n in (f"{stale} stale" if stale else "", f"{gone} left group" if gone else "") if n)
    text = (f"{len(fleet.workers)} worker{'' if len(fleet.workers) == 1 else 's'}{f' ({notes})' if notes else ''}"
            f" · partitions {fleet.partitions_done}/{len(fleet.partitions)} · {fleet.raw_bytes / 1e6:,.1f} MB")
    return text + (f" · {len(fleet.unowned)} unclaimed" if fleet.unowned else "")


def _membership(worker: WorkerProgress) -> str:
    return {True: "in group", False: "left group", None: "membership ?"}[worker.in_group]


def fleet_text(fleet: Fleet) -> str:
    """The detail screen: the set, then each worker with its partitions and last checkpoint."""
    rate = "-" if fleet.mb_per_second is None else f"{fleet.mb_per_second:,.1f} MB/s"
    eta = "-" if fleet.eta_seconds is None else f"{fleet.eta_seconds:,.0f} s"
    lines = [f"workers group {fleet.group or '?'} · backup set {fleet.set_id} · {fleet_state(fleet)}",
             f"{fleet.fraction:.1%} of offsets · {fleet.records:,} records · {fleet.raw_bytes / 1e6:,.1f} MB stored · "
             f"{rate} · ETA {eta}",
             f"{fleet_detail(fleet)} · stale: partitions left and no checkpoint for {fleet.stale_after:g} s", ""]
    for w in fleet.workers:
        when = "-" if w.checkpoint_at is None else \
            f"{w.checkpoint_at:%H:%M:%S} UTC ({(fleet.read_at - w.checkpoint_at).total_seconds():,.0f} s ago)"
        lines.append(f"{w.worker}  generation {w.generation} · {w.state} · {_membership(w)} · partitions "
                     f"{w.partitions_done}/{len(w.partitions)} done · {w.records:,} records · "
                     f"{w.raw_bytes / 1e6:,.1f} MB · {w.offsets_left:,} offsets left · last checkpoint {when}")
        lines += [f"    {p.topic}/{p.partition}: {p.next_offset - p.start_offset:,} of "
                  f"{p.end_offset - p.start_offset:,} offsets{' (done)' if p.done else ''}" for p in w.partitions]
    if fleet.unowned:
        lines += ["", f"not claimed yet ({len(fleet.unowned)}): "
                      + ", ".join(f"{p.topic}/{p.partition}" for p in fleet.unowned)]
    return "\n".join(lines)
