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
    error,
    ingress,
    region,
    scope_of,
    security_group,
    service,
    subnet,
    with_scope,
)
from tests.helpers import vpc as make_vpc
from vpce_audit.analysis.topology import Reach, Topology
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


def _spoke_reach(
    document: SnapshotDocument,
    network: str = "10.10.1.10/32",
    from_subnets: tuple[str, ...] | None = None,
) -> Reach:
    """How the spoke reaches ``network`` in the hub (from ``from_subnets`` where given)."""
    snapshot = Snapshot(document)
    scope = next(s for s in snapshot.scopes if s.account_id == SPOKE)
    return Topology(snapshot).reach(
        scope, "vpc-0spoke", "vpc-0hub", [ipaddress.ip_network(network)], from_subnets
    )


def _reach(document: SnapshotDocument) -> tuple[bool | None, str]:
    reach = _spoke_reach(document)
    return reach.reachable, reach.how


def test_a_spoke_sent_to_an_inspection_vpc_is_skipped_not_reported_broken() -> None:
    result = _scan(estate(INSPECTED))
    assert result.findings == ()
    assert {(s.rule_id, s.resource_id) for s in result.skipped} == {("VPCE207", "vpc-0spoke")}
    (skip,) = result.skipped
    # A snapshot before schema 7: the inspection attachment's subnets are unknown.
    assert (
        "rtb-spoke -> tgw-0net (tgw-rtb-spokes) -> tgw-attach-0insp into vpc-0insp, whose "
        "subnets were not read"
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
            "rtb-spoke -> tgw-0net (tgw-rtb-spokes) -> tgw-attach-0insp into vpc-0insp, whose "
            "subnets were not read (DescribeTransitGatewayVpcAttachments; a snapshot before "
            "schema 7 has none): where it goes there is not followed",
        ),
    ],
    ids=["direct", "blackhole", "no-route", "inspection-hop"],
)
def test_the_gateway_route_decides_reach_and_a_middle_hop_is_unknown(
    spokes_routes: tuple[TransitGatewayRoute, ...], reachable: bool | None, how: str
) -> None:
    assert _reach(estate(spokes_routes)) == (reachable, how)


def _spoke_broken(result: ScanResult) -> str:
    """The message of the scan's one finding, which must be VPCE207's about the spoke, in the
    spoke's account."""
    (finding,) = result.findings
    assert (finding.rule_id, finding.account_id, finding.resource_id) == (
        "VPCE207",
        SPOKE,
        "vpc-0spoke",
    )
    return finding.message


def test_a_broken_path_is_still_reported() -> None:
    # The hub's block blackholed on the gateway: the true positive stays.
    assert "has no route to" in _spoke_broken(_scan(estate(DROPPED)))


def _attachment_in_state(document: SnapshotDocument, attachment_id: str, state: str) -> Any:
    """``document`` with every account's copy of ``attachment_id`` in ``state``."""
    regions = tuple(
        dataclasses.replace(
            scope,
            transit_gateway_attachments=tuple(
                dataclasses.replace(a, state=state) if a.attachment_id == attachment_id else a
                for a in scope.transit_gateway_attachments
            ),
        )
        for scope in document.regions
    )
    return dataclasses.replace(document, regions=regions)


def test_an_attachment_not_yet_accepted_carries_nothing() -> None:
    """A spoke whose attachment the gateway's owner has not accepted reaches nothing through
    the gateway, whatever its route table says; nor does a route to a hub attachment not yet
    accepted (https://docs.aws.amazon.com/vpc/latest/tgw/tgw-vpc-attachments.html)."""
    pending = _attachment_in_state(estate(DIRECT), A_SPOKE, "pendingAcceptance")
    assert _reach(pending) == (
        False,
        f"rtb-spoke -> tgw-0net ({A_SPOKE} is pendingAcceptance: it carries nothing)",
    )
    assert f"{A_SPOKE} is pendingAcceptance" in _spoke_broken(_scan(pending))
    hub_pending = _attachment_in_state(estate(DIRECT), A_HUB, "pendingAcceptance")
    assert _reach(hub_pending) == (
        False,
        f"rtb-spoke -> tgw-0net (tgw-rtb-spokes sends it to {A_HUB}, which is pendingAcceptance: "
        "it carries nothing)",
    )
    assert f"{A_HUB}, which is pendingAcceptance" in _spoke_broken(_scan(hub_pending))
    # Accepted (available, or modifying), the same estate is reachable.
    assert _reach(_attachment_in_state(estate(DIRECT), A_SPOKE, "modifying"))[0] is True


def test_an_attachment_being_created_or_seen_two_ways_is_unknown() -> None:
    """pending lasts the minutes AWS takes to create an attachment (auto-accepted ones too): a
    scan taken meanwhile cannot say it is broken. Two accounts' copies read apart that disagree
    cannot either, whichever of them is stale."""
    being_made = _attachment_in_state(estate(DIRECT), A_SPOKE, "pending")
    assert _reach(being_made) == (
        None,
        f"rtb-spoke -> tgw-0net ({A_SPOKE} is still being created (pending))",
    )
    assert _scan(being_made).findings == ()
    for stale_account in (SPOKE, NET):  # the VPC owner's copy stale, or the gateway owner's
        document = estate(DIRECT)
        regions = tuple(
            dataclasses.replace(
                scope,
                transit_gateway_attachments=tuple(
                    dataclasses.replace(a, state="pendingAcceptance")
                    if a.attachment_id == A_SPOKE and scope.account_id == stale_account
                    else a
                    for a in scope.transit_gateway_attachments
                ),
            )
            for scope in document.regions
        )
        disagreeing = dataclasses.replace(document, regions=regions)
        reachable, how = _reach(disagreeing)
        assert reachable is None
        assert f"{A_SPOKE} is available / pendingAcceptance in different accounts' listings" in how
        result = _scan(disagreeing)
        assert result.findings == ()
        assert [(s.rule_id, s.resource_id) for s in result.skipped] == [("VPCE207", "vpc-0spoke")]


def test_an_inspection_attachment_not_accepted_carries_nothing() -> None:
    document = _inspection(estate(INSPECTED), tables=FIREWALLED, endpoints=(_firewall(),))
    assert _reach(document)[0] is True
    idle = _attachment_in_state(document, A_INSPECT, "pendingAcceptance")
    assert _reach(idle) == (
        False,
        f"rtb-spoke -> tgw-0net (tgw-rtb-spokes) -> {A_INSPECT} into vpc-0insp, which is "
        "pendingAcceptance: it carries nothing",
    )


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
    message = _spoke_broken(_scan(with_scope(document, network)))
    assert f"points at {ENDPOINT}, which no longer exists" in message


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
LOCAL = Route(destination_cidr="100.64.0.0/16", target_id="local")
TO_GATEWAY = Route(destination_cidr="10.0.0.0/8", target_id=TGW)
TO_FIREWALL = Route(destination_cidr="0.0.0.0/0", target_id=FIREWALL)
NO_ROUTE: tuple[Route, ...] = ()
Table = tuple[str, str, str, tuple[Route, ...]]
"""(route table, its subnet, the subnet's zone letter, routes beyond the local one)."""


def _inspection(
    document: SnapshotDocument,
    *,
    subnets: tuple[str, ...] | None = ("subnet-insp",),
    appliance: bool | None = True,
    tables: tuple[Table, ...] | None = None,
    endpoints: tuple[Any, ...] = (),
) -> SnapshotDocument:
    """The document with the inspection VPC's attachment reading its ``subnets`` (and
    appliance mode) and, where given, the inspection VPC's route tables and subnets."""
    network = scope_of(document, NET)
    attachments = tuple(
        dataclasses.replace(a, subnet_ids=subnets, appliance_mode=appliance)
        if a.attachment_id == A_INSPECT
        else a
        for a in network.transit_gateway_attachments
    )
    more: dict[str, Any] = {"transit_gateway_attachments": attachments}
    if tables is not None:
        more["subnets"] = tuple(
            subnet(subnet_id, "vpc-0insp", zone, cidr=f"100.64.{index + 1}.0/24")
            for index, (_, subnet_id, zone, _) in enumerate(tables)
        )
        more["route_tables"] = tuple(
            RouteTable(
                route_table_id=table_id,
                vpc_id="vpc-0insp",
                is_main=False,
                subnet_ids=(subnet_id,),
                routes=(LOCAL, *routes),
            )
            for table_id, subnet_id, _, routes in tables
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


def _firewall(
    subnets: tuple[str, ...] = ("subnet-fw",),
    kind: str = "GatewayLoadBalancer",
    state: str = "available",
    endpoint_id: str = FIREWALL,
    vpc_id: str = "vpc-0insp",
) -> Any:
    name = "com.amazonaws.vpce.eu-west-1.vpce-svc-0fw"
    return endpoint(endpoint_id, vpc_id, name, kind, subnets=subnets, state=state)


# The AWS Network Firewall design, one zone: the attachment subnet sends everything to the
# firewall endpoint; the firewall subnet's table sends the spokes' and hub's blocks back.
FIREWALLED = (
    ("rtb-attach", "subnet-insp", "a", (TO_FIREWALL,)),
    ("rtb-fw", "subnet-fw", "a", (TO_GATEWAY,)),
)


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
    document = _inspection(estate(INSPECTED), tables=FIREWALLED, endpoints=(_firewall(),))
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


def test_an_inspection_vpc_that_does_not_send_it_back_is_reported_where_the_path_ends() -> None:
    # The firewall subnet's table lacks the route back to the gateway: the traffic dies there,
    # in the network account's table, which the finding names.
    tables = (FIREWALLED[0], ("rtb-fw", "subnet-fw", "a", NO_ROUTE))
    document = _inspection(estate(INSPECTED), tables=tables, endpoints=(_firewall(),))
    assert _reach(document) == (
        False,
        "rtb-spoke -> tgw-0net (tgw-rtb-spokes) -> tgw-attach-0insp into vpc-0insp -> "
        f"rtb-attach -> {FIREWALL} (Gateway Load Balancer endpoint) -> rtb-fw (of vpc-0insp) "
        "has no route there",
    )
    assert "rtb-fw (of vpc-0insp) has no route there" in _spoke_broken(_scan(document))


@pytest.mark.parametrize(
    ("change", "why"),
    [
        # A snapshot before schema 7, or the VPC attachments' listing failed: subnets unknown.
        ({"subnets": None}, "tgw-attach-0insp into vpc-0insp, whose subnets were not read"),
        # A firewall endpoint the snapshot does not hold, or not a Gateway Load Balancer one.
        (
            {"tables": FIREWALLED[:1]},
            f"rtb-attach sends it to {FIREWALL} (vpc-endpoint), whose onward path",
        ),
        (
            {"tables": FIREWALLED, "endpoints": (_firewall(kind="Interface"),)},
            f"rtb-attach sends it to {FIREWALL} (vpc-endpoint), whose onward path",
        ),
        # The firewall endpoint's subnet has no route table in the snapshot.
        (
            {"tables": FIREWALLED[:1], "endpoints": (_firewall(("subnet-gone",)),)},
            "the route table of subnet-gone is unknown",
        ),
        # Still being created.
        (
            {"tables": FIREWALLED, "endpoints": (_firewall(state="pending"),)},
            f"{FIREWALL} (Gateway Load Balancer endpoint) is still being created",
        ),
    ],
    ids=["subnets-unknown", "endpoint-unknown", "not-gwlb", "endpoint-subnet-unknown", "pending"],
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


@pytest.mark.parametrize("state", ["pendingAcceptance", "rejected", "failed", "deleting"])
def test_a_firewall_endpoint_that_is_not_available_passes_nothing(state: str) -> None:
    # https://docs.aws.amazon.com/vpc/latest/privatelink/gateway-load-balancer-endpoints.html
    document = _inspection(
        estate(INSPECTED), tables=FIREWALLED, endpoints=(_firewall(state=state),)
    )
    assert _reach(document) == (
        False,
        "rtb-spoke -> tgw-0net (tgw-rtb-spokes) -> tgw-attach-0insp into vpc-0insp -> "
        f"rtb-attach -> {FIREWALL} (Gateway Load Balancer endpoint) is {state}: it passes no "
        "traffic",
    )


def test_an_inspection_vpc_whose_account_was_not_scanned_is_unknown() -> None:
    document = _inspection(estate(INSPECTED))
    # The gateway owner's view of the attachment (with its subnets) is there; the inspection
    # VPC's own routes are not.
    network = scope_of(document, NET)
    elsewhere = dataclasses.replace(network, vpcs=(), subnets=(), route_tables=(), vpc_endpoints=())
    reachable, how = _reach(with_scope(document, elsewhere))
    assert reachable is None
    assert how.endswith("tgw-attach-0insp into vpc-0insp: 333333333333/eu-west-1 was not scanned")


def _inspection_elsewhere(failed: str | None) -> SnapshotDocument:
    """The inspection VPC in an account of its own (444...), not the gateway owner's; its
    ``failed`` listing, if any, failed there."""
    inspector = "444444444444"
    document = _inspection(estate(INSPECTED), tables=FIREWALLED, endpoints=(_firewall(),))
    network = scope_of(document, NET)
    moved = tuple(
        dataclasses.replace(a, resource_owner_id=inspector) if a.attachment_id == A_INSPECT else a
        for a in network.transit_gateway_attachments
    )
    gateway_owner = dataclasses.replace(
        network,
        vpcs=(),
        subnets=(),
        route_tables=(),
        vpc_endpoints=(),
        transit_gateway_attachments=moved,
    )
    own = next(a for a in moved if a.attachment_id == A_INSPECT)
    errors = [] if failed is None else [error(failed, "Describe", account=inspector)]
    inspection = dataclasses.replace(
        network,
        account_id=inspector,
        vpcs=(make_vpc("vpc-0insp", "100.64.0.0/16", owner=inspector),),
        transit_gateways=(),
        transit_gateway_route_tables=(),
        transit_gateway_attachments=() if failed else (dataclasses.replace(own, subnet_ids=None),),
        errors=tuple(errors),
    )
    document = with_scope(document, gateway_owner)
    regions = (*document.regions, inspection)
    accounts = (
        *document.accounts,
        AccountSnapshot(inspector, document.created_at, "o-exampleorg1", (HUB, SPOKE, NET)),
    )
    return dataclasses.replace(document, regions=regions, accounts=accounts)


def test_an_inspection_vpc_of_another_account_is_followed_and_a_gap_there_is_unknown() -> None:
    # Its attachment, subnets included, as the gateway owner reads it; its routes from its own
    # account. Where that account's attachments could not be listed, the way back to the
    # gateway is unknown there, not "not attached" (which would report the spoke broken).
    assert _reach(_inspection_elsewhere(None))[0] is True
    reachable, how = _reach(_inspection_elsewhere("transit_gateway_attachments"))
    assert reachable is None
    assert how.endswith(
        "the transit gateway attachments of 444444444444/eu-west-1 were not collected"
    )
    result = _scan(_inspection_elsewhere("transit_gateway_attachments"))
    assert [f for f in result.findings if f.rule_id == "VPCE207"] == []


TWO_ZONES = ("subnet-insp", "subnet-insp-b")


@pytest.mark.parametrize(
    ("zone_b", "expected"),
    [
        ((TO_GATEWAY,), True),
        (
            NO_ROUTE,
            "rtb-b (of vpc-0insp) has no route there: the traffic of that zone is dropped, "
            "while another zone leads on",
        ),
        (
            (Route(destination_cidr="0.0.0.0/0", target_id="eni-0appl"),),
            "rtb-b sends it to eni-0appl (network-interface), whose onward path",
        ),
    ],
    ids=["both-zones", "one-zone-dropped", "one-zone-unknown"],
)
def test_every_zone_of_the_attachment_must_lead_on(
    zone_b: tuple[Route, ...], expected: bool | str
) -> None:
    # Without appliance mode a flow stays in its zone; with it a flow hash picks one
    # (transit-gateway-appliance-scenario): a zone that drops it is never "reachable".
    tables = (("rtb-a", "subnet-insp", "a", (TO_GATEWAY,)), ("rtb-b", "subnet-insp-b", "b", zone_b))
    reachable, how = _reach(_inspection(estate(INSPECTED), subnets=TWO_ZONES, tables=tables))
    if expected is True:
        assert reachable is True
    else:
        assert reachable is None
        assert isinstance(expected, str) and expected in how
    both_dropped = (
        ("rtb-a", "subnet-insp", "a", NO_ROUTE),
        ("rtb-b", "subnet-insp-b", "b", NO_ROUTE),
    )
    document = _inspection(estate(INSPECTED), subnets=TWO_ZONES, tables=both_dropped)
    assert _reach(document)[0] is False


def test_a_subnet_in_a_zone_without_an_attachment_subnet_cannot_reach_the_gateway() -> None:
    # The firewall subnet is in zone c, the attachment only in zone a: the gateway takes no
    # traffic from zone c (how-transit-gateways-work).
    tables = (FIREWALLED[0], ("rtb-fw", "subnet-fw", "c", (TO_GATEWAY,)))
    document = _inspection(estate(INSPECTED), tables=tables, endpoints=(_firewall(),))
    reachable, how = _reach(document)
    assert reachable is False
    assert how.endswith(
        "rtb-fw (of vpc-0insp) sends it to tgw-0net from zone eu-west-1c, where "
        "tgw-attach-0insp has no subnet: the gateway takes no traffic from that zone"
    )


@pytest.mark.parametrize(
    ("appliance", "zones", "reachable"),
    [(True, 2, True), (False, 2, None), (None, 2, None), (False, 1, True)],
    ids=["on", "off", "unknown", "off-one-zone"],
)
def test_a_firewall_behind_an_attachment_without_appliance_mode_may_drop_flows_between_zones(
    appliance: bool | None, zones: int, reachable: bool | None
) -> None:
    # Network Firewall: "you must enable appliance mode on the transit gateway VPC attachment
    # for any VPC where Network Firewall endpoints reside" (vpc-config-tgw-multi-az).
    tables: tuple[Table, ...] = FIREWALLED
    subnets: tuple[str, ...] = ("subnet-insp",)
    endpoints = [_firewall()]
    if zones == 2:
        subnets = (*subnets, "subnet-insp-b")
        tables = (
            *tables,
            (
                "rtb-attach-b",
                "subnet-insp-b",
                "b",
                (Route(destination_cidr="0.0.0.0/0", target_id="vpce-0firewall0000000b"),),
            ),
            ("rtb-fw-b", "subnet-fw-b", "b", (TO_GATEWAY,)),
        )
        endpoints.append(_firewall(("subnet-fw-b",), endpoint_id="vpce-0firewall0000000b"))
    document = _inspection(
        estate(INSPECTED),
        subnets=subnets,
        appliance=appliance,
        tables=tables,
        endpoints=tuple(endpoints),
    )
    verdict, how = _reach(document)
    assert verdict is reachable
    if reachable is None:
        mode = "off" if appliance is False else "unknown"
        assert how.endswith(
            "tgw-attach-0insp into vpc-0insp: the path passes a firewall endpoint, the "
            f"attachment spans several zones and its appliance mode is {mode}, so flows "
            "between zones may be dropped"
        )


def test_a_peering_does_not_carry_traffic_that_came_from_the_gateway() -> None:
    # The inspection VPC peers with the hub and sends the hub's block over the peering: no
    # transitive peering (vpc-peering-basics).
    peering = PeeringConnection(
        "pcx-0insphub",
        "active",
        PeeringSide(NET, "vpc-0insp", REGION, ("100.64.0.0/16",)),
        PeeringSide(HUB, "vpc-0hub", REGION, (HUB_BLOCK,)),
    )
    tables = (
        (
            "rtb-attach",
            "subnet-insp",
            "a",
            (Route(destination_cidr=HUB_BLOCK, target_id="pcx-0insphub"),),
        ),
    )
    document = _inspection(estate(INSPECTED), tables=tables)
    network = dataclasses.replace(scope_of(document, NET), peering_connections=(peering,))
    reachable, how = _reach(with_scope(document, network))
    assert reachable is False
    assert how.endswith(
        "rtb-attach (of vpc-0insp) sends it over pcx-0insphub, which does not carry traffic "
        "that entered vpc-0insp from a transit gateway"
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
    assert how.endswith("tgw-attach-0insp into vpc-0insp: a path of more than 4 hops (or a loop)")


def test_one_topology_answers_each_destination_for_itself() -> None:
    # The followed paths are remembered per attachment and destination: the inspection VPC
    # sends only part of the hub's block back, and asking first for that part (reached) must
    # not answer for the rest (dropped).
    part = Route(destination_cidr="10.10.1.0/24", target_id=TGW)
    snapshot = Snapshot(
        _inspection(estate(INSPECTED), tables=(("rtb-attach", "subnet-insp", "a", (part,)),))
    )
    scope = next(s for s in snapshot.scopes if s.account_id == SPOKE)
    topology = Topology(snapshot)
    for address, reachable in (("10.10.1.10/32", True), ("10.10.2.10/32", False)):
        network = ipaddress.ip_network(address)
        assert topology.reach(scope, "vpc-0spoke", "vpc-0hub", [network]).reachable is reachable


def _distributed(routes: tuple[TransitGatewayRoute, ...] = DIRECT) -> SnapshotDocument:
    """The spoke's subnet sends everything to a Gateway Load Balancer endpoint in its own VPC;
    the endpoint's subnet routes on to the gateway, which routes by ``routes``."""
    document = estate(routes, spoke_exit="vpce-0spokefw000000000")
    spoke = scope_of(document, SPOKE)
    fw_table = RouteTable(
        route_table_id="rtb-spoke-fw",
        vpc_id="vpc-0spoke",
        is_main=False,
        subnet_ids=("subnet-spoke-fw",),
        routes=(
            Route(destination_cidr="10.20.0.0/16", target_id="local"),
            Route(destination_cidr="0.0.0.0/0", target_id=TGW),
        ),
    )
    spoke = dataclasses.replace(
        spoke,
        subnets=(*spoke.subnets, subnet("subnet-spoke-fw", "vpc-0spoke", cidr="10.20.9.0/24")),
        route_tables=(*spoke.route_tables, fw_table),
        vpc_endpoints=(
            _firewall(
                ("subnet-spoke-fw",), endpoint_id="vpce-0spokefw000000000", vpc_id="vpc-0spoke"
            ),
        ),
    )
    return with_scope(document, spoke)


def test_a_spokes_own_firewall_endpoint_is_followed_distributed_inspection() -> None:
    document = _distributed()
    assert _reach(document) == (
        True,
        "rtb-spoke -> vpce-0spokefw000000000 (Gateway Load Balancer endpoint) -> rtb-spoke-fw "
        "-> tgw-0net (tgw-rtb-spokes)",
    )


def test_replies_leave_from_the_endpoints_zone_which_the_gateway_must_attach() -> None:
    # The hub's endpoint subnet is in zone a, its attachment's only subnet in zone b: the
    # gateway takes no traffic from zone a, so replies are lost (tgw-vpc-attachments: "any
    # resources in Availability Zones where there is no transit gateway attachment cannot
    # reach the transit gateway").
    document = estate((*DIRECT, _to("10.20.0.0/16", A_SPOKE, "vpc-0spoke")))
    hub = scope_of(document, HUB)
    hub = dataclasses.replace(
        hub,
        subnets=(*hub.subnets, subnet("subnet-hub-tgw", "vpc-0hub", "b", cidr="10.10.9.0/28")),
        transit_gateway_attachments=tuple(
            dataclasses.replace(a, subnet_ids=("subnet-hub-tgw",), appliance_mode=False)
            for a in hub.transit_gateway_attachments
        ),
    )
    document = with_scope(document, hub)
    reachable, how = _reach_back(document)
    assert reachable is False
    assert how == (
        "rtb-hub (of vpc-0hub) sends it to tgw-0net from zone eu-west-1a, where "
        "tgw-attach-0hub has no subnet: the gateway takes no traffic from that zone"
    )
    assert "replies are lost" in _spoke_broken(_scan(document))


def test_an_endpoint_in_a_local_zone_is_not_judged_by_the_attachments_zones() -> None:
    # The same hub with its endpoint subnet in a Local Zone: such a subnet cannot hold an
    # attachment and reaches the gateway through its parent zone, which is not followed
    # (local-zones-connectivity-transit-gateway-lzs): not a zone the gateway refuses.
    document = estate((*DIRECT, _to("10.20.0.0/16", A_SPOKE, "vpc-0spoke")))
    hub = scope_of(document, HUB)
    local = f"{hub.region}-lcl-1a"
    hub = dataclasses.replace(
        hub,
        subnets=(
            *(
                dataclasses.replace(s, availability_zone=local)
                if s.availability_zone == f"{hub.region}a"
                else s
                for s in hub.subnets
            ),
            subnet("subnet-hub-tgw", "vpc-0hub", "b", cidr="10.10.9.0/28"),
        ),
        transit_gateway_attachments=tuple(
            dataclasses.replace(a, subnet_ids=("subnet-hub-tgw",), appliance_mode=False)
            for a in hub.transit_gateway_attachments
        ),
    )
    reachable, how = _reach_back(with_scope(document, hub))
    assert reachable is True, how


def _two_inspection_vpcs(second_has_firewall: bool) -> SnapshotDocument:
    """The spokes' traffic passes two inspection VPCs: X (two zones, appliance mode off, no
    firewall), then Y (one zone, appliance mode on, a firewall endpoint or a plain route)."""
    a_y = "tgw-attach-0fwvpc"
    two_zones = (
        ("rtb-a", "subnet-insp", "a", (TO_GATEWAY,)),
        ("rtb-b", "subnet-insp-b", "b", (TO_GATEWAY,)),
    )
    document = _inspection(estate(INSPECTED), subnets=TWO_ZONES, appliance=False, tables=two_zones)
    network = scope_of(document, NET)
    back = _to("10.20.0.0/16", A_SPOKE, "vpc-0spoke")
    to_y = (_to(HUB_BLOCK, a_y, "vpc-0fw"), back)
    tgw_tables = (
        *(
            dataclasses.replace(t, routes=to_y) if t.route_table_id == "tgw-rtb-insp" else t
            for t in network.transit_gateway_route_tables
        ),
        TransitGatewayRouteTable(
            "tgw-rtb-fw", TGW, (a_y,), (), (_to(HUB_BLOCK, A_HUB, "vpc-0hub"), back)
        ),
    )
    y_attachment = dataclasses.replace(
        _attachment(a_y, "vpc-0fw", NET, "tgw-rtb-fw"),
        subnet_ids=("subnet-y-att",),
        appliance_mode=True,
    )
    local = Route(destination_cidr="100.65.0.0/16", target_id="local")
    entry = (
        Route(destination_cidr="0.0.0.0/0", target_id="vpce-0yfw00000000000a")
        if second_has_firewall
        else TO_GATEWAY
    )
    y_tables = (
        RouteTable("rtb-y-att", "vpc-0fw", False, ("subnet-y-att",), (local, entry)),
        RouteTable("rtb-y-fw", "vpc-0fw", False, ("subnet-y-fw",), (local, TO_GATEWAY)),
    )
    endpoints = tuple(network.vpc_endpoints)
    if second_has_firewall:
        endpoints += (
            _firewall(("subnet-y-fw",), endpoint_id="vpce-0yfw00000000000a", vpc_id="vpc-0fw"),
        )
    network = dataclasses.replace(
        network,
        vpcs=(*network.vpcs, make_vpc("vpc-0fw", "100.65.0.0/16", owner=NET)),
        subnets=(
            *network.subnets,
            subnet("subnet-y-att", "vpc-0fw", "a", cidr="100.65.1.0/24"),
            subnet("subnet-y-fw", "vpc-0fw", "a", cidr="100.65.2.0/24"),
        ),
        route_tables=(*network.route_tables, *y_tables),
        vpc_endpoints=endpoints,
        transit_gateway_attachments=(*network.transit_gateway_attachments, y_attachment),
        transit_gateway_route_tables=tgw_tables,
    )
    return with_scope(document, network)


@pytest.mark.parametrize("second_has_firewall", [False, True])
def test_a_firewall_is_judged_with_its_own_vpcs_attachment_only(second_has_firewall: bool) -> None:
    # AWS asks for appliance mode "on the transit gateway VPC attachment for any VPC where
    # Network Firewall endpoints reside" (vpc-config-tgw-multi-az): Y's, not X's.
    assert _reach(_two_inspection_vpcs(second_has_firewall))[0] is True


def _hub_in_two_zones(*records: ResourceRecordSet) -> SnapshotDocument:
    """The hub's endpoint has an interface in zone a (subnet-hub, 10.10.1.10) and one in zone b
    (subnet-hub-b, 10.10.2.10); the hub's attachment has its only subnet in zone a, so replies
    from zone b never reach the gateway. ``records``: the service zone's records."""
    document = estate((*DIRECT, _to("10.20.0.0/16", A_SPOKE, "vpc-0spoke")))
    hub = scope_of(document, HUB)
    (ep,) = hub.vpc_endpoints
    hub = dataclasses.replace(
        hub,
        subnets=(*hub.subnets, subnet("subnet-hub-b", "vpc-0hub", "b", cidr="10.10.2.0/24")),
        vpc_endpoints=(
            dataclasses.replace(
                ep,
                subnet_ids=("subnet-hub", "subnet-hub-b"),
                network_interface_ids=("eni-ep", "eni-ep-b"),
            ),
        ),
        endpoint_interfaces=(
            *hub.endpoint_interfaces,
            EndpointInterface("eni-ep-b", "vpc-0hub", "subnet-hub-b", ("10.10.2.10",)),
        ),
        transit_gateway_attachments=tuple(
            dataclasses.replace(a, subnet_ids=("subnet-hub",), appliance_mode=False)
            for a in hub.transit_gateway_attachments
        ),
    )
    document = with_scope(document, hub)
    # Each record for the zone's apex and its wildcard (bucket names).
    records += tuple(dataclasses.replace(r, name=f"*.{ZONE}") for r in records)
    accounts = tuple(
        dataclasses.replace(
            a, hosted_zones=tuple(dataclasses.replace(z, records=records) for z in a.hosted_zones)
        )
        for a in document.accounts
    )
    return dataclasses.replace(document, accounts=accounts)


REGIONAL = f"{ENDPOINT}-4f2a9c1e.s3.{REGION}.vpce.amazonaws.com"
ZONAL_A = f"{ENDPOINT}-4f2a9c1e-{REGION}a.s3.{REGION}.vpce.amazonaws.com"


@pytest.mark.parametrize(
    ("records", "problem"),
    [
        # The regional name gives both interfaces: connections to zone b's fail.
        (
            (ResourceRecordSet(ZONE, "A", alias_target=REGIONAL),),
            f"points at {ENDPOINT} in vpc-0hub: 1 of its 2 interfaces the name gives fail (in "
            "subnet-hub-b); subnet-hub-b's, whose interface there has no route back to "
            "vpc-0spoke (rtb-hub (of vpc-0hub) sends it to tgw-0net from zone eu-west-1b, where "
            "tgw-attach-0hub has no subnet: the gateway takes no traffic from that zone): "
            "replies are lost",
        ),
        # An A record of zone b's address only: every connection fails.
        (
            (ResourceRecordSet(ZONE, "A", values=("10.10.2.10",)),),
            f"points at {ENDPOINT} in vpc-0hub, whose subnets have no route back to vpc-0spoke "
            "(rtb-hub (of vpc-0hub) sends it to tgw-0net from zone eu-west-1b, where "
            "tgw-attach-0hub has no subnet: the gateway takes no traffic from that zone): "
            "replies are lost",
        ),
        # Zone a's address, or zone a's zonal name (also as S3 writes it, with "*."): it works.
        ((ResourceRecordSet(ZONE, "A", values=("10.10.1.10",)),), None),
        ((ResourceRecordSet(ZONE, "A", alias_target=ZONAL_A),), None),
        ((ResourceRecordSet(ZONE, "A", alias_target=f"*.{ZONAL_A}"),), None),
        # The zonal name of a zone where the endpoint has no interface does not exist.
        (
            (
                ResourceRecordSet(
                    ZONE, "A", alias_target=ZONAL_A.replace(f"{REGION}a", f"{REGION}c")
                ),
            ),
            f"points at {ENDPOINT} in vpc-0hub by the zonal name of a zone where the endpoint has "
            "no interface: the name answers nothing",
        ),
    ],
    ids=[
        "regional-name",
        "zone-b-address",
        "zone-a-address",
        "zone-a-name",
        "zone-a-wildcard-name",
        "zone-c-name",
    ],
)
def test_each_interface_the_records_name_gives_must_answer(
    records: tuple[ResourceRecordSet, ...], problem: str | None
) -> None:
    # A client connects to one of the addresses the name gives; that interface replies from
    # its own subnet and zone (tgw-vpc-attachments).
    result = _scan(_hub_in_two_zones(*records))
    assert result.skipped == ()
    if problem is None:
        assert result.findings == ()
    else:
        assert problem in _spoke_broken(result)


def test_a_deleted_attachment_in_the_gateway_owners_view_is_not_the_vpcs() -> None:
    # The spoke's own attachment listing failed; the gateway owner lists a deleted attachment of
    # the spoke (sorted first) beside its live one: the live one decides.
    document = estate(DIRECT)
    spoke = dataclasses.replace(
        scope_of(document, SPOKE),
        transit_gateway_attachments=(),
        errors=(
            error(
                "transit_gateway_attachments", "DescribeTransitGatewayAttachments", account=SPOKE
            ),
        ),
    )
    network = scope_of(document, NET)
    old = dataclasses.replace(
        _attachment("tgw-attach-0aold", "vpc-0spoke", SPOKE, None), state="deleted"
    )
    network = dataclasses.replace(
        network, transit_gateway_attachments=(*network.transit_gateway_attachments, old)
    )
    document = with_scope(with_scope(document, spoke), network)
    assert _reach(document) == (True, "rtb-spoke -> tgw-0net (tgw-rtb-spokes)")


def test_a_service_answered_by_a_central_endpoint_that_fails_is_vpce207s_not_vpce601s() -> None:
    # The names resolve to the hub's interfaces (one of which cannot reply): the calls fail at
    # the endpoint, they do not leave through the spoke's default route, as VPCE601 would say.
    # A zone answering NXDOMAIN (no record) is no central endpoint: VPCE601 still reports.
    rules = [r for r in load_registry(include_plugins=False) if r.rule_id in ("VPCE207", "VPCE601")]
    settings = Settings(required_services=("s3",))
    today = datetime.date(2026, 11, 27)
    partial = _hub_in_two_zones(ResourceRecordSet(ZONE, "A", alias_target=REGIONAL))
    found = run_scan(partial, rules, settings, today=today).findings
    spoke = [f.rule_id for f in found if f.resource_id == "vpc-0spoke"]
    assert spoke == ["VPCE207"]  # (the inspection VPC, with no S3 endpoint or zone, has 601)
    nothing = _hub_in_two_zones()
    found = run_scan(nothing, rules, settings, today=today).findings
    assert ("VPCE601", "vpc-0spoke") in [(f.rule_id, f.resource_id) for f in found]


def test_an_address_two_endpoints_hold_is_not_judged_as_either() -> None:
    # Another VPC of the region reuses the hub's block (unconnected VPCs may: a transit gateway
    # only refuses identical blocks among its own attachments), and its endpoint's interface
    # holds 10.10.1.10 too. Which one answers the spoke is not told by the address: before, the
    # last one indexed was judged, and reported unreachable at high severity.
    document = _hub_in_two_zones(ResourceRecordSet(ZONE, "A", values=("10.10.1.10",)))
    network = scope_of(document, NET)
    other = endpoint(
        "vpce-0other000000000000", "vpc-0other", "ssm", network_interface_ids=("eni-other",)
    )
    network = dataclasses.replace(
        network,
        vpc_endpoints=(*network.vpc_endpoints, other),
        endpoint_interfaces=(
            EndpointInterface("eni-other", "vpc-0other", "subnet-o", ("10.10.1.10",)),
        ),
    )
    result = _scan(with_scope(document, network))
    assert result.findings == ()
    (skip,) = result.skipped
    assert (
        "10.10.1.10, which the interfaces of several endpoints hold (vpce-0a1b2c3d4e5f60718, "
        "vpce-0other000000000000;"
    ) in skip.reason


def test_ways_out_are_remembered_per_trusted_set_not_per_its_id() -> None:
    """Topology remembers what a gateway table leads to; a trusted set that is gone may leave its
    id to the next, which must not be answered from the first one's entry."""
    from tests.helpers import document, region, route, subnet, table, vpc
    from vpce_audit.analysis.topology import Topology
    from vpce_audit.analysis.trust import TrustedSet
    from vpce_audit.model import (
        TransitGatewayAttachment,
        TransitGatewayRoute,
        TransitGatewayRouteTable,
        TransitGatewayRouteTarget,
    )
    from vpce_audit.snapshot.views import Snapshot

    me, other = "111111111111", "999999999999"
    attachments = [
        TransitGatewayAttachment("tgw-attach-1", "tgw-1", me, "vpc", "vpc-1", me, "available", "r"),
        TransitGatewayAttachment(
            "tgw-attach-2", "tgw-1", me, "vpc", "vpc-2", other, "available", "r"
        ),
    ]
    routed = TransitGatewayRoute(
        "10.0.0.0/8", (TransitGatewayRouteTarget("tgw-attach-2", "vpc"),), "propagated", "active"
    )
    ids = ("tgw-attach-1", "tgw-attach-2")
    snapshot = Snapshot(
        document(
            region(
                me,
                vpcs=[vpc("vpc-1", "10.1.0.0/16")],
                subnets=[subnet("subnet-1", "vpc-1")],
                route_tables=[
                    table("rtb-1", "vpc-1", route("0.0.0.0/0", "tgw-1"), subnets=("subnet-1",))
                ],
                transit_gateway_attachments=attachments,
                transit_gateway_route_tables=[
                    TransitGatewayRouteTable("r", "tgw-1", ids, ids, (routed,))
                ],
            )
        )
    )
    topology, scope = Topology(snapshot), snapshot.scopes[0]
    for n in range(100):
        accounts = [me] if n % 2 == 0 else [me, other]
        # Temporary sets: CPython often gives a new one a freed set's id.
        found = topology.external_paths(scope, "vpc-1", TrustedSet.build(accounts, []))
        fresh = Topology(snapshot).external_paths(scope, "vpc-1", TrustedSet.build(accounts, []))
        assert found == fresh and bool(found) is (n % 2 == 0), n


# -- security-group references across the gateway ------------------------------------------------


BOTH_WAYS = (*DIRECT, _to("10.20.0.0/16", A_SPOKE, "vpc-0spoke"))
"""The gateway routes the hub's block to the hub and the spoke's to the spoke."""


def _hub_admitting(document: SnapshotDocument, *rules: Any, spoke_group: bool) -> SnapshotDocument:
    """The document with the hub endpoint's group holding only ``rules``; ``spoke_group``: the
    spoke's account lists ``sg-spoke``, a group of the spoke's VPC."""
    hub = scope_of(document, HUB)
    document = with_scope(
        document,
        dataclasses.replace(hub, security_groups=(security_group("sg-ep", "vpc-0hub", *rules),)),
    )
    if spoke_group:
        spoke = scope_of(document, SPOKE)
        groups = (security_group("sg-spoke", "vpc-0spoke"),)
        document = with_scope(document, dataclasses.replace(spoke, security_groups=groups))
    return document


@pytest.mark.parametrize("spoke_group", [True, False], ids=["group-scanned", "group-not-scanned"])
def test_a_reference_to_the_spokes_group_admits_nothing_at_the_endpoint_across_the_gateway(
    spoke_group: bool,
) -> None:
    """AWS: security-group referencing across a transit gateway "is not supported for
    PrivateLink endpoints. We recommend using IP CIDR-based security rules as an alternative"
    (https://docs.aws.amazon.com/vpc/latest/tgw/tgw-vpc-attachments.html#vpc-attachment-security).
    A hub endpoint admitting the spoke only by its group fails every connection from the spoke
    over the gateway: reported, where it was skipped as unresolved (or, for a group the scan
    listed, as depending on a gateway option it did not read)."""
    document = _hub_admitting(estate(BOTH_WAYS), ingress("sg-spoke"), spoke_group=spoke_group)
    message = _spoke_broken(_scan(document))
    assert (
        "whose security group sg-ep does not admit vpc-0spoke (10.20.0.0/16) on tcp 443 where "
        "vpc-0spoke reaches it across a transit gateway; its rules that reference security "
        "groups match nothing across a transit gateway, which does not support security-group "
        "referencing for PrivateLink endpoints"
    ) in message


@pytest.mark.parametrize(
    ("rules", "skipped"),
    [
        ((ingress("sg-spoke"), ingress("10.20.0.0/16")), False),  # a CIDR admits it too
        ((ingress("sg-spoke"), ingress("pl-0unknown")), True),  # a list's entries unknown
    ],
    ids=["and-a-cidr", "and-an-unknown-prefix-list"],
)
def test_across_the_gateway_an_address_rule_decides(rules: tuple[Any, ...], skipped: bool) -> None:
    result = _scan(_hub_admitting(estate(BOTH_WAYS), *rules, spoke_group=True))
    assert result.findings == ()
    assert [(s.rule_id, s.resource_id) for s in result.skipped] == (
        [("VPCE207", "vpc-0spoke")] if skipped else []
    )
    if skipped:
        assert "refers to a prefix list whose entries are unknown" in result.skipped[0].reason


def test_across_the_gateway_a_rule_for_the_spokes_ipv6_block_alone_is_unknown() -> None:
    """The path judged is IPv4; its IPv6 block admitted lets the spoke in over IPv6 only."""
    document = _hub_admitting(estate(BOTH_WAYS), ingress("::/0"), spoke_group=False)
    spoke = scope_of(document, SPOKE)
    dual = tuple(
        dataclasses.replace(v, ipv6_cidr_blocks=("2600:1f18:aaaa::/56",)) for v in spoke.vpcs
    )
    result = _scan(with_scope(document, dataclasses.replace(spoke, vpcs=dual)))
    assert result.findings == ()
    assert [(s.rule_id, s.resource_id) for s in result.skipped] == [("VPCE207", "vpc-0spoke")]
    assert "admit vpc-0spoke by its IPv6 blocks only" in result.skipped[0].reason
    # Without an IPv6 block of its own, ::/0 admits nothing of the spoke.
    assert "does not admit vpc-0spoke" in _spoke_broken(
        _scan(_hub_admitting(estate(BOTH_WAYS), ingress("::/0"), spoke_group=False))
    )


def test_a_reference_admits_nothing_through_an_inspection_vpc_either() -> None:
    """The path crosses the gateway twice, through the inspection VPC: the same AWS limitation,
    and its own ("does not work across AWS Gateway Load Balancer or an AWS Network Firewall")."""
    document = _inspection(estate(INSPECTED), tables=FIREWALLED, endpoints=(_firewall(),))
    assert _reach(document)[0] is True
    message = _spoke_broken(_scan(_hub_admitting(document, ingress("sg-spoke"), spoke_group=True)))
    assert "where vpc-0spoke reaches it across a transit gateway" in message


def test_only_a_path_that_crosses_a_gateway_says_so() -> None:
    snapshot = Snapshot(estate(BOTH_WAYS))
    spoke = next(s for s in snapshot.scopes if s.account_id == SPOKE)
    hub = next(s for s in snapshot.scopes if s.account_id == HUB)
    topology = Topology(snapshot)
    there = topology.reach(spoke, "vpc-0spoke", "vpc-0hub", [ipaddress.ip_network(HUB_BLOCK)])
    assert (there.reachable, there.crosses_gateway) == (True, True)
    home = topology.reach(hub, "vpc-0hub", "vpc-0hub", [ipaddress.ip_network(HUB_BLOCK)])
    assert (home.reachable, home.crosses_gateway) == (True, False)


def _peered_subnet(document: SnapshotDocument, table_id: str) -> SnapshotDocument:
    """The spoke with a second subnet whose table ``table_id`` sends the hub's block over an
    active peering of the two VPCs in the region (where a reference to the spoke's group would
    admit it), beside its first subnet's way across the gateway."""
    peering = PeeringConnection(
        "pcx-0spokehub",
        "active",
        PeeringSide(SPOKE, "vpc-0spoke", REGION, ("10.20.0.0/16",)),
        PeeringSide(HUB, "vpc-0hub", REGION, (HUB_BLOCK,)),
    )
    spoke = scope_of(document, SPOKE)
    peered = _table(
        table_id,
        "vpc-0spoke",
        "subnet-spoke-p",
        Route(destination_cidr="10.20.0.0/16", target_id="local"),
        Route(destination_cidr=HUB_BLOCK, target_id="pcx-0spokehub"),
    )
    spoke = dataclasses.replace(
        spoke,
        subnets=(*spoke.subnets, subnet("subnet-spoke-p", "vpc-0spoke", cidr="10.20.2.0/24")),
        route_tables=(*spoke.route_tables, dataclasses.replace(peered, is_main=False)),
        peering_connections=(peering,),
    )
    return with_scope(document, spoke)


@pytest.mark.parametrize("table_id", ["rtb-a-peered", "rtb-z-peered"])
def test_a_spoke_whose_subnets_reach_the_hub_both_ways_is_judged_whatever_its_tables_are_named(
    table_id: str,
) -> None:
    """One subnet crosses the gateway, another the peering: the clients of the first are refused
    where only a reference to the spoke's group admits it. Which table sorts first must not
    decide (a reviewer's case: it did)."""
    document = _peered_subnet(estate(BOTH_WAYS), table_id)
    there = _spoke_reach(document, "10.10.1.0/24")
    assert (there.reachable, there.crosses_gateway) == (True, True)
    message = _spoke_broken(_scan(_hub_admitting(document, ingress("sg-spoke"), spoke_group=True)))
    assert "where vpc-0spoke reaches it across a transit gateway" in message


def test_a_spokes_own_firewall_before_the_gateway_crosses_it_too() -> None:
    document = _distributed(BOTH_WAYS)
    # From the client subnet alone (the firewall subnet's own table crosses the gateway too).
    there = _spoke_reach(document, "10.10.1.0/24", from_subnets=("subnet-spoke",))
    assert (there.reachable, there.appliance, there.crosses_gateway) == (True, True, True)
    message = _spoke_broken(_scan(_hub_admitting(document, ingress("sg-spoke"), spoke_group=True)))
    assert "where vpc-0spoke reaches it across a transit gateway" in message


def test_a_spokes_group_the_hubs_own_account_lists_admits_nothing_across_the_gateway() -> None:
    document = _hub_admitting(estate(BOTH_WAYS), ingress("sg-spoke"), spoke_group=False)
    hub = scope_of(document, HUB)
    listed = (*hub.security_groups, security_group("sg-spoke", "vpc-0spoke"))
    document = with_scope(document, dataclasses.replace(hub, security_groups=listed))
    message = _spoke_broken(_scan(document))
    assert "match nothing across a transit gateway" in message


def test_a_reference_to_the_hubs_own_group_is_not_named_as_the_reason() -> None:
    """A hub group referencing itself (every default group does) admits no spoke on any path:
    the finding stands, without blaming references."""
    message = _spoke_broken(
        _scan(_hub_admitting(estate(BOTH_WAYS), ingress("sg-ep"), spoke_group=True))
    )
    assert "does not admit vpc-0spoke (10.20.0.0/16) on tcp 443 where vpc-0spoke reaches" in message
    assert "reference security groups" not in message


def test_an_endpoint_whose_interfaces_the_spoke_reaches_both_ways_fails_across_the_gateway() -> (
    None
):
    """The spoke reaches one interface of the endpoint over a peering (its subnet's block is
    routed there) and the other across the gateway: connections to the second are refused where
    only a reference to the spoke's group admits it, though the first admits it."""
    document = _peered_subnet(estate(BOTH_WAYS), "rtb-a-peered")
    spoke = scope_of(document, SPOKE)
    (own,) = [t for t in spoke.route_tables if t.route_table_id == "rtb-spoke"]
    to_second = Route(destination_cidr="10.10.2.0/24", target_id="pcx-0spokehub")
    spoke = dataclasses.replace(
        spoke,
        subnets=tuple(s for s in spoke.subnets if s.subnet_id != "subnet-spoke-p"),
        route_tables=(dataclasses.replace(own, routes=(*own.routes, to_second)),),
    )
    hub = scope_of(document, HUB)
    (ep,) = hub.vpc_endpoints
    hub = dataclasses.replace(
        hub,
        subnets=(*hub.subnets, subnet("subnet-hub2", "vpc-0hub", cidr="10.10.2.0/24")),
        vpc_endpoints=(dataclasses.replace(ep, subnet_ids=("subnet-hub", "subnet-hub2")),),
    )
    document = with_scope(with_scope(document, spoke), hub)
    admitting = _hub_admitting(document, ingress("sg-spoke"), spoke_group=True)
    message = _spoke_broken(_scan(admitting))
    assert "where vpc-0spoke reaches it across a transit gateway" in message
