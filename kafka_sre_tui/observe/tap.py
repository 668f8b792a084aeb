"""Where the command line hands a job's progress events to observers (log, metrics, notifications)
besides its own printer. ``tapped(printer)`` is the one line each command adds; nothing new runs
in the engine's hot paths, and an observer that fails never stops the job."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import TypeVar

E = TypeVar("E")
Listener = Callable[[object], None]

_listeners: list[Listener] = []
_log = logging.getLogger("kafka_sre_tui.observe")


def tapped(emit: Callable[[E], None]) -> Callable[[E], None]:
    """``emit`` followed by every listener."""
    def both(event: E) -> None:
        emit(event)
        for listener in tuple(_listeners):
            try:
                listener(event)
            except Exception:  # an observer's bug must not fail a backup
                _log.exception("observer failed on %s", type(event).__name__)
    return both


@contextlib.contextmanager
def listening(listener: Listener) -> Iterator[None]:
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)
