from __future__ import annotations

import ipaddress
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import S3_PL, route, service_prefix_lists, table
from vpce_audit.analysis.cidrs import contains, parse_network
from vpce_audit.analysis.routes import route_for, routes_inside, target_kind
from vpce_audit.analysis.topology import LongestPrefix
from vpce_audit.model import TransitGatewayRoute, TransitGatewayRouteTarget

PREFIX_LISTS = {plist.prefix_list_id: plist for plist in service_prefix_lists()}


def test_longest_prefix_wins_and_prefix_list_routes_compete_by_entry_length() -> None:
    rt = table(
        "rtb-1",
        "vpc-1",
        route("0.0.0.0/0", "nat-1"),
        route(S3_PL, "vpce-1"),
        route("52.0.0.0/8", "igw-1"),
    )
    s3_block = ipaddress.IPv4Network("52.218.0.0/17")
    choice = route_for(rt, s3_block, PREFIX_LISTS)
    assert choice.route is not None and choice.route.target_id == "vpce-1"
    assert choice.matched_prefix == "52.218.0.0/17"
    other = route_for(rt, ipaddress.IPv4Network("52.1.0.0/16"), PREFIX_LISTS)
    assert other.route is not None and other.route.target_id == "igw-1"


def test_no_covering_route_means_no_route() -> None:
    rt = table("rtb-1", "vpc-1")
    assert route_for(rt, ipaddress.IPv4Network("52.218.0.0/17"), PREFIX_LISTS).route is None


def test_routes_inside_a_block() -> None:
    rt = table("rtb-1", "vpc-1", route("0.0.0.0/0", "nat-1"), route("52.218.4.0/24", "pcx-1"))
    inside = routes_inside(rt, ipaddress.IPv4Network("52.218.0.0/17"), PREFIX_LISTS)
    assert [(r.target_id, str(n)) for r, n in inside] == [("pcx-1", "52.218.4.0/24")]


def test_target_kinds() -> None:
    assert [target_kind(t) for t in ("nat-1", "igw-1", "tgw-1", "vpce-1", "local", None, "x")] == [
        "nat-gateway",
        "internet-gateway",
        "transit-gateway",
        "vpc-endpoint",
        "local",
        "unknown",
        "other",
    ]


# -- transit-gateway route tables: longest-prefix match by index ----------------------------------


def _walked(routes: list[TransitGatewayRoute], network: Any) -> TransitGatewayRoute | None:
    """Longest-prefix match as the definition reads: of the routes whose destination contains
    the whole network, the longest, the first listed among equals."""
    best = None
    for candidate in routes:
        destination = parse_network(candidate.destination_cidr or "")
        if destination is None or not contains(destination, network):
            continue
        if best is None or destination.prefixlen > best[0]:
            best = (destination.prefixlen, candidate)
    return best[1] if best else None


_BLOCKS = st.builds(
    lambda a, b, length: f"10.{a}.{b}.0/{length}",
    st.integers(0, 3),
    st.integers(0, 3),
    st.sampled_from([8, 14, 16, 20, 24, 28]),
)


@given(
    st.lists(st.one_of(_BLOCKS, st.just("0.0.0.0/0"), st.just("fd00::/8")), max_size=12),
    st.builds(
        lambda a, b, c, length: f"10.{a}.{b}.{c}/{length}",
        st.integers(0, 3),
        st.integers(0, 3),
        st.integers(0, 255),
        st.sampled_from([16, 24, 26, 32]),
    ),
)
def test_the_route_index_picks_what_walking_every_route_picks(
    destinations: list[str], asked: str
) -> None:
    routes = [
        TransitGatewayRoute(
            cidr, (TransitGatewayRouteTarget(f"tgw-attach-{n}"),), "static", "active"
        )
        for n, cidr in enumerate(destinations)
    ]
    network = ipaddress.ip_network(asked, strict=False)
    assert LongestPrefix(routes).route_for(network) is _walked(routes, network)
