from __future__ import annotations

import ipaddress

from tests.helpers import S3_PL, route, service_prefix_lists, table
from vpce_audit.analysis.routes import route_for, routes_inside, target_kind

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
