"""How the CLI prints engine results: rich tables for people, JSON (snake_case) for scripts."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kafka_sre_tui.cli import data_loss_output
from kafka_sre_tui.engine.errors import KsreError
from kafka_sre_tui.engine.models import (
    ClusterOverview,
    GroupInfo,
    PartitionInfo,
    PartitionLag,
    TopicInfo,
    TopicPartition,
)

if TYPE_CHECKING:
    from rich.console import Console

    from kafka_sre_tui.engine.drain.data_loss import DataLoss

NO_COMMIT = "no commit"


def _console() -> Console:
    from rich.console import Console  # imported when a table is printed: JSON and --help do without it

    # Piped output keeps whole rows instead of wrapping them at 80 columns.
    return Console(width=None if sys.stdout.isatty() else 250, highlight=False)


def emit_json(value: Any) -> None:
    """Indented JSON, as UTF-8 bytes whatever the terminal's locale (JSON's own encoding: a group id in
    Cyrillic prints under LANG=en_US.ISO-8859-1 too). The standard library indents in pure Python (1.3 s
    for a listing of 40,000 partitions); orjson does it in 0.08 s and writes the same text."""
    import orjson

    data = orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS | orjson.OPT_APPEND_NEWLINE)
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a text-only stream (redirected in-process)
        sys.stdout.write(data.decode())
        return
    sys.stdout.flush()  # what was printed before stays before
    buffer.write(data)
    buffer.flush()


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    from rich.table import Table

    table = Table(box=None, header_style="bold")
    for col in columns:
        numeric = col.lower() in _NUMERIC_COLUMNS
        table.add_column(col, justify="right" if numeric else "left", no_wrap=True)
    for row in rows:
        table.add_row(*("-" if v is None else str(v) for v in row))
    console = _console()
    console.print(f"[b]{title}[/b]")
    console.print(table)


_NUMERIC_COLUMNS = {"partitions", "rf", "messages", "size", "urp", "offline", "members", "total lag", "lag",
                    "earliest", "latest", "committed", "partition", "leader", "brokers", "controller", "id",
                    "port", "no commit", "start offset", "epoch", "assigned", "target"}


_BYTE_UNITS = ("KiB", "MiB", "GiB", "TiB", "PiB")


def human_bytes(size: int | None) -> str | None:
    """``1536`` -> ``"1.5 KiB"``; None (unknown) stays None, which tables print as "-"."""
    if size is None:
        return None
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in _BYTE_UNITS:
        value /= 1024
        if value < 1024 or unit == _BYTE_UNITS[-1]:
            break
    return f"{value:,.1f} {unit}"


# -- clusters ---------------------------------------------------------------------------------

ClusterRow = tuple[str, str, bool, ClusterOverview | KsreError]  # name, bootstrap, read_only, result


def clusters(results: Sequence[ClusterRow], as_json: bool) -> None:
    if as_json:
        emit_json([_cluster_json(*row) for row in results])
        return
    rows = []
    for name, bootstrap, read_only, r in results:
        mode = "read-only" if read_only else ""
        if isinstance(r, KsreError):
            rows.append((name, bootstrap, "UNREACHABLE" if r.retriable else "ERROR", None, None, None, mode))
        else:
            rows.append((name, bootstrap, "ok", r.cluster_id, r.controller_id, len(r.brokers), mode))
    table("Clusters", ["Name", "Bootstrap", "Status", "Cluster id", "Controller", "Brokers", "Mode"], rows)
    for name, _bootstrap, _ro, r in results:
        if isinstance(r, KsreError):
            print(f"{name}: {r}", file=sys.stderr)
    if len(results) == 1 and isinstance(results[0][3], ClusterOverview):
        table("Brokers", ["Id", "Host", "Port", "Rack"],
               [(b.node_id, b.host, b.port, b.rack) for b in results[0][3].brokers])


def _cluster_json(name: str, bootstrap: str, read_only: bool, r: ClusterOverview | KsreError) -> dict[str, Any]:
    base: dict[str, Any] = {"name": name, "bootstrap_servers": bootstrap, "read_only": read_only}
    if isinstance(r, KsreError):
        return {**base, "reachable": False, "error": str(r)}
    return {**base, "reachable": True, "cluster_id": r.cluster_id, "controller_id": r.controller_id,
            "brokers": [{"node_id": b.node_id, "host": b.host, "port": b.port, "rack": b.rack}
                        for b in r.brokers]}


# -- topics -----------------------------------------------------------------------------------

def topics(items: Sequence[TopicInfo], as_json: bool, size_problems: Sequence[str] = ()) -> None:
    if as_json:
        emit_json([topic_json(t) for t in items])
    else:
        table(f"Topics ({len(items)})", ["Topic", "Partitions", "RF", "Messages", "Size", "URP", "Offline"],
               [(t.name, len(t.partitions), t.replication_factor, t.messages, human_bytes(t.size_bytes),
                 t.under_replicated, t.offline) for t in items])
    _size_note(size_problems)


def topic_detail(topic: TopicInfo, as_json: bool, size_problems: Sequence[str] = ()) -> None:
    if as_json:
        emit_json(topic_json(topic))
        _size_note(size_problems)
        return
    size = human_bytes(topic.size_bytes) or "size unknown"
    if topic.replicas_size_bytes is not None and topic.replication_factor > 1:
        size += f" ({human_bytes(topic.replicas_size_bytes)} with all replicas)"
    table(f"Topic {topic.name}: {len(topic.partitions)} partitions, {topic.messages} messages, {size}",
           ["Partition", "Leader", "Replicas", "ISR", "Earliest", "Latest", "Messages", "Size", "Flags"],
           [(p.partition, p.leader, _ids(p.replicas), _ids(p.isr), p.earliest_offset, p.latest_offset,
             p.messages, human_bytes(p.size_bytes), _flags(p)) for p in topic.partitions])
    table("Configs (set on the topic)", ["Key", "Value"], sorted(topic.configs.items()) or [("(none)", "")])
    _size_note(size_problems)


def _size_note(problems: Sequence[str]) -> None:
    """Why sizes show as "-": on stderr, so --json stays parseable."""
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        print(f"note: some sizes are unknown: {problems[0]}{more}", file=sys.stderr)


def topic_json(t: TopicInfo) -> dict[str, Any]:
    return {"name": t.name, "internal": t.internal, "partition_count": len(t.partitions),
            "replication_factor": t.replication_factor, "messages": t.messages,
            "size_bytes": t.size_bytes, "replicas_size_bytes": t.replicas_size_bytes,
            "under_replicated_partitions": t.under_replicated, "offline_partitions": t.offline,
            "configs": t.configs, "partitions": [_partition_json(p) for p in t.partitions]}


def _partition_json(p: PartitionInfo) -> dict[str, Any]:
    return {"partition": p.partition, "leader": p.leader, "replicas": list(p.replicas), "isr": list(p.isr),
            "offline_replicas": list(p.offline_replicas), "under_replicated": p.under_replicated,
            "offline": p.offline, "earliest_offset": p.earliest_offset, "latest_offset": p.latest_offset,
            "messages": p.messages, "size_bytes": p.size_bytes, "replicas_size_bytes": p.replicas_size_bytes}


def _ids(ids: Sequence[int]) -> str:
    return ",".join(map(str, ids))


def _flags(p: PartitionInfo) -> str:
    return " ".join(f for f, on in (("OFFLINE", p.offline), ("URP", p.under_replicated)) if on)


# -- groups -----------------------------------------------------------------------------------

def groups(items: Sequence[GroupInfo], as_json: bool,
           losses: Mapping[str, Mapping[TopicPartition, DataLoss]] | None = None) -> None:
    """Groups losing data (LOST) first, then those about to (AT RISK), then the rest as listed."""
    losses = losses or {}
    marker = {g.group_id: data_loss_output.group_marker(losses.get(g.group_id, {})) for g in items}
    items = sorted(items, key=lambda g: data_loss_output.marker_rank(marker[g.group_id]))
    if as_json:
        emit_json([{**group_json(g, with_partitions=False), **data_loss_output.group_fields(losses.get(g.group_id, {}))}
                   for g in items])
        return
    table(f"Groups ({len(items)})",
           ["Group", "Data loss", "Type", "State", "Members", "Topics", "Total lag", "No commit"],
           [(g.group_id, marker[g.group_id], g.group_type, g.state, len(g.members), ",".join(g.topics), g.total_lag,
             g.partitions_without_commit) for g in items])


def group_lag(group: GroupInfo, as_json: bool, losses: Mapping[TopicPartition, DataLoss] | None = None) -> None:
    losses = losses or {}
    if as_json:
        value = group_json(group, with_partitions=True)
        value.update(data_loss_output.group_fields(losses))
        for p in value["partitions"]:
            p.update(data_loss_output.partition_fields(losses.get(TopicPartition(p["topic"], p["partition"]))))
        emit_json(value)
        return
    share = group.group_type == "share"
    table(f"Group {group.group_id}: {group.summary}, total lag {group.total_lag}",
           ["Topic", "Partition", "Latest", "Start offset" if share else "Committed", "Lag",
            "Members" if share else "Member", "Pending", "Data loss"],
           [(p.topic, p.partition, p.latest_offset, _committed(p), _lag(p), _owner(group, p),
             "yes" if p.pending else "", data_loss_output.short(losses.get(TopicPartition(p.topic, p.partition))))
            for p in group.partitions])
    if group.members:
        table("Members", ["Member", "Instance", "Client", "Epoch", "Assigned", "Target"],
              [(m.member_id, m.instance_id, _client(group, m.member_id), m.member_epoch, len(m.assignment),
                None if m.target_assignment is None else len(m.target_assignment)) for m in group.members])
    warning = data_loss_output.headline(losses)
    if warning:
        print(warning)


def group_json(g: GroupInfo, with_partitions: bool) -> dict[str, Any]:
    value: dict[str, Any] = {
        "group_id": g.group_id, "type": g.group_type, "state": g.state, "protocol_type": g.protocol_type,
        "protocol": g.protocol, "coordinator_id": g.coordinator_id, "group_epoch": g.group_epoch,
        "assignment_epoch": g.assignment_epoch, "member_count": len(g.members), "topics": list(g.topics),
        "total_lag": g.total_lag, "partitions_without_commit": g.partitions_without_commit,
        "pending_partitions": g.pending_partitions,
    }
    if with_partitions:
        value["members"] = [{"member_id": m.member_id, "instance_id": m.instance_id, "client_id": m.client_id,
                             "host": m.host, "member_epoch": m.member_epoch,
                             "assignment": _tps_json(m.assignment),
                             "target_assignment": None if m.target_assignment is None else _tps_json(
                                 m.target_assignment)}
                            for m in g.members]
        value["partitions"] = [{"topic": p.topic, "partition": p.partition, "latest_offset": p.latest_offset,
                                "committed_offset": p.committed, "lag": p.lag, "broker_lag": p.reported_lag,
                                "member_id": p.member_id, "member_ids": _readers(g, p), "pending": p.pending}
                               for p in g.partitions]
    return value


def _tps_json(tps: Sequence[TopicPartition]) -> list[dict[str, Any]]:
    return [{"topic": tp.topic, "partition": tp.partition} for tp in tps]


def _readers(group: GroupInfo, p: PartitionLag) -> list[str]:
    tp = TopicPartition(p.topic, p.partition)
    return sorted(m.member_id for m in group.members if tp in m.assignment)


def _owner(group: GroupInfo, p: PartitionLag) -> str | int | None:
    if group.group_type == "share":
        return len(_readers(group, p)) or None
    return _client(group, p.member_id)


def _committed(p: PartitionLag) -> str | int:
    return NO_COMMIT if p.committed is None else p.committed


def _lag(p: PartitionLag) -> str | int | None:
    return NO_COMMIT if p.committed is None else p.lag


def _client(group: GroupInfo, member_id: str | None) -> str | None:
    for m in group.members:
        if m.member_id == member_id:
            return f"{m.client_id}@{m.host.lstrip('/')}"
    return None


class StatusLine:
    """One line of progress on stderr: rewritten in place on a terminal; elsewhere (a log, cron) a
    new line at most every ``every`` seconds, plus the final one."""

    def __init__(self, every: float = 5.0) -> None:
        self.tty = sys.stderr.isatty()
        self.every = every
        self._last = -every
        self._open = False

    def show(self, line: str, final: bool = False) -> None:
        now = time.monotonic()
        if not self.tty and not final and now - self._last < self.every:
            return
        self._last = now
        if self.tty:
            print("\r" + line + "\033[K", end="", file=sys.stderr, flush=True)
            self._open = True
        else:
            print(line, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._open:
            print(file=sys.stderr)
            self._open = False
