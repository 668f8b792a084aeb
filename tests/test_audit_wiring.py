"""Every write operation leaves lines in the audit log, as an auditor reads them: restore and its
offset commits, a restore refused by a read_only cluster, prune, a migration with its group
translation, and each cutover step (passed or not)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kafka_sre_tui.cli.main import main
from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.audit import ENV_VAR, read_audit
from kafka_sre_tui.engine.backup.catalog import prune
from kafka_sre_tui.engine.migrate import CutoverSettings, commit, drain, switch
from kafka_sre_tui.localkafka import LocalKafka
from tests.backup_helpers import backup
from tests.kafka_helpers import consume_and_commit, create_topic, produce
from tests.migrate_helpers import cluster_of, request, run


def _lines(path: Path) -> list[tuple[str, str]]:
    return [(e["action"], e["result"]) for e in read_audit(path)]


def test_restore_offset_commits_read_only_refusal_and_prune(kafka: LocalKafka, cluster: ClusterConfig, unique: str,
                                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bs, group = kafka.bootstrap_servers, f"{unique}-g"
    asyncio.run(create_topic(bs, unique, 2))
    asyncio.run(produce(bs, unique, {0: 30, 1: 20}))
    asyncio.run(consume_and_commit(bs, group, unique, {0: 10, 1: 5}))
    taken = asyncio.run(backup(cluster, unique, tmp_path / "backups"))
    log = tmp_path / "state" / "audit.log"
    config = tmp_path / "config.toml"
    config.write_text(f'[clusters.local]\nbootstrap_servers = "{bs}"\n\n'
                      f'[clusters.frozen]\nbootstrap_servers = "{bs}"\nread_only = true\n\n'
                      f'[audit]\npath = "{log}"\n')
    monkeypatch.delenv(ENV_VAR)  # the config's [audit] path decides
    restore = ["--config", str(config), "restore", "--backup-dir", str(tmp_path / "backups"),
               "--backup-id", taken.backup_id, "--target-topic", f"{unique}-r"]
    assert main([*restore, "--cluster", "local", "--create-topic", "--restore-consumer-offsets", group]) == 0
    assert main([*restore, "--cluster", "frozen"]) == 2
    assert main([*restore, "--cluster", "local", "--dry-run"]) == 1  # would be refused; writes nothing: not audited

    entries = read_audit(log)
    assert _lines(log) == [("restore", "started"), ("restore.commit_offsets", "started"),
                           ("restore.commit_offsets", "ok"), ("restore", "ok"), ("restore", "refused")]
    started, _commit_started, committed, done, refused = entries
    assert {e["cluster"] for e in entries} == {"local", "frozen"} and refused["cluster"] == "frozen"
    assert all(e["topic"] == f"{unique}-r" and e["user"] and e["host"] for e in entries)
    assert started["parameters"]["backup_id"] == taken.backup_id and started["parameters"]["create_topic"] is True
    assert committed["group"] == group and committed["parameters"]["offsets"] == {"0": 10, "1": 5}
    assert done["parameters"]["records_written"] == 50 and done["error"] is None
    assert "read_only" in refused["error"] and refused["parameters"]["backup_id"] == taken.backup_id

    prune(tmp_path / "backups", 0, 100.0, datetime.now(UTC) + timedelta(days=1), dry_run=True)
    prune(tmp_path / "backups", 0, 100.0, datetime.now(UTC) + timedelta(days=1), dry_run=False)
    [*_, pruned] = read_audit(log)
    assert pruned["action"] == "backups.prune" and pruned["result"] == "ok"
    assert pruned["parameters"]["deleted"] == [taken.backup_id] and _lines(log)[-2] == ("backups.prune", "started")


async def test_migration_group_translation_and_cutover_steps(kafka: LocalKafka, unique: str, tmp_path: Path,
                                                             audit_log: Path) -> None:
    bs, group = kafka.bootstrap_servers, f"{unique}-g"
    await create_topic(bs, unique, 2)
    await produce(bs, unique, {0: 40, 1: 40})
    await consume_and_commit(bs, group, unique, {0: 40, 1: 40})
    source, target = cluster_of(kafka, "src"), cluster_of(kafka, "dst")
    before = len(read_audit(audit_log))
    await run(source, target, tmp_path, unique, target_topic=f"{unique}-m", create_topic=True, groups=(group,))
    steps = request(tmp_path, unique, target_topic=f"{unique}-m", groups=(group,))
    assert (await drain(source, (group,), CutoverSettings(30, 0.2, 2))).ok
    assert (await commit(source, target, steps)).ok
    assert (await switch(source, target, steps)).ok
    with pytest.raises(Exception, match="read_only"):
        await commit(source, cluster_of(kafka, "frozen", read_only=True), steps)
    await produce(bs, unique, {0: 1})  # a record the copy has not seen: switch must not pass
    assert not (await switch(source, target, steps)).ok

    entries = read_audit(audit_log)[before:]
    assert [(e["action"], e["result"]) for e in entries if e["result"] != "started"] == [
        ("migrate.commit_offsets", "ok"), ("migrate", "ok"), ("cutover.drain", "ok"),
        ("migrate.commit_offsets", "ok"), ("cutover.commit", "ok"), ("cutover.switch", "ok"),
        ("cutover.commit", "refused"), ("cutover.switch", "refused")]
    migrated = next(e for e in entries if e["action"] == "migrate" and e["result"] == "ok")
    assert migrated["cluster"] == "dst" and migrated["topic"] == f"{unique}-m"
    assert migrated["parameters"]["source_cluster"] == "src" and migrated["parameters"]["records_copied"] == 80
    translated = next(e for e in entries if e["action"] == "migrate.commit_offsets" and e["result"] == "ok")
    assert translated["group"] == group and translated["parameters"]["offsets"] == {"0": 40, "1": 40}
    assert "replication lag is 1 records" in entries[-1]["error"]
    assert entries[-3]["cluster"] == "frozen" and "read_only" in entries[-3]["error"]
