"""VPCE502 and VPCE501 on AWS's design for connecting overlapping networks: each VPC keeps a
non-routable block that overlaps the other's (100.64.0.0/16), adds a routable block of its
own, and a private NAT gateway in the routable block reaches the other VPC across a transit
gateway, whose route tables hold only the routable blocks
(https://docs.aws.amazon.com/whitepapers/latest/building-scalable-secure-multi-vpc-network-infrastructure/private-nat-gateway.html).
The overlap is by design there; it is a conflict only where a table the two share routes the
addresses both hold."""

from __future__ import annotations

import dataclasses
import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import ACCOUNT, OTHER_ACCOUNT, findings, region, skipped, vpc
from vpce_audit.findings import Severity
from vpce_audit.model import (
    RegionSnapshot,
    Route,
    RouteTable,
    Subnet,
    TransitGatewayAttachment,
    TransitGatewayRoute,
    TransitGatewayRouteTable,
    TransitGatewayRouteTarget,
)
from vpce_audit.rules.builtin.address_space import (
    _without,
    cidr_overlap_transit_gateway,
    connected_networks_conflict,
)

NON_ROUTABLE = "100.64.0.0/16"


def _attach(attachment: str, vpc_id: str, owner: str = ACCOUNT) -> TransitGatewayAttachment:
    return TransitGatewayAttachment(attachment, "tgw-1", ACCOUNT, "vpc", vpc_id, owner, "available")


def _route(
    cidr: str | None, attachment: str, kind: str = "static", state: str = "active", **extra: str
) -> TransitGatewayRoute:
    targets = (TransitGatewayRouteTarget(attachment),) if attachment else ()
    return TransitGatewayRoute(cidr, targets, kind, state, **extra)


def _vpc_table(vpc_id: str, own: str, other: str) -> RouteTable:
    """The workload subnets' table: both own blocks local, the other VPC's routable block to
    the gateway (through the private NAT gateway in AWS's design; the gateway is what
    matters here)."""
    return RouteTable(
        route_table_id=f"rtb-{vpc_id}",
        vpc_id=vpc_id,
        is_main=True,
        subnet_ids=(f"subnet-{vpc_id}",),
        routes=(
            Route(destination_cidr=own, target_id="local"),
            Route(destination_cidr=NON_ROUTABLE, target_id="local"),
            Route(destination_cidr=other, target_id="tgw-1"),
        ),
    )


def _estate(*routes: TransitGatewayRoute, propagating: tuple[str, ...] = ()) -> RegionSnapshot:
    return region(
        vpcs=[
            vpc("vpc-a", "10.0.1.0/24", NON_ROUTABLE),
            vpc("vpc-b", "10.0.2.0/24", NON_ROUTABLE),
        ],
        subnets=[
            Subnet("subnet-vpc-a", "vpc-a", "10.0.1.0/24", "eu-west-1a"),
            Subnet("subnet-vpc-b", "vpc-b", "10.0.2.0/24", "eu-west-1a"),
        ],
        route_tables=[
            _vpc_table("vpc-a", "10.0.1.0/24", "10.0.2.0/24"),
            _vpc_table("vpc-b", "10.0.2.0/24", "10.0.1.0/24"),
        ],
        transit_gateway_attachments=[_attach("att-a", "vpc-a"), _attach("att-b", "vpc-b")],
        transit_gateway_route_tables=[
            TransitGatewayRouteTable(
                "tgw-rtb", "tgw-1", ("att-a", "att-b"), propagating, tuple(routes)
            )
        ],
    )


ROUTABLE_ONLY = (_route("10.0.1.0/24", "att-a"), _route("10.0.2.0/24", "att-b"))


def test_static_routes_to_the_routable_blocks_only_are_no_conflict() -> None:
    assert findings(cidr_overlap_transit_gateway, _estate(*ROUTABLE_ONLY)) == {}
    assert findings(connected_networks_conflict, _estate(*ROUTABLE_ONLY)) == {}


def test_a_blackhole_or_a_default_route_elsewhere_keeps_the_range_off_both() -> None:
    """A blackhole route drops what it matches, also one that still names the attachment it
    led to."""
    estate = _estate(
        *ROUTABLE_ONLY,
        _route(NON_ROUTABLE, "", state="blackhole"),
        _route("100.64.8.0/24", "att-b", state="blackhole"),
        _route("0.0.0.0/0", "att-egress"),
    )
    assert findings(cidr_overlap_transit_gateway, estate) == {}


def test_propagating_both_routes_the_shared_range_to_one_of_them() -> None:
    """AWS propagates the first VPC's overlapping block only
    (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateTransitGatewayVpcAttachment.html)."""
    estate = _estate(
        _route("10.0.1.0/24", "att-a", "propagated"),
        _route(NON_ROUTABLE, "att-a", "propagated"),
        _route("10.0.2.0/24", "att-b", "propagated"),
        propagating=("att-a", "att-b"),
    )
    found = findings(cidr_overlap_transit_gateway, estate)
    assert {v: f.severity for v, f in found.items()} == {
        "vpc-a": Severity.HIGH,
        "vpc-b": Severity.HIGH,
    }
    assert "tgw-rtb routes to both it and vpc-b" in found["vpc-a"].message
    assert "sends the addresses both hold to one of them only" in found["vpc-a"].message


def test_a_static_route_into_the_shared_range_is_a_conflict() -> None:
    estate = _estate(*ROUTABLE_ONLY, _route("100.64.8.0/24", "att-b"))
    assert {v: f.severity for v, f in findings(cidr_overlap_transit_gateway, estate).items()} == {
        "vpc-a": Severity.HIGH,
        "vpc-b": Severity.HIGH,
    }


def test_unreadable_routes_of_a_table_both_propagate_into_are_a_conflict() -> None:
    """Propagation carries every block of the VPC, the overlapping one included."""
    estate = _estate(propagating=("att-a", "att-b"))
    unread = estate.transit_gateway_route_tables[0]
    estate = region(
        **{
            **{f: getattr(estate, f) for f in ("vpcs", "subnets", "route_tables")},
            "transit_gateway_attachments": estate.transit_gateway_attachments,
            "transit_gateway_route_tables": [
                TransitGatewayRouteTable(
                    unread.route_table_id,
                    "tgw-1",
                    unread.associated_attachment_ids,
                    ("att-a", "att-b"),
                    None,
                )
            ],
        }
    )
    found = findings(cidr_overlap_transit_gateway, estate)
    assert {f.severity for f in found.values()} == {Severity.HIGH}
    assert set(found) == {"vpc-a", "vpc-b"}


def test_a_route_naming_a_prefix_list_toward_one_of_them_is_a_conflict() -> None:
    """The list's entries are not read: it may hold the shared range."""
    estate = _estate(*ROUTABLE_ONLY, _route(None, "att-a", prefix_list_id="pl-1"))
    assert set(findings(cidr_overlap_transit_gateway, estate)) == {"vpc-a", "vpc-b"}


def test_an_overlapping_vpc_no_table_joins_is_still_named() -> None:
    base = _estate(*ROUTABLE_ONLY)
    estate = region(
        vpcs=[*base.vpcs, vpc("vpc-c", NON_ROUTABLE)],
        transit_gateway_attachments=[*base.transit_gateway_attachments, _attach("att-c", "vpc-c")],
        transit_gateway_route_tables=[
            *base.transit_gateway_route_tables,
            TransitGatewayRouteTable("tgw-rtb-c", "tgw-1", ("att-c",), (), ()),
        ],
    )
    found = findings(cidr_overlap_transit_gateway, estate)
    assert {v: f.severity for v, f in found.items()} == {
        "vpc-a": Severity.MEDIUM,
        "vpc-b": Severity.MEDIUM,
        "vpc-c": Severity.MEDIUM,
    }
    # a and b are kept apart by design: each is told only of c.
    assert "with 1 VPC(s) whose CIDR blocks overlap its own (vpc-c)" in found["vpc-a"].message
    assert found["vpc-a"].related_resources == ("vpc-c",)
    assert found["vpc-c"].related_resources == ("vpc-a", "vpc-b")


def test_kept_apart_is_no_pass_while_an_attached_vpc_is_unseen() -> None:
    base = _estate(*ROUTABLE_ONLY)
    estate = region(
        vpcs=base.vpcs,
        transit_gateway_attachments=[
            *base.transit_gateway_attachments,
            _attach("att-x", "vpc-x", owner=OTHER_ACCOUNT),
        ],
        transit_gateway_route_tables=[
            *base.transit_gateway_route_tables,
            TransitGatewayRouteTable("tgw-rtb-x", "tgw-1", ("att-x",), (), ()),
        ],
    )
    assert findings(cidr_overlap_transit_gateway, estate) == {}
    reasons = {s.resource_id: s.reason for s in skipped(cidr_overlap_transit_gateway, estate)}
    assert set(reasons) == {"vpc-a", "vpc-b"}
    assert "vpc-x of account" in reasons["vpc-a"]


def _three(*tables: TransitGatewayRouteTable) -> RegionSnapshot:
    """a, b and c, each with a routable block of its own and the non-routable one, attached to
    tgw-1, whose route tables are ``tables``."""
    return region(
        vpcs=[
            vpc("vpc-a", "10.0.1.0/24", NON_ROUTABLE),
            vpc("vpc-b", "10.0.2.0/24", NON_ROUTABLE),
            vpc("vpc-c", "10.0.3.0/24", NON_ROUTABLE),
        ],
        transit_gateway_attachments=[_attach(f"att-{x}", f"vpc-{x}") for x in "abc"],
        transit_gateway_route_tables=list(tables),
    )


AB = TransitGatewayRouteTable("tgw-rtb-ab", "tgw-1", ("att-a", "att-b"), (), ROUTABLE_ONLY)
"""a and b joined by their routable blocks."""


def _segments(
    c_routes: tuple[TransitGatewayRoute, ...] | None, *, c_propagates: bool = False
) -> RegionSnapshot:
    """a and b in one table, c in another: each table routes its VPCs' routable blocks."""
    return _three(
        AB,
        TransitGatewayRouteTable(
            "tgw-rtb-c", "tgw-1", ("att-c",), ("att-c",) if c_propagates else (), c_routes
        ),
    )


def test_segments_that_each_keep_the_shared_range_off_the_gateway_stay_apart() -> None:
    """Connecting c to a and b later, the same way, would not conflict either."""
    estate = _segments((_route("10.0.3.0/24", "att-c"),))
    assert findings(cidr_overlap_transit_gateway, estate) == {}


def test_a_segment_that_routes_the_shared_range_is_in_the_way_of_the_others() -> None:
    estate = _segments(
        (
            _route("10.0.3.0/24", "att-c", "propagated"),
            _route(NON_ROUTABLE, "att-c", "propagated"),
        ),
        c_propagates=True,
    )
    found = findings(cidr_overlap_transit_gateway, estate)
    assert {v: (f.severity, f.related_resources) for v, f in found.items()} == {
        "vpc-a": (Severity.MEDIUM, ("vpc-c",)),
        "vpc-b": (Severity.MEDIUM, ("vpc-c",)),
        "vpc-c": (Severity.MEDIUM, ("vpc-a", "vpc-b")),
    }
    assert "no route table of the gateway joins them yet" in found["vpc-a"].message


def test_a_segment_whose_routes_could_not_be_read_keeps_every_overlap_medium() -> None:
    """c propagates into a table whose routes were not read: propagation carries every block,
    and the table's static routes are unknown. Every overlap on the gateway stays medium, naming
    the table (a and b, kept apart where the routes were read, too)."""
    found = findings(cidr_overlap_transit_gateway, _segments(None, c_propagates=True))
    assert {v: (f.severity, f.related_resources) for v, f in found.items()} == {
        "vpc-a": (Severity.MEDIUM, ("vpc-b", "vpc-c")),
        "vpc-b": (Severity.MEDIUM, ("vpc-a", "vpc-c")),
        "vpc-c": (Severity.MEDIUM, ("vpc-a", "vpc-b")),
    }
    assert "the routes of tgw-rtb-c could not be read" in found["vpc-a"].message


def test_a_table_whose_routes_were_not_read_may_hold_a_static_route_into_the_shared_range() -> None:
    """Nothing propagates into tgw-rtb-x, but its static routes were not read: they may send
    100.64.0.0/16 toward a and b's routable block. Not a pass (found by review)."""
    estate = _estate(*ROUTABLE_ONLY)
    estate = dataclasses.replace(
        estate,
        transit_gateway_route_tables=(
            *estate.transit_gateway_route_tables,
            TransitGatewayRouteTable("tgw-rtb-x", "tgw-1", ("att-x",), (), None),
        ),
    )
    found = findings(cidr_overlap_transit_gateway, estate)
    assert {v: f.severity for v, f in found.items()} == {
        "vpc-a": Severity.MEDIUM,
        "vpc-b": Severity.MEDIUM,
    }
    assert "the routes of tgw-rtb-x could not be read" in found["vpc-a"].message


def test_a_table_whose_associations_and_routes_are_unknown_keeps_kept_apart_vpcs_medium() -> None:
    estate = _estate(*ROUTABLE_ONLY)
    estate = dataclasses.replace(
        estate,
        transit_gateway_route_tables=(
            *estate.transit_gateway_route_tables,
            TransitGatewayRouteTable("tgw-rtb-x", "tgw-1", None, None, None),
        ),
    )
    found = findings(cidr_overlap_transit_gateway, estate)
    assert {f.severity for f in found.values()} == {Severity.MEDIUM}
    assert set(found) == {"vpc-a", "vpc-b"}


def test_the_most_specific_route_decides_where_the_shared_range_goes() -> None:
    """The default route sends everything toward a (an egress VPC holding 100.64.0.0/16 too),
    but a more specific blackhole, or a route to another attachment, takes the shared range
    from it (https://docs.aws.amazon.com/vpc/latest/tgw/how-transit-gateways-work.html, route
    evaluation order). Found by review."""
    default_to_a = (_route("0.0.0.0/0", "att-a"), _route("10.0.2.0/24", "att-b"))
    for more_specific in (
        _route("100.64.0.0/10", "", state="blackhole"),
        _route(NON_ROUTABLE, "att-vpn"),
    ):
        estate = _estate(*default_to_a, more_specific)
        assert findings(cidr_overlap_transit_gateway, estate) == {}, more_specific
    # Only part of the shared range taken: the rest still goes toward a.
    partial = _estate(*default_to_a, _route("100.64.0.0/17", "att-vpn"))
    assert {f.severity for f in findings(cidr_overlap_transit_gateway, partial).values()} == {
        Severity.HIGH
    }
    # A more specific route toward a itself takes nothing from it.
    own = _estate(*default_to_a, _route("100.64.0.0/17", "att-a"))
    assert set(findings(cidr_overlap_transit_gateway, own)) == {"vpc-a", "vpc-b"}


def test_a_tables_conflict_names_only_the_vpcs_it_joins() -> None:
    estate = _three(
        TransitGatewayRouteTable(
            "tgw-rtb-ab",
            "tgw-1",
            ("att-a", "att-b"),
            (),
            (*ROUTABLE_ONLY, _route(NON_ROUTABLE, "att-a")),
        ),
        TransitGatewayRouteTable(
            "tgw-rtb-c", "tgw-1", ("att-c",), (), (_route("10.0.3.0/24", "att-c"),)
        ),
    )
    found = findings(cidr_overlap_transit_gateway, estate)
    assert "tgw-rtb-ab routes to both it and vpc-b." in found["vpc-a"].message
    assert found["vpc-a"].severity is Severity.HIGH


def test_a_blackhole_route_does_not_make_a_vpc_present_in_a_table() -> None:
    """c is named only by a blackhole route: no table routes to it or learns from it, so what it
    routes is unknown, and a and b (kept apart from each other) are told of it."""
    estate = _three(
        TransitGatewayRouteTable(
            "tgw-rtb-ab",
            "tgw-1",
            ("att-a", "att-b"),
            (),
            (*ROUTABLE_ONLY, _route("10.0.3.0/24", "att-c", state="blackhole")),
        ),
    )
    found = findings(cidr_overlap_transit_gateway, estate)
    assert {v: f.related_resources for v, f in found.items()} == {
        "vpc-a": ("vpc-c",),
        "vpc-b": ("vpc-c",),
        "vpc-c": ("vpc-a", "vpc-b"),
    }


def test_kept_apart_by_different_tables_is_judged_pair_by_pair() -> None:
    """a is joined to b by one table and to c by another, each keeping the shared range off the
    gateway; c's own table routes all of c, so b, which no table joins to c, is in its way."""
    estate = _three(
        AB,
        TransitGatewayRouteTable(
            "tgw-rtb-ac",
            "tgw-1",
            ("att-c",),
            (),
            (_route("10.0.1.0/24", "att-a"), _route("10.0.3.0/24", "att-c")),
        ),
        TransitGatewayRouteTable(
            "tgw-rtb-c-only", "tgw-1", (), (), (_route("100.64.0.0/10", "att-c"),)
        ),
    )
    found = findings(cidr_overlap_transit_gateway, estate)
    assert {v: f.related_resources for v, f in found.items()} == {
        "vpc-b": ("vpc-c",),
        "vpc-c": ("vpc-b",),
    }
    assert {f.severity for f in found.values()} == {Severity.MEDIUM}


def test_a_vpc_no_table_knows_is_counted_once() -> None:
    """c is in no table (what it routes is unknown) and a's own table routes the shared range
    toward a: c is in a's way both ways, and counted once."""
    estate = _three(
        TransitGatewayRouteTable(
            "tgw-rtb-a",
            "tgw-1",
            ("att-a",),
            ("att-a",),
            (
                _route("10.0.1.0/24", "att-a", "propagated"),
                _route(NON_ROUTABLE, "att-a", "propagated"),
            ),
        ),
        TransitGatewayRouteTable(
            "tgw-rtb-b", "tgw-1", ("att-b",), (), (_route("10.0.2.0/24", "att-b"),)
        ),
    )
    found = findings(cidr_overlap_transit_gateway, estate)
    assert {v: f.related_resources for v, f in found.items()} == {
        "vpc-a": ("vpc-b", "vpc-c"),
        "vpc-b": ("vpc-a", "vpc-c"),
        "vpc-c": ("vpc-a", "vpc-b"),
    }
    assert "with 2 VPC(s) whose CIDR blocks overlap its own" in found["vpc-a"].message


def _under_a_default_route(*spokes: tuple[str, str, str]) -> RegionSnapshot:
    """vpc-h (10.0.0.0/16, an inspection VPC) takes 0.0.0.0/0; each spoke (id, a block inside
    vpc-h's, a routable block) routes its routable block and has its shared block blackholed."""
    routes = [_route("0.0.0.0/0", "att-h")]
    for vpc_id, shared, routable in spokes:
        routes += [_route(routable, f"att-{vpc_id}"), _route(shared, "", state="blackhole")]
    return region(
        vpcs=[vpc("vpc-h", "10.0.0.0/16"), *(vpc(v, s, r) for v, s, r in spokes)],
        transit_gateway_attachments=[
            _attach("att-h", "vpc-h"),
            *(_attach(f"att-{v}", v) for v, _, _ in spokes),
        ],
        transit_gateway_route_tables=[
            TransitGatewayRouteTable(
                "tgw-rtb",
                "tgw-1",
                ("att-h", *(f"att-{v}" for v, _, _ in spokes)),
                (),
                tuple(routes),
            )
        ],
    )


def test_holes_inside_the_part_a_default_route_sends_are_taken_from_it() -> None:
    """Blackholes strictly inside vpc-h's block, one or two apart, leave no shared address
    sent toward either VPC; a third spoke without one is a conflict."""
    one = _under_a_default_route(("vpc-b", "10.0.5.0/24", "172.16.0.0/24"))
    assert findings(cidr_overlap_transit_gateway, one) == {}
    two = _under_a_default_route(
        ("vpc-b", "10.0.5.0/24", "172.16.0.0/24"), ("vpc-c", "10.0.9.0/24", "172.16.1.0/24")
    )
    assert findings(cidr_overlap_transit_gateway, two) == {}
    three = dataclasses.replace(
        two,
        vpcs=(*two.vpcs, vpc("vpc-d", "10.0.12.0/24", "172.16.2.0/24")),
        transit_gateway_attachments=(*two.transit_gateway_attachments, _attach("att-d", "vpc-d")),
    )
    table = three.transit_gateway_route_tables[0]
    three = dataclasses.replace(
        three,
        transit_gateway_route_tables=(
            dataclasses.replace(
                table,
                associated_attachment_ids=(*(table.associated_attachment_ids or ()), "att-d"),
                routes=(*(table.routes or ()), _route("172.16.2.0/24", "att-d")),
            ),
        ),
    )
    assert set(findings(cidr_overlap_transit_gateway, three)) == {"vpc-h", "vpc-d"}


def test_a_vpc_is_told_of_ten_of_the_vpcs_no_table_knows() -> None:
    others = [f"vpc-{i:02d}" for i in range(12)]
    estate = region(
        vpcs=[vpc("vpc-a", "10.0.0.0/16"), *(vpc(v, "10.0.0.0/16") for v in others)],
        transit_gateway_attachments=[
            _attach("att-a", "vpc-a"),
            *(_attach(f"att-{v}", v) for v in others),
        ],
        transit_gateway_route_tables=[
            TransitGatewayRouteTable(
                "tgw-rtb", "tgw-1", ("att-a",), (), (_route("10.0.0.0/16", "att-a"),)
            )
        ],
    )
    found = findings(cidr_overlap_transit_gateway, estate)["vpc-a"]
    assert found.related_resources == tuple(others[:10])
    assert "with 12 VPC(s)" in found.message and "and 2 more" in found.message


def _addresses(networks: list[ipaddress.IPv4Network]) -> set[int]:
    return {
        a for n in networks for a in range(int(n.network_address), int(n.broadcast_address) + 1)
    }


@given(
    st.integers(22, 26),
    st.lists(st.tuples(st.integers(0, 1023), st.integers(21, 30)), max_size=6),
)
def test_without_leaves_exactly_the_addresses_outside_the_holes(
    length: int, holes: list[tuple[int, int]]
) -> None:
    """``_without`` (what a wider route keeps of a block once more specific routes take their
    parts), held to the addresses themselves: nested, overlapping and outside holes."""
    network = ipaddress.IPv4Network(("10.0.0.0", length))
    taken = [
        ipaddress.IPv4Network((int(network.network_address) + 4 * offset, prefix), strict=False)
        for offset, prefix in holes
    ]
    pieces = _without(network, list(taken))
    assert sum(p.num_addresses for p in pieces) == len(_addresses(pieces))  # disjoint
    assert _addresses(pieces) == _addresses([network]) - _addresses(taken)
