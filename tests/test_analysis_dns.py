"""DNS reasoning: which zone answers, what records mean, which addresses are the resolver."""

from __future__ import annotations

import dataclasses
from typing import Any

from tests.helpers import (
    ACCOUNT,
    OTHER_ACCOUNT,
    REGION,
    endpoint,
    region,
    snapshot,
    vpc,
)
from tests.helpers import service as aws_service
from vpce_audit.analysis.dns import (
    amazon_resolver_addresses,
    answering_records,
    answering_zone,
    canonical_address,
    endpoint_id_in_dns_name,
    zone_may_answer_for_aws_services,
)
from vpce_audit.analysis.endpoint_dns import CentralDns, ServiceResolution
from vpce_audit.model import (
    AccountSnapshot,
    DhcpOptions,
    HostedZone,
    HostedZoneVpc,
    ResourceRecordSet,
    Vpc,
    VpcZones,
)
from vpce_audit.snapshot.views import Snapshot


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


def _resolution_estate() -> tuple[Snapshot, list[str]]:
    """VPCs in every situation that decides how a service name resolves: alike pairs, and
    pairs that differ in one thing only."""
    dns_off, custom = (False, True), "dopt-custom"
    vpcs = [
        vpc("vpc-plain1"),
        vpc("vpc-plain2"),  # alike: no zone, no endpoint, Amazon DNS
        vpc("vpc-ssm1"),
        vpc("vpc-ssm2"),  # alike: their own SSM endpoints answer ssm's name
        vpc("vpc-ssmoff", dns=dns_off),  # the same endpoint, but DNS off: public
        vpc("vpc-unlisted"),  # its zone list could not be read
        dataclasses.replace(vpc("vpc-custom"), dhcp_options_id=custom),
        dataclasses.replace(vpc("vpc-customssm"), dhcp_options_id=custom),
        vpc("vpc-zoned"),  # a zone answers: judged from the VPC, not shared
    ]
    endpoints = [
        endpoint(f"vpce-{name}", f"vpc-{name}", "ssm", private_dns=True)
        for name in ("ssm1", "ssm2", "ssmoff", "customssm")
    ]
    estate = region(
        vpcs=vpcs,
        vpc_endpoints=endpoints,
        dhcp_options=[DhcpOptions(custom, ("192.0.2.53",))],  # not the Amazon resolver
    )
    account = AccountSnapshot(
        ACCOUNT,
        "2026-11-26T00:00:00Z",
        hosted_zones=(
            HostedZone(
                "Z1",
                "sts.eu-west-1.amazonaws.com.",
                True,
                (HostedZoneVpc("vpc-zoned", REGION),),
                records=(),
            ),
        ),
        vpc_zones=(VpcZones("vpc-unlisted", REGION, None),),
    )
    return snapshot(estate, accounts=(account,)), [v.vpc_id for v in vpcs]


def test_vpcs_alike_in_dns_share_one_resolution_and_no_other_does() -> None:
    estate, vpc_ids = _resolution_estate()
    scope = estate.scopes[0]
    shared = CentralDns(estate)
    worked_out: list[str] = []
    resolve = shared._resolution

    def counted(*args: Any) -> ServiceResolution:
        worked_out.append(args[1])
        return resolve(*args)

    shared._resolution = counted  # type: ignore[method-assign]
    fates: dict[tuple[str, str], set[str]] = {}
    for vpc_id in vpc_ids:
        for service in ("ssm", "sts", "s3"):
            alone = CentralDns(estate).resolution(scope, vpc_id, service)
            assert shared.resolution(scope, vpc_id, service) == alone, (vpc_id, service)
            fates[vpc_id, service] = {fate.value for _, fate in alone.fates}
    # What AWS does, per situation (the shared answers equal these, above).
    assert fates["vpc-plain1", "ssm"] == fates["vpc-plain2", "sts"] == {"public"}
    assert fates["vpc-ssm1", "ssm"] == fates["vpc-ssm2", "ssm"] == {"central"}
    assert fates["vpc-ssm1", "sts"] == {"public"}
    assert fates["vpc-ssmoff", "ssm"] == {"public"}  # private DNS needs the VPC's DNS
    assert fates["vpc-unlisted", "ssm"] == {"unknown"}
    assert fates["vpc-custom", "ssm"] == {"public"}  # nothing private to forward to
    assert fates["vpc-customssm", "ssm"] == {"unknown"}  # its servers may not forward
    assert fates["vpc-zoned", "sts"] == {"broken"}  # the zone has no record: NXDOMAIN
    # The second of each alike pair was not worked out again; the zoned VPC always is.
    assert worked_out.count("vpc-plain2") == 0
    assert worked_out.count("vpc-ssm2") == 0
    assert worked_out.count("vpc-zoned") == 3


def test_accounts_that_saw_one_catalogue_share_answers_and_another_catalogue_does_not() -> None:
    """The client names come from the catalogue an account-region saw: accounts that saw the
    same one (one shared tuple, as the snapshot reader makes it) resolve alike; an account whose
    catalogue gives the service other names is answered on its own."""
    catalogue = (aws_service("ssm", private_dns_names=("ssm.eu-west-1.amazonaws.com",)),)
    renamed = (aws_service("ssm", private_dns_names=("ssm.other.example",)),)
    accounts = ["111111111111", "222222222222", "333333333333"]
    scopes = [
        region(account, vpcs=[vpc("vpc-1")], endpoint_service_details=details)
        for account, details in zip(accounts, (catalogue, catalogue, renamed), strict=True)
    ]
    estate = snapshot(*scopes)
    shared = CentralDns(estate)
    worked_out: list[str] = []
    resolve = shared._resolution

    def counted(*args: Any) -> ServiceResolution:
        worked_out.append(args[0].account_id)
        return resolve(*args)

    shared._resolution = counted  # type: ignore[method-assign]
    answers = {}
    for scope in estate.scopes:
        alone = CentralDns(estate).resolution(scope, "vpc-1", "ssm")
        answers[scope.account_id] = shared.resolution(scope, "vpc-1", "ssm")
        assert answers[scope.account_id] == alone
    assert [name for name, _ in answers["111111111111"].fates] == ["ssm.eu-west-1.amazonaws.com"]
    assert [name for name, _ in answers["333333333333"].fates] == ["ssm.other.example"]
    assert worked_out == ["111111111111", "333333333333"]


def test_a_shared_vpc_resolves_as_each_scope_sees_it_whichever_asks_first() -> None:
    # The owner's scope lists its interface endpoint in the shared VPC; the participant's lists
    # none. Each answer is its scope's, not that of the scope asked about the VPC first.
    owner = region(
        ACCOUNT,
        vpcs=[vpc("vpc-shared")],
        vpc_endpoints=[endpoint("vpce-1", "vpc-shared", "ssm", private_dns=True)],
    )
    participant = region(OTHER_ACCOUNT, vpcs=[vpc("vpc-shared", owner=ACCOUNT)])
    estate = snapshot(owner, participant)
    owner_scope, participant_scope = estate.scopes
    assert owner_scope.account_id == ACCOUNT
    for first, second in ((owner_scope, participant_scope), (participant_scope, owner_scope)):
        central = CentralDns(estate)
        answers = {
            scope.account_id: {
                f.value for _, f in central.resolution(scope, "vpc-shared", "ssm").fates
            }
            for scope in (first, second)
        }
        assert answers == {ACCOUNT: {"central"}, OTHER_ACCOUNT: {"public"}}
