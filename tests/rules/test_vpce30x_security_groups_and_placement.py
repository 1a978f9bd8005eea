from __future__ import annotations

from tests.helpers import (
    endpoint,
    findings,
    flagged,
    ingress,
    region,
    security_group,
    skipped,
    subnet,
    vpc,
)
from vpce_audit.findings import Severity
from vpce_audit.model import EndpointServiceDetail, PrefixList, RegionSnapshot
from vpce_audit.rules.builtin.placement import endpoint_az_coverage_gap, endpoint_not_available
from vpce_audit.rules.builtin.security_groups import endpoint_sg_all_traffic, endpoint_sg_blocks_vpc


def groups_estate() -> RegionSnapshot:
    return region(
        vpcs=[vpc("vpc-1", "10.0.0.0/16", "10.1.0.0/16")],
        prefix_lists=[
            PrefixList("pl-corp", "corp", "111111111111", cidrs=("10.1.4.0/24",)),
            PrefixList("pl-other", "other", "111111111111", cidrs=("192.168.0.0/16",)),
            PrefixList("pl-unread", "unread", "111111111111", cidrs=None),
        ],
        security_groups=[
            security_group("sg-https-vpc", "vpc-1", ingress("10.0.0.0/16")),
            security_group("sg-all", "vpc-1", ingress("10.0.0.0/16", "-1", None)),
            security_group("sg-range", "vpc-1", ingress("10.0.0.0/8", ports=(0, 1024))),
            security_group("sg-udp", "vpc-1", ingress("10.0.5.0/24", "udp", (443, 443))),
            security_group("sg-icmp", "vpc-1", ingress("10.0.0.0/16", "icmp", (-1, -1))),
            security_group("sg-subnet-only", "vpc-1", ingress("10.0.3.0/24")),
            security_group("sg-supernet", "vpc-1", ingress("10.0.0.0/8")),
            security_group("sg-elsewhere", "vpc-1", ingress("192.168.0.0/16")),
            security_group("sg-wrong-port", "vpc-1", ingress("10.0.0.0/16", ports=(8443, 8443))),
            security_group("sg-pl", "vpc-1", ingress("pl-corp")),
            security_group("sg-pl-other", "vpc-1", ingress("pl-other")),
            security_group("sg-pl-unread", "vpc-1", ingress("pl-unread")),
            security_group("sg-ref", "vpc-1", ingress("sg-https-vpc")),
            security_group("sg-ref-other-vpc", "vpc-1", ingress("sg-foreign")),
            security_group("sg-foreign", "vpc-9", ingress("172.16.0.0/12")),
            security_group("sg-smtp", "vpc-1", ingress("10.0.0.0/16", ports=(587, 587))),
        ],
        vpc_endpoints=[
            endpoint(f"vpce-{name}", "vpc-1", "ssm", groups=(f"sg-{name}",))
            for name in (
                "https-vpc",
                "all",
                "range",
                "udp",
                "icmp",
                "subnet-only",
                "supernet",
                "elsewhere",
                "wrong-port",
                "pl",
                "pl-other",
                "pl-unread",
                "ref",
                "ref-other-vpc",
            )
        ]
        + [
            endpoint("vpce-smtp", "vpc-1", "email-smtp", groups=("sg-smtp",)),
            endpoint(
                "vpce-vendor",
                "vpc-1",
                "com.amazonaws.vpce.eu-west-1.vpce-svc-1",
                groups=("sg-wrong-port",),
            ),
            endpoint(
                "vpce-vendor-all",
                "vpc-1",
                "com.amazonaws.vpce.eu-west-1.vpce-svc-1",
                groups=("sg-all",),
            ),
        ],
    )


def test_302_flags_groups_wider_than_the_service_needs() -> None:
    found = findings(endpoint_sg_all_traffic, groups_estate())
    assert set(found) == {
        "vpce-all",
        "vpce-range",
        "vpce-udp",
        "vpce-wrong-port",
        "vpce-vendor-all",
    }
    assert "sg-range allows tcp 0-1024 from 10.0.0.0/8" in found["vpce-range"].message
    assert "all protocols" in found["vpce-all"].message


def test_303_flags_endpoints_unreachable_on_443_from_their_vpc() -> None:
    estate = groups_estate()
    assert flagged(endpoint_sg_blocks_vpc, estate) == {
        "vpce-udp",
        "vpce-icmp",
        "vpce-elsewhere",
        "vpce-wrong-port",
        "vpce-pl-other",
        "vpce-ref-other-vpc",
    }
    assert [s.resource_id for s in skipped(endpoint_sg_blocks_vpc, estate)] == ["vpce-pl-unread"]


def test_305_lists_the_zones_without_an_endpoint_interface() -> None:
    offered = EndpointServiceDetail(
        "com.amazonaws.eu-west-1.kms",
        ("Interface",),
        "amazon",
        True,
        availability_zones=("eu-west-1a", "eu-west-1b"),
    )
    estate = region(
        subnets=[
            subnet("subnet-a", "vpc-1", "a"),
            subnet("subnet-b", "vpc-1", "b"),
            subnet("subnet-c", "vpc-1", "c"),
            subnet("subnet-x", "vpc-2", "a"),
        ],
        endpoint_service_details=[offered],
        vpc_endpoints=[
            endpoint("vpce-ab", "vpc-1", "ssm", subnets=("subnet-a", "subnet-b")),
            endpoint("vpce-abc", "vpc-1", "ssm", subnets=("subnet-a", "subnet-b", "subnet-c")),
            endpoint("vpce-kms-ab", "vpc-1", "kms", subnets=("subnet-a", "subnet-b")),
            endpoint("vpce-alone", "vpc-2", "ssm", subnets=("subnet-x",)),
        ],
    )
    found = findings(endpoint_az_coverage_gap, estate)
    assert set(found) == {"vpce-ab"}
    assert "eu-west-1c" in found["vpce-ab"].message


def test_306_flags_endpoints_that_carry_no_traffic() -> None:
    states = [
        "available",
        "pendingAcceptance",
        "pending",
        "failed",
        "rejected",
        "expired",
        "partial",
        "deleted",
        "deleting",
    ]
    estate = region(vpc_endpoints=[endpoint(f"vpce-{s}", "vpc-1", "ssm", state=s) for s in states])
    found = findings(endpoint_not_available, estate)
    assert set(found) == {
        "vpce-pendingAcceptance",
        "vpce-pending",
        "vpce-failed",
        "vpce-rejected",
        "vpce-expired",
        "vpce-partial",
    }
    assert found["vpce-failed"].severity is Severity.HIGH
    assert found["vpce-rejected"].severity is Severity.HIGH
    assert found["vpce-pending"].severity is Severity.MEDIUM
