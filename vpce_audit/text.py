"""Bounded input files, and bounded renderings of what they hold for error messages.

An error message quotes the offending value so the user can find it, but the value comes from
the file: it can be megabytes long, hold control characters, or be a number too long to print.
Every message that quotes file content goes through ``brief`` (a value) or ``clip`` (a text
from a parser), so a message stays one short line whatever the file holds. Files are read with
``read_bounded``, so ``--snapshot /dev/zero`` ends in an error instead of exhausting memory.
"""

from __future__ import annotations

import os
import reprlib
import stat
from pathlib import Path

LIMIT = 60

_REPR = reprlib.Repr()
_REPR.maxlevel = 2
_REPR.maxstring = LIMIT
_REPR.maxother = LIMIT
for _name in ("maxlist", "maxtuple", "maxdict", "maxset", "maxfrozenset", "maxdeque", "maxarray"):
    setattr(_REPR, _name, 4)


def brief(value: object, limit: int = LIMIT) -> str:
    """``repr(value)``, cut to about ``limit`` characters (``...`` marks a cut)."""
    if isinstance(value, str):
        return _cut(repr(value[:limit]), limit, cut=len(value) > limit)
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 4 * limit:
        # repr() refuses integers above 4,300 digits; the size is what matters anyway.
        return f"<a number of {value.bit_length()} bits>"
    try:
        return _cut(_REPR.repr(value), limit, cut=False)
    except ValueError:  # an integer too long to print, nested in a container
        return f"<{type(value).__name__}>"


def clip(text: object, limit: int = 2 * LIMIT) -> str:
    """A parser's message on one line, without control characters, cut to ``limit``."""
    flat = " ".join(str(text).split())
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in flat[:limit])
    return _cut(shown, limit, cut=len(flat) > limit)


def _cut(rendered: str, limit: int, *, cut: bool) -> str:
    # Escapes can make the repr of ``limit`` characters several times longer.
    if len(rendered) > limit + 2:
        return rendered[: limit + 2] + "..."
    return rendered + "..." if cut else rendered


class TooLarge(ValueError):
    """A file larger than its kind may be."""


def read_bounded(path: Path, limit: int) -> str:
    """The UTF-8 text of ``path``; TooLarge beyond ``limit`` bytes (OSError and
    UnicodeDecodeError as ``Path.read_text`` raises them)."""
    with open(path, "rb") as handle:
        status = os.fstat(handle.fileno())
        # A device (/dev/zero, /dev/urandom) is no file of ours; a regular file says its size
        # before a byte is read. Pipes (/dev/stdin from a shell) are read up to the limit.
        if stat.S_ISCHR(status.st_mode) or stat.S_ISBLK(status.st_mode):
            raise TooLarge("it is a device, not a file")
        if stat.S_ISREG(status.st_mode) and status.st_size > limit:
            raise TooLarge(f"larger than {limit:,} bytes")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"larger than {limit:,} bytes")
    return data.decode("utf-8")
