"""Configuration: every documented key, both file formats, the lookup order, and one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kafka_sre_tui.cli.main import main
from kafka_sre_tui.config import ClusterConfig, load_config
from kafka_sre_tui.engine.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]

FULL = """
default_cluster = "prod"

[clusters.prod]
bootstrap_servers = "kafka-1.prod:9093,kafka-2.prod:9093"
security_protocol = "sasl_ssl"
sasl_mechanism = "SCRAM-SHA-512"
username = "sre"
password_env = "KSRE_PROD_PASSWORD"
ssl_ca_file = "ca.pem"
ssl_cert_file = "client.pem"
ssl_key_file = "client.key"
ssl_check_hostname = false
read_only = true
request_timeout_seconds = 7.5
color = "red"

[clusters.staging]
bootstrap_servers = ["kafka.staging:9092"]
password_file = "staging.pass"
security_protocol = "SASL_PLAINTEXT"
username = "sre"

[backup]
base_path = "backups"
compression = "lz4"
max_concurrent_backups = 3
retention_days = 14
max_backup_size_gb = 250

[ui]
refresh_seconds = 2
theme = "ksre-day"
"""


def _write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_every_documented_key_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ca.pem", "client.pem", "client.key"):
        (tmp_path / name).write_text("x")
    (tmp_path / "staging.pass").write_text("from-a-file\n")
    monkeypatch.setenv("KSRE_PROD_PASSWORD", "from-env")
    config = load_config(str(_write(tmp_path, FULL)))

    prod = config.cluster(None)  # default_cluster
    assert prod.name == "prod"
    assert prod.bootstrap_servers == ("kafka-1.prod:9093", "kafka-2.prod:9093")
    assert (prod.security_protocol, prod.sasl_mechanism, prod.username) == ("SASL_SSL", "SCRAM-SHA-512", "sre")
    assert prod.password == "from-env"
    assert prod.ssl_ca_file == tmp_path / "ca.pem"  # relative paths are relative to the config file
    assert (prod.ssl_cert_file, prod.ssl_key_file) == (tmp_path / "client.pem", tmp_path / "client.key")
    assert prod.ssl_check_hostname is False and prod.read_only is True
    assert prod.request_timeout_seconds == 7.5 and prod.color == "red"
    assert "from-env" not in repr(prod)  # secrets stay out of logs and tracebacks

    staging = config.cluster("staging")
    assert staging.bootstrap_servers == ("kafka.staging:9092",) and staging.password == "from-a-file"

    assert config.backup.base_path == tmp_path / "backups"
    assert (config.backup.compression, config.backup.max_concurrent_backups) == ("lz4", 3)
    assert (config.backup.retention_days, config.backup.max_backup_size_gb) == (14, 250)
    assert (config.ui.refresh_seconds, config.ui.theme) == (2, "ksre-day")


def test_yaml_with_the_same_structure(tmp_path: Path) -> None:
    path = _write(tmp_path, "clusters:\n  local:\n    bootstrap_servers: 127.0.0.1:9092\n    read_only: true\n"
                            "backup:\n  compression: zstd\n", "config.yaml")
    config = load_config(str(path))
    assert config.cluster(None) == ClusterConfig(name="local", bootstrap_servers=("127.0.0.1:9092",),
                                                 read_only=True, source=str(path))
    assert config.backup.compression == "zstd"


def test_client_properties_file_is_understood(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("x")
    (tmp_path / "client.properties").write_text(
        "# what SREs already have for kafka-console-consumer\n"
        "bootstrap.servers=b1.corp:9094,\\\n    b2.corp:9094\n"
        "security.protocol = SASL_SSL\n"
        "sasl.mechanism: SCRAM-SHA-256\n"
        'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required '
        'username="svc-sre" password="s3cr=t";\n'
        "ssl.truststore.type=PEM\nssl.truststore.location=ca.pem\n"
        "ssl.endpoint.identification.algorithm=\n"
        "acks=all\n")
    path = _write(tmp_path, '[clusters.corp]\nclient_properties = "client.properties"\nread_only = true\n')
    corp = load_config(str(path)).cluster("corp")
    assert corp.bootstrap_servers == ("b1.corp:9094", "b2.corp:9094")
    assert (corp.security_protocol, corp.sasl_mechanism) == ("SASL_SSL", "SCRAM-SHA-256")
    assert (corp.username, corp.password) == ("svc-sre", "s3cr=t")
    assert corp.ssl_ca_file == tmp_path / "ca.pem" and corp.ssl_check_hostname is False
    assert corp.read_only is True


def test_bare_bootstrap_address_needs_no_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KAFKA_SRE_TUI_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    cluster = load_config().cluster("10.0.0.1:9092,[::1]:9093")
    assert cluster.bootstrap_servers == ("10.0.0.1:9092", "[::1]:9093") and cluster.security_protocol == "PLAINTEXT"


def test_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def cfg(folder: Path, name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        return _write(folder, f'[clusters.{name}]\nbootstrap_servers = "h:1"\n')

    xdg = tmp_path / "xdg"
    cfg(xdg / "kafka-sre-tui", "from_xdg")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    monkeypatch.delenv("KAFKA_SRE_TUI_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    assert list(load_config().clusters) == ["from_xdg"]
    cfg(tmp_path, "from_cwd")
    assert list(load_config().clusters) == ["from_cwd"]
    monkeypatch.setenv("KAFKA_SRE_TUI_CONFIG", str(cfg(tmp_path / "env", "from_env")))
    assert list(load_config().clusters) == ["from_env"]
    assert list(load_config(str(cfg(tmp_path / "flag", "from_flag"))).clusters) == ["from_flag"]


def test_shipped_example_config_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(str(REPO / "config.toml"))
    assert "local" in config.clusters and config.backup.compression in ("zstd", "lz4", "gzip", "snappy", "none")


BAD = [
    ('[clusters.a]\nbootstrap_servers = "h:1"\npasword_env = "X"\n', "clusters.a.pasword_env: unknown key"),
    ('[clusters.a]\nbootstrap_servers = "h:1"\nread_only = "yes"\n', "clusters.a.read_only: expected true or false"),
    ('[clusters.a]\nbootstrap_servers = "h:1"\nsecurity_protocol = "TLS"\n',
     "clusters.a.security_protocol: expected one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL"),
    ('[clusters.a]\nbootstrap_servers = "localhost"\n', "clusters.a.bootstrap_servers: expected host:port"),
    ('[clusters.a]\nread_only = true\n', "clusters.a: bootstrap_servers is missing"),
    ('[clusters.a]\nbootstrap_servers = "h:1"\npassword = "hunter2"\n', "inline passwords are not read"),
    ('[backup]\ncompression = "brotli"\n', "backup.compression: expected one of none, gzip"),
    ('[backup]\nmax_concurrent_backups = 0\n', "backup.max_concurrent_backups: expected a whole number >= 1"),
    ('[ui]\nrefresh_seconds = 0.2\n', "ui.refresh_seconds: expected a number >= 1"),
    ('default_cluster = "nope"\n', "default_cluster: 'nope' is not under [clusters]"),
    ('[clusters.a\n', "not valid TOML"),
]


@pytest.mark.parametrize(("text", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_config_is_one_line_exit_2(tmp_path: Path, text: str, message: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, text)
    assert main(["--config", str(path), "topics", "--cluster", "h:1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"error: {path}: ") and message in err


def test_secret_problems_name_the_key_when_the_cluster_is_used(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, '[clusters.p]\nbootstrap_servers = "h:1"\nsecurity_protocol = "SASL_SSL"\n'
                            'username = "u"\npassword_env = "KSRE_SURELY_UNSET"\n'
                            '[clusters.q]\nbootstrap_servers = "h:1"\nsecurity_protocol = "SASL_PLAINTEXT"\n'
                            'username = "u"\npassword_file = "nope.pass"\n'
                            '[clusters.r]\nbootstrap_servers = "h:1"\nsecurity_protocol = "SSL"\n'
                            'ssl_ca_file = "x.pem"\n'
                            '[clusters.s]\nclient_properties = "missing.properties"\n')
    expected = {"p": "clusters.p.password_env: environment variable KSRE_SURELY_UNSET is not set",
                "q": "clusters.q.password_file: cannot read", "r": "clusters.r.ssl_ca_file: cannot read",
                "s": "clusters.s.client_properties: cannot read"}
    for name, message in expected.items():
        assert main(["--config", str(path), "groups", "--cluster", name]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and str(path) in err and message in err, err


def test_missing_config_file_and_unknown_cluster(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["topics", "--config", str(tmp_path / "absent.toml")]) == 2
    assert "cannot read config file" in capsys.readouterr().err
    path = _write(tmp_path, '[clusters.a]\nbootstrap_servers = "h:1"\n')
    assert main(["topics", "--config", str(path), "--cluster", "b"]) == 2
    assert "unknown cluster 'b'" in capsys.readouterr().err


def test_real_entry_point_prints_no_traceback(tmp_path: Path) -> None:
    path = _write(tmp_path, "[clusters.a]\nbootstrap_servers = 42\n")
    result = subprocess.run([sys.executable, "-m", "kafka_sre_tui", "topics", "--config", str(path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {path}: clusters.a.bootstrap_servers: expected \"host:port,host:port\" or a list, got int 42"]


def test_config_error_type_carries_exit_code_2() -> None:
    assert ConfigError("x").exit_code == 2
