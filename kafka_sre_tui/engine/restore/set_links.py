"""Which links of a chain a set restore reads, and for each topic which members, in order.

Pure: it reads manifests only. The links used run from the chain's base to the set asked for, or,
with a point in time, to the first link *started* after that time: a link holds what was appended
between its parent's start and its own, so that link holds the last records appended up to the time
and the links after it hold only later ones. A topic's records come from each used link's member in
order, from the newest link where the topic's chain starts (its first link, a topic new since, or a
recreated topic: ``chain_start``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kafka_sre_tui.engine.errors import ConfigError
from kafka_sre_tui.engine.input_checks import check_topic_name
from kafka_sre_tui.engine.restore.set_request import SetRestoreRequest
from kafka_sre_tui.engine.storage.backup_set import SetManifest, SetMember, matches


@dataclass(frozen=True)
class MemberLink:
    """One topic's member in one link of the chain."""

    set_id: str
    link: int  # the link's number in its chain (0: the base)
    member: SetMember


@dataclass(frozen=True)
class TopicPlan:
    source: str
    target: str
    members: tuple[MemberLink, ...]  # oldest first
    restarted: str | None = None  # why the topic's records start at a later link than the base

    @property
    def newest(self) -> SetMember:
        return self.members[-1].member


def links_used(chain: list[SetManifest], to_time_ms: int | None) -> list[SetManifest]:
    """The chain's links that hold records appended up to ``to_time_ms`` (all of them without it)."""
    if to_time_ms is None:
        return chain
    for i, link in enumerate(chain):
        if _millis(link.created_at) > to_time_ms:
            return chain[:i + 1]
    return chain


def _millis(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp() * 1000)


def plan_topics(used: list[SetManifest], request: SetRestoreRequest) -> list[TopicPlan]:
    """Every topic to restore (those of the newest link used that match ``request.topics``), with its
    members oldest first and its target name. A topic missing from a link its chain runs through is
    an error naming both: restoring past it would silently lose its records."""
    newest = used[-1]
    names = sorted(m.name for m in newest.members)
    chosen = [n for n in names if not request.topics or matches(n, request.topics)]
    if not chosen:
        raise ConfigError(f"no topic of backup set {newest.set_id} matches {','.join(request.topics)}; it holds: "
                          f"{', '.join(names) or 'none'}")
    unknown = sorted(set(request.topic_map or {}) - set(names))
    if unknown:
        raise ConfigError(f"--topic-map names topic(s) {', '.join(unknown)} that backup set {newest.set_id} does "
                          f"not hold; it holds: {', '.join(names)}")
    plans = [_topic_plan(used, name, request.target_of(name)) for name in chosen]
    targets = [p.target for p in plans]
    twice = sorted({t for t in targets if targets.count(t) > 1})
    if twice:
        raise ConfigError(f"two topics would be restored into {', '.join(twice)}: their records would mix; "
                          "give each its own name with --topic-map")
    return plans


def _topic_plan(used: list[SetManifest], name: str, target: str) -> TopicPlan:
    check_topic_name(target, f"the target topic for '{name}'")
    members: list[MemberLink] = []
    for link in reversed(used):
        member = link.member(name)
        if member is None:
            after = f" (the topic is in the later link {members[0].set_id})" if members else ""
            raise ConfigError(f"backup set {link.set_id} has no member for topic '{name}'{after}, and the topic's "
                              "chain does not start after it: the chain is broken for this topic; restore it from "
                              "an earlier set, or leave it out with --topics")
        members.insert(0, MemberLink(link.set_id, int(link.chain.get("link", 0)), member))
        if member.chain_start:
            break
    first = members[0]
    restarted = None
    if first.set_id != used[0].set_id:
        why = first.member.note or "the topic is new since the base"
        restarted = f"restored from link {first.link} ({first.set_id}) on: {why}"
    return TopicPlan(name, target, tuple(members), restarted)
