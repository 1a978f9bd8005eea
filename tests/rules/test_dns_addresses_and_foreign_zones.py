"""Private zones the scanned account does not own, and A / AAAA records.

A spoke is often associated with zones of a central networking account;
ListHostedZonesByVPC lists them "regardless of which AWS account or AWS service owns" them
(https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListHostedZonesByVPC.html), but
their records cannot be read from the spoke's account. Rules that depend on what such a zone
answers skip instead of guessing. A records point at an interface endpoint when they hold its
network interfaces' addresses (the whitepaper's centralised pattern uses alias records, but A
records to the interfaces' IPs work the same:
https://docs.aws.amazon.com/whitepapers/latest/building-scalable-secure-multi-vpc-network-infrastructure/centralized-access-to-vpc-private-endpoints.html).
"""

from __future__ import annotations

import dataclasses

from tests.helpers import (
    ACCOUNT,
    REGION,
    endpoint,
    ingress,
    peering,
    region,
    route,
    security_group,
    service,
    service_prefix_lists,
    snapshot,
    subnet,
    table,
    vpc,
)
from vpce_audit.model import (
    AccountSnapshot,
    EndpointInterface,
    HostedZone,
    HostedZoneVpc,
    ProfileAssociation,
    ProfileResource,
    RegionSnapshot,
    ResourceRecordSet,
    VpcZones,
    ZoneSummary,
)
from vpce_audit.rules.base import Rule, Settings
from vpce_audit.rules.builtin.coverage import required_endpoint_missing
from vpce_audit.rules.builtin.dns import (
    centralised_endpoint_dns_broken,
    interface_endpoint_without_private_dns,
)
from vpce_audit.rules.builtin.routing import s3_traffic_via_nat
from vpce_audit.rules.engine import EvaluationResult, evaluate

SSM = f"ssm.{REGION}.amazonaws.com"
KMS = f"kms.{REGION}.amazonaws.com"


def hub_and_spoke() -> RegionSnapshot:
    """A spoke peered with a hub whose ssm and kms interface endpoints have two interfaces
    each; the spoke's default route goes to a NAT gateway."""
    return region(
        prefix_lists=service_prefix_lists(),
        endpoint_service_details=[
            service("ssm", private_dns_names=(SSM,)),
            service("kms", private_dns_names=(KMS,)),
            service("sts", private_dns_names=(f"sts.{REGION}.amazonaws.com",)),
        ],
        vpcs=[vpc("vpc-hub", "10.30.0.0/16"), vpc("vpc-spoke", "10.31.0.0/16")],
        subnets=[
            subnet("subnet-hub-a", "vpc-hub", "a", "10.30.1.0/24"),
            subnet("subnet-hub-b", "vpc-hub", "b", "10.30.2.0/24"),
            subnet("subnet-spoke", "vpc-spoke", "a", "10.31.1.0/24"),
        ],
        route_tables=[
            table(
                "rtb-hub",
                "vpc-hub",
                route("10.31.0.0/16", "pcx-1"),
                subnets=("subnet-hub-a", "subnet-hub-b"),
            ),
            table(
                "rtb-spoke",
                "vpc-spoke",
                route("10.30.0.0/16", "pcx-1"),
                route("0.0.0.0/0", "nat-1"),
                subnets=("subnet-spoke",),
            ),
        ],
        peering_connections=[peering("pcx-1", "vpc-spoke", "vpc-hub")],
        security_groups=[security_group("sg-hub", "vpc-hub", ingress("10.0.0.0/8"))],
        vpc_endpoints=[
            endpoint(
                "vpce-ssm",
                "vpc-hub",
                "ssm",
                subnets=("subnet-hub-a", "subnet-hub-b"),
                groups=("sg-hub",),
                network_interface_ids=("eni-ssm-a", "eni-ssm-b"),
            ),
            endpoint(
                "vpce-kms",
                "vpc-hub",
                "kms",
                subnets=("subnet-hub-a", "subnet-hub-b"),
                groups=("sg-hub",),
                network_interface_ids=("eni-kms-a",),
            ),
        ],
        endpoint_interfaces=[
            EndpointInterface("eni-ssm-a", "vpc-hub", "subnet-hub-a", ("10.30.1.10",)),
            EndpointInterface("eni-ssm-b", "vpc-hub", "subnet-hub-b", ("10.30.2.10",)),
            EndpointInterface("eni-kms-a", "vpc-hub", "subnet-hub-a", ("10.30.1.20",)),
        ],
    )


def a_zone(zone_id: str, name: str, *addresses: str, vpc_ids: tuple[str, ...]) -> HostedZone:
    return HostedZone(
        zone_id,
        name,
        True,
        tuple(HostedZoneVpc(v, REGION) for v in vpc_ids),
        (
            ResourceRecordSet(name, "SOA", values=("ns-1.awsdns-00.com. admin. 1 7200 900",)),
            ResourceRecordSet(name, "A", values=addresses),
        ),
    )


def run(
    rule: Rule,
    estate: RegionSnapshot,
    zones: tuple[HostedZone, ...] = (),
    listed: tuple[VpcZones, ...] = (),
) -> EvaluationResult:
    account = AccountSnapshot(ACCOUNT, "2026-11-26T00:00:00Z", hosted_zones=zones, vpc_zones=listed)
    result = evaluate(snapshot(estate, accounts=(account,)), [rule], Settings())
    assert not result.rule_errors, result.rule_errors
    return result


def test_207_judges_a_records_that_hold_an_endpoints_addresses() -> None:
    estate = hub_and_spoke()
    healthy = a_zone("Z1", SSM, "10.30.1.10", "10.30.2.10", vpc_ids=("vpc-spoke",))
    assert run(centralised_endpoint_dns_broken, estate, (healthy,)).findings == ()
    # The same addresses for kms: an endpoint of another service answers for kms.
    wrong = a_zone("Z2", KMS, "10.30.1.10", "10.30.2.10", vpc_ids=("vpc-spoke",))
    (finding,) = run(centralised_endpoint_dns_broken, estate, (wrong,)).findings
    assert "points at vpce-ssm, an endpoint for com.amazonaws.eu-west-1.ssm" in finding.message


def test_207_and_202_skip_a_records_whose_addresses_are_no_known_endpoint() -> None:
    """10.30.9.9 may be another account's endpoint or a proxy: neither rule may call it
    broken, or call the name unresolved."""
    estate = hub_and_spoke()
    unknown = a_zone("Z1", SSM, "10.30.9.9", vpc_ids=("vpc-spoke", "vpc-hub"))
    central = run(centralised_endpoint_dns_broken, estate, (unknown,))
    assert central.findings == ()
    assert {s.resource_id for s in central.skipped} == {"vpc-spoke", "vpc-hub"}
    assert "10.30.9.9" in central.skipped[0].reason
    # A second ssm endpoint in the hub without private DNS: the zone answers, with addresses
    # the snapshot cannot attribute.
    with_local = dataclasses.replace(
        estate,
        vpc_endpoints=(endpoint("vpce-local", "vpc-hub", "ssm"),),
        route_tables=(),
        peering_connections=(),
        security_groups=(),
        endpoint_interfaces=(),
    )
    local = run(interface_endpoint_without_private_dns, with_local, (unknown,))
    assert local.findings == ()
    assert [s.resource_id for s in local.skipped] == ["vpce-local"]


def test_202_accepts_a_records_to_an_endpoint_of_the_service() -> None:
    estate = hub_and_spoke()
    spoke_endpoint = endpoint("vpce-spoke-ssm", "vpc-spoke", "ssm")
    estate = dataclasses.replace(estate, vpc_endpoints=(*estate.vpc_endpoints, spoke_endpoint))
    covered = a_zone("Z1", SSM, "10.30.1.10", "10.30.2.10", vpc_ids=("vpc-spoke",))
    result = run(interface_endpoint_without_private_dns, estate, (covered,))
    # The hub's own endpoints have neither private DNS nor a zone in the hub; the spoke's is
    # covered by the zone's A records to the hub's ssm endpoint.
    assert {f.resource_id for f in result.findings} == {"vpce-ssm", "vpce-kms"}


def _foreign(zone_id: str, name: str) -> VpcZones:
    return VpcZones(
        "vpc-spoke", REGION, (ZoneSummary(zone_id, name, owner_account="222222222222"),)
    )


def test_a_zone_of_another_account_makes_nat_and_coverage_rules_skip() -> None:
    """The network account's s3 and ssm zones may send the spoke to the hub: without their
    records, VPCE401 and VPCE601 cannot say the spoke goes through its NAT."""
    estate = hub_and_spoke()
    nothing_listed = run(s3_traffic_via_nat, estate)
    assert [f.resource_id for f in nothing_listed.findings] == ["rtb-spoke"]
    listed = (
        VpcZones(
            "vpc-spoke",
            REGION,
            (
                ZoneSummary("ZS3", f"s3.{REGION}.amazonaws.com.", owner_account="222222222222"),
                ZoneSummary("ZSSM", f"{SSM}.", owner_account="222222222222"),
            ),
        ),
    )
    nat = run(s3_traffic_via_nat, estate, listed=listed)
    assert nat.findings == ()
    assert [s.resource_id for s in nat.skipped] == ["rtb-spoke"]
    coverage = run(required_endpoint_missing, estate, listed=listed)
    (finding,) = [f for f in coverage.findings if f.resource_id == "vpc-spoke"]
    # ssm may resolve to the hub through the foreign zone; the others are certainly missing.
    assert "no endpoint for ssmmessages, ec2messages, sts, logs" in finding.message
    assert "Whether ssm resolve to a central endpoint could not be told" in finding.message


def test_zones_that_could_not_be_listed_make_the_vpcs_answers_unknown() -> None:
    estate = hub_and_spoke()
    unread = (VpcZones("vpc-spoke", REGION, None),)
    nat = run(s3_traffic_via_nat, estate, listed=unread)
    assert nat.findings == ()
    assert "could not be read" in nat.skipped[0].reason
    # A zone of another account for unrelated names changes nothing.
    unrelated = run(s3_traffic_via_nat, estate, listed=(_foreign("ZX", "corp.example."),))
    assert [f.resource_id for f in unrelated.findings] == ["rtb-spoke"]


def test_207_flags_a_central_zone_that_leaves_some_of_the_services_names_unanswered() -> None:
    """A zone answers NXDOMAIN for the names it holds no record for, without falling back to
    public DNS (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/hosted-zone-private-considerations.html):
    an S3 zone with only the apex record breaks every virtual-hosted-style request."""
    base = hub_and_spoke()
    s3_endpoint = endpoint(
        "vpce-s3",
        "vpc-hub",
        "s3",
        subnets=("subnet-hub-a",),
        groups=("sg-hub",),
        network_interface_ids=("eni-s3-a",),
    )
    estate = dataclasses.replace(
        base,
        vpc_endpoints=(*base.vpc_endpoints, s3_endpoint),
        endpoint_interfaces=(
            *base.endpoint_interfaces,
            EndpointInterface("eni-s3-a", "vpc-hub", "subnet-hub-a", ("10.30.1.30",)),
        ),
    )
    apex_only = a_zone("Z1", f"s3.{REGION}.amazonaws.com", "10.30.1.30", vpc_ids=("vpc-spoke",))
    (finding,) = run(centralised_endpoint_dns_broken, estate, (apex_only,)).findings
    assert f"holds no record for *.s3.{REGION}.amazonaws.com" in finding.message
    both = HostedZone(
        "Z1",
        f"s3.{REGION}.amazonaws.com",
        True,
        (HostedZoneVpc("vpc-spoke", REGION),),
        (
            ResourceRecordSet(f"s3.{REGION}.amazonaws.com", "A", values=("10.30.1.30",)),
            ResourceRecordSet(f"*.s3.{REGION}.amazonaws.com", "A", values=("10.30.1.30",)),
        ),
    )
    assert run(centralised_endpoint_dns_broken, estate, (both,)).findings == ()


def _with_profile(estate: RegionSnapshot, *resources: ProfileResource | None) -> RegionSnapshot:
    """The spoke associated with a Route 53 Profile carrying ``resources`` (None: unreadable)."""
    carried = None if resources == (None,) else tuple(r for r in resources if r is not None)
    association = ProfileAssociation("rpassoc-1", "rp-central", "vpc-spoke", "COMPLETE", carried)
    return dataclasses.replace(estate, profile_associations=(association,))


def test_zones_a_route_53_profile_carries_apply_in_the_vpc() -> None:
    """Profiles associate hosted zones, endpoints and Resolver rules with VPCs, and
    ListHostedZonesByVPC does not show them
    (https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListHostedZonesByVPC.html)."""
    base = hub_and_spoke()
    s3_endpoint = endpoint(
        "vpce-s3", "vpc-hub", "s3", subnets=("subnet-hub-a",), groups=("sg-hub",)
    )
    estate = dataclasses.replace(base, vpc_endpoints=(*base.vpc_endpoints, s3_endpoint))
    # The network account's zone, scanned, associated with no VPC directly.
    target = f"vpce-s3-1a2b3c4d.s3.{REGION}.vpce.amazonaws.com"
    name = f"s3.{REGION}.amazonaws.com"
    central = HostedZone(
        "ZS3",
        name,
        True,
        (),
        (
            ResourceRecordSet(name, "A", alias_target=target),
            ResourceRecordSet(f"*.{name}", "A", alias_target=target),
        ),
    )
    zone_arn = "arn:aws:route53:::hostedzone/ZS3"
    assert [f.resource_id for f in run(s3_traffic_via_nat, estate, (central,)).findings] == [
        "rtb-spoke"
    ]
    carried = _with_profile(estate, ProfileResource("AWS::Route53::HostedZone", zone_arn))
    assert run(s3_traffic_via_nat, carried, (central,)).findings == ()
    # A profile that carries what the scan cannot place: the answer is unknown, not "NAT".
    for unknown in (
        _with_profile(estate, None),
        _with_profile(
            estate,
            ProfileResource(
                "AWS::EC2::VPCEndpoint", "arn:aws:ec2:eu-west-1:222222222222:vpc-endpoint/vpce-9"
            ),
        ),
        _with_profile(
            estate,
            ProfileResource("AWS::Route53::HostedZone", "arn:aws:route53:::hostedzone/ZOTHER"),
        ),
    ):
        result = run(s3_traffic_via_nat, unknown, (central,))
        assert result.findings == ()
        assert [s.resource_id for s in result.skipped] == ["rtb-spoke"]


def test_an_answer_for_a_shared_vpc_beats_a_failure_whatever_the_account_order() -> None:
    estate = hub_and_spoke()
    answered = VpcZones("vpc-spoke", REGION, ())
    failed = VpcZones("vpc-spoke", REGION, None)
    for first, second in ((answered, failed), (failed, answered)):
        accounts = (
            AccountSnapshot(ACCOUNT, "2026-11-26T00:00:00Z", vpc_zones=(first,)),
            AccountSnapshot("222222222222", "2026-11-26T00:00:00Z", vpc_zones=(second,)),
        )
        view = snapshot(estate, accounts=accounts)
        (scope,) = [s for s in view.scopes if s.region == REGION]
        assert view.zone_list_known(scope, "vpc-spoke")
