"""Peers on the same data: kcat (librdkafka) and Kafka's own perf tools from the broker's jars."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

from bench.child import ChildRun, run_child

KCAT_FORMAT = "%k\t%s\n"  # what kcat can produce back: key TAB value; headers and timestamps are dropped
KCAT_VALUES = "%s\n"  # values only: kcat's fastest consume, as its users time it
# librdkafka's defaults fetch 1 MiB per partition and queue 64 MiB; a dump to a file wants bigger fetches and a
# deeper queue (the same 4 MiB per partition our backup asks for)
KCAT_CONSUME_TUNING = ("-X", "fetch.message.max.bytes=4194304", "-X", "queued.min.messages=1000000",
                       "-X", "queued.max.messages.kbytes=262144")


def find_kcat(install: bool) -> tuple[str | None, str]:
    """kcat's path and a note; with ``install`` a missing kcat is installed from Debian's packages."""
    path = shutil.which("kcat")
    if path:
        return path, ""
    if not install:
        return None, "kcat not installed (apt-get install kcat); its rows are unavailable"
    if shutil.which("apt-get") is None:
        return None, "kcat not installed and apt-get is unavailable"
    result = subprocess.run("apt-get update -qq && apt-get install -y -qq kcat", shell=True, capture_output=True,
                            text=True, check=False)
    path = shutil.which("kcat")
    if path is None:
        return None, f"installing kcat failed: {(result.stderr or result.stdout).strip()[-200:]}"
    return path, "kcat was installed by the harness (apt-get install kcat)"


def kcat_version(kcat: str) -> str:
    out = subprocess.run([kcat, "-V"], capture_output=True, text=True, check=False).stdout
    match = re.search(r"Version (\S+).*?librdkafka (\S+)", out)
    return f"kcat {match.group(1)}, librdkafka {match.group(2)}" if match else out.strip()[:80]


def kcat_consume(kcat: str, bootstrap: str, topic: str, out: Path, fmt: str = KCAT_VALUES) -> ChildRun:
    """The topic to a file: values only and tuned fetches for the timed row; ``KCAT_FORMAT`` for the dump that
    ``kcat -P -K '\\t'`` reads back."""
    return run_child([kcat, "-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e", "-q",
                      *KCAT_CONSUME_TUNING, "-f", fmt], stdout_path=out)


def kcat_produce(kcat: str, bootstrap: str, topic: str, source: Path) -> ChildRun:
    return run_child([kcat, "-P", "-b", bootstrap, "-t", topic, "-K", "\t", "-l", str(source)])


def kcat_pipe(kcat: str, source: str, topic: str, target: str, target_topic: str) -> ChildRun:
    """The migration people do with kcat alone: consume to stdout, produce from stdin (keys and values;
    headers and timestamps are dropped). Timed whole; peak RSS is the larger of the two."""
    consume = [kcat, "-C", "-b", source, "-t", topic, "-o", "beginning", "-e", "-q", "-f", KCAT_FORMAT]
    produce = [kcat, "-P", "-b", target, "-t", target_topic, "-K", "\t"]
    return run_child(["sh", "-c", f"{shlex.join(consume)} | {shlex.join(produce)}"])


KAFKA_BACKUP_ENV = "KAFKA_BACKUP_BIN"


def find_kafka_backup() -> tuple[str | None, str]:
    """osodevops/kafka-backup (Rust): ``$KAFKA_BACKUP_BIN`` or ``kafka-backup`` on PATH; never fetched or
    built here (build it yourself, outside this repository, with ``cargo build --release``)."""
    path = os.environ.get(KAFKA_BACKUP_ENV) or shutil.which("kafka-backup")
    if path and Path(path).is_file():
        return path, ""
    return None, f"kafka-backup not found (set ${KAFKA_BACKUP_ENV} or put it on PATH); its rows are unavailable"


def kafka_backup_backup(binary: str, bootstrap: str, topic: str, store: Path, backup_id: str,
                        codec: str) -> ChildRun:
    """Its documented backup: a YAML config, filesystem storage, the given codec."""
    config = store / f"{backup_id}-backup.yaml"
    config.write_text(f"mode: backup\nbackup_id: \"{backup_id}\"\nsource:\n  bootstrap_servers: [\"{bootstrap}\"]\n"
                      f"  topics:\n    include: [\"{topic}\"]\nstorage:\n  backend: filesystem\n  path: {store}\n"
                      f"backup:\n  compression: {codec}\n")
    return run_child([binary, "backup", "--config", str(config)])


def kafka_backup_restore(binary: str, bootstrap: str, topic: str, target_topic: str, store: Path,
                         backup_id: str) -> ChildRun:
    """Its documented restore of that backup into ``target_topic``, which it creates (``create_topics``,
    as ours is run with --create-topic; without it the restore fails: "Partition 0 not available")."""
    config = store / f"{backup_id}-restore.yaml"
    config.write_text(f"mode: restore\nbackup_id: \"{backup_id}\"\ntarget:\n  bootstrap_servers: [\"{bootstrap}\"]\n"
                      f"storage:\n  backend: filesystem\n  path: {store}\n"
                      f"restore:\n  create_topics: true\n  topic_mapping:\n    {topic}: {target_topic}\n")
    return run_child([binary, "restore", "--config", str(config)])


def _java(libs: Path, main: str, *args: str) -> list[str]:
    return ["java", "-Xmx512m", "-cp", f"{libs}/*", main, *args]


def consumer_perf(libs: Path, bootstrap: str, topic: str, records: int, group: str) -> tuple[ChildRun, float | None]:
    """Kafka's ConsumerPerformance; the second value is its own fetch MB/s (key + value bytes only)."""
    run = run_child(_java(libs, "org.apache.kafka.tools.ConsumerPerformance", "--bootstrap-server", bootstrap,
                          "--topic", topic, "--messages", str(records), "--timeout", "60000", "--group", group))
    rows = [line.split(",") for line in run.stdout.splitlines() if line.count(",") >= 9]
    fetch_mb_s = float(rows[-1][8]) if run.ok and rows and _is_number(rows[-1][8]) else None
    return run, fetch_mb_s


def producer_perf(libs: Path, bootstrap: str, topic: str, records: int, record_bytes: int
                  ) -> tuple[ChildRun, float | None]:
    """Kafka's ProducerPerformance (acks=all, idempotent: Kafka's defaults); second value: its MB/s."""
    run = run_child(_java(libs, "org.apache.kafka.tools.ProducerPerformance", "--topic", topic,
                          "--num-records", str(records), "--record-size", str(record_bytes), "--throughput", "-1",
                          "--producer-props", f"bootstrap.servers={bootstrap}", "acks=all", "linger.ms=5",
                          "batch.size=262144"))
    match = re.findall(r"records sent, [\d.]+ records/sec \(([\d.]+) MB/sec\)", run.stdout)
    return run, float(match[-1]) if run.ok and match else None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
