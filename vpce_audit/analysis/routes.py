"""How a VPC route table forwards traffic for a destination range (longest-prefix match).

A route table mixes CIDR routes and prefix-list routes. AWS picks the most specific route for a
destination; a prefix-list route competes with the length of the list entry that holds the
address. Blackhole routes still match (and drop the traffic), so they take part in selection.
Only IPv4 is analysed: the S3 and DynamoDB gateway prefix lists are IPv4.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

from vpce_audit.analysis.cidrs import contains, parse_network
from vpce_audit.model import PrefixList, Route, RouteTable

ALL_IPV4 = ipaddress.IPv4Network("0.0.0.0/0")

_TARGET_KINDS = (
    ("nat-", "nat-gateway"),
    ("igw-", "internet-gateway"),
    ("eigw-", "egress-only-internet-gateway"),
    ("tgw-", "transit-gateway"),
    ("vpce-", "vpc-endpoint"),
    ("pcx-", "peering-connection"),
    ("vgw-", "virtual-private-gateway"),
    ("eni-", "network-interface"),
    ("i-", "instance"),
    ("cagw-", "carrier-gateway"),
    ("lgw-", "local-gateway"),
)


def target_kind(target_id: str | None) -> str:
    if target_id is None:
        return "unknown"
    if target_id == "local":
        return "local"
    for prefix, kind in _TARGET_KINDS:
        if target_id.startswith(prefix):
            return kind
    return "other"


@dataclass(frozen=True)
class RouteChoice:
    """The route that carries a destination block, and how specific it is."""

    destination: ipaddress.IPv4Network
    route: Route | None
    """None when no route matches (the traffic is dropped)."""
    matched_prefix: str | None
    """The CIDR (or prefix-list entry) the route matched on."""


def _route_networks(
    route: Route, prefix_lists_by_id: Mapping[str, PrefixList]
) -> list[ipaddress.IPv4Network]:
    if route.destination_cidr is not None:
        network = parse_network(route.destination_cidr)
        return [network] if isinstance(network, ipaddress.IPv4Network) else []
    if route.destination_prefix_list_id is not None:
        plist = prefix_lists_by_id.get(route.destination_prefix_list_id)
        if plist is None or plist.cidrs is None:
            return []
        networks = (parse_network(cidr) for cidr in plist.cidrs)
        return [n for n in networks if isinstance(n, ipaddress.IPv4Network)]
    return []


PROPAGATED_ORIGIN = "EnableVgwRoutePropagation"


def route_priority(route: Route) -> int:
    """AWS's tie-break between routes of equal prefix length: static, then prefix-list routes,
    then routes propagated from a virtual private gateway."""
    if route.origin == PROPAGATED_ORIGIN:
        return 0
    if route.destination_prefix_list_id is not None:
        return 1
    return 2


def route_for(
    table: RouteTable,
    destination: ipaddress.IPv4Network,
    prefix_lists_by_id: Mapping[str, PrefixList],
) -> RouteChoice:
    """The route AWS uses for the whole of ``destination`` (the most specific covering route)."""
    best: tuple[tuple[int, int], Route, str] | None = None
    for route in table.routes:
        for network in _route_networks(route, prefix_lists_by_id):
            rank = (network.prefixlen, route_priority(route))
            if contains(network, destination) and (best is None or rank > best[0]):
                best = (rank, route, str(network))
    if best is None:
        return RouteChoice(destination=destination, route=None, matched_prefix=None)
    return RouteChoice(destination=destination, route=best[1], matched_prefix=best[2])


def routes_inside(
    table: RouteTable,
    destination: ipaddress.IPv4Network,
    prefix_lists_by_id: Mapping[str, PrefixList],
) -> list[tuple[Route, ipaddress.IPv4Network]]:
    """Routes strictly more specific than ``destination``: they take part of it elsewhere."""
    found: list[tuple[Route, ipaddress.IPv4Network]] = []
    for route in table.routes:
        for network in _route_networks(route, prefix_lists_by_id):
            if network != destination and contains(destination, network):
                found.append((route, network))
    return found


def prefix_list_routes(table: RouteTable, prefix_list_id: str) -> tuple[Route, ...]:
    return tuple(r for r in table.routes if r.destination_prefix_list_id == prefix_list_id)


def service_destinations(plist: PrefixList | None) -> tuple[ipaddress.IPv4Network, ...]:
    """The address blocks of an AWS service, from its managed prefix list.

    Without the list (not collected, or unknown to the snapshot), the whole IPv4 space stands in:
    what matters then is where the default route sends traffic.
    """
    if plist is None or not plist.cidrs:
        return (ALL_IPV4,)
    networks = (parse_network(cidr) for cidr in plist.cidrs)
    return tuple(n for n in networks if isinstance(n, ipaddress.IPv4Network))
