"""Timestamps in one format everywhere: ISO 8601, UTC, whole seconds, 'Z' suffix."""

from __future__ import annotations

import os
from datetime import datetime, timezone


def _format(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def utc_now() -> str:
    """Now; or, when SOURCE_DATE_EPOCH is set (the reproducible-builds convention), that
    moment, so that two runs over the same estate write the same bytes."""
    fixed = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if fixed.isdigit():
        return _format(datetime.fromtimestamp(int(fixed), timezone.utc))
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
