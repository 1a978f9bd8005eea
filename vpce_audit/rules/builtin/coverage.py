"""6xx: coverage and monitoring (AWS Foundational Security Best Practices EC2.6, EC2.10, ...)."""

from __future__ import annotations

from vpce_audit.analysis.routes import target_kind
from vpce_audit.rules.base import CheckResult, RuleContext, builtin_rule


@builtin_rule("VPCE601", requires=("vpcs", "subnets", "route_tables", "vpc_endpoints"))
def required_endpoint_missing(ctx: RuleContext) -> CheckResult:
    for scope in ctx.scopes():
        for vpc in sorted(scope.data.vpcs, key=lambda v: v.vpc_id):
            if vpc.is_default:
                continue
            private = []
            for subnet in scope.subnets_by_vpc.get(vpc.vpc_id, ()):
                table = scope.route_table_by_subnet.get(subnet.subnet_id)
                if table is None:
                    continue  # no main table known: cannot say the subnet is private
                reaches_internet = any(
                    route.is_active and target_kind(route.target_id) == "internet-gateway"
                    for route in table.routes
                )
                if not reaches_internet:
                    private.append(subnet.subnet_id)
            if not private:
                continue
            present = {e.service_name for e in scope.live_endpoints_by_vpc.get(vpc.vpc_id, ())}
            missing = [
                short
                for short in ctx.settings.required_services
                if scope.service_name(short) not in present
            ]
            if missing:
                yield ctx.finding(
                    scope,
                    vpc.vpc_id,
                    f"{vpc.vpc_id} has private subnets ({len(private)}, e.g. {private[0]}) but "
                    f"no endpoint for {', '.join(missing)}: calls to those services leave the VPC "
                    "through a NAT gateway or fail.",
                    related=private[:20],
                )


@builtin_rule("VPCE602", requires=("vpcs", "flow_logs"))
def vpc_flow_logs_disabled(ctx: RuleContext) -> CheckResult:
    for scope in ctx.scopes():
        logged = {
            log.resource_id
            for log in scope.data.flow_logs
            if log.flow_log_status.upper() == "ACTIVE"
        }
        for vpc in sorted(scope.data.vpcs, key=lambda v: v.vpc_id):
            if vpc.is_default or vpc.vpc_id in logged:
                continue
            yield ctx.finding(
                scope,
                vpc.vpc_id,
                f"{vpc.vpc_id} has no active VPC flow log: traffic through its endpoints (and "
                "everything else in it) cannot be monitored or investigated.",
            )
