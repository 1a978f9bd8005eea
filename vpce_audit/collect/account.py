"""Account-wide facts: enabled regions, the organisation and its members, Route 53 private hosted
zones (with the records of those that answer for AWS service names), and, when an endpoint policy
names IAM unique ids, the roles and users they may stand for."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from vpce_audit.analysis.dns import zone_may_answer_for_aws_services
from vpce_audit.analysis.trust import UNIQUE_ID_PATTERN
from vpce_audit.clock import utc_now
from vpce_audit.collect import translate
from vpce_audit.collect.calls import (
    ACCESS_DENIED_CODES,
    SCP_DENY,
    ExpectedAnswer,
    ScopeCalls,
)
from vpce_audit.model import (
    REGION_NAME,
    AccountSnapshot,
    HostedZone,
    IamPrincipal,
    RegionSnapshot,
    VpcZones,
)

ClientFor = Callable[[str], Any]
"""Returns a boto3 client for a service name."""

# ListAccounts answers only in the management account or a delegated administrator; elsewhere
# AWS refuses it, which is an answer ("membership unknown"), not a failed collection.
NOT_PERMITTED = ACCESS_DENIED_CODES


T = TypeVar("T")

ORGANIZATION_ID = re.compile(r"^o-[a-z0-9]{10,32}$")


def enabled_regions(ec2: Any, calls: ScopeCalls) -> tuple[str, ...] | None:
    """Regions enabled for the account (opted-in or not requiring opt-in); None on failure.

    An answer without a region list, or with a name that is not a region's, is a failure: a
    scan of zero regions must not pass for a clean one."""
    response = calls.single(
        ec2, "DescribeRegions", "regions", required=("Regions",), AllRegions=False
    )
    if response is None:
        return None
    names = calls.convert("ec2", "DescribeRegions", "regions", _region_names, response["Regions"])
    return None if names is None else tuple(sorted(names))


log = logging.getLogger(__name__)

FALLBACK_REGIONS: dict[str, tuple[str, ...]] = {
    "aws": ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1"),
    "aws-us-gov": ("us-gov-west-1", "us-gov-east-1"),
    "aws-cn": ("cn-north-1", "cn-northwest-1"),
}
"""Where to ask DescribeRegions when a service control policy denies the home region: regions
enabled in every account (none needs opting in), tried in this order."""


def enabled_regions_from(
    ec2_in: Callable[[str], Any], home: str, partition: str, calls: ScopeCalls
) -> tuple[str, ...] | None:
    """``enabled_regions``, asked in the home region, or, where a service control policy
    denies the account there (a region deny that does not exempt the scanner's home region,
    as AWS's example region-deny policies do not exempt ec2:DescribeRegions), in the first
    region of ``FALLBACK_REGIONS`` that answers. Then the denied home region is collected as
    any other and reported out of scope; before, the whole account was lost. Failures are
    recorded in ``calls`` only when no region answered: each attempt's, the fallback regions'
    naming the region asked."""
    asked = [home, *(r for r in FALLBACK_REGIONS.get(partition, ()) if r != home)]
    attempts: list[tuple[str, ScopeCalls]] = []
    for region in asked:
        attempt = ScopeCalls(calls.account_id, calls.region, calls.deadline, calls.call_budget)
        attempts.append((region, attempt))
        found = enabled_regions(ec2_in(region), attempt)
        if found is not None:
            return found
        if not any(SCP_DENY in error.message for error in attempt.errors):
            break  # not a region deny: asking elsewhere would not help
    for region, attempt in attempts:
        calls.adopt(
            error
            if region == home
            else dataclasses.replace(error, message=f"asked in {region}: {error.message}")
            for error in attempt.errors
        )
    home_errors = attempts[0][1].errors
    if any(SCP_DENY in error.message for error in home_errors):
        # The denials were logged quietly (a fallback might have answered); the account's loss
        # is not quiet.
        log.warning(
            "account %s: DescribeRegions failed in every region asked (%s): no region of it is "
            "collected",
            calls.account_id,
            ", ".join(region for region, _ in attempts),
        )
    return None


def _region_names(regions: list[dict[str, Any]]) -> list[str]:
    names = [str(region["RegionName"]) for region in regions]
    invalid = [name for name in names if not REGION_NAME.fullmatch(name)]
    if invalid or not names:
        raise ValueError(
            f"{invalid[0][:40]!r} is not a region name" if invalid else "the region list is empty"
        )
    return names


def organization_id(organizations: Any, calls: ScopeCalls) -> str | None:
    # An account outside any organisation is a fact, not a failure.
    response = calls.single(
        organizations,
        "DescribeOrganization",
        "organization",
        expected_errors=frozenset({"AWSOrganizationsNotInUseException"}),
        required=("Organization",),
    )
    if response is None or "Error" in response:
        return None
    # An organisation without a well-formed id would become a value a policy condition matches
    # as trusted: it is an unreadable answer, recorded as such.
    return calls.convert("organizations", "DescribeOrganization", "organization", _org_id, response)


def _org_id(response: dict[str, Any]) -> str:
    found = str(response["Organization"]["Id"])
    if not ORGANIZATION_ID.match(found):
        raise ValueError(f"{found[:40]!r} is not an organization id")
    return found


def organization_members(organizations: Any, calls: ScopeCalls) -> tuple[str, ...] | None:
    """Every account id of the organisation, or None where the account may not list them."""
    try:
        accounts = calls.items(
            organizations,
            "ListAccounts",
            "Accounts",
            "organization_members",
            expected_errors=NOT_PERMITTED,
        )
    except ExpectedAnswer:
        return None
    if accounts is None:
        return None
    return tuple(sorted(str(account["Id"]) for account in accounts if account.get("Id")))


@contextlib.contextmanager
def _route53_calls(
    in_flight: threading.Semaphore | None,
) -> Iterator[Callable[[Callable[[], T]], Future[T]]]:
    """Submits Route 53 calls to run at once, each holding one of the account's slots
    (``in_flight``, shared by its zones and its VPCs' zone listings; ``ROUTE53_CALLS_IN_FLIGHT``
    of this function's own when None)."""
    slots = in_flight or threading.Semaphore(ROUTE53_CALLS_IN_FLIGHT)

    def holding_a_slot(call: Callable[[], T]) -> T:
        with slots:
            return call()

    with ThreadPoolExecutor(max_workers=ROUTE53_CALLS_IN_FLIGHT) as pool:
        yield lambda call: pool.submit(holding_a_slot, call)


def private_hosted_zones(
    route53: Any, calls: ScopeCalls, in_flight: threading.Semaphore | None = None
) -> tuple[HostedZone, ...]:
    """The account's private hosted zones, each with the VPCs it is associated with, and the
    records of those that may answer for AWS service names.

    The calls about each zone (GetHostedZone, ListResourceRecordSets), and the zones, do not
    depend on each other: they are in flight together, at most ``ROUTE53_CALLS_IN_FLIGHT`` (or
    ``in_flight``, the account's Route 53 calls shared with its VPC zone listings). A hub that
    centralises endpoints has a zone per service and region: one after another, a hundred zones
    took two hundred round trips."""
    zones = calls.items(route53, "ListHostedZones", "HostedZones", "hosted_zones") or []
    asked = []
    with _route53_calls(in_flight) as submit:
        for zone in zones:
            if not (zone.get("Config") or {}).get("PrivateZone"):
                continue
            zone_id = calls.convert(
                "route53",
                "ListHostedZones",
                "hosted_zones",
                lambda z: translate.zone_id(z["Id"]),
                zone,
            )
            if zone_id is None:
                continue
            details = submit(
                functools.partial(
                    calls.single,
                    route53,
                    "GetHostedZone",
                    "hosted_zones",
                    resource_id=zone_id,
                    Id=zone_id,
                ),
            )
            records = None
            # Records are read only where they decide whether AWS service names resolve.
            if zone_may_answer_for_aws_services(str(zone.get("Name", ""))):
                records = submit(
                    functools.partial(
                        calls.items,
                        route53,
                        "ListResourceRecordSets",
                        "ResourceRecordSets",
                        "hosted_zone_records",
                        resource_id=zone_id,
                        HostedZoneId=zone_id,
                    ),
                )
            asked.append((zone, details, records))
        found: list[HostedZone] = []
        for zone, details, records in asked:
            response = details.result()
            vpcs = None if response is None else list(response.get("VPCs") or ())
            hosted_zone = calls.convert(
                "route53",
                "GetHostedZone",
                "hosted_zones",
                translate.hosted_zone,
                zone,
                vpcs,
                None if records is None else records.result(),
            )
            if hosted_zone is not None:
                found.append(hosted_zone)
    return tuple(sorted(found, key=lambda z: z.hosted_zone_id))


def collect_account(
    account_id: str,
    client_for: ClientFor,
    calls: ScopeCalls,
    listed_members: tuple[str, ...] | None = None,
    route53_in_flight: threading.Semaphore | None = None,
) -> AccountSnapshot:
    """``listed_members``: the organisation's accounts as ``--org`` listed them, kept for an
    account of that organisation that may not list them itself (a member account);
    ``route53_in_flight``: the account's Route 53 calls in flight (``private_hosted_zones``).

    The organisation's calls and the zones' are independent: they run at once."""
    collected_at = utc_now()
    route53 = client_for("route53")
    with ThreadPoolExecutor(max_workers=1) as pool:
        zones = pool.submit(private_hosted_zones, route53, calls, route53_in_flight)
        organizations = client_for("organizations")
        org_id = organization_id(organizations, calls)
        members = organization_members(organizations, calls) if org_id else None
        if members is None and org_id and listed_members and account_id in listed_members:
            members = listed_members
        hosted_zones = zones.result()
    return AccountSnapshot(
        account_id=account_id,
        collected_at=collected_at,
        organization_id=org_id,
        organization_member_ids=members,
        hosted_zones=hosted_zones,
        errors=calls.errors,
    )


UNIQUE_ID = re.compile(rf"\b{UNIQUE_ID_PATTERN}\b")
"""An IAM role (AROA...) or user (AIDA...) unique id anywhere in a policy's text."""


def policies_name_unique_ids(regions: Iterable[RegionSnapshot]) -> bool:
    return any(
        endpoint.policy_document and UNIQUE_ID.search(endpoint.policy_document)
        for region in regions
        for endpoint in region.vpc_endpoints
    )


def iam_principals(iam: Any, calls: ScopeCalls) -> tuple[IamPrincipal, ...] | None:
    """Roles and users of the account, to resolve unique ids; None when either listing failed."""
    roles = calls.items(iam, "ListRoles", "Roles", "iam_principals")
    users = calls.items(iam, "ListUsers", "Users", "iam_principals")
    if roles is None or users is None:
        return None
    found = [translate.iam_principal(role, "RoleId") for role in roles]
    found += [translate.iam_principal(user, "UserId") for user in users]
    return tuple(sorted(found, key=lambda p: p.unique_id))


ROUTE53_CALLS_IN_FLIGHT = 16
"""An account's Route 53 calls in flight at once (its zones, their records, its VPCs' zone
listings). The account's quota is kept by pacing (``vpce_audit.collect.rates``: a burst of 40,
then 8 per second); this bounds only the threads that wait on the calls. At 4, a 44-VPC account
listed its zones in 11 round trips although the burst allowed them all at once."""


def vpc_zones(
    route53: Any,
    vpcs: Iterable[tuple[str, str]],
    calls: ScopeCalls,
    in_flight: threading.Semaphore | None = None,
) -> tuple[VpcZones, ...]:
    """Every private hosted zone associated with each (VPC, region), whoever owns it
    (https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListHostedZonesByVPC.html):
    a spoke is often associated with zones of a central networking account.

    ``in_flight``: the account's Route 53 calls in flight, shared by its regions' listings."""

    def one(vpc_id: str, region: str, items: list[Any] | None) -> VpcZones:
        # An unreadable item makes that VPC's zones unknown (recorded), not the scan fail.
        zones = (
            None
            if items is None
            else calls.convert(
                "route53",
                "ListHostedZonesByVPC",
                "vpc_hosted_zones",
                lambda: tuple(translate.zone_summary(item) for item in items),
                resource_id=vpc_id,
            )
        )
        return VpcZones(vpc_id=vpc_id, region=region, zones=zones)

    with _route53_calls(in_flight) as submit:
        listed = [
            (
                vpc_id,
                region,
                submit(
                    functools.partial(
                        calls.items,
                        route53,
                        "ListHostedZonesByVPC",
                        "HostedZoneSummaries",
                        "vpc_hosted_zones",
                        resource_id=vpc_id,
                        VPCId=vpc_id,
                        VPCRegion=region,
                    )
                ),
            )
            for vpc_id, region in sorted(set(vpcs))
        ]
        return tuple(one(vpc_id, region, items.result()) for vpc_id, region, items in listed)
