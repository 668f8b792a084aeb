"""Which link an incremental set continues: the one named, or the newest complete set of the same
selection in the same place."""

from __future__ import annotations

from typing import Any

from kafka_sre_tui.engine.backup.set_plan import SetRequest, describe_selection
from kafka_sre_tui.engine.errors import ConfigError
from kafka_sre_tui.engine.storage.backup_set import (
    SET_MANIFEST,
    SetManifest,
    complete_sets,
    read_set_manifest,
    set_dir,
)
from kafka_sre_tui.engine.storage.manifest import ManifestError
from kafka_sre_tui.engine.storage.store import Location

SELECTION_KEYS = ("topics", "exclude", "all_topics")


def same_selection(a: dict[str, Any], b: dict[str, Any], with_continuous: bool = False) -> bool:
    keys = (*SELECTION_KEYS, "continuous") if with_continuous else SELECTION_KEYS
    return all(_normal(a.get(k)) == _normal(b.get(k)) for k in keys)


def _normal(value: Any) -> Any:
    return sorted(value) if isinstance(value, list) else bool(value)


def find_parent(base: Location, request: SetRequest) -> tuple[SetManifest | None, tuple[str, ...]]:
    """The parent link of an incremental request (None for a full set) and what to tell the operator."""
    if request.incremental_from:
        return named_set(base, request.incremental_from), ()
    if not request.incremental:
        return None, ()
    parent = newest_of_selection(base, request.selection)
    if parent is None:
        return None, (f"no complete backup set of {describe_selection(request)} in {base}: made a full set "
                      "(the base of a new chain)",)
    return parent, ()


def named_set(base: Location, set_id: str) -> SetManifest:
    folder = set_dir(base, set_id)
    if not (folder / SET_MANIFEST).exists():
        raise ConfigError(f"backup set {set_id} is missing or incomplete in {base}: an incremental link continues a "
                          "complete set; list them with: kafka-sre-tui backups list")
    try:
        return read_set_manifest(folder)[0]
    except ManifestError as exc:
        raise ConfigError(f"backup set {set_id} cannot continue a chain: {exc}") from None


def newest_of_selection(base: Location, selection: dict[str, Any],
                        with_continuous: bool = False) -> SetManifest | None:
    found = [s for s in complete_sets(base) if same_selection(s.selection, selection, with_continuous)]
    return max(found, key=lambda s: s.set_id[:19], default=None)
