"""Real Apache Kafka on loopback (KRaft: one node, or a cluster of several), for the demo, the tests and bench.

The broker's jars come from Maven Central through Maven into a cache outside the repository
(``$KSRE_CACHE_DIR`` or ``$XDG_CACHE_HOME/kafka-sre-tui``), are fetched once and reused. Each
:class:`LocalKafka` has its own data directory and free ports, so several run side by side.

Listeners and broker properties are parameters: a cluster can carry SASL listeners with SCRAM
users created at format time, and any broker setting (an authorizer, say) can be passed in.
"""

from __future__ import annotations

import base64
import concurrent.futures
import contextlib
import ctypes
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

KAFKA_VERSION = "4.4.0"
SCALA_VERSION = "2.13"
LOG4J_VERSION = "2.24.3"
_STARTED_MARKER = "Kafka Server started"


class LocalKafkaError(RuntimeError):
    """The local broker could not be obtained or started; the message says why in one line."""


@dataclass(frozen=True)
class Listener:
    """A client listener. ``protocol`` is PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL (TLS ones need
    ``ssl.keystore.*``/``ssl.truststore.*`` in ``broker_properties``); port 0 picks a free one."""

    name: str
    protocol: str = "PLAINTEXT"
    port: int = 0


@dataclass(frozen=True)
class ScramUser:
    username: str
    password: str
    mechanism: str = "SCRAM-SHA-256"


def cache_dir() -> Path:
    explicit = os.environ.get("KSRE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kafka-sre-tui"


def _require_tool(name: str, hint: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise LocalKafkaError(f"{name} not found on PATH: {hint}")
    return path


_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>kafka-sre-tui.local</groupId><artifactId>kafka-jars</artifactId>
  <version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_{scala}</artifactId>
      <version>{kafka}</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId>
      <version>{kafka}</version></dependency>
{logging}
  </dependencies>
</project>
"""


# Kafka 4 logs through Log4j 2 (we add its SLF4J binding); Kafka 3 brings reload4j (Log4j 1) itself.
_LOG4J2_BINDING = """    <dependency><groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId><version>{log4j}</version></dependency>"""


def _major(version: str) -> int:
    try:
        return int(version.split(".", 1)[0])
    except ValueError:
        raise LocalKafkaError(f"not a Kafka version: {version!r}: give one like 4.1.1") from None


def kafka_libs(version: str = KAFKA_VERSION) -> Path:
    """Return the directory holding every jar the broker and Kafka's tools need, fetching once."""
    logging = _LOG4J2_BINDING.format(log4j=LOG4J_VERSION) if _major(version) >= 4 else ""
    return maven_jars(f"kafka-{version}", _POM.format(scala=SCALA_VERSION, kafka=version, logging=logging),
                      f"Apache Kafka {version} jars")


def maven_jars(name: str, pom: str, what: str, transitive: bool = True) -> Path:
    """The jars ``pom``'s dependencies name (with theirs, when ``transitive``), fetched once with Maven
    into ``<cache>/<name>/libs``; another process fetching the same waits for it."""
    root = cache_dir() / name
    libs = root / "libs"
    done = root / ".complete"
    if done.exists():
        return libs
    _require_tool("java", "install a JDK 17+ (apt-get install openjdk-17-jdk-headless)")
    mvn = _require_tool("mvn", "install Maven (apt-get install maven)")
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be fetching the same jars
        if done.exists():
            return libs
        (root / "pom.xml").write_text(pom)
        staging = root / "libs.partial"
        shutil.rmtree(staging, ignore_errors=True)
        cmd = [mvn, "-q", "-B", "-f", str(root / "pom.xml"), "dependency:copy-dependencies",
               f"-DoutputDirectory={staging}", "-DincludeScope=runtime",
               f"-DexcludeTransitive={str(not transitive).lower()}"]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            tail = (result.stdout + result.stderr).strip().splitlines()[-5:]
            raise LocalKafkaError(f"fetching {what} with Maven failed: {' | '.join(tail)}")
        shutil.rmtree(libs, ignore_errors=True)
        staging.rename(libs)
        done.write_text(name)
    return libs


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """Run in the child before exec: the JVM gets SIGTERM if the Python process dies."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


# PR_SET_PDEATHSIG fires when the *thread* that forked the child ends, so a broker started from a
# short-lived thread (asyncio.to_thread, say) would die with it: every JVM is forked by this one thread,
# which lives as long as the process.
_SPAWNER = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="localkafka-spawn")


def _spawn(cmd: list[str], out: IO[bytes]) -> subprocess.Popen[bytes]:
    return _SPAWNER.submit(subprocess.Popen, cmd, stdout=out, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent).result()


_LOG4J2 = """Configuration:
  Appenders:
    File:
      name: file
      fileName: "{log}"
      PatternLayout: {{pattern: "[%d] %p %m (%c)%n"}}
  Loggers:
    Root: {{level: INFO, AppenderRef: [{{ref: file}}]}}
"""

_LOG4J1 = """log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File={log}
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
"""


class LocalKafka:
    """One KRaft node (broker + controller) on 127.0.0.1.

    ``BROKER`` is a PLAINTEXT listener used between the node's roles and by default clients;
    ``listeners`` adds more (SASL ones need ``scram_users`` or PLAIN users in properties).
    """

    def __init__(
        self,
        *,
        data_dir: Path | None = None,
        listeners: Sequence[Listener] = (),
        scram_users: Sequence[ScramUser] = (),
        broker_properties: Mapping[str, str] | None = None,
        heap: str = "768m",
        startup_timeout: float = 90.0,
        version: str = KAFKA_VERSION,
        node_id: int = 1,
    ) -> None:
        self._own_dir = data_dir is None
        self.data_dir = Path(data_dir or tempfile.mkdtemp(prefix="ksre-kafka-"))
        self.listeners = (Listener("BROKER"), *listeners)
        self.scram_users = tuple(scram_users)
        self.broker_properties = dict(broker_properties or {})
        self.heap = heap
        self.startup_timeout = startup_timeout
        self.version = version
        self.node_id = node_id
        self.ports: dict[str, int] = {}
        self.cluster_id = ""
        self._proc: subprocess.Popen[bytes] | None = None

    # -- public -----------------------------------------------------------------------------
    @property
    def bootstrap_servers(self) -> str:
        return self.bootstrap_for("BROKER")

    def bootstrap_for(self, listener: str) -> str:
        return f"127.0.0.1:{self.ports[listener]}"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "server.log"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> LocalKafka:
        self._wait_started(self._launch())
        return self

    def _launch(self) -> int:
        """Format storage on first start and start the JVM; return where this run's log begins."""
        libs = kafka_libs(self.version)
        java = _require_tool("java", "install a JDK 17+ (apt-get install openjdk-17-jdk-headless)")
        if not self.ports:  # a restart keeps its ports, so clients reconnect to the same address
            self.ports = {lst.name: lst.port or free_port() for lst in self.listeners}
            self.ports["CONTROLLER"] = free_port()
        (self.data_dir / "log").mkdir(parents=True, exist_ok=True)
        props = self.data_dir / "server.properties"
        props.write_text(self._render_properties())
        base = [java, f"-Xmx{self.heap}", "-Xss1m", "-XX:+UseG1GC", self._logging_option(), "-cp", f"{libs}/*"]
        if not (self.data_dir / "log" / "meta.properties").exists():  # first start: format storage
            self.cluster_id = self.cluster_id or _cluster_id()
            self._format(base, props)
        log_offset = self.log_file.stat().st_size if self.log_file.exists() else 0
        out = open(self.data_dir / "stdout.log", "ab")  # noqa: SIM115 - owned by the child
        self._proc = _spawn([*base, "kafka.Kafka", str(props)], out)
        out.close()
        return log_offset

    def stop(self, timeout: float = 20.0, *, keep_data: bool = False) -> None:
        """Shut the broker down cleanly (SIGTERM, SIGKILL after ``timeout`` seconds).

        A data directory the launcher made itself is deleted unless ``keep_data``; with it kept,
        :meth:`start` brings the same broker back (same ports, same cluster id, same topics).
        """
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        if self._own_dir and not keep_data:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def kill(self) -> None:
        """Stop the broker the hard way (SIGKILL), keeping its data: for crash tests."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(10)
            self._proc = None

    def restart(self, *, hard: bool = False) -> LocalKafka:
        """Stop the broker (cleanly, or with SIGKILL if ``hard``) and start it again on the same
        ports with its data; returns once it serves again."""
        if hard:
            self.kill()
        else:
            self.stop(keep_data=True)
        return self.start()

    def log_tail(self, lines: int = 12) -> str:
        """The broker's errors and their causes (first), then the last lines of its log."""
        text: list[str] = []
        for path in (self.data_dir / "stdout.log", self.log_file):
            if path.exists():
                text.extend(path.read_text(errors="replace").splitlines())
        errors = [ln for ln in text if " ERROR " in ln or " FATAL " in ln or ln.startswith("Caused by:")]
        tail = [ln for ln in text[-lines:] if ln not in errors]
        return "\n".join([*errors[-8:], *tail])

    def __enter__(self) -> LocalKafka:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- internals --------------------------------------------------------------------------
    def _logging_option(self) -> str:
        if _major(self.version) >= 4:
            log4j2 = self.data_dir / "log4j2.yaml"
            log4j2.write_text(_LOG4J2.format(log=self.log_file))
            return f"-Dlog4j2.configurationFile={log4j2}"
        log4j1 = self.data_dir / "log4j.properties"
        log4j1.write_text(_LOG4J1.format(log=self.log_file))
        return f"-Dlog4j.configuration=file:{log4j1}"

    def _render_properties(self) -> str:
        node = self.node_id
        listeners = [f"{lst.name}://127.0.0.1:{self.ports[lst.name]}" for lst in self.listeners]
        protocol_map = [f"{lst.name}:{lst.protocol}" for lst in self.listeners]
        props: dict[str, str] = {
            "process.roles": "broker,controller",
            "node.id": str(node),
            "controller.quorum.voters": f"{node}@127.0.0.1:{self.ports['CONTROLLER']}",
            "listeners": ",".join([*listeners, f"CONTROLLER://127.0.0.1:{self.ports['CONTROLLER']}"]),
            "advertised.listeners": ",".join(listeners),
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "BROKER",
            "listener.security.protocol.map": ",".join([*protocol_map, "CONTROLLER:PLAINTEXT"]),
            "log.dirs": str(self.data_dir / "log"),
            "num.partitions": "1",
            "auto.create.topics.enable": "false",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "4",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "4",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "log.flush.interval.messages": str(2**62),
        }
        sasl = [lst for lst in self.listeners if lst.protocol.startswith("SASL")]
        if sasl:
            mechanisms = sorted({u.mechanism for u in self.scram_users} | {"SCRAM-SHA-256"})
            props["sasl.enabled.mechanisms"] = ",".join(mechanisms)
            for lst in sasl:
                for mech in mechanisms:
                    props[f"listener.name.{lst.name.lower()}.{mech.lower()}.sasl.jaas.config"] = (
                        "org.apache.kafka.common.security.scram.ScramLoginModule required;")
        props.update(self.broker_properties)
        return "".join(f"{k}={v}\n" for k, v in props.items())

    def _format(self, base: list[str], props: Path) -> None:
        cmd = [*base, "kafka.tools.StorageTool", "format", "-t", self.cluster_id, "-c", str(props),
               "--ignore-formatted"]
        for user in self.scram_users:
            cmd += ["--add-scram", f"{user.mechanism}=[name={user.username},password={user.password}]"]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            lines = (result.stdout + result.stderr).strip().splitlines()
            causes = [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith(("at ", "..."))]
            raise LocalKafkaError(f"formatting Kafka storage in {self.data_dir} failed: "
                                  + " | ".join(causes[-3:]))

    def _wait_started(self, log_offset: int) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                code = None if self._proc is None else self._proc.returncode
                self._proc = None
                raise LocalKafkaError(
                    f"Kafka broker exited during startup (exit {code}); log tail:\n{self.log_tail()}")
            if _STARTED_MARKER in self._log_since(log_offset):
                return
            time.sleep(0.1)
        tail = self.log_tail()
        self.stop()
        raise LocalKafkaError(
            f"Kafka broker did not start within {self.startup_timeout:.0f} s; log tail:\n{tail}")


    def _log_since(self, offset: int) -> str:
        if not self.log_file.exists():
            return ""
        with open(self.log_file, "rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")


def _cluster_id() -> str:
    """A random cluster id as Kafka makes them; like Kafka, never one that starts with "-", which
    the storage tool's argument parser would take for an option."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


class LocalKafkaCluster:
    """Several KRaft nodes on 127.0.0.1, each a broker and one voter of the controller quorum.

    With three nodes, any one can stop (``node(2).stop(keep_data=True)``, ``kill()``) while the other
    two keep a quorum and serve; ``start()`` on that node brings it back on the same ports with its
    data. Internal topics are replicated to every node (min ISR 2 of 3), so consumer groups and
    transactions survive one node down. Heaps are small (``heap`` per node): three nodes fit in
    about 1.5 GB.
    """

    def __init__(
        self,
        size: int = 3,
        *,
        version: str = KAFKA_VERSION,
        heap: str = "320m",
        broker_properties: Mapping[str, str] | None = None,
        startup_timeout: float = 180.0,
    ) -> None:
        self.data_dir = Path(tempfile.mkdtemp(prefix="ksre-kafka-cluster-"))
        self.version = version
        ports = {n: {"BROKER": free_port(), "CONTROLLER": free_port()} for n in range(1, size + 1)}
        replicas = str(min(size, 3))
        props = {
            "controller.quorum.voters": ",".join(f"{n}@127.0.0.1:{p['CONTROLLER']}" for n, p in ports.items()),
            "default.replication.factor": replicas,
            "offsets.topic.replication.factor": replicas,
            "transaction.state.log.replication.factor": replicas,
            "transaction.state.log.min.isr": str(min(size, 2)),
            "share.coordinator.state.topic.replication.factor": replicas,
            "share.coordinator.state.topic.min.isr": str(min(size, 2)),
            # the default 60 s for a broker to register with the quorum is too short on a busy machine
            "initial.broker.registration.timeout.ms": "300000",
            **(broker_properties or {}),
        }
        cluster_id = _cluster_id()
        self.nodes: list[LocalKafka] = []
        for node_id, node_ports in ports.items():
            node = LocalKafka(data_dir=self.data_dir / f"node-{node_id}", broker_properties=props, heap=heap,
                              startup_timeout=startup_timeout, version=version, node_id=node_id)
            node.ports, node.cluster_id = dict(node_ports), cluster_id
            self.nodes.append(node)

    @property
    def bootstrap_servers(self) -> str:
        """Every node's address, comma-separated: clients reach the cluster while any node is up."""
        return ",".join(node.bootstrap_servers for node in self.nodes)

    def node(self, node_id: int) -> LocalKafka:
        return self.nodes[node_id - 1]

    def start(self) -> LocalKafkaCluster:
        """Start every node at once (a node cannot finish starting before the quorum has a leader)."""
        try:
            offsets = [node._launch() for node in self.nodes]
            for node, offset in zip(self.nodes, offsets, strict=True):
                node._wait_started(offset)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> LocalKafkaCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
