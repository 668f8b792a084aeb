"""Which records a scan keeps: regular expressions over the value, the key and headers (all must match)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kafka_sre_tui.engine.errors import ConfigError
from kafka_sre_tui.engine.records.model import Record


@dataclass(frozen=True)
class HeaderMatch:
    name: str
    pattern: re.Pattern[bytes] | None  # None: the header only has to be present

    def matches(self, headers: tuple[tuple[str, bytes | None], ...]) -> bool:
        return any(name == self.name and (self.pattern is None or (value is not None and self.pattern.search(value)))
                   for name, value in headers)


@dataclass(frozen=True)
class RecordFilter:
    """``grep`` searches the value, ``key`` the key (a null key or value never matches); each
    ``headers`` entry needs one header of that name (whose value matches, when a pattern is given)."""

    grep: re.Pattern[bytes] | None = None
    key: re.Pattern[bytes] | None = None
    headers: tuple[HeaderMatch, ...] = field(default=())

    @classmethod
    def parse(cls, grep: str | None = None, key: str | None = None, headers: tuple[str, ...] = ()) -> RecordFilter:
        """From the command line's texts: ``--grep REGEX``, ``--key REGEX``, ``--header NAME[=REGEX]``."""
        matches = []
        for text in headers:
            name, has_pattern, pattern = text.partition("=")
            if not name:
                raise ConfigError(f"--header needs a name, as NAME or NAME=REGEX; got '{text}'")
            matches.append(HeaderMatch(name, _compile(pattern, "--header") if has_pattern else None))
        return cls(_compile(grep, "--grep"), _compile(key, "--key"), tuple(matches))

    @property
    def active(self) -> bool:
        return bool(self.grep or self.key or self.headers)

    def matches(self, record: Record) -> bool:
        if self.grep is not None and (record.value is None or not self.grep.search(record.value)):
            return False
        if self.key is not None and (record.key is None or not self.key.search(record.key)):
            return False
        return all(h.matches(record.headers) for h in self.headers)


def _compile(text: str | None, option: str) -> re.Pattern[bytes] | None:
    if text is None:
        return None
    try:
        return re.compile(text.encode())
    except re.error as exc:
        raise ConfigError(f"{option}: not a regular expression ({exc}): '{text}'") from None
