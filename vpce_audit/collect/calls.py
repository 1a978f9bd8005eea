"""The API-call boundary: every AWS call of a collector goes through ``ScopeCalls``.

It paginates, and it turns *any* failure into a recorded CollectionError instead of an
exception: AccessDenied, throttling that outlasted botocore's retries, a region that is not
enabled, and things no one planned for (moto raises NotImplementedError in-process and a
ResponseParserError through its server). The caller gets ``None`` and carries on; the snapshot
keeps the error, and the rules report the affected resources as skipped.

An answer is not trusted just because it came with HTTP 200. A page without its result element
(a captive portal's XHTML page parses as an empty EC2 answer) is ``MalformedResponse``, not "no
resources"; the JSON-protocol services may leave an empty list out, so there a missing element
is accepted only from an answer that carries AWS's request id. A body that cannot be parsed, or
ends early, is retried (``PARSE_ATTEMPTS``) like any transient fault. Pagination stops after
``MAX_PAGES`` pages (``PaginationLimitExceeded``): a token that changes forever would otherwise
loop forever. Each call (each page of a listing) has a wall-clock budget, its retries included:
botocore's read timeout restarts with every byte, so an endpoint that answers one byte at a time
would otherwise hold a call forever; past the budget the call is abandoned (its thread is a
daemon) and recorded as ``CallTimeout``. A scope has a deadline: once it passes, the scope's
remaining calls are recorded as ``ScopeTimeout`` without being made. Cancellation (Ctrl-C,
SIGTERM) makes every later call raise ``Cancelled``, which is not an ``Exception`` and so
passes through every boundary.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar, cast

from vpce_audit.collect.operations import allowed
from vpce_audit.model import CollectionError

log = logging.getLogger(__name__)

# Failures that say the whole region (or the credentials) is unusable, not one operation. After
# one of these, the remaining calls of the scope are recorded as failed without being made:
# a region that is not enabled would otherwise cost a retried round trip per resource kind.
SCOPE_FATAL_ERRORS = frozenset(
    {
        "OptInRequired",
        "AuthFailure",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "EndpointConnectionError",
        "ConnectTimeoutError",
    }
)
# Of those, the ones that say only one service's endpoint is unreachable: later calls to other
# services of the scope are still made.
SERVICE_FATAL_ERRORS = frozenset({"EndpointConnectionError", "ConnectTimeoutError"})

ACCESS_DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
"""How AWS services say "not allowed" (EC2 says UnauthorizedOperation)."""
SCP_DENY = "explicit deny in a service control policy"
"""How AWS words a denial by an SCP (IAM User Guide, "Troubleshoot access denied error
messages"): the region is outside what the organisation allows, not a failed collection."""
REGION_PROBE = "DescribeVpcs"
"""A region's first call: refused by an SCP, the region is out of scope (collect/region.py)."""

MAX_PAGES = 1000
"""Pages of one listing. AWS's largest pages hold 1,000 items, so this is a million resources of
one kind in one region: beyond any real estate, well short of forever."""
PARSE_ATTEMPTS = 3
"""Attempts at a call whose answer could not be read (truncated or garbled body)."""
JSON_PROTOCOLS = frozenset({"json", "rest-json"})
T = TypeVar("T")


UNREADABLE = (KeyError, TypeError, ValueError, AttributeError)
"""What translating an answer's item raises when it lacks, or mistypes, an element the model
needs."""


class Cancelled(BaseException):
    """The scan was interrupted. A BaseException, so no ``except Exception`` boundary keeps a
    worker thread calling AWS after the user asked it to stop."""


class MalformedResponse(Exception):
    """An HTTP 200 answer without the element the call is for."""


class PaginationLimitExceeded(Exception):
    """A listing went on for more than MAX_PAGES pages."""


class TruncatedListing(Exception):
    """An answer that says it holds only part of the list and gives no way to read the rest."""


MORE_WITHOUT_TOKEN = "AdditionalRoutesAvailable"
"""SearchTransitGatewayRoutes returns at most MaxResults (1,000) routes and says whether there
are more with this flag; a table holds up to 10,000. AWS's API reference now gives it a
NextToken, which botocore's paginator follows while the flag is true, but AWS has long answered
the flag without a token (re:Post, "SearchTransitGatewayRoutes ... AdditionalRoutesAvailable"),
and botocore then stops as if the list were whole. A table read in part would let the rules
conclude "no route there"."""


class ScopeTimeout(Exception):
    """The scope's deadline passed."""


class CallTimeout(Exception):
    """One call (or one page) went past its wall-clock budget."""


_END = object()


TIMEOUT_CODE = ScopeTimeout.__name__


CANCELLED = threading.Event()
"""Set once, on the first interrupt: every scope stops making calls."""


def _parse_failure(error: BaseException) -> bool:
    """A body that could not be read: garbled, cut short, or the connection closed mid-way."""
    from botocore.exceptions import IncompleteReadError, ResponseStreamingError
    from botocore.parsers import ResponseParserError

    return isinstance(error, (ResponseParserError, IncompleteReadError, ResponseStreamingError))


class ExpectedAnswer(Exception):
    """An error code the caller declared to be an answer, not a failure (e.g. ListAccounts
    refused in a member account). Raised by ``ScopeCalls.items``; nothing is recorded."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _service_of(client: Any) -> str:
    return str(client.meta.service_model.service_name)


def snake_case(operation: str) -> str:
    """The boto3 method name of an operation, as botocore derives it (ListHostedZonesByVPC ->
    list_hosted_zones_by_vpc)."""
    from botocore import xform_name

    return str(xform_name(operation))


def describe_error(error: BaseException) -> tuple[str, str]:
    """(error code, message) for any exception raised by a boto3 call."""
    response = getattr(error, "response", None)
    if isinstance(response, Mapping):
        details = response.get("Error") or {}
        code = str(details.get("Code") or type(error).__name__)
        message = str(details.get("Message") or error)
        return code, message
    text = str(error) or type(error).__name__
    return type(error).__name__, text.splitlines()[0][:500]


class ScopeCalls:
    """Makes the calls of one account-region (or the account's global calls) and keeps errors."""

    def __init__(
        self,
        account_id: str,
        region: str,
        deadline: float | None = None,
        call_budget: float | None = None,
    ) -> None:
        """``deadline``: a ``time.monotonic()`` instant after which no call is made;
        ``call_budget``: seconds one call (one page) may take, retries included."""
        self.account_id = account_id
        self.region = region
        self.deadline = deadline
        self.call_budget = call_budget
        self._errors: list[CollectionError] = []
        # Scope-wide failures under None; failures of one service's endpoint under its name.
        self._fatal: dict[str | None, tuple[str, str]] = {}
        self._lock = threading.Lock()

    @property
    def errors(self) -> tuple[CollectionError, ...]:
        with self._lock:
            return tuple(self._errors)

    def adopt(self, errors: Iterable[CollectionError]) -> None:
        """Errors recorded (and logged) by another ScopeCalls of this scope: a trial whose
        failures count only if no other attempt succeeded."""
        with self._lock:
            self._errors.extend(errors)

    def record(
        self,
        service: str,
        operation: str,
        error: BaseException,
        kind: str,
        resource_id: str | None = None,
    ) -> None:
        code, message = describe_error(error)
        self._store(
            service=service,
            operation=operation,
            code=code,
            message=message,
            kind=kind,
            resource_id=resource_id,
        )

    def _store(
        self,
        *,
        service: str,
        operation: str,
        code: str,
        message: str,
        kind: str,
        resource_id: str | None,
    ) -> None:
        # A region an SCP denies (Control Tower's region deny) is said once, as out of scope,
        # when the snapshot is evaluated: a warning here would repeat it for every account of
        # the organisation (one per denied region each).
        denied_region = (
            operation in (REGION_PROBE, "DescribeRegions")
            and code in ACCESS_DENIED_CODES
            and SCP_DENY in message
        )
        log.log(
            logging.INFO if denied_region else logging.WARNING,
            "%s %s/%s %s failed: %s: %s",
            service,
            self.account_id,
            self.region,
            operation + (f" ({resource_id})" if resource_id else ""),
            code,
            message,
        )
        with self._lock:
            if code in SCOPE_FATAL_ERRORS:
                key = service if code in SERVICE_FATAL_ERRORS else None
                self._fatal.setdefault(key, (code, message))
            self._errors.append(
                CollectionError(
                    account_id=self.account_id,
                    region=self.region,
                    service=service,
                    operation=operation,
                    error_code=code,
                    message=message,
                    resource_kind=kind,
                    resource_id=resource_id,
                )
            )

    def past_deadline(self) -> bool:
        return self.deadline is not None and time.monotonic() > self.deadline

    def _refuse(self, service: str, operation: str, kind: str, resource_id: str | None) -> bool:
        """Record, without calling, a call that the deadline or an earlier scope-wide failure
        makes pointless; raise Cancelled once the scan is interrupted."""
        if CANCELLED.is_set():
            raise Cancelled()
        if self.past_deadline():
            code = TIMEOUT_CODE
            message = "not attempted: the scope's deadline (--scope-timeout) had passed"
        else:
            with self._lock:
                fatal = self._fatal.get(None) or self._fatal.get(service)
            if fatal is None:
                return False
            code, message = fatal[0], f"not attempted after an earlier {fatal[0]}: {fatal[1]}"
        self._store(
            service=service,
            operation=operation,
            code=code,
            message=message,
            kind=kind,
            resource_id=resource_id,
        )
        return True

    def _attempt(self, call: Callable[[], T]) -> T:
        """``call()``, again when its answer could not be read (a transient fault botocore's
        retries do not cover)."""
        for attempt in range(1, PARSE_ATTEMPTS + 1):
            try:
                return call()
            except Exception as error:
                if attempt == PARSE_ATTEMPTS or not _parse_failure(error) or self.past_deadline():
                    raise
                if CANCELLED.is_set():
                    raise Cancelled() from None
                time.sleep(0.2 * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _check_page(self, client: Any, page: Mapping[str, Any], result_key: str) -> None:
        if result_key in page:
            return
        protocol = client.meta.service_model.protocol
        request_id = (page.get("ResponseMetadata") or {}).get("RequestId")
        if protocol in JSON_PROTOCOLS and request_id:
            return  # AWS's JSON services may leave an empty list out of a real answer
        raise MalformedResponse(f"the answer has no {result_key} element")

    def _pages(
        self, client: Any, method: str, result_key: str, params: dict[str, Any]
    ) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        pages = self._bounded(lambda: self._page_iterator(client, method, params))
        for number, page in enumerate(pages, start=1):
            if number > MAX_PAGES:
                raise PaginationLimitExceeded(
                    f"stopped after {MAX_PAGES} pages; the listing is incomplete"
                )
            self._check_page(client, page, result_key)
            found.extend(page.get(result_key) or [])
            if page.get(MORE_WITHOUT_TOKEN) is True and not page.get("NextToken"):
                raise TruncatedListing(
                    f"the answer holds the first {len(found)} {result_key}, says there are more "
                    "and gives no token to read them; the list is incomplete"
                )
            if CANCELLED.is_set():
                raise Cancelled()
            if self.past_deadline():
                raise ScopeTimeout("the scope's deadline (--scope-timeout) passed mid-listing")
        return found

    def _bounded(self, produce: Callable[[], Iterable[T]]) -> Iterator[T]:
        return bounded_items(produce, self.call_budget)

    def _within_budget(self, call: Callable[..., T], params: dict[str, Any]) -> T:
        if self.call_budget is None:
            return call(**params)
        return CALL_THREADS.within(lambda: call(**params), self.call_budget)

    @staticmethod
    def _page_iterator(client: Any, method: str, params: dict[str, Any]) -> Any:
        if client.can_paginate(method):
            return client.get_paginator(method).paginate(**params)
        return _token_pages(getattr(client, method), params)

    def items(
        self,
        client: Any,
        operation: str,
        result_key: str,
        kind: str,
        *,
        resource_id: str | None = None,
        expected_errors: frozenset[str] = frozenset(),
        **params: Any,
    ) -> list[dict[str, Any]] | None:
        """Every item under ``result_key`` across all pages, or None if the call failed.

        An error whose code is in ``expected_errors`` raises ExpectedAnswer instead.
        """
        service = _service_of(client)
        allowed(service, operation)
        method = snake_case(operation)
        if self._refuse(service, operation, kind, resource_id):
            return None
        try:
            return self._attempt(lambda: self._pages(client, method, result_key, params))
        except Exception as error:  # the boundary: every failure becomes data
            code, _ = describe_error(error)
            if code in expected_errors:
                raise ExpectedAnswer(code) from None
            self.record(service, operation, error, kind, resource_id)
            return None

    def single(
        self,
        client: Any,
        operation: str,
        kind: str,
        *,
        resource_id: str | None = None,
        expected_errors: frozenset[str] = frozenset(),
        required: tuple[str, ...] = (),
        **params: Any,
    ) -> dict[str, Any] | None:
        """One call's whole response; None if it failed or lacks an element of ``required``.

        An error whose code is in ``expected_errors`` is part of the answer, not a failure: it is
        returned as ``{"Error": code}`` and not recorded.
        """
        service = _service_of(client)
        allowed(service, operation)
        if self._refuse(service, operation, kind, resource_id):
            return None
        call = getattr(client, snake_case(operation))
        try:
            response: dict[str, Any] = self._attempt(lambda: self._within_budget(call, params))
            missing = [key for key in required if key not in response]
            if missing:
                raise MalformedResponse(f"the answer has no {missing[0]} element")
            return response
        except Exception as error:
            code, _ = describe_error(error)
            if code in expected_errors:
                return {"Error": code}
            self.record(service, operation, error, kind, resource_id)
            return None

    def convert(
        self,
        service: str,
        operation: str,
        kind: str,
        convert: Callable[..., T],
        *args: Any,
        resource_id: str | None = None,
    ) -> T | None:
        """``convert(*args)`` on answered items; an answer missing an element the model needs
        (a zone without Id) is recorded against the whole kind, or against ``resource_id``
        when the answer was about that resource only, and None returned."""
        try:
            return convert(*args)
        except UNREADABLE as error:
            detail = f"the {error.args[0]} element" if isinstance(error, KeyError) else str(error)
            self._store(
                service=service,
                operation=operation,
                code=MalformedResponse.__name__,
                message=f"an item of the answer could not be read ({detail[:200]})",
                kind=kind,
                resource_id=resource_id,
            )
            return None


class _Outcome:
    """One call's answer, handed from the thread that made it to the caller waiting for it.

    The caller waits on a lock the answering thread releases: one C-level lock per call, where
    a ``Future`` and ``concurrent.futures.wait`` build a condition, an event and a waiter list
    (77 against 21 microseconds of CPU per hand-over, and more under contention)."""

    __slots__ = ("error", "ready", "value")

    def __init__(self) -> None:
        self.ready = threading.Lock()
        self.ready.acquire()  # released once the answer is in
        self.value: Any = None
        self.error: BaseException | None = None


def bounded_items(produce: Callable[[], Iterable[T]], budget: float | None) -> Iterator[T]:
    """The items of ``produce()`` (a paginator's pages), each within ``budget`` seconds of asking
    for it; CallTimeout past it, and None: no bound.

    Each item is fetched by one of ``CALL_THREADS``' daemon threads while this thread waits,
    so a page is fetched only when the previous one was taken, and an abandoned listing makes
    no further call."""
    if budget is None:
        yield from produce()
        return
    items = CALL_THREADS.within(lambda: iter(produce()), budget)
    while True:
        item: Any = CALL_THREADS.within(lambda: next(items, _END), budget)
        if item is _END:
            return
        yield cast("T", item)


class CallThreads:
    """Daemon threads that make calls for callers who wait at most a budget for each.

    A caller that gives up leaves the call to its thread (a daemon: an answer that never ends
    does not keep the process alive) and goes on. The threads are reused: starting a thread
    and handing pages over through a queue, per call, was a tenth of a scan's CPU
    (benchmarks/bench_org_latency.py). A thread is started only when none is free, so there are
    as many as the most calls ever in flight at once, plus those abandoned."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], _Outcome]] = queue.SimpleQueue()
        self._free = 0
        self._lock = threading.Lock()

    def within(self, call: Callable[[], T], budget: float) -> T:
        """``call()``'s value (or its exception), or CallTimeout after ``budget`` seconds."""
        outcome = _Outcome()
        with self._lock:
            if self._free:
                self._free -= 1  # that thread is this job's
            else:
                threading.Thread(target=self._serve, name="aws-call", daemon=True).start()
        self._jobs.put((call, outcome))
        # Not max(budget, 0): a NaN budget would reach acquire() and raise ValueError.
        if not outcome.ready.acquire(timeout=budget if budget > 0 else 0.0):
            raise CallTimeout(
                f"no answer within {budget:.0f} s (every attempt, backoff and request pacing"
                " included); the call was abandoned"
            )
        error, value = outcome.error, outcome.value
        # The raised error's traceback keeps this frame alive: the frame must not keep the
        # error in turn (through ``outcome`` or ``error``), or both wait for the cycle collector.
        del outcome
        if error is None:
            return cast(T, value)
        try:
            raise error
        finally:
            del error

    def _serve(self) -> None:
        while True:
            call, outcome = self._jobs.get()
            try:
                outcome.value = call()
            except BaseException as raised:  # handed to the caller's thread, raised there
                outcome.error = raised
            with self._lock:  # free before the caller wakes: its next call may take this thread
                self._free += 1
            outcome.ready.release()
            del call, outcome  # an idle thread keeps no answer alive

    def forget_threads(self) -> None:
        """In a forked child: the parent's threads are not there."""
        self._jobs = queue.SimpleQueue()
        self._free = 0
        self._lock = threading.Lock()


CALL_THREADS = CallThreads()
os.register_at_fork(after_in_child=CALL_THREADS.forget_threads)


def _token_pages(call: Callable[..., dict[str, Any]], params: dict[str, Any]) -> Any:
    """Pages of an operation botocore has no paginator for, following NextToken."""
    request = dict(params)
    seen: set[str] = set()
    while True:
        page = call(**request)
        yield page
        token = page.get("NextToken")
        if not token:
            return
        if token in seen:
            raise PaginationLimitExceeded("the same pagination token came back twice")
        seen.add(token)
        request["NextToken"] = token
