"""One connection to a cluster: aiokafka settings from a ClusterConfig, bounded time, typed errors.

aiokafka's admin client covers only part of what we need; where it stops, requests are sent with
its lower-level client (``AIOKafkaClient.send(node_id, request)``). That is not a stable public
API, which is why pyproject.toml pins aiokafka to the exact version this was written against.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import Awaitable
from typing import Any, TypeVar

from aiokafka import errors as kerr
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.conn import create_conn
from aiokafka.helpers import create_ssl_context
from aiokafka.protocol.metadata import MetadataRequest

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.errors import (
    AuthenticationFailed,
    AuthorizationFailed,
    ClusterUnreachable,
    KafkaRequestFailed,
    KsreError,
    NotFound,
)
from kafka_sre_tui.engine.kafka.error_words import describe_kafka_error
from kafka_sre_tui.engine.kafka.large_answers import Metadata, metadata_dict
from kafka_sre_tui.engine.kafka.oauth import token_provider

T = TypeVar("T")
UNKNOWN_TOPIC_OR_PARTITION = 3  # Kafka's error code


def client_settings(cluster: ClusterConfig) -> dict[str, Any]:
    """Keyword arguments for any aiokafka client (admin, consumer, producer) for this cluster."""
    settings: dict[str, Any] = {
        "bootstrap_servers": list(cluster.bootstrap_servers),
        "security_protocol": cluster.security_protocol,
        "request_timeout_ms": int(cluster.request_timeout_seconds * 1000),
        "client_id": "kafka-sre-tui",
    }
    if cluster.uses_tls:
        context = create_ssl_context(
            cafile=str(cluster.ssl_ca_file) if cluster.ssl_ca_file else None,
            certfile=str(cluster.ssl_cert_file) if cluster.ssl_cert_file else None,
            keyfile=str(cluster.ssl_key_file) if cluster.ssl_key_file else None,
            password=cluster.ssl_key_password,
        )
        context.check_hostname = cluster.ssl_check_hostname
        settings["ssl_context"] = context
    if cluster.uses_oauth:
        settings.update(sasl_mechanism="OAUTHBEARER", sasl_oauth_token_provider=token_provider(cluster))
    elif cluster.uses_sasl:
        settings.update(sasl_mechanism=cluster.sasl_mechanism, sasl_plain_username=cluster.username,
                        sasl_plain_password=cluster.password)
    return settings


def cluster_words(cluster: ClusterConfig) -> str:
    """``cluster 'prod' (h1:9092,h2:9092)``, or ``cluster 'h1:9092'`` when the name is the address."""
    servers = ",".join(cluster.bootstrap_servers)
    return f"cluster '{cluster.name}'" + ("" if cluster.name == servers else f" ({servers})")


def topic_not_found(topic: str, cluster: ClusterConfig) -> NotFound:
    return NotFound(f"topic '{topic}' does not exist on {cluster_words(cluster)}; list them with: "
                    f"kafka-sre-tui topics --cluster {cluster.name}")


def group_not_found(group_id: str, cluster: ClusterConfig) -> NotFound:
    return NotFound(f"consumer group '{group_id}' does not exist on {cluster_words(cluster)}; list them with: "
                    f"kafka-sre-tui groups --cluster {cluster.name}")


def _unreadable_answer(exc: BaseException) -> bool:
    """aiokafka closes the connection when a response does not decode, and fails the request with a
    connection error whose cause is the decoding error: not a network problem."""
    cause = exc.__cause__
    return cause is not None and not isinstance(cause, OSError | EOFError | kerr.KafkaError | TimeoutError)


def translate_error(exc: BaseException, cluster: ClusterConfig, action: str) -> KsreError:
    """Turn an aiokafka error (or a timeout) into a one-line typed error in a user's words."""
    where = cluster_words(cluster)
    if isinstance(exc, KsreError):
        return exc
    if isinstance(exc, TimeoutError | kerr.KafkaTimeoutError):
        return ClusterUnreachable(
            f"{action} on {where}: no answer within {cluster.request_timeout_seconds:g} s; check the address "
            "and that the broker is up (request_timeout_seconds sets the limit)")
    if isinstance(exc, kerr.KafkaConnectionError) and _unreadable_answer(exc):
        return KafkaRequestFailed(
            f"{action} on {where}: the broker's answer could not be read ({_first_line(exc.__cause__ or exc)}); "
            "this broker version answers in a way this tool does not understand: run again with --debug and "
            "report it with the broker's version", retriable=False)
    if isinstance(exc, kerr.KafkaConnectionError):
        return ClusterUnreachable(f"{action} on {where}: cannot connect; check bootstrap_servers, "
                                  "security_protocol and that the broker is up")
    if isinstance(exc, ssl.SSLError):
        return AuthenticationFailed(f"{action} on {where}: TLS handshake failed ({_first_line(exc)}); "
                                    "check ssl_ca_file, ssl_cert_file, ssl_key_file and security_protocol")
    if isinstance(exc, kerr.SaslAuthenticationFailed | kerr.AuthenticationFailedError
                  | kerr.AuthenticationMethodNotSupported):
        return AuthenticationFailed(f"{action} on {where}: authentication failed ({_first_line(exc)}); "
                                    + ("check the OAuth token source and sasl_mechanism" if cluster.uses_oauth
                                       else "check username, password and sasl_mechanism"))
    if isinstance(exc, kerr.TopicAuthorizationFailedError | kerr.GroupAuthorizationFailedError
                  | kerr.ClusterAuthorizationFailedError | kerr.TransactionalIdAuthorizationFailed):
        return AuthorizationFailed(f"{action} on {where}: {not_authorized(exc, cluster, action)}")
    if isinstance(exc, kerr.UnknownTopicOrPartitionError):
        return NotFound(f"{action} on {where}: the topic or partition does not exist; list them with: "
                        f"kafka-sre-tui topics --cluster {cluster.name}")
    if isinstance(exc, kerr.GroupIdNotFound):
        return NotFound(f"{action} on {where}: the consumer group does not exist; list them with: "
                        f"kafka-sre-tui groups --cluster {cluster.name}")
    if isinstance(exc, kerr.KafkaError):
        return KafkaRequestFailed(f"{action} on {where}: {describe_kafka_error(exc)}", retriable=exc.retriable)
    raise exc


_RESOURCES = {kerr.TopicAuthorizationFailedError: "topic", kerr.GroupAuthorizationFailedError: "group",
              kerr.ClusterAuthorizationFailedError: "cluster",
              kerr.TransactionalIdAuthorizationFailed: "transactional-id"}
_OPERATIONS = (("writ", "Write"), ("produc", "Write"), ("creat", "Create"), ("delet", "Delete"),
               ("alter", "Alter"), ("commit", "Read"), ("read", "Read"), ("fetch", "Read"), ("consum", "Read"))


def not_authorized(exc: BaseException, cluster: ClusterConfig, action: str) -> str:
    """Kafka names neither the resource nor the operation it refused; both follow from what was being
    done (``action`` names the topic or group) and which authorization error came back."""
    kind = _RESOURCES.get(type(exc), "resource")
    named = re.search(rf"{kind} '([^']+)'", action) or (re.search(r"writing to ([^/\s]+)/", action)
                                                        if kind == "topic" else None)
    resource = f"{kind} '{named.group(1)}'" if named else ("the cluster" if kind == "cluster" else f"the {kind}")
    verb = action.split(" ", 1)[0].lower()
    if kind == "group":  # OffsetCommit and joining need Read; finding, describing and fetching offsets, Describe
        operation = "Read" if verb.startswith(("commit", "consum")) else "Describe"
    else:
        operation = next((op for stem, op in _OPERATIONS if verb.startswith(stem)), "Describe")
    principal = f"User:{cluster.username}" if cluster.uses_sasl and cluster.username else "this client's principal"
    return (f"not authorized: {principal} may not {operation} {resource} ({type(exc).__name__}); ask for an ACL "
            f"allowing {operation} on {resource}, or use another principal")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


class KafkaSession:
    """An admin connection to one cluster. ``async with KafkaSession(cluster) as s: ...``

    Every call is bounded by ``cluster.request_timeout_seconds`` and raises typed errors.
    """

    def __init__(self, cluster: ClusterConfig) -> None:
        self.cluster = cluster
        self.admin = AIOKafkaAdminClient(**client_settings(cluster))
        self._client = self.admin._client  # the lower-level client, see module docstring
        self._all_metadata: asyncio.Future[dict[str, Any]] | None = None  # in flight, see metadata_object

    async def __aenter__(self) -> KafkaSession:
        try:
            await self.guard(self.admin.start(), "connecting")
        except ClusterUnreachable:
            await self.admin.close()
            await self._diagnose_bootstrap()
            raise
        if self.cluster.uses_oauth and not self._client.cluster.brokers():
            # aiokafka takes the broker's OAUTHBEARER refusal for success; what follows has no brokers
            await self.admin.close()
            token_provider(self.cluster).forget()
            raise AuthenticationFailed(
                f"connecting to cluster '{self.cluster.name}' ({','.join(self.cluster.bootstrap_servers)}): the "
                "broker refused the OAuth token (expired, or a claim it checks, such as sub or scope, is wrong); "
                "check the token source")
        return self

    async def _diagnose_bootstrap(self) -> None:
        """aiokafka's bootstrap reports every failure as "Unable to bootstrap"; one direct
        connection to the first server tells a refused TLS handshake or SASL login apart."""
        if not (self.cluster.uses_sasl or self.cluster.uses_tls):
            return
        host, _, port = self.cluster.bootstrap_servers[0].rpartition(":")
        settings = client_settings(self.cluster)
        del settings["bootstrap_servers"]
        try:
            async with asyncio.timeout(self.cluster.request_timeout_seconds):
                conn = await create_conn(host.strip("[]"), int(port), **settings)
        except (OSError, kerr.KafkaError) as exc:
            if isinstance(exc, ssl.SSLError | kerr.KafkaError):
                raise translate_error(exc, self.cluster, "connecting") from exc
            return  # a plain network error: the generic message already says it
        conn.close()

    async def __aexit__(self, *exc: object) -> None:
        await self.admin.close()

    async def guard(self, call: Awaitable[T], action: str) -> T:
        """Await ``call`` within the cluster's time limit, translating errors."""
        try:
            async with asyncio.timeout(self.cluster.request_timeout_seconds):
                return await call
        except Exception as exc:
            raise translate_error(exc, self.cluster, action) from exc

    async def send(self, node_id: int, request: Any, action: str) -> Any:
        return await self.guard(self._client.send(node_id, request), action)

    async def metadata(self, topics: list[str] | None = None) -> Any:
        """A Metadata response (all topics when ``topics`` is None); never auto-creates a topic."""
        node = self._client.get_random_node()
        request = MetadataRequest(topics, allow_auto_topic_creation=False)
        response = await self.send(node, request, "reading cluster metadata")
        self._client.cluster.update_metadata(response)
        return response

    async def metadata_object(self, topics: list[str] | None = None) -> dict[str, Any]:
        """Metadata as plain dicts (all topics when ``topics`` is None), decoded by hand in a worker
        thread: aiokafka's decoder takes over a second on a cluster of 40,000 partitions, on the event
        loop. Unlike :meth:`metadata`, it leaves aiokafka's own metadata cache as it was."""
        if topics is not None:
            return await self._metadata_dicts(topics)
        # listings asked for together (topics and groups) share one answer of every topic: treat it as read-only
        if self._all_metadata is None or self._all_metadata.done():
            self._all_metadata = asyncio.ensure_future(self._metadata_dicts(None))
        return await asyncio.shield(self._all_metadata)

    async def _metadata_dicts(self, topics: list[str] | None) -> dict[str, Any]:
        node = self._client.get_random_node()
        response = await self.send(node, Metadata(topics), "reading cluster metadata")
        if len(response.body) < 1 << 16:
            return metadata_dict(response.body)
        return await asyncio.to_thread(metadata_dict, response.body)

    def broker_ids(self) -> list[int]:
        return sorted(b.nodeId for b in self._client.cluster.brokers())

    def raise_for_code(self, code: int, action: str) -> None:
        if code:
            kind = kerr.for_code(code)
            if kind is kerr.UnknownError:  # a code newer than aiokafka 0.14
                raise KafkaRequestFailed(f"{action} on {cluster_words(self.cluster)}: Kafka answered with error "
                                         f"code {code} (see the error codes of Kafka's protocol guide)")
            raise translate_error(kind(), self.cluster, action)
