"""Backups in an S3 bucket, against a real S3 server (s3proxy): the same backup, verify, restore and
catalog as on disk, through the storage seam; clear errors for what goes wrong with a bucket."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from textual.widgets import Input

from kafka_sre_tui.cli.main import main
from kafka_sre_tui.config import AppConfig, BackupSettings, ClusterConfig, UiSettings
from kafka_sre_tui.engine.backup.catalog import COMPLETE, list_backups, verify
from kafka_sre_tui.engine.backup.run import resume_backup
from kafka_sre_tui.engine.errors import KsreError
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.storage.manifest import read_manifest
from kafka_sre_tui.engine.storage.store import Location, open_location
from kafka_sre_tui.engine.target.topic import end_offsets
from kafka_sre_tui.localkafka import LocalKafka
from kafka_sre_tui.tui.app import KsreApp
from kafka_sre_tui.tui.screens.backup_form import BackupForm
from tests.backup_helpers import backup, read_backup
from tests.kafka_helpers import create_topic, produce, read_all, wait_for
from tests.object_servers import S3Proxy
from tests.restore_helpers import restore
from tests.test_backup_fidelity import _tricky_topic
from tests.test_restore_resume import PARTITIONS as RESUME_PARTITIONS
from tests.test_restore_resume import PER_PARTITION as RESUME_PER_PARTITION
from tests.test_restore_resume import _checkpointed
from tests.test_restore_resume import _load as _load_for_resume


def _bucket(s3proxy: S3Proxy, bucket: str, prefix: str = "dr") -> Location:
    return open_location(f"s3://{bucket}/{prefix}", s3proxy.options())


def _config(tmp_path: Path, s3proxy: S3Proxy, backup: str = "") -> Path:
    config = tmp_path / "config.toml"
    config.write_text(f'[backup]\n{backup}\n[backup.object_store]\nendpoint = "{s3proxy.endpoint}"\n'
                      'region = "us-east-1"\nallow_http = true\nvirtual_hosted_style = false\n')
    return config


async def test_round_trip_through_a_bucket(kafka: LocalKafka, cluster: ClusterConfig, unique: str, s3proxy: S3Proxy,
                                           s3_bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bs = kafka.bootstrap_servers
    await _tricky_topic(bs, unique)
    monkeypatch.chdir(tmp_path)
    base = _bucket(s3proxy, s3_bucket)
    done = await backup(cluster, unique, base, compression="zstd")  # type: ignore[arg-type]
    assert str(done.path) == f"s3://{s3_bucket}/dr/{done.backup_id}"
    stored = s3proxy.stored_files(s3_bucket)
    assert f"dr/{done.backup_id}/manifest.json" in stored
    assert any(name.endswith(".kseg") for name in stored)
    assert not any(name.endswith((".tmp", "state.json", "backup.json")) for name in stored)
    assert list(tmp_path.iterdir()) == []  # nothing local: no folder named s3:

    source = await read_all(bs, unique)
    assert read_backup(done.path) == source  # type: ignore[arg-type]
    checked = await verify(base, done.backup_id)
    assert checked.intact and checked.records == sum(map(len, source.values()))
    result = await restore(cluster, base, done.backup_id, target_topic=f"{unique}-r",  # type: ignore[arg-type]
                           create_topic=True, override_retention=True, state_dir=tmp_path / "states")
    assert await read_all(bs, f"{unique}-r") == source
    assert result.metrics.messages == sum(map(len, source.values()))  # type: ignore[union-attr]
    [summary] = list_backups(base)
    assert (summary.backup_id, summary.status, summary.records) == (done.backup_id, COMPLETE, checked.records)


async def test_cli_lists_shows_and_prunes_a_bucket(kafka: LocalKafka, cluster: ClusterConfig, unique: str,
                                                  s3proxy: S3Proxy, s3_bucket: str, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    await create_topic(kafka.bootstrap_servers, unique, 2)
    await produce(kafka.bootstrap_servers, unique, {0: 40, 1: 40})
    base = _bucket(s3proxy, s3_bucket, "nightly")
    first = await backup(cluster, unique, base)  # type: ignore[arg-type]
    second = await backup(cluster, unique, base)  # type: ignore[arg-type]
    config, url = str(_config(tmp_path, s3proxy, "max_backup_size_gb = 0")), f"s3://{s3_bucket}/nightly"
    capsys.readouterr()
    assert main(["--config", config, "backups", "list", "--backup-dir", url]) == 0
    listed = capsys.readouterr().out
    assert first.backup_id in listed and second.backup_id in listed and "complete" in listed
    assert main(["--config", config, "backups", "show", first.backup_id, "--backup-dir", url]) == 0
    assert "80" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["--config", config, "verify", second.backup_id, "--backup-dir", url]) == 0
    capsys.readouterr()
    code = await asyncio.to_thread(main, ["--config", config, "health", "--backup-dir", url, "--json"])
    checks = {c["name"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
    assert code == 0, checks
    assert checks["backup_dir"]["ok"] and checks["backup_dir"]["reason"] == f"{url} is reachable and writable"
    assert checks["verify_failures"]["details"]["verified"] == 1  # verify.json was written into the bucket
    # both are within the age limit; a size limit of 0 keeps none of them
    assert main(["--config", config, "backups", "prune", "--backup-dir", url]) == 0
    assert capsys.readouterr().out.count("total size over") == 2
    assert list_backups(base) == []
    assert s3proxy.stored_files(s3_bucket) == []


async def test_bucket_errors_name_the_bucket_and_what_to_do(kafka: LocalKafka, cluster: ClusterConfig, unique: str,
                                                           s3proxy: S3Proxy, s3_bucket: str, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    await create_topic(kafka.bootstrap_servers, unique, 1)
    config = str(_config(tmp_path, s3proxy))

    async def one_line(*args: str) -> str:
        assert await asyncio.to_thread(main, ["--config", config, *args]) != 0
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: "), err
        return err[0]

    missing = await one_line("backups", "list", "--backup-dir", "s3://no-such-bucket/dr")
    assert "bucket 'no-such-bucket' does not exist; create it or fix the URL" in missing
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    refused = await one_line("backup", "--cluster", kafka.bootstrap_servers, "--topic", unique,
                       "--backup-dir", f"s3://{s3_bucket}/dr")
    assert f"s3://{s3_bucket}/dr" in refused and "credentials were refused" in refused
    assert "not-the-secret" not in refused
    down = await one_line("backups", "list", "--backup-dir", f"s3://{s3_bucket}/dr")
    assert "not-the-secret" not in down


def test_killed_backup_resumes_from_the_last_durable_segment(kafka: LocalKafka, unique: str, s3proxy: S3Proxy,
                                                             s3_bucket: str, tmp_path: Path) -> None:
    """kill -9 while a segment is being uploaded in parts; --resume aborts that upload and finishes the
    backup with no gap, no duplicate and no stray object or upload left in the bucket."""
    bs = kafka.bootstrap_servers

    async def load() -> None:
        await create_topic(bs, unique, 1)
        producer = AIOKafkaProducer(bootstrap_servers=bs, linger_ms=5, max_request_size=2 << 20)
        await producer.start()
        for i in range(3000):  # ~30 MB that does not compress: segments of several 8 MiB parts
            await producer.send(unique, os.urandom(10_000), key=f"k{i}".encode(), partition=0)
        await producer.flush()
        await producer.stop()

    asyncio.run(load())
    config, url = str(_config(tmp_path, s3proxy)), f"s3://{s3_bucket}/dr"
    cmd = [sys.executable, "-m", "kafka_sre_tui", "--config", config, "backup", "--cluster", bs, "--topic", unique,
           "--backup-dir", url, "--rate-limit", "8", "--checkpoint-seconds", "2", "--compression", "none"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:  # some durable, an upload in flight
        stored = s3proxy.stored_files(s3_bucket)
        if any(f.endswith("state.json") for f in stored) and any("mpu-stub" in f for f in stored):
            break
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    base = _bucket(s3proxy, s3_bucket)
    [interrupted] = list_backups(base)
    assert interrupted.status == "incomplete" and 0 < interrupted.records < 3000

    assert main(["--config", config, "backup", "--resume", interrupted.backup_id, "--backup-dir", url]) == 0
    [done] = list_backups(base)
    assert done.status == COMPLETE and done.records == 3000
    assert read_backup(done.path) == asyncio.run(read_all(bs, unique))  # type: ignore[arg-type]
    manifest, _ = read_manifest(done.path)
    expected = {"manifest.json"} | {s.file for p in manifest.partitions for s in p.segments}
    assert {name for name, _size in done.path.files()} == expected  # the killed run's extra segment is gone
    assert [f for f in s3proxy.stored_files(s3_bucket) if not f.startswith("dr/")] == []  # no upload left open


async def test_store_stopped_mid_backup_stops_resumable(kafka: LocalKafka, cluster: ClusterConfig, unique: str,
                                                         s3_bucket: str, tmp_path: Path) -> None:
    """The S3 server goes away during a backup: one line naming the store and how to resume; once it is
    back, --resume completes the backup."""
    server = S3Proxy(tmp_path / "own-s3")
    (tmp_path / "own-s3").mkdir()
    server.start()
    try:
        server.create_bucket(s3_bucket)
        bs = kafka.bootstrap_servers
        await create_topic(bs, unique, 2)
        await produce(bs, unique, {0: 4000, 1: 4000})
        base = open_location(f"s3://{s3_bucket}/dr", server.options())
        job = asyncio.create_task(backup(dataclasses.replace(cluster, retry_seconds=1), unique, base,  # type: ignore[arg-type]
                                         rate_limit_mb_s=0.1, checkpoint_seconds=0.2))
        await wait_for(lambda: any(f.endswith("state.json") for f in server.stored_files(s3_bucket)),
                       "a first checkpoint in the bucket")
        server.stop()
        with pytest.raises(KsreError) as stopped:
            await asyncio.wait_for(job, 120)
        message = str(stopped.value)
        assert f"s3://{s3_bucket}/dr/" in message and "cannot be reached" in message, message
        assert "continue it with kafka-sre-tui backup --resume" in message, message
        server.start()
        [interrupted] = list_backups(base)
        assert interrupted.status == "incomplete"
        done = await resume_backup(cluster, base, interrupted.backup_id)
        assert read_backup(done.path) == await read_all(bs, unique)  # type: ignore[arg-type]
    finally:
        server.stop()


async def test_dashboard_lists_and_writes_backups_in_a_bucket(kafka: LocalKafka, cluster: ClusterConfig, unique: str,
                                                             s3proxy: S3Proxy, s3_bucket: str) -> None:
    await create_topic(kafka.bootstrap_servers, unique, 2)
    await produce(kafka.bootstrap_servers, unique, {0: 30, 1: 30})
    first = await backup(cluster, unique, _bucket(s3proxy, s3_bucket))  # type: ignore[arg-type]
    settings = dataclasses.replace(BackupSettings(), base_path=f"s3://{s3_bucket}/dr", object_store=s3proxy.options())
    app = KsreApp(cluster, UiSettings(refresh_seconds=5), config=AppConfig(backup=settings))
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("b")
        selected = app.backups_pane.selected()
        assert selected is not None and (selected.backup_id, selected.status) == (first.backup_id, COMPLETE)
        await pilot.press("n")
        assert isinstance(app.screen, BackupForm)
        app.screen.query_one("#f-topic", Input).value = unique
        app.screen.query_one("#f-topic", Input).focus()
        await pilot.press("enter")
        await wait_for(lambda: len(app.jobs_pane.jobs) == 1 and not next(iter(app.jobs_pane.jobs.values())).active,
                       "the backup job to finish", 60)
        [job] = app.jobs_pane.jobs.values()
        assert job.state == "done", job.detail
        await wait_for(lambda: len(app.backups_pane.backups) == 2, "the new backup on the Backups tab")
    assert [b.status for b in list_backups(_bucket(s3proxy, s3_bucket))] == [COMPLETE, COMPLETE]


async def test_two_backups_into_one_prefix_at_once(kafka: LocalKafka, cluster: ClusterConfig, unique: str,
                                                   s3proxy: S3Proxy, s3_bucket: str) -> None:
    """No lock on a bucket: each backup writes only under its own id, so two at once stay apart."""
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 3)
    await produce(bs, unique, {0: 500, 1: 500, 2: 500})
    base = _bucket(s3proxy, s3_bucket)
    first, second = await asyncio.gather(backup(cluster, unique, base, compression="zstd"),  # type: ignore[arg-type]
                                         backup(cluster, unique, base, compression="gzip"))  # type: ignore[arg-type]
    assert first.backup_id != second.backup_id
    source = await read_all(bs, unique)
    for done in (first, second):
        assert read_backup(done.path) == source  # type: ignore[arg-type]
        assert (await verify(base, done.backup_id)).intact
    assert sorted(b.backup_id for b in list_backups(base)) == sorted([first.backup_id, second.backup_id])


async def test_a_restore_from_a_bucket_killed_mid_run_resumes_exactly_once(
        kafka: LocalKafka, cluster: ClusterConfig, unique: str, s3proxy: S3Proxy, s3_bucket: str,
        tmp_path: Path) -> None:
    """restore --resume reading the backup from a bucket: the records the killed run wrote after its last
    checkpoint are found from the target's end offsets and not written again."""
    bs, target, states = kafka.bootstrap_servers, f"{unique}-r", tmp_path / "states"
    await _load_for_resume(bs, unique)
    base = _bucket(s3proxy, s3_bucket)
    done = await backup(cluster, unique, base)  # type: ignore[arg-type]
    cmd = [sys.executable, "-m", "kafka_sre_tui", "--config", str(_config(tmp_path, s3proxy)), "restore",
           "--cluster", bs, "--backup-dir", f"s3://{s3_bucket}/dr", "--backup-id", done.backup_id,
           "--target-topic", target, "--create-topic", "--rate-limit", "2", "--checkpoint-seconds", "2",
           "--state-dir", str(states)]
    proc = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.PIPE)
    try:
        async with KafkaSession(cluster) as session:
            deadline = time.monotonic() + 90
            while True:  # kill once a checkpoint holds some records and more have been written since
                assert proc.returncode is None, (await proc.stderr.read()).decode()  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "no checkpoint followed by more writes within 90 s"
                marks = _checkpointed(states)
                if len(marks) == RESUME_PARTITIONS and sum(marks.values()) > 0:
                    ends = await end_offsets(session, target, list(range(RESUME_PARTITIONS)))
                    if sum(ends.values()) > sum(marks.values()) + 500:
                        break
                await asyncio.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
    async with KafkaSession(cluster) as session:
        written_before = sum((await end_offsets(session, target, list(range(RESUME_PARTITIONS)))).values())
    after_checkpoint = written_before - sum(_checkpointed(states).values())
    assert after_checkpoint > 0 and written_before < RESUME_PARTITIONS * RESUME_PER_PARTITION

    resumed = await restore(cluster, base, done.backup_id, target_topic=target, resume=True,  # type: ignore[arg-type]
                            state_dir=states)
    assert resumed.metrics is not None and resumed.metrics.skipped_on_resume == after_checkpoint
    assert await read_all(bs, target) == await read_all(bs, unique)  # every record once, same offsets
