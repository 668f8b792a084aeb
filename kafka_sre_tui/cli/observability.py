"""The command line's observability options and the wrapper every job command runs inside.

Global: ``--log-file``, ``--log-level``, ``--log-format``. On backup, restore, migrate, drain and
``lag --watch``: ``--metrics-port``/``--metrics-addr``. :func:`run` opens an ObservedJob around
those commands: it logs start/end/errors with the job id and feeds the metrics from the job's
progress events (``observe.tap``).
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kafka_sre_tui.config import AppConfig
from kafka_sre_tui.engine.errors import ConfigError, KsreError
from kafka_sre_tui.observe.limits import DEFAULT_ADDR
from kafka_sre_tui.observe.logs import FORMATS, LEVELS, default_log_file, setup_logging

JOB_COMMANDS = ("backup", "restore", "migrate", "drain", "lag")
_SECRET_OPTIONS = ("password", "secret", "token", "key")


def add_log_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log-file", metavar="PATH", default=argparse.SUPPRESS,
                        help="log file (default for jobs: $XDG_STATE_HOME/kafka-sre-tui/kafka-sre-tui.log)")
    parser.add_argument("--log-level", choices=LEVELS, type=str.upper, default=argparse.SUPPRESS,
                        help="least severe level logged (default INFO)")
    parser.add_argument("--log-format", choices=FORMATS, default=argparse.SUPPRESS,
                        help="text lines or one JSON object per line (default text)")


def add_metrics_options(choices: dict[str, argparse.ArgumentParser]) -> None:
    for name in JOB_COMMANDS:
        parser = choices[name]
        parser.add_argument("--metrics-port", type=int, metavar="N",
                            help="serve Prometheus metrics on this port while the job runs")
        parser.add_argument("--metrics-addr", default=DEFAULT_ADDR, metavar="ADDR",
                            help="address to serve metrics on (default 127.0.0.1)")
        parser.add_argument("--metrics-linger", type=float, default=0.0, metavar="S",
                            help="keep serving the final values this long after the job ends (default 0)")
        if name != "lag":
            parser.add_argument("--notify", action="store_true",
                                help="tell the [notify] webhooks how the job ended")


def add_dashboard_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--metrics-port", type=int, metavar="N",
                        help="serve the groups' lag metrics on this port while the dashboard runs")
    parser.add_argument("--metrics-addr", default=DEFAULT_ADDR, metavar="ADDR",
                        help="address to serve metrics on (default 127.0.0.1)")


@contextlib.contextmanager
def serving(args: argparse.Namespace, *collectors: Any) -> Iterator[None]:
    """Serve ``collectors`` on ``--metrics-port`` (if given) while the block runs."""
    port = getattr(args, "metrics_port", None)
    if port is None:
        yield
        return
    from kafka_sre_tui.observe.server import serve_metrics

    server = serve_metrics(port, args.metrics_addr, collectors)
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


def job_kind(command: str, args: argparse.Namespace) -> str | None:
    if command == "lag":
        return "watch" if getattr(args, "watch", False) else None
    return command if command in JOB_COMMANDS else None


def start_logging(args: argparse.Namespace, config: AppConfig, command: str) -> Path | None:
    """Jobs and the exporter always log (to the default file unless told otherwise); other commands only
    with --log-file."""
    chosen = getattr(args, "log_file", None)
    if chosen is None and job_kind(command, args) is None and command != "exporter":
        return None
    path = Path(chosen) if chosen else default_log_file()
    try:
        return setup_logging(path, getattr(args, "log_level", "INFO"), getattr(args, "log_format", "text"),
                             secrets=config_secrets(config))
    except OSError as exc:
        if chosen:
            raise ConfigError(f"cannot write the log file {path} ({exc.strerror}); check --log-file") from None
        return None  # no writable state dir: the job still runs, unlogged


def config_secrets(config: AppConfig) -> list[str]:
    """Every password the configured clusters resolve to and the webhook URLs, so the log can redact them."""
    found = []
    for entry in config.clusters.values():
        with contextlib.suppress(KsreError, OSError):
            cluster = entry.build()
            found += [s for s in (cluster.password, cluster.ssl_key_password) if s]
    return found + list(config.notify.webhooks) + list(config.notify.slack_webhooks)  # URLs often hold tokens


def run(command: str, args: argparse.Namespace, config: AppConfig,
        handler: Callable[[argparse.Namespace, AppConfig], int]) -> int:
    kind = job_kind(command, args)
    if kind is None:
        return handler(args, config)
    from kafka_sre_tui.observe.job import ObservedJob
    from kafka_sre_tui.observe.tap import listening

    job = ObservedJob(kind, options=_options(args))
    notifier = _notifier(args, config)
    if notifier is not None:
        job.on_end.append(notifier.job_ended)
    with _metrics(args, config, job) as feed, _delivered(notifier):
        job.start()
        with listening(job.event), listening(feed):
            try:
                code = handler(args, config)
            except KsreError as exc:
                job.fail(exc, exc.exit_code)
                raise
            except KeyboardInterrupt as exc:
                job.fail(exc, 130)
                raise
            except Exception as exc:
                job.fail(exc, 1)
                raise
        job.end(code)
        return code


def _notifier(args: argparse.Namespace, config: AppConfig) -> Any:
    if not getattr(args, "notify", False):
        return None
    if not (config.notify.webhooks or config.notify.slack_webhooks):
        raise ConfigError("--notify: no webhook configured; add webhooks or slack_webhooks under [notify]")
    from kafka_sre_tui.observe.notify import Notifier

    return Notifier(config.notify, _cluster_name(args, config))


@contextlib.contextmanager
def _delivered(notifier: Any) -> Iterator[None]:
    """Wait for the notifications in flight when the job is over, ended well or not."""
    try:
        yield
    finally:
        if notifier is not None:
            notifier.wait()


@contextlib.contextmanager
def _metrics(args: argparse.Namespace, config: AppConfig, job: Any) -> Iterator[Callable[[object], None]]:
    port = getattr(args, "metrics_port", None)
    if port is None:
        yield lambda _event: None
        return
    from kafka_sre_tui.engine.drain.assessment import Assessment
    from kafka_sre_tui.observe.job_metrics import JobCollector
    from kafka_sre_tui.observe.lag_metrics import LagCollector
    from kafka_sre_tui.observe.server import serve_metrics

    lag = LagCollector()
    cluster = _cluster_name(args, config)

    def feed(event: object) -> None:
        if isinstance(event, Assessment):
            lag.update(cluster, event)

    server = serve_metrics(port, args.metrics_addr, [JobCollector(job.state), lag])
    try:
        yield feed
    finally:
        try:
            time.sleep(max(args.metrics_linger, 0.0))  # a scrape can still see how it ended, failed or not
        finally:
            server.shutdown()
            server.server_close()


def _cluster_name(args: argparse.Namespace, config: AppConfig) -> str:
    from kafka_sre_tui.cli.args import cluster_from_args

    if getattr(args, "source_cluster", None):
        return f"{args.source_cluster} -> {getattr(args, 'target_cluster', None) or args.source_cluster}"

    try:
        return cluster_from_args(args, config).name
    except KsreError:
        return getattr(args, "cluster", None) or "-"


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """The command's options for the start line: plain values, nothing that looks like a secret."""
    return {k: v if isinstance(v, str | int | float | bool) else str(v) for k, v in sorted(vars(args).items())
            if v is not None and v is not False and not any(s in k for s in _SECRET_OPTIONS)}
