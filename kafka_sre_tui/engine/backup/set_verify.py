"""Verify a backup set: every member backup's checksums, every link of its chain, that each link starts
where its parent ended (unless retention's ``lost`` range or a new chain explains why) and set.json's own
checksum. Damage names the link, the topic, the partition and the file."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kafka_sre_tui.engine.errors import KsreError, NotFound
from kafka_sre_tui.engine.jobs import Progress
from kafka_sre_tui.engine.storage.backup_set import (
    SET_MANIFEST,
    SetManifest,
    SetMember,
    member_dir,
    read_set_manifest,
    set_dir,
)
from kafka_sre_tui.engine.storage.encryption import EncryptionKey, unlock_backup
from kafka_sre_tui.engine.storage.manifest import ManifestError, read_manifest
from kafka_sre_tui.engine.storage.store import Location, open_location, write_json
from kafka_sre_tui.engine.storage.verify import describe_damage, verify_backup

VERIFY_RECORD = "verify.json"  # as for one backup: the last verdict, read by ``health``


@dataclass(frozen=True)
class SetDamage:
    problem: str
    set_id: str
    link: int | None = None
    topic: str | None = None
    partition: int | None = None
    file: str | None = None
    offsets: tuple[int, int] | None = None

    def describe(self) -> str:
        where = [f"link {self.link} ({self.set_id})" if self.link is not None else f"set {self.set_id}"]
        if self.topic is not None:
            where.append(f"topic {self.topic}")
        return describe_damage(self.problem, where, self.partition, self.file, self.offsets)


@dataclass(frozen=True)
class SetVerifyResult:
    set_id: str
    links: tuple[str, ...]  # the links checked, base first
    members: int
    records: int
    bytes_checked: int
    seconds: float
    damage: tuple[SetDamage, ...]

    @property
    def intact(self) -> bool:
        return not self.damage


@dataclass(frozen=True, kw_only=True)
class SetVerifyProgress(Progress):
    """``offsets_*`` count the records of the members checked so far against the set's total."""

    set_id: str
    topic: str  # the member just checked
    link: int


def _ignore(_: SetVerifyProgress) -> None:
    return None


async def verify_set(base: Location | Path, set_id: str, encryption_key: EncryptionKey | None = None,
                     chain: bool = True, emit: Callable[[SetVerifyProgress], None] = _ignore) -> SetVerifyResult:
    """Verify the set and (``chain``) every link before it, and keep the verdict next to the set."""
    started = time.monotonic()
    base = open_location(base)
    folder = set_dir(base, set_id)
    if not folder.is_dir():
        raise NotFound(f"no backup {set_id} in {base}; list them with: kafka-sre-tui backups list")
    links, damage = await asyncio.to_thread(_read_links, base, set_id, chain)
    for parent, child in itertools.pairwise(links):
        damage.extend(continuity(parent, child))
    total = sum(link.records for link in links)
    partitions_total = sum(len(member.partitions) for link in links for member in link.members)
    records = checked = members = parts_done = offsets_done = 0
    for link in links:
        number = int(link.chain.get("link", 0))
        for member in link.members:
            found, member_records, member_bytes = await _verify_member(base, link, number, member, encryption_key)
            damage.extend(found)
            records, checked, members = records + member_records, checked + member_bytes, members + 1
            parts_done += len(member.partitions)
            offsets_done += sum(p.records for p in member.partitions)
            emit(SetVerifyProgress(records=records, bytes=checked, elapsed_seconds=time.monotonic() - started,
                                   offsets_done=offsets_done, offsets_total=total, partitions_done=parts_done,
                                   partitions_total=partitions_total, set_id=set_id, topic=member.name, link=number))
    result = SetVerifyResult(set_id, tuple(m.set_id for m in links), members, records, checked,
                             time.monotonic() - started, tuple(damage))
    with contextlib.suppress(OSError, KsreError):  # a read-only mount or bucket: verified all the same
        write_json(folder / VERIFY_RECORD, {"intact": result.intact, "at": datetime.now(UTC).isoformat(),
                                            "damage": [d.describe() for d in result.damage]})
    return result


def _read_links(base: Location, set_id: str, chain: bool) -> tuple[list[SetManifest], list[SetDamage]]:
    """The links to check, base first (as far back as they can be read), and what is wrong with them."""
    damage: list[SetDamage] = []
    links: list[SetManifest] = []
    wanted: str | None = set_id
    while wanted is not None and len(links) <= 100_000:
        folder = set_dir(base, wanted)
        child = links[-1] if links else None
        number = int(child.chain.get("link", 1)) - 1 if child else None
        if not (folder / SET_MANIFEST).exists():
            if child is None:
                damage.append(SetDamage(f"{SET_MANIFEST} is missing: the set is incomplete (continue it with "
                                        f"kafka-sre-tui backup --resume {set_id})", set_id))
            else:
                damage.append(SetDamage(f"the chain is broken here: the parent of {child.set_id} has no "
                                        f"{SET_MANIFEST} (incomplete or deleted); the links after it cannot be "
                                        "restored", wanted, number))
            break
        try:
            manifest, intact = read_set_manifest(folder)
        except ManifestError as exc:
            damage.append(SetDamage(str(exc), wanted, number))
            break
        number = int(manifest.chain.get("link", 0))
        if not intact:
            damage.append(SetDamage(f"{SET_MANIFEST} was changed after it was written (its checksum does not match)",
                                    wanted, number))
        if child is not None and int(child.chain.get("link", 0)) != number + 1:
            damage.append(SetDamage(f"link numbers do not follow: its parent {wanted} is link {number}",
                                    child.set_id, int(child.chain.get("link", 0))))
        links.append(manifest)
        wanted = manifest.chain.get("parent") if chain else None
    return links[::-1], damage


def continuity(parent: SetManifest, child: SetManifest) -> list[SetDamage]:
    """Each partition of ``child`` starts at ``parent``'s end, or retention's ``lost`` range (from the
    parent's end to the new start) says why not; a topic that starts a new chain needs neither."""
    number = int(child.chain.get("link", 0))
    damage = []
    for member in child.members:
        if member.chain_start:
            continue
        before = parent.member(member.name)
        if before is None:
            damage.append(SetDamage(f"continues a chain, but link {parent.chain.get('link')} ({parent.set_id}) "
                                    "does not hold the topic", child.set_id, number, member.name))
            continue
        ids = before.topic.get("topic_id"), member.topic.get("topic_id")
        if ids[0] != ids[1]:
            damage.append(SetDamage(f"the topic id changed ({ids[0]} -> {ids[1]}) but the link does not start a "
                                    "new chain for it", child.set_id, number, member.name))
        ends = {p.partition: p.end_offset for p in before.partitions}
        for part in member.partitions:
            end = ends.pop(part.partition, None)
            if end is None or part.start_offset == end:
                continue  # a partition added since the parent is read in full
            if part.lost and tuple(part.lost) == (end, part.start_offset):
                continue
            if part.start_offset > end:
                problem = (f"starts at offset {part.start_offset}, its parent ended at {end}: offsets "
                           f"{end}-{part.start_offset - 1} are in neither link and no lost range says why")
            else:
                problem = (f"starts at offset {part.start_offset}, before its parent's end {end}: offsets "
                           f"{part.start_offset}-{end - 1} are in both links")
            damage.append(SetDamage(problem, child.set_id, number, member.name, part.partition))
        for missing in sorted(ends):
            damage.append(SetDamage(f"is in link {parent.chain.get('link')} but not in this link",
                                    child.set_id, number, member.name, missing))
    return damage


async def _verify_member(base: Location, link: SetManifest, number: int, member: SetMember,
                         key: EncryptionKey | None) -> tuple[list[SetDamage], int, int]:
    """The member's own checksums, and that its manifest holds what set.json says it does."""
    folder = member_dir(set_dir(base, link.set_id), member.member_id)

    def at(problem: str, partition: int | None = None, file: str | None = None,
           offsets: tuple[int, int] | None = None) -> SetDamage:
        return SetDamage(problem, link.set_id, number, member.name, partition, file, offsets)

    if not folder.is_dir():
        return [at(f"member backup {member.member_id} is missing")], 0, 0
    unlock_backup(folder, key)
    result = await asyncio.to_thread(verify_backup, folder)
    damage = [at(d.problem, d.partition, d.file, d.offsets) for d in result.damage]
    with contextlib.suppress(ManifestError):
        manifest, _intact = read_manifest(folder)  # unreadable: verify_backup said so already
        if manifest.extra.get("set_id") not in (None, link.set_id):
            damage.append(at(f"member {member.member_id} belongs to set {manifest.extra['set_id']}"))
        held = {p.partition: (p.start_offset, p.end_offset, p.records) for p in manifest.partitions}
        for part in member.partitions:
            listed = (part.start_offset, part.end_offset, part.records)
            if held.get(part.partition) != listed:
                damage.append(at(f"{SET_MANIFEST} says offsets {listed[0]}-{listed[1]} ({listed[2]} records), "
                                 f"the member's manifest says {_range(held.get(part.partition))}", part.partition))
    return damage, result.records, result.bytes_checked


def _range(held: tuple[int, int, int] | None) -> str:
    return "nothing of this partition" if held is None else f"offsets {held[0]}-{held[1]} ({held[2]} records)"
