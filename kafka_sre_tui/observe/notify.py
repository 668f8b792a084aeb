"""Webhook notifications when a job run with ``--notify`` ends: a generic JSON POST and a
Slack-compatible ``{"text": ...}`` to each URL under ``[notify]``.

Events: ``backup.completed|failed``, ``restore.completed|failed``, ``migration.completed|failed``,
``drain.drained|stalled|timed_out|failed``, and the alerts sent while a job runs (observe/alerts.py):
``migration.lag_above|lag_recovered``, ``group.at_risk|lost``. Delivery runs in a thread of its own with a timeout
per attempt and retries with exponential backoff (0.5 s, 1 s, 2 s, ...), so the job never waits
on a webhook; before the process exits it waits for deliveries still in flight, at most the
retries' worst case. A delivery that fails for good is logged (the URL is not: it may hold a token).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from kafka_sre_tui.config import NotifySettings
from kafka_sre_tui.observe.job import INTERRUPTED, JobState

BACKOFF_SECONDS = 0.5
_NAMES = {"backup": "backup", "restore": "restore", "migrate": "migration", "drain": "drain"}
_log = logging.getLogger("kafka_sre_tui.notify")


def event_name(state: JobState) -> str:
    kind = _NAMES.get(state.kind, state.kind)
    if state.kind == "drain" and state.outcome and state.error is None:
        return f"drain.{state.outcome}"
    return f"{kind}.completed" if state.exit_code == 0 else f"{kind}.failed"


def payload(state: JobState, cluster: str | None, at: datetime) -> dict[str, Any]:
    """The generic JSON body (documented in the README, Notifications)."""
    name = event_name(state)
    if state.error:
        message = f"{state.kind} {state.subject or state.job_id} {state.state}: {state.error}"
    elif state.kind == "drain" and state.assessment is not None:
        a = state.assessment
        message = (f"drain of group {a.group_id} {(state.outcome or 'ended').replace('_', ' ')}: "
                   f"{a.outcome_reason or a.reason} (lag {a.total_lag:,} records)")
    else:
        verb = "completed" if state.exit_code == 0 else f"failed (exit {state.exit_code})"
        message = f"{state.kind} {state.subject or state.job_id} {verb}: {state.records:,} records in " \
                  f"{state.elapsed_seconds:.1f} s"
    return {"event": name, "job_id": state.job_id, "kind": state.kind, "subject": state.subject or None,
            "cluster": cluster, "state": state.state, "exit_code": state.exit_code,
            "interrupted": state.state == INTERRUPTED, "message": message, "time": at.isoformat(),
            "figures": state.figures()}


_ALERT_ICONS = {"migration.lag_above": ":warning:", "migration.lag_recovered": ":white_check_mark:",
                "group.at_risk": ":warning:", "group.lost": ":rotating_light:"}


def slack_payload(body: dict[str, Any]) -> dict[str, Any]:
    icon = _ALERT_ICONS.get(body["event"]) or (":white_check_mark:" if body["exit_code"] == 0 else ":rotating_light:")
    return {"text": f"{icon} kafka-sre-tui {body['event']}: {body['message']}"}


class Notifier:
    def __init__(self, settings: NotifySettings, cluster: str | None,
                 post: Callable[[str, bytes, float], int] | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings, self.cluster = settings, cluster
        self.post = post or _post
        self.sleep = sleep
        self._threads: list[threading.Thread] = []

    def job_ended(self, state: JobState) -> None:
        self.send(payload(state, self.cluster, datetime.now(UTC)))

    def send(self, body: dict[str, Any]) -> None:
        """POST ``body`` (the generic payload) to every webhook, its Slack text to every Slack webhook."""
        targets = [(url, body) for url in self.settings.webhooks]
        targets += [(url, slack_payload(body)) for url in self.settings.slack_webhooks]
        for url, doc in targets:
            thread = threading.Thread(target=self._deliver, args=(url, doc, body["event"], body["job_id"]),
                                      name="notify", daemon=True)
            thread.start()
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]  # a follow runs for days

    def wait(self) -> None:
        """Wait for deliveries in flight, at most their worst case."""
        s = self.settings
        limit = (s.retries + 1) * s.timeout_seconds + BACKOFF_SECONDS * (2 ** s.retries) + 1
        deadline = time.monotonic() + limit
        for thread in self._threads:
            thread.join(max(deadline - time.monotonic(), 0))

    def _deliver(self, url: str, doc: dict[str, Any], event: str, job_id: str) -> None:
        data = json.dumps(doc).encode()
        fields = {"fields": {"job_id": job_id, "event": event}}
        last = ""
        for attempt in range(self.settings.retries + 1):
            if attempt:
                self.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
            try:
                status = self.post(url, data, self.settings.timeout_seconds)
            except OSError as exc:
                last = str(getattr(exc, "reason", exc))
                continue
            if 200 <= status < 300:
                _log.info("notification delivered", extra={"fields": {**fields["fields"], "attempts": attempt + 1}})
                return
            last = f"HTTP {status}"
        _log.error("notification not delivered after %d attempts: %s", self.settings.retries + 1, last, extra=fields)


def _post(url: str, data: bytes, timeout: float) -> int:
    request = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": "application/json", "User-Agent": "kafka-sre-tui"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
