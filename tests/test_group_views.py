"""How a group of the new types reads (fixed data, no Kafka): the title with its epochs and the
partitions still moving, the members' current and target assignments, the JSON keys."""

from __future__ import annotations

import json

import pytest

from kafka_sre_tui.cli import output
from kafka_sre_tui.engine.models import GroupInfo, GroupMember, PartitionLag, TopicPartition
from kafka_sre_tui.tui.screens.group_detail import member_line

T = [TopicPartition("orders", p) for p in range(4)]
# m1 still owns orders-2 and orders-3, which the new target gives to m2 (KIP-848 reconciliation)
M1 = GroupMember("m1", "svc-a", "/10.0.0.1", (T[0], T[1], T[2], T[3]), "pod-a", 7, (T[0], T[1]))
M2 = GroupMember("m2", "svc-b", "/10.0.0.2", (), None, 8, (T[2], T[3]))
RECONCILING = GroupInfo("orders-app", "Reconciling", "consumer", "uniform", 1, (M1, M2),
                        tuple(PartitionLag("orders", p, 100, 90, "m1", pending=p >= 2) for p in range(4)),
                        "consumer", 8, 8)


def test_a_reconciling_group_says_how_many_partitions_are_pending() -> None:
    assert RECONCILING.pending_partitions == 2
    assert RECONCILING.summary == ("consumer group, Reconciling, 2 members, group epoch 8, assignment epoch 8; "
                                   "reconciling: 2 partitions pending")
    classic = GroupInfo("old", "Stable", "consumer", "range", 1, (GroupMember("c", "svc", "/h", (T[0],)),))
    assert classic.summary == "classic group, Stable, 1 members" and classic.pending_partitions == 0


def test_group_detail_shows_member_epochs_and_the_target_while_it_differs() -> None:
    assert member_line(M1, "svc-a@10.0.0.1") == ("svc-a@10.0.0.1 (epoch 7): orders/0, orders/1, orders/2, orders/3 "
                                                 "· target orders/0, orders/1 (2 pending)")
    assert member_line(M2, "svc-b@10.0.0.2") == ("svc-b@10.0.0.2 (epoch 8): nothing "
                                                 "· target orders/2, orders/3 (2 pending)")
    settled = GroupMember("m3", "svc", "/h", (T[0],), None, 3, (T[0],))
    assert member_line(settled, "svc@h") == "svc@h (epoch 3): orders/0"


def test_lag_table_and_json_carry_type_epochs_and_pending(capsys: pytest.CaptureFixture[str]) -> None:
    output.group_lag(RECONCILING, as_json=False)
    text = capsys.readouterr().out
    assert "reconciling: 2 partitions pending" in text and "group epoch 8" in text
    output.group_lag(RECONCILING, as_json=True)
    doc = json.loads(capsys.readouterr().out)
    assert (doc["type"], doc["group_epoch"], doc["pending_partitions"]) == ("consumer", 8, 2)
    assert [p["pending"] for p in doc["partitions"]] == [False, False, True, True]
    assert doc["members"][1]["target_assignment"] == [{"topic": "orders", "partition": 2},
                                                      {"topic": "orders", "partition": 3}]
    assert doc["members"][0]["instance_id"] == "pod-a" and doc["members"][0]["member_epoch"] == 7


def test_json_is_utf8_whatever_the_terminal_encoding() -> None:
    """A group named in Cyrillic, printed where stdout is Latin-1 (an old jump host's locale)."""
    import subprocess
    import sys

    code = ("from kafka_sre_tui.cli import output; print('before'); "
            "output.emit_json({'group_id': 'группа-заказов', 'lag': 3}); print('after')")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True,
                         env={"PYTHONIOENCODING": "latin-1", "PATH": "/usr/bin:/bin"})
    printed = run.stdout.decode()  # UTF-8, in the order printed
    assert printed.startswith("before\n{") and printed.endswith("}\nafter\n")
    assert json.loads(printed.removeprefix("before\n").removesuffix("after\n")) == {"group_id": "группа-заказов",
                                                                                      "lag": 3}
