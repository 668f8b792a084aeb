"""Command line: parse, load config, call one engine function, print a table or JSON.

Exit codes: 0 ok, 1 the operation failed (Kafka said no, cluster unreachable), 2 bad usage or
config. Errors are one line on stderr; ``--debug`` shows the traceback as well.

Start-up time is part of the interface: this module and the command modules import only argparse,
the config and the errors at load time; each command imports the engine (aiokafka, asyncio, rich)
it needs when it runs, so ``--help`` and a ``topics`` listing pay only for what they use
(tests/test_startup.py checks it).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from kafka_sre_tui.cli import backup as backup_cli
from kafka_sre_tui.cli import drain as drain_cli
from kafka_sre_tui.cli import exporter as exporter_cli
from kafka_sre_tui.cli import health as health_cli
from kafka_sre_tui.cli import migrate as migrate_cli
from kafka_sre_tui.cli import observability
from kafka_sre_tui.cli import offsets as offsets_cli
from kafka_sre_tui.cli import records as records_cli
from kafka_sre_tui.cli import replay as replay_cli
from kafka_sre_tui.cli import restore as restore_cli
from kafka_sre_tui.cli.args import cluster_from_args, seconds_arg
from kafka_sre_tui.config import AppConfig, load_config
from kafka_sre_tui.engine.errors import KsreError

if TYPE_CHECKING:
    from kafka_sre_tui.cli.output import ClusterRow
    from kafka_sre_tui.engine.drain.data_loss import DataLoss
    from kafka_sre_tui.engine.kafka.session import KafkaSession
    from kafka_sre_tui.engine.models import GroupInfo, TopicPartition

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    # Options shared by every command are accepted before or after the subcommand; on the
    # subcommands they default to SUPPRESS so they do not overwrite a value given before.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS,
                        help="config file (default: $KAFKA_SRE_TUI_CONFIG, ./config.toml, XDG config dir)")
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show tracebacks on errors")
    observability.add_log_options(common)
    cluster = argparse.ArgumentParser(add_help=False)
    cluster.add_argument("--cluster", "-c", metavar="NAME|HOST:PORT", default=argparse.SUPPRESS,
                         help="configured cluster name or bootstrap address (default: default_cluster)")
    cluster.add_argument("--timeout", type=seconds_arg, metavar="SECONDS", default=argparse.SUPPRESS,
                         help="give up on an unanswering cluster after this long (default: its config, 10 s)")
    json_flag = argparse.ArgumentParser(add_help=False)
    json_flag.add_argument("--json", action="store_true", help="print JSON for scripts (snake_case keys)")

    parents = {"common": common, "cluster": cluster, "json": json_flag}
    parser = argparse.ArgumentParser(
        prog="kafka-sre-tui", parents=[common, cluster],
        description="Kafka dashboard and SRE toolkit. With no command, opens the dashboard.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("demo", parents=[common], help="start a local Apache Kafka with demo traffic and open the "
                   "dashboard on it (stops the broker on exit)")
    dashboard = sub.add_parser("dashboard", parents=[common, cluster], help="open the dashboard (the default command)")
    observability.add_dashboard_options(dashboard)
    sub.add_parser("clusters", parents=[common, cluster, json_flag],
                   help="configured clusters: reachability, cluster id, controller, brokers")
    topics = sub.add_parser("topics", parents=[common, cluster, json_flag],
                            help="topics with partitions, replication, offsets, message counts and size")
    topics.add_argument("topic", nargs="?", help="show one topic in detail: partitions and configs")
    topics.add_argument("--all", action="store_true", help="include internal topics (__consumer_offsets, ...)")
    sub.add_parser("groups", parents=[common, cluster, json_flag],
                   help="consumer groups with data loss ahead (sorted first), state, members and total lag")
    lag = sub.add_parser("lag", parents=[common, cluster, json_flag],
                         help="per-partition lag of one consumer group")
    lag.add_argument("group", help="consumer group id")
    backup_cli.add_commands(sub, parents)
    drain_cli.add_commands(sub, parents)
    restore_cli.add_commands(sub, parents)
    migrate_cli.add_commands(sub, parents)
    records_cli.add_commands(sub, parents)
    offsets_cli.add_commands(sub, parents)
    replay_cli.add_commands(sub, parents)
    health_cli.add_commands(sub, parents)
    exporter_cli.add_commands(sub, parents)
    observability.add_metrics_options(sub.choices)
    return parser


INTERACTIVE = ("dashboard", "demo")  # the collector's pauses would be frames: they keep Python's pace


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    debug = getattr(args, "debug", False)
    # aiokafka logs every failed connection attempt; our errors already say what failed, once.
    logging.getLogger("aiokafka").setLevel(logging.DEBUG if debug else logging.CRITICAL)
    try:
        config = load_config(getattr(args, "config", None))
        from kafka_sre_tui.engine.audit import use_audit_path  # after parsing: --help does without it
        from kafka_sre_tui.engine.gc_pace import fewer_collections

        use_audit_path(config.audit.path)
        command = args.command or "dashboard"
        if command not in INTERACTIVE:
            fewer_collections()
        observability.start_logging(args, config, command)
        return observability.run(command, args, config, _COMMANDS[command])
    except KsreError as exc:
        if debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: still one line; --debug shows where
        if debug:
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc} (a bug in kafka-sre-tui; rerun with --debug "
              "for the traceback and report it)", file=sys.stderr)
        return EXIT_FAILED


def _with_session(args: argparse.Namespace, config: AppConfig,
                  work: Callable[[KafkaSession], Awaitable[Any]]) -> Any:
    import asyncio

    from kafka_sre_tui.engine.kafka.session import KafkaSession

    cluster = cluster_from_args(args, config)

    result: list[Any] = []

    async def run() -> None:
        async with KafkaSession(cluster) as session:
            result.append(await work(session))

    # The result stays out of the main task: when asyncio.run puts its SIGINT handler back, Python 3.11's
    # signal module formats repr() of the old handler, hence of the task and its result, whole
    # (0.7 s for a listing of 40,000 partitions).
    asyncio.run(run())
    return result[0]


def cmd_clusters(args: argparse.Namespace, config: AppConfig) -> int:
    names = [args.cluster] if getattr(args, "cluster", None) else list(config.clusters)
    if not names:
        print("error: no clusters configured: add [clusters.NAME] to config.toml or pass --cluster HOST:PORT",
              file=sys.stderr)
        return EXIT_USAGE

    import asyncio

    from kafka_sre_tui.cli import output
    from kafka_sre_tui.engine.inspect.cluster import describe_cluster
    from kafka_sre_tui.engine.kafka.session import KafkaSession

    async def probe(name: str) -> ClusterRow:
        entry = config.clusters.get(name)
        bootstrap, read_only = (entry.bootstrap_text, entry.read_only) if entry else (name, False)
        try:
            cluster = cluster_from_args(argparse.Namespace(**{**vars(args), "cluster": name}), config)
            async with KafkaSession(cluster) as session:
                return name, bootstrap, read_only, await describe_cluster(session)
        except KsreError as exc:
            return name, bootstrap, read_only, exc

    async def run() -> list[ClusterRow]:
        return list(await asyncio.gather(*(probe(n) for n in names)))

    results = asyncio.run(run())
    output.clusters(results, as_json=args.json)
    return EXIT_FAILED if any(isinstance(r[3], KsreError) for r in results) else EXIT_OK


def cmd_topics(args: argparse.Namespace, config: AppConfig) -> int:
    from kafka_sre_tui.cli import output
    from kafka_sre_tui.engine.inspect.cluster import inspect_topics

    names = [args.topic] if args.topic else None
    listing = _with_session(args, config, lambda s: inspect_topics(
        s, names=names, include_internal=args.all or bool(names), with_configs=bool(names), with_sizes=True))
    if args.topic:
        output.topic_detail(listing.topics[0], as_json=args.json, size_problems=listing.size_problems)
    else:
        output.topics(listing.topics, as_json=args.json, size_problems=listing.size_problems)
    return EXIT_OK


def cmd_groups(args: argparse.Namespace, config: AppConfig) -> int:
    from kafka_sre_tui.cli import output
    from kafka_sre_tui.engine.drain.groups_data_loss import groups_and_data_loss

    groups, losses = _with_session(args, config, groups_and_data_loss)
    output.groups(groups, as_json=args.json, losses=losses)
    return EXIT_OK


def cmd_lag(args: argparse.Namespace, config: AppConfig) -> int:
    if args.watch:
        return drain_cli.cmd_lag_watch(args, config)
    from kafka_sre_tui.cli import output
    from kafka_sre_tui.engine.drain.data_loss_probe import group_data_loss
    from kafka_sre_tui.engine.inspect.groups import describe_group

    async def work(session: KafkaSession) -> tuple[GroupInfo, dict[TopicPartition, DataLoss]]:
        return await describe_group(session, args.group), await group_data_loss(session, args.group)

    group, losses = _with_session(args, config, work)
    output.group_lag(group, as_json=args.json, losses=losses)
    return EXIT_OK


def cmd_dashboard(args: argparse.Namespace, config: AppConfig) -> int:
    from kafka_sre_tui.tui.app import KsreApp
    from kafka_sre_tui.tui.metrics import DashboardLag, dashboard_jobs

    app = KsreApp(cluster_from_args(args, config), config.ui, config=config)
    with observability.serving(args, DashboardLag(app), dashboard_jobs(app)):
        app.run()
    return EXIT_OK


def cmd_demo(args: argparse.Namespace, config: AppConfig) -> int:
    from kafka_sre_tui.demo import run_demo

    return run_demo(config)


_COMMANDS: dict[str, Callable[[argparse.Namespace, AppConfig], int]] = {
    "clusters": cmd_clusters,
    "topics": cmd_topics,
    "groups": cmd_groups,
    "lag": cmd_lag,
    "dashboard": cmd_dashboard,
    "demo": cmd_demo,
    "backup": backup_cli.cmd_backup,
    "restore": restore_cli.cmd_restore,
    "migrate": migrate_cli.cmd_migrate,
    "verify": backup_cli.cmd_verify,
    "drain": drain_cli.cmd_drain,
    "backups": backup_cli.cmd_backups,
    "records": records_cli.cmd_records,
    "offsets": offsets_cli.cmd_offsets,
    "replay": replay_cli.cmd_replay,
    "health": health_cli.cmd_health,
    "exporter": exporter_cli.cmd_exporter,
}
