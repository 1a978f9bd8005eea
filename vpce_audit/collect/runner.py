"""Orchestrates a collection: identity, account-wide facts, then every region concurrently."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from vpce_audit import __version__
from vpce_audit.clock import source_date_epoch, utc_now
from vpce_audit.collect.account import (
    ROUTE53_CALLS_IN_FLIGHT,
    collect_account,
    enabled_regions_from,
    iam_principals,
    policies_name_unique_ids,
    vpc_zones,
)
from vpce_audit.collect.botocore_reuse import share_client_parts, share_event_names
from vpce_audit.collect.calls import CALL_THREADS, ScopeCalls, describe_error
from vpce_audit.collect.connections import close_shared, share_connections
from vpce_audit.collect.rates import AccountRates
from vpce_audit.collect.region import (
    REGION_SERVICES,
    calls_in_flight_per_region,
    collect_region,
)
from vpce_audit.collect.schedule import AccountPipeline, FollowUp
from vpce_audit.collect.tally import AccountFinished, Tally, count_call
from vpce_audit.model import (
    ACCOUNT_ID,
    GLOBAL_REGION,
    REGION_RESOURCE_KINDS,
    AccountSnapshot,
    CollectionError,
    RegionSnapshot,
    VpcZones,
    summarise_errors,
)
from vpce_audit.snapshot.document import ShardSet, SnapshotDocument
from vpce_audit.snapshot.views import Snapshot, answered, partition_for_region

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
T = TypeVar("T")


class CredentialsError(Exception):
    """No usable AWS credentials (or profile): a configuration problem, not a partial scan."""


class IdentityError(CredentialsError):
    """GetCallerIdentity failed (``code``: AWS's error code, or CallTimeout)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class ClientFactory:
    """Hands out boto3 clients for one set of credentials, safely across threads.

    boto3 sessions are not thread-safe, clients are: clients are created under a lock and
    cached per (service, region).
    """

    def __init__(self, session: Any, call_timeout: float = DEFAULT_CALL_TIMEOUT) -> None:
        from botocore.config import Config

        self._session = session
        self.call_timeout = call_timeout
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
        self._rates = AccountRates()
        share_client_parts()

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

    def share_models(self, botocore_session: Any) -> None:
        """Give another botocore session this one's service-model loader: a fresh session
        re-reads and re-parses every service's JSON model (half a second for EC2), once per
        member account of an organisation."""
        own = getattr(self._session, "_session", None)  # boto3's botocore session
        if own is not None:
            botocore_session.register_component("data_loader", own.get_component("data_loader"))

    def with_session(self, botocore_session: Any) -> ClientFactory:
        """Clients like these for other credentials (an assumed role)."""
        import boto3

        return ClientFactory(
            boto3.session.Session(botocore_session=botocore_session), self.call_timeout
        )

    def bounded(self, call: Callable[[], T]) -> T:
        """``call()`` (a call outside any scope: an identity check, an AssumeRole), abandoned
        with CallTimeout past the budget of one call, as every scope's calls are: a setup call
        that drips one byte at a time would otherwise hang the whole scan."""
        return CALL_THREADS.within(call, self.call_budget)

    @property
    def default_region(self) -> str | None:
        region = getattr(self._session, "region_name", None)
        return str(region) if region else None

    def close(self, region: str | None = None, services: Iterable[str] | None = None) -> None:
        """Close the idle connections of this factory's clients: those of ``services`` in
        ``region``, or every one. A scan keeps a client per account, region and service, and
        each kept its pooled connections, a file descriptor apiece, until the process ended: an
        organisation of 8 accounts x 4 regions held 370 at once. A closed client still works;
        called again, it opens new connections. Connections shared with other accounts' clients
        (``connections``) stay open until the collection ends."""
        with self._lock:
            chosen = [
                client
                for (service, client_region), client in self._clients.items()
                if (region is None or client_region == region)
                and (services is None or service in services)
            ]
        for client in chosen:
            try:
                client.close()
            except Exception:  # only idle connections are lost: never a scope's findings
                log.debug("closing a client failed", exc_info=True)

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        with self._lock:
            if key not in self._clients:
                client = self._session.client(service, region_name=region, config=self._config)
                client.meta.events.register("before-call", count_call)
                share_event_names(client)
                share_connections(client)
                self._rates.pace(client, service, region)
                self._clients[key] = client
            return self._clients[key]


@dataclass(frozen=True)
class CollectionRequest:
    regions: tuple[str, ...] | None = None
    """None: every region enabled for the account."""
    max_workers: int = DEFAULT_REGION_WORKERS
    scope_timeout: float | None = DEFAULT_SCOPE_TIMEOUT
    """Seconds per scope, counted from its first call; None: no deadline."""
    exclude_regions: frozenset[str] = frozenset()
    """Regions left out even when enabled (--exclude-region)."""
    shard: tuple[int, int] | None = None
    """(K, N): collect only the account-regions of shard K of N (1-based; --shard K/N)."""
    plan: str = ""
    """What chose the account-regions, as a digest recorded with a shard (ShardSet.plan)."""

    def wants(self, account_id: str, region: str) -> bool:
        if region in self.exclude_regions:
            return False
        return self.shard is None or in_shard(account_id, region, *self.shard)

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
    sts = clients.client("sts", home)
    try:
        identity = clients.bounded(sts.get_caller_identity)
    except Exception as error:
        code, message = describe_error(error)
        raise IdentityError(code, f"cannot establish AWS identity ({code}): {message}") from None
    account = identity.get("Account") if isinstance(identity, dict) else None
    if not isinstance(account, str) or not ACCOUNT_ID.fullmatch(account):
        raise IdentityError(
            "InvalidIdentity",
            "cannot establish AWS identity: GetCallerIdentity answered without an account id",
        )
    return account


@dataclass
class AccountWork:
    """One account's collection between its phases: credentials, its account-wide calls, the
    regions to collect, and what has been gathered so far."""

    account_id: str
    clients: ClientFactory
    calls: ScopeCalls
    home: str
    listed_members: tuple[str, ...] | None = None
    """The organisation's accounts as --org listed them (accounts.Target.organization_members),
    for an account that may not list them itself."""
    regions: tuple[str, ...] = ()
    account: AccountSnapshot | None = None
    region_snapshots: list[RegionSnapshot] = field(default_factory=list)
    vpc_zones: list[VpcZones] = field(default_factory=list)
    route53_in_flight: threading.Semaphore = field(
        default_factory=lambda: threading.Semaphore(ROUTE53_CALLS_IN_FLIGHT)
    )
    """Route 53 calls of this account in flight, whichever regions' VPCs they are for."""
    lock: threading.Lock = field(default_factory=threading.Lock)


def collect(
    clients: ClientFactory,
    request: CollectionRequest,
    progress: Progress | None = None,
    tally: Tally | None = None,
) -> SnapshotDocument:
    """One account: the credentials' own."""
    home = home_region(clients, request)
    account_id = caller_account(clients, home)
    work = AccountWork(account_id, clients, account_calls(account_id, clients, request), home)
    return collect_accounts([work], [], request, progress=progress, tally=tally)


def collect_accounts(
    works: Sequence[AccountWork],
    unreachable: Sequence[AccountSnapshot],
    request: CollectionRequest,
    *,
    progress: Progress | None = None,
    account_progress: Progress | None = None,
    tally: Tally | None = None,
) -> SnapshotDocument:
    """Several accounts at once, each moving through its steps on its own
    (``vpce_audit.collect.schedule``): its regions in the pool shared by every account, its
    account-wide facts meanwhile, each region's VPC zones as soon as the region is in, IAM
    principals once every region is.

    ``unreachable``: accounts whose credentials could not be had, with the error recorded.
    ``progress`` hears of every step; ``account_progress`` of each account done, and a summary
    (what a CI log wants); ``tally`` counts accounts and account-regions done (a live display)."""
    source_date_epoch()  # a malformed value fails now, not after the whole collection
    tally = tally or Tally()
    started = time.monotonic()
    tally.plan(accounts=len(works) + len(unreachable))
    for account in unreachable:
        tally.account_done(
            AccountFinished(account.account_id, 0, 0, account.errors, reached=False, seen=False)
        )
        say_unreached(account_progress, account_unreached(account.account_id, account.errors))
    steps = _CollectionSteps(request, progress or (lambda _message: None), account_progress, tally)
    try:
        accounts = AccountPipeline(
            steps, workers=request.max_workers, account_workers=_workers(request, len(works))
        ).run(works)
    finally:
        close_shared()
    document = SnapshotDocument(
        tool_version=__version__,
        created_at=utc_now(),
        shards=_shard_set(request.shard, request.plan),
        # By id: the same order however the accounts were reached (and in --processes' merge).
        accounts=members_listed_once(sorted((*accounts, *unreachable), key=lambda a: a.account_id)),
        regions=tuple(
            sorted(
                (snapshot for work in works for snapshot in work.region_snapshots),
                key=lambda r: (r.account_id, r.region),
            )
        ),
    )
    if account_progress is not None:
        account_progress(
            collection_summary(
                accounts,
                document,
                len(unreachable),
                time.monotonic() - started,
                shard_run=document.shards is not None,
            )
        )
    return document


def collection_summary(
    reached: Sequence[AccountSnapshot],
    document: SnapshotDocument,
    unreachable: int,
    seconds: float,
    *,
    shard_run: bool = False,
) -> str:
    """The line that ends a collection of several accounts (a CI log's last word on it): the
    accounts reached, their account-regions, and the collection errors as the report counts
    them (its gaps too: a region an SCP denied everywhere, a shard not collected), so that the
    log and the report agree."""
    regions = document.regions
    snapshot = Snapshot(document)
    # ``shard_run``: a `collect --shard K/N` run's own summary, where the other shards'
    # account-regions are missing by design (their gaps count once the parts are merged, or if
    # they never are). A merge that lacks a shard (a lost process) counts them.
    errors = len(snapshot.all_errors) - (len(snapshot.shard_gaps) if shard_run else 0)
    return (
        f"collected {len(reached)} account(s), {len(regions)} account-region(s) in "
        f"{seconds:.0f} s; {errors} collection error(s)"
        + (f"; {unreachable} account(s) could not be reached" if unreachable else "")
        + (" (this shard's part of the account-regions)" if shard_run else "")
    )


def members_listed_once(accounts: Sequence[AccountSnapshot]) -> tuple[AccountSnapshot, ...]:
    """``accounts`` with each organisation's member list kept by one account only: the first by
    id of those holding that very list. In an ``--org`` scan every member that cannot list the
    organisation keeps the scanner's listing, so the snapshot held accounts x accounts ids (100 MB
    of JSON at 2,000 accounts). What reads the lists, the trusted accounts and whether an
    organisation's members are known, needs each list once (``Snapshot.organization_members``,
    ``orgs_with_unknown_members``); a different list (another listing, made at another time) is
    kept where it is. Deterministic: the shards of a split keep it on the same account when they
    listed the same members (``document.merge`` joins them where they did not)."""
    kept: set[tuple[str | None, tuple[str, ...]]] = set()
    found: list[AccountSnapshot] = []
    for account in accounts:
        members = account.organization_member_ids
        key = (account.organization_id, members or ())
        if members is not None and key in kept:
            found.append(dataclasses.replace(account, organization_member_ids=None))
            continue
        if members is not None:
            kept.add(key)
        found.append(account)
    return tuple(found)


def recorded_errors(accounts: Iterable[AccountSnapshot], regions: Iterable[RegionSnapshot]) -> int:
    """The collection errors these accounts and account-regions recorded."""
    return sum(len(a.errors) for a in accounts) + sum(len(r.errors) for r in regions)


def account_unreached(account_id: str, errors: Iterable[CollectionError]) -> str:
    """The line that says one account of several could not be reached, and why."""
    why = summarise_errors(errors)
    return f"account {account_id}: not reached" + (f" ({why})" if why else "")


def say_unreached(say: Progress | None, line: str) -> None:
    """An account lost to the scan is said on its account line, or, without one (``-q``, a
    single account), as a warning: ``-q`` silences progress, not a whole account's loss."""
    if say is not None:
        say(line)
    else:
        log.warning("%s", line)


def account_collected(finished: AccountFinished, *, part: bool = False) -> str:
    """The line that says one account of several is collected, counting its errors as the report
    does: its regions', its account-wide ones, and, where no region answered, a gap for each
    region a service control policy refused (``Snapshot.denied_everywhere``). ``part``: this
    run collects one shard of the organisation, whose other regions may answer elsewhere."""
    refused, regions = finished.denied, finished.regions
    errors = finished.region_errors + len(finished.account_errors)
    if regions and not finished.seen:
        errors += refused
        why = f" ({refused} refused by a service control policy)" if refused else ""
        head = (
            f"none of its {regions} region(s) answered{' in this shard' if part else ''}{why}: "
            "nothing of it was seen"
        )
    elif refused:
        head = (
            f"{regions - refused} region(s) collected, {refused} out of scope (refused by a "
            "service control policy)"
        )
    else:
        head = f"{regions} region(s) collected"
    return f"account {finished.account_id}: {head}" + (
        f", {errors} collection error(s)" if errors else ""
    )


def _shard_set(shard: tuple[int, int] | None, plan: str) -> ShardSet | None:
    """What a collection of shard K of N holds; 1/1 is the whole."""
    if shard is None or shard[1] == 1:
        return None
    return ShardSet(shard[1], (shard[0],), plan)


def in_shard(account_id: str, region: str, shard: int, shards: int) -> bool:
    """Whether an account-region belongs to shard ``shard`` of ``shards``: a hash of its name,
    so every machine agrees without talking to the others, and the shards cover each
    account-region exactly once."""
    digest = hashlib.sha256(f"{account_id}/{region}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % shards == shard - 1


def _workers(request: CollectionRequest, jobs: int) -> int:
    return max(1, min(request.max_workers, jobs))


def account_calls(
    account_id: str, clients: ClientFactory, request: CollectionRequest
) -> ScopeCalls:
    return ScopeCalls(
        account_id, GLOBAL_REGION, request.deadline(), call_budget=clients.call_budget
    )


class _CollectionSteps:
    """What collecting one account does at each step of ``AccountPipeline``."""

    def __init__(
        self,
        request: CollectionRequest,
        say: Progress,
        account_progress: Progress | None,
        tally: Tally,
    ) -> None:
        self._request = request
        self._say = say
        self._account_progress = account_progress
        self._tally = tally
        self._collected = 0

    def regions(self, work: AccountWork) -> Sequence[str]:
        regions: Sequence[str] | None = self._request.regions
        if regions is None:
            regions = (
                enabled_regions_from(
                    lambda region: work.clients.client("ec2", region),
                    work.home,
                    partition_for_region(work.home),
                    work.calls,
                )
                or ()
            )
        work.regions = tuple(r for r in regions if self._request.wants(work.account_id, r))
        self._tally.plan(more_scopes=len(work.regions))
        return work.regions

    def facts(self, work: AccountWork) -> None:
        self._say(f"account {work.account_id}: collecting account-wide facts")
        global_region = global_service_region(work.home)
        work.account = collect_account(
            work.account_id,
            lambda service: work.clients.client(service, global_region),
            work.calls,
            work.listed_members,
            work.route53_in_flight,
        )

    def region(self, work: AccountWork, region: str, follow_up: FollowUp) -> RegionSnapshot:
        def zones_of(vpcs: Sequence[Any]) -> None:
            # Only the VPCs the account owns: a participant of a shared VPC sees it too, and
            # its owner answers for its zones.
            owned = [v.vpc_id for v in vpcs if v.owner_id in {work.account_id, ""}]
            if owned:
                follow_up(functools.partial(self._zones, work, region, owned))

        try:
            return collect_region(
                _client_for(work.clients, region),
                work.account_id,
                region,
                # The deadline counts from the region's first call, not from when it was queued.
                self._request.deadline(),
                call_budget=work.clients.call_budget,
                on_vpcs=zones_of,
                calls_in_flight=calls_in_flight_per_region(self._request.max_workers),
            )
        except Exception as error:  # a collector bug must not lose the other regions
            log.debug("collector crashed in %s/%s", work.account_id, region, exc_info=True)
            return _failed_region(work.account_id, region, error)
        finally:
            work.clients.close(region, REGION_SERVICES)

    def collected(self, work: AccountWork, snapshot: RegionSnapshot) -> None:
        work.region_snapshots.append(snapshot)
        self._tally.scope_done(len(snapshot.errors))
        self._collected += 1
        status = f", {len(snapshot.errors)} error(s)" if snapshot.errors else ""
        self._say(
            f"[{self._collected}/{self._tally.view().scopes}] "
            f"{work.account_id}/{snapshot.region} collected{status}"
        )

    def _zones(self, work: AccountWork, region: str, vpc_ids: Sequence[str]) -> None:
        """The private hosted zones of a region's VPCs, listed as soon as DescribeVpcs answered,
        while the rest of the region is collected."""
        self._say(
            f"{work.account_id}/{region}: listing the private hosted zones of {len(vpc_ids)} VPC(s)"
        )
        route53 = work.clients.client("route53", global_service_region(work.home))
        zones = vpc_zones(
            route53, [(v, region) for v in vpc_ids], work.calls, work.route53_in_flight
        )
        with work.lock:
            work.vpc_zones.extend(zones)

    def finish(self, work: AccountWork) -> AccountSnapshot:
        assert work.account is not None
        account = work.account
        if work.vpc_zones:
            zones = tuple(sorted(work.vpc_zones, key=lambda z: (z.vpc_id, z.region)))
            account = dataclasses.replace(account, vpc_zones=zones)
        if policies_name_unique_ids(work.region_snapshots):
            # Gateway endpoint policies may name principals by unique id; resolving them needs
            # the account's roles and users, listed only when some policy needs them.
            iam = work.clients.client("iam", global_service_region(work.home))
            account = dataclasses.replace(account, iam_principals=iam_principals(iam, work.calls))
        # Sorted: the account's calls (its facts, its regions' zone listings) run at once.
        errors = tuple(sorted(work.calls.errors, key=lambda error: error.sort_key))
        account = dataclasses.replace(account, errors=errors)
        work.clients.close()
        finished = AccountFinished(
            work.account_id,
            regions=len(work.region_snapshots),
            region_errors=sum(len(r.errors) for r in work.region_snapshots),
            account_errors=account.errors,
            denied=sum(r.out_of_scope is not None for r in work.region_snapshots),
            seen=any(answered(r) for r in work.region_snapshots),
        )
        if self._account_progress is not None:
            # Said when the account is done, its account-wide facts and zones too (also with
            # no region to collect: DescribeRegions failed, or every region is another
            # shard's), so that the line counts their errors as the report does.
            shard = self._request.shard
            part = shard is not None and shard[1] > 1
            self._account_progress(account_collected(finished, part=part))
        self._tally.account_done(finished)
        return account


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
