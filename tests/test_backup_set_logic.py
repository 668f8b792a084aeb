"""Pure rules of backup sets: which link continues which selection, and when a topic's chain starts again."""

from __future__ import annotations

from pathlib import Path

import pytest

from kafka_sre_tui.engine.backup.set_parent import same_selection
from kafka_sre_tui.engine.backup.set_plan import SetRequest, _chain_start, validate_set_request
from kafka_sre_tui.engine.errors import ConfigError


def test_same_selection_ignores_pattern_order_and_optionally_continuous() -> None:
    a = {"topics": ["b*", "a*"], "exclude": [], "all_topics": False, "continuous": True}
    b = {"topics": ["a*", "b*"], "exclude": [], "all_topics": False, "continuous": False}
    assert same_selection(a, b) and not same_selection(a, b, with_continuous=True)
    assert not same_selection(a, {**b, "exclude": ["*-x"]})
    assert not same_selection(a, {**b, "all_topics": True})


def test_a_chain_starts_at_a_base_a_new_topic_and_a_recreated_topic() -> None:
    assert _chain_start(False, None, False, "id1") == (True, None)
    assert _chain_start(True, None, False, "id1") == (True, "new topic since the parent link")
    assert _chain_start(True, "id1", True, "id2") == (True, "topic recreated (id id1 -> id2)")
    assert _chain_start(True, "id1", True, "id1") == (False, None)
    assert _chain_start(True, None, True, None) == (False, None)  # no topic ids: the name is all there is


@pytest.mark.parametrize(("options", "message"), [
    ({}, "a backup set needs --topics PATTERNS or --all-topics"),
    ({"topics": ("a",), "incremental": True, "incremental_from": "x"}, "not both"),
    ({"topics": ("a", " ")}, "an empty pattern"),
    ({"topics": ("a",), "roll_bytes": 0}, "--roll-bytes 0"),
    ({"topics": ("a",), "compression": "brotli"}, "brotli"),
])
def test_bad_set_requests_fail_with_one_line(options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        validate_set_request(SetRequest(base_path=Path("/nonexistent"), **options))  # type: ignore[arg-type]
