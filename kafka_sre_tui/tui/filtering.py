"""The `/` filter, as in k9s: a regular expression; a leading `!` keeps what does not match."""

from __future__ import annotations

import re
from collections.abc import Callable


def matcher(text: str) -> Callable[[str], bool]:
    inverted = text.startswith("!")
    pattern = text[1:] if inverted else text
    if not pattern:
        return lambda _name: True
    try:
        search = re.compile(pattern, re.IGNORECASE).search
    except re.error:  # half-typed expressions still filter, as plain text
        lowered = pattern.lower()

        def search(name: str) -> bool:  # type: ignore[misc]
            return lowered in name.lower()

    return (lambda name: not search(name)) if inverted else (lambda name: bool(search(name)))
