"""How a VPC route table forwards traffic for a destination range (longest-prefix match).

A route table mixes CIDR routes and prefix-list routes. AWS picks the most specific route for a
destination; a prefix-list route competes with the length of the list entry that holds the
address. Blackhole routes still match (and drop the traffic), so they take part in selection.
Only IPv4 is analysed: the S3 and DynamoDB gateway prefix lists are IPv4.

A route to a prefix list whose entries are unknown (not read, not in the snapshot) may take any
addresses: selection leaves it out, but says when it could have won (``RouteChoice.contenders``)
so that callers do not judge a table on the routes they happened to see.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

from vpce_audit.analysis.cidrs import parse_network
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


_KIND_BY_PREFIX = dict(_TARGET_KINDS)


def target_kind(target_id: str | None) -> str:
    if target_id is None:
        return "unknown"
    if target_id == "local":
        return "local"
    if target_id.startswith("arn:") and ":core-network/" in target_id:
        # An AWS Cloud WAN core network (CoreNetworkArn): a wide-area network of its own, with
        # VPC, VPN and Connect attachments, whose routes the scan does not read.
        return "core-network"
    # AWS ids are "<prefix>-<hex>": one lookup of the prefix (with its dash), not a scan.
    return _KIND_BY_PREFIX.get(target_id[: target_id.find("-") + 1], "other")


@dataclass(frozen=True)
class RouteChoice:
    """The route that carries a destination block, and how specific it is."""

    destination: ipaddress.IPv4Network
    route: Route | None
    """None when no route matches (the traffic is dropped)."""
    matched_prefix: str | None
    """The CIDR (or prefix-list entry) the route matched on."""
    contenders: tuple[Route, ...] = ()
    """Routes to prefix lists with unknown entries that would beat ``route`` if an entry held
    the destination: when set, the choice is only what the known routes say."""


# AWS-managed prefix lists (the services' address ranges) are owned by "AWS", carry names that
# customer lists may not (CreateManagedPrefixList refuses "com.amazonaws."), and are never empty.
AWS_OWNER = "AWS"
AWS_NAME_PREFIX = "com.amazonaws."


def is_aws_managed(plist: PrefixList) -> bool:
    return plist.owner_id == AWS_OWNER or plist.prefix_list_name.startswith(AWS_NAME_PREFIX)


def entries_gap(plist: PrefixList) -> str | None:
    """Why the list's addresses are unknown, or None when its entries are known."""
    if plist.cidrs is None:
        return f"the entries of {_named(plist)} were not read"
    if not plist.cidrs and is_aws_managed(plist):
        # An empty answer for an AWS list is a read that went wrong, not a list holding nothing.
        return f"AWS-managed {_named(plist)} has no entries, which AWS's lists never lack"
    return None


def _named(plist: PrefixList) -> str:
    return f"prefix list {plist.prefix_list_id} ({plist.prefix_list_name})"


def prefix_list_gap(
    prefix_list_id: str, prefix_lists_by_id: Mapping[str, PrefixList]
) -> str | None:
    """``entries_gap`` for a list a route names, which the snapshot may not hold at all."""
    plist = prefix_lists_by_id.get(prefix_list_id)
    if plist is None:
        return f"prefix list {prefix_list_id} is not in the snapshot"
    return entries_gap(plist)


def route_networks(
    route: Route, prefix_lists_by_id: Mapping[str, PrefixList]
) -> list[ipaddress.IPv4Network] | None:
    """The blocks a route matches; None for a prefix list whose entries are unknown."""
    if route.destination_cidr is not None:
        network = parse_network(route.destination_cidr)
        return [network] if isinstance(network, ipaddress.IPv4Network) else []
    if route.destination_prefix_list_id is not None:
        plist = prefix_lists_by_id.get(route.destination_prefix_list_id)
        if plist is None or plist.cidrs is None or entries_gap(plist) is not None:
            return None
        networks = (parse_network(cidr) for cidr in plist.cidrs)
        return [n for n in networks if isinstance(n, ipaddress.IPv4Network)]
    return []


def unknown_prefix_list_routes(
    table: RouteTable, prefix_lists_by_id: Mapping[str, PrefixList]
) -> tuple[Route, ...]:
    """The table's routes to prefix lists whose entries are unknown: they may take any part of
    any destination."""
    return tuple(
        route
        for route in table.routes
        if route.destination_prefix_list_id is not None
        and prefix_list_gap(route.destination_prefix_list_id, prefix_lists_by_id) is not None
    )


PROPAGATED_ORIGIN = "EnableVgwRoutePropagation"


def route_priority(route: Route) -> int:
    """AWS's tie-break between routes of equal prefix length: static, then prefix-list routes,
    then routes propagated from a virtual private gateway."""
    if route.origin == PROPAGATED_ORIGIN:
        return 0
    if route.destination_prefix_list_id is not None:
        return 1
    return 2


class RouteIndex:
    """One route table's routes as integer blocks, parsed once.

    Route selection runs for every (table, destination) pair the rules ask about; parsing the
    routes' CIDRs and prefix-list entries again for each pair made it the costliest part of a
    scan. Build one per table and scope (``ScopeView.route_index``); it is immutable.
    """

    __slots__ = ("_blocks", "_choices", "table", "unknown")

    def __init__(self, table: RouteTable, prefix_lists_by_id: Mapping[str, PrefixList]) -> None:
        self.table = table
        blocks: list[tuple[int, int, int, int, Route, ipaddress.IPv4Network]] = []
        unknown: list[Route] = []
        for route in table.routes:
            networks = route_networks(route, prefix_lists_by_id)
            if networks is None:
                unknown.append(route)
                continue
            priority = route_priority(route)
            for network in networks:
                address, mask = int(network.network_address), int(network.netmask)
                blocks.append((network.prefixlen, address, mask, priority, route, network))
        self._blocks = tuple(blocks)
        # Several rules ask about the same service blocks (VPCE401 and VPCE403 both S3's).
        self._choices: dict[tuple[int, int], RouteChoice] = {}
        self.unknown: tuple[Route, ...] = tuple(unknown)
        """The routes to prefix lists whose entries are unknown (``unknown_prefix_list_routes``)."""

    def choice(self, destination: ipaddress.IPv4Network) -> RouteChoice:
        """The route AWS uses for the whole of ``destination`` (the most specific covering
        route)."""
        start = int(destination.network_address)
        length = destination.prefixlen
        known = self._choices.get((start, length))
        if known is None:
            known = self._choices[(start, length)] = self._choose(destination, start, length)
        return known

    def _choose(self, destination: ipaddress.IPv4Network, start: int, length: int) -> RouteChoice:
        best: tuple[tuple[int, int], Route, ipaddress.IPv4Network] | None = None
        for prefixlen, address, mask, priority, route, network in self._blocks:
            if prefixlen <= length and start & mask == address:
                rank = (prefixlen, priority)
                if best is None or rank > best[0]:
                    best = (rank, route, network)
        # An entry holding the destination is at most as long as it: the best an unknown list
        # can do.
        contenders = tuple(
            route
            for route in self.unknown
            if best is None or (length, route_priority(route)) > best[0]
        )
        if best is None:
            return RouteChoice(destination, route=None, matched_prefix=None, contenders=contenders)
        return RouteChoice(
            destination, route=best[1], matched_prefix=_text(best[2]), contenders=contenders
        )

    def inside(
        self, destination: ipaddress.IPv4Network
    ) -> list[tuple[Route, ipaddress.IPv4Network]]:
        """Routes strictly more specific than ``destination``: they take part of it elsewhere.
        Routes to prefix lists with unknown entries are not among them (``unknown`` says which
        may be)."""
        start = int(destination.network_address)
        mask = int(destination.netmask)
        length = destination.prefixlen
        return [
            (route, network)
            for prefixlen, address, _, _, route, network in self._blocks
            if prefixlen > length and address & mask == start
        ]


@functools.lru_cache(maxsize=1 << 16)
def _text(network: ipaddress.IPv4Network) -> str:
    # str() of a network formats it anew each time; the same few blocks are matched thousands
    # of times.
    return str(network)


def route_for(
    table: RouteTable,
    destination: ipaddress.IPv4Network,
    prefix_lists_by_id: Mapping[str, PrefixList],
) -> RouteChoice:
    """The route AWS uses for the whole of ``destination``. For one question about a table;
    asking several, build a ``RouteIndex`` once."""
    return RouteIndex(table, prefix_lists_by_id).choice(destination)


def routes_inside(
    table: RouteTable,
    destination: ipaddress.IPv4Network,
    prefix_lists_by_id: Mapping[str, PrefixList],
) -> list[tuple[Route, ipaddress.IPv4Network]]:
    """``RouteIndex.inside`` for one question about a table."""
    return RouteIndex(table, prefix_lists_by_id).inside(destination)


def prefix_list_routes(table: RouteTable, prefix_list_id: str) -> tuple[Route, ...]:
    return tuple(r for r in table.routes if r.destination_prefix_list_id == prefix_list_id)


def service_destinations(plist: PrefixList | None) -> tuple[ipaddress.IPv4Network, ...] | None:
    """The address blocks of an AWS service, from its managed prefix list; None when the list's
    entries are unknown (``entries_gap`` says why): an unread or empty list is no licence to
    judge by the default route.

    Without the list (a snapshot that does not hold it), the whole IPv4 space stands in: what
    matters then is where the default route sends traffic.
    """
    if plist is None:
        return (ALL_IPV4,)
    if plist.cidrs is None or entries_gap(plist) is not None:
        return None
    networks = (parse_network(cidr) for cidr in plist.cidrs)
    return tuple(n for n in networks if isinstance(n, ipaddress.IPv4Network))
