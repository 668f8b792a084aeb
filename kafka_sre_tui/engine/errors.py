"""Typed errors. Each carries one line a user can act on: what failed, on what, what to do."""

from __future__ import annotations


class KsreError(Exception):
    """Base of every error this project reports to a user. ``retriable`` means trying the same
    thing again later may work (a broker restarting), not that the input is wrong."""

    retriable: bool = False
    exit_code: int = 1


class ConfigError(KsreError):
    """The configuration or the command's input is wrong; exit code 2."""

    exit_code = 2


class ClusterUnreachable(KsreError):
    retriable = True


class AuthenticationFailed(KsreError):
    pass


class AuthorizationFailed(KsreError):
    pass


class NotFound(KsreError):
    """A topic or group that does not exist on the cluster."""


class KafkaRequestFailed(KsreError):
    """Kafka answered a request with an error code we do not handle more specifically."""

    def __init__(self, message: str, retriable: bool = False) -> None:
        super().__init__(message)
        self.retriable = retriable


class Refused(KsreError):
    """A write operation refused before its first write (a check failed); nothing was written.
    Mixed into the refusals of restore and migration so the audit log records them as refused."""
