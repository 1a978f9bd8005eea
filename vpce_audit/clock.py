"""Timestamps in one format everywhere: ISO 8601, UTC, whole seconds, 'Z' suffix."""

from __future__ import annotations

import os
from datetime import datetime, timezone

from vpce_audit.text import brief


def _format(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


LAST_EPOCH = 253_402_300_799
"""9999-12-31T23:59:59Z: the last second a four-digit year can write."""


def source_date_epoch() -> int | None:
    """SOURCE_DATE_EPOCH (the reproducible-builds convention): None when unset or empty.
    Anything but a whole number of seconds from 1970 to the year 9999 is a ValueError: the
    convention asks a malformed value to stop the run, and a timestamp silently taken from the
    clock instead would break the byte-for-byte promise the variable was set for."""
    text = os.environ.get("SOURCE_DATE_EPOCH", "")
    if not text:
        return None
    # ASCII digits (str.isdigit accepts other scripts'), and the length before int(): int() of
    # thousands of digits is refused (or slow).
    if (
        not (text.isascii() and text.isdigit())
        or len(text.lstrip("0")) > len(str(LAST_EPOCH))
        or int(text) > LAST_EPOCH
    ):
        raise ValueError(
            f"SOURCE_DATE_EPOCH is {brief(text, 40)}, not a whole number of seconds since "
            f"1970-01-01 up to {LAST_EPOCH} (the year 9999)"
        )
    return int(text)


def utc_now() -> str:
    """Now; or, when SOURCE_DATE_EPOCH is set, that moment, so that two runs over the same
    estate write the same bytes. A malformed SOURCE_DATE_EPOCH is a ValueError
    (``source_date_epoch``): the CLI refuses it before any work, and a collection checks it
    when it starts, not when it stamps its snapshot."""
    fixed = source_date_epoch()
    if fixed is not None:
        return _format(datetime.fromtimestamp(fixed, timezone.utc))
    return _format(datetime.now(timezone.utc))


def utc_text(moment: datetime) -> str:
    """``moment`` in the one format; a naive datetime is taken to be UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return _format(moment.astimezone(timezone.utc))


def parse_utc(text: str) -> datetime | None:
    """The inverse of ``utc_text``; None for text that is not such a timestamp."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
