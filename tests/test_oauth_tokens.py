"""OAUTHBEARER token providers without a broker: refresh before expiry on a controlled clock, the
command and file sources, the config's checks, and the AWS MSK IAM token AWS's signer produces (fake
credentials, no AWS)."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from kafka_sre_tui.config import load_config
from kafka_sre_tui.engine.errors import AuthenticationFailed, ConfigError
from kafka_sre_tui.engine.kafka.oauth import RefreshingTokenProvider, from_command, from_msk_iam, jwt_expiry
from kafka_sre_tui.engine.kafka.session import client_settings


def _jwt(exp: float) -> str:
    claims = base64.urlsafe_b64encode(json.dumps({"sub": "svc", "exp": exp}).encode()).rstrip(b"=").decode()
    return f"eyJhbGciOiJub25lIn0.{claims}."


async def test_a_token_is_reused_until_a_minute_before_it_expires_then_fetched_again() -> None:
    now = [1000.0]
    fetched = []

    def fetch() -> tuple[str, float | None]:
        token = _jwt(now[0] + 300)
        fetched.append(token)
        return token, jwt_expiry(token)

    provider = RefreshingTokenProvider(fetch, "cluster 'c'", clock=lambda: now[0])
    first = await provider.token()
    now[0] += 239  # 61 s left: still good
    assert await provider.token() == first and len(fetched) == 1
    now[0] += 1  # 60 s left: replaced
    second = await provider.token()
    assert second != first and len(fetched) == 2


async def test_an_opaque_token_is_fetched_for_every_connection_and_an_expired_one_refused() -> None:
    tokens = iter(["opaque-1", "opaque-2", _jwt(10.0)])
    provider = RefreshingTokenProvider(lambda: (t := next(tokens), jwt_expiry(t)), "cluster 'c'", clock=lambda: 50.0)
    assert [await provider.token(), await provider.token()] == ["opaque-1", "opaque-2"]
    with pytest.raises(AuthenticationFailed, match="cluster 'c': the OAuth token expired at 1970-01-01T00:00:10"):
        await provider.token()


def test_command_failures_say_what_failed_without_the_token(tmp_path: Path) -> None:
    ok = from_command(f"{sys.executable} -c \"print('tok-123')\"", "cluster 'c'")
    assert ok() == ("tok-123", None)
    failing = from_command(f"{sys.executable} -c \"print('tok-123'); raise SystemExit(3)\"", "cluster 'c'")
    with pytest.raises(AuthenticationFailed) as caught:
        failing()
    assert str(caught.value) == "cluster 'c': oauth_token_command exited with 3; run it by hand to see why"


def test_config_needs_exactly_one_token_source(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    base = 'bootstrap_servers = "h:9092"\nsecurity_protocol = "SASL_SSL"\nsasl_mechanism = "OAUTHBEARER"\n'
    path.write_text(f"[clusters.none]\n{base}\n[clusters.two]\n{base}oauth_token_command = \"x\"\n"
                    f"aws_msk_iam_region = \"eu-west-1\"\n[clusters.msk]\n{base}aws_msk_iam_region = \"eu-west-1\"\n")
    config = load_config(str(path))
    with pytest.raises(ConfigError, match="OAUTHBEARER needs exactly one of oauth_token_command, oauth_token_file"):
        config.cluster("none")
    with pytest.raises(ConfigError, match=r"\(got oauth_token_command, aws_msk_iam_region\)"):
        config.cluster("two")
    settings = client_settings(config.cluster("msk"))
    assert settings["sasl_mechanism"] == "OAUTHBEARER" and settings["sasl_oauth_token_provider"] is not None


def test_msk_iam_token_is_a_signed_connect_url_for_the_region(monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI-very-secret")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    token, expires = from_msk_iam("eu-west-1", "cluster 'msk'")()
    url = urlparse(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
    query = parse_qs(url.query)
    assert (url.scheme, url.netloc) == ("https", "kafka.eu-west-1.amazonaws.com")
    assert query["Action"] == ["kafka-cluster:Connect"] and query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Credential"][0].startswith("AKIDEXAMPLE/") and "/eu-west-1/kafka-cluster/" in \
        query["X-Amz-Credential"][0]
    assert query["X-Amz-Expires"] == ["900"] and len(query["X-Amz-Signature"][0]) == 64
    assert "very-secret" not in base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    assert expires is not None and expires > 0


def test_msk_iam_without_credentials_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(AuthenticationFailed, match=r"cluster 'msk': cannot sign an MSK IAM token .*check the AWS"):
        from_msk_iam("eu-west-1", "cluster 'msk'")()
