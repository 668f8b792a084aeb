"""Jobs observed from outside: the log file and the Prometheus endpoint, during real runs."""

from __future__ import annotations

import asyncio
import json
import signal
import stat
import time
from pathlib import Path

from aiokafka import AIOKafkaProducer

from kafka_sre_tui.cli.main import main
from kafka_sre_tui.localkafka import LocalKafka, free_port
from tests.kafka_helpers import consume_and_commit, create_topic, produce, wait_for
from tests.observe_helpers import CliProcess, Samples, scrape, value

SECRET = "s3cret-Pa55-do-not-log"


def _config(tmp_path: Path, kafka: LocalKafka) -> str:
    (tmp_path / "pw").write_text(SECRET)
    path = tmp_path / "config.toml"
    path.write_text(f"""default_cluster = "local"
[clusters.local]
bootstrap_servers = "{kafka.bootstrap_servers}"
[clusters.prod]
bootstrap_servers = "127.0.0.1:{free_port()}"
security_protocol = "SASL_PLAINTEXT"
username = "ops"
password_file = "{tmp_path / 'pw'}"
request_timeout_seconds = 2
""")
    return str(path)


async def test_jobs_log_start_progress_end_and_errors_with_their_id_never_a_secret(
        kafka: LocalKafka, unique: str, tmp_path: Path) -> None:
    await create_topic(kafka.bootstrap_servers, unique, 2)
    await produce(kafka.bootstrap_servers, unique, {0: 200, 1: 100})
    config, log = _config(tmp_path, kafka), tmp_path / "logs" / "ksre.log"
    common = ["--config", config, "--log-file", str(log), "--log-format", "json", "--backup-dir", str(tmp_path)]
    assert await asyncio.to_thread(main, ["backup", "--topic", unique, *common]) == 0
    assert await asyncio.to_thread(main, ["backup", "--topic", unique, "--cluster", "prod", *common]) == 1

    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert SECRET not in log.read_text()
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    ok_id, failed_id = lines[0]["job_id"], lines[-1]["job_id"]
    assert ok_id != failed_id and all(line["job"] == "backup" for line in lines)
    ok = [line for line in lines if line["job_id"] == ok_id]
    assert [ok[0]["message"], ok[-1]["message"]] == ["job started", "job ended"]
    assert ok[0]["options"]["topic"] == unique
    assert any(line["message"] == "progress" for line in ok)
    assert ok[-1]["records"] == 300 and ok[-1]["exit_code"] == 0 and ok[-1]["state"] == "succeeded"
    assert ok[-1]["subject"].endswith(f"-{unique}-" + ok[-1]["subject"][-6:])
    failed = [line for line in lines if line["job_id"] == failed_id]
    assert failed[-1]["level"] == "ERROR" and failed[-1]["state"] == "failed"
    assert "cannot connect" in failed[-1]["message"] and failed[-1]["exit_code"] == 1


async def test_metrics_move_during_a_real_backup_and_match_its_json(kafka: LocalKafka, unique: str,
                                                                    tmp_path: Path) -> None:
    await create_topic(kafka.bootstrap_servers, unique, 2)
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers, linger_ms=20)
    await producer.start()
    try:
        sends = [await producer.send(unique, b"v" * 1000, key=str(i).encode(), partition=i % 2) for i in range(3000)]
        await asyncio.gather(*sends)
    finally:
        await producer.stop()
    port, seen, checkpoints = free_port(), [], set()
    final: Samples = {}

    def progress() -> bool:
        samples = scrape(port)
        if samples is None:
            return False
        records = value(samples, "kafka_sre_job_records_total", kind="backup")
        if records is not None and (not seen or records != seen[-1]):
            seen.append(records)
        checkpoints.add(value(samples, "kafka_sre_job_last_checkpoint_time_seconds", kind="backup"))
        if value(samples, "kafka_sre_job_state", state="succeeded") == 1:
            final.update(samples)
            return True
        assert value(samples, "kafka_sre_job_state", state="running") == 1
        return False

    async with CliProcess("backup", "--cluster", kafka.bootstrap_servers, "--topic", unique, "--backup-dir",
                          str(tmp_path), "--rate-limit", "1", "--checkpoint-seconds", "0.5", "--json",
                          "--metrics-port", str(port), "--metrics-linger", "30", state_dir=tmp_path) as run:
        started = time.time()
        await wait_for(progress, "the backup to end, seen through its metrics", seconds=90, step=0.05)
        await wait_for(lambda: run.lines and run.lines[-1].startswith("}"), "the JSON result")
        metrics = run.output["metrics"]
    assert len([r for r in seen if 0 < r < 3000]) >= 2, f"records did not move while it ran: {seen}"
    assert seen == sorted(seen)
    assert value(final, "kafka_sre_job_records_total") == metrics["messages"] == 3000
    assert value(final, "kafka_sre_job_bytes_total") == metrics["bytes_read"]
    assert value(final, "kafka_sre_job_progress_ratio") == 1.0
    assert value(final, "kafka_sre_job_errors_total") == 0
    assert value(final, "kafka_sre_job_duration_seconds") >= 2  # 3 MB at 1 MB/s
    assert value(final, "kafka_sre_job_throughput_bytes_per_second") > 0
    moments = sorted(c for c in checkpoints if c is not None)
    assert len(moments) >= 3, f"checkpoints every 0.5 s of a 3 s backup, seen: {moments}"  # and the last one
    assert started - 5 < moments[0] < moments[-1] == value(final, "kafka_sre_job_last_checkpoint_time_seconds")


async def test_metrics_follow_a_real_drain_and_match_its_json_lines(kafka: LocalKafka, unique: str,
                                                                   tmp_path: Path) -> None:
    await create_topic(kafka.bootstrap_servers, unique, 2)
    await produce(kafka.bootstrap_servers, unique, {0: 100, 1: 100})
    group = f"{unique}-g"
    await consume_and_commit(kafka.bootstrap_servers, group, unique, {0: 10, 1: 10})
    port = free_port()
    lags: list[float] = []
    final: Samples = {}

    def scraped(want_state: str) -> bool:
        samples = scrape(port)
        if samples is None:
            return False
        lag = value(samples, "kafka_sre_group_lag_records", group=group)
        if lag is not None and (not lags or lag != lags[-1]):
            lags.append(lag)
        if value(samples, "kafka_sre_job_state", kind="drain", state=want_state) == 1:
            final.clear()
            final.update(samples)
            return True
        return False

    async with CliProcess("drain", "--cluster", kafka.bootstrap_servers, "--group-id", group, "--interval", "0.2",
                          "--hold", "2", "--json", "--metrics-port", str(port), "--metrics-linger", "30",
                          state_dir=tmp_path) as run:
        await wait_for(lambda: scraped("running") and 180 in lags, "the drain's first samples in the metrics")
        assert value(final, "kafka_sre_partition_lag_records", group=group, topic=unique, partition="0") == 90
        assert value(final, "kafka_sre_group_members", group=group) == 0
        statuses = [dict(ls)["status"] for (n, ls), v in final.items() if n == "kafka_sre_group_status" and v == 1]
        assert len(statuses) == 1
        await consume_and_commit(kafka.bootstrap_servers, group, unique, {0: 100, 1: 100})
        await wait_for(lambda: scraped("succeeded"), "the drain to end, seen through its metrics")
        await wait_for(lambda: any(line.get("event") == "result" for line in run.json_lines), "the result line")
        samples = [line for line in run.json_lines if line["event"] == "sample"]
    assert lags[0] == 180 and lags[-1] == 0
    assert set(lags) <= {s["total_lag"] for s in samples}
    last = samples[-1]
    assert value(final, "kafka_sre_group_status", group=group, status=last["status"]) == 1
    assert value(final, "kafka_sre_group_eta_seconds", group=group) == 0
    assert value(final, "kafka_sre_job_state", kind="drain", state="succeeded") == 1


async def test_metrics_of_a_follow_migration_show_replication_lag_and_the_interrupt(
        kafka: LocalKafka, unique: str, tmp_path: Path) -> None:
    await create_topic(kafka.bootstrap_servers, unique, 2)
    await produce(kafka.bootstrap_servers, unique, {0: 30, 1: 30})
    port, bs = free_port(), kafka.bootstrap_servers
    latest: Samples = {}

    def scraped(**want: float) -> bool:
        latest.clear()
        latest.update(scrape(port) or {})
        return all(value(latest, name) == v for name, v in want.items())

    async with CliProcess("migrate", "--source-cluster", bs, "--source-topic", unique, "--target-cluster", bs,
                          "--target-topic", f"{unique}-copy", "--create-topic", "--follow", "--state-dir",
                          str(tmp_path / "state"), "--metrics-port", str(port), "--metrics-linger", "30",
                          state_dir=tmp_path) as run:
        await wait_for(lambda: scraped(kafka_sre_job_records_total=60, kafka_sre_job_replication_lag_records=0),
                       "the mirror to catch up, seen through its metrics")
        assert value(latest, "kafka_sre_job_state", kind="migrate", state="running") == 1
        assert value(latest, "kafka_sre_job_progress_ratio") is None  # following has no end
        assert value(latest, "kafka_sre_job_replication_lag_seconds") == 0
        await produce(bs, unique, {0: 20})
        await wait_for(lambda: scraped(kafka_sre_job_records_total=80, kafka_sre_job_replication_lag_records=0),
                       "the mirror to copy the new records")
        assert run.proc is not None
        run.proc.send_signal(signal.SIGINT)
        await wait_for(lambda: scraped(kafka_sre_job_records_total=80) and value(
            latest, "kafka_sre_job_state", kind="migrate", state="interrupted") == 1, "the interrupted state")
