"""Real object-store servers for tests: s3proxy (S3 API, Java, from Maven Central) on 127.0.0.1 with its
filesystem provider, so what it stores can be looked at on disk, and Azurite (Azure Blob, from npm).
Fetched once into the same cache as Kafka's jars (~/.cache/kafka-sre-tui)."""

from __future__ import annotations

import base64
import email.utils
import fcntl
import hashlib
import hmac
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from kafka_sre_tui.localkafka import _die_with_parent, cache_dir, free_port

S3PROXY_VERSION = "4.1.0"
ACCESS_KEY, SECRET_KEY = "ksre-test-access", "ksre-test-secret-0123456789"
REGION = "us-east-1"


def s3proxy_jar(version: str = S3PROXY_VERSION) -> Path:
    """s3proxy's all-in-one jar, fetched with Maven on first use."""
    root = cache_dir() / f"s3proxy-{version}"
    jar = root / f"s3proxy-{version}-jar-with-dependencies.jar"
    if jar.exists():
        return jar
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test process may be fetching it
        if jar.exists():
            return jar
        staging = root / "partial"
        shutil.rmtree(staging, ignore_errors=True)
        cmd = ["mvn", "-q", "-B", "dependency:copy",
               f"-Dartifact=org.gaul:s3proxy:{version}:jar:jar-with-dependencies", f"-DoutputDirectory={staging}"]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=root)
        if result.returncode != 0:
            raise RuntimeError(f"fetching s3proxy {version} with Maven failed: {result.stdout[-500:]}{result.stderr}")
        (staging / jar.name).rename(jar)
        shutil.rmtree(staging, ignore_errors=True)
    return jar


class S3Proxy:
    """One s3proxy process; buckets are directories under ``data``."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.data = workdir / "data"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def options(self) -> dict[str, object]:
        """``[backup.object_store]`` for this server."""
        return {"endpoint": self.endpoint, "region": REGION, "allow_http": True, "virtual_hosted_style": False,
                "retry_seconds": 2}

    def start(self) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "s3proxy.conf"
        conf.write_text(f"s3proxy.endpoint={self.endpoint}\ns3proxy.authorization=aws-v2-or-v4\n"
                        f"s3proxy.identity={ACCESS_KEY}\ns3proxy.credential={SECRET_KEY}\n"
                        f"jclouds.provider=filesystem\njclouds.filesystem.basedir={self.data}\n")
        log = open(self.workdir / "s3proxy.log", "ab")  # noqa: SIM115 - the child writes to it
        self.process = subprocess.Popen(["java", "-Xmx512m", "-jar", str(s3proxy_jar()), "--properties", str(conf)],
                                        stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"s3proxy exited: {(self.workdir / 's3proxy.log').read_text()[-2000:]}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError("s3proxy did not listen within 60 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def create_bucket(self, name: str) -> None:
        (self.data / name).mkdir()

    def stored_files(self, bucket: str) -> list[str]:
        """Every file s3proxy keeps for ``bucket``, multipart-upload parts and stubs included."""
        root = self.data / bucket
        # os.walk, not rglob: s3proxy creates and removes multipart-upload folders while they are listed,
        # and a folder gone between listing and reading must not fail the caller
        return sorted(str((Path(folder) / name).relative_to(root)) for folder, _dirs, names in os.walk(root)
                      for name in names)


def s3_environment() -> dict[str, str]:
    return {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_REGION": REGION,
            "AWS_ALLOW_HTTP": "true"}


def clean_aws_environment() -> dict[str, str]:
    """The environment without any AWS setting of the machine running the tests."""
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}


AZURITE_VERSION = "3.35.0"  # later versions need a newer Node than Debian's
AZURITE_ACCOUNT = "devstoreaccount1"  # Azurite's well-known development account and key
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def azurite_blob(version: str = AZURITE_VERSION) -> Path:
    """Azurite's blob server, installed with npm on first use into the cache (outside the repository)."""
    root = cache_dir() / f"azurite-{version}"
    program = root / "node_modules" / ".bin" / "azurite-blob"
    if program.exists():
        return program
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not program.exists():
            cmd = ["npm", "install", "--prefix", str(root), f"azurite@{version}", "--no-audit", "--no-fund"]
            result = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                raise RuntimeError(f"installing azurite {version} with npm failed: {result.stderr[-1000:]}")
    return program


class Azurite:
    """One azurite-blob process on 127.0.0.1 (telemetry off: it would try the internet)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/{AZURITE_ACCOUNT}"

    def options(self) -> dict[str, object]:
        return {"endpoint": self.endpoint, "allow_http": True, "account_name": AZURITE_ACCOUNT, "retry_seconds": 2}

    def start(self) -> None:
        log = open(self.workdir / "azurite.log", "ab")  # noqa: SIM115 - the child writes to it
        self.process = subprocess.Popen(
            [str(azurite_blob()), "--disableTelemetry", "--blobHost", "127.0.0.1", "--blobPort", str(self.port),
             "--location", str(self.workdir / "data")], stdout=log, stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent)
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"azurite exited: {(self.workdir / 'azurite.log').read_text()[-2000:]}")
            if "successfully listens" in (self.workdir / "azurite.log").read_text():
                return
            time.sleep(0.1)
        raise RuntimeError("azurite did not listen within 60 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def create_container(self, name: str) -> None:
        """Create Container, signed with the account key (Shared Key authorization)."""
        headers = {"x-ms-date": email.utils.formatdate(usegmt=True), "x-ms-version": "2021-12-02"}
        signed = ("PUT\n" + "\n" * 11 + "".join(f"{k}:{v}\n" for k, v in sorted(headers.items()))
                  + f"/{AZURITE_ACCOUNT}/{AZURITE_ACCOUNT}/{name}\nrestype:container")
        signature = base64.b64encode(hmac.new(base64.b64decode(AZURITE_KEY), signed.encode(), hashlib.sha256).digest())
        request = urllib.request.Request(f"{self.endpoint}/{name}?restype=container", method="PUT", headers={
            **headers, "Authorization": f"SharedKey {AZURITE_ACCOUNT}:{signature.decode()}"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert answer.status == 201, answer.status


def azure_environment() -> dict[str, str]:
    return {"AZURE_STORAGE_ACCOUNT_NAME": AZURITE_ACCOUNT, "AZURE_STORAGE_ACCOUNT_KEY": AZURITE_KEY}
