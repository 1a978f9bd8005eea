"""3xx: where interface endpoints are placed."""

from __future__ import annotations

from vpce_audit.rules.base import CheckResult, RuleContext, builtin_rule


@builtin_rule("VPCE304", requires=("vpc_endpoints", "subnets"))
def endpoint_single_az(ctx: RuleContext) -> CheckResult:
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
            zones = {subnet.availability_zone for subnet in subnets if subnet is not None}
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
