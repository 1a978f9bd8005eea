"""An interface endpoint's IpAddressType says how its clients reach it: an 'ipv4' endpoint by
IPv4 only, an 'ipv6' one (in IPv6-only subnets) by IPv6 only, a 'dualstack' one by either
(https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpcEndpoint.html: "ipv6 -
Assign IPv6 addresses to the endpoint network interfaces. This option is supported only if all
selected subnets are IPv6 only subnets"). VPCE303 and VPCE307 judge the VPC's blocks of those
families; where the type is unknown (a snapshot before schema 8), VPCE303 accepts either and
VPCE307 judges IPv4, as before."""

from __future__ import annotations

import dataclasses

import pytest

from tests.helpers import endpoint, findings, flagged, ingress, region, security_group, subnet, vpc
from vpce_audit.collect import translate
from vpce_audit.model import NetworkAcl, NetworkAclEntry, RegionSnapshot, Vpc
from vpce_audit.rules.builtin.security_groups import (
    endpoint_nacl_blocks_vpc,
    endpoint_sg_blocks_vpc,
)

V6 = "2600:1f18:1234:5600::/56"


def _dual_stack_vpc() -> Vpc:
    return dataclasses.replace(vpc("vpc-1", "10.0.0.0/16"), ipv6_cidr_blocks=(V6,))


def _groups_estate(address_type: str | None, source: str) -> RegionSnapshot:
    return region(
        vpcs=[_dual_stack_vpc()],
        security_groups=[security_group("sg-1", "vpc-1", ingress(source))],
        vpc_endpoints=[
            dataclasses.replace(
                endpoint("vpce-1", "vpc-1", "ssm", groups=("sg-1",)),
                ip_address_type=address_type,
            )
        ],
    )


@pytest.mark.parametrize(
    ("address_type", "source", "blocked"),
    [
        ("ipv6", "10.0.0.0/16", True),  # no IPv4 address: an IPv4 rule admits none of its clients
        ("ipv6", V6, False),
        ("ipv4", V6, True),  # no IPv6 address: an IPv6 rule admits none
        ("ipv4", "10.0.0.0/16", False),
        ("dualstack", V6, False),
        ("dualstack", "10.0.0.0/16", False),
        (None, V6, False),  # unknown: either family, as before schema 8
    ],
)
def test_303_judges_the_blocks_of_the_endpoints_address_family(
    address_type: str | None, source: str, blocked: bool
) -> None:
    found = findings(endpoint_sg_blocks_vpc, _groups_estate(address_type, source))
    assert set(found) == ({"vpce-1"} if blocked else set())
    if blocked:  # the message names the blocks its clients come from
        blocks = V6 if address_type == "ipv6" else "10.0.0.0/16"
        assert f"from vpc-1 ({blocks}): the endpoint is unusable" in found["vpce-1"].message


def _acl_estate(address_type: str | None) -> RegionSnapshot:
    """The network ACL of IPv6-only subnets: it allows all IPv6 both ways and nothing over IPv4
    (its subnets have no IPv4), so AWS's final rules deny IPv4."""
    entries = (
        NetworkAclEntry(100, False, "-1", "allow", None, "::/0"),
        NetworkAclEntry(100, True, "-1", "allow", None, "::/0"),
        NetworkAclEntry(32767, False, "-1", "deny", "0.0.0.0/0"),
        NetworkAclEntry(32767, True, "-1", "deny", "0.0.0.0/0"),
        NetworkAclEntry(32768, False, "-1", "deny", None, "::/0"),
        NetworkAclEntry(32768, True, "-1", "deny", None, "::/0"),
    )
    return region(
        vpcs=[_dual_stack_vpc()],
        subnets=[subnet("subnet-a", "vpc-1")],
        network_acls=[NetworkAcl("acl-v6", "vpc-1", False, ("subnet-a",), entries)],
        vpc_endpoints=[
            dataclasses.replace(
                endpoint("vpce-1", "vpc-1", "ssm", subnets=("subnet-a",)),
                ip_address_type=address_type,
            )
        ],
    )


@pytest.mark.parametrize(
    ("address_type", "blocked"),
    [("ipv6", False), ("ipv4", True), ("dualstack", True), (None, True)],
)
def test_307_an_ipv6_only_endpoint_is_judged_by_its_ipv6_paths(
    address_type: str | None, blocked: bool
) -> None:
    found = flagged(endpoint_nacl_blocks_vpc, _acl_estate(address_type))
    assert found == ({"vpce-1"} if blocked else set())


def test_307_an_ipv6_only_endpoint_whose_acl_denies_ipv6_is_reported() -> None:
    estate = _acl_estate("ipv6")
    (acl,) = estate.network_acls
    denying = dataclasses.replace(acl, entries=acl.entries[2:])  # only the final deny rules
    assert flagged(
        endpoint_nacl_blocks_vpc, dataclasses.replace(estate, network_acls=(denying,))
    ) == {"vpce-1"}


def test_the_address_type_is_read_as_aws_gives_it() -> None:
    item = {
        "VpcEndpointId": "vpce-1",
        "VpcEndpointType": "Interface",
        "VpcId": "vpc-1",
        "ServiceName": "com.amazonaws.eu-west-1.ssm",
        "State": "available",
        "IpAddressType": "ipv6",
    }
    assert translate.vpc_endpoint(item).ip_address_type == "ipv6"
    del item["IpAddressType"]  # a gateway endpoint's answer may lack it: unknown
    assert translate.vpc_endpoint(item).ip_address_type is None
