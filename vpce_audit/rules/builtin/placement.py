"""3xx: where interface endpoints are placed."""

from __future__ import annotations

from collections.abc import Iterator

from vpce_audit.findings import Severity, Skipped
from vpce_audit.model import VpcEndpoint
from vpce_audit.rules.base import CheckResult, RuleContext, builtin_rule
from vpce_audit.snapshot.views import ScopeView


def _placed_interface_endpoints(
    ctx: RuleContext,
) -> Iterator[tuple[ScopeView, VpcEndpoint, frozenset[str]] | Skipped]:
    """Interface endpoints with subnets, and the zones of those subnets."""
    for scope in ctx.scopes():
        for endpoint in scope.live_endpoints:
            if not endpoint.is_interface or not endpoint.subnet_ids:
                continue
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


@builtin_rule("VPCE304", requires=("vpc_endpoints", "subnets"))
def endpoint_single_az(ctx: RuleContext) -> CheckResult:
    for placed in _placed_interface_endpoints(ctx):
        if isinstance(placed, Skipped):
            yield placed
            continue
        scope, endpoint, zones = placed
        if len(zones) == 1:
            (zone,) = zones
            yield ctx.finding(
                scope,
                endpoint.endpoint_id,
                f"Interface endpoint {endpoint.endpoint_id} to {endpoint.service_name} has "
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
        vpc_zones = {s.availability_zone for s in scope.subnets_by_vpc.get(endpoint.vpc_id, ())}
        detail = scope.service_detail(endpoint)
        if detail is not None and detail.availability_zones:
            # A zone where the service is not offered cannot host the endpoint.
            vpc_zones &= set(detail.availability_zones)
        gaps = sorted(vpc_zones - covered)
        if gaps:
            yield ctx.finding(
                scope,
                endpoint.endpoint_id,
                f"Interface endpoint {endpoint.endpoint_id} to {endpoint.service_name} has no "
                f"network interface in {', '.join(gaps)}, where {endpoint.vpc_id} has subnets: "
                "clients there pay cross-AZ charges and lose the endpoint when its zones fail.",
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


@builtin_rule("VPCE306", requires=("vpc_endpoints",))
def endpoint_not_available(ctx: RuleContext) -> CheckResult:
    for scope in ctx.scopes():
        for endpoint in scope.live_endpoints:
            severity = NOT_AVAILABLE.get(endpoint.state.lower())
            if severity is None:
                continue
            yield ctx.finding(
                scope,
                endpoint.endpoint_id,
                f"{endpoint.endpoint_type} endpoint {endpoint.endpoint_id} to "
                f"{endpoint.service_name} in {endpoint.vpc_id} is in state {endpoint.state}: it "
                "carries no traffic.",
                related=(endpoint.vpc_id,),
                # The configured severity applies to the ordinary states; failed and rejected
                # endpoints are one level worse.
                severity=ctx.severity
                if severity is Severity.MEDIUM
                else max(Severity.HIGH, ctx.severity),
            )
