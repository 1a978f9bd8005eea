"""How far a collection has got: what a progress display reads, whatever draws it.

The collectors count; they do not draw. ``Tally`` is written by the runner's threads and read by
a display thread (``vpce_audit.progress``), so every field is read and written under one lock.
API calls are counted by botocore's ``before-call`` event on every client vpce-audit makes (one
per request page, retries not counted), process-wide: a display shows the calls made since it
started.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class TallyView:
    accounts: int
    accounts_done: int
    scopes: int
    """Account-regions to collect; 0 until the accounts' regions are known."""
    scopes_done: int
    calls: int
    errors: int
    elapsed: float


class Tally:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._calls_at_start = api_calls()
        self._accounts = self._accounts_done = self._scopes = self._scopes_done = 0
        self._errors = 0

    def plan(
        self, *, accounts: int | None = None, scopes: int | None = None, more_scopes: int = 0
    ) -> None:
        """Totals to reach; ``more_scopes``: account-regions of one more account became known."""
        with self._lock:
            if accounts is not None:
                self._accounts = accounts
            if scopes is not None:
                self._scopes = scopes
            self._scopes += more_scopes

    def scope_done(self, errors: int) -> None:
        with self._lock:
            self._scopes_done += 1
            self._errors += errors

    def account_done(self, errors: int = 0) -> None:
        with self._lock:
            self._accounts_done += 1
            self._errors += errors

    def view(self) -> TallyView:
        with self._lock:
            return TallyView(
                accounts=self._accounts,
                accounts_done=self._accounts_done,
                scopes=self._scopes,
                scopes_done=self._scopes_done,
                calls=api_calls() - self._calls_at_start,
                errors=self._errors,
                elapsed=time.monotonic() - self._started,
            )


class _CallCounter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0

    def add(self) -> None:
        with self._lock:
            self._count += 1

    @property
    def count(self) -> int:
        with self._lock:
            return self._count


_CALLS = _CallCounter()


def count_call(**_event: object) -> None:
    """botocore ``before-call`` handler: one API call (page) is about to be made."""
    _CALLS.add()


def api_calls() -> int:
    """API calls made by this process's clients so far."""
    return _CALLS.count
