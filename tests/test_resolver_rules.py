"""Route 53 Resolver rules: collected per account-region, and obeyed when names are resolved.

AWS: the most specific rule whose domain holds a query name governs it (a subdomain matches),
https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resolver-overview-forward-vpc-to-network-domain-name-matches.html;
a forwarding rule wins over a private hosted zone of the same domain,
https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/hosted-zone-private-considerations.html
("Private hosted zones and Route 53 Resolver rules"). A FORWARD rule sends the query to DNS
servers the snapshot does not see, so what the name resolves to is unknown; a SYSTEM rule makes
the Resolver answer it itself (zones, then public DNS).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tests.helpers import ACCOUNT, REGION, error, region, snapshot
from tests.rules.test_vpce40x_routing import _central_spoke, _central_zones
from vpce_audit.analysis.endpoint_dns import CentralDns, Resolver
from vpce_audit.collect import translate
from vpce_audit.collect.calls import ScopeCalls
from vpce_audit.collect.region import RegionCalls, _resolver_rules
from vpce_audit.model import RegionSnapshot, ResolverRule
from vpce_audit.rules.base import Settings
from vpce_audit.rules.builtin.routing import s3_traffic_via_nat
from vpce_audit.rules.engine import EvaluationResult, evaluate
from vpce_audit.snapshot.document import SnapshotError, from_json, to_json

S3_NAME = f"s3.{REGION}.amazonaws.com"


def rule(
    rule_id: str, domain: str | None, kind: str | None = "FORWARD", *vpcs: str
) -> ResolverRule:
    return ResolverRule(
        rule_id,
        domain,
        kind,
        vpcs or ("vpc-spoke",),
        owner_id=ACCOUNT,
        target_ips=("10.9.0.10:53",) if kind == "FORWARD" else (),
    )


def spoke(*rules: ResolverRule, **changes: Any) -> RegionSnapshot:
    changes.setdefault("resolver_rules", rules)
    return dataclasses.replace(_central_spoke("nat-1"), **changes)


def scan_401(estate: RegionSnapshot, zones: bool = False) -> EvaluationResult:
    accounts = (_central_zones(),) if zones else None
    return evaluate(snapshot(estate, accounts=accounts), [s3_traffic_via_nat], Settings())


def answer_unknown(estate: RegionSnapshot, name: str, zones: bool = False) -> str | None:
    accounts = (_central_zones(),) if zones else None
    view = snapshot(estate, accounts=accounts)
    scope = view.scopes[0]
    return Resolver(view).answer(scope, "vpc-spoke", name).unknown


# -- what a rule makes of a name ----------------------------------------------------------------


def test_a_forward_rule_for_every_name_makes_the_public_s3_names_unknown() -> None:
    # Without rules the spoke's S3 traffic takes the NAT (VPCE401); forwarded to DNS servers
    # the scan cannot see, where it goes is unknown: skipped, not flagged.
    assert [f.resource_id for f in scan_401(spoke()).findings] == ["rtb-spoke"]
    forwarded = scan_401(spoke(rule("rslvr-rr-all", ".")))
    assert forwarded.findings == ()
    assert [(s.rule_id, s.resource_id) for s in forwarded.skipped] == [("VPCE401", "rtb-spoke")]
    assert "a Route 53 Resolver rule forwards them" in forwarded.skipped[0].reason
    assert answer_unknown(spoke(rule("rslvr-rr-all", ".")), f"bucket.{S3_NAME}") == (
        "Resolver rule rslvr-rr-all (.) forwards the name from vpc-spoke to 10.9.0.10:53, whose "
        "answers the scan does not see"
    )


def test_a_forward_rule_of_the_zone_domain_wins_over_the_zone() -> None:
    # The spoke's central S3 zone is s3.<region>.amazonaws.com; a forwarding rule for the same
    # domain takes precedence, a forwarding rule for a parent domain does not.
    central = scan_401(spoke(), zones=True)
    assert central.findings == () and central.skipped == ()
    same = spoke(rule("rslvr-rr-s3", S3_NAME + "."))
    assert answer_unknown(same, f"bucket.{S3_NAME}", zones=True) is not None
    assert [s.resource_id for s in scan_401(same, zones=True).skipped] == ["rtb-spoke"]
    parent = spoke(rule("rslvr-rr-aws", "amazonaws.com"))
    assert answer_unknown(parent, f"bucket.{S3_NAME}", zones=True) is None
    judged = scan_401(parent, zones=True)
    assert judged.findings == () and judged.skipped == ()


def test_a_more_specific_system_rule_lets_the_resolver_answer() -> None:
    # "." forwarded, but S3's names kept by a SYSTEM rule: the Resolver answers them (public
    # here), so the NAT route is judged as without rules.
    estate = spoke(rule("rslvr-rr-all", "."), rule("rslvr-rr-s3", S3_NAME, "SYSTEM"))
    assert answer_unknown(estate, f"bucket.{S3_NAME}") is None
    assert [f.resource_id for f in scan_401(estate).findings] == ["rtb-spoke"]
    # Other names still go to the forwarders.
    assert answer_unknown(estate, f"dynamodb.{REGION}.amazonaws.com") is not None


def test_a_rule_for_another_domain_or_another_vpc_changes_nothing() -> None:
    estate = spoke(
        rule("rslvr-rr-corp", "corp.example.com"),
        rule("rslvr-rr-hub", ".", "FORWARD", "vpc-hub"),
    )
    assert [f.resource_id for f in scan_401(estate).findings] == ["rtb-spoke"]


@pytest.mark.parametrize(
    ("estate", "why"),
    [
        (
            spoke(resolver_rules=None),
            "the snapshot was written before Resolver rules were collected (schema 6)",
        ),
        (
            spoke(
                errors=(
                    error("resolver_rules", "ListResolverRuleAssociations", code="AccessDenied"),
                )
            ),
            f"they could not be listed in {ACCOUNT}/{REGION} "
            "(ListResolverRuleAssociations: AccessDenied)",
        ),
    ],
    ids=["legacy-snapshot", "listing-failed"],
)
def test_unknown_rules_make_every_resolved_name_unknown(estate: RegionSnapshot, why: str) -> None:
    assert answer_unknown(estate, f"bucket.{S3_NAME}") == (
        f"the Route 53 Resolver rules associated with vpc-spoke are unknown: {why}"
    )
    result = scan_401(estate)
    assert result.findings == ()
    assert [s.resource_id for s in result.skipped] == ["rtb-spoke"]


def test_an_associated_rule_that_was_not_listed_is_unknown() -> None:
    estate = spoke(rule("rslvr-rr-gone", None, None))
    assert answer_unknown(estate, f"bucket.{S3_NAME}") == (
        "Resolver rule rslvr-rr-gone is associated with vpc-spoke, but ListResolverRules did not "
        "list it: its domain is unknown"
    )


# -- collection ------------------------------------------------------------------------------


@pytest.fixture
def resolver(aws_credentials: None) -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("route53resolver", region_name=REGION)
    stub = Stubber(client)
    stub.activate()
    yield client, stub
    stub.assert_no_pending_responses()
    stub.deactivate()


def _association(rule_id: str, vpc_id: str, status: str = "COMPLETE") -> dict[str, Any]:
    return {
        "Id": f"rslvr-rrassoc-{vpc_id}",
        "ResolverRuleId": rule_id,
        "VPCId": vpc_id,
        "Status": status,
    }


def test_associated_rules_are_joined_with_their_definitions(resolver: tuple[Any, Stubber]) -> None:
    client, stub = resolver
    stub.add_response(
        "list_resolver_rule_associations",
        {
            "ResolverRuleAssociations": [
                _association("rslvr-rr-1", "vpc-b"),
                _association("rslvr-rr-1", "vpc-a", "CREATING"),
                _association("rslvr-rr-2", "vpc-a", "DELETING"),  # no longer governs
                _association("rslvr-rr-3", "vpc-c"),  # shared, then unshared: not listed
            ]
        },
        {},
    )
    stub.add_response(
        "list_resolver_rules",
        {
            "ResolverRules": [
                {
                    "Id": "rslvr-rr-1",
                    "DomainName": "corp.example.com.",
                    "RuleType": "FORWARD",
                    "OwnerId": "222222222222",
                    "ShareStatus": "SHARED_WITH_ME",
                    "TargetIps": [
                        {"Ip": "10.9.0.10", "Port": 53, "Protocol": "Do53"},
                        {"Ipv6": "fd00::a"},
                        {"Ip": "10.9.0.11", "Port": 443, "Protocol": "DoH"},
                    ],
                    "Name": "to on-premises",
                },
                {"Id": "rslvr-rr-2", "DomainName": "old.example.com.", "RuleType": "FORWARD"},
            ]
        },
        {},
    )
    scope = ScopeCalls(ACCOUNT, REGION)
    found = _resolver_rules(RegionCalls(scope, lambda _service: client), REGION)
    assert found == [
        ResolverRule(
            "rslvr-rr-1",
            "corp.example.com.",
            "FORWARD",
            ("vpc-a", "vpc-b"),
            owner_id="222222222222",
            target_ips=("10.9.0.10:53", "[fd00::a]:53", "10.9.0.11:443"),
            # One for one with the targets; "" where AWS gave none (Do53).
            target_protocols=("Do53", "", "DoH"),
            name="to on-premises",
        ),
        ResolverRule("rslvr-rr-3", None, None, ("vpc-c",)),
    ]
    assert scope.errors == ()


def test_without_associations_the_rules_are_not_listed(resolver: tuple[Any, Stubber]) -> None:
    # Most regions have none: one call, not two (the Stubber refuses any other).
    client, stub = resolver
    stub.add_response("list_resolver_rule_associations", {"ResolverRuleAssociations": []}, {})
    scope = ScopeCalls(ACCOUNT, REGION)
    assert _resolver_rules(RegionCalls(scope, lambda _service: client), REGION) == []
    assert scope.errors == ()


def test_a_failed_rule_listing_is_recorded(resolver: tuple[Any, Stubber]) -> None:
    client, stub = resolver
    stub.add_response(
        "list_resolver_rule_associations",
        {"ResolverRuleAssociations": [_association("rslvr-rr-1", "vpc-a")]},
        {},
    )
    stub.add_client_error("list_resolver_rules", "AccessDeniedException", "not allowed")
    scope = ScopeCalls(ACCOUNT, REGION)
    assert _resolver_rules(RegionCalls(scope, lambda _service: client), REGION) == []
    assert [(e.operation, e.error_code, e.resource_kind, e.resource_id) for e in scope.errors] == [
        ("ListResolverRules", "AccessDeniedException", "resolver_rules", None)
    ]


@pytest.mark.parametrize("order", [1, -1], ids=["system-first", "forward-first"])
def test_rules_of_one_domain_and_different_types_make_the_name_unknown(order: int) -> None:
    # An association AWS marks OVERRIDDEN beside another of the same domain: which applies is
    # not documented, and the answer must not depend on the order the rules were listed in.
    rules = (rule("rslvr-rr-a", S3_NAME, "SYSTEM"), rule("rslvr-rr-b", S3_NAME, "FORWARD"))
    estate = spoke(*rules[::order])
    assert answer_unknown(estate, f"bucket.{S3_NAME}") == (
        f"Resolver rules rslvr-rr-a, rslvr-rr-b of different types are associated with vpc-spoke "
        f"for {S3_NAME}: which one applies is unknown"
    )
    # Below a more specific private zone, the tie decides nothing.
    parent = (rule("rslvr-rr-a", "amazonaws.com", "SYSTEM"), rule("rslvr-rr-b", "amazonaws.com"))
    assert answer_unknown(spoke(*parent[::order]), f"bucket.{S3_NAME}", zones=True) is None


def test_two_vpcs_alike_but_for_their_rules_are_answered_apart() -> None:
    # The resolutions of VPCs without zones are shared between VPCs alike in what decides them
    # (CentralDns._zoneless_context): their Resolver rules are part of that.
    base = _central_spoke("nat-1")
    twin = next(v for v in base.vpcs if v.vpc_id == "vpc-spoke")
    estate = dataclasses.replace(
        base,
        vpcs=(*base.vpcs, dataclasses.replace(twin, vpc_id="vpc-twin")),
        subnets=(
            *base.subnets,
            dataclasses.replace(base.subnets[0], subnet_id="subnet-twin", vpc_id="vpc-twin"),
        ),
        route_tables=(
            *base.route_tables,
            dataclasses.replace(
                base.route_tables[0],
                route_table_id="rtb-twin",
                vpc_id="vpc-twin",
                subnet_ids=("subnet-twin",),
            ),
        ),
        resolver_rules=(rule("rslvr-rr-all", ".", "FORWARD", "vpc-twin"),),
    )
    result = scan_401(estate)
    assert [f.resource_id for f in result.findings] == ["rtb-spoke"]
    assert [s.resource_id for s in result.skipped] == ["rtb-twin"]


def test_a_failed_collection_is_named_as_such_not_as_an_old_snapshot() -> None:
    # A region whose collection failed as a whole holds no rules (None) and an error for every
    # kind: the reason is the error.
    failed = spoke(
        resolver_rules=None,
        errors=(error("resolver_rules", "collect_region", code="EndpointConnectionError"),),
    )
    assert answer_unknown(failed, f"bucket.{S3_NAME}") == (
        "the Route 53 Resolver rules associated with vpc-spoke are unknown: they could not be "
        f"listed in {ACCOUNT}/{REGION} (collect_region: EndpointConnectionError)"
    )


def test_a_shared_vpcs_rules_are_its_owners_even_where_the_owner_could_not_list_it() -> None:
    # The participant's scope lists the owner's VPC; the owner's VPC listing failed, but its
    # rule associations were read: they decide.
    owner, participant = "222222222222", ACCOUNT
    shared = next(v for v in _central_spoke("nat-1").vpcs if v.vpc_id == "vpc-spoke")
    seen = region(participant, vpcs=[dataclasses.replace(shared, owner_id=owner)])
    owners = region(
        owner,
        errors=[error("vpcs", "DescribeVpcs", account=owner)],
        resolver_rules=[rule("rslvr-rr-all", ".")],
    )
    view = snapshot(seen, owners)
    scope = next(s for s in view.scopes if s.account_id == participant)
    assert Resolver(view).answer(scope, "vpc-spoke", f"bucket.{S3_NAME}").unknown == (
        "Resolver rule rslvr-rr-all (.) forwards the name from vpc-spoke to 10.9.0.10:53, whose "
        "answers the scan does not see"
    )
    alone = snapshot(seen)
    assert Resolver(alone).answer(alone.scopes[0], "vpc-spoke", f"bucket.{S3_NAME}").unknown == (
        "the Route 53 Resolver rules associated with vpc-spoke are unknown: vpc-spoke belongs to "
        f"account {owner}, whose {REGION} was not scanned, and only its owner associates rules "
        "with it"
    )


def test_a_delegate_rule_or_a_type_aws_adds_later_is_not_judged() -> None:
    # DELEGATE (queries delegated to the domain go to your resolvers) and types this release
    # does not know: what answers is unknown, but the zone is what answers unless they do.
    for kind in ("DELEGATE", "SOME_NEW_TYPE"):
        estate = spoke(rule("rslvr-rr-d", S3_NAME, kind))
        view = snapshot(estate, accounts=(_central_zones(),))
        answer = Resolver(view).answer(view.scopes[0], "vpc-spoke", f"bucket.{S3_NAME}")
        assert answer.unknown == (
            f"Resolver rule rslvr-rr-d ({S3_NAME}) of type {kind} governs the name in vpc-spoke, "
            "and what it does with it is not judged"
        )
        assert answer.zone is not None and answer.zone.name.startswith(S3_NAME)


def test_a_delegate_rule_is_read_by_its_delegation_record() -> None:
    item = {"Id": "rslvr-rr-d", "RuleType": "DELEGATE", "DelegationRecord": "corp.example.com"}
    assert translate.resolver_rule("rslvr-rr-d", item, ["vpc-a"]) == ResolverRule(
        "rslvr-rr-d", "corp.example.com", "DELEGATE", ("vpc-a",), target_protocols=()
    )


def test_a_snapshot_rule_type_not_as_aws_writes_it_is_refused() -> None:
    document = snapshot(spoke(rule("rslvr-rr-1", ".", "forward"))).document
    with pytest.raises(SnapshotError, match=re.escape("is not a Resolver rule type as AWS")):
        from_json(to_json(document))


def test_the_internet_resolver_rule_ranks_below_a_rule_you_made_for_the_root() -> None:
    # ListResolverRuleAssociations lists the autodefined Internet Resolver rule (".",
    # RECURSIVE) with every VPC; a forwarding rule you make for "." takes precedence.
    internet = rule("rslvr-autodefined-rr-internet-resolver", ".", "RECURSIVE")
    estate = spoke(internet, rule("rslvr-rr-all", "."))
    assert answer_unknown(estate, f"bucket.{S3_NAME}") == (
        "Resolver rule rslvr-rr-all (.) forwards the name from vpc-spoke to 10.9.0.10:53, whose "
        "answers the scan does not see"
    )
    # Alone, it is the Resolver's own default: the names resolve as without rules.
    assert answer_unknown(spoke(internet), f"bucket.{S3_NAME}") is None


def test_the_autodefined_association_alone_does_not_make_the_rules_listed(
    resolver: tuple[Any, Stubber],
) -> None:
    client, stub = resolver
    stub.add_response(
        "list_resolver_rule_associations",
        {
            "ResolverRuleAssociations": [
                _association("rslvr-autodefined-rr-internet-resolver", "vpc-a")
            ]
        },
        {},
    )
    scope = ScopeCalls(ACCOUNT, REGION)
    assert _resolver_rules(RegionCalls(scope, lambda _service: client), REGION) == []
    assert scope.errors == ()  # known to be none: ListResolverRules was not asked


@pytest.mark.parametrize(
    ("support", "rules", "flagged"),
    [
        (True, (rule("rslvr-rr-all", "."),), False),  # forwarded: unknown, skipped
        (True, None, False),  # rules unknown: skipped
        (True, (), True),  # no rule: public, through the NAT
        (False, (rule("rslvr-rr-all", "."),), True),  # no Resolver at all: no rule applies
    ],
    ids=["forwarded", "rules-unknown", "no-rule", "dns-support-off"],
)
def test_a_vpc_with_dns_hostnames_off_still_follows_its_forwarding_rules(
    support: bool, rules: tuple[ResolverRule, ...] | None, flagged: bool
) -> None:
    # enableDnsHostnames off: private zones do not apply, but forwarding rules do (only the
    # autodefined rules depend on it).
    base = spoke(resolver_rules=rules)
    vpcs = tuple(
        dataclasses.replace(v, enable_dns_hostnames=False, enable_dns_support=support)
        if v.vpc_id == "vpc-spoke"
        else v
        for v in base.vpcs
    )
    result = scan_401(dataclasses.replace(base, vpcs=vpcs), zones=True)
    assert [f.resource_id for f in result.findings] == (["rtb-spoke"] if flagged else [])
    assert [s.resource_id for s in result.skipped] == ([] if flagged else ["rtb-spoke"])


@pytest.mark.parametrize("domain", [" ", "", "..", "a..b", ".example.com"])
def test_a_malformed_rule_domain_in_a_snapshot_is_refused(domain: str) -> None:
    # Each would read as the root, or as no domain AWS accepts.
    document = snapshot(spoke(rule("rslvr-rr-1", domain))).document
    with pytest.raises(SnapshotError, match=re.escape('is not a domain name ("." for the root)')):
        from_json(to_json(document))


@pytest.mark.parametrize(
    "domain", [".", "example.com", "example.com.", "s3.eu-west-1.amazonaws.com"]
)
def test_a_rule_domain_as_aws_writes_it_reads_back(domain: str) -> None:
    document = snapshot(spoke(rule("rslvr-rr-1", domain))).document
    assert from_json(to_json(document)) == document


def test_two_vpcs_without_dns_support_and_without_hostnames_are_answered_apart() -> None:
    # Both DISABLED to the DNS mode; without DNS support no rule applies (public), without
    # hostnames the forwarding rule still does (unknown). One must not answer for the other.
    base = spoke(rule("rslvr-rr-all", ".", "FORWARD", "vpc-spoke", "vpc-hub"))
    vpcs = tuple(
        dataclasses.replace(v, enable_dns_hostnames=False)
        if v.vpc_id == "vpc-spoke"
        else dataclasses.replace(v, enable_dns_support=False)
        for v in base.vpcs
    )
    view = snapshot(dataclasses.replace(base, vpcs=vpcs))
    central = CentralDns(view)
    scope = view.scopes[0]
    hub = central.resolution(scope, "vpc-hub", "s3")
    spoke_names = central.resolution(scope, "vpc-spoke", "s3")
    assert hub.leaves_publicly is True
    assert spoke_names.leaves_publicly is None
