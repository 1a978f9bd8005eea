"""2xx: DNS for interface endpoints."""

from __future__ import annotations

from vpce_audit.rules.base import CheckResult, RuleContext, builtin_rule


@builtin_rule("VPCE201", requires=("vpc_endpoints", "vpcs", "vpc_attributes"))
def private_dns_without_vpc_dns(ctx: RuleContext) -> CheckResult:
    for scope in ctx.scopes():
        for endpoint in scope.live_endpoints:
            if not (endpoint.is_interface and endpoint.private_dns_enabled):
                continue
            vpc = scope.vpcs_by_id.get(endpoint.vpc_id)
            if vpc is None or vpc.enable_dns_support is None or vpc.enable_dns_hostnames is None:
                yield ctx.skip(
                    scope,
                    endpoint.endpoint_id,
                    f"DNS attributes of {endpoint.vpc_id} were not collected",
                )
                continue
            disabled = [
                name
                for name, enabled in (
                    ("enableDnsSupport", vpc.enable_dns_support),
                    ("enableDnsHostnames", vpc.enable_dns_hostnames),
                )
                if not enabled
            ]
            if disabled:
                yield ctx.finding(
                    scope,
                    endpoint.endpoint_id,
                    f"Interface endpoint {endpoint.endpoint_id} to {endpoint.service_name} has "
                    f"private DNS enabled, but {endpoint.vpc_id} has {' and '.join(disabled)} "
                    "set to false: the private name does not resolve and clients silently use "
                    "the public endpoint.",
                    related=(endpoint.vpc_id,),
                )
