"""6xx: coverage and monitoring.

The default profile judges what matters to workloads: non-default VPCs with private subnets, and
the endpoints such workloads call (Systems Manager and its channels, STS, CloudWatch Logs).
``profile: fsbp`` applies AWS Security Hub's controls as Security Hub does
(https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html): EC2.10, EC2.55,
EC2.56, EC2.57, EC2.58 and EC2.60 check every VPC for its endpoint, EC2.6 every VPC for a flow log
that records rejected traffic; all medium.
"""

from __future__ import annotations

from vpce_audit.analysis.endpoint_dns import CentralDns, undecided_resolution
from vpce_audit.analysis.routes import ALL_IPV4, target_kind
from vpce_audit.findings import Severity
from vpce_audit.model import FlowLog, RouteTable, Vpc
from vpce_audit.rules.base import CheckResult, RuleContext, builtin_rule
from vpce_audit.snapshot.views import ScopeView


def _private_subnets(scope: ScopeView, vpc: Vpc) -> list[tuple[str, RouteTable]]:
    """Subnets without a route to an internet gateway, with their route tables."""
    found = []
    for subnet in scope.subnets_by_vpc.get(vpc.vpc_id, ()):
        table = scope.route_table_by_subnet.get(subnet.subnet_id)
        if table is None:
            continue  # no main table known: cannot say the subnet is private
        reaches_internet = any(
            route.is_active and target_kind(route.target_id) == "internet-gateway"
            for route in table.routes
        )
        if not reaches_internet:
            found.append((subnet.subnet_id, table))
    return found


def _egress(scope: ScopeView, tables: list[RouteTable]) -> str:
    """Where calls to AWS services from these route tables go without an endpoint."""
    exits: set[str] = set()
    unknown: set[str] = set()
    for table in tables:
        choice = scope.route_index(table).choice(ALL_IPV4)
        if choice.route is not None and choice.route.is_active:
            kind = target_kind(choice.route.target_id).replace("-", " ")
            exits.add(f"{kind} {choice.route.target_id}")
        # A list with unknown entries may hold 0.0.0.0/0 and beat what the known routes say.
        unknown.update(r.destination_prefix_list_id or "" for r in choice.contenders)
    lists = ", ".join(sorted(unknown))
    if not exits:
        if unknown:
            return f"go where the routes to prefix list {lists} (entries unknown) send them"
        return "fail: those subnets have no route out of the VPC"
    hedge = f" (unless routes to prefix list {lists}, whose entries are unknown, win)"
    return f"leave the VPC through {', '.join(sorted(exits))}{hedge if unknown else ''}"


def _has_endpoint(present: set[str], scope: ScopeView, short: str) -> bool:
    # FIPS endpoints count for the service (Security Hub EC2.10 accepts ec2-fips).
    return bool({scope.service_name(short), scope.service_name(f"{short}-fips")} & present)


@builtin_rule(
    "VPCE601",
    requires=("vpcs", "subnets", "route_tables", "vpc_endpoints", "hosted_zones"),
)
def required_endpoint_missing(ctx: RuleContext) -> CheckResult:
    """With the default profile a service also counts as covered when the VPC resolves it to a
    central interface endpoint through private zones: a healthy one, or one VPCE207 reports as
    broken for the VPC (its calls then fail at the endpoint; they do not leave by the VPC's
    routes, as this rule would say). Security Hub (profile fsbp) wants an endpoint in the VPC
    itself."""
    fsbp = ctx.settings.fsbp
    required = ctx.settings.endpoint_services_required
    central = CentralDns(ctx.snapshot)
    for scope in ctx.scopes():
        for vpc in scope.own_vpcs:
            if vpc.is_default and not fsbp:
                continue
            private = _private_subnets(scope, vpc)
            if not fsbp:
                # An egress or inspection VPC's attachment and firewall subnets carry the spokes'
                # calls, which VPCE601 judges in the spokes they come from.
                transit = central.topology.transit_subnets(scope)
                carried = [s for s, _ in private if s in transit]
                private = [(s, table) for s, table in private if s not in transit]
                if carried and not private:
                    yield ctx.skip(
                        scope,
                        vpc.vpc_id,
                        f"its private subnets carry other VPCs' traffic ({carried[0]} is "
                        f"{transit[carried[0]]}): the calls there are other VPCs', "
                        "judged where they come from; a workload placed in them is not judged",
                    )
                    continue
            if not private and not fsbp:
                continue
            present = {e.service_name for e in scope.live_endpoints_by_vpc.get(vpc.vpc_id, ())}
            absent = [short for short in required if not _has_endpoint(present, scope, short)]
            resolution = {
                short: False
                if fsbp
                else central.resolution(scope, vpc.vpc_id, short).answered_by_central_zones
                for short in absent
            }
            missing = [short for short, central_ok in resolution.items() if central_ok is False]
            undecided = [short for short, central_ok in resolution.items() if central_ok is None]
            if not missing:
                if undecided:
                    yield ctx.skip(
                        scope, vpc.vpc_id, undecided_resolution(vpc.vpc_id, ", ".join(undecided))
                    )
                continue
            if private:
                subnet_ids = [subnet_id for subnet_id, _ in private]
                effect = (
                    f"from its private subnets ({len(subnet_ids)}, e.g. {subnet_ids[0]}) calls to "
                    f"them {_egress(scope, [table for _, table in private])}"
                )
            else:
                subnet_ids = []
                effect = "calls to them from the VPC leave it"
            control = " (AWS Security Hub FSBP EC2.10, EC2.55-58, EC2.60)" if fsbp else ""
            yield ctx.finding(
                scope,
                vpc.vpc_id,
                f"{vpc.vpc_id} has no endpoint for {', '.join(missing)}{control}: {effect}."
                + (
                    f" (Whether {', '.join(undecided)} resolve to a central endpoint could not "
                    "be told.)"
                    if undecided
                    else ""
                ),
                related=subnet_ids[:20],
                severity=ctx.severity_for(Severity.MEDIUM if fsbp else ctx.rule.meta.severity),
            )


def _logging_problem(logs: list[FlowLog], fsbp: bool) -> str | None:
    """Why the VPC's flow logs do not record its traffic, or None when they do."""
    active = [log for log in logs if log.flow_log_status.upper() == "ACTIVE"]
    if not active:
        return "has no active VPC flow log"
    delivering = [log for log in active if (log.deliver_logs_status or "").upper() != "FAILED"]
    if not delivering:
        return (
            f"has flow log {', '.join(log.flow_log_id for log in active)}, but its delivery "
            "fails (DeliverLogsStatus FAILED): nothing is recorded"
        )
    if fsbp and not any(
        (log.traffic_type or "ALL").upper() in {"ALL", "REJECT"} for log in delivering
    ):
        return (
            f"has flow log {', '.join(log.flow_log_id for log in delivering)} recording only "
            "accepted traffic; Security Hub EC2.6 requires rejected traffic to be logged"
        )
    return None


@builtin_rule("VPCE602", requires=("vpcs", "flow_logs"))
def vpc_flow_logs_disabled(ctx: RuleContext) -> CheckResult:
    fsbp = ctx.settings.fsbp
    for scope in ctx.scopes():
        logs_by_vpc: dict[str, list[FlowLog]] = {}
        for log in scope.data.flow_logs:
            logs_by_vpc.setdefault(log.resource_id, []).append(log)
        for vpc in scope.own_vpcs:
            if vpc.is_default and not fsbp:
                continue
            problem = _logging_problem(logs_by_vpc.get(vpc.vpc_id, []), fsbp)
            if problem is None:
                continue
            yield ctx.finding(
                scope,
                vpc.vpc_id,
                f"{vpc.vpc_id} {problem}: traffic through its endpoints (and everything else in "
                "it) cannot be monitored or investigated.",
            )
