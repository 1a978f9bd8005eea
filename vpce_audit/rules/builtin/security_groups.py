"""3xx: security groups of interface endpoints."""

from __future__ import annotations

from vpce_audit.rules.base import CheckResult, RuleContext, builtin_rule

INTERNET_SOURCES = frozenset({"0.0.0.0/0", "::/0"})


@builtin_rule("VPCE301", requires=("vpc_endpoints", "security_groups"))
def endpoint_sg_open_to_internet(ctx: RuleContext) -> CheckResult:
    for scope in ctx.scopes():
        for endpoint in scope.live_endpoints:
            if not endpoint.is_interface:
                continue
            open_groups: list[str] = []
            sources: set[str] = set()
            missing: list[str] = []
            for group_id in endpoint.security_group_ids:
                group = scope.security_groups_by_id.get(group_id)
                if group is None:
                    missing.append(group_id)
                    continue
                group_sources = {
                    source
                    for rule in group.ingress
                    for source in (rule.cidr_ipv4, rule.cidr_ipv6)
                    if source in INTERNET_SOURCES
                }
                if group_sources:
                    open_groups.append(group_id)
                    sources |= group_sources
            if open_groups:
                yield ctx.finding(
                    scope,
                    endpoint.endpoint_id,
                    f"Interface endpoint {endpoint.endpoint_id} to {endpoint.service_name} has "
                    f"security group {', '.join(open_groups)} allowing ingress from "
                    f"{' and '.join(sorted(sources))}.",
                    related=(endpoint.vpc_id, *open_groups),
                )
            elif missing:
                yield ctx.skip(
                    scope,
                    endpoint.endpoint_id,
                    f"security group {', '.join(missing)} is not in the snapshot",
                )
