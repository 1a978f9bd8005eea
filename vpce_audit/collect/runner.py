"""Orchestrates a collection: identity, account-wide facts, then every region concurrently."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from vpce_audit import __version__
from vpce_audit.clock import utc_now
from vpce_audit.collect.account import (
    collect_account,
    enabled_regions,
    iam_principals,
    policies_name_unique_ids,
    vpc_zones,
)
from vpce_audit.collect.calls import CANCELLED, ScopeCalls, describe_error
from vpce_audit.collect.region import collect_region
from vpce_audit.model import (
    ACCOUNT_ID,
    GLOBAL_REGION,
    REGION_RESOURCE_KINDS,
    CollectionError,
    RegionSnapshot,
)
from vpce_audit.snapshot.document import SnapshotDocument
from vpce_audit.snapshot.views import partition_for_region

log = logging.getLogger(__name__)

DEFAULT_REGION_WORKERS = 8
CONNECT_TIMEOUT = 10.0
DEFAULT_CALL_TIMEOUT = 30.0
"""Seconds an answer may take to start arriving (botocore's read timeout)."""
CALL_ATTEMPTS = 4
"""Attempts per call, the first included (botocore's standard retry mode)."""
DEFAULT_SCOPE_TIMEOUT = 900.0
"""Seconds one account-region (or the account-wide calls) may take before its remaining calls
are recorded as not attempted. A busy region of a large account collects in well under a
minute; fifteen minutes means something hangs."""
# Where the global services (Route 53, Organizations) answer, by partition.
GLOBAL_SERVICE_REGIONS = {
    "aws": "us-east-1",
    "aws-cn": "cn-northwest-1",
    "aws-us-gov": "us-gov-west-1",
}

Progress = Callable[[str], None]


class CredentialsError(Exception):
    """No usable AWS credentials (or profile): a configuration problem, not a partial scan."""


class ClientFactory:
    """Hands out boto3 clients for one set of credentials, safely across threads.

    boto3 sessions are not thread-safe, clients are: clients are created under a lock and
    cached per (service, region).
    """

    def __init__(self, session: Any, call_timeout: float = DEFAULT_CALL_TIMEOUT) -> None:
        from botocore.config import Config

        self._session = session
        # Standard retry mode backs off on throttling; what still fails is recorded, not raised.
        # Bounded for an unattended scan: a call that never answers costs at most
        # CALL_ATTEMPTS x (connect + read timeout) plus backoff, not botocore's 7 x 60 s.
        self._config = Config(
            retries={"mode": "standard", "total_max_attempts": CALL_ATTEMPTS},
            connect_timeout=min(CONNECT_TIMEOUT, call_timeout),
            read_timeout=call_timeout,
            max_pool_connections=32,
            user_agent_extra=f"vpce-audit/{__version__}",
        )
        connect = min(CONNECT_TIMEOUT, call_timeout)
        # What a call may take, every attempt and botocore's backoff between them included
        # (standard mode waits at most 1, 2, 4, ... seconds): past it, something is dripping.
        backoff = sum(min(20, 2**attempt) for attempt in range(CALL_ATTEMPTS - 1))
        self.call_budget = CALL_ATTEMPTS * (connect + call_timeout) + backoff
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_profile(
        cls, profile: str | None, call_timeout: float = DEFAULT_CALL_TIMEOUT
    ) -> ClientFactory:
        import boto3
        from botocore.exceptions import BotoCoreError

        try:
            session = boto3.session.Session(profile_name=profile)
        except BotoCoreError as error:
            raise CredentialsError(str(error)) from None
        return cls(session, call_timeout)

    @property
    def default_region(self) -> str | None:
        region = getattr(self._session, "region_name", None)
        return str(region) if region else None

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self._session.client(
                    service, region_name=region, config=self._config
                )
            return self._clients[key]


@dataclass(frozen=True)
class CollectionRequest:
    regions: tuple[str, ...] | None = None
    """None: every region enabled for the account."""
    max_workers: int = DEFAULT_REGION_WORKERS
    scope_timeout: float | None = DEFAULT_SCOPE_TIMEOUT
    """Seconds per scope, counted from its first call; None: no deadline."""

    def deadline(self) -> float | None:
        """A deadline for a scope starting now."""
        if self.scope_timeout is None:
            return None
        return time.monotonic() + self.scope_timeout


def home_region(clients: ClientFactory, request: CollectionRequest) -> str:
    """The region for account-level calls: the profile's region, else the first one asked for."""
    if clients.default_region:
        return clients.default_region
    if request.regions:
        return request.regions[0]
    return GLOBAL_SERVICE_REGIONS["aws"]


def global_service_region(home: str) -> str:
    return GLOBAL_SERVICE_REGIONS.get(partition_for_region(home), GLOBAL_SERVICE_REGIONS["aws"])


def caller_account(clients: ClientFactory, home: str) -> str:
    try:
        identity = clients.client("sts", home).get_caller_identity()
    except Exception as error:
        code, message = describe_error(error)
        raise CredentialsError(f"cannot establish AWS identity ({code}): {message}") from None
    account = identity.get("Account") if isinstance(identity, dict) else None
    if not isinstance(account, str) or not ACCOUNT_ID.fullmatch(account):
        raise CredentialsError(
            "cannot establish AWS identity: GetCallerIdentity answered without an account id"
        )
    return account


def collect(
    clients: ClientFactory,
    request: CollectionRequest,
    progress: Progress | None = None,
) -> SnapshotDocument:
    say = progress or (lambda _message: None)
    home = home_region(clients, request)
    account_id = caller_account(clients, home)
    say(f"account {account_id}: collecting account-wide facts")
    account_calls = ScopeCalls(
        account_id, GLOBAL_REGION, request.deadline(), call_budget=clients.call_budget
    )
    regions: Sequence[str] | None = request.regions
    if regions is None:
        regions = enabled_regions(clients.client("ec2", home), account_calls) or ()
    global_region = global_service_region(home)
    account = collect_account(
        account_id, lambda service: clients.client(service, global_region), account_calls
    )
    region_snapshots = collect_regions(clients, account_id, tuple(regions), request, say)
    # Only the VPCs the account owns: a participant of a shared VPC sees it too, and its owner
    # answers for its zones.
    vpcs = [
        (vpc.vpc_id, region.region)
        for region in region_snapshots
        for vpc in region.vpcs
        if vpc.owner_id in {account_id, ""}
    ]
    if vpcs:
        say(f"account {account_id}: listing the private hosted zones of {len(vpcs)} VPC(s)")
        zones = vpc_zones(clients.client("route53", global_region), vpcs, account_calls)
        account = dataclasses.replace(account, vpc_zones=zones, errors=account_calls.errors)
    if policies_name_unique_ids(region_snapshots):
        # Gateway endpoint policies may name principals by unique id; resolving them needs the
        # account's roles and users, listed only when some policy needs them.
        principals = iam_principals(clients.client("iam", global_region), account_calls)
        account = dataclasses.replace(
            account, iam_principals=principals, errors=account_calls.errors
        )
    return SnapshotDocument(
        tool_version=__version__,
        created_at=utc_now(),
        accounts=(account,),
        regions=region_snapshots,
    )


def collect_regions(
    clients: ClientFactory,
    account_id: str,
    regions: tuple[str, ...],
    request: CollectionRequest,
    say: Progress,
) -> tuple[RegionSnapshot, ...]:
    if not regions:
        return ()
    # Clients are created up front, on this thread: creation is the slow, lock-bound part.
    for region in regions:
        for service in REGIONAL_SERVICES:
            clients.client(service, region)
    results: list[RegionSnapshot] = []
    workers = max(1, min(request.max_workers, len(regions)))
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="collect")
    try:
        futures = {
            pool.submit(_collect_region_from_now, clients, account_id, region, request): region
            for region in regions
        }
        for done, future in enumerate(as_completed(futures), start=1):
            region = futures[future]
            try:
                snapshot = future.result()
            except Exception as error:  # a collector bug must not lose the other regions
                log.debug("collector crashed in %s", region, exc_info=True)
                snapshot = _failed_region(account_id, region, error)
            results.append(snapshot)
            status = f", {len(snapshot.errors)} error(s)" if snapshot.errors else ""
            say(f"[{done}/{len(regions)}] {account_id}/{region} collected{status}")
    except BaseException:
        # Interrupted: stop at once. Workers stop at their next call; waiting for them here
        # would keep a Ctrl-C waiting on every call in flight.
        CANCELLED.set()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return tuple(sorted(results, key=lambda s: s.region))


def _collect_region_from_now(
    clients: ClientFactory, account_id: str, region: str, request: CollectionRequest
) -> RegionSnapshot:
    # The deadline counts from the region's first call, not from when it was queued.
    return collect_region(
        _client_for(clients, region),
        account_id,
        region,
        request.deadline(),
        call_budget=clients.call_budget,
    )


REGIONAL_SERVICES = ("ec2", "route53resolver", "route53profiles")


def _client_for(clients: ClientFactory, region: str) -> Callable[[str], Any]:
    return lambda service: clients.client(service, region)


def _failed_region(account_id: str, region: str, error: Exception) -> RegionSnapshot:
    code, message = describe_error(error)
    return RegionSnapshot(
        account_id=account_id,
        region=region,
        collected_at=utc_now(),
        errors=tuple(
            CollectionError(
                account_id=account_id,
                region=region,
                service="ec2",
                operation="collect_region",
                error_code=code,
                message=f"the collector failed: {message}",
                resource_kind=kind,
            )
            for kind in REGION_RESOURCE_KINDS
        ),
    )
