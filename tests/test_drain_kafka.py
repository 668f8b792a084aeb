"""The drain monitor against the real broker: the CLI as a process, exit codes, statuses, ETA."""

from __future__ import annotations

import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka import TopicPartition as AioTP

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.drain.sampler import GroupSampler
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.localkafka import LocalKafka
from tests.drain_helpers import PacedConsumer, PacedProducer, run_cli
from tests.kafka_helpers import consume_and_commit, create_topic, produce, wait_for

FAST = ["--interval", "0.25", "--window-seconds", "3"]


async def test_catching_up_consumer_drains_with_an_honest_eta(kafka: LocalKafka, unique: str) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 3)
    await produce(bs, unique, {0: 1200, 1: 900, 2: 600})
    producer = await PacedProducer(bs, unique, 3, rate=60).start()
    consumer = await PacedConsumer(bs, f"{unique}-g", unique, rate=500).start()
    try:
        run = await run_cli("drain", "--cluster", bs, "--group-id", f"{unique}-g", "--max-lag", "40",
                            "--hold", "2", "--timeout-seconds", "30", *FAST)
    finally:
        await consumer.stop()
        await producer.stop()
    assert run.code == 0, run.stderr
    assert run.result["outcome"] == "drained" and run.samples[-1]["outcome"] == "drained"
    met_at = next(s["time"] for s in run.samples if s["goal_met"])
    assert run.samples[-1]["total_lag"] <= 40
    ratios = [s["eta_seconds"] / (met_at - s["time"]) for s in run.samples
              if s["eta"] == "draining" and s["elapsed_seconds"] >= 1.0 and met_at - s["time"] >= 1.0]
    assert len(ratios) >= 4, run.samples
    assert all(0.5 <= r <= 2.0 for r in ratios), ratios  # the ETA shown is within a factor 2 of the truth
    assert {"DRAINING"} <= {s["status"] for s in run.samples}
    print(f"ETA/real ratios: {[round(r, 2) for r in ratios]}")


async def test_stopped_consumer_is_stopped_and_times_out_in_time(kafka: LocalKafka, unique: str) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 2)
    await produce(bs, unique, {0: 30, 1: 30})
    await consume_and_commit(bs, f"{unique}-g", unique, {0: 10, 1: 30})  # then gone: no members
    run = await run_cli("drain", "--cluster", bs, "--group-id", f"{unique}-g", "--timeout-seconds", "1.6",
                        "--stall-seconds", "0.5", "--interval", "0.5")
    assert run.code == 1, run.stderr
    assert {s["status"] for s in run.samples} == {"STOPPED"}
    assert run.result["outcome"] == "timed_out"
    assert 1.6 <= run.result["elapsed_seconds"] <= 1.6 + 0.25  # at the deadline, not at the next tick (2.0)
    last = run.samples[-1]
    assert last["eta"] == "not draining" and last["member_count"] == 0 and last["total_lag"] == 20
    assert last["partitions"][0]["lag_seconds_method"] == "timestamp"


async def test_member_that_stops_committing_is_stalled_exit_3(kafka: LocalKafka, unique: str) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 2)
    await produce(bs, unique, {0: 2000, 1: 2000})
    consumer = await PacedConsumer(bs, f"{unique}-g", unique, rate=200).start()
    try:
        await wait_for(lambda: consumer.consumed >= 100, "the consumer to commit some progress")
        consumer.committing = False
        started = time.monotonic()
        run = await run_cli("drain", "--cluster", bs, "--group-id", f"{unique}-g", "--stall-seconds", "1.5",
                            "--timeout-seconds", "20", *FAST)
        assert consumer.consumer.assignment(), "the consumer must still be a member"
    finally:
        await consumer.stop()
    assert run.code == 3, run.stderr
    last = run.samples[-1]
    assert last["status"] == "STALLED" and last["member_count"] == 1 and last["outcome"] == "stalled"
    assert "unchanged for" in last["reason"]
    assert run.result["elapsed_seconds"] < 1.5 + 1.5 and time.monotonic() - started < 10


async def test_producer_faster_than_consumer_is_growing_not_draining(kafka: LocalKafka, unique: str) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 2)
    producer = await PacedProducer(bs, unique, 2, rate=400).start()
    consumer = await PacedConsumer(bs, f"{unique}-g", unique, rate=100).start()
    try:
        await wait_for(lambda: consumer.consumed > 0, "the consumer to start")
        run = await run_cli("lag", f"{unique}-g", "--watch", "--count", "10", "--cluster", bs, *FAST)
    finally:
        await consumer.stop()
        await producer.stop()
    assert run.code == 0, run.stderr
    late = run.samples[4:]
    assert {s["status"] for s in late} == {"GROWING"}, [(s["status"], s["reason"]) for s in late]
    assert all(s["eta"] == "not draining" and s["eta_seconds"] is None for s in late)
    assert late[-1]["production_rate"] > late[-1]["consumption_rate"] > 0
    assert late[-1]["goal_met"] is None and run.result["outcome"] is None


async def test_idle_topic_with_no_lag_is_ok_not_stalled(kafka: LocalKafka, unique: str) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 2)
    await produce(bs, unique, {0: 20, 1: 20})
    consumer = await PacedConsumer(bs, f"{unique}-g", unique, rate=1000).start()
    try:
        await wait_for(lambda: consumer.consumed == 40, "the consumer to read everything")
        await _wait_committed(bs, f"{unique}-g", unique, {0: 20, 1: 20})
        watch = await run_cli("lag", f"{unique}-g", "--watch", "--count", "8", "--stall-seconds", "0.5",
                              "--cluster", bs, *FAST)
        drain = await run_cli("drain", "--cluster", bs, "--group-id", f"{unique}-g", "--stall-seconds", "0.5",
                              "--timeout-seconds", "10", *FAST)
    finally:
        await consumer.stop()
    assert {s["status"] for s in watch.samples} == {"OK"}, [s["reason"] for s in watch.samples]
    assert all(s["total_lag"] == 0 and s["member_count"] == 1 for s in watch.samples)
    assert drain.code == 0 and len(drain.samples) == 3  # held 3 samples, then done


async def test_transaction_markers_and_open_transactions_do_not_leave_lag(
        kafka: LocalKafka, cluster: ClusterConfig, unique: str) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 1)
    producer = AIOKafkaProducer(bootstrap_servers=bs, transactional_id=f"{unique}-tx")
    await producer.start()
    try:
        async with producer.transaction():
            for i in range(5):
                await producer.send_and_wait(unique, str(i).encode(), partition=0)
        # a consumer (Flink/Spark style) that commits "last record + 1": the commit marker is left
        await _commit(bs, f"{unique}-markers", unique, 5)
        await producer.begin_transaction()  # an open transaction: past the last stable offset
        await producer.send_and_wait(unique, b"open", partition=0)
        await _commit(bs, f"{unique}-open", unique, 6)  # read_committed consumer stops at the LSO
        async with KafkaSession(cluster) as session:
            for group, high_watermark_lag in ((f"{unique}-markers", 2), (f"{unique}-open", 1)):
                async with GroupSampler(session, group) as sampler:
                    sample = await sampler.sample()
                [p] = sample.partitions
                assert p.committed is not None and 7 - p.committed == high_watermark_lag  # HW = 7
                assert p.lag == 0, (group, p)
        await producer.abort_transaction()
    finally:
        await producer.stop()


async def test_sampling_reads_record_timestamps_once_per_committed_offset(
        kafka: LocalKafka, cluster: ClusterConfig, unique: str) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 4)
    await produce(bs, unique, {0: 50, 1: 50, 2: 50, 3: 50})
    produced_at = time.time()
    await consume_and_commit(bs, f"{unique}-g", unique, {0: 10, 1: 20, 2: 50, 3: 0})
    async with KafkaSession(cluster) as session, GroupSampler(session, f"{unique}-g") as sampler:
        took = []
        for _ in range(3):
            started = time.monotonic()
            sample = await sampler.sample()
            took.append(time.monotonic() - started)
        assert sampler.timestamps is not None and sampler.timestamps.fetched == 3  # partitions 0, 1, 3, once
    by_partition = {p.partition: p for p in sample.partitions}
    assert [by_partition[p].lag for p in range(4)] == [40, 30, 0, 50]
    assert by_partition[2].record is None
    for p in (0, 1, 3):
        record = by_partition[p].record
        assert record is not None and record.offset == by_partition[p].committed
        assert abs(record.timestamp_ms / 1000 - produced_at) < 5
    print(f"sample took {[round(t * 1000) for t in took]} ms (first includes the timestamp fetch)")


async def _commit(bs: str, group: str, topic: str, offset: int) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bs, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([AioTP(topic, 0)])
        await consumer.commit({AioTP(topic, 0): offset})
    finally:
        await consumer.stop()


async def _wait_committed(bs: str, group: str, topic: str, wanted: dict[int, int]) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bs, group_id=f"{group}-observer")
    await consumer.start()
    try:
        from aiokafka.admin import AIOKafkaAdminClient

        admin = AIOKafkaAdminClient(bootstrap_servers=bs)
        await admin.start()
        try:
            for _ in range(100):
                offsets = await admin.list_consumer_group_offsets(group)
                if {tp.partition: m.offset for tp, m in offsets.items() if tp.topic == topic} == wanted:
                    return
                import asyncio

                await asyncio.sleep(0.1)
            raise AssertionError(f"group {group} did not commit {wanted}")
        finally:
            await admin.close()
    finally:
        await consumer.stop()
