"""The audit log: one JSON line per write operation (restore, migration, offset commits, cutover
steps, prune, offset resets), appended to a file only its owner can read, including writes that were
refused (a ``read_only`` cluster, a failed preflight, active members).

Each line: ``time`` (UTC, ISO 8601), ``user`` and ``host`` (the OS user and host name), ``action``,
``cluster``, ``topic``, ``group``, ``parameters`` (plain values, never secrets), ``result``
(``started``, ``ok``, ``refused``, ``failed``, ``interrupted``) and ``error`` (the one-line message, or
null). An operation writes ``started`` before its first write and one final line after; a process
killed in between leaves the ``started`` line alone. Lines are written with one ``write`` on a file
opened ``O_APPEND``, so concurrent writers never interleave inside a line. If the ``started`` line
cannot be written, the operation does not run: no write goes unaudited.

Where: ``$KAFKA_SRE_TUI_AUDIT_LOG``, else ``[audit] path`` of the config (set with
:func:`use_audit_path`), else ``$XDG_STATE_HOME/kafka-sre-tui/audit.log``.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kafka_sre_tui.engine.errors import ConfigError, KsreError, Refused

STARTED, OK, REFUSED, FAILED, INTERRUPTED = "started", "ok", "refused", "failed", "interrupted"
ENV_VAR = "KAFKA_SRE_TUI_AUDIT_LOG"
_configured: Path | None = None


class AuditUnavailable(KsreError):
    """The audit log cannot be written; the write operation is not started."""


def default_audit_path() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "kafka-sre-tui" / "audit.log"


def use_audit_path(path: Path | None) -> None:
    """The configured ``[audit] path`` for this process (None: the default)."""
    global _configured
    _configured = path


def audit_path() -> Path:
    """Where entries go: ``$KAFKA_SRE_TUI_AUDIT_LOG``, the configured path, or the XDG state directory."""
    explicit = os.environ.get(ENV_VAR)
    return Path(explicit) if explicit else (_configured or default_audit_path())


def audit(action: str, *, cluster: str | None, result: str, topic: str | None = None, group: str | None = None,
          parameters: Mapping[str, Any] | None = None, error: str | None = None,
          path: Path | None = None) -> None:
    """Append one entry; the directory is created owner-only (0700) and the file 0600."""
    target = path or audit_path()
    entry = {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "user": _user(), "host": socket.gethostname(), "action": action, "cluster": cluster,
        "topic": topic, "group": group, "parameters": dict(parameters or {}), "result": result, "error": error,
    }
    line = (json.dumps(entry, default=str, separators=(",", ":")) + "\n").encode()
    try:
        from kafka_sre_tui.engine.storage.files import make_private_dir  # not at import: `topics` starts fast

        make_private_dir(target.parent)
        fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.fchmod(fd, 0o600)  # exactly, whatever the umask
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise AuditUnavailable(f"cannot write the audit log {target} ({exc.strerror}); fix its permissions or "
                               f"set [audit] path (or ${ENV_VAR}); nothing was written to Kafka") from None


@dataclass
class AuditOutcome:
    """What an audited block reports besides raising: a refusal that is not an exception (a cutover
    step that did not pass, a group not committed) and parameters learnt on the way."""

    result: str = OK
    error: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    topic: str | None = None  # the topic, once known (a restore's default target comes from its backup)

    def refuse(self, reason: str) -> None:
        self.result, self.error = REFUSED, reason


@contextmanager
def audited(action: str, *, cluster: str | None, topic: str | None = None, group: str | None = None,
            parameters: Mapping[str, Any] | None = None) -> Iterator[AuditOutcome]:
    """``started`` now, then the outcome of the block: ``ok`` (or what the block set on the
    :class:`AuditOutcome`), ``refused`` for a :class:`Refused` error, ``interrupted`` on cancellation,
    ``failed`` for anything else. Exceptions pass through unchanged."""
    base = dict(parameters or {})
    audit(action, cluster=cluster, result=STARTED, topic=topic, group=group, parameters=base)
    outcome = AuditOutcome()

    def close(result: str, error: str | None) -> None:
        audit(action, cluster=cluster, result=result, topic=outcome.topic or topic, group=group,
              parameters=base | outcome.parameters, error=error)

    try:
        yield outcome
    except Refused as exc:
        close(REFUSED, str(exc))
        raise
    except (asyncio.CancelledError, KeyboardInterrupt):
        close(INTERRUPTED, "interrupted; the operation is resumable")
        raise
    except KsreError as exc:
        close(FAILED, str(exc))
        raise
    except Exception as exc:
        close(FAILED, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": "))
        raise
    close(outcome.result, outcome.error)


def request_parameters(request: Any, *drop: str) -> dict[str, Any]:
    """A request dataclass as plain audit parameters: set fields only, paths as text, an encryption
    key as its key id (never the key)."""
    parameters = {}
    for f in fields(request):
        value = getattr(request, f.name)
        if value is None or f.name in drop:
            continue
        if hasattr(value, "key_id"):
            parameters[f"{f.name}_id"] = value.key_id
        else:
            parameters[f.name] = str(value) if isinstance(value, Path) else value
    return parameters


def refuse_read_only(read_only: bool, cluster: str, source: str, action: str, what: str, hint: str, *,
                     topic: str | None = None, parameters: Mapping[str, Any] | None = None) -> None:
    """Raise :class:`ReadOnlyRefused` for a ``read_only`` cluster, logging the refusal first."""
    if not read_only:
        return
    message = f"cluster '{cluster}' is read_only in {source}: refusing to {what} it; {hint} or set read_only = false"
    audit(action, cluster=cluster, result=REFUSED, topic=topic, parameters=parameters, error=message)
    raise ReadOnlyRefused(message)


class ReadOnlyRefused(ConfigError, Refused):
    """A write into a ``read_only`` cluster; exit code 2 like any configuration refusal."""


def read_audit(path: Path | None = None) -> list[dict[str, Any]]:
    target = path or audit_path()
    if not target.exists():
        return []
    return [json.loads(line) for line in target.read_text().splitlines() if line.strip()]


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())
