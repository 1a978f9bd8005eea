"""What a collection shows on stderr while it runs.

* A terminal (and neither ``-q`` nor ``-v``): one live line drawn by tqdm, redrawn four times a
  second: account-regions done / total as a bar and as numbers, accounts done / total (for
  several), API calls, collection errors and elapsed time, e.g.
  ``12/64 regions · 3/16 accounts · 1,234 calls · 0 errors · 00:12`` after the bar.
  Messages meant to stay (one per account of an organisation scan) are
  printed above it. The line is cleared when collection ends.
* ``-v``: every step as a line (what a log wants).
* No terminal (CI): for several accounts, one line per account and a summary; nothing else.
* ``-q``: nothing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Iterator
from typing import TextIO

from vpce_audit.collect.tally import Tally, TallyView
from vpce_audit.console import line
from vpce_audit.safe_text import terminal_text

REFRESH_SECONDS = 0.25
DEFAULT_WIDTH = 80
DEFAULT_HEIGHT = 24


def describe(view: TallyView) -> str:
    """The counters as the live line shows them (after the bar)."""
    regions = f"{view.scopes_done}/{view.scopes} regions" if view.scopes else "listing regions"
    accounts = f"{view.accounts_done}/{view.accounts} accounts" if view.accounts > 1 else ""
    errors = f"{view.errors} error{'s' if view.errors != 1 else ''}"
    minutes, seconds = divmod(int(view.elapsed), 60)
    parts = [regions, accounts, f"{view.calls:,} calls", errors, f"{minutes:02d}:{seconds:02d}"]
    return " · ".join(part for part in parts if part)


class LiveLine:
    """The live line on a terminal, and ``message`` for lines that stay above it."""

    def __init__(self, tally: Tally, stream: TextIO | None = None) -> None:
        from tqdm import tqdm

        self._tally = tally
        self._stream = stream or sys.stderr
        # Only our own counters are drawn: no AWS-supplied text reaches the live line.
        self._bar = tqdm(
            total=1,
            file=self._stream,
            bar_format="{bar:16} {desc}",
            leave=False,
            ncols=self._size().columns,
            nrows=self._size().lines,
            mininterval=0,
        )
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._tick, name="progress", daemon=True)

    def _size(self) -> os.terminal_size:
        # The terminal's size now (it may be resized); a pseudo-terminal may report 0 x 0, and
        # tqdm then draws nothing.
        try:
            size = os.get_terminal_size(self._stream.fileno())
        except (OSError, ValueError, AttributeError):
            size = os.terminal_size((0, 0))
        return os.terminal_size((size.columns or DEFAULT_WIDTH, size.lines or DEFAULT_HEIGHT))

    def start(self) -> None:
        self._draw()
        self._thread.start()

    def _tick(self) -> None:
        while not self._stop.wait(REFRESH_SECONDS):
            self._draw()

    def _draw(self) -> None:
        view = self._tally.view()
        with self._lock:
            self._bar.ncols = self._size().columns
            self._bar.total = max(view.scopes, 1)
            self._bar.n = view.scopes_done
            self._bar.set_description_str(describe(view), refresh=False)
            self._bar.refresh()

    def say(self, message: str) -> None:
        """``console.say`` above the live line."""
        self.write(line(message))

    def write(self, text: str) -> None:
        """A finished stderr line (``console.line``, a log record) above the live line."""
        with self._lock:
            self._bar.write(terminal_text(text), file=self._stream)

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self._draw()  # the final counts, before the line is cleared
        with self._lock:
            self._bar.close()


class _AboveTheLine(logging.Handler):
    """Log records (collection warnings) printed above the live line, not through it."""

    def __init__(self, live: LiveLine, formatter: logging.Formatter | None) -> None:
        super().__init__()
        self._live = live
        self.setFormatter(formatter)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._live.write(self.format(record))
        except Exception:  # a display problem must not stop the scan
            self.handleError(record)


@contextlib.contextmanager
def live_line(tally: Tally, stream: TextIO | None = None) -> Iterator[LiveLine]:
    live = LiveLine(tally, stream)
    logger = logging.getLogger("vpce_audit")
    handlers = logger.handlers[:]
    logger.handlers[:] = [_AboveTheLine(live, h.formatter) for h in handlers] or handlers
    live.start()
    try:
        yield live
    finally:
        live.close()
        logger.handlers[:] = handlers
