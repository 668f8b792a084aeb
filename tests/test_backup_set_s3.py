"""A backup set and an incremental link in a bucket (a real S3 server): same layout, same records."""

from __future__ import annotations

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.backup.set_plan import SetRequest
from kafka_sre_tui.engine.backup.set_run import backup_set
from kafka_sre_tui.engine.storage.backup_set import chain_of, member_dir, set_dir
from kafka_sre_tui.engine.storage.store import open_location
from kafka_sre_tui.engine.storage.verify import verify_backup
from kafka_sre_tui.localkafka import LocalKafka
from tests.backup_helpers import read_backup
from tests.kafka_helpers import create_topic, produce, read_all
from tests.object_servers import S3Proxy


async def test_a_chain_in_a_bucket(kafka: LocalKafka, cluster: ClusterConfig, unique: str, s3proxy: S3Proxy,
                                   s3_bucket: str) -> None:
    bs = kafka.bootstrap_servers
    base = open_location(f"s3://{s3_bucket}/dr", s3proxy.options())
    for name in ("a", "b"):
        await create_topic(bs, f"{unique}-{name}", 2)
        await produce(bs, f"{unique}-{name}", {0: 30, 1: 20})
    full = await backup_set(cluster, SetRequest(base_path=base, topics=(f"{unique}-*",)))
    await produce(bs, f"{unique}-a", {0: 5})
    link = await backup_set(cluster, SetRequest(base_path=base, topics=(f"{unique}-*",), incremental=True))
    assert str(link.path) == f"s3://{s3_bucket}/dr/{link.set_id}"
    assert [m.set_id for m in chain_of(base, link.set_id)] == [full.set_id, link.set_id]
    stored: dict[int, list[object]] = {0: [], 1: []}
    for manifest in (full.manifest, link.manifest):
        member = manifest.member(f"{unique}-a")
        assert member is not None
        folder = member_dir(set_dir(base, manifest.set_id), member.member_id)
        assert verify_backup(folder).intact
        for partition, records in read_backup(folder).items():  # type: ignore[arg-type]
            stored[partition].extend(records)
    assert stored == await read_all(bs, f"{unique}-a")
    assert [p.records for p in link.manifest.member(f"{unique}-a").partitions] == [5, 0]  # type: ignore[union-attr]
