"""The benchmark run: one command, brokers started here, results in bench/results/.

    .venv/bin/python -m bench [--quick] [--records N] [--repeats N] [--profile] ...
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import inspection, machine, peers, profile, report, startup, throughput
from bench.data import Records, load_topic
from bench.inspection import Scale
from bench.ours import Cli
from bench.settings import ALL_CODECS, DEFAULT_CODEC, Settings
from bench.stats import Row
from bench.targets import evaluate
from bench.throughput import Topic
from kafka_sre_tui.localkafka import LocalKafka, LocalKafkaCluster, kafka_libs

TOPIC = "bench.orders"
SMALL_VALUE_BYTES = 100  # the small-record topic (issue 17: "one of small (100 B) records")
LARGE_SCALE = Scale(topics=8000, partitions=5, groups=2500)


def log(text: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {text}", file=sys.stderr, flush=True)


def parse(argv: list[str] | None) -> tuple[Settings, str]:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small topic and cluster, one repeat (the test suite's run)")
    p.add_argument("--records", type=int, help="records in the topic (default 1,000,000; quick 20,000)")
    p.add_argument("--value-bytes", type=int, help="bytes per value (default 1024)")
    p.add_argument("--repeats", type=int, help="repeats per measurement; medians are reported (default 3)")
    p.add_argument("--codecs", help=f"comma-separated backup codecs (default {','.join(ALL_CODECS)})")
    p.add_argument("--topics", type=int, help="inspection cluster: topics (default 2000)")
    p.add_argument("--groups", type=int, help="inspection cluster: consumer groups (default 500)")
    p.add_argument("--large-inspection", action="store_true",
                   help="inspection cluster of 8,000 topics x 5 partitions (40,000) and 2,500 groups, the scale "
                        "where web UIs freeze")
    p.add_argument("--skip-inspection", action="store_true", help="leave out the inspection-scale cluster")
    p.add_argument("--no-install-kcat", action="store_true", help="never apt-get install a missing kcat")
    p.add_argument("--profile", action="store_true", help="also profile one backup and one restore with py-spy")
    p.add_argument("--restore-only", action="store_true",
                   help="only what the restore ratio needs: zstd backups, verify, restores each followed by kcat "
                        "produce and ProducerPerformance, the small restore (no other codecs, migrate, consumer "
                        "perf, inspection)")
    p.add_argument("--migrate-only", action="store_true",
                   help="only migrate to a second cluster: the topic, and a second topic of a fifth its size "
                        "for peak RSS at two sizes (no backup, restore, peers, inspection)")
    p.add_argument("--out", type=Path, help="results directory (default bench/results)")
    p.add_argument("--name", default="latest", help="results file stem (default latest)")
    a = p.parse_args(argv)
    out = a.out or Settings.out_dir
    s = Settings.quick(out) if a.quick else Settings(out_dir=out)
    changes: dict[str, Any] = {k: v for k, v in (("records", a.records), ("value_bytes", a.value_bytes),
                                                ("repeats", a.repeats)) if v}
    if a.codecs:
        changes["codecs"] = tuple(c.strip() for c in a.codecs.split(","))
    if a.topics or a.groups:
        changes["scale"] = dataclasses.replace(s.scale, topics=a.topics or s.scale.topics,
                                               groups=a.groups or s.scale.groups)
    if a.large_inspection:
        changes["scale"] = LARGE_SCALE
    if a.skip_inspection:
        changes["scale"] = Scale(0, 0, 0)
    if a.no_install_kcat:
        changes["install_kcat"] = False
    if a.profile:
        changes["profile"] = True
    if a.restore_only:
        changes.update(restore_only=True, codecs=(DEFAULT_CODEC,), scale=Scale(0, 0, 0))
    if a.migrate_only:
        changes.update(migrate_only=True, scale=Scale(0, 0, 0))
    return dataclasses.replace(s, **changes), a.name


def topic_log_bytes(kafka: LocalKafka, topic: str) -> int:
    return sum(f.stat().st_size for f in (kafka.data_dir / "log").glob(f"{topic}-*/*.log"))


@contextlib.contextmanager
def second_cluster(main: LocalKafka, wanted: bool) -> Iterator[LocalKafka]:
    if not wanted:
        yield main
        return
    with LocalKafka(heap="1g") as other:
        yield other


def run(settings: Settings, name: str, argv: list[str]) -> Path:
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # retries while new topics get leaders
    started = datetime.now(UTC)
    kcat, kcat_note = peers.find_kcat(settings.install_kcat)
    notes = [n for n in (kcat_note,) if n]
    result: dict[str, Any] = {"mode": settings.mode, "started": f"{started:%Y-%m-%d %H:%M} UTC",
                              "command": " ".join([".venv/bin/python -m bench", *argv]),
                              "machine": machine.facts(peers.kcat_version(kcat) if kcat else ""),
                              "settings": {k: str(v) for k, v in dataclasses.asdict(settings).items()}}
    result["settings"]["repeats"] = settings.repeats
    rows: list[Row] = []
    with LocalKafka(heap="1g") as kafka, tempfile.TemporaryDirectory(prefix="ksre-bench-") as tmp:
        workdir = Path(tmp)
        log(f"broker up at {kafka.bootstrap_servers}; loading {settings.records:,} records")
        t0 = time.monotonic()
        asyncio.run(load_topic(kafka.bootstrap_servers, TOPIC, settings.records, settings.partitions,
                               Records(settings.value_bytes), settings.batch_kib))
        topic = Topic(kafka.bootstrap_servers, TOPIC, settings.records, topic_log_bytes(kafka, TOPIC))
        result["topic"] = {"records": topic.records, "value_bytes": settings.value_bytes,
                           "partitions": settings.partitions, "log_bytes": topic.log_bytes,
                           "load_seconds": round(time.monotonic() - t0, 1)}
        log(f"loaded {topic.log_bytes / 1e6:,.0f} MB in {result['topic']['load_seconds']} s")
        cli = Cli.create(workdir)
        if settings.mode != "quick":  # the quick run is the test suite's, on a time budget
            result["startup"] = startup.measure(kafka.bootstrap_servers, repeats=settings.repeats)
            log(f"start-up: {result['startup']}")
        if settings.migrate_only:
            rows += _migrate_only(cli, kafka, topic, settings, kcat, kcat_note, result)
            result["inspection"] = {}
            result["notes"] = notes
            path = report.write(settings.out_dir, name, result, rows, evaluate({r.name: r for r in rows}, {}))
            log(f"results: {path} (and .json)")
            return path
        ours, backup_id = throughput.measure_ours(cli, topic, settings, log)
        rows += ours
        if settings.restore_only and backup_id:
            rows += throughput.measure_restore_vs_kcat(cli, topic, backup_id, kcat, kcat_note, kafka_libs(), workdir,
                                                       settings, log)
        rows += throughput.measure_small(cli, topic, settings, log)
        if not settings.restore_only:
            rows.append(throughput.measure_per_record(topic, workdir, settings, log))
            with second_cluster(kafka, settings.second_cluster and cli.migrate_help() is not None) as target:
                throughput.warm_up_second_cluster(cli, kcat, kafka.bootstrap_servers, target.bootstrap_servers,
                                                  settings, log)
                rows.append(throughput.measure_migrate(cli, topic, target.bootstrap_servers, settings, log))
                rows.append(throughput.measure_kcat_pipe(kcat, kcat_note, topic, target.bootstrap_servers, settings,
                                                         log))
            rows += throughput.measure_peers(topic, kafka_libs(), kcat, kcat_note, workdir, settings, log)
            rows += _small_records(cli, kafka, kcat, kcat_note, workdir, settings)
        rows += throughput.measure_kafka_backup(topic, workdir, settings, log)  # full and --restore-only
        if settings.profile and backup_id:
            result["profiles"] = _profiles(cli, topic, backup_id, workdir.parent / "ksre-bench-profiles")
        result["inspection"] = _inspection(kafka, settings)
    result["notes"] = notes + [r.name + ": " + r.note for r in rows if not r.available]
    checks = evaluate({r.name: r for r in rows}, result["inspection"])
    path = report.write(settings.out_dir, name, result, rows, checks)
    log(f"results: {path} (and .json)")
    return path


def _small_records(cli: Cli, kafka: LocalKafka, kcat: str | None, kcat_note: str, workdir: Path,
                   settings: Settings) -> list[Row]:
    """The same number of records with 100 B values (about a tenth of the log)."""
    name = f"{TOPIC}.small-records"
    asyncio.run(load_topic(kafka.bootstrap_servers, name, settings.records, settings.partitions,
                           Records(SMALL_VALUE_BYTES), settings.batch_kib))
    topic = Topic(kafka.bootstrap_servers, name, settings.records, topic_log_bytes(kafka, name))
    log(f"loaded the {SMALL_VALUE_BYTES} B-record topic: {topic.log_bytes / 1e6:,.0f} MB")
    return throughput.measure_small_records(cli, topic, kcat, kcat_note, workdir, settings, log)


def _migrate_only(cli: Cli, kafka: LocalKafka, topic: Topic, settings: Settings, kcat: str | None,
                  kcat_note: str, result: dict[str, Any]) -> list[Row]:
    """The topic, then a topic of ``small_fraction`` its records loaded the same way, each migrated to a
    second cluster (``repeats`` times for the full size, once for the small one); the topic piped with
    ``kcat -C | kcat -P`` to the same second cluster; with ``profile``, one more migration under py-spy."""
    small_records = max(int(topic.records * settings.small_fraction), 1)
    small_name = f"{TOPIC}.small"
    asyncio.run(load_topic(kafka.bootstrap_servers, small_name, small_records, settings.partitions,
                           Records(settings.value_bytes), settings.batch_kib))
    small = Topic(kafka.bootstrap_servers, small_name, small_records, topic_log_bytes(kafka, small_name))
    log(f"loaded the small topic: {small.log_bytes / 1e6:,.0f} MB")
    with second_cluster(kafka, settings.second_cluster) as target:
        throughput.warm_up_second_cluster(cli, kcat, kafka.bootstrap_servers, target.bootstrap_servers, settings, log)
        full = throughput.measure_migrate(cli, topic, target.bootstrap_servers, settings, log)
        once = dataclasses.replace(settings, repeats=1)
        row = throughput.measure_migrate(cli, small, target.bootstrap_servers, once, log, suffix="small")
        pipe = throughput.measure_kcat_pipe(kcat, kcat_note, topic, target.bootstrap_servers, settings, log)
        if settings.profile:
            out_dir = cli.backup_dir.parent.parent / "ksre-bench-profiles"
            out_dir.mkdir(parents=True, exist_ok=True)
            log(f"profiling one migration with py-spy (stacks in {out_dir})")
            migrate = cli.command("migrate", "--source-cluster", topic.bootstrap, "--source-topic", topic.name,
                                  "--target-cluster", target.bootstrap_servers, "--target-topic", "migrated-profiled",
                                  "--create-topic", "--no-verify", "--state-dir",
                                  str(cli.backup_dir.parent / "migrations" / "profiled"), "--json")
            result["profiles"] = {"migrate": profile.profile(migrate, out_dir / "profile-migrate.txt")}
    return [full, row, pipe]


def _profiles(cli: Cli, topic: Topic, backup_id: str, out_dir: Path) -> dict[str, list[str]]:
    """Top lines go into the results; the full collapsed stacks stay in ``out_dir`` (not committed)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    log(f"profiling one backup and one restore with py-spy (stacks in {out_dir})")
    backup = cli.command("backup", "--cluster", topic.bootstrap, "--topic", topic.name, "--backup-dir",
                         str(cli.backup_dir), "--compression", DEFAULT_CODEC, "--json")
    restore = cli.command("restore", "--cluster", topic.bootstrap, "--backup-id", backup_id, "--backup-dir",
                          str(cli.backup_dir), "--target-topic", "restored-profiled", "--create-topic", "--json")
    return {"backup": profile.profile(backup, out_dir / "profile-backup.txt"),
            "restore": profile.profile(restore, out_dir / "profile-restore.txt")}


PARTITIONS_PER_BROKER = 12_000  # a broker holds a file open per partition; this machine allows 20,000 per process


def _inspection_cluster(scale: Scale) -> LocalKafka | LocalKafkaCluster:
    """One broker, or three when one would run out of open files (40,000 partitions), as a real
    cluster of that size is spread over brokers."""
    if scale.topics * scale.partitions <= PARTITIONS_PER_BROKER:
        return LocalKafka(heap="1g")
    return LocalKafkaCluster(3, heap="1g")


def _inspection(main: LocalKafka, settings: Settings) -> dict[str, Any]:
    scale = settings.scale
    if not scale.topics:
        return {}
    with contextlib.ExitStack() as stack:
        kafka = main if settings.mode == "quick" else stack.enter_context(_inspection_cluster(scale))
        log(f"inspection cluster: {scale.topics} topics × {scale.partitions} partitions, {scale.groups} groups")
        t0 = time.monotonic()
        asyncio.run(inspection.build(kafka.bootstrap_servers, scale))
        built = round(time.monotonic() - t0, 1)
        log(f"built in {built} s; timing refreshes")
        refresh = inspection.measure_refresh(kafka.bootstrap_servers, settings.refresh_repeats)
        ui = inspection.measure_ui(kafka.bootstrap_servers)
        log(f"refresh {refresh.get('median', refresh)}; dashboard {ui}")
        return {"scale": dataclasses.asdict(scale), "build_seconds": built, "refresh": refresh, "ui": ui}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    settings, name = parse(args)
    run(settings, name, args)
    return 0
