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
from collections.abc import Callable
from dataclasses import dataclass

from vpce_audit.model import CollectionError


@dataclass(frozen=True)
class AccountFinished:
    """One account collected (or found unreachable): what a progress display says of it."""

    account_id: str
    regions: int
    """Account-regions collected (in this process's shard, with --processes)."""
    region_errors: int
    account_errors: tuple[CollectionError, ...]
    """Its account-wide errors (with --processes, each process records its own: the parent
    counts their union, as ``merge`` keeps it)."""
    reached: bool = True
    """False: its credentials could not be had (AssumeRole refused); nothing was collected."""
    denied: int = 0
    """Of ``regions``, those a service control policy refused: out of scope where the account
    answered in another region (``seen``), gaps in the scan where it answered in none."""
    seen: bool = True
    """Some region of the account answered (``snapshot.views.answered``); False for an account
    not reached."""


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
    scope_errors: int = 0
    """The part of ``errors`` recorded in account-regions (the rest is account-wide)."""


class Tally:
    def __init__(self, on_account: Callable[[AccountFinished], None] | None = None) -> None:
        """``on_account`` hears of each account finished, after it is counted."""
        self._on_account = on_account
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._calls_at_start = api_calls()
        self._accounts = self._accounts_done = self._scopes = self._scopes_done = 0
        self._errors = self._scope_errors = 0
        self._absorbed: dict[int, TallyView] = {}

    def plan(self, *, accounts: int | None = None, more_scopes: int = 0) -> None:
        """Totals to reach; ``more_scopes``: account-regions of one more account became known."""
        with self._lock:
            if accounts is not None:
                self._accounts = accounts
            self._scopes += more_scopes

    def scope_done(self, errors: int) -> None:
        with self._lock:
            self._scopes_done += 1
            self._errors += errors
            self._scope_errors += errors

    def account_done(self, finished: AccountFinished) -> None:
        with self._lock:
            self._accounts_done += 1
            self._errors += len(finished.account_errors)
        if self._on_account is not None:
            self._on_account(finished)

    def absorb(self, source: int, view: TallyView) -> None:
        """The latest counts of the collection in process ``source``: its account-regions,
        calls and account-region errors are added to this view. Accounts are not: every
        process collects every account, so the parent counts each once, with
        ``account_done``, when the last process is done with it."""
        with self._lock:
            self._absorbed[source] = view

    def view(self) -> TallyView:
        with self._lock:
            parts = self._absorbed.values()
            absorbed_errors = sum(p.scope_errors for p in parts)
            return TallyView(
                accounts=max((self._accounts, *(p.accounts for p in parts))),
                accounts_done=self._accounts_done,
                scopes=self._scopes + sum(p.scopes for p in parts),
                scopes_done=self._scopes_done + sum(p.scopes_done for p in parts),
                calls=api_calls() - self._calls_at_start + sum(p.calls for p in parts),
                errors=self._errors + absorbed_errors,
                elapsed=time.monotonic() - self._started,
                scope_errors=self._scope_errors + absorbed_errors,
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
