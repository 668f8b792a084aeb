"""The lag exporter against a real broker: values match `lag GROUP --json`, move, and stay bounded."""

from __future__ import annotations

import math
from pathlib import Path

from kafka_sre_tui.localkafka import LocalKafka, free_port
from tests.kafka_helpers import consume_and_commit, create_topic, produce, wait_for
from tests.observe_helpers import CliProcess, Samples, scrape, value


async def _lag_json(kafka: LocalKafka, group: str, tmp_path: Path) -> int:
    async with CliProcess("lag", group, "--cluster", kafka.bootstrap_servers, "--json", state_dir=tmp_path) as run:
        assert await run.wait() == 0
        return int(run.output["total_lag"])


async def test_exporter_serves_lag_of_matching_groups_and_follows_commits(kafka: LocalKafka, unique: str,
                                                                        tmp_path: Path) -> None:
    await create_topic(kafka.bootstrap_servers, unique, 2)
    await produce(kafka.bootstrap_servers, unique, {0: 120, 1: 60})
    group, other = f"{unique}-a", f"{unique}-other"
    await consume_and_commit(kafka.bootstrap_servers, group, unique, {0: 20, 1: 50})
    await consume_and_commit(kafka.bootstrap_servers, other, unique, {0: 1, 1: 1})
    port = free_port()
    latest: Samples = {}

    def lag_is(expected: int) -> bool:
        latest.clear()
        latest.update(scrape(port) or {})
        return value(latest, "kafka_sre_group_lag_records", group=group) == expected and (
            value(latest, "kafka_sre_group_lag_seconds", group=group) is not None)

    async with CliProcess("exporter", "--cluster", kafka.bootstrap_servers, "--groups", f"^{group}$",
                          "--metrics-port", str(port), "--interval", "0.3", "--max-partition-series", "1",
                          state_dir=tmp_path):
        first = await _lag_json(kafka, group, tmp_path)
        assert first == 110
        await wait_for(lambda: lag_is(first), f"the exporter to show lag {first}")
        assert value(latest, "kafka_sre_group_lag_records", group=other) is None  # filtered out
        assert value(latest, "kafka_sre_exporter_groups", cluster=kafka.bootstrap_servers) == 1
        assert value(latest, "kafka_sre_exporter_up", cluster=kafka.bootstrap_servers) == 1
        seconds = value(latest, "kafka_sre_group_lag_seconds", group=group)
        assert seconds is not None and math.isfinite(seconds) and seconds >= 0
        assert value(latest, "kafka_sre_group_lag_seconds_lower_bound", group=group) in (0, 1)
        # the cap keeps the larger partition lag only and counts the other
        partitions = {dict(ls)["partition"]: v for (n, ls), v in latest.items()
                      if n == "kafka_sre_partition_lag_records"}
        assert partitions == {"0": 100}
        assert value(latest, "kafka_sre_partition_series_dropped") == 1
        assert sum(v for (n, _), v in latest.items() if n == "kafka_sre_group_status") == 1

        await consume_and_commit(kafka.bootstrap_servers, group, unique, {0: 110, 1: 60})
        second = await _lag_json(kafka, group, tmp_path)
        assert second == 10
        await wait_for(lambda: lag_is(second), f"the exporter to follow the commit to lag {second}")
        assert value(latest, "kafka_sre_exporter_rounds_total", cluster=kafka.bootstrap_servers) >= 2
        assert value(latest, "kafka_sre_exporter_errors_total", cluster=kafka.bootstrap_servers) == 0
