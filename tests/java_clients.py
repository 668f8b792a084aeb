"""Kafka's own Java clients, from the jars the launcher runs the broker with: groups made by them are
the groups production has (aiokafka speaks only the classic group protocol).

``console_consumer(kafka, topic, group, protocol="consumer")`` joins a group with the new consumer
protocol (KIP-848), ``protocol="classic"`` with the classic one; ``console_share_consumer`` joins a
share group (KIP-932; Kafka 4.1+, with share groups enabled on the broker); ``streams_app`` runs a
Kafka Streams application in a streams group (KIP-1071). Each is a running JVM; leave the ``with``
block to stop it.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from kafka_sre_tui.localkafka import LocalKafka, _die_with_parent, kafka_libs, maven_jars

CONSOLE_CONSUMER = "org.apache.kafka.tools.consumer.ConsoleConsumer"
CONSOLE_SHARE_CONSUMER = "org.apache.kafka.tools.consumer.ConsoleShareConsumer"
PRODUCER_PERFORMANCE = "org.apache.kafka.tools.ProducerPerformance"
SHARE_GROUP_COMMAND = "org.apache.kafka.tools.consumer.group.ShareGroupCommand"
ACL_COMMAND = "org.apache.kafka.tools.AclCommand"
CONFIG_COMMANDS = ("org.apache.kafka.tools.ConfigCommand", "kafka.admin.ConfigCommand")  # moved to tools in 4.2+

_QUIET_LOG4J = "Configuration:\n  Loggers:\n    Root:\n      level: WARN\n"


def _java(kafka: LocalKafka, main: str, args: Sequence[str]) -> list[str]:
    log4j = kafka.data_dir / "java-clients-log4j2.yaml"
    if not log4j.exists():
        log4j.write_text(_QUIET_LOG4J)
    return ["java", "-Xmx96m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            f"-Dlog4j2.configurationFile={log4j}", "-cp", f"{kafka_libs(kafka.version)}/*", main, *args]


@contextmanager
def _running(command: list[str], log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """The client runs while the block does; what it prints goes to ``log_path`` (next to the broker's
    log; records on stdout, one a line, so :func:`printed` can count them)."""
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                preexec_fn=_die_with_parent)  # a killed test run leaves no JVM behind
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def _properties(values: dict[str, str]) -> list[str]:
    return [arg for key, value in values.items() for arg in ("--consumer-property", f"{key}={value}")]


@contextmanager
def console_consumer(kafka: LocalKafka, topic: str, group: str, protocol: str = "consumer",
                     properties: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """Kafka's console consumer in ``group``, committing every 200 ms, reading from the beginning."""
    props = {"group.protocol": protocol, "auto.commit.interval.ms": "200", "client.id": f"java-{group}",
             **(properties or {})}
    args = ["--bootstrap-server", kafka.bootstrap_servers, "--topic", topic, "--group", group, "--from-beginning",
            *_properties(props)]
    with _running(_java(kafka, CONSOLE_CONSUMER, args), kafka.data_dir / f"java-{group}.log") as proc:
        yield proc


@contextmanager
def console_share_consumer(kafka: LocalKafka, topic: str, group: str) -> Iterator[subprocess.Popen[bytes]]:
    """Kafka's console share consumer in share group ``group``."""
    args = ["--bootstrap-server", kafka.bootstrap_servers, "--topic", topic, "--group", group,
            "--consumer-property", f"client.id=java-{group}"]
    with _running(_java(kafka, CONSOLE_SHARE_CONSUMER, args), kafka.data_dir / f"java-{group}.log") as proc:
        yield proc


def read_share_group_from_earliest(kafka: LocalKafka, group: str) -> None:
    """``kafka-configs.sh --alter --entity-type groups``: the share group starts at the earliest record
    (the default, latest, races with a test producing right after the consumer joins)."""
    args = ["--bootstrap-server", kafka.bootstrap_servers, "--alter", "--entity-type", "groups", "--entity-name",
            group, "--add-config", "share.auto.offset.reset=earliest"]
    libs = kafka_libs(kafka.version)
    present = {name for jar in libs.glob("kafka*.jar") for name in zipfile.ZipFile(jar).namelist()}
    main = next(c for c in CONFIG_COMMANDS if c.replace(".", "/") + ".class" in present)
    subprocess.run(_java(kafka, main, args), check=True, capture_output=True, timeout=120)


def printed(kafka: LocalKafka, group: str) -> int:
    """How many records the console client of ``group`` has printed: values ``P-N`` as
    ``tests.kafka_helpers.produce`` writes them, one a line."""
    path = kafka.data_dir / f"java-{group}.log"
    text = path.read_text(errors="replace") if path.exists() else ""
    return sum(bool(re.fullmatch(r"\d+-\d+", line)) for line in text.splitlines())


def produce(kafka: LocalKafka, topic: str, records: int, record_size: int = 100) -> None:
    """``records`` records into ``topic`` with Kafka's ProducerPerformance (keys none: spread round-robin)."""
    args = ["--topic", topic, "--num-records", str(records), "--record-size", str(record_size), "--throughput",
            "-1", "--producer-props", f"bootstrap.servers={kafka.bootstrap_servers}", "acks=all"]
    subprocess.run(_java(kafka, PRODUCER_PERFORMANCE, args), check=True, capture_output=True, timeout=120)


def share_group_properties(version: str) -> dict[str, str]:
    """Broker properties that make share groups available on ``version``: Kafka 4.1 has them behind
    ``group.share.enable`` (a preview); from 4.2 on they are on by default."""
    major, minor = (int(x) for x in version.split(".")[:2])
    return {"group.share.enable": "true"} if (4, 1) <= (major, minor) < (4, 2) else {}


def share_group_offsets(kafka: LocalKafka, group: str) -> dict[tuple[str, int], tuple[int | None, int | None]]:
    """What Kafka's own ``kafka-share-groups.sh --describe`` shows per partition: ``(start offset,
    lag)``, each None where it prints ``-`` (the lag column exists from Kafka 4.2 on)."""
    args = ["--bootstrap-server", kafka.bootstrap_servers, "--describe", "--group", group]
    out = subprocess.run(_java(kafka, SHARE_GROUP_COMMAND, args), check=True, capture_output=True, text=True,
                         timeout=120).stdout
    lines = [line.split() for line in out.splitlines() if line.strip()]
    header = next(line for line in lines if "START-OFFSET" in line)
    column = {name: i for i, name in enumerate(header)}

    def number(row: list[str], name: str) -> int | None:
        return int(row[column[name]]) if name in column and row[column[name]].lstrip("-").isdigit() else None

    return {(row[column["TOPIC"]], int(row[column["PARTITION"]])): (number(row, "START-OFFSET"), number(row, "LAG"))
            for row in lines[lines.index(header) + 1:] if len(row) == len(header)}


STREAMS_APP = Path(__file__).parent / "java" / "StreamsPassThrough.java"
_STREAMS_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>kafka-sre-tui.local</groupId><artifactId>kafka-streams-jar</artifactId>
  <version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-streams</artifactId>
      <version>{kafka}</version></dependency>
  </dependencies>
</project>
"""


def _streams_classpath(version: str) -> str:
    """Kafka Streams of ``version`` (its jar alone: the rest is on the broker's classpath; a stateless
    app never loads RocksDB) and tests/java/StreamsPassThrough.java compiled against it, once per
    version and source."""
    streams = maven_jars(f"kafka-streams-{version}", _STREAMS_POM.format(kafka=version),
                         f"Kafka Streams {version}", transitive=False)
    source = STREAMS_APP.read_bytes()
    classes = streams.parent / f"classes-{hashlib.sha256(source).hexdigest()[:12]}"
    classpath = f"{streams}/*:{kafka_libs(version)}/*"
    if not (classes / "StreamsPassThrough.class").exists():
        staging = classes.with_suffix(".partial")
        staging.mkdir(parents=True, exist_ok=True)
        subprocess.run(["javac", "-d", str(staging), "-cp", classpath, str(STREAMS_APP)], check=True,
                       capture_output=True, timeout=300)
        staging.rename(classes)
    return f"{classes}:{classpath}"


@contextmanager
def streams_app(kafka: LocalKafka, source: str, sink: str, application_id: str,
                protocol: str = "streams") -> Iterator[subprocess.Popen[bytes]]:
    """A Kafka Streams application copying ``source`` to ``sink`` in the group ``application_id``, with
    the streams rebalance protocol (KIP-1071) or ``classic``."""
    log4j = kafka.data_dir / "java-clients-log4j2.yaml"
    if not log4j.exists():
        log4j.write_text(_QUIET_LOG4J)
    state = kafka.data_dir / f"streams-{application_id}"
    command = ["java", "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
               f"-Dlog4j2.configurationFile={log4j}", "-cp", _streams_classpath(kafka.version), "StreamsPassThrough",
               kafka.bootstrap_servers, application_id, source, sink, protocol, str(state)]
    with _running(command, kafka.data_dir / f"java-{application_id}.log") as proc:
        yield proc


def allow(kafka: LocalKafka, principal: str, operations: Sequence[str], topic: str, group: str) -> None:
    """``kafka-acls.sh --add``: ``principal`` may do ``operations`` on ``topic`` and ``group`` (run on the
    broker's plaintext listener, whose clients are super users in the tests that use ACLs)."""
    args = ["--bootstrap-server", kafka.bootstrap_servers, "--add", "--allow-principal", principal,
            *(arg for op in operations for arg in ("--operation", op)), "--topic", topic, "--group", group]
    subprocess.run(_java(kafka, ACL_COMMAND, args), check=True, capture_output=True, timeout=120)
