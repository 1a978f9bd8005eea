"""Paths through a hop the analysis does not follow are unknown, not "no route".

AWS's centralised-inspection design routes a spoke's traffic, on the transit gateway, to an
inspection VPC's attachment, which hands it back to the gateway; a VPC route table may send it to
a Gateway Load Balancer endpoint or an appliance's interface first
(https://docs.aws.amazon.com/vpc/latest/tgw/transit-gateway-appliance-scenario.html,
https://docs.aws.amazon.com/vpc/latest/userguide/route-table-options.html). VPCE207 read such a
spoke as having no route to the hub's endpoint and reported centralised DNS broken at high
severity. Here: a hub (account 1) serves S3 by an interface endpoint and a private zone associated
with a spoke (account 2); the network account (3) owns the transit gateway and an inspection VPC.
"""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
from typing import Any

import pytest

from tests.helpers import (
    endpoint,
    ingress,
    region,
    scope_of,
    security_group,
    service,
    subnet,
    with_scope,
)
from tests.helpers import vpc as make_vpc
from vpce_audit.analysis.topology import Topology
from vpce_audit.model import (
    AccountSnapshot,
    EndpointInterface,
    HostedZone,
    HostedZoneVpc,
    PeeringConnection,
    PeeringSide,
    RegionSnapshot,
    ResourceRecordSet,
    Route,
    RouteTable,
    TransitGateway,
    TransitGatewayAttachment,
    TransitGatewayRoute,
    TransitGatewayRouteTable,
    TransitGatewayRouteTarget,
    VpcZones,
    ZoneSummary,
)
from vpce_audit.rules.base import Settings
from vpce_audit.rules.registry import load_registry
from vpce_audit.scan import ScanResult, run_scan
from vpce_audit.snapshot.document import SnapshotDocument
from vpce_audit.snapshot.views import Snapshot

REGION = "eu-west-1"
HUB, SPOKE, NET = "111111111111", "222222222222", "333333333333"
TGW = "tgw-0net"
A_SPOKE, A_HUB, A_INSPECT = "tgw-attach-0spoke", "tgw-attach-0hub", "tgw-attach-0insp"
ENDPOINT = "vpce-0a1b2c3d4e5f60718"
ZONE = f"s3.{REGION}.amazonaws.com"
HUB_BLOCK = "10.10.0.0/16"


def _table(table_id: str, vpc_id: str, subnet_id: str, *routes: Route) -> RouteTable:
    return RouteTable(
        route_table_id=table_id, vpc_id=vpc_id, is_main=True, subnet_ids=(subnet_id,), routes=routes
    )


def _attachment(attachment_id: str, vpc_id: str, owner: str, table: str | None):
    return TransitGatewayAttachment(
        attachment_id, TGW, NET, "vpc", vpc_id, owner, "available", table
    )


def _to(cidr: str, attachment_id: str, vpc_id: str, state: str = "active") -> TransitGatewayRoute:
    target = TransitGatewayRouteTarget(attachment_id, "vpc", vpc_id)
    return TransitGatewayRoute(cidr, (target,), "static", state)


def _one_vpc(
    account: str, short: str, block: str, subnet_block: str, exit_route: Route, **more: Any
) -> RegionSnapshot:
    """An account-region with one VPC (``vpc-0<short>``), one subnet (``subnet-<short>``) and
    its route table (``rtb-<short>``): the VPC's own block, then ``exit_route``."""
    vpc_id, subnet_id = f"vpc-0{short}", f"subnet-{short}"
    return region(
        account,
        REGION,
        vpcs=[make_vpc(vpc_id, block, owner=account)],
        subnets=[subnet(subnet_id, vpc_id, cidr=subnet_block)],
        route_tables=[
            _table(
                f"rtb-{short}",
                vpc_id,
                subnet_id,
                Route(destination_cidr=block, target_id="local"),
                exit_route,
            )
        ],
        **more,
    )


def estate(
    spokes_routes: tuple[TransitGatewayRoute, ...], spoke_exit: str | None = TGW
) -> SnapshotDocument:
    """``spokes_routes``: the gateway routes of the spokes' (and hub's) table; ``spoke_exit``:
    where the spoke's subnets send 0.0.0.0/0."""
    network = _one_vpc(
        NET,
        "insp",
        "100.64.0.0/16",
        "100.64.1.0/24",
        Route(destination_cidr="10.0.0.0/8", target_id=TGW),
        transit_gateways=[TransitGateway(TGW, NET, "available", False)],
        transit_gateway_attachments=[
            _attachment(A_SPOKE, "vpc-0spoke", SPOKE, "tgw-rtb-spokes"),
            _attachment(A_HUB, "vpc-0hub", HUB, "tgw-rtb-spokes"),
            _attachment(A_INSPECT, "vpc-0insp", NET, "tgw-rtb-insp"),
        ],
        transit_gateway_route_tables=[
            TransitGatewayRouteTable("tgw-rtb-spokes", TGW, (A_SPOKE, A_HUB), (), spokes_routes),
            TransitGatewayRouteTable(
                "tgw-rtb-insp",
                TGW,
                (A_INSPECT,),
                (A_SPOKE, A_HUB),
                (_to("10.20.0.0/16", A_SPOKE, "vpc-0spoke"), _to(HUB_BLOCK, A_HUB, "vpc-0hub")),
            ),
        ],
    )
    hub = _one_vpc(
        HUB,
        "hub",
        HUB_BLOCK,
        "10.10.1.0/24",
        Route(destination_cidr="0.0.0.0/0", target_id=TGW),
        vpc_endpoints=[
            endpoint(
                ENDPOINT,
                "vpc-0hub",
                "s3",
                subnets=("subnet-hub",),
                groups=("sg-ep",),
                network_interface_ids=("eni-ep",),
            )
        ],
        endpoint_interfaces=[
            EndpointInterface("eni-ep", "vpc-0hub", "subnet-hub", ("10.10.1.10",))
        ],
        security_groups=[security_group("sg-ep", "vpc-0hub", ingress("10.0.0.0/8"))],
        endpoint_service_details=[service("s3", private_dns_names=(ZONE, f"*.{ZONE}"))],
        transit_gateways=[TransitGateway(TGW, NET, "available", None)],
        transit_gateway_attachments=[_attachment(A_HUB, "vpc-0hub", HUB, None)],
    )
    spoke = _one_vpc(
        SPOKE,
        "spoke",
        "10.20.0.0/16",
        "10.20.1.0/24",
        Route(destination_cidr="0.0.0.0/0", target_id=spoke_exit),
        endpoint_service_details=[service("s3", private_dns_names=(ZONE, f"*.{ZONE}"))],
        transit_gateways=[TransitGateway(TGW, NET, "available", None)],
        transit_gateway_attachments=[_attachment(A_SPOKE, "vpc-0spoke", SPOKE, None)],
    )
    alias = f"{ENDPOINT}-4f2a9c1e.s3.{REGION}.vpce.amazonaws.com"
    zone = HostedZone(
        "ZHUBS3",
        ZONE,
        True,
        vpcs=(HostedZoneVpc("vpc-0spoke", REGION),),
        records=(
            ResourceRecordSet(ZONE, "A", alias_target=alias),
            ResourceRecordSet(f"*.{ZONE}", "A", alias_target=alias),
        ),
    )
    members = (HUB, SPOKE, NET)
    at = "2026-11-26T00:00:00Z"
    accounts = (
        AccountSnapshot(
            HUB, at, "o-exampleorg1", members, hosted_zones=(zone,),
            vpc_zones=(VpcZones("vpc-0hub", REGION, ()),),
        ),
        AccountSnapshot(
            SPOKE, at, "o-exampleorg1", members,
            vpc_zones=(VpcZones("vpc-0spoke", REGION, (ZoneSummary("ZHUBS3", ZONE, HUB),)),),
        ),
        AccountSnapshot(
            NET, at, "o-exampleorg1", members, vpc_zones=(VpcZones("vpc-0insp", REGION, ()),)
        ),
    )  # fmt: skip
    return SnapshotDocument(
        tool_version="t", created_at=at, accounts=accounts, regions=(hub, network, spoke)
    )


INSPECTED = (_to("0.0.0.0/0", A_INSPECT, "vpc-0insp"),)
DIRECT = (*INSPECTED, _to(HUB_BLOCK, A_HUB, "vpc-0hub"))
DROPPED = (*INSPECTED, _to(HUB_BLOCK, A_HUB, "vpc-0hub", state="blackhole"))


def _scan(document: SnapshotDocument) -> ScanResult:
    rules = [r for r in load_registry(include_plugins=False) if r.rule_id == "VPCE207"]
    return run_scan(document, rules, Settings(), today=datetime.date(2026, 11, 27))


def _reach(document: SnapshotDocument) -> tuple[bool | None, str]:
    snapshot = Snapshot(document)
    scope = next(s for s in snapshot.scopes if s.account_id == SPOKE)
    reach = Topology(snapshot).reach(
        scope, "vpc-0spoke", "vpc-0hub", [ipaddress.ip_network("10.10.1.10/32")]
    )
    return reach.reachable, reach.how


def test_a_spoke_sent_to_an_inspection_vpc_is_skipped_not_reported_broken() -> None:
    result = _scan(estate(INSPECTED))
    assert result.findings == ()
    assert {(s.rule_id, s.resource_id) for s in result.skipped} == {("VPCE207", "vpc-0spoke")}
    (skip,) = result.skipped
    assert (
        "tgw-rtb-spokes forwards it to tgw-attach-0insp (vpc), whose onward path this scan "
        "does not follow"
    ) in skip.reason


@pytest.mark.parametrize(
    ("spokes_routes", "reachable", "how"),
    [
        (DIRECT, True, "rtb-spoke -> tgw-0net (tgw-rtb-spokes)"),
        (DROPPED, False, "no route of its route tables leads there"),
        ((), False, "no route of its route tables leads there"),
        (
            INSPECTED,
            None,
            "tgw-0net: tgw-rtb-spokes forwards it to tgw-attach-0insp (vpc), whose onward path "
            "this scan does not follow",
        ),
    ],
    ids=["direct", "blackhole", "no-route", "inspection-hop"],
)
def test_the_gateway_route_decides_reach_and_a_middle_hop_is_unknown(
    spokes_routes: tuple[TransitGatewayRoute, ...], reachable: bool | None, how: str
) -> None:
    assert _reach(estate(spokes_routes)) == (reachable, how)


def test_a_broken_path_is_still_reported() -> None:
    # The hub's block blackholed on the gateway: the true positive stays.
    (finding,) = _scan(estate(DROPPED)).findings
    assert (finding.rule_id, finding.account_id, finding.resource_id) == (
        "VPCE207",
        SPOKE,
        "vpc-0spoke",
    )
    assert "has no route to" in finding.message


@pytest.mark.parametrize(
    ("target", "kind"),
    [
        ("vpce-0gwlb0123456789ab", "vpc-endpoint"),
        ("eni-0appliance01234567", "network-interface"),
        ("i-0firewall0123456789", "instance"),
        ("core-network-0a1b2c3d4e5f", "other"),  # a Cloud WAN core network: not followed
        (None, "unknown"),  # a target the collector could not read
    ],
)
def test_a_vpc_route_to_a_middlebox_is_unknown(target: str | None, kind: str) -> None:
    shown = target or "a target the scan could not read"
    assert _reach(estate(DIRECT, spoke_exit=target)) == (
        None,
        f"rtb-spoke sends it to {shown} ({kind}), whose onward path this scan does not follow",
    )
    result = _scan(estate(DIRECT, spoke_exit=target))
    assert result.findings == ()
    assert [(s.rule_id, s.resource_id) for s in result.skipped] == [("VPCE207", "vpc-0spoke")]


def _hub_outside_the_organisation(document: SnapshotDocument) -> SnapshotDocument:
    """The hub's account is a partner's, outside the organisation and not scanned; the spoke's
    account owns the service zone, whose record still names the hub's endpoint."""
    members = (SPOKE, NET)
    (zone,) = next(a for a in document.accounts if a.account_id == HUB).hosted_zones
    accounts = tuple(
        dataclasses.replace(
            account,
            organization_member_ids=members,
            hosted_zones=(zone,) if account.account_id == SPOKE else (),
            vpc_zones=tuple(
                dataclasses.replace(
                    v,
                    zones=tuple(dataclasses.replace(z, owner_account=SPOKE) for z in v.zones),
                )
                for v in account.vpc_zones
            ),
        )
        for account in document.accounts
        if account.account_id in members
    )
    regions = tuple(r for r in document.regions if r.account_id in members)
    return dataclasses.replace(document, accounts=accounts, regions=regions)


def test_an_endpoint_missing_where_the_vpc_reaches_an_outside_account_is_unknown() -> None:
    # Every member scanned, but the gateway also attaches the partner's hub VPC: the endpoint
    # may be the partner's, so it is not called gone.
    result = _scan(_hub_outside_the_organisation(estate(DIRECT)))
    assert result.findings == ()
    (skip,) = result.skipped
    assert (skip.rule_id, skip.account_id, skip.resource_id) == ("VPCE207", SPOKE, "vpc-0spoke")
    assert (
        f"{ENDPOINT} is not in the snapshot, and every member account was scanned in {REGION}, "
        f"but {TGW}, to which vpc-0spoke is attached, attaches vpc-0hub of account {HUB}, not "
        "scanned, which may own it"
    ) in skip.reason


def test_an_endpoint_missing_where_the_vpc_reaches_only_members_is_gone() -> None:
    # The partner's attachment gone from the gateway: the spoke reaches members only, all
    # scanned, so the endpoint the record names no longer exists.
    document = _hub_outside_the_organisation(estate(DIRECT))
    network = scope_of(document, NET)
    network = dataclasses.replace(
        network,
        transit_gateway_attachments=tuple(
            a for a in network.transit_gateway_attachments if a.resource_owner_id != HUB
        ),
    )
    (finding,) = _scan(with_scope(document, network)).findings
    assert (finding.rule_id, finding.resource_id) == ("VPCE207", "vpc-0spoke")
    assert f"points at {ENDPOINT}, which no longer exists" in finding.message


def test_a_peering_with_an_unscanned_account_reaches_beyond_the_scan() -> None:
    document = estate(DIRECT)
    peering = PeeringConnection(
        "pcx-0partner",
        "active",
        PeeringSide(SPOKE, "vpc-0spoke", REGION, ("10.20.0.0/16",)),
        PeeringSide("444444444444", "vpc-0partner", REGION, ("172.16.0.0/16",)),
    )
    spoke = dataclasses.replace(scope_of(document, SPOKE), peering_connections=(peering,))
    snapshot = Snapshot(with_scope(document, spoke))
    scope = next(s for s in snapshot.scopes if s.account_id == SPOKE)
    topology = Topology(snapshot)
    assert topology.reaches_beyond(scope, "vpc-0spoke", frozenset({HUB, SPOKE, NET})) == (
        "vpc-0spoke peers (pcx-0partner) with vpc-0partner of account 444444444444, not scanned"
    )
    everyone = frozenset({HUB, SPOKE, NET, "444444444444"})
    assert topology.reaches_beyond(scope, "vpc-0spoke", everyone) is None


@pytest.mark.parametrize(
    ("resource_type", "beyond"),
    [
        ("tgw-peering", True),
        ("peering", True),
        ("network-function", True),
        ("a-kind-aws-adds-later", True),
        ("vpn", False),
        ("direct-connect-gateway", False),
    ],
)
def test_a_gateway_attachment_that_leads_elsewhere_unfollowed_reaches_beyond_the_scan(
    resource_type: str, beyond: bool
) -> None:
    document = estate(DIRECT)
    network = scope_of(document, NET)
    extra = TransitGatewayAttachment(
        "tgw-attach-0other", TGW, NET, resource_type, "x-1", NET, "available", None
    )
    network = dataclasses.replace(
        network,
        transit_gateway_attachments=(*network.transit_gateway_attachments, extra),
    )
    snapshot = Snapshot(with_scope(document, network))
    scope = next(s for s in snapshot.scopes if s.account_id == SPOKE)
    found = Topology(snapshot).reaches_beyond(scope, "vpc-0spoke", frozenset({HUB, SPOKE, NET}))
    if beyond:
        assert found == (
            f"{TGW}, to which vpc-0spoke is attached, has attachment tgw-attach-0other "
            f"({resource_type}), whose destination is not followed"
        )
    else:
        assert found is None


# -- following an inspection VPC (snapshot schema 7: the attachments' subnets) ------------------

FIREWALL = "vpce-0firewall0000000a"


def _inspection(
    document: SnapshotDocument,
    *,
    subnets: tuple[str, ...] | None = ("subnet-insp",),
    tables: tuple[tuple[str, str, tuple[Route, ...]], ...] | None = None,
    endpoints: tuple[Any, ...] = (),
) -> SnapshotDocument:
    """The document with the inspection VPC's attachment reading its ``subnets`` and, where
    given, the inspection VPC's route tables as (table, subnet, routes beyond the local one)."""
    network = scope_of(document, NET)
    attachments = tuple(
        dataclasses.replace(a, subnet_ids=subnets) if a.attachment_id == A_INSPECT else a
        for a in network.transit_gateway_attachments
    )
    more: dict[str, Any] = {"transit_gateway_attachments": attachments}
    if tables is not None:
        local = Route(destination_cidr="100.64.0.0/16", target_id="local")
        more["subnets"] = tuple(
            subnet(subnet_id, "vpc-0insp", cidr=f"100.64.{index + 1}.0/24")
            for index, (_, subnet_id, _) in enumerate(tables)
        )
        more["route_tables"] = tuple(
            RouteTable(
                route_table_id=table_id,
                vpc_id="vpc-0insp",
                is_main=False,
                subnet_ids=(subnet_id,),
                routes=(local, *routes),
            )
            for table_id, subnet_id, routes in tables
        )
    if endpoints:
        more["vpc_endpoints"] = endpoints
    return with_scope(document, dataclasses.replace(network, **more))


def _reach_back(document: SnapshotDocument) -> tuple[bool | None, str]:
    """Whether the hub's endpoint subnet routes replies back to the spoke."""
    snapshot = Snapshot(document)
    scope = next(s for s in snapshot.scopes if s.account_id == HUB)
    reach = Topology(snapshot).reach(
        scope,
        "vpc-0hub",
        "vpc-0spoke",
        [ipaddress.ip_network("10.20.0.0/16")],
        from_subnets=("subnet-hub",),
    )
    return reach.reachable, reach.how


TO_GATEWAY = Route(destination_cidr="10.0.0.0/8", target_id=TGW)
TO_FIREWALL = Route(destination_cidr="0.0.0.0/0", target_id=FIREWALL)


def _firewall(kind: str = "GatewayLoadBalancer", subnets: tuple[str, ...] = ("subnet-fw",)) -> Any:
    return endpoint(FIREWALL, "vpc-0insp", "com.amazonaws.vpce.eu-west-1.vpce-svc-0fw", kind,
                    subnets=subnets)  # fmt: skip


def test_the_inspection_vpc_is_followed_through_its_attachment_subnets_back_to_the_gateway() -> (
    None
):
    # The spokes' table sends everything to the inspection VPC; its attachment subnet routes
    # 10.0.0.0/8 back to the gateway, whose inspection table routes the hub's block to the hub.
    document = _inspection(estate(INSPECTED))
    assert _reach(document) == (
        True,
        "rtb-spoke -> tgw-0net (tgw-rtb-spokes) -> tgw-attach-0insp into vpc-0insp -> "
        "rtb-insp -> tgw-0net (tgw-rtb-insp)",
    )
    result = _scan(document)
    assert (result.findings, result.skipped) == ((), ())


def test_a_firewall_endpoint_in_the_inspection_vpc_is_followed_to_its_subnet_routes() -> None:
    # AWS Network Firewall's design: attachment subnet -> firewall endpoint; the firewall
    # subnet's table sends the spokes' and hub's blocks back to the gateway.
    document = _inspection(
        estate(INSPECTED),
        tables=(
            ("rtb-attach", "subnet-insp", (TO_FIREWALL,)),
            ("rtb-fw", "subnet-fw", (TO_GATEWAY,)),
        ),
        endpoints=(_firewall(),),
    )
    assert _reach(document) == (
        True,
        "rtb-spoke -> tgw-0net (tgw-rtb-spokes) -> tgw-attach-0insp into vpc-0insp -> "
        f"rtb-attach -> {FIREWALL} (Gateway Load Balancer endpoint) -> rtb-fw -> "
        "tgw-0net (tgw-rtb-insp)",
    )
    # Replies take the same road from the hub's endpoint subnet.
    assert _reach_back(document)[0] is True
    result = _scan(document)
    assert (result.findings, result.skipped) == ((), ())


def test_an_inspection_vpc_that_does_not_send_it_back_is_no_route_and_reported() -> None:
    # The firewall subnet's table lacks the route back to the gateway: the traffic dies there.
    document = _inspection(
        estate(INSPECTED),
        tables=(("rtb-attach", "subnet-insp", (TO_FIREWALL,)), ("rtb-fw", "subnet-fw", ())),
        endpoints=(_firewall(),),
    )
    assert _reach(document) == (False, "no route of its route tables leads there")
    (finding,) = _scan(document).findings
    assert (finding.rule_id, finding.account_id, finding.resource_id) == (
        "VPCE207",
        SPOKE,
        "vpc-0spoke",
    )
    assert "has no route to" in finding.message


@pytest.mark.parametrize(
    ("change", "why"),
    [
        # A snapshot before schema 7, or the VPC attachments' listing failed: subnets unknown.
        ({"subnets": None}, "tgw-rtb-spokes forwards it to tgw-attach-0insp (vpc)"),
        # A firewall endpoint the snapshot does not hold, or not a Gateway Load Balancer one.
        (
            {"tables": (("rtb-attach", "subnet-insp", (TO_FIREWALL,)),)},
            f"rtb-attach sends it to {FIREWALL} (vpc-endpoint)",
        ),
        (
            {
                "tables": (("rtb-attach", "subnet-insp", (TO_FIREWALL,)),),
                "endpoints": (_firewall("Interface"),),
            },
            f"rtb-attach sends it to {FIREWALL} (vpc-endpoint)",
        ),
        # The firewall endpoint's subnet has no route table in the snapshot.
        (
            {
                "tables": (("rtb-attach", "subnet-insp", (TO_FIREWALL,)),),
                "endpoints": (_firewall(subnets=("subnet-gone",)),),
            },
            "the route table of subnet-gone is unknown",
        ),
    ],
    ids=["subnets-unknown", "endpoint-unknown", "not-gwlb", "endpoint-subnet-unknown"],
)
def test_an_inspection_path_that_cannot_be_followed_stays_unknown(
    change: dict[str, Any], why: str
) -> None:
    reachable, how = _reach(_inspection(estate(INSPECTED), **change))
    assert reachable is None
    assert why in how
    result = _scan(_inspection(estate(INSPECTED), **change))
    assert result.findings == ()
    assert [(s.rule_id, s.resource_id) for s in result.skipped] == [("VPCE207", "vpc-0spoke")]


def test_an_inspection_vpc_whose_account_was_not_scanned_is_unknown() -> None:
    document = _inspection(estate(INSPECTED))
    # The spokes' account and the hub's keep what the network account's scan told them: its
    # gateway tables (as if read there), not the inspection VPC's routes.
    network = scope_of(document, NET)
    elsewhere = dataclasses.replace(network, vpcs=(), subnets=(), route_tables=(), vpc_endpoints=())
    reachable, how = _reach(with_scope(document, elsewhere))
    assert reachable is None
    assert "forwards it to tgw-attach-0insp (vpc), whose onward path" in how


def test_one_zone_leading_back_is_enough_and_an_unknown_zone_is_not_no_route() -> None:
    # Two attachment subnets (two zones): a flow enters by one of them.
    both = (
        ("rtb-a", "subnet-insp", (TO_GATEWAY,)),
        ("rtb-b", "subnet-insp-b", ()),
    )
    document = _inspection(estate(INSPECTED), subnets=("subnet-insp", "subnet-insp-b"), tables=both)
    assert _reach(document)[0] is True
    unknown = (
        ("rtb-a", "subnet-insp", (Route(destination_cidr="0.0.0.0/0", target_id="eni-0appl"),)),
        ("rtb-b", "subnet-insp-b", ()),
    )
    document = _inspection(
        estate(INSPECTED), subnets=("subnet-insp", "subnet-insp-b"), tables=unknown
    )
    assert _reach(document) == (
        None,
        "rtb-a sends it to eni-0appl (network-interface), whose onward path this scan does not "
        "follow",
    )


def test_a_loop_between_the_gateway_and_the_inspection_vpc_ends_unknown() -> None:
    # The inspection attachment's own table sends everything back to the inspection VPC.
    document = estate(INSPECTED)
    network = scope_of(document, NET)
    looping = tuple(
        dataclasses.replace(t, routes=INSPECTED) if t.route_table_id == "tgw-rtb-insp" else t
        for t in network.transit_gateway_route_tables
    )
    document = _inspection(
        with_scope(document, dataclasses.replace(network, transit_gateway_route_tables=looping))
    )
    reachable, how = _reach(document)
    assert reachable is None
    assert "whose onward path this scan does not follow" in how
