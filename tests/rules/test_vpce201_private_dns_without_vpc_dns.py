from __future__ import annotations

from tests.helpers import endpoint, findings, flagged, region, skipped, vpc
from vpce_audit.model import RegionSnapshot
from vpce_audit.rules.builtin.dns import private_dns_without_vpc_dns as rule


def estate() -> RegionSnapshot:
    return region(
        vpcs=[
            vpc("vpc-ok", dns=(True, True)),
            vpc("vpc-nohostnames", dns=(True, False)),
            vpc("vpc-nosupport", dns=(False, True)),
            vpc("vpc-unknown", dns=(None, True)),
        ],
        vpc_endpoints=[
            endpoint("vpce-ok", "vpc-ok", "ssm", private_dns=True),
            endpoint("vpce-hostnames", "vpc-nohostnames", "ssm", private_dns=True),
            endpoint("vpce-no-private-dns", "vpc-nohostnames", "ssm", private_dns=False),
            endpoint("vpce-gateway", "vpc-nohostnames", "s3", "Gateway"),
            endpoint("vpce-support", "vpc-nosupport", "sts", private_dns=True),
            endpoint("vpce-deleting", "vpc-nosupport", "sts", private_dns=True, state="deleting"),
            endpoint("vpce-unknown", "vpc-unknown", "sts", private_dns=True),
        ],
    )


def test_flags_private_dns_endpoints_in_vpcs_without_dns() -> None:
    assert flagged(rule, estate()) == {"vpce-hostnames", "vpce-support"}


def test_message_names_the_disabled_attribute() -> None:
    found = findings(rule, estate())
    assert "enableDnsHostnames is false" in found["vpce-hostnames"].message
    assert "bypass the endpoint" in found["vpce-hostnames"].message
    # Without the DNS server, nothing resolves: an outage, not a silent fallback.
    assert "enableDnsSupport is false" in found["vpce-support"].message
    assert "cannot resolve any name" in found["vpce-support"].message
    assert found["vpce-support"].related_resources == ("vpc-nosupport",)


def test_unknown_dns_attributes_are_skipped() -> None:
    assert [s.resource_id for s in skipped(rule, estate())] == ["vpce-unknown"]


def test_a_skip_carries_the_collection_error_that_caused_it() -> None:
    from tests.helpers import error

    broken = region(
        vpcs=[vpc("vpc-unread", dns=(None, None))],
        vpc_endpoints=[endpoint("vpce-1", "vpc-unread", "ssm", private_dns=True)],
        errors=[error("vpc_attributes", "DescribeVpcAttribute", resource_id="vpc-unread")],
    )
    (skip,) = skipped(rule, broken)
    assert skip.resource_id == "vpce-1"
    assert skip.reason == (
        "DNS attributes of vpc-unread were not collected (DescribeVpcAttribute: AccessDenied)"
    )
