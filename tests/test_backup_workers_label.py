"""The groups pane's "backup workers" label: only groups whose every member is a backup worker."""

from __future__ import annotations

from kafka_sre_tui.engine.backup.workers_label import WORKER_CLIENT_ID, is_workers_group
from kafka_sre_tui.engine.models import GroupInfo, GroupMember


def _group(*client_ids: str) -> GroupInfo:
    members = tuple(GroupMember(member_id=f"m{i}", client_id=c, host="/127.0.0.1", assignment=())
                    for i, c in enumerate(client_ids))
    return GroupInfo(group_id="g", state="Stable", protocol_type="consumer", protocol="sticky", coordinator_id=1,
                     members=members)


def test_only_a_group_of_backup_workers_is_labelled() -> None:
    assert is_workers_group(_group(WORKER_CLIENT_ID, WORKER_CLIENT_ID))
    assert not is_workers_group(_group(WORKER_CLIENT_ID, "orders-service"))  # a real consumer among them
    assert not is_workers_group(_group())  # empty: nothing says what it is
