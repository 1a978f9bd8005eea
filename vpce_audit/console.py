"""Everything vpce-audit writes to stderr: progress, warnings, errors and log records.

One place, so that AWS-supplied text in a message (an error from the API, a resource name in a
notice) is shown through ``safe_text.terminal_text`` and never reaches a terminal or a CI log
raw.
"""

from __future__ import annotations

import logging
import sys

from vpce_audit.safe_text import terminal_text

PREFIX = "vpce-audit: "


def say(message: str) -> None:
    print(terminal_text(PREFIX + message), file=sys.stderr, flush=True)


def warn(message: str) -> None:
    say(f"warning: {message}")


def error(message: str) -> None:
    say(f"error: {message}")


class SafeFormatter(logging.Formatter):
    """Log records as ``vpce-audit: LEVEL: message``, made safe like every other line."""

    def __init__(self) -> None:
        super().__init__(PREFIX + "%(levelname)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return terminal_text(super().format(record))
