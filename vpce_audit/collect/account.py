"""Account-wide facts: enabled regions, the organisation id, Route 53 private hosted zones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vpce_audit.clock import utc_now
from vpce_audit.collect import translate
from vpce_audit.collect.calls import ScopeCalls
from vpce_audit.model import AccountSnapshot, HostedZone

GLOBAL_REGION = "global"

ClientFor = Callable[[str], Any]
"""Returns a boto3 client for a service name."""


def enabled_regions(ec2: Any, calls: ScopeCalls) -> tuple[str, ...] | None:
    """Regions enabled for the account (opted-in or not requiring opt-in); None on failure."""
    response = calls.single(ec2, "DescribeRegions", "regions", AllRegions=False)
    if response is None:
        return None
    return tuple(sorted(r["RegionName"] for r in response.get("Regions") or ()))


def organization_id(organizations: Any, calls: ScopeCalls) -> str | None:
    # An account outside any organisation is a fact, not a failure.
    response = calls.single(
        organizations,
        "DescribeOrganization",
        "organization",
        expected_errors=frozenset({"AWSOrganizationsNotInUseException"}),
    )
    if response is None or "Error" in response:
        return None
    return str((response.get("Organization") or {}).get("Id")) or None


def private_hosted_zones(route53: Any, calls: ScopeCalls) -> tuple[HostedZone, ...]:
    zones = calls.items(route53, "ListHostedZones", "HostedZones", "hosted_zones") or []
    found: list[HostedZone] = []
    for zone in zones:
        if not (zone.get("Config") or {}).get("PrivateZone"):
            continue
        zone_id = str(zone["Id"]).rsplit("/", 1)[-1]
        response = calls.single(
            route53, "GetHostedZone", "hosted_zones", resource_id=zone_id, Id=zone_id
        )
        vpcs = None if response is None else list(response.get("VPCs") or ())
        found.append(translate.hosted_zone(zone, vpcs))
    return tuple(sorted(found, key=lambda z: z.hosted_zone_id))


def collect_account(account_id: str, client_for: ClientFor, calls: ScopeCalls) -> AccountSnapshot:
    collected_at = utc_now()
    org_id = organization_id(client_for("organizations"), calls)
    zones = private_hosted_zones(client_for("route53"), calls)
    return AccountSnapshot(
        account_id=account_id,
        collected_at=collected_at,
        organization_id=org_id,
        hosted_zones=zones,
        errors=calls.errors,
    )
