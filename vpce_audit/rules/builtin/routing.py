"""4xx: whether S3 / DynamoDB traffic uses the gateway endpoint or pays for a NAT gateway, and
whether what a route table sends a transit gateway can get there (VPCE406).

Route selection follows AWS (https://docs.aws.amazon.com/vpc/latest/userguide/route-tables-priority.html):
longest prefix first, then static, prefix-list and propagated routes. A route table is skipped,
not judged on the routes that were seen, when a prefix list it routes to (or the service's own
list) has entries the snapshot does not know and those could change the verdict.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace

from vpce_audit.analysis.endpoint_dns import CentralDns, undecided_resolution
from vpce_audit.analysis.routes import (
    ALL_IPV4,
    prefix_list_gap,
    prefix_list_routes,
    service_destinations,
    target_kind,
)
from vpce_audit.analysis.topology import Topology, in_region_zone
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
class Unjudged:
    """Prefix lists whose unknown entries could change a route table's verdict."""

    prefix_list_ids: tuple[str, ...]
    gaps: tuple[str, ...]
    """Why each list's entries are unknown (``entries_gap``), for the skip's reason."""


@dataclass(frozen=True)
class ServiceEgress:
    """How a route table's traffic to one AWS service leaves the VPC."""

    table: RouteTable
    subnet_ids: tuple[str, ...]
    exits: tuple[tuple[str, Route], ...]
    """(matched destination, route) pairs whose target is of the kind looked for."""
    unjudged: Unjudged | None = None
    """Set (and ``exits`` empty) when the table cannot be judged."""
    transit: str | None = None
    """Set when every subnet of the table carries other VPCs' traffic (``Topology.
    transit_subnets``, given as ``transit``): what they are. The traffic it routes arrived
    through a transit gateway, which a gateway endpoint there would not serve; not judged."""


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


def _unjudged(scope: ScopeView, prefix_list_ids: Iterable[str | None]) -> Unjudged:
    ids = sorted({plist_id for plist_id in prefix_list_ids if plist_id})
    gaps = (prefix_list_gap(plist_id, scope.prefix_lists_by_id) for plist_id in ids)
    return Unjudged(tuple(ids), tuple(gap for gap in gaps if gap is not None))


def _merged(found: Iterable[Unjudged]) -> Unjudged:
    ids: dict[str, None] = {}
    gaps: dict[str, None] = {}  # dicts: unique, in the order met
    for unjudged in found:
        ids.update(dict.fromkeys(unjudged.prefix_list_ids))
        gaps.update(dict.fromkeys(unjudged.gaps))
    return Unjudged(tuple(ids), tuple(gaps))


def _is_exit(route: Route, kind: str) -> bool:
    # A blackhole route drops the traffic: it does not forward it anywhere.
    return route.is_active and target_kind(route.target_id) == kind


def _known_exits(
    scope: ScopeView,
    table: RouteTable,
    destinations: tuple[ipaddress.IPv4Network, ...],
    kind: str,
) -> tuple[dict[str, tuple[str, Route]], list[Route]]:
    """The ``kind`` routes the known routes give some of the destinations, and the routes to
    prefix lists with unknown entries that could take some of them instead."""
    exits: dict[str, tuple[str, Route]] = {}
    unsure: list[Route] = []
    index = scope.route_index(table)
    unknown = index.unknown
    for destination in destinations:
        choice = index.choice(destination)
        candidates = [(choice.matched_prefix, choice.route)]
        unsure.extend(choice.contenders)
        if destination != ALL_IPV4:
            candidates += [(str(net), route) for route, net in index.inside(destination)]
            unsure.extend(unknown)  # their entries may lie inside the block
        for matched, route in candidates:
            if route is not None and matched is not None and _is_exit(route, kind):
                exits.setdefault(f"{matched}>{route.target_id}", (matched, route))
    return exits, unsure


def _table_egress(
    scope: ScopeView,
    table: RouteTable,
    subnet_ids: tuple[str, ...],
    destinations: tuple[ipaddress.IPv4Network, ...],
    kind: str,
) -> ServiceEgress | None:
    exits, unsure = _known_exits(scope, table, destinations, kind)
    # Routes with unknown entries only take traffic from the known routes: without a known exit
    # they change the verdict only by being an exit themselves.
    if unsure and (exits or any(_is_exit(route, kind) for route in unsure)):
        lists = _unjudged(scope, (route.destination_prefix_list_id for route in unsure))
        return ServiceEgress(table, subnet_ids, (), lists)
    if not exits:
        return None
    return ServiceEgress(table, subnet_ids, tuple(exits[key] for key in sorted(exits)))


def _unknown_service_egress(
    scope: ScopeView, table: RouteTable, subnet_ids: tuple[str, ...], plist: PrefixList, kind: str
) -> ServiceEgress | None:
    """With the service's addresses unknown, any ``kind`` route may carry its traffic."""
    if not any(_is_exit(route, kind) for route in table.routes):
        return None
    return ServiceEgress(table, subnet_ids, (), _unjudged(scope, (plist.prefix_list_id,)))


def service_egress(
    scope: ScopeView, short_service: str, kind: str, transit: Mapping[str, str]
) -> Iterator[ServiceEgress]:
    """Route tables with subnets whose traffic to the service leaves through a ``kind`` target,
    or may (``ServiceEgress.unjudged``).

    Tables holding a route to the service's prefix list use the gateway endpoint (a shadowing
    more-specific route is VPCE404's business), and a VPC with an interface endpoint for the
    service whose private DNS serves the VPC resolves the service to that endpoint; both are left
    out, whatever the prefix lists hold.
    """
    service_name = scope.service_name(short_service)
    plist = scope.prefix_lists_by_name.get(service_name)
    destinations = service_destinations(plist)
    resolved_locally = _vpcs_with_private_dns(scope, service_name)
    for table in scope.own_route_tables:
        every_subnet = scope.subnets_by_route_table.get(table.route_table_id, ())
        if not every_subnet:
            continue
        if plist is not None and prefix_list_routes(table, plist.prefix_list_id):
            continue
        if table.vpc_id in resolved_locally:
            continue
        # Judged for the subnets of its own traffic; a table that has none is not judged.
        own = tuple(s for s in every_subnet if s not in transit) if transit else every_subnet
        subnet_ids = own or every_subnet
        if destinations is None:
            assert plist is not None  # only a list that is there can have unknown entries
            egress = _unknown_service_egress(scope, table, subnet_ids, plist, kind)
        else:
            egress = _table_egress(scope, table, subnet_ids, destinations, kind)
        if egress is not None and not own:
            what = "; ".join(f"{s} is {transit[s]}" for s in subnet_ids)
            egress = replace(egress, exits=(), unjudged=None, transit=what)
        if egress is not None:
            yield egress


def _describe_targets(egress: ServiceEgress) -> str:
    by_target: dict[str, list[str]] = {}
    for matched, route in egress.exits:
        by_target.setdefault(route.target_id or "?", []).append(matched)
    return "; ".join(
        f"{target} (route {', '.join(sorted(set(prefixes)))})"
        for target, prefixes in sorted(by_target.items())
    )


def _public_names(
    central: CentralDns, scope: ScopeView, short_service: str
) -> Callable[[str], bool | None]:
    """``leaves_publicly`` of the service's names in a VPC, worked out once per VPC: every route
    table of a VPC shares its DNS, and one VPC may hold thousands of tables."""
    known: dict[str, bool | None] = {}

    def leaves_publicly(vpc_id: str) -> bool | None:
        if vpc_id not in known:
            known[vpc_id] = central.resolution(scope, vpc_id, short_service).leaves_publicly
        return known[vpc_id]

    return leaves_publicly


def _unjudged_skip(
    ctx: RuleContext, scope: ScopeView, table_id: str, label: str, unjudged: Unjudged
) -> Skipped:
    return ctx.skip(
        scope,
        table_id,
        f"which route carries {label} traffic from {table_id} is unknown: "
        f"{'; '.join(unjudged.gaps)}",
        because_of=unjudged.prefix_list_ids,
    )


def _transit_skip(
    ctx: RuleContext, scope: ScopeView, table_id: str, label: str, transit: str
) -> Skipped:
    return ctx.skip(
        scope,
        table_id,
        f"{table_id} routes {label} traffic only for subnets built to carry other VPCs' traffic "
        f"({transit}): it arrived through a transit gateway, which a gateway endpoint does not "
        "serve (https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-s3.html); it "
        "is judged in the VPCs it comes from, and a workload placed in these subnets is not",
    )


def nat_egress_findings(
    ctx: RuleContext, short_service: str, label: str
) -> Iterator[Finding | Skipped]:
    central = CentralDns(ctx.snapshot)
    for scope in ctx.scopes():
        service_name = scope.service_name(short_service)
        leaves_publicly = _public_names(central, scope, short_service)
        transit = central.topology.transit_subnets(scope)
        for egress in service_egress(scope, short_service, "nat-gateway", transit):
            table = egress.table
            public = leaves_publicly(table.vpc_id)
            if public is False:
                continue  # every name resolves privately (a central endpoint); routes don't matter
            if egress.transit is not None:
                yield _transit_skip(ctx, scope, table.route_table_id, label, egress.transit)
                continue
            if public is None:
                yield _central_unknown(ctx, scope, table, label)
                continue
            if egress.unjudged is not None:
                yield _unjudged_skip(ctx, scope, table.route_table_id, label, egress.unjudged)
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
        unjudged: dict[str, list[tuple[str, Unjudged]]] = {}
        transit: dict[str, list[tuple[str, str]]] = {}
        transit_subnets = central.topology.transit_subnets(scope)
        for short, label in GATEWAY_SERVICES:
            leaves_publicly = _public_names(central, scope, short)
            for egress in service_egress(scope, short, "transit-gateway", transit_subnets):
                public = leaves_publicly(egress.table.vpc_id)
                if public is False:
                    continue  # every name resolves privately (a central endpoint)
                if egress.transit is not None:
                    transit.setdefault(egress.table.route_table_id, []).append(
                        (label, egress.transit)
                    )
                    continue
                if public is None:
                    yield _central_unknown(ctx, scope, egress.table, label)
                    continue
                table_id = egress.table.route_table_id
                if egress.unjudged is not None:
                    unjudged.setdefault(table_id, []).append((label, egress.unjudged))
                    continue
                by_table.setdefault(table_id, []).append((label, egress))
        for table_id, carried in sorted(transit.items()):
            labels = " and ".join(label for label, _ in carried)
            yield _transit_skip(ctx, scope, table_id, labels, carried[0][1])
        for table_id, found in sorted(unjudged.items()):
            # One skip per table, however many services it leaves undecided.
            labels = " and ".join(label for label, _ in found)
            yield _unjudged_skip(ctx, scope, table_id, labels, _merged(u for _, u in found))
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


def _endpoint_routed_lists(
    table: RouteTable, service_lists: list[tuple[str, PrefixList]]
) -> list[tuple[str, PrefixList, set[str]]]:
    """The service lists the table routes to a gateway endpoint, with those endpoints' ids."""
    found = []
    for label, plist in service_lists:
        endpoint_ids = {
            r.target_id or ""
            for r in prefix_list_routes(table, plist.prefix_list_id)
            if target_kind(r.target_id) == "vpc-endpoint"
        }
        if endpoint_ids:
            found.append((label, plist, endpoint_ids))
    return found


def _shadows(
    scope: ScopeView, table: RouteTable, label: str, plist: PrefixList, endpoint_ids: set[str]
) -> list[str]:
    """Where routes other than the endpoint's take part of the service's blocks."""
    shadows: list[str] = []
    for block in service_destinations(plist) or ():
        if block == ALL_IPV4:
            continue
        index = scope.route_index(table)
        choice = index.choice(block)
        takers = [(choice.matched_prefix, choice.route)]
        takers += [(str(net), route) for route, net in index.inside(block)]
        for matched, route in takers:
            if route is None or route.target_id in endpoint_ids:
                continue
            if route.destination_prefix_list_id == plist.prefix_list_id:
                continue
            state = " (blackhole)" if not route.is_active else ""
            shadows.append(
                f"{label} block {block} is taken by route {matched} to {route.target_id}{state}"
            )
    return shadows


@builtin_rule("VPCE404", requires=ROUTING_REQUIREMENTS)
def endpoint_route_shadowed(ctx: RuleContext) -> CheckResult:
    for scope in ctx.scopes():
        service_lists = _service_prefix_lists(scope)
        for table in scope.own_route_tables:
            routed = _endpoint_routed_lists(table, service_lists)
            if not routed:
                continue
            # A list with unknown entries (the service's own included) may take any block.
            unknown = scope.route_index(table).unknown
            if unknown:
                unjudged = _unjudged(scope, (r.destination_prefix_list_id for r in unknown))
                yield ctx.skip(
                    scope,
                    table.route_table_id,
                    f"whether more specific routes take part of the gateway endpoint's prefix "
                    f"list in {table.route_table_id} is unknown: {'; '.join(unjudged.gaps)}",
                    because_of=unjudged.prefix_list_ids,
                )
                continue
            shadows = [
                shadow
                for label, plist, endpoint_ids in routed
                for shadow in _shadows(scope, table, label, plist, endpoint_ids)
            ]
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
        for table in scope.own_route_tables:
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


def _matches_nothing(route: Route, scope: ScopeView) -> bool:
    """A route to a prefix list whose entries are known and are none: it sends no traffic
    anywhere. One whose entries are unknown (``prefix_list_gap``: not read, not in the
    snapshot, or an AWS-managed list read empty) may match, and counts."""
    plist_id = route.destination_prefix_list_id
    if plist_id is None or prefix_list_gap(plist_id, scope.prefix_lists_by_id) is not None:
        return False
    return not scope.prefix_lists_by_id[plist_id].cidrs


@builtin_rule("VPCE406", requires=("route_tables", "subnets", "transit_gateway_attachments"))
def transit_gateway_zone_not_attached(ctx: RuleContext) -> CheckResult:
    """A transit gateway takes a VPC's traffic only in the Availability Zones where the VPC's
    attachment has a subnet: "any resources in Availability Zones where there is no transit
    gateway attachment cannot reach the transit gateway"
    (https://docs.aws.amazon.com/vpc/latest/tgw/tgw-vpc-attachments.html). A route table whose
    route to the gateway serves subnets of other zones drops their traffic. Subnets of Local
    Zones and Wavelength Zones (``in_region_zone``) are not judged."""
    topology = Topology(ctx.snapshot)
    for scope in ctx.scopes():
        for table in scope.own_route_tables:
            gateways = sorted(
                {
                    route.target_id or ""
                    for route in table.routes
                    if route.is_active
                    and target_kind(route.target_id) == "transit-gateway"
                    and not _matches_nothing(route, scope)
                }
            )
            if not gateways:
                continue
            subnets = [
                subnet
                for subnet_id in scope.subnets_by_route_table.get(table.route_table_id, ())
                if (subnet := scope.subnets_by_id.get(subnet_id)) is not None
                and in_region_zone(subnet, scope.region)
            ]
            if not subnets:
                continue
            problems: list[str] = []
            unknown: list[str] = []
            related: set[str] = set()
            for tgw_id in gateways:
                attached = topology.attachment_zones(scope, table.vpc_id, tgw_id)
                if isinstance(attached, str):
                    unknown.append(f"{tgw_id}: {attached}")
                    continue
                attachment = attached.attachment
                idle = topology.idle(attachment.attachment_id)
                if idle is not None:
                    # Not yet accepted (or created), or its owners' copies disagree: it carries
                    # nothing from any zone, or may not, which adding a subnet would not change.
                    unknown.append(f"{tgw_id}: {attachment.attachment_id} {idle.how}")
                    continue
                outside = [s for s in subnets if not attached.covers(s)]
                if not outside:
                    continue
                zones = sorted({s.availability_zone for s in outside})
                listed = ", ".join(s.subnet_id for s in outside[:10])
                more = f" and {len(outside) - 10} more" if len(outside) > 10 else ""
                problems.append(
                    f"its routes to {tgw_id} serve subnet(s) {listed}{more} in "
                    f"{', '.join(zones)}, where {attachment.attachment_id} has no subnet (it has "
                    f"{', '.join(sorted(attached.names)) or 'none'})"
                )
                related.update([tgw_id, attachment.attachment_id])
                related.update(s.subnet_id for s in outside)
            if problems:
                yield ctx.finding(
                    scope,
                    table.route_table_id,
                    f"Route table {table.route_table_id} of {table.vpc_id}: "
                    f"{'; '.join(problems)}. A transit gateway takes a VPC's traffic only in "
                    "the Availability Zones of its attachment's subnets: the traffic those "
                    "subnets send to it is dropped.",
                    related=(table.vpc_id, *sorted(related)),
                )
            elif unknown:
                yield ctx.skip(
                    scope,
                    table.route_table_id,
                    f"from which zones {table.vpc_id} reaches {', '.join(gateways)} is unknown: "
                    f"{'; '.join(unknown)}",
                )
