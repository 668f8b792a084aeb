"""Throughput rows on the loaded topic: our backup/verify/restore/migrate and the peers, same data."""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import peers
from bench.child import run_child
from bench.data import Records, count_records, create_topics, load_topic
from bench.ours import Cli
from bench.settings import DEFAULT_CODEC, Settings
from bench.stats import Row


@dataclass(frozen=True)
class Topic:
    bootstrap: str
    name: str
    records: int
    log_bytes: int  # the broker's segment bytes: the common basis of every MB/s


Log = Callable[[str], None]


def measure_ours(cli: Cli, topic: Topic, settings: Settings, log: Log) -> tuple[list[Row], str | None]:
    """Backups per codec, verify and restore of the default codec's backup; returns that backup's id.
    With ``restore_only`` the restores are left to :func:`measure_restore_vs_kcat`."""
    rows: list[Row] = []
    default_id: str | None = None
    for codec in settings.codecs:
        row = Row(f"backup {codec}", "ours", topic_bytes=topic.log_bytes, records=topic.records)
        rows.append(row)
        for n in range(settings.repeats):
            run, doc = cli.backup(topic.bootstrap, topic.name, codec)
            if not run.ok:
                row.available, row.note = False, run.failure()
                break
            row.add(run.seconds, run.peak_rss_mb, doc["metrics"]["throughput_mb_s"])
            row.size_bytes = doc["metrics"]["bytes_written"]
            keep = codec == DEFAULT_CODEC and default_id is None
            if keep:
                default_id = doc["backup_id"]
            else:
                _remove(Path(doc["path"]))
            log(f"{row.name} #{n + 1}: {run.seconds:.2f} s, {run.peak_rss_mb:.0f} MB RSS")
    if default_id is None:
        return rows, None
    verify = Row(f"verify ({DEFAULT_CODEC} backup)", "ours", topic_bytes=topic.log_bytes, records=topic.records)
    restore = Row(f"restore ({DEFAULT_CODEC} backup) into a new topic", "ours", topic_bytes=topic.log_bytes,
                  records=topic.records)
    rows += [verify] if settings.restore_only else [verify, restore]
    for n in range(settings.repeats):
        run, doc = cli.verify(default_id)
        if not run.ok or not doc.get("intact"):
            verify.available, verify.note = False, run.failure() if not run.ok else "backup reported damaged"
            break
        verify.add(run.seconds, run.peak_rss_mb, doc["bytes_checked"] / 1e6 / max(doc["seconds"], 1e-9))
        log(f"verify #{n + 1}: {run.seconds:.2f} s")
    verify.note = "engine MB/s counts the backup's (compressed) bytes"
    for n in range(0 if settings.restore_only else settings.repeats):
        _restore_once(cli, topic, default_id, restore, n, log)
    return rows, default_id


def _restore_once(cli: Cli, topic: Topic, backup_id: str, row: Row, n: int, log: Log) -> None:
    row.note = "wall time includes verify and preflight; headers and timestamps kept"
    if not row.available:
        return
    run, doc = cli.restore(topic.bootstrap, backup_id, f"restored-{n}")
    if not run.ok:
        row.available, row.note = False, run.failure()
        return
    row.add(run.seconds, run.peak_rss_mb, doc["metrics"]["throughput_mb_s"])
    log(f"restore #{n + 1}: {run.seconds:.2f} s, {run.peak_rss_mb:.0f} MB RSS")


def measure_restore_vs_kcat(cli: Cli, topic: Topic, backup_id: str, kcat: str | None, kcat_note: str, libs: Path,
                            workdir: Path, settings: Settings, log: Log) -> list[Row]:
    """--restore-only: each repeat runs our restore, then kcat produce, one after the other, so that whatever
    else the machine does weighs on both sides of the ratio alike; ProducerPerformance after them."""
    restore = Row(f"restore ({DEFAULT_CODEC} backup) into a new topic", "ours", topic_bytes=topic.log_bytes,
                  records=topic.records)
    consume = Row("kcat consume → file", "peer", topic_bytes=topic.log_bytes, records=topic.records,
                  note="once, for kcat produce's input")
    produce = Row("kcat produce ← file", "peer", topic_bytes=topic.log_bytes, records=topic.records,
                  note="keys and values only: headers and timestamps dropped; run right after each restore")
    pperf = _producer_perf_row(topic, settings)
    dump = workdir / "kcat-dump.tsv"
    if kcat is None:
        consume.available = produce.available = False
        consume.note = produce.note = kcat_note
    else:
        run = peers.kcat_consume(kcat, topic.bootstrap, topic.name, dump)
        consume.add(run.seconds, run.peak_rss_mb) if run.ok else _fail(consume, run.failure())
    for n in range(settings.repeats):
        _restore_once(cli, topic, backup_id, restore, n, log)
        if kcat is not None and consume.available:
            _kcat_produce(kcat, topic, dump, settings.partitions, produce, n)
        log(f"kcat produce #{n + 1}: {_last(produce)}")
    dump.unlink(missing_ok=True)
    for n in range(settings.repeats):
        _producer_perf(libs, topic, settings, pperf, n)
        log(f"ProducerPerformance #{n + 1}: {_last(pperf)}")
    return [restore, consume, produce, pperf]


def measure_small(cli: Cli, topic: Topic, settings: Settings, log: Log) -> list[Row]:
    """Peak RSS at the second size: a --max-messages backup of part of the topic, and its restore."""
    per_partition = max(int(topic.records * settings.small_fraction / 6), 1)
    run, doc = cli.backup(topic.bootstrap, topic.name, DEFAULT_CODEC, max_messages=per_partition)
    backup = Row(f"backup {DEFAULT_CODEC}, small", "ours")
    if not run.ok:
        backup.available, backup.note = False, run.failure()
        return [backup]
    metrics = doc["metrics"]
    backup.topic_bytes, backup.records = metrics["bytes_read"], metrics["messages"]
    backup.add(run.seconds, run.peak_rss_mb, metrics["throughput_mb_s"])
    restore = Row(f"restore ({DEFAULT_CODEC} backup), small", "ours", topic_bytes=backup.topic_bytes,
                  records=backup.records)
    rrun, rdoc = cli.restore(topic.bootstrap, doc["backup_id"], "restored-small")
    if rrun.ok:
        restore.add(rrun.seconds, rrun.peak_rss_mb, rdoc["metrics"]["throughput_mb_s"])
    else:
        restore.available, restore.note = False, rrun.failure()
    _remove(Path(doc["path"]))
    log(f"small size ({backup.topic_bytes / 1e6:.0f} MB): backup {run.peak_rss_mb:.0f} MB RSS, "
        f"restore {rrun.peak_rss_mb:.0f} MB RSS")
    return [backup, restore]


def measure_migrate(cli: Cli, topic: Topic, target: str, settings: Settings, log: Log, suffix: str = "") -> Row:
    name = "migrate to a second cluster" if settings.second_cluster else "migrate (same cluster)"
    row = Row(f"{name}, {suffix}" if suffix else name, "ours", topic_bytes=topic.log_bytes, records=topic.records)
    help_text = cli.migrate_help()
    if help_text is None:
        row.available, row.note = False, "not measured: `kafka-sre-tui migrate` does not exist yet (gap)"
        return row
    for n in range(settings.repeats):
        run, doc = cli.migrate(topic.bootstrap, topic.name, target, f"migrated-{suffix or 'full'}-{n}", help_text)
        if not run.ok:
            row.available, row.note = False, run.failure()
            break
        metrics = doc.get("metrics") or {}
        row.add(run.seconds, run.peak_rss_mb, metrics.get("throughput_mb_s"))
        log(f"{row.name} #{n + 1}: {run.seconds:.2f} s, {run.peak_rss_mb:.0f} MB RSS")
    return row


WARM_UP_TOPIC = "bench.warm-up"


def warm_up_second_cluster(cli: Cli, kcat: str | None, source: str, target: str, settings: Settings,
                           log: Log) -> None:
    """One untimed migration and one untimed ``kcat`` pipe of a tenth-size topic before anything is timed:
    a broker's JVM compiles its fetch and produce paths on first use, and the first tool timed against a
    fresh second cluster paid for it (500,000 records: 6.9-9.2 s for the first copy, 4.3-4.9 s after)."""
    records = max(settings.records // 10, 1)
    asyncio.run(load_topic(source, WARM_UP_TOPIC, records, settings.partitions, Records(settings.value_bytes),
                           settings.batch_kib))
    help_text = cli.migrate_help()
    if help_text is not None:
        cli.migrate(source, WARM_UP_TOPIC, target, "warm-up-migrated", help_text)
    if kcat is not None:
        asyncio.run(create_topics(target, ["warm-up-piped"], settings.partitions))
        peers.kcat_pipe(kcat, source, WARM_UP_TOPIC, target, "warm-up-piped")
    log(f"warmed the second cluster with {records:,} records (untimed)")


def measure_kcat_pipe(kcat: str | None, kcat_note: str, topic: Topic, target: str, settings: Settings,
                      log: Log) -> Row:
    """``kcat -C | kcat -P`` from the topic into a new topic on ``target``; counted only when every
    record arrived."""
    row = Row("kcat -C → kcat -P pipe to a second cluster" if settings.second_cluster else
              "kcat -C → kcat -P pipe (same cluster)", "peer", topic_bytes=topic.log_bytes, records=topic.records,
              note="keys and values only: headers and timestamps dropped")
    if kcat is None:
        _fail(row, kcat_note)
        return row
    for n in range(settings.repeats):
        name = f"kcat-piped-{n}"
        asyncio.run(create_topics(target, [name], settings.partitions))
        run = peers.kcat_pipe(kcat, topic.bootstrap, topic.name, target, name)
        written = asyncio.run(count_records(target, name)) if run.ok else 0
        if written != topic.records:
            _fail(row, run.failure() if not run.ok else f"the pipe wrote {written:,} of {topic.records:,} records")
            break
        row.add(run.seconds, run.peak_rss_mb)
        log(f"{row.name} #{n + 1}: {run.seconds:.2f} s, {run.peak_rss_mb:.0f} MB RSS")
    return row


def measure_kafka_backup(topic: Topic, workdir: Path, settings: Settings, log: Log) -> list[Row]:
    """osodevops/kafka-backup's backup (default codec, zstd) and restore into a new topic, when its
    binary is present (bench/peers.find_kafka_backup)."""
    binary, note = peers.find_kafka_backup()
    backup = Row(f"kafka-backup (Rust) backup {DEFAULT_CODEC}", "peer", topic_bytes=topic.log_bytes,
                 records=topic.records)
    restore = Row("kafka-backup (Rust) restore into a new topic", "peer", topic_bytes=topic.log_bytes,
                  records=topic.records)
    if binary is None:
        for row in (backup, restore):
            _fail(row, note)
        return [backup, restore]
    for n in range(settings.repeats):
        store = workdir / f"kafka-backup-{n}"
        store.mkdir(parents=True, exist_ok=True)
        run = peers.kafka_backup_backup(binary, topic.bootstrap, topic.name, store, f"bench-{n}", DEFAULT_CODEC)
        if not run.ok:
            _fail(backup, run.failure())
            _fail(restore, "its backup failed")
            break
        backup.add(run.seconds, run.peak_rss_mb)
        backup.size_bytes = sum(f.stat().st_size for f in store.rglob("*") if f.is_file())
        target = f"kafka-backup-restored-{n}"
        run = peers.kafka_backup_restore(binary, topic.bootstrap, topic.name, target, store, f"bench-{n}")
        written = asyncio.run(count_records(topic.bootstrap, target)) if run.ok else 0
        if written != topic.records:
            _fail(restore, run.failure() if not run.ok else f"it restored {written:,} of {topic.records:,} records")
        else:
            restore.add(run.seconds, run.peak_rss_mb)
        _remove(store)
        log(f"kafka-backup #{n + 1}: backup {_last(backup)}, restore {_last(restore)}")
    return [backup, restore]


def measure_per_record(topic: Topic, workdir: Path, settings: Settings, log: Log) -> Row:
    """The per-record backup alternative (bench/per_record.py), same data, zstd."""
    row = Row("per-record decode + re-encode (aiokafka), zstd", "reference", topic_bytes=topic.log_bytes,
              records=topic.records, note="the design alternative to raw batches; not a product")
    out = workdir / "per-record.bin"
    for n in range(settings.repeats):
        run = run_child([sys.executable, "-m", "bench.per_record", topic.bootstrap, topic.name, str(out)])
        if not run.ok or int(run.stdout.split()[0]) != topic.records:
            _fail(row, run.failure() if not run.ok else f"read {run.stdout.split()[0]} records")
            break
        row.add(run.seconds, run.peak_rss_mb)
        row.size_bytes = out.stat().st_size
        log(f"per-record #{n + 1}: {run.seconds:.2f} s")
    out.unlink(missing_ok=True)
    return row


def measure_peers(topic: Topic, libs: Path, kcat: str | None, kcat_note: str, workdir: Path,
                  settings: Settings, log: Log) -> list[Row]:
    consume = Row("kcat consume → file", "peer", topic_bytes=topic.log_bytes, records=topic.records,
                  note="values only (-f '%s\\n'), " + " ".join(peers.KCAT_CONSUME_TUNING[1::2]))
    produce = Row("kcat produce ← file", "peer", topic_bytes=topic.log_bytes, records=topic.records,
                  note="keys and values only: headers and timestamps dropped")
    cperf = Row("Kafka ConsumerPerformance", "peer", topic_bytes=topic.log_bytes, records=topic.records,
                note="engine MB/s: its fetch.MB.sec (key + value bytes)")
    pperf = _producer_perf_row(topic, settings)
    dump = workdir / "kcat-dump.tsv"
    for n in range(settings.repeats):
        if kcat is None:
            consume.available = produce.available = False
            consume.note = produce.note = kcat_note
        else:
            run = peers.kcat_consume(kcat, topic.bootstrap, topic.name, dump)
            consume.add(run.seconds, run.peak_rss_mb) if run.ok else _fail(consume, run.failure())
            keyed = peers.kcat_consume(kcat, topic.bootstrap, topic.name, dump, peers.KCAT_FORMAT)  # not timed
            if keyed.ok:
                _kcat_produce(kcat, topic, dump, settings.partitions, produce, n)
            else:
                _fail(produce, keyed.failure())
        run, mb_s = peers.consumer_perf(libs, topic.bootstrap, topic.name, topic.records, f"bench-cperf-{n}")
        cperf.add(run.seconds, run.peak_rss_mb, mb_s) if run.ok else _fail(cperf, run.failure())
        _producer_perf(libs, topic, settings, pperf, n)
        log(f"peers #{n + 1}: kcat consume/produce {_last(consume)} / {_last(produce)}, "
            f"ConsumerPerformance/ProducerPerformance {_last(cperf)} / {_last(pperf)}")
    dump.unlink(missing_ok=True)
    return [consume, produce, cperf, pperf]


def _last(row: Row) -> str:
    return f"{row.seconds[-1]:.2f} s" if row.available and row.seconds else "unavailable"


def _producer_perf_row(topic: Topic, settings: Settings) -> Row:
    return Row("Kafka ProducerPerformance", "peer", topic_bytes=topic.log_bytes, records=topic.records,
               note=f"{settings.value_bytes} B records, no keys or headers, acks=all")


def _producer_perf(libs: Path, topic: Topic, settings: Settings, pperf: Row, n: int) -> None:
    """Kafka's own ProducerPerformance writes as many records into a new topic."""
    target = f"pperf-{n}"
    asyncio.run(create_topics(topic.bootstrap, [target], settings.partitions))
    run, mb_s = peers.producer_perf(libs, topic.bootstrap, target, topic.records, settings.value_bytes)
    pperf.add(run.seconds, run.peak_rss_mb, mb_s) if run.ok else _fail(pperf, run.failure())


def _kcat_produce(kcat: str, topic: Topic, dump: Path, partitions: int, produce: Row, n: int) -> None:
    """kcat produces the dump into a new topic; counted only when every record arrived."""
    target = f"kcat-produced-{n}"
    asyncio.run(create_topics(topic.bootstrap, [target], partitions))
    run = peers.kcat_produce(kcat, topic.bootstrap, target, dump)
    written = asyncio.run(count_records(topic.bootstrap, target)) if run.ok else 0
    if written != topic.records:
        _fail(produce, run.failure() if not run.ok else f"kcat wrote {written:,} of {topic.records:,} records")
    else:
        produce.add(run.seconds, run.peak_rss_mb)


def _fail(row: Row, note: str) -> None:
    row.available, row.note = False, note


def _remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


SMALL_RECORDS = "100 B records"


def measure_small_records(cli: Cli, topic: Topic, kcat: str | None, kcat_note: str, workdir: Path,
                          settings: Settings, log: Log) -> list[Row]:
    """A topic of small (100 B) values: per-record costs dominate, where a batch-at-a-time tool gains most.
    Our default-codec backup against kcat's values-only consume to a file, same topic."""
    backup = Row(f"{SMALL_RECORDS}: backup {DEFAULT_CODEC}", "ours", topic_bytes=topic.log_bytes,
                 records=topic.records)
    consume = Row(f"{SMALL_RECORDS}: kcat consume → file", "peer", topic_bytes=topic.log_bytes,
                  records=topic.records, note="values only, tuned fetches (as the 1 KiB row)")
    dump = workdir / "kcat-small-dump.txt"
    for n in range(settings.repeats):
        run, doc = cli.backup(topic.bootstrap, topic.name, DEFAULT_CODEC)
        if run.ok:
            backup.add(run.seconds, run.peak_rss_mb, doc["metrics"]["throughput_mb_s"])
            backup.size_bytes = doc["metrics"]["bytes_written"]
            _remove(Path(doc["path"]))
        else:
            _fail(backup, run.failure())
        if kcat is None:
            _fail(consume, kcat_note)
        else:
            krun = peers.kcat_consume(kcat, topic.bootstrap, topic.name, dump)
            consume.add(krun.seconds, krun.peak_rss_mb) if krun.ok else _fail(consume, krun.failure())
        log(f"{SMALL_RECORDS} #{n + 1}: backup {_last(backup)}, kcat consume {_last(consume)}")
    dump.unlink(missing_ok=True)
    return [backup, consume]
