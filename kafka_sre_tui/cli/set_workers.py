"""``backup --topics ... --workers-group NAME`` (this process is one worker of a group writing one set,
or with ``--continuous`` one chain) and ``--workers N`` (start N such worker processes here, forward
SIGINT/SIGTERM, fail if one fails)."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from typing import TYPE_CHECKING

from kafka_sre_tui.engine.errors import ConfigError, KsreError

if TYPE_CHECKING:
    from kafka_sre_tui.config import ClusterConfig
    from kafka_sre_tui.engine.backup.set_events import SetResult
    from kafka_sre_tui.engine.backup.set_plan import SetRequest
    from kafka_sre_tui.engine.backup.workers import WorkerEvent

CHILD_ENV = "KAFKA_SRE_TUI_WORKER_OF"  # set in the processes --workers starts: they print one line at the end


def add_worker_options(backup: argparse.ArgumentParser) -> None:
    backup.add_argument("--workers-group", metavar="NAME",
                        help="back up the set together with every process (any host) using this Kafka group name: "
                             "the group only assigns partitions, it never commits offsets")
    backup.add_argument("--workers", type=int, metavar="N",
                        help="start N worker processes on this host (group: --workers-group, default "
                             "kafka-sre-tui-backup-NAME)")


def default_group(args: argparse.Namespace) -> str:
    return str(args.workers_group or f"kafka-sre-tui-backup-{args.name}")


def run_worker(cluster: ClusterConfig, request: SetRequest, group: str, as_json: bool) -> SetResult:
    import asyncio

    from kafka_sre_tui.engine.backup.workers import backup_set_worker

    printer = _WorkerPrinter(quiet=bool(os.environ.get(CHILD_ENV)) or as_json)

    async def follow() -> SetResult:  # continuous: stop after checkpointing, the link in progress stays
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        return await backup_set_worker(cluster, request, group, printer, stop=stop)

    if request.continuous:
        result = asyncio.run(follow())
    else:
        signal.signal(signal.SIGTERM, signal.default_int_handler)  # like Ctrl-C: checkpoint, leave the group
        result = asyncio.run(backup_set_worker(cluster, request, group, printer))
    printer.close()
    if os.environ.get(CHILD_ENV):
        what = f"stopped, last sealed link {result.set_id}" if request.continuous else f"set {result.set_id} complete"
        print(f"worker {os.getpid()}: {what}", file=sys.stderr, flush=True)
    return result


def run_workers(count: int, group: str) -> str:
    """Start ``count`` copies of this command as workers of ``group`` and wait for them all; the set id
    they wrote, or a ConfigError naming the workers that failed."""
    if count < 1:
        raise ConfigError(f"--workers {count}: give at least 1")
    argv = _without_workers(sys.argv[1:])
    command = [sys.executable, "-m", "kafka_sre_tui", *argv, "--workers-group", group]
    children = [subprocess.Popen(command, env={**os.environ, CHILD_ENV: str(os.getpid())}, stdout=subprocess.PIPE,
                                 text=True) for _ in range(count)]

    def forward(signum: int, _frame: object) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        outputs = [child.communicate()[0] for child in children]
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    failed = [f"worker {i + 1} (pid {c.pid}) exited {c.returncode}" for i, c in enumerate(children) if c.returncode]
    if failed:
        raise KsreError(f"{'; '.join(failed)}: see the errors above (the progress of a set its workers started is "
                        "kept: the same command continues it)")
    return max(line for out in outputs for line in out.splitlines()[-1:] if line)  # continuous: the newest link


def _without_workers(argv: list[str]) -> list[str]:
    if not any(a == "--workers" or a.startswith("--workers=") for a in argv):
        raise ConfigError("--workers N starts worker processes from the command line; call it from a shell")
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--workers":
            skip = True
        elif not arg.startswith("--workers="):
            kept.append(arg)
    return kept


class _WorkerPrinter:
    def __init__(self, quiet: bool) -> None:
        from kafka_sre_tui.cli import output

        self.line = output.StatusLine()
        self.quiet = quiet
        self.generation: int | None = None

    def __call__(self, event: WorkerEvent) -> None:
        from kafka_sre_tui.cli.set_backup import print_sealed
        from kafka_sre_tui.engine.backup.set_events import LinkSealed
        from kafka_sre_tui.engine.backup.workers import WorkerAssigned, WorkerFenced, WorkerProgress
        from kafka_sre_tui.engine.jobs import Retrying

        if isinstance(event, WorkerAssigned):
            if event.generation == self.generation:
                return  # continuous: the same assignment in the next link
            self.generation = event.generation
            self.line.close()
            print(f"worker {event.worker} (generation {event.generation}) of set {event.set_id}: backing up "
                  f"{event.claimed} partitions ({event.done} already done, {event.refused} held by a newer owner)",
                  file=sys.stderr, flush=True)
        elif isinstance(event, Retrying):
            self.line.close()
            print(f"cluster away: {event.describe()}", file=sys.stderr, flush=True)
        elif isinstance(event, WorkerFenced):
            self.line.close()
            print(f"fenced: {event.message}", file=sys.stderr, flush=True)
        elif isinstance(event, LinkSealed):
            self.line.close()
            print_sealed(event, self.quiet)
        elif isinstance(event, WorkerProgress) and not self.quiet:
            self.line.show(f"worker {event.worker[-8:]}: partitions {event.partitions_done}/{event.partitions} · "
                           f"{event.records:,} records · {event.bytes / 1e6:,.1f} MB read")

    def close(self) -> None:
        self.line.close()
