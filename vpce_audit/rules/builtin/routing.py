"""4xx: whether S3 / DynamoDB traffic uses the gateway endpoint or pays for a NAT gateway.

Route selection follows AWS (https://docs.aws.amazon.com/vpc/latest/userguide/route-tables-priority.html):
longest prefix first, then static, prefix-list and propagated routes. A route table whose service
prefix list could not be read is skipped, not judged on the default route alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from vpce_audit.analysis.endpoint_dns import CentralDns, undecided_resolution
from vpce_audit.analysis.routes import (
    ALL_IPV4,
    prefix_list_routes,
    route_for,
    routes_inside,
    service_destinations,
    target_kind,
)
from vpce_audit.findings import Finding, Skipped
from vpce_audit.model import PrefixList, Route, RouteTable
from vpce_audit.rules.base import CheckResult, RuleContext, builtin_rule
from vpce_audit.snapshot.views import ScopeView

# The services with gateway endpoints: short name and how messages call them.
GATEWAY_SERVICES = (("s3", "S3"), ("dynamodb", "DynamoDB"))
ROUTING_REQUIREMENTS = (
    "route_tables",
    "subnets",
    "vpc_endpoints",
    "prefix_lists",
    "prefix_list_entries",
)


@dataclass(frozen=True)
class ServiceEgress:
    """How a route table's traffic to one AWS service leaves the VPC."""

    table: RouteTable
    subnet_ids: tuple[str, ...]
    exits: tuple[tuple[str, Route], ...]
    """(matched destination, route) pairs whose target is of the kind looked for."""


def _vpcs_with_private_dns(scope: ScopeView, service_name: str) -> set[str]:
    """VPCs whose own clients resolve the service to an interface endpoint (private DNS that is
    not limited to queries from a Resolver inbound endpoint)."""
    return {
        endpoint.vpc_id
        for endpoint in scope.live_endpoints
        if endpoint.is_interface
        and endpoint.private_dns_serves_vpc
        and endpoint.service_name == service_name
    }


def unreadable_prefix_list(
    ctx: RuleContext, scope: ScopeView, plist: PrefixList | None
) -> Iterator[Skipped]:
    """Skips for every route table with subnets when the service's prefix list entries are
    unknown: the tables cannot be judged on the default route alone."""
    if plist is None or plist.cidrs is not None:
        return
    for table_id in sorted(scope.subnets_by_route_table):
        yield ctx.skip(
            scope,
            table_id,
            f"the entries of prefix list {plist.prefix_list_id} ({plist.prefix_list_name}) were "
            "not read, so which routes carry the service's traffic is unknown",
            because_of=(plist.prefix_list_id,),
        )


def service_egress(scope: ScopeView, short_service: str, kind: str) -> Iterator[ServiceEgress]:
    """Route tables with subnets whose traffic to the service leaves through a ``kind`` target.

    Tables holding a route to the service's prefix list use the gateway endpoint (a shadowing
    more-specific route is VPCE404's business), and a VPC with an interface endpoint for the
    service whose private DNS serves the VPC resolves the service to that endpoint; both are left
    out. Callers skip the region when the prefix list's entries are unknown.
    """
    service_name = scope.service_name(short_service)
    plist = scope.prefix_lists_by_name.get(service_name)
    if plist is not None and plist.cidrs is None:
        return
    destinations = service_destinations(plist)
    resolved_locally = _vpcs_with_private_dns(scope, service_name)
    for table in sorted(scope.data.route_tables, key=lambda t: t.route_table_id):
        subnet_ids = scope.subnets_by_route_table.get(table.route_table_id, ())
        if not subnet_ids:
            continue
        if plist is not None and prefix_list_routes(table, plist.prefix_list_id):
            continue
        if table.vpc_id in resolved_locally:
            continue
        exits: dict[str, tuple[str, Route]] = {}
        for destination in destinations:
            choice = route_for(table, destination, scope.prefix_lists_by_id)
            candidates = [(choice.matched_prefix, choice.route)]
            if destination != ALL_IPV4:
                candidates += [
                    (str(net), route)
                    for route, net in routes_inside(table, destination, scope.prefix_lists_by_id)
                ]
            for matched, route in candidates:
                if route is None or matched is None or not route.is_active:
                    continue  # no route or a blackhole: the traffic is dropped, not forwarded
                if target_kind(route.target_id) == kind:
                    exits.setdefault(f"{matched}>{route.target_id}", (matched, route))
        if exits:
            yield ServiceEgress(
                table=table,
                subnet_ids=subnet_ids,
                exits=tuple(exits[key] for key in sorted(exits)),
            )


def _describe_targets(egress: ServiceEgress) -> str:
    by_target: dict[str, list[str]] = {}
    for matched, route in egress.exits:
        by_target.setdefault(route.target_id or "?", []).append(matched)
    return "; ".join(
        f"{target} (route {', '.join(sorted(set(prefixes)))})"
        for target, prefixes in sorted(by_target.items())
    )


def nat_egress_findings(
    ctx: RuleContext, short_service: str, label: str
) -> Iterator[Finding | Skipped]:
    central = CentralDns(ctx.snapshot)
    for scope in ctx.scopes():
        service_name = scope.service_name(short_service)
        yield from unreadable_prefix_list(ctx, scope, scope.prefix_lists_by_name.get(service_name))
        for egress in service_egress(scope, short_service, "nat-gateway"):
            table = egress.table
            public = central.resolution(scope, table.vpc_id, short_service).leaves_publicly
            if public is False:
                continue  # every name resolves privately (a central endpoint); routes don't matter
            if public is None:
                yield _central_unknown(ctx, scope, table, label)
                continue
            endpoints = scope.gateway_endpoints(table.vpc_id, service_name)
            if endpoints:
                ids = ", ".join(e.endpoint_id for e in endpoints)
                endpoint_note = (
                    f"Gateway endpoint {ids} exists in {table.vpc_id} but is not associated "
                    "with this route table."
                )
            else:
                endpoint_note = f"{table.vpc_id} has no {label} gateway endpoint."
            main_note = " (the VPC's main route table)" if table.is_main else ""
            yield ctx.finding(
                scope,
                table.route_table_id,
                f"Route table {table.route_table_id}{main_note} sends {label} traffic for "
                f"{scope.region} from subnet {', '.join(egress.subnet_ids)} through "
                f"NAT gateway {_describe_targets(egress)}. {endpoint_note}",
                related=(
                    table.vpc_id,
                    *egress.subnet_ids,
                    *(route.target_id or "" for _, route in egress.exits),
                    *(e.endpoint_id for e in endpoints),
                ),
            )


# What deciding that a VPC resolves a service to a central interface endpoint reads.
CENTRAL_DNS_REQUIREMENTS = (*ROUTING_REQUIREMENTS, "hosted_zones", "security_groups", "vpcs")


def _central_unknown(ctx: RuleContext, scope: ScopeView, table: RouteTable, label: str) -> Skipped:
    return ctx.skip(
        scope, table.route_table_id, undecided_resolution(table.vpc_id, f"{label} names")
    )


@builtin_rule("VPCE401", requires=CENTRAL_DNS_REQUIREMENTS)
def s3_traffic_via_nat(ctx: RuleContext) -> CheckResult:
    return nat_egress_findings(ctx, "s3", "S3")


@builtin_rule("VPCE402", requires=CENTRAL_DNS_REQUIREMENTS)
def dynamodb_traffic_via_nat(ctx: RuleContext) -> CheckResult:
    return nat_egress_findings(ctx, "dynamodb", "DynamoDB")


@builtin_rule("VPCE403", requires=CENTRAL_DNS_REQUIREMENTS)
def service_traffic_via_transit_gateway(ctx: RuleContext) -> CheckResult:
    central = CentralDns(ctx.snapshot)
    for scope in ctx.scopes():
        by_table: dict[str, list[tuple[str, ServiceEgress]]] = {}
        for short, label in GATEWAY_SERVICES:
            yield from unreadable_prefix_list(
                ctx, scope, scope.prefix_lists_by_name.get(scope.service_name(short))
            )
            for egress in service_egress(scope, short, "transit-gateway"):
                public = central.resolution(scope, egress.table.vpc_id, short).leaves_publicly
                if public is False:
                    continue  # every name resolves privately (a central endpoint)
                if public is None:
                    yield _central_unknown(ctx, scope, egress.table, label)
                    continue
                by_table.setdefault(egress.table.route_table_id, []).append((label, egress))
        for table_id in sorted(by_table):
            entries = by_table[table_id]
            table = entries[0][1].table
            services = " and ".join(label for label, _ in entries)
            subnets = sorted({s for _, egress in entries for s in egress.subnet_ids})
            yield ctx.finding(
                scope,
                table_id,
                f"Route table {table_id} sends {services} traffic for {scope.region} from subnet "
                f"{', '.join(subnets)} to transit gateway {_describe_targets(entries[0][1])} "
                "(centralised egress). That buys central inspection at the price of "
                "transit-gateway data processing and a NAT gateway elsewhere; a gateway endpoint "
                f"in {table.vpc_id} would carry the traffic for free but bypass that inspection, "
                "and a central interface endpoint with a private hosted zone keeps it private "
                "without the NAT.",
                related=(
                    table.vpc_id,
                    *subnets,
                    *(route.target_id or "" for _, e in entries for _, route in e.exits),
                ),
            )


def _service_prefix_lists(scope: ScopeView) -> list[tuple[str, PrefixList]]:
    found = []
    for short, label in GATEWAY_SERVICES:
        plist = scope.prefix_lists_by_name.get(scope.service_name(short))
        if plist is not None:
            found.append((label, plist))
    return found


@builtin_rule("VPCE404", requires=ROUTING_REQUIREMENTS)
def endpoint_route_shadowed(ctx: RuleContext) -> CheckResult:
    for scope in ctx.scopes():
        service_lists = _service_prefix_lists(scope)
        unreadable = [plist for _, plist in service_lists if plist.cidrs is None]
        if unreadable:
            for plist in unreadable:
                yield from unreadable_prefix_list(ctx, scope, plist)
            continue
        for table in sorted(scope.data.route_tables, key=lambda t: t.route_table_id):
            shadows: list[str] = []
            for label, plist in service_lists:
                endpoint_routes = [
                    r
                    for r in prefix_list_routes(table, plist.prefix_list_id)
                    if target_kind(r.target_id) == "vpc-endpoint"
                ]
                if not endpoint_routes:
                    continue
                endpoint_ids = {r.target_id for r in endpoint_routes}
                for block in service_destinations(plist):
                    if block == ALL_IPV4:
                        continue
                    choice = route_for(table, block, scope.prefix_lists_by_id)
                    takers = [(choice.matched_prefix, choice.route)]
                    takers += [
                        (str(net), route)
                        for route, net in routes_inside(table, block, scope.prefix_lists_by_id)
                    ]
                    for matched, route in takers:
                        if route is None or route.target_id in endpoint_ids:
                            continue
                        if route.destination_prefix_list_id == plist.prefix_list_id:
                            continue
                        state = " (blackhole)" if not route.is_active else ""
                        shadows.append(
                            f"{label} block {block} is taken by route {matched} to "
                            f"{route.target_id}{state}"
                        )
            if shadows:
                unique = sorted(set(shadows))
                yield ctx.finding(
                    scope,
                    table.route_table_id,
                    f"Route table {table.route_table_id} routes to the gateway endpoint's prefix "
                    f"list, but more specific routes win for part of it: {'; '.join(unique)}.",
                    related=(table.vpc_id,),
                )


@builtin_rule("VPCE405", requires=("route_tables", "vpc_endpoints"))
def gateway_endpoint_route_missing(ctx: RuleContext) -> CheckResult:
    for scope in ctx.scopes():
        live_ids = {endpoint.endpoint_id for endpoint in scope.live_endpoints}
        problems: dict[str, list[str]] = {}
        related: dict[str, set[str]] = {}
        for endpoint in scope.live_endpoints:
            if not endpoint.is_gateway:
                continue
            plist = scope.prefix_lists_by_name.get(endpoint.service_name)
            for table_id in endpoint.route_table_ids:
                table = scope.route_tables_by_id.get(table_id)
                if table is None:
                    yield ctx.skip(
                        scope,
                        table_id,
                        f"route table of {endpoint.endpoint_id} is not in the snapshot",
                    )
                    continue
                has_route = any(
                    r.target_id == endpoint.endpoint_id
                    and (plist is None or r.destination_prefix_list_id == plist.prefix_list_id)
                    for r in table.routes
                    if r.destination_prefix_list_id is not None
                )
                if not has_route:
                    problems.setdefault(table_id, []).append(
                        f"gateway endpoint {endpoint.endpoint_id} ({endpoint.target}) lists "
                        "it, but it has no route to the endpoint's prefix list"
                    )
                    related.setdefault(table_id, set()).add(endpoint.endpoint_id)
        for table in scope.data.route_tables:
            for route in table.routes:
                if route.destination_prefix_list_id is None:
                    continue
                if target_kind(route.target_id) != "vpc-endpoint":
                    continue
                if route.target_id in live_ids and route.is_active:
                    continue
                problems.setdefault(table.route_table_id, []).append(
                    f"its route to {route.destination_prefix_list_id} targets "
                    f"{route.target_id}, which no longer exists (blackhole)"
                )
                related.setdefault(table.route_table_id, set()).add(route.target_id or "")
        for table_id in sorted(problems):
            table = scope.route_tables_by_id[table_id]
            yield ctx.finding(
                scope,
                table_id,
                f"Route table {table_id}: {'; '.join(problems[table_id])}.",
                related=(table.vpc_id, *related[table_id]),
            )
