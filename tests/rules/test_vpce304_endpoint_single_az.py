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


def test_nothing_is_gained_where_the_vpc_has_one_zone_the_service_offers() -> None:
    from tests.helpers import service

    one_zone_vpc = region(
        subnets=[subnet("subnet-a", "vpc-9", "a"), subnet("subnet-a2", "vpc-9", "a")],
        vpc_endpoints=[endpoint("vpce-only-zone", "vpc-9", "ssm", subnets=("subnet-a",))],
    )
    assert flagged(rule, one_zone_vpc) == set()
    # Two zones in the VPC, but the service is offered in one of them only.
    offered_in_a = region(
        subnets=[subnet("subnet-a", "vpc-9", "a"), subnet("subnet-c", "vpc-9", "c")],
        endpoint_service_details=[service("ssm", availability_zones=("eu-west-1a",))],
        vpc_endpoints=[endpoint("vpce-only-zone", "vpc-9", "ssm", subnets=("subnet-a",))],
    )
    assert flagged(rule, offered_in_a) == set()


def test_a_zone_list_that_names_none_of_the_vpcs_zones_says_nothing_here() -> None:
    """The endpoint's interfaces sit where the service is offered: a detail that lists none of
    the VPC's zones names other zones (a cross-region service's own region's, say), so the
    VPC's zones decide, and a one-zone endpoint in a two-zone VPC is flagged."""
    from tests.helpers import service

    elsewhere = region(
        subnets=[subnet("subnet-a", "vpc-9", "a"), subnet("subnet-c", "vpc-9", "c")],
        endpoint_service_details=[service("ssm", availability_zones=("us-east-1a", "us-east-1b"))],
        vpc_endpoints=[endpoint("vpce-only-zone", "vpc-9", "ssm", subnets=("subnet-a",))],
    )
    assert flagged(rule, elsewhere) == {"vpce-only-zone"}
