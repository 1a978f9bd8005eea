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
    TransitGateway,
    TransitGatewayAttachment,
    TransitGatewayRoute,
    TransitGatewayRouteTable,
    TransitGatewayRouteTarget,
    VpnConnection,
    VpnGateway,
)
from vpce_audit.rules.base import Rule, Settings
from vpce_audit.rules.builtin.address_space import (
    cidr_overlap_on_premises,
    cidr_overlap_organisation,
    cidr_overlap_transit_gateway,
    transit_gateway_auto_accepts_attachments,
)
from vpce_audit.rules.builtin.coverage import required_endpoint_missing, vpc_flow_logs_disabled
from vpce_audit.rules.engine import evaluate


def attach(
    attachment: str, vpc_id: str, tgw: str = "tgw-1", kind: str = "vpc", owner: str = ACCOUNT
) -> TransitGatewayAttachment:
    return TransitGatewayAttachment(attachment, tgw, ACCOUNT, kind, vpc_id, owner, "available")


def _tgw_estate(*tables: TransitGatewayRouteTable) -> RegionSnapshot:
    return region(
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
        transit_gateway_route_tables=list(tables),
    )


def _route(cidr: str, attachment: str, kind: str = "static") -> TransitGatewayRoute:
    return TransitGatewayRoute(cidr, (TransitGatewayRouteTarget(attachment),), kind, "active")


def test_502_is_high_where_a_route_table_learns_or_routes_to_both() -> None:
    """AWS does not propagate an overlapping VPC's block into a table that has it already
    (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateTransitGatewayVpcAttachment.html)."""
    found = findings(
        cidr_overlap_transit_gateway,
        _tgw_estate(
            TransitGatewayRouteTable(
                "tgw-rtb-shared",
                "tgw-1",
                ("att-a", "att-d"),
                ("att-a", "att-b", "att-d"),
                (_route("10.0.0.0/16", "att-a", "propagated"),),
            ),
            # c is only associated here, and propagates nowhere: isolated from a and b.
            TransitGatewayRouteTable("tgw-rtb-isolated", "tgw-1", ("att-c",), (), ()),
        ),
    )
    assert set(found) == {"vpc-a", "vpc-b", "vpc-c"}
    assert {v: f.severity for v, f in found.items()} == {
        "vpc-a": Severity.HIGH,
        "vpc-b": Severity.HIGH,
        "vpc-c": Severity.MEDIUM,
    }
    assert "tgw-rtb-shared routes to both it and vpc-b" in found["vpc-a"].message
    assert "no route table of the gateway joins them yet" in found["vpc-c"].message
    assert found["vpc-a"].related_resources == ("vpc-b", "vpc-c")


def test_502_sharing_a_table_by_association_alone_is_not_a_conflict() -> None:
    associated_only = _tgw_estate(
        TransitGatewayRouteTable("tgw-rtb", "tgw-1", ("att-a", "att-b", "att-c"), (), ())
    )
    found = findings(cidr_overlap_transit_gateway, associated_only)
    assert {f.severity for f in found.values()} == {Severity.MEDIUM}
    # ... but a static route toward c in a table that learns a is.
    routed = _tgw_estate(
        TransitGatewayRouteTable(
            "tgw-rtb", "tgw-1", ("att-a",), ("att-a",), (_route("10.0.64.0/20", "att-c"),)
        )
    )
    found = findings(cidr_overlap_transit_gateway, routed)
    assert found["vpc-c"].severity is Severity.HIGH
    assert "tgw-rtb routes to both it and vpc-a" in found["vpc-c"].message


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
    assert "the routes of tgw-rtb could not be read" in found["vpc-a"].message


def test_502_sees_vpcs_of_other_accounts_on_a_shared_transit_gateway() -> None:
    owner = region(
        transit_gateway_attachments=[
            attach("att-1", "vpc-x"),
            attach("att-2", "vpc-y", owner=OTHER_ACCOUNT),
        ],
        transit_gateway_route_tables=[
            TransitGatewayRouteTable(
                "tgw-rtb", "tgw-1", ("att-1", "att-2"), ("att-1", "att-2"), None
            )
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
            vpc("vpc-config-inside", "10.50.0.0/16"),
            vpc("vpc-tgw-route", "10.4.0.0/16"),
            vpc("vpc-forced-tunnel", "10.5.0.0/16"),
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
                (_route("10.4.128.0/17", "att-dx", "propagated"),),
            )
        ],
        route_tables=[
            table(
                "rtb-p",
                "vpc-propagated",
                route("10.2.64.0/18", "vgw-2"),
                route("172.20.0.0/16", "vgw-2"),
            ),
            # Forced tunnelling and a summary: routes that contain the VPC are normal.
            table(
                "rtb-f",
                "vpc-forced-tunnel",
                route("0.0.0.0/0", "vgw-3"),
                route("10.0.0.0/8", "vgw-3"),
            ),
        ],
    )


def test_503_flags_on_premises_prefixes_equal_to_or_inside_a_vpc_block() -> None:
    settings = Settings(on_premises_cidrs=("192.168.0.0/16", "10.50.1.0/24"))
    result = evaluate(snapshot(on_premises_estate()), [cidr_overlap_on_premises], settings)
    found = {f.resource_id: f for f in result.findings}
    # vpc-config (192.168.10.0/24) lies inside the configured summary: normal, not flagged.
    assert set(found) == {
        "vpc-vgw",
        "vpc-tgw",
        "vpc-propagated",
        "vpc-config-inside",
        "vpc-tgw-route",
    }
    assert "VPN vpn-1 static route" in found["vpc-vgw"].message
    assert "on_premises_cidrs in configuration" in found["vpc-config-inside"].message
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
    assert "leave the VPC through nat gateway nat-1" in result.findings[0].message


def _coverage_estate() -> RegionSnapshot:
    return region(
        vpcs=[vpc("vpc-isolated"), vpc("vpc-public"), vpc("vpc-default", default=True)],
        subnets=[
            subnet("subnet-i", "vpc-isolated"),
            subnet("subnet-pub", "vpc-public"),
            subnet("subnet-d", "vpc-default"),
        ],
        route_tables=[
            table("rtb-i", "vpc-isolated", main=True),
            table("rtb-pub", "vpc-public", route("0.0.0.0/0", "igw-1"), main=True),
            table("rtb-d", "vpc-default", route("0.0.0.0/0", "igw-2"), main=True),
        ],
        vpc_endpoints=[endpoint("vpce-ec2", "vpc-isolated", "ec2-fips")],
    )


def test_601_default_list_and_isolated_vpcs() -> None:
    found = findings(required_endpoint_missing, _coverage_estate())
    assert set(found) == {"vpc-isolated"}
    message = found["vpc-isolated"].message
    assert "no endpoint for ssm, ssmmessages, ec2messages, sts, logs" in message
    # No NAT: calls fail rather than leave.
    assert "fail: those subnets have no route out of the VPC" in message
    assert found["vpc-isolated"].severity is Severity.LOW


def test_601_fsbp_profile_applies_security_hub_controls_to_every_vpc() -> None:
    """EC2.10, EC2.55-58, EC2.60: every VPC, medium; FIPS endpoints count for EC2.10
    (https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-10)."""
    result = evaluate(
        snapshot(_coverage_estate()), [required_endpoint_missing], Settings(profile="fsbp")
    )
    found = {f.resource_id: f for f in result.findings}
    assert set(found) == {"vpc-isolated", "vpc-public", "vpc-default"}
    assert {f.severity for f in found.values()} == {Severity.MEDIUM}
    assert "ecr.api, ecr.dkr, ssm, ssm-contacts, ssm-incidents" in found["vpc-isolated"].message
    assert "no endpoint for ec2," not in found["vpc-isolated"].message  # ec2-fips counts
    assert "no endpoint for ec2, ecr.api" in found["vpc-public"].message


def _flow_log_estate() -> RegionSnapshot:
    return region(
        vpcs=[
            vpc("vpc-logged"),
            vpc("vpc-failed-log"),
            vpc("vpc-failing-delivery"),
            vpc("vpc-accept-only"),
            vpc("vpc-subnet-log"),
            vpc("vpc-none"),
            vpc("vpc-default", default=True),
        ],
        flow_logs=[
            FlowLog("fl-1", "vpc-logged", "ACTIVE", "SUCCESS", "ALL"),
            FlowLog("fl-2", "vpc-failed-log", "FAILED"),
            FlowLog("fl-3", "vpc-failing-delivery", "ACTIVE", "FAILED", "ALL"),
            FlowLog("fl-4", "vpc-accept-only", "ACTIVE", "SUCCESS", "ACCEPT"),
            FlowLog("fl-5", "subnet-1", "ACTIVE"),
        ],
    )


def test_602_flags_vpcs_without_a_working_vpc_flow_log() -> None:
    found = findings(vpc_flow_logs_disabled, _flow_log_estate())
    assert set(found) == {"vpc-failed-log", "vpc-failing-delivery", "vpc-subnet-log", "vpc-none"}
    assert "DeliverLogsStatus FAILED" in found["vpc-failing-delivery"].message
    assert {f.severity for f in found.values()} == {Severity.MEDIUM}


def test_602_fsbp_profile_checks_every_vpc_and_rejected_traffic() -> None:
    """Security Hub EC2.6: every VPC, flow logs that record rejected traffic
    (https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-6)."""
    fsbp = _run(vpc_flow_logs_disabled, _flow_log_estate(), settings=Settings(profile="fsbp"))
    assert fsbp == {
        "vpc-failed-log",
        "vpc-failing-delivery",
        "vpc-accept-only",
        "vpc-subnet-log",
        "vpc-none",
        "vpc-default",
    }


def test_505_flags_owned_transit_gateways_that_auto_accept() -> None:
    """Security Hub EC2.23 (https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-23)."""
    estate = region(
        transit_gateways=[
            TransitGateway("tgw-auto", ACCOUNT, "available", True),
            TransitGateway("tgw-review", ACCOUNT, "available", False),
            TransitGateway("tgw-shared-with-us", OTHER_ACCOUNT, "available", True),
            TransitGateway("tgw-unknown", ACCOUNT, "available", None),
        ]
    )
    result = evaluate(snapshot(estate), [transit_gateway_auto_accepts_attachments], Settings())
    assert [f.resource_id for f in result.findings] == ["tgw-auto"]
    assert result.findings[0].severity is Severity.HIGH
    assert [s.resource_id for s in result.skipped] == ["tgw-unknown"]


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


def test_504_a_shared_secondary_block_beside_blocks_of_their_own() -> None:
    """EKS custom networking puts pods on 100.64.0.0/16 in every VPC: each VPC overlaps all of
    them through it, and some also through their primary blocks."""
    estate = region(
        vpcs=[
            vpc("vpc-a", "10.0.0.0/16", "100.64.0.0/16"),
            vpc("vpc-b", "10.0.1.0/24"),  # inside a's primary block only
            vpc("vpc-c", "10.1.0.0/16", "100.64.0.0/16"),
            vpc("vpc-d", "10.2.0.0/16", "100.64.0.0/16"),
            vpc("vpc-e", "10.3.0.0/16", "100.64.128.0/17"),  # inside the shared block
            vpc("vpc-f", "10.4.0.0/16"),
        ]
    )
    found = findings(cidr_overlap_organisation, estate)
    assert {v: f.related_resources for v, f in found.items()} == {
        "vpc-a": ("vpc-b", "vpc-c", "vpc-d", "vpc-e"),
        "vpc-b": ("vpc-a",),
        "vpc-c": ("vpc-a", "vpc-d", "vpc-e"),
        "vpc-d": ("vpc-a", "vpc-c", "vpc-e"),
        "vpc-e": ("vpc-a", "vpc-c", "vpc-d"),
    }
    assert "overlaps 4 other VPC(s)" in found["vpc-a"].message


def test_504_a_vpc_with_no_block_that_parses_overlaps_nothing() -> None:
    estate = region(vpcs=[vpc("vpc-bad", "not-a-cidr"), vpc("vpc-ok", "10.0.0.0/16")])
    assert findings(cidr_overlap_organisation, estate) == {}
