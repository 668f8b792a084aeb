"""Fast tests of the restore's pure parts: the offset map, the preflight rules, argument checks."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kafka_sre_tui.cli.main import main
from kafka_sre_tui.engine.errors import ConfigError
from kafka_sre_tui.engine.kafka.offset_map import OffsetMap
from kafka_sre_tui.engine.restore.plan import (
    PartitionSelection,
    RestoreRequest,
    parse_partition_map,
    validate_request,
)
from kafka_sre_tui.engine.restore.preflight import evaluate
from kafka_sre_tui.engine.restore.scan import RangeStats
from kafka_sre_tui.engine.restore.state import PartitionProgress, load_partitions
from kafka_sre_tui.engine.restore.write import _save_all
from kafka_sre_tui.engine.storage.manifest import Manifest
from kafka_sre_tui.engine.target.checks import FAIL, OK, WARN
from kafka_sre_tui.engine.target.topic import TargetTopic

NOW = 1_800_000_000_000
DAY = 86_400_000


@given(st.lists(st.integers(min_value=1, max_value=5), max_size=60), st.integers(0, 1000), st.integers(0, 1000))
def test_offset_map_translates_like_a_scan(steps: list[int], first: int, target_first: int) -> None:
    source, offset = [], first
    for step in steps:
        source.append(offset)
        offset += step
    mapping = OffsetMap()
    half = len(source) // 2  # written in two produce results
    mapping.add_offsets(source[:half], target_first)
    mapping.add_offsets(source[half:], target_first + half)
    assert mapping.records == len(source)
    assert OffsetMap.from_json(mapping.to_json()) == mapping
    end = target_first + len(source)
    for x in range(first - 2, offset + 2):
        after = [i for i, s in enumerate(source) if s >= x]
        assert mapping.translate_position(x, end) == (target_first + after[0] if after else end)


def _manifest(configs: dict[str, str] | None = None, partitions: int = 1) -> Manifest:
    return Manifest(backup_id="b", created_at="", completed_at="", source={},
                    topic={"name": "orders", "partition_count": partitions, "replication_factor": 1,
                           "configs": configs or {}},
                    selection={}, compression={}, partitions=(), consumer_groups={"g": {"0": 3}}, metrics={})


def _checks(stats: RangeStats, target_configs: dict[str, str], request: RestoreRequest | None = None,
            exists: bool = True) -> dict[str, tuple[str, str]]:
    target = TargetTopic("c", 1, exists, 1 if exists else 0, {}, {0: 0}, {0: 0}, target_configs)
    preflight = evaluate(request or RestoreRequest(Path("."), "b", create_topic=True), _manifest(),
                         [PartitionSelection(0, 0, 0, stats.records)], {0: stats}, target, "c", False, "orders", NOW)
    return {c.name: (c.level, c.message) for c in preflight.checks}


def test_preflight_rules() -> None:
    stats = RangeStats(records=10, bytes=100, null_keys=2, min_timestamp=NOW - 30 * DAY, max_timestamp=NOW,
                       max_batch_bytes=2_000_000)
    checks = _checks(stats, {"cleanup.policy": "compact", "retention.ms": str(7 * DAY)})
    assert checks["max.message.bytes"][0] == FAIL and "2,000,000" in checks["max.message.bytes"][1]
    assert checks["compaction"][0] == FAIL and "2 records have no key" in checks["compaction"][1]
    assert checks["retention"][0] == WARN and "kafka-configs" in checks["retention"][1]  # exists: alter it
    created = _checks(stats, {"retention.ms": str(7 * DAY)}, exists=False)
    assert "--override-retention" in created["retention"][1]
    assert _checks(stats, {"message.timestamp.type": "LogAppendTime"})["timestamps"][0] == WARN
    level, message = _checks(stats, {"message.timestamp.type": "LogAppendTime"}, exists=False)["timestamps"]
    assert level == OK and "created with CreateTime" in message and "set to LogAppendTime" in message
    ahead = RangeStats(records=1, max_timestamp=NOW + 2 * DAY, min_timestamp=NOW)
    assert _checks(ahead, {"message.timestamp.after.max.ms": "3600000"})["timestamps"][0] == FAIL
    assert _checks(ahead, {})["timestamps"][0] == OK
    groups = _checks(ahead, {}, RestoreRequest(Path("."), "b", restore_consumer_offsets=("nope",)))
    assert groups["groups"][0] == FAIL and "it has: g" in groups["groups"][1]


def test_argument_checks() -> None:
    assert parse_partition_map("0:1,1:0") == {0: 1, 1: 0}
    for bad in ("0-1", "0:1,0:2", "a:b"):
        with pytest.raises(ConfigError):
            parse_partition_map(bad)
    with pytest.raises(ConfigError, match="its own target partition"):
        validate_request(RestoreRequest(Path("."), "b", partition_map={0: 0, 1: 0}))
    with pytest.raises(ConfigError, match="not both"):
        validate_request(RestoreRequest(Path("."), "b", from_offset=1, to_time_ms=5))
    with pytest.raises(ConfigError, match="--dry-run cannot be combined with --resume"):  # a resume writes at once
        validate_request(RestoreRequest(Path("."), "b", resume=True, dry_run=True))
    with pytest.raises(ConfigError, match="--rate-limit must be > 0"):
        validate_request(RestoreRequest(Path("."), "b", rate_limit_mb_s=float("nan")))


def test_cli_refuses_a_read_only_cluster(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[clusters.prod]\nbootstrap_servers = "127.0.0.1:1"\nread_only = true\n')
    code = main(["restore", "--config", str(config), "--cluster", "prod", "--backup-id",
                 "20261124T181500123Z-orders-a1b2c3", "--backup-dir", str(tmp_path)])
    assert code == 2
    assert capsys.readouterr().err.strip() == (f"error: cluster 'prod' is read_only in {config}: refusing to restore "
                                               "into it; pick another --cluster or set read_only = false")


def test_overlapping_checkpoints_never_fail_or_go_back(tmp_path: Path) -> None:
    """A cancelled checkpoint's thread can still be writing when the final one starts: both write the
    same partition files; neither may fail, and the newest progress is what stays."""
    (tmp_path / "partitions").mkdir()

    def progress(written: int) -> dict[str, object]:
        p = PartitionProgress.fresh(PartitionSelection(0, 0, 0, 1000), 0)
        p.record_written(list(range(written)), 0)
        return p.to_json()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: _save_all(tmp_path, [progress(n * 10)], n), reversed(range(1, 41))))
    assert load_partitions(tmp_path, [0])[0].written == 400
    _save_all(tmp_path, [progress(5)], 0)  # an older snapshot written late
    assert load_partitions(tmp_path, [0])[0].written == 400
