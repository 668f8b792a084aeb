"""Restore a backup set (its chain up to the selected link) into the active cluster: ``restore
--backup-id SET``'s options, then the dry run's preflight for every topic before anything is written."""

from __future__ import annotations

from textual.app import ComposeResult

from kafka_sre_tui.cli.args import parse_time
from kafka_sre_tui.engine.restore.set_events import SetPreflight
from kafka_sre_tui.engine.restore.set_request import SetRestoreRequest, parse_topic_map, validate_set_request
from kafka_sre_tui.engine.storage.store import Location
from kafka_sre_tui.tui.screens.form_fields import Field, JobForm
from kafka_sre_tui.tui.screens.restore_form import MARKS, PreflightModal, offsets_to_restore


class SetRestoreForm(JobForm[SetRestoreRequest | None]):
    NOTIFIES = True
    PREFIX = "s"
    SUBMIT = ("check", "Check (dry run)")
    FIELDS = {
        "topics": Field("Only the topics matching", "--topics"),
        "topic_prefix": Field("Target topics named PREFIX + topic", "--topic-prefix"),
        "topic_map": Field("Or a topic map", "--topic-map"),
        "to_time": Field("Up to this time, inclusive (every topic)", "--to-time"),
        "offsets": Field("Restore consumer offsets", "--restore-consumer-offsets"),
        "groups": Field("└ only these groups (G1 G2)", "GROUP ..."),
        "dry_run": Field("Dry run only: check, write nothing", "--dry-run"),
        "rate_limit": Field("Rate limit (MB/s)", "--rate-limit"),
        "replication_factor": Field("Replication factor", "--replication-factor"),
        "force": Field("Into non-empty topics; offsets may go back", "--force"),
        "resume": Field("Resume an interrupted restore of this set", "--resume"),
    }

    def __init__(self, base: Location, set_id: str, cluster: str) -> None:
        super().__init__()
        self.base, self.set_id, self.cluster = base, set_id, cluster

    def heading(self) -> str:
        return f"Restore backup set {self.set_id}\n(its chain up to this link) into cluster {self.cluster}"

    def body(self) -> ComposeResult:
        yield from self.text("topics", placeholder="e.g. orders-* (empty: every topic)")
        yield from self.text("topic_prefix", placeholder="e.g. dr- (empty: the same names)")
        yield from self.text("topic_map", placeholder="SOURCE:TARGET,... e.g. orders:orders-dr")
        yield from self.text("to_time", placeholder="ISO-8601; no zone: UTC (empty: the end)")
        yield from self.check("offsets", True)
        yield from self.text("groups", placeholder="empty: every backed-up group")
        yield from self.check("dry_run")
        yield self.advanced(
            self.text("rate_limit", placeholder="empty: no limit"),
            self.text("replication_factor", placeholder="empty: as backed up"),
            self.check("force"), self.check("resume"))

    def build(self) -> SetRestoreRequest:
        offsets = offsets_to_restore(self)
        request = SetRestoreRequest(
            backup_base=self.base, set_id=self.set_id, topics=self.parse("topics", _patterns) or (),
            topic_map=self.parse("topic_map", parse_topic_map), topic_prefix=self.raw("topic_prefix") or None,
            to_time_ms=self.parse("to_time", parse_time), dry_run=self.checked("dry_run"),
            restore_consumer_offsets=offsets,
            resume=self.checked("resume"), replication_factor=self.whole("replication_factor"),
            rate_limit_mb_s=self.number("rate_limit"), force=self.checked("force"))
        validate_set_request(request)
        return request


def _patterns(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.split(","))


class SetPreflightScreen(PreflightModal):
    """The set's dry run: per topic its target, records and checks. Writing into topics that exist
    needs the cluster's name typed."""

    AUTO_FOCUS = "#confirm-cluster, #cancel"
    CONFIRM_ID = "confirm-cluster"

    def __init__(self, preflight: SetPreflight, check_only: bool = False) -> None:
        p = preflight
        existing = [t.target for t in p.topics if not t.preflight.create]
        lines = [f"{MARKS.get(c.level, c.level)} set: {c.name}: {c.message}" for c in p.checks]
        for t in p.topics:
            lines.append(f"[b]{t.source} → {t.target}[/] ({'created' if t.preflight.create else 'existing'}): "
                         f"{t.preflight.records:,} records from {len(t.links)} link(s)"
                         + (f"; {t.restarted}" if t.restarted else ""))
            lines += [f"  {MARKS.get(c.level, c.level)} {c.name}: {c.message}" for c in t.preflight.checks]
        super().__init__(f"Preflight: {p.records:,} records ({p.bytes / 1e6:,.1f} MB) of {len(p.topics)} topics "
                         f"from {len(p.links)} link(s) into {p.cluster}", lines, p.ok, check_only,
                         p.cluster if existing else None,
                         f"{len(existing)} target topic(s) exist: type the cluster's name ({p.cluster}) to "
                         "write into them")
        self.preflight, self.existing = preflight, existing
