"""The log file itself: formats, levels, rotation, owner-only files, redaction (pure, no Kafka)."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

from kafka_sre_tui.cli.main import main
from kafka_sre_tui.observe.logs import setup_logging

LOG = logging.getLogger("kafka_sre_tui.test")


def test_json_lines_carry_fields_and_redact_secrets(tmp_path: Path) -> None:
    path = setup_logging(tmp_path / "a.log", "INFO", "json", secrets=["hunter2-secret"])
    LOG.info("login with hunter2-secret failed", extra={"fields": {"job_id": "backup-1", "detail": "hunter2-secret"}})
    LOG.debug("not at INFO")
    [line] = [json.loads(x) for x in path.read_text().splitlines()]
    assert line["message"] == "login with *** failed" and line["detail"] == "***"
    assert line["job_id"] == "backup-1" and line["level"] == "INFO" and line["time"].endswith("Z")


def test_text_lines_and_level(tmp_path: Path) -> None:
    path = setup_logging(tmp_path / "b.log", "WARNING", "text")
    LOG.info("quiet")
    LOG.warning("loud", extra={"fields": {"job_id": "drain-2", "total_lag": 5, "reason": "two words"}})
    [line] = path.read_text().splitlines()
    assert line.endswith('WARNING kafka_sre_tui.test: loud job_id=drain-2 total_lag=5 reason="two words"')


def test_rotation_keeps_every_file_owner_only(tmp_path: Path) -> None:
    path = setup_logging(tmp_path / "state" / "c.log", "INFO", "text", max_bytes=2000)
    for i in range(100):
        LOG.info("line %d %s", i, "x" * 50)
    files = sorted((tmp_path / "state").iterdir())
    assert [f.name for f in files] == ["c.log", "c.log.1", "c.log.2", "c.log.3", "c.log.4", "c.log.5"]
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert "line 99 " in path.read_text()


def test_unwritable_log_file_is_one_line(tmp_path: Path, capsys: object) -> None:
    (tmp_path / "file").write_text("")
    code = main(["backup", "--topic", "t", "--cluster", "127.0.0.1:1", "--log-file", str(tmp_path / "file" / "x")])
    assert code == 2
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert err.startswith("error: cannot write the log file") and err.count("\n") == 1
