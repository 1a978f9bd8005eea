from __future__ import annotations

from tests.helpers import (
    ACCOUNT,
    OTHER_ACCOUNT,
    endpoint,
    findings,
    region,
    route,
    snapshot,
    subnet,
    table,
    vpc,
)
from vpce_audit.findings import Severity
from vpce_audit.model import (
    FlowLog,
    RegionSnapshot,
    TransitGatewayAttachment,
    TransitGatewayRoute,
    TransitGatewayRouteTable,
    VpnConnection,
    VpnGateway,
)
from vpce_audit.rules.base import Rule, Settings
from vpce_audit.rules.builtin.address_space import (
    cidr_overlap_on_premises,
    cidr_overlap_organisation,
    cidr_overlap_transit_gateway,
)
from vpce_audit.rules.builtin.coverage import required_endpoint_missing, vpc_flow_logs_disabled
from vpce_audit.rules.engine import evaluate


def attach(
    attachment: str, vpc_id: str, tgw: str = "tgw-1", kind: str = "vpc", owner: str = ACCOUNT
) -> TransitGatewayAttachment:
    return TransitGatewayAttachment(attachment, tgw, ACCOUNT, kind, vpc_id, owner, "available")


def test_502_grades_overlaps_by_shared_route_tables() -> None:
    hub = region(
        vpcs=[
            vpc("vpc-a", "10.0.0.0/16"),
            vpc("vpc-b", "10.0.128.0/20"),
            vpc("vpc-c", "10.0.64.0/20"),
            vpc("vpc-d", "172.16.0.0/16"),
            vpc("vpc-e", "10.0.200.0/24"),
        ],
        transit_gateway_attachments=[
            attach("att-a", "vpc-a"),
            attach("att-b", "vpc-b"),
            attach("att-c", "vpc-c"),
            attach("att-d", "vpc-d"),
            attach("att-e", "vpc-e", tgw="tgw-2"),
        ],
        transit_gateway_route_tables=[
            TransitGatewayRouteTable(
                "tgw-rtb-shared", "tgw-1", ("att-a", "att-d"), ("att-b",), None
            ),
            TransitGatewayRouteTable("tgw-rtb-isolated", "tgw-1", ("att-c",), ("att-c",), None),
        ],
    )
    found = findings(cidr_overlap_transit_gateway, hub)
    assert set(found) == {"vpc-a", "vpc-b", "vpc-c"}
    assert found["vpc-a"].severity is Severity.HIGH
    assert found["vpc-b"].severity is Severity.HIGH
    assert found["vpc-c"].severity is Severity.MEDIUM
    assert (
        "on tgw-1, 2 VPC(s) overlap it (vpc-b, vpc-c), sharing a route table with at least one"
        in found["vpc-a"].message
    )
    assert "isolated from them in separate route tables" in found["vpc-c"].message
    assert found["vpc-a"].related_resources == ("vpc-b", "vpc-c")


def test_502_route_tables_that_could_not_be_read_make_it_medium() -> None:
    hub = region(
        vpcs=[vpc("vpc-a", "10.0.0.0/16"), vpc("vpc-b", "10.0.1.0/24")],
        transit_gateway_attachments=[attach("att-a", "vpc-a"), attach("att-b", "vpc-b")],
        transit_gateway_route_tables=[
            TransitGatewayRouteTable("tgw-rtb", "tgw-1", None, None, None)
        ],
    )
    found = findings(cidr_overlap_transit_gateway, hub)
    assert {v: f.severity for v, f in found.items()} == {
        "vpc-a": Severity.MEDIUM,
        "vpc-b": Severity.MEDIUM,
    }
    assert "route-table sharing unknown" in found["vpc-a"].message


def test_502_sees_vpcs_of_other_accounts_on_a_shared_transit_gateway() -> None:
    owner = region(
        transit_gateway_attachments=[
            attach("att-1", "vpc-x"),
            attach("att-2", "vpc-y", owner=OTHER_ACCOUNT),
        ],
        transit_gateway_route_tables=[
            TransitGatewayRouteTable("tgw-rtb", "tgw-1", ("att-1", "att-2"), (), None)
        ],
        vpcs=[vpc("vpc-x", "10.9.0.0/16")],
    )
    member = region(account=OTHER_ACCOUNT, vpcs=[vpc("vpc-y", "10.9.4.0/22", owner=OTHER_ACCOUNT)])
    result = evaluate(snapshot(owner, member), [cidr_overlap_transit_gateway], Settings())
    assert {(f.account_id, f.resource_id) for f in result.findings} == {
        (ACCOUNT, "vpc-x"),
        (OTHER_ACCOUNT, "vpc-y"),
    }


def on_premises_estate() -> RegionSnapshot:
    return region(
        vpcs=[
            vpc("vpc-vgw", "10.0.0.0/16"),
            vpc("vpc-tgw", "10.1.0.0/16"),
            vpc("vpc-propagated", "10.2.0.0/16"),
            vpc("vpc-clean", "10.3.0.0/16"),
            vpc("vpc-config", "192.168.10.0/24"),
            vpc("vpc-tgw-route", "10.4.0.0/16"),
        ],
        vpn_gateways=[VpnGateway("vgw-1", "available", ("vpc-vgw", "vpc-clean"))],
        vpn_connections=[
            VpnConnection("vpn-1", "available", "cgw-1", "vgw-1", None, ("10.0.8.0/24",)),
            VpnConnection("vpn-2", "available", "cgw-1", None, "tgw-1", ("10.1.0.0/24",)),
            VpnConnection("vpn-old", "deleted", "cgw-1", "vgw-1", None, ("10.3.0.0/24",)),
        ],
        transit_gateway_attachments=[
            attach("att-tgw", "vpc-tgw"),
            attach("att-route", "vpc-tgw-route", tgw="tgw-2"),
            attach("att-dx", "dxgw-1", tgw="tgw-2", kind="direct-connect-gateway"),
        ],
        transit_gateway_route_tables=[
            TransitGatewayRouteTable(
                "tgw-rtb-2",
                "tgw-2",
                ("att-route", "att-dx"),
                ("att-dx",),
                (TransitGatewayRoute("10.4.128.0/17", ("att-dx",), "propagated", "active"),),
            )
        ],
        route_tables=[
            table(
                "rtb-p",
                "vpc-propagated",
                route("10.2.64.0/18", "vgw-2"),
                route("172.20.0.0/16", "vgw-2"),
            )
        ],
    )


def test_503_flags_vpcs_overlapping_connected_on_premises_prefixes() -> None:
    settings = Settings(on_premises_cidrs=("192.168.0.0/16",))
    result = evaluate(snapshot(on_premises_estate()), [cidr_overlap_on_premises], settings)
    found = {f.resource_id: f for f in result.findings}
    assert set(found) == {"vpc-vgw", "vpc-tgw", "vpc-propagated", "vpc-config", "vpc-tgw-route"}
    assert "VPN vpn-1 static route" in found["vpc-vgw"].message
    assert "on_premises_cidrs in configuration" in found["vpc-config"].message
    assert "tgw-rtb-2 route to att-dx" in found["vpc-tgw-route"].message


def _run(rule: Rule, *regions: RegionSnapshot, settings: Settings | None = None) -> set[str]:
    result = evaluate(snapshot(*regions), [rule], settings or Settings())
    assert not result.rule_errors
    return {f.resource_id for f in result.findings}


def test_504_flags_every_overlapping_non_default_vpc_once() -> None:
    east = region(
        name="us-east-1",
        vpcs=[
            vpc("vpc-1", "10.0.0.0/16"),
            vpc("vpc-2", "10.0.0.0/16"),
            vpc("vpc-default", "172.31.0.0/16", default=True),
        ],
    )
    west = region(
        vpcs=[
            vpc("vpc-3", "10.0.4.0/24"),
            vpc("vpc-4", "10.8.0.0/16"),
            vpc("vpc-default-2", "172.31.0.0/16", default=True),
        ]
    )
    assert _run(cidr_overlap_organisation, east, west) == {"vpc-1", "vpc-2", "vpc-3"}


def test_601_flags_private_vpcs_missing_required_endpoints() -> None:
    required = ("ssm", "ecr.api")
    estate = region(
        vpcs=[
            vpc("vpc-private"),
            vpc("vpc-covered"),
            vpc("vpc-public"),
            vpc("vpc-default", default=True),
        ],
        subnets=[
            subnet("subnet-p", "vpc-private"),
            subnet("subnet-c", "vpc-covered"),
            subnet("subnet-pub", "vpc-public"),
            subnet("subnet-d", "vpc-default"),
        ],
        route_tables=[
            table("rtb-p", "vpc-private", route("0.0.0.0/0", "nat-1"), main=True),
            table("rtb-c", "vpc-covered", main=True),
            table("rtb-pub", "vpc-public", route("0.0.0.0/0", "igw-1"), main=True),
            table("rtb-d", "vpc-default", main=True),
        ],
        vpc_endpoints=[
            endpoint("vpce-1", "vpc-covered", "ssm"),
            endpoint("vpce-2", "vpc-covered", "ecr.api"),
            endpoint("vpce-3", "vpc-private", "ssm"),
        ],
    )
    settings = Settings(required_services=required)
    result = evaluate(snapshot(estate), [required_endpoint_missing], settings)
    assert {f.resource_id for f in result.findings} == {"vpc-private"}
    assert "no endpoint for ecr.api:" in result.findings[0].message


def test_602_flags_vpcs_without_an_active_vpc_flow_log() -> None:
    estate = region(
        vpcs=[
            vpc("vpc-logged"),
            vpc("vpc-failed-log"),
            vpc("vpc-subnet-log"),
            vpc("vpc-none"),
            vpc("vpc-default", default=True),
        ],
        flow_logs=[
            FlowLog("fl-1", "vpc-logged", "ACTIVE"),
            FlowLog("fl-2", "vpc-failed-log", "FAILED"),
            FlowLog("fl-3", "subnet-1", "ACTIVE"),
        ],
    )
    assert _run(vpc_flow_logs_disabled, estate) == {"vpc-failed-log", "vpc-subnet-log", "vpc-none"}


def test_504_counts_and_lists_many_vpcs_on_one_block() -> None:
    many = region(
        vpcs=[vpc(f"vpc-{i:02d}", "10.0.0.0/16") for i in range(15)]
        + [vpc("vpc-inside", "10.0.8.0/24"), vpc("vpc-apart", "10.9.0.0/16")]
    )
    found = findings(cidr_overlap_organisation, many)
    assert set(found) == {f"vpc-{i:02d}" for i in range(15)} | {"vpc-inside"}
    assert "overlaps 15 other VPC(s)" in found["vpc-inside"].message
    assert "vpc-00, vpc-01" in found["vpc-inside"].message
    assert "and 5 more" in found["vpc-inside"].message
    assert "overlaps 15 other VPC(s)" in found["vpc-03"].message
    assert "vpc-03," not in found["vpc-03"].message
