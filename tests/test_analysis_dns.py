"""DNS reasoning: which zone answers, what records mean, which addresses are the resolver."""

from __future__ import annotations

from vpce_audit.analysis.dns import (
    amazon_resolver_addresses,
    answering_records,
    answering_zone,
    canonical_address,
    endpoint_id_in_dns_name,
    zone_may_answer_for_aws_services,
)
from vpce_audit.model import HostedZone, ResourceRecordSet, Vpc


def test_zones_whose_records_decide_aws_service_names() -> None:
    for name in (
        "com.",
        "amazonaws.com",
        "eu-west-1.amazonaws.com.",
        "ssm.eu-west-1.amazonaws.com",
        "s3.cn-north-1.amazonaws.com.cn",
        "api.aws",
    ):
        assert zone_may_answer_for_aws_services(name), name
    for name in ("corp.internal.", "example.com", "notamazonaws.com", ""):
        assert not zone_may_answer_for_aws_services(name), name


def test_the_most_specific_zone_answers() -> None:
    zones = [
        HostedZone("Z1", "amazonaws.com.", True),
        HostedZone("Z2", "ssm.eu-west-1.amazonaws.com.", True),
    ]
    assert answering_zone(zones, "ssm.eu-west-1.amazonaws.com") == zones[1]
    assert answering_zone(zones, "sts.eu-west-1.amazonaws.com") == zones[0]
    assert answering_zone(zones, "example.org") is None


def test_exact_records_win_over_wildcards_and_a_zone_without_a_record_is_nxdomain() -> None:
    zone = HostedZone(
        "Z1",
        "s3.eu-west-1.amazonaws.com",
        True,
        records=(
            ResourceRecordSet("s3.eu-west-1.amazonaws.com", "A", alias_target="apex"),
            ResourceRecordSet("*.s3.eu-west-1.amazonaws.com", "A", alias_target="wild"),
            ResourceRecordSet("s3.eu-west-1.amazonaws.com", "TXT", values=("x",)),
        ),
    )
    assert [
        r.alias_target for r in answering_records(zone, "s3.eu-west-1.amazonaws.com") or ()
    ] == ["apex"]
    assert [
        r.alias_target for r in answering_records(zone, "bucket.s3.eu-west-1.amazonaws.com") or ()
    ] == ["wild"]
    empty = HostedZone("Z2", "amazonaws.com", True, records=())
    assert answering_records(empty, "sts.eu-west-1.amazonaws.com") == ()
    unread = HostedZone("Z3", "amazonaws.com", True, records=None)
    assert answering_records(unread, "sts.eu-west-1.amazonaws.com") is None


def test_endpoint_ids_in_endpoint_dns_names() -> None:
    assert (
        endpoint_id_in_dns_name("vpce-0123456789abcdef0-a1b2c3d4.ssm.eu-west-1.vpce.amazonaws.com.")
        == "vpce-0123456789abcdef0"
    )
    assert (
        endpoint_id_in_dns_name(
            "*.vpce-0123456789abcdef0-a1b2c3d4-eu-west-1a.s3.eu-west-1.vpce.amazonaws.com"
        )
        == "vpce-0123456789abcdef0"
    )
    assert endpoint_id_in_dns_name("s3.eu-west-1.amazonaws.com") is None


def test_the_amazon_resolver_is_the_primary_block_base_plus_two_and_the_link_local_names() -> None:
    """https://docs.aws.amazon.com/vpc/latest/userguide/AmazonDNS-concepts.html"""
    vpc = Vpc("vpc-1", "111111111111", ("10.9.0.0/16", "10.10.0.0/16"))
    assert amazon_resolver_addresses(vpc) == {"10.9.0.2", "169.254.169.253", "fd00:ec2::253"}
    assert canonical_address("fd00:ec2:0::253") == "fd00:ec2::253"
