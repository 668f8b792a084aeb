"""Serve a registry of our own (never the client library's global one) over HTTP, in a daemon thread."""

from __future__ import annotations

from collections.abc import Iterable
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.registry import Collector

from kafka_sre_tui.engine.errors import ConfigError


def serve_metrics(port: int, addr: str, collectors: Iterable[Collector]) -> WSGIServer:
    """Start serving ``/metrics`` on ``addr:port``; ConfigError when the port cannot be bound."""
    registry = CollectorRegistry(auto_describe=True)
    for collector in collectors:
        registry.register(collector)
    try:
        server, _thread = start_http_server(port, addr=addr, registry=registry)
    except OSError as exc:
        raise ConfigError(f"cannot serve metrics on {addr}:{port} ({exc.strerror}); "
                          "choose another --metrics-port or --metrics-addr") from None
    return server
