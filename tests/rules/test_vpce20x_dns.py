"""2xx DNS rules against AWS's documented behaviour.

Route 53 answers from the most specific private hosted zone associated with the VPC and returns
NXDOMAIN for names that zone holds no record for
(https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/hosted-zone-private-considerations.html);
centralised endpoints are private zones named after the service with an alias to the hub
endpoint (https://docs.aws.amazon.com/whitepapers/latest/building-scalable-secure-multi-vpc-network-infrastructure/centralized-access-to-vpc-private-endpoints.html).
"""

from __future__ import annotations

import dataclasses

import pytest

from tests.helpers import (
    ACCOUNT,
    REGION,
    endpoint,
    flagged,
    ingress,
    peering,
    region,
    route,
    security_group,
    service,
    snapshot,
    subnet,
    table,
    vpc,
)
from vpce_audit.analysis.dns import endpoint_region_in_dns_name
from vpce_audit.analysis.endpoint_dns import Resolver
from vpce_audit.findings import Severity
from vpce_audit.model import (
    AccountSnapshot,
    DhcpOptions,
    EndpointServiceDetail,
    HostedZone,
    HostedZoneVpc,
    RegionSnapshot,
    ResolverEndpoint,
    ResolverRule,
    ResourceRecordSet,
    Vpc,
)
from vpce_audit.rules.base import Rule, Settings
from vpce_audit.rules.builtin.dns import (
    centralised_endpoint_dns_broken,
    dhcp_custom_dns_servers,
    duplicate_interface_endpoint,
    interface_endpoint_without_private_dns,
    private_zone_shadows_aws_names,
)
from vpce_audit.rules.engine import EvaluationResult, evaluate


def run_with(
    rule: Rule,
    estate: RegionSnapshot,
    *zones: HostedZone,
    members: tuple[str, ...] | None = None,
    others: tuple[RegionSnapshot, ...] = (),
) -> EvaluationResult:
    """``rule`` over the estate (ACCOUNT's, holding ``zones``) and ``others``' account-regions."""
    account = AccountSnapshot(
        ACCOUNT,
        "2026-11-26T00:00:00Z",
        organization_id="o-trusted0001" if members is not None else None,
        organization_member_ids=members,
        hosted_zones=zones,
    )
    accounts = (
        account,
        *(
            AccountSnapshot(a, "2026-11-26T00:00:00Z")
            for a in sorted({o.account_id for o in others})
        ),
    )
    result = evaluate(snapshot(estate, *others, accounts=accounts), [rule], Settings())
    assert not result.rule_errors, result.rule_errors
    return result


def with_dns(short: str, *names: str) -> EndpointServiceDetail:
    return service(short, private_dns_names=names)


def zone(
    zone_id: str,
    name: str,
    *vpc_ids: str,
    records: dict[str, str] | None = None,
    unread: bool = False,
) -> HostedZone:
    """A private zone associated with the VPCs (in REGION); records: name -> alias target."""
    return HostedZone(
        zone_id,
        name,
        True,
        tuple(HostedZoneVpc(v, REGION) for v in vpc_ids),
        records=None
        if unread
        else tuple(
            ResourceRecordSet(n, "A", alias_target=target) for n, target in (records or {}).items()
        ),
    )


def alias(endpoint_id: str, short: str) -> str:
    """An interface endpoint's regional DNS name, as the alias target of a centralised zone."""
    return f"{endpoint_id}-1a2b3c4d.{short}.{REGION}.vpce.amazonaws.com"


# -- VPCE202 -----------------------------------------------------------------------------------


def test_202_needs_a_record_pointing_at_an_endpoint_of_the_service() -> None:
    estate = region(
        endpoint_service_details=[
            with_dns("ssm", "ssm.eu-west-1.amazonaws.com"),
            with_dns("kms", "kms.eu-west-1.amazonaws.com"),
            with_dns("sts", "sts.eu-west-1.amazonaws.com"),
            with_dns("nodns"),
        ],
        vpc_endpoints=[
            # vpc-1: another ssm endpoint's private DNS answers: clean.
            endpoint("vpce-0a1", "vpc-1", "ssm", private_dns=False),
            endpoint("vpce-0a2", "vpc-1", "ssm", private_dns=True),
            # vpc-2: nothing answers ssm.
            endpoint("vpce-0b1", "vpc-2", "ssm", private_dns=False),
            # vpc-3: a zone with an alias record to this kms endpoint: clean.
            endpoint("vpce-0c1", "vpc-3", "kms", private_dns=False),
            # vpc-4: a kms zone without a record (NXDOMAIN).
            endpoint("vpce-0d1", "vpc-4", "kms", private_dns=False),
            # vpc-5: an sts zone whose record points at the kms endpoint.
            endpoint("vpce-0e1", "vpc-5", "sts", private_dns=False),
            # vpc-6: a parent-domain zone (VPCE206's) does not count as coverage.
            endpoint("vpce-0f1", "vpc-6", "kms", private_dns=False),
            endpoint("vpce-0f2", "vpc-6", "nodns", private_dns=False),  # no private name
            endpoint("vpce-0f3", "vpc-6", "com.amazonaws.vpce.eu-west-1.vpce-svc-1"),
            endpoint("vpce-0f4", "vpc-6", "s3", "Gateway"),
        ],
    )
    zones = (
        zone(
            "Z1",
            "kms.eu-west-1.amazonaws.com.",
            "vpc-3",
            records={"kms.eu-west-1.amazonaws.com": alias("vpce-0c1", "kms")},
        ),
        zone("Z2", "kms.eu-west-1.amazonaws.com.", "vpc-4"),
        zone(
            "Z3",
            "sts.eu-west-1.amazonaws.com.",
            "vpc-5",
            records={"sts.eu-west-1.amazonaws.com": alias("vpce-0c1", "kms")},
        ),
        zone("Z4", "eu-west-1.amazonaws.com.", "vpc-6"),
        HostedZone("Z5", "ssm.eu-west-1.amazonaws.com.", False),  # public: does not count
    )
    result = run_with(interface_endpoint_without_private_dns, estate, *zones)
    found = {f.resource_id: f for f in result.findings}
    assert set(found) == {"vpce-0b1", "vpce-0d1", "vpce-0e1", "vpce-0f1"}
    assert "no private hosted zone" in found["vpce-0b1"].message
    assert "holds no record" in found["vpce-0d1"].message
    assert "vpce-0c1, which is not a live endpoint of the service" in found["vpce-0e1"].message
    assert "eu-west-1.amazonaws.com (Z4)" in found["vpce-0f1"].message


def test_202_s3_interface_endpoint_beside_a_routed_gateway_endpoint_is_the_hybrid_pattern() -> None:
    """AWS recommends gateway endpoints for in-VPC clients and an interface endpoint for
    on-premises (https://docs.aws.amazon.com/AmazonS3/latest/userguide/privatelink-interface-endpoints.html)."""
    estate = region(
        endpoint_service_details=[with_dns("s3", "*.s3.eu-west-1.amazonaws.com")],
        subnets=[subnet("subnet-1", "vpc-hybrid"), subnet("subnet-2", "vpc-interface-only")],
        route_tables=[
            table("rtb-1", "vpc-hybrid", route("pl-s3", "vpce-0aa"), subnets=("subnet-1",)),
            table("rtb-2", "vpc-interface-only", subnets=("subnet-2",)),
        ],
        vpc_endpoints=[
            endpoint("vpce-0aa", "vpc-hybrid", "s3", "Gateway", tables=("rtb-1",)),
            endpoint("vpce-0ab", "vpc-hybrid", "s3", private_dns=False),
            endpoint("vpce-0ba", "vpc-interface-only", "s3", private_dns=False),
        ],
    )
    assert flagged(interface_endpoint_without_private_dns, estate) == {"vpce-0ba"}


def test_202_skips_when_the_answering_zone_was_not_read() -> None:
    estate = region(
        endpoint_service_details=[with_dns("kms", "kms.eu-west-1.amazonaws.com")],
        vpc_endpoints=[endpoint("vpce-0a1", "vpc-1", "kms", private_dns=False)],
    )
    result = run_with(
        interface_endpoint_without_private_dns,
        estate,
        zone("Z1", "kms.eu-west-1.amazonaws.com.", "vpc-1", unread=True),
    )
    assert result.findings == ()
    assert [s.resource_id for s in result.skipped] == ["vpce-0a1"]


# -- VPCE203 -----------------------------------------------------------------------------------


def test_203_recognises_the_amazon_resolver_by_address() -> None:
    """AmazonProvidedDNS, the primary block's base + 2, 169.254.169.253 and inbound Resolver
    endpoints are the Amazon resolver (https://docs.aws.amazon.com/vpc/latest/userguide/AmazonDNS-concepts.html)."""

    def dns_vpc(vpc_id: str, options: str, *cidrs: str) -> Vpc:
        base = vpc(vpc_id, *cidrs)
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
            dns_vpc("vpc-custom", "dopt-custom", "10.0.0.0/16"),
            dns_vpc("vpc-mixed", "dopt-mixed", "10.0.0.0/16"),
            dns_vpc("vpc-base-plus-two", "dopt-base", "10.9.0.0/16", "10.10.0.0/16"),
            dns_vpc("vpc-secondary-base", "dopt-secondary", "10.9.0.0/16", "10.10.0.0/16"),
            dns_vpc("vpc-link-local", "dopt-link-local", "10.0.0.0/16"),
            dns_vpc("vpc-inbound", "dopt-inbound", "10.20.0.0/16"),
            dns_vpc("vpc-inbound-unread", "dopt-inbound", "10.21.0.0/16"),
            dns_vpc("vpc-custom-no-private-dns", "dopt-custom", "10.0.0.0/16"),
            dns_vpc("vpc-gone", "dopt-x", "10.0.0.0/16"),
        ],
        dhcp_options=[
            DhcpOptions("dopt-custom", ("10.0.0.53", "10.0.1.53")),
            DhcpOptions("dopt-mixed", ("10.0.0.53", "AmazonProvidedDNS")),
            DhcpOptions("dopt-base", ("10.9.0.2",)),
            # Only the primary block's base + 2 is the resolver.
            DhcpOptions("dopt-secondary", ("10.10.0.2",)),
            DhcpOptions("dopt-link-local", ("169.254.169.253",)),
            DhcpOptions("dopt-inbound", ("10.20.1.10", "10.20.2.10")),
        ],
        resolver_endpoints=[
            ResolverEndpoint(
                "rslvr-in-1", "INBOUND", "vpc-inbound", "OPERATIONAL", ("10.20.1.10", "10.20.2.10")
            ),
            ResolverEndpoint("rslvr-in-2", "INBOUND", "vpc-inbound-unread", "OPERATIONAL", None),
        ],
        vpc_endpoints=[
            endpoint("vpce-1", "vpc-custom", "ssm", private_dns=True),
            endpoint("vpce-2", "vpc-mixed", "ssm", private_dns=True),
            endpoint("vpce-3", "vpc-base-plus-two", "ssm", private_dns=True),
            endpoint("vpce-4", "vpc-secondary-base", "ssm", private_dns=True),
            endpoint("vpce-5", "vpc-link-local", "ssm", private_dns=True),
            endpoint("vpce-6", "vpc-inbound", "ssm", private_dns=True),
            endpoint("vpce-7", "vpc-inbound-unread", "ssm", private_dns=True),
            endpoint("vpce-8", "vpc-custom-no-private-dns", "ssm", private_dns=False),
            endpoint("vpce-9", "vpc-gone", "ssm", private_dns=True),
        ],
    )
    result = evaluate(snapshot(estate), [dhcp_custom_dns_servers], Settings())
    assert {f.resource_id for f in result.findings} == {"vpc-custom", "vpc-secondary-base"}
    custom = next(f for f in result.findings if f.resource_id == "vpc-custom")
    assert "10.0.0.53, 10.0.1.53" in custom.message
    assert sorted(s.resource_id or "" for s in result.skipped) == [
        "vpc-gone",
        "vpc-inbound-unread",
    ]


# -- VPCE204 -----------------------------------------------------------------------------------


def test_204_flags_duplicates_and_names_the_one_holding_private_dns() -> None:
    estate = region(
        vpc_endpoints=[
            endpoint("vpce-a", "vpc-dup", "ssm", private_dns=True),
            endpoint("vpce-b", "vpc-dup", "ssm"),
            endpoint("vpce-c", "vpc-ok", "ssm"),
            endpoint("vpce-d", "vpc-ok", "kms"),
            endpoint("vpce-e", "vpc-deleted", "ssm"),
            endpoint("vpce-f", "vpc-deleted", "ssm", state="deleted"),
            endpoint("vpce-g", "vpc-gw", "s3", "Gateway"),
            endpoint("vpce-h", "vpc-gw", "s3"),
        ]
    )
    result = evaluate(snapshot(estate), [duplicate_interface_endpoint], Settings())
    assert [f.resource_id for f in result.findings] == ["vpc-dup"]
    assert "vpce-a holds private DNS" in result.findings[0].message


def test_204_privatelink_duplicates_are_info_and_aws_managed_endpoints_are_left_out() -> None:
    """GuardDuty creates its own guardduty-data endpoint beside any the customer made
    (https://docs.aws.amazon.com/guardduty/latest/ug/runtime-monitoring-agent-connectivity.html);
    two endpoints to a provider's service are often deliberate (one per team or policy)."""
    partner = "com.amazonaws.vpce.eu-west-1.vpce-svc-0123456789abcdef0"
    estate = region(
        vpc_endpoints=[
            endpoint("vpce-p1", "vpc-partner", partner, private_dns=True),
            endpoint("vpce-p2", "vpc-partner", partner),
            endpoint("vpce-m1", "vpc-mixed", partner),
            endpoint("vpce-m2", "vpc-mixed", partner),
            endpoint("vpce-m3", "vpc-mixed", "kms"),
            endpoint("vpce-m4", "vpc-mixed", "kms"),
            endpoint("vpce-g1", "vpc-guardduty", "guardduty-data"),
            endpoint("vpce-g2", "vpc-guardduty", "guardduty-data", requester_managed=True),
        ]
    )
    result = evaluate(snapshot(estate), [duplicate_interface_endpoint], Settings())
    assert {f.resource_id: f.severity for f in result.findings} == {
        "vpc-partner": Severity.INFO,
        "vpc-mixed": Severity.LOW,
    }
    configured = Settings(severity_overrides={"VPCE204": Severity.MEDIUM})
    result = evaluate(snapshot(estate), [duplicate_interface_endpoint], configured)
    assert {f.severity for f in result.findings} == {Severity.MEDIUM}


def test_202_is_not_judged_on_an_endpoints_private_dns_where_the_rules_are_unknown() -> None:
    # Another ssm endpoint's private DNS answers, unless a Resolver rule takes the name: with
    # the VPC's rules unknown, that is not a pass.
    estate = region(
        endpoint_service_details=[with_dns("ssm", "ssm.eu-west-1.amazonaws.com")],
        vpc_endpoints=[
            endpoint("vpce-0a1", "vpc-1", "ssm", private_dns=False),
            endpoint("vpce-0a2", "vpc-1", "ssm", private_dns=True),
        ],
        resolver_rules=None,
    )
    result = run_with(interface_endpoint_without_private_dns, estate)
    assert result.findings == ()
    assert [s.resource_id for s in result.skipped] == ["vpce-0a1"]


# -- VPCE206 -----------------------------------------------------------------------------------


def test_206_flags_zones_for_parents_of_aws_service_names() -> None:
    estate = region(
        vpcs=[vpc("vpc-parent"), vpc("vpc-service-zone"), vpc("vpc-unread")],
        endpoint_service_details=[
            with_dns("ssm", "ssm.eu-west-1.amazonaws.com"),
            with_dns("kms", "kms.eu-west-1.amazonaws.com"),
            with_dns("sts", "sts.eu-west-1.amazonaws.com"),
        ],
        vpc_endpoints=[
            # ssm's own private DNS is more specific than the parent zone: it still resolves.
            endpoint("vpce-0a1", "vpc-parent", "ssm", private_dns=True),
            endpoint("vpce-0a2", "vpc-parent", "kms", private_dns=False),
            endpoint("vpce-0b1", "vpc-service-zone", "kms", private_dns=False),
        ],
    )
    zones = (
        zone(
            "Z1",
            "amazonaws.com.",
            "vpc-parent",
            records={"s3.eu-west-1.amazonaws.com": "s3.eu-west-1.amazonaws.com"},
        ),
        # The centralised pattern: a zone named after the service is not a parent.
        zone(
            "Z2",
            "kms.eu-west-1.amazonaws.com.",
            "vpc-service-zone",
            records={"kms.eu-west-1.amazonaws.com": alias("vpce-0b1", "kms")},
        ),
        zone("Z3", "eu-west-1.amazonaws.com.", "vpc-unread", unread=True),
        HostedZone("Z4", "corp.internal.", True, (HostedZoneVpc("vpc-parent", REGION),)),
    )
    result = run_with(private_zone_shadows_aws_names, estate, *zones)
    assert [f.resource_id for f in result.findings] == ["vpc-parent"]
    message = result.findings[0].message
    assert "services with endpoints in the VPC: kms" in message
    assert "other AWS services: sts" in message
    assert "ssm" not in message.split("(", 1)[1]  # answered by its endpoint's private DNS
    assert result.findings[0].severity is Severity.HIGH
    assert [s.resource_id for s in result.skipped] == ["vpc-unread"]


def _parent_zone_estate(**changes: object) -> tuple[RegionSnapshot, HostedZone]:
    """vpc-parent with a kms endpoint without private DNS, under an amazonaws.com. zone."""
    estate = region(
        vpcs=[vpc("vpc-parent")],
        endpoint_service_details=[with_dns("kms", "kms.eu-west-1.amazonaws.com")],
        vpc_endpoints=[endpoint("vpce-0a2", "vpc-parent", "kms", private_dns=False)],
        **changes,
    )
    return estate, zone("Z1", "eu-west-1.amazonaws.com.", "vpc-parent", records={})


def test_206_is_not_judged_where_the_vpcs_resolver_rules_are_unknown() -> None:
    # A snapshot written before Resolver rules were collected: a forwarding rule may take the
    # names from the zone. Skipped, not flagged on the zone's word, and not passed.
    estate, parent = _parent_zone_estate(resolver_rules=None)
    result = run_with(private_zone_shadows_aws_names, estate, parent)
    assert result.findings == ()
    assert [(s.resource_id, s.reason) for s in result.skipped] == [
        (
            "vpc-parent",
            "whether its private hosted zones answer the AWS service names under them is "
            "unknown: the Route 53 Resolver rules associated with vpc-parent are unknown: the "
            "snapshot was written before Resolver rules were collected (schema 6)",
        )
    ]
    known, parent = _parent_zone_estate()
    assert [
        f.resource_id for f in run_with(private_zone_shadows_aws_names, known, parent).findings
    ] == ["vpc-parent"]


@pytest.mark.parametrize(
    ("zone_name", "domain", "flagged"),
    [
        ("eu-west-1.amazonaws.com.", "eu-west-1.amazonaws.com.", []),
        ("eu-west-1.amazonaws.com.", "amazonaws.com", ["vpc-parent"]),
        # Every regional name forwarded, but the zone still answers sts.amazonaws.com and the
        # other regions' names with NXDOMAIN.
        ("amazonaws.com.", "eu-west-1.amazonaws.com", ["vpc-parent"]),
    ],
    ids=["same-domain-rule-wins", "parent-domain-rule-loses", "subdomain-rule-leaves-the-rest"],
)
def test_206_a_forward_rule_of_the_zones_domain_takes_its_names(
    zone_name: str, domain: str, flagged: list[str]
) -> None:
    rule = ResolverRule("rslvr-rr-1", domain, "FORWARD", ("vpc-parent",))
    estate, _ = _parent_zone_estate(resolver_rules=(rule,))
    parent = zone("Z1", zone_name, "vpc-parent", records={})
    result = run_with(private_zone_shadows_aws_names, estate, parent)
    assert [f.resource_id for f in result.findings] == flagged
    assert result.skipped == ()


# -- VPCE207 -----------------------------------------------------------------------------------


def _hub_and_spokes() -> RegionSnapshot:
    return region(
        vpcs=[
            vpc("vpc-hub", "10.30.0.0/16"),
            vpc("vpc-ok", "10.31.0.0/16"),
            vpc("vpc-not-admitted", "10.32.0.0/16"),
            vpc("vpc-no-route", "10.33.0.0/16"),
            vpc("vpc-no-return", "10.34.0.0/16"),
        ],
        subnets=[
            subnet("subnet-hub-a", "vpc-hub", "a", "10.30.1.0/24"),
            subnet("subnet-hub-b", "vpc-hub", "b", "10.30.2.0/24"),
            subnet("subnet-ok", "vpc-ok", "a", "10.31.1.0/24"),
            subnet("subnet-not-admitted", "vpc-not-admitted", "a", "10.32.1.0/24"),
            subnet("subnet-no-route", "vpc-no-route", "a", "10.33.1.0/24"),
            subnet("subnet-no-return", "vpc-no-return", "a", "10.34.1.0/24"),
        ],
        route_tables=[
            # The endpoint subnets' way back to the spokes, except vpc-no-return.
            table(
                "rtb-hub",
                "vpc-hub",
                route("10.31.0.0/16", "pcx-ok"),
                route("10.32.0.0/16", "pcx-not-admitted"),
                route("10.33.0.0/16", "pcx-no-route"),
                subnets=("subnet-hub-a", "subnet-hub-b"),
            ),
            table(
                "rtb-no-return",
                "vpc-no-return",
                route("10.30.0.0/16", "pcx-no-return"),
                subnets=("subnet-no-return",),
            ),
            table("rtb-ok", "vpc-ok", route("10.30.0.0/16", "pcx-ok"), subnets=("subnet-ok",)),
            table(
                "rtb-not-admitted",
                "vpc-not-admitted",
                route("10.30.0.0/16", "pcx-not-admitted"),
                subnets=("subnet-not-admitted",),
            ),
            table("rtb-no-route", "vpc-no-route", subnets=("subnet-no-route",)),
        ],
        peering_connections=[
            peering("pcx-ok", "vpc-ok", "vpc-hub", "10.30.0.0/16"),
            peering("pcx-not-admitted", "vpc-not-admitted", "vpc-hub", "10.30.0.0/16"),
            peering("pcx-no-route", "vpc-no-route", "vpc-hub", "10.30.0.0/16"),
            peering("pcx-no-return", "vpc-no-return", "vpc-hub", "10.30.0.0/16"),
        ],
        security_groups=[
            security_group(
                "sg-hub",
                "vpc-hub",
                ingress("10.30.0.0/16"),
                ingress("10.31.0.0/16"),
                ingress("10.33.0.0/16"),
                ingress("10.34.0.0/16"),
            )
        ],
        endpoint_service_details=[
            with_dns("ssm", "ssm.eu-west-1.amazonaws.com"),
            with_dns("kms", "kms.eu-west-1.amazonaws.com"),
        ],
        vpc_endpoints=[
            endpoint(
                "vpce-0a1",
                "vpc-hub",
                "ssm",
                subnets=("subnet-hub-a", "subnet-hub-b"),
                groups=("sg-hub",),
            ),
            endpoint(
                "vpce-0b1",
                "vpc-hub",
                "kms",
                subnets=("subnet-hub-a", "subnet-hub-b"),
                groups=("sg-hub",),
                state="deleted",
            ),
        ],
    )


SPOKES = ("vpc-hub", "vpc-ok", "vpc-not-admitted", "vpc-no-route", "vpc-no-return")


def test_207_flags_spokes_sent_to_an_endpoint_they_cannot_use() -> None:
    zones = (
        zone(
            "Z1",
            "ssm.eu-west-1.amazonaws.com.",
            *SPOKES,
            records={"ssm.eu-west-1.amazonaws.com": alias("vpce-0a1", "ssm")},
        ),
        # A forgotten zone: its endpoint was deleted.
        zone(
            "Z2",
            "kms.eu-west-1.amazonaws.com.",
            "vpc-ok",
            records={"kms.eu-west-1.amazonaws.com": alias("vpce-0b1", "kms")},
        ),
        # A record for sts that points at the ssm endpoint.
        zone(
            "Z3",
            "sts.eu-west-1.amazonaws.com.",
            "vpc-hub",
            records={"sts.eu-west-1.amazonaws.com": alias("vpce-0a1", "ssm")},
        ),
    )
    result = run_with(centralised_endpoint_dns_broken, _hub_and_spokes(), *zones)
    found = {f.resource_id: f.message for f in result.findings}
    assert set(found) == {"vpc-ok", "vpc-not-admitted", "vpc-no-route", "vpc-no-return", "vpc-hub"}
    assert "points at vpce-0b1, which is deleted" in found["vpc-ok"]
    assert "does not admit vpc-not-admitted (10.32.0.0/16) on tcp 443" in found["vpc-not-admitted"]
    assert "which vpc-no-route has no route to" in found["vpc-no-route"]
    # Replies need a route too (https://docs.aws.amazon.com/vpc/latest/peering/vpc-peering-routing.html).
    assert "whose subnets have no route back to vpc-no-return" in found["vpc-no-return"]
    assert "an endpoint for com.amazonaws.eu-west-1.ssm" in found["vpc-hub"]
    assert "ssm.eu-west-1" not in found["vpc-hub"]  # the hub's own ssm record works
    assert result.skipped == ()


@pytest.mark.parametrize(
    ("listed", "skipped"),
    [
        ("vpc-not-admitted", False),  # the spoke's account lists it, a group of the spoke's VPC
        ("vpc-other", True),  # a group of another VPC: what it admits depends on that VPC
        (None, True),  # the spoke's account not scanned
    ],
    ids=["spokes-group", "another-vpcs-group", "not-scanned"],
)
def test_207_resolves_a_reference_to_a_spokes_group_another_account_lists(
    listed: str | None, skipped: bool
) -> None:
    """The hub endpoint's group admits the spoke's group, which the spoke's own account lists
    (https://docs.aws.amazon.com/vpc/latest/peering/vpc-peering-security-groups.html: a peer
    VPC's group, of another account, may be referenced over an active peering in one region).
    The spoke reaches the hub over such a peering: admitted. A group the snapshot holds for
    another VPC, or not at all, stays unresolved and the spoke is skipped, not passed."""
    estate = _hub_and_spokes()
    (hub_group,) = estate.security_groups
    admitting = dataclasses.replace(hub_group, ingress=(*hub_group.ingress, ingress("sg-spoke")))
    estate = dataclasses.replace(estate, security_groups=(admitting,))
    others = (
        ()
        if listed is None
        else (region("222222222222", security_groups=[security_group("sg-spoke", listed)]),)
    )
    ssm = zone(
        "Z1",
        "ssm.eu-west-1.amazonaws.com.",
        *SPOKES,
        records={"ssm.eu-west-1.amazonaws.com": alias("vpce-0a1", "ssm")},
    )
    result = run_with(centralised_endpoint_dns_broken, estate, ssm, others=others)
    assert {f.resource_id for f in result.findings} == {"vpc-no-route", "vpc-no-return"}
    assert [s.resource_id for s in result.skipped] == (["vpc-not-admitted"] if skipped else [])


@pytest.mark.parametrize(
    ("accepter_region", "admitted"), [(None, True), ("us-east-1", False)], ids=["peered", "far"]
)
def test_207_takes_a_reference_to_a_spokes_group_only_over_a_peering_in_the_region(
    accepter_region: str | None, admitted: bool
) -> None:
    """A rule referencing a peer VPC's group admits its traffic only over an active peering in
    one region (https://docs.aws.amazon.com/vpc/latest/peering/vpc-peering-security-groups.html);
    across a transit gateway never, at a PrivateLink endpoint (tests/test_topology_hops.py)."""
    estate = _hub_and_spokes()
    (hub_group,) = estate.security_groups
    admitting = dataclasses.replace(hub_group, ingress=(*hub_group.ingress, ingress("sg-spoke")))
    peerings = tuple(
        dataclasses.replace(
            connection,
            accepter=dataclasses.replace(
                connection.accepter, region=accepter_region or connection.accepter.region
            ),
        )
        if connection.peering_connection_id == "pcx-not-admitted"
        else connection
        for connection in estate.peering_connections or ()
    )
    estate = dataclasses.replace(
        estate,
        security_groups=(admitting, security_group("sg-spoke", "vpc-not-admitted")),
        peering_connections=peerings,
    )
    ssm = zone(
        "Z1",
        "ssm.eu-west-1.amazonaws.com.",
        *SPOKES,
        records={"ssm.eu-west-1.amazonaws.com": alias("vpce-0a1", "ssm")},
    )
    result = run_with(centralised_endpoint_dns_broken, estate, ssm)
    assert {f.resource_id for f in result.findings} == {"vpc-no-route", "vpc-no-return"}
    if admitted:
        assert result.skipped == ()
    else:
        assert [(s.resource_id, s.reason) for s in result.skipped] == [
            (
                "vpc-not-admitted",
                "ssm.eu-west-1.amazonaws.com: vpce-0a1's security group "
                "admits vpc-not-admitted only by a reference to a group of it, which admits "
                "traffic only over an active peering in the region",
            )
        ]


def _deleted_endpoint_zone() -> HostedZone:
    """vpc-ok's kms zone, whose record names a deleted endpoint (broken, as above)."""
    return zone(
        "Z2",
        "kms.eu-west-1.amazonaws.com.",
        "vpc-ok",
        records={"kms.eu-west-1.amazonaws.com": alias("vpce-0b1", "kms")},
    )


@pytest.mark.parametrize(
    ("rules", "why"),
    [
        (
            (ResolverRule("rslvr-rr-kms", "kms.eu-west-1.amazonaws.com", "FORWARD", ("vpc-ok",)),),
            "Resolver rule rslvr-rr-kms (kms.eu-west-1.amazonaws.com) forwards the name from "
            "vpc-ok to its outbound endpoint's targets, whose answers the scan does not see",
        ),
        (
            None,
            "the Route 53 Resolver rules associated with vpc-ok are unknown: the snapshot was "
            "written before Resolver rules were collected (schema 6)",
        ),
    ],
    ids=["forwarded", "rules-unknown"],
)
def test_207_does_not_judge_a_zone_a_resolver_rule_takes_or_may_take(
    rules: tuple[ResolverRule, ...] | None, why: str
) -> None:
    # A forwarding rule for the zone's own domain wins over the zone: its broken record is
    # not what clients get. With the rules unknown, it may be.
    estate = dataclasses.replace(_hub_and_spokes(), resolver_rules=rules)
    result = run_with(centralised_endpoint_dns_broken, estate, _deleted_endpoint_zone())
    assert result.findings == ()
    assert [(s.resource_id, s.reason) for s in result.skipped] == [
        ("vpc-ok", f"zone kms.eu-west-1.amazonaws.com (Z2): {why}")
    ]
    # A rule for another domain leaves the zone judged.
    other = ResolverRule("rslvr-rr-corp", "corp.example.com", "FORWARD", ("vpc-ok",))
    estate = dataclasses.replace(_hub_and_spokes(), resolver_rules=(other,))
    judged = run_with(centralised_endpoint_dns_broken, estate, _deleted_endpoint_zone())
    assert [f.resource_id for f in judged.findings] == ["vpc-ok"]


def test_207_an_endpoint_missing_from_the_snapshot_is_gone_only_if_every_account_was_scanned() -> (
    None
):
    zones = (
        zone(
            "Z1",
            "ssm.eu-west-1.amazonaws.com.",
            "vpc-ok",
            records={"ssm.eu-west-1.amazonaws.com": alias("vpce-0ff", "ssm")},
        ),
    )
    unknown_members = run_with(centralised_endpoint_dns_broken, _hub_and_spokes(), *zones)
    assert unknown_members.findings == ()
    assert [s.resource_id for s in unknown_members.skipped] == ["vpc-ok"]
    assert "not in the snapshot" in unknown_members.skipped[0].reason
    everyone = run_with(
        centralised_endpoint_dns_broken, _hub_and_spokes(), *zones, members=(ACCOUNT,)
    )
    assert [f.resource_id for f in everyone.findings] == ["vpc-ok"]
    assert "vpce-0ff, which no longer exists" in everyone.findings[0].message


def test_207_an_endpoint_of_a_region_that_was_not_scanned_is_unknown_not_gone() -> None:
    """A zone is associated per VPC and region (https://docs.aws.amazon.com/Route53/latest/
    APIReference/API_VPC.html): its record may name an endpoint of another region, which a scan
    of this region alone cannot find, however many accounts it covered."""
    other_region = "vpce-0ff-1a2b3c4d.ssm.us-east-1.vpce.amazonaws.com"
    zones = (
        zone(
            "Z1",
            "ssm.eu-west-1.amazonaws.com.",
            "vpc-ok",
            records={"ssm.eu-west-1.amazonaws.com": other_region},
        ),
    )
    result = run_with(
        centralised_endpoint_dns_broken, _hub_and_spokes(), *zones, members=(ACCOUNT,)
    )
    assert result.findings == ()
    assert [s.resource_id for s in result.skipped] == ["vpc-ok"]
    assert "in a region (us-east-1) that was not scanned" in result.skipped[0].reason


@pytest.mark.parametrize(
    ("name", "region"),
    [
        ("vpce-0ff-1a2b3c4d.ssm.us-east-1.vpce.amazonaws.com", "us-east-1"),
        ("vpce-0ff-1a2b3c4d-us-east-1a.execute-api.us-east-1.vpce.amazonaws.com", "us-east-1"),
        ("*.vpce-0ff-1a2b3c4d.s3.cn-north-1.vpce.amazonaws.com.cn", "cn-north-1"),
        ("vpce-0ff-1a2b3c4d.ssm.eusc-de-east-1.vpce.amazonaws.eu", "eusc-de-east-1"),
        ("vpce-0ff-1a2b3c4d.ssm.us-isob-east-1.vpce.sc2s.sgov.gov.", "us-isob-east-1"),
        ("ssm.example.internal", None),
    ],
)
def test_an_endpoint_name_says_its_region_in_every_partition(name: str, region: str | None) -> None:
    assert endpoint_region_in_dns_name(name) == region


@pytest.mark.parametrize(
    ("extra_rule", "address_type", "verdict"),
    [
        ("::/0", None, "skipped"),  # admits IPv6 only: the IPv4 path judged is not admitted
        ("2600:1f18:aaaa::/56", None, "skipped"),
        ("2600:1f18:aaaa::/56", "dualstack", "skipped"),
        ("2600:1f18:aaaa::/56", "ipv4", "finding"),  # no IPv6 client reaches it
        ("::/0", "ipv4", "finding"),
        (None, None, "finding"),
        ("10.32.0.0/16", None, "passed"),
    ],
    ids=[
        "ipv6-anywhere",
        "the-spokes-ipv6-block",
        "dual-stack-endpoint",
        "ipv4-endpoint",
        "ipv4-endpoint-ipv6-anywhere",
        "nothing",
        "the-spokes-ipv4-block",
    ],
)
def test_207_an_ipv6_rule_does_not_admit_a_spokes_ipv4_clients(
    extra_rule: str | None, address_type: str | None, verdict: str
) -> None:
    """The paths judged are IPv4 (an A record's, an alias's): a group admitting the spoke's
    IPv6 block alone lets its clients in over IPv6 only, which works where the endpoint takes
    IPv6 (dual-stack, or its address type unknown): unknown, not a pass. An IPv4-only endpoint
    (IpAddressType ipv4) no IPv6 client reaches: reported."""
    estate = _hub_and_spokes()
    estate = dataclasses.replace(
        estate,
        vpc_endpoints=tuple(
            dataclasses.replace(e, ip_address_type=address_type) for e in estate.vpc_endpoints
        ),
    )
    (hub_group,) = estate.security_groups
    rules = (*hub_group.ingress, *([ingress(extra_rule)] if extra_rule else []))
    dual = dataclasses.replace(
        next(v for v in estate.vpcs if v.vpc_id == "vpc-not-admitted"),
        ipv6_cidr_blocks=("2600:1f18:aaaa::/56",),
    )
    estate = dataclasses.replace(
        estate,
        security_groups=(dataclasses.replace(hub_group, ingress=rules),),
        vpcs=tuple(dual if v.vpc_id == dual.vpc_id else v for v in estate.vpcs),
    )
    ssm = zone(
        "Z1",
        "ssm.eu-west-1.amazonaws.com.",
        "vpc-not-admitted",
        records={"ssm.eu-west-1.amazonaws.com": alias("vpce-0a1", "ssm")},
    )
    result = run_with(centralised_endpoint_dns_broken, estate, ssm)
    outcome = {
        "finding": [f.resource_id for f in result.findings],
        "skipped": [s.resource_id for s in result.skipped],
    }
    expected = {"finding": [], "skipped": []}
    if verdict != "passed":
        expected[verdict] = ["vpc-not-admitted"]
    assert outcome == expected
    if verdict == "skipped":
        assert "admit vpc-not-admitted by its IPv6 blocks only" in result.skipped[0].reason


# -- DNS attributes off: no private zone applies ----------------------------------------------
# "To use private hosted zones, you must set the following Amazon VPC settings to true:
# enableDnsHostnames, enableDnsSupport"
# (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/hosted-zone-private-considerations.html)

DNS_OFF = pytest.mark.parametrize(
    "dns", [(True, False), (False, True), (False, False)], ids=["hostnames", "support", "both"]
)


@DNS_OFF
def test_202_a_covering_zone_does_not_cover_where_the_vpcs_dns_attributes_are_off(
    dns: tuple[bool, bool],
) -> None:
    """The zone is inert there: SDKs resolve the public name and bypass the endpoint. With
    both attributes on, the same zone covers it."""

    def estate(attributes: tuple[bool, bool]) -> RegionSnapshot:
        return region(
            vpcs=[vpc("vpc-1", dns=attributes)],
            endpoint_service_details=[with_dns("kms", "kms.eu-west-1.amazonaws.com")],
            vpc_endpoints=[endpoint("vpce-0c1", "vpc-1", "kms", private_dns=False)],
        )

    kms_zone = zone(
        "Z1",
        "kms.eu-west-1.amazonaws.com.",
        "vpc-1",
        records={"kms.eu-west-1.amazonaws.com": alias("vpce-0c1", "kms")},
    )
    result = run_with(interface_endpoint_without_private_dns, estate(dns), kms_zone)
    assert [f.resource_id for f in result.findings] == ["vpce-0c1"]
    off = " and ".join(
        name
        for name, value in zip(("enableDnsSupport", "enableDnsHostnames"), dns, strict=True)
        if not value
    )
    assert f"private hosted zones do not apply in vpc-1 ({off} is false)" in (
        result.findings[0].message
    )
    on = run_with(interface_endpoint_without_private_dns, estate((True, True)), kms_zone)
    assert (on.findings, on.skipped) == ((), ())


@DNS_OFF
def test_206_a_zone_that_does_not_apply_shadows_nothing(dns: tuple[bool, bool]) -> None:
    def estate(attributes: tuple[bool, bool]) -> RegionSnapshot:
        return region(
            vpcs=[vpc("vpc-1", dns=attributes)],
            endpoint_service_details=[with_dns("kms", "kms.eu-west-1.amazonaws.com")],
            vpc_endpoints=[endpoint("vpce-0a2", "vpc-1", "kms", private_dns=False)],
        )

    parent = zone("Z1", "amazonaws.com.", "vpc-1", records={})
    assert run_with(private_zone_shadows_aws_names, estate(dns), parent).findings == ()
    on = run_with(private_zone_shadows_aws_names, estate((True, True)), parent)
    assert [f.resource_id for f in on.findings] == ["vpc-1"]


def test_with_dns_hostnames_off_only_forwarding_rules_answer() -> None:
    """DNS support on, hostnames off: a Resolver forwarding rule still governs its names (its
    servers answer, unseen: unknown); without DNS support there is no Resolver at all."""
    forward = ResolverRule(
        "rslvr-rr-1", "amazonaws.com", "FORWARD", ("vpc-1",), target_ips=("192.0.2.1:53",)
    )
    kms_zone = zone("Z1", "kms.eu-west-1.amazonaws.com.", "vpc-1", records={})
    for dns, unknown in (((True, False), True), ((False, False), False)):
        estate = region(vpcs=[vpc("vpc-1", dns=dns)], resolver_rules=[forward])
        view = snapshot(
            estate,
            accounts=(AccountSnapshot(ACCOUNT, "2026-11-26T00:00:00Z", hosted_zones=(kms_zone,)),),
        )
        answer = Resolver(view).answer(view.scopes[0], "vpc-1", "kms.eu-west-1.amazonaws.com")
        assert (answer.zone, answer.endpoint) == (None, None)
        assert (answer.unknown is not None) is unknown


# -- VPCE202: API Gateway's private APIs beside public ones ------------------------------------


def test_202_per_api_zones_below_execute_apis_wildcard_are_aws_design() -> None:
    """Private DNS off keeps public APIs reachable, with "a private hosted zone for each private
    API in the VPC"
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-private-apis.html).
    A zone whose record leads elsewhere, or one for another domain, does not count."""
    api = "abc123defg.execute-api.eu-west-1.amazonaws.com"
    estate = region(
        vpcs=[vpc("vpc-1")],
        endpoint_service_details=[with_dns("execute-api", "*.execute-api.eu-west-1.amazonaws.com")],
        vpc_endpoints=[endpoint("vpce-0a1", "vpc-1", "execute-api", private_dns=False)],
    )

    def judged(*zones: HostedZone) -> list[str]:
        result = run_with(interface_endpoint_without_private_dns, estate, *zones)
        return [f.resource_id for f in result.findings]

    assert (
        judged(zone("Z1", f"{api}.", "vpc-1", records={api: alias("vpce-0a1", "execute-api")}))
        == []
    )
    assert judged(zone("Z1", f"{api}.", "vpc-1", records={api: "elsewhere.example.com"})) == [
        "vpce-0a1"
    ]
    assert judged(zone("Z2", "other.example.com.", "vpc-1", records={})) == ["vpce-0a1"]
    assert judged() == ["vpce-0a1"]
