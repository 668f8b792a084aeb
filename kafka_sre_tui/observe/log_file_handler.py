"""The rotating log file handler, apart from the formatting so a command that logs nothing never loads
``logging.handlers`` (which brings socket, pickle and queue)."""

from __future__ import annotations

import io
import logging.handlers
import os


class OwnerOnlyRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Every file it opens, first or after a rotation, is created 0600."""

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)
        return io.TextIOWrapper(io.FileIO(fd, "a"), encoding=self.encoding, errors=self.errors,
                                write_through=True)
