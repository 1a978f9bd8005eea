from __future__ import annotations

from tests.helpers import ACCOUNT, endpoint, flagged, region, service, snapshot, vpc
from vpce_audit.model import (
    AccountSnapshot,
    DhcpOptions,
    EndpointServiceDetail,
    HostedZone,
    HostedZoneVpc,
    PeeringConnection,
    PeeringSide,
    RegionSnapshot,
    Vpc,
)
from vpce_audit.rules.base import Rule, Settings
from vpce_audit.rules.builtin.dns import (
    dhcp_custom_dns_servers,
    duplicate_interface_endpoint,
    interface_endpoint_without_private_dns,
    peering_dns_resolution_disabled,
)
from vpce_audit.rules.engine import EvaluationResult, evaluate


def run_with(rule: Rule, estate: RegionSnapshot, *zones: HostedZone) -> EvaluationResult:
    account = AccountSnapshot(ACCOUNT, "2026-11-26T00:00:00Z", hosted_zones=zones)
    return evaluate(snapshot(estate, accounts=(account,)), [rule], Settings())


def with_dns(short: str, *names: str) -> EndpointServiceDetail:
    base = service(short)
    return EndpointServiceDetail(
        base.service_name, base.service_types, "amazon", True, private_dns_names=names
    )


def test_202_flags_endpoints_without_private_dns_or_a_covering_zone() -> None:
    estate = region(
        endpoint_service_details=[
            with_dns("ssm", "ssm.eu-west-1.amazonaws.com"),
            with_dns("kms", "kms.eu-west-1.amazonaws.com"),
            with_dns("s3", "*.s3.eu-west-1.amazonaws.com"),
            with_dns("nodns"),
        ],
        vpc_endpoints=[
            endpoint("vpce-ssm-off", "vpc-1", "ssm", private_dns=False),
            endpoint("vpce-ssm-on", "vpc-1", "ssm", private_dns=True),
            endpoint("vpce-kms-zone", "vpc-1", "kms", private_dns=False),
            endpoint("vpce-kms-zone-other-vpc", "vpc-2", "kms", private_dns=False),
            endpoint("vpce-s3-parent-zone", "vpc-3", "s3", private_dns=False),
            endpoint("vpce-no-private-name", "vpc-1", "nodns", private_dns=False),
            endpoint("vpce-gateway", "vpc-1", "s3", "Gateway"),
            endpoint("vpce-privatelink", "vpc-1", "com.amazonaws.vpce.eu-west-1.vpce-svc-1"),
        ],
    )
    zones = (
        HostedZone(
            "Z1", "kms.eu-west-1.amazonaws.com.", True, (HostedZoneVpc("vpc-1", "eu-west-1"),)
        ),
        HostedZone("Z2", "eu-west-1.amazonaws.com.", True, (HostedZoneVpc("vpc-3", "eu-west-1"),)),
        HostedZone("Z3", "ssm.eu-west-1.amazonaws.com.", False),  # public: does not count
        HostedZone(
            "Z4", "ssm.eu-west-1.amazonaws.com.", True, (HostedZoneVpc("vpc-1", "us-east-1"),)
        ),
    )
    result = run_with(interface_endpoint_without_private_dns, estate, *zones)
    assert {f.resource_id for f in result.findings} == {"vpce-ssm-off", "vpce-kms-zone-other-vpc"}


def test_203_flags_vpcs_whose_dns_servers_skip_amazon_provided_dns() -> None:
    def dns_vpc(vpc_id: str, options: str) -> Vpc:
        base = vpc(vpc_id)
        return Vpc(
            base.vpc_id,
            base.owner_id,
            base.cidr_blocks,
            dhcp_options_id=options,
            enable_dns_support=True,
            enable_dns_hostnames=True,
        )

    estate = region(
        vpcs=[
            dns_vpc("vpc-custom", "dopt-custom"),
            dns_vpc("vpc-mixed", "dopt-mixed"),
            dns_vpc("vpc-custom-no-private-dns", "dopt-custom"),
            dns_vpc("vpc-gone", "dopt-x"),
        ],
        dhcp_options=[
            DhcpOptions("dopt-custom", ("10.0.0.53", "10.0.1.53")),
            DhcpOptions("dopt-mixed", ("10.0.0.53", "AmazonProvidedDNS")),
        ],
        vpc_endpoints=[
            endpoint("vpce-1", "vpc-custom", "ssm", private_dns=True),
            endpoint("vpce-2", "vpc-mixed", "ssm", private_dns=True),
            endpoint("vpce-3", "vpc-custom-no-private-dns", "ssm", private_dns=False),
            endpoint("vpce-4", "vpc-gone", "ssm", private_dns=True),
        ],
    )
    result = evaluate(snapshot(estate), [dhcp_custom_dns_servers], Settings())
    assert {f.resource_id for f in result.findings} == {"vpc-custom"}
    assert "10.0.0.53, 10.0.1.53" in result.findings[0].message
    assert [s.resource_id for s in result.skipped] == ["vpc-gone"]


def test_204_flags_vpcs_with_two_interface_endpoints_for_one_service() -> None:
    estate = region(
        vpc_endpoints=[
            endpoint("vpce-a", "vpc-dup", "ssm"),
            endpoint("vpce-b", "vpc-dup", "ssm"),
            endpoint("vpce-c", "vpc-ok", "ssm"),
            endpoint("vpce-d", "vpc-ok", "kms"),
            endpoint("vpce-e", "vpc-deleted", "ssm"),
            endpoint("vpce-f", "vpc-deleted", "ssm", state="deleted"),
            endpoint("vpce-g", "vpc-gw", "s3", "Gateway"),
            endpoint("vpce-h", "vpc-gw", "s3"),
        ]
    )
    assert flagged(duplicate_interface_endpoint, estate) == {"vpc-dup"}


def test_205_flags_peerings_hiding_the_dns_of_an_endpoint_hub() -> None:
    def peering(pcx: str, hub_allows: bool | None, status: str = "active") -> PeeringConnection:
        return PeeringConnection(
            pcx,
            status,
            PeeringSide(
                ACCOUNT, "vpc-hub", "eu-west-1", allow_remote_vpc_dns_resolution=hub_allows
            ),
            PeeringSide(ACCOUNT, "vpc-spoke", "eu-west-1", allow_remote_vpc_dns_resolution=False),
        )

    estate = region(
        vpc_endpoints=[
            endpoint("vpce-hub", "vpc-hub", "ssm", private_dns=True),
            endpoint("vpce-spoke", "vpc-spoke", "ssm", private_dns=False),
        ],
        peering_connections=[
            peering("pcx-off", False),
            peering("pcx-on", True),
            peering("pcx-pending", False, "pending-acceptance"),
            peering("pcx-unknown", None),
        ],
    )
    assert flagged(peering_dns_resolution_disabled, estate) == {"pcx-off"}
