"""SASL/OAUTHBEARER tokens for aiokafka: from a command (``oauth_token_command``), a file
(``oauth_token_file``), or AWS MSK IAM (``aws_msk_iam_region``, through AWS's own signer package,
the optional extra ``msk``).

aiokafka asks its token provider for a token on every new connection. A token is kept until
``REFRESH_MARGIN`` before it expires (the ``exp`` claim of a JWT, or the expiry the MSK signer
returns) and fetched again after that, so a long backup never presents an expired token when it
reconnects. A token whose expiry cannot be read (an opaque token) is fetched for every connection.
Tokens are secrets: no message here ever contains one.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import shlex
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from aiokafka.abc import AbstractTokenProvider

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.errors import AuthenticationFailed, ConfigError

REFRESH_MARGIN = 60.0  # seconds before expiry when a token is replaced
COMMAND_TIMEOUT = 30.0

Fetch = Callable[[], tuple[str, float | None]]  # -> (token, expiry as a UNIX time, or None when unknown)


class RefreshingTokenProvider(AbstractTokenProvider):
    """A cached token, fetched again ``margin`` seconds before it expires. A freshly fetched token
    that has already expired is refused here with a clear error (aiokafka would send it, and
    misreads the broker's refusal as success)."""

    def __init__(self, fetch: Fetch, where: str, clock: Callable[[], float] = time.time,
                 margin: float = REFRESH_MARGIN) -> None:
        self._fetch, self._where, self._clock, self._margin = fetch, where, clock, margin
        self._token: str | None = None
        self._expires: float | None = None
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        async with self._lock:
            if self._token is None or self._expires is None or self._clock() >= self._expires - self._margin:
                fresh, self._expires = await asyncio.to_thread(self._fetch)
                if self._expires is not None and self._expires <= self._clock():
                    stamp = datetime.fromtimestamp(self._expires, UTC).isoformat(timespec="seconds")
                    raise AuthenticationFailed(f"{self._where}: the OAuth token expired at {stamp}; make its source "
                                               "hand out a current one")
                self._token = fresh
                return fresh
            return self._token


    def forget(self) -> None:
        """The broker refused the token: fetch a new one next time, whatever its expiry said."""
        self._token = None


def jwt_expiry(token: str) -> float | None:
    """The ``exp`` claim of a JWT (signed or unsecured), or None for anything else."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


def from_command(command: str, where: str) -> Fetch:
    def fetch() -> tuple[str, float | None]:
        try:
            done = subprocess.run(shlex.split(command), capture_output=True, text=True, timeout=COMMAND_TIMEOUT,
                                  check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise AuthenticationFailed(f"{where}: cannot run oauth_token_command ({type(exc).__name__}); "
                                       "check the command") from None
        if done.returncode != 0:
            raise AuthenticationFailed(f"{where}: oauth_token_command exited with {done.returncode}; run it by hand "
                                       "to see why")
        return _checked(done.stdout, where, "oauth_token_command printed no token")
    return fetch


def from_file(path: Path, where: str) -> Fetch:
    def fetch() -> tuple[str, float | None]:
        try:
            text = path.read_text()
        except OSError as exc:
            raise AuthenticationFailed(f"{where}: cannot read oauth_token_file {path} ({exc.strerror})") from None
        return _checked(text, where, f"oauth_token_file {path} is empty")
    return fetch


def from_msk_iam(region: str, where: str) -> Fetch:
    try:
        from aws_msk_iam_sasl_signer import MSKAuthTokenProvider
    except ImportError:
        raise ConfigError(f"{where}: aws_msk_iam_region needs AWS's signer: pip install "
                          "'kafka-sre-tui[msk]' (aws-msk-iam-sasl-signer-python)") from None

    def fetch() -> tuple[str, float | None]:
        try:
            token, expiry_ms = MSKAuthTokenProvider.generate_auth_token(region)
        except Exception as exc:  # botocore raises many kinds; none of them carries the secret key
            raise AuthenticationFailed(f"{where}: cannot sign an MSK IAM token ({type(exc).__name__}); check the "
                                       "AWS credentials (AWS_PROFILE, environment, instance role)") from None
        return token, expiry_ms / 1000
    return fetch


def _checked(text: str, where: str, empty: str) -> tuple[str, float | None]:
    token = text.strip()
    if not token:
        raise AuthenticationFailed(f"{where}: {empty}")
    return token, jwt_expiry(token)


@cache
def token_provider(cluster: ClusterConfig) -> RefreshingTokenProvider:
    """One provider per cluster and process, so every client of a cluster shares its cached token."""
    where = f"cluster '{cluster.name}' ({cluster.source})"
    if cluster.oauth_token_command:
        return RefreshingTokenProvider(from_command(cluster.oauth_token_command, where), where)
    if cluster.oauth_token_file:
        return RefreshingTokenProvider(from_file(cluster.oauth_token_file, where), where)
    if cluster.aws_msk_iam_region:
        return RefreshingTokenProvider(from_msk_iam(cluster.aws_msk_iam_region, where), where)
    raise ConfigError(f"{where}: OAUTHBEARER needs oauth_token_command, oauth_token_file or aws_msk_iam_region")
