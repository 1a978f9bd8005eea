"""VPCE501: the networks one route table of a VPC reaches conflict. AWS refuses an active peering
between overlapping VPCs (https://docs.aws.amazon.com/vpc/latest/peering/vpc-peering-basics.html),
so the conflicts live among a VPC's different connections, within one route table, where at
least one of the overlapping networks is learned rather than written as a static route; a
summary or default route that contains the VPC, or that longest-prefix match leaves a narrower
route to, is normal (https://docs.aws.amazon.com/vpc/latest/userguide/route-tables-priority.html)."""

from __future__ import annotations

import ipaddress
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import (
    ACCOUNT,
    findings,
    flagged,
    peering,
    region,
    route,
    skipped,
    snapshot,
    subnet,
    table,
    vpc,
)
from vpce_audit.analysis.topology import (
    ON_PREMISES,
    RemoteGroup,
    RemoteNetwork,
    SharedRoute,
    flattened,
)
from vpce_audit.model import (
    PrefixList,
    RegionSnapshot,
    TransitGatewayAttachment,
    TransitGatewayRoute,
    TransitGatewayRouteTable,
    TransitGatewayRouteTarget,
    VpnConnection,
    VpnGateway,
)
from vpce_audit.rules.base import Settings
from vpce_audit.rules.builtin.address_space import _conflicts, _table_conflicts
from vpce_audit.rules.builtin.address_space import connected_networks_conflict as rule
from vpce_audit.rules.engine import evaluate


def attachment(attachment_id: str, kind: str, resource: str) -> TransitGatewayAttachment:
    return TransitGatewayAttachment(
        attachment_id, "tgw-1", ACCOUNT, kind, resource, ACCOUNT, "available", "tgw-rtb-1"
    )


def tgw_route(cidr: str, attachment_id: str, kind: str, route_type: str) -> TransitGatewayRoute:
    return TransitGatewayRoute(
        cidr, (TransitGatewayRouteTarget(attachment_id, kind),), route_type, "active"
    )


def estate(
    *routes: tuple[str, str], tgw_routes: tuple[TransitGatewayRoute, ...] = ()
) -> RegionSnapshot:
    return region(
        vpcs=[vpc("vpc-1", "10.0.0.0/16"), vpc("vpc-tgw-peer", "172.20.0.0/16")],
        subnets=[subnet("subnet-1", "vpc-1")],
        route_tables=[
            table("rtb-1", "vpc-1", *(route(d, t) for d, t in routes), subnets=("subnet-1",))
        ],
        peering_connections=[
            peering("pcx-a", "vpc-1", "vpc-a", "192.168.0.0/16"),
            peering("pcx-b", "vpc-1", "vpc-b", "172.16.0.0/16", "192.168.64.0/18"),
        ],
        transit_gateway_attachments=[
            attachment("tgw-attach-own", "vpc", "vpc-1"),
            attachment("tgw-attach-peer", "vpc", "vpc-tgw-peer"),
            attachment("tgw-attach-vpn", "vpn", "vpn-1"),
        ],
        transit_gateway_route_tables=[
            TransitGatewayRouteTable(
                "tgw-rtb-1",
                "tgw-1",
                ("tgw-attach-own", "tgw-attach-peer", "tgw-attach-vpn"),
                ("tgw-attach-own", "tgw-attach-peer"),
                (tgw_route("10.0.0.0/16", "tgw-attach-own", "vpc", "propagated"), *tgw_routes),
            )
        ],
    )


def one_table(*routes: tuple[str, str], **collections: Any) -> RegionSnapshot:
    """vpc-1 (10.0.0.0/16) with one subnet on route table rtb-1 holding ``routes``."""
    extra_vpcs = collections.pop("vpcs", ())
    return region(
        vpcs=[vpc("vpc-1", "10.0.0.0/16"), *extra_vpcs],
        subnets=[subnet("subnet-1", "vpc-1")],
        route_tables=[
            table("rtb-1", "vpc-1", *(route(d, t) for d, t in routes), subnets=("subnet-1",))
        ],
        **collections,
    )


def test_static_routes_to_overlapping_peers_are_a_documented_design() -> None:
    """Peering with two VPCs that share a block, routing part of it (or different subnets) to
    each, is AWS's partial-access configuration
    (https://docs.aws.amazon.com/vpc/latest/peering/peering-configurations-partial-access.html):
    the route tables say exactly where each address goes."""
    specific = estate(
        ("192.168.0.0/16", "pcx-a"), ("172.16.0.0/16", "pcx-b"), ("192.168.64.0/18", "pcx-b")
    )
    assert flagged(rule, specific) == set()
    # Peerings the route tables do not use lead nowhere.
    assert flagged(rule, estate(("192.168.0.0/16", "pcx-a"))) == set()


def test_a_learned_route_that_overlaps_a_peer_conflicts() -> None:
    """A transit gateway route (learned, not written in the VPC's table) into a peer's block:
    the longer prefix takes part of the peer away, or the peer hides the other network."""
    routed = estate(
        ("192.168.0.0/16", "pcx-a"),
        ("0.0.0.0/0", "tgw-1"),
        tgw_routes=(tgw_route("192.168.0.0/16", "tgw-attach-peer", "vpc", "propagated"),),
    )
    message = findings(rule, routed)["vpc-1"].message
    assert (
        "in rtb-1, 192.168.0.0/16 (tgw-rtb-1 propagated route to tgw-attach-peer) overlaps "
        "192.168.0.0/16 (peer vpc-a via pcx-a)"
    ) in message


def test_each_route_table_is_judged_on_its_own() -> None:
    """Subnets whose tables reach different overlapping networks: each subnet reaches one."""
    two_tables = region(
        vpcs=[vpc("vpc-1", "10.0.0.0/16")],
        subnets=[subnet("subnet-1", "vpc-1"), subnet("subnet-2", "vpc-1", "b")],
        route_tables=[
            table("rtb-1", "vpc-1", route("0.0.0.0/0", "tgw-1"), subnets=("subnet-1",)),
            table("rtb-2", "vpc-1", route("192.168.0.0/16", "pcx-a"), subnets=("subnet-2",)),
        ],
        peering_connections=[peering("pcx-a", "vpc-1", "vpc-a", "192.168.0.0/16")],
        transit_gateway_attachments=[
            attachment("tgw-attach-own", "vpc", "vpc-1"),
            attachment("tgw-attach-peer", "vpc", "vpc-tgw-peer"),
        ],
        transit_gateway_route_tables=[
            TransitGatewayRouteTable(
                "tgw-rtb-1",
                "tgw-1",
                ("tgw-attach-own", "tgw-attach-peer"),
                ("tgw-attach-own", "tgw-attach-peer"),
                (tgw_route("192.168.0.0/16", "tgw-attach-peer", "vpc", "propagated"),),
            )
        ],
    )
    assert flagged(rule, two_tables) == set()


def test_a_summary_or_default_route_is_normal_but_an_equal_or_inner_route_conflicts() -> None:
    summary = estate(
        ("192.168.0.0/16", "pcx-a"),
        ("0.0.0.0/0", "tgw-1"),
        tgw_routes=(
            tgw_route("0.0.0.0/0", "tgw-attach-vpn", "vpn", "static"),
            tgw_route("192.0.0.0/8", "tgw-attach-vpn", "vpn", "static"),
            tgw_route("172.20.0.0/16", "tgw-attach-peer", "vpc", "propagated"),
        ),
    )
    assert flagged(rule, summary) == set()
    inner = estate(
        ("192.168.0.0/16", "pcx-a"),
        ("0.0.0.0/0", "tgw-1"),
        tgw_routes=(tgw_route("192.168.10.0/24", "tgw-attach-vpn", "vpn", "static"),),
    )
    message = findings(rule, inner)["vpc-1"].message
    assert "192.168.10.0/24 (tgw-rtb-1 static route to tgw-attach-vpn) overlaps 192.168.0.0/16" in (
        message
    )


def test_a_remote_network_inside_the_vpc_is_unreachable() -> None:
    own = estate(
        ("0.0.0.0/0", "tgw-1"),
        tgw_routes=(tgw_route("10.0.128.0/17", "tgw-attach-vpn", "vpn", "static"),),
    )
    message = findings(rule, own)["vpc-1"].message
    assert "overlaps the VPC's own block 10.0.0.0/16" in message
    # The VPC's own propagated block is not a remote network.
    assert "tgw-attach-own" not in message


def test_configured_on_premises_counts_only_with_a_hybrid_path() -> None:
    gateway = VpnGateway("vgw-1", "available", ("vpc-1",))
    vpn = VpnConnection("vpn-1", "available", "cgw-1", "vgw-1", None, ("192.168.0.0/20",))
    # The VPN's static route reaches the table through its default route to the gateway.
    hybrid = one_table(
        ("192.168.0.0/16", "pcx-a"),
        ("0.0.0.0/0", "vgw-1"),
        peering_connections=[peering("pcx-a", "vpc-1", "vpc-a", "192.168.0.0/16")],
        vpn_gateways=[gateway],
        vpn_connections=[vpn],
    )
    result = evaluate(snapshot(hybrid), [rule], Settings(on_premises_cidrs=("10.200.0.0/16",)))
    (finding,) = result.findings
    assert "192.168.0.0/20 (VPN vpn-1 static route) overlaps 192.168.0.0/16 (peer vpc-a" in (
        finding.message
    )
    isolated = region(vpcs=[vpc("vpc-9", "10.200.5.0/24")])
    quiet = evaluate(snapshot(isolated), [rule], Settings(on_premises_cidrs=("10.200.0.0/16",)))
    assert quiet.findings == ()


def test_a_peer_left_with_no_address_by_a_more_specific_static_route_conflicts() -> None:
    """Partial access is about routing part of a peer elsewhere; a route that takes all of it
    leaves a peering no route table can use."""
    both_whole = estate(("192.168.0.0/16", "pcx-a"), ("192.168.0.0/17", "pcx-b"))
    assert flagged(rule, both_whole) == set()  # pcx-a keeps 192.168.128.0/17
    shadowed = one_table(
        ("172.16.0.0/12", "pcx-b"),
        ("172.16.0.0/16", "pcx-c"),
        peering_connections=[
            peering("pcx-b", "vpc-1", "vpc-b", "172.16.0.0/16"),
            peering("pcx-c", "vpc-1", "vpc-c", "172.16.0.0/16"),
        ],
    )
    message = findings(rule, shadowed)["vpc-1"].message
    assert (
        "172.16.0.0/16 (peer vpc-b via pcx-b) overlaps 172.16.0.0/16 (peer vpc-c via pcx-c), "
        "whose more specific route leaves it no address"
    ) in message


def test_a_static_transit_gateway_route_to_a_scanned_vpc_reaches_that_vpcs_blocks() -> None:
    """A static route to a VPC attachment is that VPC's network, not an advertised summary: a
    peer inside it conflicts as a propagated route would."""
    routed = one_table(
        ("0.0.0.0/0", "tgw-1"),
        ("172.20.5.0/24", "pcx-c"),
        vpcs=[vpc("vpc-tgw-peer", "172.20.0.0/16")],
        peering_connections=[peering("pcx-c", "vpc-1", "vpc-c", "172.20.5.0/24")],
        transit_gateway_attachments=[
            attachment("tgw-attach-own", "vpc", "vpc-1"),
            attachment("tgw-attach-peer", "vpc", "vpc-tgw-peer"),
        ],
        transit_gateway_route_tables=[
            TransitGatewayRouteTable(
                "tgw-rtb-1",
                "tgw-1",
                ("tgw-attach-own", "tgw-attach-peer"),
                (),
                (tgw_route("172.20.0.0/16", "tgw-attach-peer", "vpc", "static"),),
            )
        ],
    )
    message = findings(rule, routed)["vpc-1"].message
    assert "172.20.5.0/24 (peer vpc-c via pcx-c) overlaps 172.20.0.0/16 (tgw-rtb-1 static" in (
        message
    )


def hub(*spoke_blocks: str, peer_of_spoke_1: str | None = None) -> RegionSnapshot:
    """Spokes vpc-1.. (``spoke_blocks``) on tgw-1, whose one route table holds each spoke's
    propagated block; each spoke's table sends 10.0.0.0/8 to the gateway, and spoke 1 peers with
    vpc-peer (``peer_of_spoke_1``) when given."""
    names = [f"vpc-{n}" for n in range(1, len(spoke_blocks) + 1)]
    attachments = [attachment(f"tgw-attach-{name}", "vpc", name) for name in names]
    peerings = []
    tables = []
    for name in names:
        routes = [route("10.0.0.0/8", "tgw-1")]
        if name == "vpc-1" and peer_of_spoke_1:
            peerings.append(peering("pcx-1", name, "vpc-peer", peer_of_spoke_1))
            routes.append(route(peer_of_spoke_1, "pcx-1"))
        tables.append(table(f"rtb-{name}", name, *routes, subnets=(f"subnet-{name}",)))
    return region(
        vpcs=[vpc(name, block) for name, block in zip(names, spoke_blocks, strict=True)],
        subnets=[subnet(f"subnet-{name}", name) for name in names],
        route_tables=tables,
        peering_connections=peerings,
        transit_gateway_attachments=attachments,
        transit_gateway_route_tables=[
            TransitGatewayRouteTable(
                "tgw-rtb-1",
                "tgw-1",
                tuple(a.attachment_id for a in attachments),
                tuple(a.attachment_id for a in attachments),
                tuple(
                    tgw_route(block, a.attachment_id, "vpc", "propagated")
                    for block, a in zip(spoke_blocks, attachments, strict=True)
                ),
            )
        ],
    )


def test_spokes_of_one_hub_are_judged_each_without_its_own_route() -> None:
    """Every spoke reaches the others' propagated blocks through one gateway route table, never
    its own (that is where its traffic came from). A peer of spoke 1 inside spoke 3's block
    conflicts with the gateway's route there, for spoke 1 only; the finding relates the VPCs of
    the conflict, not every spoke the table reaches."""
    estate_ = hub(
        "10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/16", "10.4.0.0/16", peer_of_spoke_1="10.3.128.0/17"
    )
    assert flagged(rule, estate_) == {"vpc-1"}
    found = findings(rule, estate_)["vpc-1"]
    assert "in rtb-vpc-1, 10.3.128.0/17 (peer vpc-peer via pcx-1) overlaps 10.3.0.0/16" in (
        found.message
    )
    assert set(found.related_resources) == {"vpc-3", "vpc-peer", "rtb-vpc-1"}
    assert flagged(rule, hub("10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/16")) == set()


_OWN = st.sampled_from(["10.0.0.0/16", "10.0.0.0/8", "10.1.0.0/24", "fd00::/56"])
_NETWORKS = st.builds(
    lambda a, b, length: ipaddress.ip_network(f"10.{a}.{b}.0/{length}", strict=False),
    st.integers(0, 2),
    st.integers(0, 2),
    st.sampled_from([8, 15, 16, 17, 24]),
)
_REMOTES = st.builds(
    RemoteNetwork,
    _NETWORKS,
    st.sampled_from(["vpc-a", "vpc-b", "vpc-c", ON_PREMISES, "tgw-attach-x"]),
    st.sampled_from(["route one", "route two"]),
    st.booleans(),
    st.booleans(),
    st.sampled_from([0, 8, 16, 24]),
)
_ATTACHMENTS = st.sampled_from(["att-1", "att-2", "att-3"])
_GROUPS = st.builds(
    lambda pairs: RemoteGroup(tuple(n for n, _ in pairs), tuple(h for _, h in pairs)),
    st.lists(st.tuples(_REMOTES, st.frozensets(_ATTACHMENTS, max_size=2)), max_size=8),
)


@given(
    st.lists(_OWN.map(ipaddress.ip_network), min_size=1, max_size=2),
    st.lists(st.one_of(st.lists(_REMOTES, max_size=4).map(tuple), _GROUPS), max_size=4),
    st.lists(st.lists(_ATTACHMENTS, min_size=4, max_size=4), min_size=2, max_size=2),
)
def test_shared_gateway_routes_conflict_as_the_whole_table_does(
    own: list[Any], pieces: list[Any], viewers: list[list[str]]
) -> None:
    """A table's conflicts worked out with its gateway routes' part computed once for every VPC
    (shared between VPCs that do not see the same routes, and whose attachment differs from one
    gateway to the next) are those of a sweep over the whole table as one list."""
    shared: dict[tuple[int, ...], Any] = {}
    for viewer in viewers:
        parts = tuple(
            SharedRoute(piece, viewer[at]) if isinstance(piece, RemoteGroup) else piece
            for at, piece in enumerate(pieces)
        )
        assert _table_conflicts(own, parts, shared) == _conflicts(own, flattened(parts))


def test_a_vpn_static_route_counts_only_where_the_table_routes_it_to_the_gateway() -> None:
    """AWS puts a VPN's routes in a table only by propagation (then listed among its routes) or
    by a route someone adds (https://docs.aws.amazon.com/vpn/latest/s2svpn/vpn-route-priority.html):
    a table that sends only 10.200.0.0/16 to the gateway does not reach the VPN's
    192.168.0.0/20, so it does not conflict with a peer's 192.168.0.0/16."""
    gateway = VpnGateway("vgw-1", "available", ("vpc-1",))
    vpn = VpnConnection("vpn-1", "available", "cgw-1", "vgw-1", None, ("192.168.0.0/20",))
    narrow = one_table(
        ("192.168.0.0/16", "pcx-a"),
        ("10.200.0.0/16", "vgw-1"),
        peering_connections=[peering("pcx-a", "vpc-1", "vpc-a", "192.168.0.0/16")],
        vpn_gateways=[gateway],
        vpn_connections=[vpn],
    )
    assert flagged(rule, narrow) == set()


def test_a_route_to_a_prefix_list_reaches_its_entries() -> None:
    """A prefix-list route competes by its entries
    (https://docs.aws.amazon.com/vpc/latest/userguide/route-tables-priority.html): a list
    holding 172.16.0.0/12 sent to a peer whose every address a more specific route takes
    elsewhere conflicts as the CIDR route does; a list whose entries are unknown leaves the VPC
    skipped, not passed."""
    peerings = [
        peering("pcx-b", "vpc-1", "vpc-b", "172.16.0.0/16"),
        peering("pcx-c", "vpc-1", "vpc-c", "172.16.0.0/16"),
    ]

    def judged(first: str, cidrs: tuple[str, ...] | None = None) -> tuple[set[str], list[str]]:
        estate = one_table(
            (first, "pcx-b"),
            ("172.16.0.0/16", "pcx-c"),
            peering_connections=peerings,
            prefix_lists=[PrefixList("pl-0peer", "peer", ACCOUNT, cidrs=cidrs)],
        )
        return flagged(rule, estate), [s.resource_id for s in skipped(rule, estate)]

    as_cidr = judged("172.16.0.0/12")
    assert as_cidr[0]  # the CIDR route conflicts
    assert judged("pl-0peer", ("172.16.0.0/12",)) == as_cidr
    assert judged("pl-0peer", None) == (set(), ["vpc-1"])
