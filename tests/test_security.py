"""SASL/SCRAM, TLS, SASL/OAUTHBEARER and ACLs on one real broker with four client listeners
(SCRAM in the clear, TLS, SCRAM-SHA-512 over TLS, OAUTHBEARER with Kafka's unsecured validator): the
config's security keys reach Kafka, data moves between a TLS and a plaintext cluster, and auth
failures become typed one-line errors."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import DataTable

from kafka_sre_tui.cli.main import main
from kafka_sre_tui.config import UiSettings, load_config
from kafka_sre_tui.engine.audit import ENV_VAR as AUDIT_ENV_VAR
from kafka_sre_tui.engine.errors import AuthenticationFailed, AuthorizationFailed
from kafka_sre_tui.engine.inspect.cluster import list_topics
from kafka_sre_tui.engine.inspect.groups import describe_group
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.localkafka import Listener, LocalKafka, ScramUser
from kafka_sre_tui.tui.app import KsreApp
from kafka_sre_tui.tui.widgets.live_table import LiveTable
from tests.java_clients import allow
from tests.kafka_helpers import consume_and_commit, create_topic, produce, read_all, wait_for
from tests.restore_helpers import content
from tests.tls_helpers import TlsFiles, broker_tls_properties, make_tls_files

SCRAM_SECRET = "Pw-7f1e9c-SCRAM-only-here"  # the secrets the full run must never show
WRONG_SECRET = "Wrong-pw-3b7d-never-shown"
OAUTH_PROPERTIES = {
    "listener.name.oauth.sasl.enabled.mechanisms": "OAUTHBEARER",
    "listener.name.oauth.oauthbearer.sasl.jaas.config":
        "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;",
    "listener.name.oauth.oauthbearer.sasl.server.callback.handler.class":
        "org.apache.kafka.common.security.oauthbearer.internals.unsecured.OAuthBearerUnsecuredValidatorCallbackHandler",
}


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def secure_kafka(tls_files: TlsFiles) -> Iterator[LocalKafka]:
    """ACLs enforced; ``admin`` is a super user, ``alice`` has no ACL at all. TLS clients (no client
    certificate) are ANONYMOUS, a super user like the PLAINTEXT inter-broker listener."""
    kafka = LocalKafka(
        listeners=[Listener("SASL", "SASL_PLAINTEXT"), Listener("TLS", "SSL"), Listener("SCRAMTLS", "SASL_SSL"),
                   Listener("OAUTH", "SASL_PLAINTEXT")],
        scram_users=[ScramUser("admin", "admin-secret", "SCRAM-SHA-512"), ScramUser("alice", "alice-secret"),
                     ScramUser("ops", SCRAM_SECRET, "SCRAM-SHA-512")],
        broker_properties={
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "super.users": "User:ANONYMOUS;User:admin;User:ops",
            "allow.everyone.if.no.acl.found": "false",
            **broker_tls_properties(tls_files), **OAUTH_PROPERTIES,
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
        with pytest.raises(AuthorizationFailed) as refused:
            await describe_group(s, "payments-ledger")
    assert "User:alice may not Describe group 'payments-ledger'" in str(refused.value)
    assert "ask for an ACL allowing Describe on group 'payments-ledger'" in str(refused.value)


async def test_groups_with_lag_are_listed_for_a_user_who_may_not_read_topic_configs(
        secure_kafka: LocalKafka, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The data-loss look reads retention settings (DescribeConfigs); a user allowed to Describe and Read
    the topic and the group, but not that, still gets the groups and their lag (retention unknown)."""
    topic, group = "alice-orders", "alice-billing"
    await create_topic(secure_kafka.bootstrap_servers, topic, 1)
    await produce(secure_kafka.bootstrap_servers, topic, {0: 10})
    await consume_and_commit(secure_kafka.bootstrap_servers, group, topic, {0: 3})
    await asyncio.to_thread(allow, secure_kafka, "User:alice", ("Describe", "Read"), topic, group)
    path = _config(tmp_path, secure_kafka)
    assert await asyncio.to_thread(main, ["--config", str(path), "groups", "--cluster", "secure-alice", "--json"]) == 0
    rows = {g["group_id"]: g for g in json.loads(capsys.readouterr().out)}
    assert rows[group]["total_lag"] == 7 and rows[group]["data_loss"] in (None, "UNKNOWN")


def test_cli_authorization_failure_exit_1(secure_kafka: LocalKafka, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = _config(tmp_path, secure_kafka)
    assert main(["--config", str(path), "lag", "some-group", "--cluster", "secure-alice"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not authorized" in err and "secure-alice" in err


def unsecured_jws(subject: str | None, lifetime_seconds: float) -> str:
    """An unsecured JWS (``alg: none``), what Kafka's unsecured OAUTHBEARER validator accepts."""
    def part(doc: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).rstrip(b"=").decode()
    now = time.time()
    claims = {"iat": now, "exp": now + lifetime_seconds} | ({"sub": subject} if subject else {})
    return f"{part({'alg': 'none'})}.{part(claims)}."


async def test_oauth_token_file_is_read_again_once_the_token_nears_expiry(secure_kafka: LocalKafka,
                                                                          tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(unsecured_jws("admin", 3))  # within the refresh margin at once
    config = tmp_path / "config.toml"
    config.write_text(f'[clusters.oauth]\nbootstrap_servers = "{secure_kafka.bootstrap_for("OAUTH")}"\n'
                      'security_protocol = "SASL_PLAINTEXT"\nsasl_mechanism = "OAUTHBEARER"\n'
                      f'oauth_token_file = "{token_file}"\n')
    cluster = load_config(str(config)).cluster("oauth")
    async with KafkaSession(cluster) as s:
        await list_topics(s)
    expired_at = time.time() + 3.5
    await wait_for(lambda: time.time() > expired_at, "the first token to expire")
    with pytest.raises(AuthenticationFailed, match=r"the OAuth token expired at .*; make its source hand out"):
        async with KafkaSession(cluster) as s:  # the file still holds the expired token: read again, refused
            await list_topics(s)
    token_file.write_text(unsecured_jws(None, 3600))
    with pytest.raises(AuthenticationFailed, match="the broker refused the OAuth token"):
        async with KafkaSession(cluster) as s:  # no subject: Kafka's validator refuses it
            await list_topics(s)
    token_file.write_text(unsecured_jws("admin", 3600))
    async with KafkaSession(cluster) as s:  # read again: the new token is used
        assert isinstance(await list_topics(s), list)


def test_full_run_between_tls_and_plaintext_clusters_never_shows_a_secret(
        secure_kafka: LocalKafka, kafka: LocalKafka, tls_files: TlsFiles, unique: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    """Back up over SCRAM-SHA-512 + TLS, restore into a plaintext cluster, migrate TLS -> plaintext and
    plaintext -> OAUTHBEARER, fail a login: then grep every output, log line and file for the secrets."""
    token = unsecured_jws("admin", 3600)
    secrets = [SCRAM_SECRET, WRONG_SECRET, token, token.split(".")[1]]
    home = tmp_path / "secret-sources"
    home.mkdir()
    (home / "token").write_text(token)
    monkeypatch.setenv("KSRE_TEST_OPS_PASSWORD", SCRAM_SECRET)
    monkeypatch.setenv("KSRE_TEST_WRONG", WRONG_SECRET)
    monkeypatch.setenv(AUDIT_ENV_VAR, str(tmp_path / "audit.log"))
    config = home / "config.toml"
    tls = f'ssl_ca_file = "{tls_files.ca}"\n'
    config.write_text(
        f'[clusters.plain]\nbootstrap_servers = "{kafka.bootstrap_servers}"\n\n'
        f'[clusters.tls]\nbootstrap_servers = "{secure_kafka.bootstrap_for("TLS")}"\nsecurity_protocol = "SSL"\n{tls}\n'
        f'[clusters.scram-tls]\nbootstrap_servers = "{secure_kafka.bootstrap_for("SCRAMTLS")}"\n'
        f'security_protocol = "SASL_SSL"\nsasl_mechanism = "SCRAM-SHA-512"\nusername = "ops"\n'
        f'password_env = "KSRE_TEST_OPS_PASSWORD"\n{tls}\n'
        f'[clusters.oauth]\nbootstrap_servers = "{secure_kafka.bootstrap_for("OAUTH")}"\n'
        f'security_protocol = "SASL_PLAINTEXT"\nsasl_mechanism = "OAUTHBEARER"\noauth_token_file = "token"\n\n'
        f'[clusters.wrong]\nbootstrap_servers = "{secure_kafka.bootstrap_for("SCRAMTLS")}"\n'
        f'security_protocol = "SASL_SSL"\nsasl_mechanism = "SCRAM-SHA-512"\nusername = "ops"\n'
        f'password_env = "KSRE_TEST_WRONG"\n{tls}\n')
    asyncio.run(create_topic(secure_kafka.bootstrap_servers, unique, 2))
    asyncio.run(produce(secure_kafka.bootstrap_servers, unique, {0: 40, 1: 25}))
    caplog.set_level(logging.DEBUG)
    shown: list[str] = []

    def run(*args: str, expect: int = 0) -> str:
        code = main(["--config", str(config), *args])
        out, err = capsys.readouterr()
        shown.append(out + err)
        assert code == expect, out + err
        return out

    base, states = str(tmp_path / "backups"), str(tmp_path / "states")
    backup_id = json.loads(run("--debug", "backup", "--cluster", "scram-tls", "--topic", unique, "--backup-dir", base,
                               "--json"))["backup_id"]
    run("verify", backup_id, "--backup-dir", base, "--json")
    run("restore", "--cluster", "plain", "--backup-id", backup_id, "--backup-dir", base, "--target-topic",
        f"{unique}-r", "--create-topic", "--json")
    run("migrate", "--source-cluster", "tls", "--source-topic", unique, "--target-cluster", "plain",
        "--target-topic", f"{unique}-m", "--create-topic", "--state-dir", states, "--json")
    run("migrate", "--source-cluster", "plain", "--source-topic", f"{unique}-m", "--target-cluster", "oauth",
        "--target-topic", f"{unique}-o", "--create-topic", "--state-dir", states)
    run("topics", "--cluster", "oauth", "--json")
    failed = run("clusters", "--json", expect=1)
    assert "authentication failed" in json.loads(failed)[-1]["error"]
    run("lag", "g", "--cluster", "wrong", expect=1)
    assert "error: connecting on cluster 'wrong'" in shown[-1] and "authentication failed" in shown[-1]

    def records(bootstrap: str, topic: str) -> dict[int, list[tuple[object, ...]]]:
        return {p: content(r) for p, r in asyncio.run(read_all(bootstrap, topic)).items()}

    source = records(secure_kafka.bootstrap_servers, unique)
    assert [len(source[0]), len(source[1])] == [40, 25]
    for bootstrap, topic in ((kafka.bootstrap_servers, f"{unique}-r"), (kafka.bootstrap_servers, f"{unique}-m"),
                             (secure_kafka.bootstrap_servers, f"{unique}-o")):
        assert records(bootstrap, topic) == source, topic

    written = [p for p in tmp_path.rglob("*") if p.is_file() and home not in p.parents]
    assert any(p.name == "manifest.json" for p in written) and (tmp_path / "audit.log") in written
    assert "SaslAuthenticateRequest" in caplog.text or "SCRAM" in caplog.text  # --debug logged the login
    for secret in secrets:
        assert not any(secret in text for text in shown), "a secret in the output"
        assert secret not in caplog.text, "a secret in the log"
        assert not [p for p in written if secret.encode() in p.read_bytes()], "a secret in a file"


async def test_dashboard_on_a_scram_tls_cluster_shows_no_secret(secure_kafka: LocalKafka, tls_files: TlsFiles,
                                                                 unique: str, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KSRE_TEST_OPS_PASSWORD", SCRAM_SECRET)
    monkeypatch.setenv("KSRE_TEST_WRONG", WRONG_SECRET)
    scram = (f'bootstrap_servers = "{secure_kafka.bootstrap_for("SCRAMTLS")}"\nsecurity_protocol = "SASL_SSL"\n'
             f'sasl_mechanism = "SCRAM-SHA-512"\nusername = "ops"\nssl_ca_file = "{tls_files.ca}"\n')
    path = tmp_path / "config.toml"
    path.write_text(f'[clusters.scram-tls]\n{scram}password_env = "KSRE_TEST_OPS_PASSWORD"\n\n'
                    f'[clusters.wrong]\n{scram}password_env = "KSRE_TEST_WRONG"\n')
    await create_topic(secure_kafka.bootstrap_servers, unique, 1)
    config = load_config(str(path))
    app = KsreApp(config.cluster("scram-tls"), UiSettings(refresh_seconds=1), config=config)
    async with app.run_test(size=(160, 40)) as pilot:
        topics = app.query_one("#topics-table", LiveTable)
        await wait_for(lambda: unique in topics.row_keys(), "the topic over SCRAM-SHA-512 + TLS")
        screens = [app.export_screenshot()]
        await pilot.press("c")
        table = app.query_one("#clusters-table", DataTable)
        await wait_for(lambda: "wrong" in {k.value for k in table.rows}
                       and str(table.get_row("wrong")[2]) == "unreachable", "the wrong password's failure")
        screens.append(app.export_screenshot())
    shown = "\n".join(screens) + "\n".join(str(n.message) for n in app._notifications)
    assert SCRAM_SECRET not in shown and WRONG_SECRET not in shown
    assert repr(config.cluster("scram-tls")).count(SCRAM_SECRET) == 0
