"""The API-call boundary: every AWS call of a collector goes through ``ScopeCalls``.

It paginates, and it turns *any* failure into a recorded CollectionError instead of an
exception: AccessDenied, throttling that outlasted botocore's retries, a region that is not
enabled, and things no one planned for (moto raises NotImplementedError in-process and a
ResponseParserError through its server). The caller gets ``None`` and carries on; the snapshot
keeps the error, and the rules report the affected resources as skipped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

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

    def __init__(self, account_id: str, region: str) -> None:
        self.account_id = account_id
        self.region = region
        self._errors: list[CollectionError] = []
        # Scope-wide failures under None; failures of one service's endpoint under its name.
        self._fatal: dict[str | None, tuple[str, str]] = {}
        self._lock = threading.Lock()

    @property
    def errors(self) -> tuple[CollectionError, ...]:
        with self._lock:
            return tuple(self._errors)

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
        log.warning(
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

    def _refuse_after_fatal(
        self, service: str, operation: str, kind: str, resource_id: str | None
    ) -> bool:
        """Record, without calling, a call that an earlier scope-wide failure makes pointless."""
        with self._lock:
            fatal = self._fatal.get(None) or self._fatal.get(service)
        if fatal is None:
            return False
        code, message = fatal
        self._store(
            service=service,
            operation=operation,
            code=code,
            message=f"not attempted after an earlier {code}: {message}",
            kind=kind,
            resource_id=resource_id,
        )
        return True

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
        if self._refuse_after_fatal(service, operation, kind, resource_id):
            return None
        try:
            if client.can_paginate(method):
                found: list[dict[str, Any]] = []
                for page in client.get_paginator(method).paginate(**params):
                    found.extend(page.get(result_key) or [])
                return found
            return list(self._unpaginated(client, method, result_key, params))
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
        **params: Any,
    ) -> dict[str, Any] | None:
        """One call's whole response; None if it failed.

        An error whose code is in ``expected_errors`` is part of the answer, not a failure: it is
        returned as ``{"Error": code}`` and not recorded.
        """
        service = _service_of(client)
        allowed(service, operation)
        if self._refuse_after_fatal(service, operation, kind, resource_id):
            return None
        try:
            response: dict[str, Any] = getattr(client, snake_case(operation))(**params)
            return response
        except Exception as error:
            code, _ = describe_error(error)
            if code in expected_errors:
                return {"Error": code}
            self.record(service, operation, error, kind, resource_id)
            return None

    @staticmethod
    def _unpaginated(
        client: Any, method: str, result_key: str, params: dict[str, Any]
    ) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        call = getattr(client, method)
        request = dict(params)
        while True:
            page = call(**request)
            found.extend(page.get(result_key) or [])
            token = page.get("NextToken")
            if not token:
                return found
            request["NextToken"] = token
