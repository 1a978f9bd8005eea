"""3xx: where interface endpoints are placed, and whether they are available.

Endpoints that AWS manages for you (``RequesterManaged``) are listed as skipped, not judged.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from vpce_audit.clock import parse_utc
from vpce_audit.findings import Severity, Skipped
from vpce_audit.model import VpcEndpoint
from vpce_audit.rules.base import CheckResult, RuleContext, builtin_rule
from vpce_audit.rules.builtin.security_groups import reachable_endpoints
from vpce_audit.snapshot.views import ScopeView


def _placed_interface_endpoints(
    ctx: RuleContext,
) -> Iterator[tuple[ScopeView, VpcEndpoint, frozenset[str]] | Skipped]:
    """Interface and VPC Lattice endpoints with subnets, and the zones of those subnets."""
    for placed in reachable_endpoints(ctx):
        if isinstance(placed, Skipped):
            yield placed
            continue
        scope, endpoint = placed
        if endpoint.subnet_ids:
            subnets = [scope.subnets_by_id.get(subnet_id) for subnet_id in endpoint.subnet_ids]
            if any(subnet is None for subnet in subnets):
                yield ctx.skip(
                    scope,
                    endpoint.endpoint_id,
                    "a subnet of the endpoint is not in the snapshot, so its zone is unknown",
                )
                continue
            zones = frozenset(s.availability_zone for s in subnets if s is not None)
            yield scope, endpoint, zones


def _usable_zones(scope: ScopeView, endpoint: VpcEndpoint) -> set[str]:
    """Zones where the VPC has subnets and the service is offered (when the snapshot says).

    The endpoint's own interfaces sit in zones where the service is offered, so a service
    listed in none of the VPC's zones is listed under other names (a cross-region service's
    detail may name its own region's zones): then its list says nothing here."""
    zones = {s.availability_zone for s in scope.subnets_by_vpc.get(endpoint.vpc_id, ())}
    detail = scope.service_detail(endpoint)
    if detail is not None and detail.availability_zones:
        offered = zones & set(detail.availability_zones)
        return offered or zones
    return zones


@builtin_rule("VPCE304", requires=("vpc_endpoints", "subnets", "endpoint_service_details"))
def endpoint_single_az(ctx: RuleContext) -> CheckResult:
    for placed in _placed_interface_endpoints(ctx):
        if isinstance(placed, Skipped):
            yield placed
            continue
        scope, endpoint, zones = placed
        # Nothing is gained where the VPC has subnets in one zone only (of those the service
        # is offered in).
        if len(zones) == 1 and len(_usable_zones(scope, endpoint) | zones) > 1:
            (zone,) = zones
            yield ctx.finding(
                scope,
                endpoint.endpoint_id,
                f"{endpoint.endpoint_type} endpoint {endpoint.endpoint_id} to "
                f"{endpoint.target} has "
                f"network interfaces only in {zone} (subnet "
                f"{', '.join(sorted(endpoint.subnet_ids))}): an outage of that zone takes "
                "the endpoint away from the whole VPC.",
                related=(endpoint.vpc_id, *endpoint.subnet_ids),
            )


@builtin_rule("VPCE305", requires=("vpc_endpoints", "subnets", "endpoint_service_details"))
def endpoint_az_coverage_gap(ctx: RuleContext) -> CheckResult:
    for placed in _placed_interface_endpoints(ctx):
        if isinstance(placed, Skipped):
            yield placed
            continue
        scope, endpoint, covered = placed
        # A zone where the service is not offered cannot host the endpoint.
        gaps = sorted(_usable_zones(scope, endpoint) - covered)
        if gaps:
            yield ctx.finding(
                scope,
                endpoint.endpoint_id,
                f"{endpoint.endpoint_type} endpoint {endpoint.endpoint_id} to "
                f"{endpoint.target} has no network interface in {', '.join(gaps)}, where "
                f"{endpoint.vpc_id} has subnets: workloads there depend on the endpoint's other "
                f"zone{'s' if len(covered) > 1 else ''} ({', '.join(sorted(covered))}) and lose "
                "it when those fail. (Private DNS answers with every zone's addresses, so adding "
                "the zone is for resilience, not to avoid cross-zone traffic.)",
                related=(endpoint.vpc_id,),
            )


NOT_AVAILABLE = {
    "pendingacceptance": Severity.MEDIUM,
    "pending": Severity.MEDIUM,
    "partial": Severity.MEDIUM,
    "expired": Severity.MEDIUM,
    "failed": Severity.HIGH,
    "rejected": Severity.HIGH,
}

# States an endpoint passes through on its way to available: a connection request waiting for
# the provider's review, or an endpoint being created. They are judged once they have lasted
# longer than a review or a creation normally takes.
TRANSITIONAL = frozenset({"pendingacceptance", "pending"})
GRACE = timedelta(hours=24)


def _waiting_for(scope: ScopeView, endpoint: VpcEndpoint) -> timedelta | None:
    """How long a transitional endpoint had been waiting when the scope was collected; None when
    it is not transitional or either time is unknown."""
    if endpoint.state.lower() not in TRANSITIONAL or endpoint.created_at is None:
        return None
    created, collected = parse_utc(endpoint.created_at), parse_utc(scope.data.collected_at)
    if created is None or collected is None:
        return None
    return collected - created


@builtin_rule("VPCE306", requires=("vpc_endpoints",))
def endpoint_not_available(ctx: RuleContext) -> CheckResult:
    for scope in ctx.scopes():
        for endpoint in scope.live_endpoints:
            severity = NOT_AVAILABLE.get(endpoint.state.lower())
            if severity is None:
                continue
            if endpoint.requester_managed:
                yield ctx.skip(
                    scope,
                    endpoint.endpoint_id,
                    "an AWS service manages this endpoint (RequesterManaged)",
                )
                continue
            waited = _waiting_for(scope, endpoint)
            if waited is not None and waited < GRACE:
                yield ctx.skip(
                    scope,
                    endpoint.endpoint_id,
                    f"in state {endpoint.state} since {endpoint.created_at}, less than "
                    f"{GRACE.total_seconds() / 3600:.0f} hours before collection: judged once "
                    "it has waited longer than a review or creation normally takes",
                )
                continue
            yield ctx.finding(
                scope,
                endpoint.endpoint_id,
                f"{endpoint.endpoint_type} endpoint {endpoint.endpoint_id} to "
                f"{endpoint.target} in {endpoint.vpc_id} is in state {endpoint.state}"
                f"{_since(endpoint, waited)}: it carries no traffic.",
                related=(endpoint.vpc_id,),
                severity=ctx.severity_for(severity),
            )


def _since(endpoint: VpcEndpoint, waited: timedelta | None) -> str:
    if waited is None:
        return ""
    return f" (created {endpoint.created_at}, {waited.days} days before collection)"
