"""Everything vpce-audit writes to stderr: progress, warnings, errors and log records.

One place, so that AWS-supplied text in a message (an error from the API, a resource name in a
notice) is shown through ``safe_text.terminal_text`` and never reaches a terminal or a CI log
raw.
"""

from __future__ import annotations

import logging
import sys

from vpce_audit.safe_text import neutralise_commands, terminal_text, visible

PREFIX = "vpce-audit: "


MAX_LINE = 1000
"""Characters of one stderr line; a 100 KB argument echoed in an error stays readable."""


def line(message: str) -> str:
    """One stderr line: a line break inside ``message`` is shown, not obeyed, so AWS text
    cannot forge a line of its own."""
    text = visible(PREFIX + message)
    if len(text) > MAX_LINE:
        text = text[: MAX_LINE - 1] + "…"
    return neutralise_commands(text)


def say(message: str) -> None:
    print(line(message), file=sys.stderr, flush=True)


def warn(message: str) -> None:
    say(f"warning: {message}")


def error(message: str) -> None:
    say(f"error: {message}")


class SafeFormatter(logging.Formatter):
    """Log records as ``vpce-audit: LEVEL: message``, made safe like every other line."""

    def __init__(self) -> None:
        super().__init__("%(levelname)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        return line(super().formatMessage(record))

    def format(self, record: logging.LogRecord) -> str:
        # The message is one line; a traceback (-vv) keeps its lines, each made safe.
        return terminal_text(super().format(record))
