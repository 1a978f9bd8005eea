from __future__ import annotations

from tests.helpers import endpoint, findings, flagged, region, skipped, subnet
from vpce_audit.model import RegionSnapshot
from vpce_audit.rules.builtin.placement import endpoint_single_az as rule


def estate() -> RegionSnapshot:
    return region(
        subnets=[
            subnet("subnet-a1", "vpc-1", "a"),
            subnet("subnet-a2", "vpc-1", "a"),
            subnet("subnet-b", "vpc-1", "b"),
        ],
        vpc_endpoints=[
            endpoint("vpce-two-subnets-one-az", "vpc-1", "ssm", subnets=("subnet-a1", "subnet-a2")),
            endpoint("vpce-two-az", "vpc-1", "ssm", subnets=("subnet-a1", "subnet-b")),
            endpoint("vpce-one-subnet", "vpc-1", "kms", subnets=("subnet-b",)),
            endpoint("vpce-gateway", "vpc-1", "s3", "Gateway"),
            endpoint("vpce-deleted", "vpc-1", "kms", subnets=("subnet-b",), state="deleted"),
            endpoint("vpce-unknown-subnet", "vpc-1", "kms", subnets=("subnet-gone",)),
        ],
    )


def test_flags_endpoints_confined_to_one_zone() -> None:
    assert flagged(rule, estate()) == {"vpce-two-subnets-one-az", "vpce-one-subnet"}


def test_message_names_the_zone_and_subnets() -> None:
    finding = findings(rule, estate())["vpce-two-subnets-one-az"]
    assert "eu-west-1a" in finding.message
    assert "subnet-a1, subnet-a2" in finding.message


def test_subnet_missing_from_snapshot_is_skipped() -> None:
    assert [s.resource_id for s in skipped(rule, estate())] == ["vpce-unknown-subnet"]
