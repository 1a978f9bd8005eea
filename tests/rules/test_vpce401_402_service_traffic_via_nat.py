from __future__ import annotations

from tests.helpers import (
    DDB_PL,
    S3_PL,
    endpoint,
    error,
    findings,
    flagged,
    region,
    route,
    service_prefix_lists,
    skipped,
    subnet,
    table,
)
from vpce_audit.model import RegionSnapshot
from vpce_audit.rules.builtin.routing import dynamodb_traffic_via_nat as rule_402
from vpce_audit.rules.builtin.routing import s3_traffic_via_nat as rule_401


def estate() -> RegionSnapshot:
    return region(
        prefix_lists=service_prefix_lists(),
        subnets=[
            subnet("subnet-nat", "vpc-1"),
            subnet("subnet-s3-endpoint", "vpc-1"),
            subnet("subnet-implicit", "vpc-1"),
            subnet("subnet-igw", "vpc-1"),
            subnet("subnet-tgw", "vpc-1"),
            subnet("subnet-blackhole", "vpc-1"),
            subnet("subnet-specific", "vpc-1"),
            subnet("subnet-private-dns", "vpc-2"),
            subnet("subnet-vpc3", "vpc-3"),
        ],
        route_tables=[
            table("rtb-nat", "vpc-1", route("0.0.0.0/0", "nat-1"), subnets=("subnet-nat",)),
            table(
                "rtb-s3-endpoint",
                "vpc-1",
                route("0.0.0.0/0", "nat-1"),
                route(S3_PL, "vpce-s3"),
                subnets=("subnet-s3-endpoint",),
            ),
            table("rtb-main", "vpc-1", route("0.0.0.0/0", "nat-1"), main=True),
            table("rtb-igw", "vpc-1", route("0.0.0.0/0", "igw-1"), subnets=("subnet-igw",)),
            table("rtb-tgw", "vpc-1", route("0.0.0.0/0", "tgw-1"), subnets=("subnet-tgw",)),
            table(
                "rtb-blackhole",
                "vpc-1",
                route("0.0.0.0/0", "nat-gone", "blackhole"),
                subnets=("subnet-blackhole",),
            ),
            table("rtb-unused", "vpc-1", route("0.0.0.0/0", "nat-1")),
            # Internet by default, but one S3 block and one DynamoDB block go to the NAT.
            table(
                "rtb-specific",
                "vpc-1",
                route("0.0.0.0/0", "igw-1"),
                route("52.218.0.0/17", "nat-1"),
                route("52.119.240.0/21", "nat-1"),
                subnets=("subnet-specific",),
            ),
            table(
                "rtb-private-dns",
                "vpc-2",
                route("0.0.0.0/0", "nat-2"),
                subnets=("subnet-private-dns",),
            ),
            # The main table of vpc-3 decides nothing: every subnet has its own table.
            table("rtb-vpc3-main", "vpc-3", route("0.0.0.0/0", "nat-3"), main=True),
            table("rtb-vpc3", "vpc-3", route("0.0.0.0/0", "igw-3"), subnets=("subnet-vpc3",)),
        ],
        vpc_endpoints=[
            endpoint("vpce-s3", "vpc-1", "s3", "Gateway", tables=("rtb-s3-endpoint",)),
            endpoint("vpce-s3-if", "vpc-2", "s3", private_dns=True),
            endpoint("vpce-ddb-if", "vpc-2", "dynamodb", private_dns=False),
        ],
    )


def test_401_flags_tables_whose_s3_traffic_uses_a_nat() -> None:
    assert flagged(rule_401, estate()) == {"rtb-nat", "rtb-main", "rtb-specific"}


def test_402_flags_tables_whose_dynamodb_traffic_uses_a_nat() -> None:
    assert flagged(rule_402, estate()) == {
        "rtb-nat",
        "rtb-s3-endpoint",
        "rtb-main",
        "rtb-specific",
        "rtb-private-dns",
    }


def test_message_names_the_unassociated_gateway_endpoint_and_the_subnets() -> None:
    found = findings(rule_401, estate())
    assert (
        "Gateway endpoint vpce-s3 exists in vpc-1 but is not associated" in found["rtb-nat"].message
    )
    assert "subnet-nat" in found["rtb-nat"].message
    assert "nat-1 (route 0.0.0.0/0)" in found["rtb-nat"].message
    assert "main route table" in found["rtb-main"].message
    assert "subnet-implicit" in found["rtb-main"].message
    assert "route 52.218.0.0/17" in found["rtb-specific"].message
    assert found["rtb-nat"].resource_arn.endswith(":route-table/rtb-nat")


def test_message_says_when_no_gateway_endpoint_exists() -> None:
    found = findings(rule_402, estate())
    assert "vpc-1 has no DynamoDB gateway endpoint" in found["rtb-nat"].message


def test_dynamodb_prefix_list_route_makes_402_clean() -> None:
    fixed = region(
        prefix_lists=service_prefix_lists(),
        subnets=[subnet("subnet-1", "vpc-1")],
        route_tables=[
            table(
                "rtb-1",
                "vpc-1",
                route("0.0.0.0/0", "nat-1"),
                route(DDB_PL, "vpce-d"),
                subnets=("subnet-1",),
            )
        ],
        vpc_endpoints=[endpoint("vpce-d", "vpc-1", "dynamodb", "Gateway", tables=("rtb-1",))],
    )
    assert flagged(rule_402, fixed) == set()
    assert flagged(rule_401, fixed) == {"rtb-1"}


def test_without_prefix_list_entries_the_region_is_skipped() -> None:
    broken = region(
        prefix_lists=service_prefix_lists(),
        subnets=[subnet("subnet-1", "vpc-1")],
        route_tables=[table("rtb-1", "vpc-1", route("0.0.0.0/0", "nat-1"), subnets=("subnet-1",))],
        errors=[error("prefix_list_entries", "GetManagedPrefixListEntries")],
    )
    assert flagged(rule_401, broken) == set()
    skips = skipped(rule_401, broken)
    assert [(s.resource_id, s.region) for s in skips] == [(None, "eu-west-1")]
    assert "GetManagedPrefixListEntries: AccessDenied" in skips[0].reason


def test_inbound_only_private_dns_does_not_carry_in_vpc_traffic() -> None:
    """PrivateDnsOnlyForInboundResolverEndpoint: in-VPC clients resolve public S3 addresses and
    follow the route table (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DnsOptionsSpecification.html)."""
    hybrid = region(
        prefix_lists=service_prefix_lists(),
        subnets=[subnet("subnet-1", "vpc-1")],
        route_tables=[table("rtb-1", "vpc-1", route("0.0.0.0/0", "nat-1"), subnets=("subnet-1",))],
        vpc_endpoints=[
            endpoint(
                "vpce-s3-if",
                "vpc-1",
                "s3",
                private_dns=True,
                private_dns_only_for_inbound_resolver=True,
            )
        ],
    )
    assert flagged(rule_401, hybrid) == {"rtb-1"}


def test_an_unreadable_prefix_list_skips_its_route_tables() -> None:
    """Failed GetManagedPrefixListEntries for one list: its service's tables are skipped, not
    judged on the default route alone."""
    from dataclasses import replace

    s3_list, ddb_list = service_prefix_lists()
    unread = region(
        prefix_lists=[replace(s3_list, cidrs=None), ddb_list],
        subnets=[subnet("subnet-1", "vpc-1")],
        route_tables=[table("rtb-1", "vpc-1", route("0.0.0.0/0", "nat-1"), subnets=("subnet-1",))],
        errors=[
            error("prefix_list_entries", "GetManagedPrefixListEntries", resource_id=S3_PL),
        ],
    )
    assert flagged(rule_401, unread) == set()
    (skip,) = skipped(rule_401, unread)
    assert skip.resource_id == "rtb-1"
    assert "GetManagedPrefixListEntries: AccessDenied" in skip.reason
    assert flagged(rule_402, unread) == {"rtb-1"}  # DynamoDB's list was read
