"""The console script's first code: interrupts are handled before the heavy imports.

Importing the CLI loads boto3 and botocore (about half a second); a Ctrl-C in that window would
otherwise print a KeyboardInterrupt traceback. Until ``cli.entry`` installs its own handlers, an
interrupt ends the process at once with the documented exit code.
"""

from __future__ import annotations

import gc
import os
import signal

_EXIT_CODES = {signal.SIGINT: (130, b"interrupted"), signal.SIGTERM: (143, b"terminated")}


def _stop_while_starting(signum: int, _frame: object) -> None:
    code, word = _EXIT_CODES[signal.Signals(signum)]
    os.write(2, b"vpce-audit: " + word + b"; nothing was written\n")
    os._exit(code)


GC_THRESHOLDS = (100_000, 50, 100)
"""A scan builds hundreds of thousands of long-lived objects that hold no reference cycles (the
snapshot's model, findings); at Python's default thresholds the collector walks them again and
again, a third of an offline scan's CPU (docs/performance.md). Collections still run, rarely."""


def run() -> None:
    for signum in _EXIT_CODES:
        signal.signal(signum, _stop_while_starting)
    from vpce_audit.cli import entry

    # The modules just imported live as long as the process: out of every collection.
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    entry()
