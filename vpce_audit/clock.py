"""Timestamps in one format everywhere: ISO 8601, UTC, whole seconds, 'Z' suffix."""

from __future__ import annotations

from datetime import datetime, timezone


def utc_now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
