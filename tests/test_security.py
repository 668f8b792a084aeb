"""SASL/SCRAM and ACLs on a real broker: the config's security keys reach Kafka, and auth
failures become typed one-line errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kafka_sre_tui.cli.main import main
from kafka_sre_tui.config import load_config
from kafka_sre_tui.engine.errors import AuthenticationFailed, AuthorizationFailed
from kafka_sre_tui.engine.inspect.cluster import list_topics
from kafka_sre_tui.engine.inspect.groups import describe_group
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.localkafka import Listener, LocalKafka, ScramUser
from tests.kafka_helpers import create_topic


@pytest.fixture(scope="module")
def secure_kafka() -> Iterator[LocalKafka]:
    """SCRAM listener, ACLs enforced; ``admin`` is a super user, ``alice`` has no ACL at all."""
    kafka = LocalKafka(
        listeners=[Listener("SASL", "SASL_PLAINTEXT")],
        scram_users=[ScramUser("admin", "admin-secret", "SCRAM-SHA-512"), ScramUser("alice", "alice-secret")],
        broker_properties={
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "super.users": "User:ANONYMOUS;User:admin",  # ANONYMOUS: the PLAINTEXT inter-broker listener
            "allow.everyone.if.no.acl.found": "false",
        })
    kafka.start()
    yield kafka
    kafka.stop()


def _config(tmp_path: Path, kafka: LocalKafka) -> Path:
    (tmp_path / "alice.pass").write_text("alice-secret\n")
    path = tmp_path / "config.toml"
    path.write_text(f"""
[clusters.secure-admin]
bootstrap_servers = "{kafka.bootstrap_for('SASL')}"
security_protocol = "SASL_PLAINTEXT"
sasl_mechanism = "SCRAM-SHA-512"
username = "admin"
password_env = "KSRE_TEST_ADMIN_PASSWORD"

[clusters.secure-alice]
bootstrap_servers = "{kafka.bootstrap_for('SASL')}"
security_protocol = "SASL_PLAINTEXT"
sasl_mechanism = "SCRAM-SHA-256"
username = "alice"
password_file = "alice.pass"

[clusters.wrong-password]
bootstrap_servers = "{kafka.bootstrap_for('SASL')}"
security_protocol = "SASL_PLAINTEXT"
sasl_mechanism = "SCRAM-SHA-256"
username = "alice"
password_env = "KSRE_TEST_WRONG_PASSWORD"
""")
    return path


async def test_scram_with_password_from_env_sees_topics(secure_kafka: LocalKafka, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    await create_topic(secure_kafka.bootstrap_servers, "secured", 2)
    monkeypatch.setenv("KSRE_TEST_ADMIN_PASSWORD", "admin-secret")
    config = load_config(str(_config(tmp_path, secure_kafka)))
    async with KafkaSession(config.cluster("secure-admin")) as s:
        names = {t.name for t in await list_topics(s)}
    assert "secured" in names


async def test_wrong_password_is_an_authentication_error(secure_kafka: LocalKafka, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KSRE_TEST_WRONG_PASSWORD", "not-it")
    config = load_config(str(_config(tmp_path, secure_kafka)))
    with pytest.raises(AuthenticationFailed, match="authentication failed"):
        async with KafkaSession(config.cluster("wrong-password")) as s:
            await list_topics(s)


async def test_group_without_acl_is_an_authorization_error(secure_kafka: LocalKafka, tmp_path: Path) -> None:
    config = load_config(str(_config(tmp_path, secure_kafka)))
    async with KafkaSession(config.cluster("secure-alice")) as s:
        assert await list_topics(s) == []  # no Describe ACL on any topic: Kafka hides them
        with pytest.raises(AuthorizationFailed, match="not authorized"):
            await describe_group(s, "payments-ledger")


def test_cli_authorization_failure_exit_1(secure_kafka: LocalKafka, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = _config(tmp_path, secure_kafka)
    assert main(["--config", str(path), "lag", "some-group", "--cluster", "secure-alice"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not authorized" in err and "secure-alice" in err
