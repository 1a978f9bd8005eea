"""Subnets built to carry other VPCs' traffic: an egress or inspection VPC's.

AWS's centralised egress sends the spokes' internet traffic across a transit gateway to an egress
VPC, whose attachment subnets route it to NAT gateways
(https://docs.aws.amazon.com/whitepapers/latest/building-scalable-secure-multi-vpc-network-infrastructure/centralized-egress-to-internet.html).
The S3 and DynamoDB traffic those tables route is the spokes', and "gateway endpoints do not
allow access ... through a transit gateway"
(https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-s3.html): VPCE401, 402 and
403 told the network account to add a gateway endpoint that would carry none of it, and VPCE601
to add endpoints nobody there calls. Such tables are skipped, with the reason; the spokes, whose
traffic it is, are judged where it starts. A spoke whose attachment uses its workload subnets (the
gateway routes it only its own blocks) is judged as before.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tests.helpers import (
    endpoint,
    region,
    route,
    run,
    service_prefix_lists,
    subnet,
    table,
    vpc,
)
from vpce_audit.model import (
    RegionSnapshot,
    RouteTable,
    TransitGateway,
    TransitGatewayAttachment,
    TransitGatewayRoute,
    TransitGatewayRouteTable,
    TransitGatewayRouteTarget,
)
from vpce_audit.rules.base import Rule, Settings
from vpce_audit.rules.builtin.coverage import required_endpoint_missing as rule_601
from vpce_audit.rules.builtin.routing import dynamodb_traffic_via_nat as rule_402
from vpce_audit.rules.builtin.routing import s3_traffic_via_nat as rule_401
from vpce_audit.rules.builtin.routing import service_traffic_via_transit_gateway as rule_403

TGW = "tgw-0net"


def _attachment(
    attachment_id: str, vpc_id: str, subnets: tuple[str, ...]
) -> TransitGatewayAttachment:
    return TransitGatewayAttachment(
        attachment_id,
        TGW,
        "123456789012",
        "vpc",
        vpc_id,
        "123456789012",
        "available",
        "tgw-rtb-0spokes",
        subnet_ids=subnets,
    )


def _to(cidr: str, attachment_id: str, vpc_id: str) -> TransitGatewayRoute:
    return TransitGatewayRoute(
        cidr, (TransitGatewayRouteTarget(attachment_id, "vpc", vpc_id),), "static", "active"
    )


def estate(
    *,
    egress_default: bool = True,
    egress_tables: tuple[RouteTable, ...] = (),
    firewall: bool = False,
    firewall_exit: str = "nat-0a",
    gateway_tables_read: bool = True,
    egress_route: TransitGatewayRoute | None = None,
    associated: tuple[str, ...] | None = ("tgw-attach-0egress", "tgw-attach-0spoke"),
    spoke_blocks: tuple[str, ...] = ("10.20.0.0/16",),
    attachment_subnets_read: bool = True,
) -> RegionSnapshot:
    """An egress VPC (``vpc-0egress``: attachment subnet ``subnet-attach``, whose table sends
    0.0.0.0/0 to a NAT gateway, and a public NAT subnet) and a spoke (``vpc-0spoke``, attached
    by its one workload subnet, 0.0.0.0/0 to the gateway). ``egress_default``: the gateway
    routes 0.0.0.0/0 to the egress VPC (else only its own block); ``firewall``: the attachment
    subnet sends everything to a firewall endpoint whose subnet's table has the NAT route."""
    attach_routes = (
        (route("0.0.0.0/0", "vpce-0firewall"),) if firewall else (route("0.0.0.0/0", "nat-0a"),)
    )
    tables = [
        table("rtb-attach", "vpc-0egress", *attach_routes, subnets=("subnet-attach",)),
        table("rtb-public", "vpc-0egress", route("0.0.0.0/0", "igw-0a"), subnets=("subnet-nat",)),
        table("rtb-spoke", "vpc-0spoke", route("0.0.0.0/0", TGW), subnets=("subnet-work",)),
        *egress_tables,
    ]
    subnets = [
        subnet("subnet-attach", "vpc-0egress", cidr="10.99.0.0/28"),
        subnet("subnet-nat", "vpc-0egress", cidr="10.99.1.0/24"),
        subnet("subnet-work", "vpc-0spoke", cidr="10.20.1.0/24"),
    ]
    endpoints = []
    if firewall:
        subnets.append(subnet("subnet-fw", "vpc-0egress", cidr="10.99.2.0/28"))
        tables.append(
            table(
                "rtb-fw", "vpc-0egress", route("0.0.0.0/0", firewall_exit), subnets=("subnet-fw",)
            )
        )
        endpoints.append(
            endpoint(
                "vpce-0firewall",
                "vpc-0egress",
                "com.amazonaws.vpce.eu-west-1.vpce-svc-0fw",
                "GatewayLoadBalancer",
                subnets=("subnet-fw",),
            )
        )
    routes = [_to("10.20.0.0/16", "tgw-attach-0spoke", "vpc-0spoke")]
    routes.append(
        egress_route
        or _to(
            "0.0.0.0/0" if egress_default else "10.99.0.0/16", "tgw-attach-0egress", "vpc-0egress"
        )
    )
    egress_subnets = ("subnet-attach",) if attachment_subnets_read else None
    return region(
        vpcs=[vpc("vpc-0egress", "10.99.0.0/16"), vpc("vpc-0spoke", *spoke_blocks)],
        subnets=subnets,
        route_tables=tables,
        prefix_lists=service_prefix_lists(),
        vpc_endpoints=endpoints,
        transit_gateways=[TransitGateway(TGW, "123456789012", "available", False)],
        transit_gateway_attachments=[
            _attachment("tgw-attach-0egress", "vpc-0egress", egress_subnets),
            _attachment("tgw-attach-0spoke", "vpc-0spoke", ("subnet-work",)),
        ],
        transit_gateway_route_tables=[
            TransitGatewayRouteTable(
                "tgw-rtb-0spokes",
                TGW,
                associated,
                (),
                tuple(routes) if gateway_tables_read else None,
            )
        ],
    )


def _verdicts(rule: Rule, snapshot: RegionSnapshot) -> tuple[set[str], dict[str, str]]:
    result = run(rule, snapshot, settings=Settings())
    assert not result.rule_errors, result.rule_errors
    return (
        {f.resource_id or "" for f in result.findings},
        {s.resource_id or "": s.reason for s in result.skipped},
    )


def test_an_egress_vpcs_attachment_subnet_table_is_skipped_not_told_to_add_an_endpoint() -> None:
    for rule, label in ((rule_401, "S3"), (rule_402, "DynamoDB")):
        flagged, skipped = _verdicts(rule, estate())
        assert flagged == set()
        assert set(skipped) == {"rtb-attach"}
        assert (
            f"rtb-attach routes {label} traffic only for subnets built to carry other VPCs' "
            "traffic (subnet-attach is a subnet of transit-gateway attachment "
            "tgw-attach-0egress, to which the gateway routes 0.0.0.0/0 (route table "
            "tgw-rtb-0spokes))"
        ) in skipped["rtb-attach"]
        assert "which a gateway endpoint does not serve" in skipped["rtb-attach"]


def test_a_spoke_attached_by_its_workload_subnets_is_judged_as_before() -> None:
    """The gateway routes the spoke only its own block: its attachment subnet is a workload
    subnet, and the egress VPC routed only its own block is no egress VPC either."""
    flagged, skipped = _verdicts(rule_403, estate())
    assert (flagged, skipped) == ({"rtb-spoke"}, {})
    flagged, skipped = _verdicts(rule_401, estate(egress_default=False))
    assert (flagged, skipped) == ({"rtb-attach"}, {})


def test_a_table_shared_with_a_workload_subnet_is_judged_for_that_subnet() -> None:
    shared = table(
        "rtb-attach",
        "vpc-0egress",
        route("0.0.0.0/0", "nat-0a"),
        subnets=("subnet-attach", "subnet-app"),
    )
    snapshot = estate()
    snapshot = dataclasses.replace(
        snapshot,
        subnets=(*snapshot.subnets, subnet("subnet-app", "vpc-0egress", cidr="10.99.3.0/24")),
        route_tables=(shared, *snapshot.route_tables[1:]),
    )
    result = run(rule_401, snapshot)
    (finding,) = result.findings
    assert finding.resource_id == "rtb-attach"
    assert "from subnet subnet-app through NAT gateway" in finding.message


def test_an_inspection_vpcs_firewall_subnet_is_built_for_transit_too() -> None:
    flagged, skipped = _verdicts(rule_401, estate(firewall=True))
    assert flagged == set()
    assert set(skipped) == {"rtb-fw"}
    assert (
        "subnet-fw is a subnet of firewall endpoint vpce-0firewall, to which attachment "
        "subnet subnet-attach sends traffic"
    ) in skipped["rtb-fw"]


def test_without_the_gateways_routes_the_tables_are_judged_as_before() -> None:
    flagged, skipped = _verdicts(rule_401, estate(gateway_tables_read=False))
    assert (flagged, skipped) == ({"rtb-attach"}, {})


def test_601_skips_an_egress_vpc_whose_private_subnets_all_carry_transit() -> None:
    flagged, skipped = _verdicts(rule_601, estate())
    assert "vpc-0egress" not in flagged
    assert "vpc-0spoke" in flagged
    assert (
        "its private subnets carry other VPCs' traffic (subnet-attach is" in skipped["vpc-0egress"]
    )
    flagged, skipped = _verdicts(rule_601, estate(egress_default=False))
    assert {"vpc-0egress", "vpc-0spoke"} <= flagged
    assert "vpc-0egress" not in skipped


def test_403_skips_an_inspection_vpcs_firewall_subnet_that_sends_it_back_to_the_gateway() -> None:
    flagged, skipped = _verdicts(rule_403, estate(firewall=True, firewall_exit=TGW))
    assert flagged == {"rtb-spoke"}
    assert set(skipped) == {"rtb-fw"}
    assert (
        "rtb-fw routes S3 and DynamoDB traffic only for subnets built to carry" in skipped["rtb-fw"]
    )


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (
            {
                "egress_route": TransitGatewayRoute(
                    "0.0.0.0/0",
                    (TransitGatewayRouteTarget("tgw-attach-0egress", "vpc", "vpc-0egress"),),
                    "static",
                    "blackhole",
                )
            },
            "a blackhole route carries nothing",
        ),
        (
            {
                "egress_route": TransitGatewayRoute(
                    "::/0",
                    (TransitGatewayRouteTarget("tgw-attach-0egress", "vpc", "vpc-0egress"),),
                    "static",
                    "active",
                )
            },
            "IPv6 routes are not followed",
        ),
        (
            {"egress_route": _to("10.98.0.0/15", "tgw-attach-0egress", "vpc-0egress")},
            "a summary of its own block (10.99.0.0/16) and unused space",
        ),
        ({"associated": ("tgw-attach-0egress",)}, "a table only the egress VPC uses"),
        ({"associated": None}, "a table whose associations are unknown"),
    ],
    ids=["blackhole", "ipv6", "summary", "used-by-none-other", "associations-unknown"],
)
def test_routes_that_send_no_other_networks_traffic_there_leave_the_vpc_judged(
    change: dict[str, Any], why: str
) -> None:
    flagged, skipped = _verdicts(rule_401, estate(**change))
    assert (flagged, skipped) == ({"rtb-attach"}, {}), why


def test_a_route_holding_another_attached_vpcs_block_makes_the_vpc_transit() -> None:
    """East-west inspection routes the spokes' summary (10.0.0.0/8) to the inspection VPC."""
    summary = _to("10.0.0.0/8", "tgw-attach-0egress", "vpc-0egress")
    flagged, skipped = _verdicts(rule_401, estate(egress_route=summary))
    assert (flagged, set(skipped)) == (set(), {"rtb-attach"})


def test_the_attachments_subnets_from_the_gateway_owners_listing_count() -> None:
    snapshot = estate(attachment_subnets_read=False)
    owner = region(
        "210987654321",
        transit_gateway_attachments=[
            _attachment("tgw-attach-0egress", "vpc-0egress", ("subnet-attach",))
        ],
    )
    result = run(rule_401, snapshot, owner)
    assert result.findings == ()
    assert [s.resource_id for s in result.skipped] == ["rtb-attach"]


def test_fsbp_still_checks_every_vpc_as_security_hub_does() -> None:
    result = run(rule_601, estate(), settings=Settings(profile="fsbp"))
    assert {f.resource_id for f in result.findings} >= {"vpc-0egress", "vpc-0spoke"}
    assert result.skipped == ()


def test_601_judges_an_egress_vpcs_workload_subnets() -> None:
    snapshot = estate()
    snapshot = dataclasses.replace(
        snapshot,
        subnets=(*snapshot.subnets, subnet("subnet-app", "vpc-0egress", cidr="10.99.3.0/24")),
        route_tables=(
            *snapshot.route_tables,
            table("rtb-app", "vpc-0egress", route("0.0.0.0/0", "nat-0a"), subnets=("subnet-app",)),
        ),
    )
    result = run(rule_601, snapshot, settings=Settings())
    found = {f.resource_id: f.message for f in result.findings}
    assert "from its private subnets (1, e.g. subnet-app)" in found["vpc-0egress"]


def test_a_spoke_routed_a_summary_of_its_own_blocks_is_no_transit_vpc() -> None:
    """The gateway routes 10.20.0.0/15, the summary of the spoke's two blocks (a reviewer's
    case: it made the spoke transit and hid its findings)."""
    snapshot = estate(spoke_blocks=("10.20.0.0/16", "10.21.0.0/16"))
    (gateway_table,) = snapshot.transit_gateway_route_tables
    summary = _to("10.20.0.0/15", "tgw-attach-0spoke", "vpc-0spoke")
    snapshot = dataclasses.replace(
        snapshot,
        transit_gateway_route_tables=(
            dataclasses.replace(gateway_table, routes=(summary, *(gateway_table.routes or ())[1:])),
        ),
    )
    flagged, skipped = _verdicts(rule_403, snapshot)
    assert (flagged, skipped) == ({"rtb-spoke"}, {})


def test_a_vpc_routed_its_own_block_that_another_vpc_repeats_is_no_transit_vpc() -> None:
    """Two VPCs on one gateway with the same block (VPCE502's business): the route to one holds
    the other's block, but it is the VPC's own."""
    snapshot = estate(spoke_blocks=("10.99.0.0/16",), egress_default=False)
    flagged, skipped = _verdicts(rule_401, snapshot)
    assert (flagged, skipped) == ({"rtb-attach"}, {})
