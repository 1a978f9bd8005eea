"""The console script's first code: interrupts are handled before the heavy imports.

Importing the CLI loads boto3 and botocore (about half a second); a Ctrl-C in that window would
otherwise print a KeyboardInterrupt traceback. Until ``cli.entry`` installs its own handlers, an
interrupt ends the process at once with the documented exit code.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
from collections.abc import Iterator

_EXIT_CODES = {signal.SIGINT: (130, b"interrupted"), signal.SIGTERM: (143, b"terminated")}


def _stop_while_starting(signum: int, _frame: object) -> None:
    code, word = _EXIT_CODES[signal.Signals(signum)]
    os.write(2, b"vpce-audit: " + word + b"; nothing was written\n")
    os._exit(code)


GC_THRESHOLDS = (100_000, 50, 100)
"""A scan builds hundreds of thousands of long-lived objects that hold no reference cycles (the
snapshot's model, findings); at Python's default thresholds the collector walks them again and
again, a third of an offline scan's CPU (docs/performance.md). Collections still run, rarely."""


@contextlib.contextmanager
def cycles_uncollected() -> Iterator[None]:
    """The cyclic garbage collector off while a snapshot is decoded, its rules run and its
    reports render. Those build millions of objects and no reference cycles (the model, findings,
    strings), so every collection the thresholds above still make walks them for nothing: 0.7-1
    s of an 8 s offline scan of 17,000 VPCs, with the same peak memory when off
    (docs/performance.md). Reference counting frees everything as before; only a cycle made
    meanwhile waits for the collector's return. A live collection keeps it on: botocore's
    clients and threads do make cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def run() -> None:
    for signum in _EXIT_CODES:
        signal.signal(signum, _stop_while_starting)
    from vpce_audit.cli import entry

    # The modules just imported live as long as the process: out of every collection.
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    entry()
