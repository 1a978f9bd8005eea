"""A FORWARD rule that sends names to an inbound Resolver endpoint the scan read: the Resolver
of that endpoint's VPC answers them as for a client there (its private zones, its endpoints'
private DNS), and the client connects to the answer from its own VPC. AWS's centralised DNS
(https://docs.aws.amazon.com/whitepapers/latest/hybrid-cloud-dns-options-for-vpc/route-53-resolver-endpoints-and-forwarding-rules.html);
an endpoint with private DNS only for inbound Resolver endpoints answers such queries
(https://docs.aws.amazon.com/vpc/latest/privatelink/privatelink-access-aws-services.html)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tests.helpers import (
    ACCOUNT,
    OTHER_ACCOUNT,
    REGION,
    endpoint,
    error,
    region,
    route,
    snapshot,
    subnet,
    table,
    vpc,
)
from tests.rules.test_vpce40x_routing import _central_spoke
from vpce_audit.analysis.endpoint_dns import CentralDns, NameFate, Resolver
from vpce_audit.collect import translate
from vpce_audit.model import (
    AccountSnapshot,
    HostedZone,
    HostedZoneVpc,
    RegionSnapshot,
    ResolverEndpoint,
    ResolverRule,
    ResourceRecordSet,
    VpcZones,
)
from vpce_audit.rules.base import Settings
from vpce_audit.rules.builtin.routing import s3_traffic_via_nat
from vpce_audit.rules.engine import EvaluationResult, evaluate

S3_NAME = f"s3.{REGION}.amazonaws.com"
INBOUND = ("10.30.1.10", "10.30.1.11")


def _forward(
    *targets: str, vpcs: tuple[str, ...] = ("vpc-spoke",), domain: str = "amazonaws.com"
) -> ResolverRule:
    return ResolverRule(
        "rslvr-rr-central",
        domain,
        "FORWARD",
        vpcs,
        owner_id=ACCOUNT,
        target_ips=targets or tuple(f"{address}:53" for address in INBOUND),
    )


def _estate(
    *rules: ResolverRule,
    status: str = "OPERATIONAL",
    inbound_only: bool = False,
    **changes: Any,
) -> RegionSnapshot:
    """The peered hub of ``_central_spoke`` with its S3 and DynamoDB endpoints' private DNS on,
    an inbound Resolver endpoint in the hub, and the spoke's default route to a NAT gateway."""
    base = _central_spoke("nat-1")
    hub_endpoints = tuple(
        endpoint(
            e.endpoint_id,
            "vpc-hub",
            e.service_name,
            private_dns=True,
            subnets=e.subnet_ids,
            groups=e.security_group_ids,
            private_dns_only_for_inbound_resolver=inbound_only,
        )
        for e in base.vpc_endpoints
    )
    changes.setdefault(
        "resolver_endpoints",
        (ResolverEndpoint("rslvr-in-hub", "INBOUND", "vpc-hub", status, INBOUND),),
    )
    return dataclasses.replace(
        base, vpc_endpoints=hub_endpoints, resolver_rules=rules or (_forward(),), **changes
    )


def _nat_rules(estate: RegionSnapshot) -> EvaluationResult:
    """VPCE401 (S3 through a NAT gateway)."""
    return evaluate(snapshot(estate), [s3_traffic_via_nat], Settings())


def _answer(estate: RegionSnapshot, vpc_id: str = "vpc-spoke", name: str = S3_NAME) -> Any:
    view = snapshot(estate)
    return Resolver(view).answer(view.scopes[0], vpc_id, name)


def _fates_by_vpc(estate: RegionSnapshot, *vpc_ids: str) -> dict[str, set[NameFate]]:
    """What S3's names resolve to in each VPC, asked of one ``CentralDns`` (which shares
    answers between VPCs it finds alike)."""
    view = snapshot(estate)
    central = CentralDns(view)
    return {
        vpc_id: {fate for _, fate in central.resolution(view.scopes[0], vpc_id, "s3").fates}
        for vpc_id in vpc_ids
    }


def _fates(estate: RegionSnapshot) -> set[NameFate]:
    return _fates_by_vpc(estate, "vpc-spoke")["vpc-spoke"]


def test_names_forwarded_to_the_hubs_inbound_endpoint_resolve_to_its_endpoints() -> None:
    """Also where the hub's own rule for a wider domain forwards elsewhere: the endpoint's
    private DNS is more specific."""
    answer = _answer(_estate())
    assert (answer.via, answer.unknown) == ("vpc-hub", None)
    assert answer.endpoint is not None and answer.endpoint.endpoint_id == "vpce-0a1"
    # S3 is reached at the hub's endpoint over the peering: nothing leaves by the NAT.
    result = _nat_rules(_estate())
    assert (result.findings, result.skipped) == ((), ())


def test_an_endpoint_with_private_dns_for_inbound_resolvers_only_answers_forwarded_names() -> None:
    answer = _answer(_estate(inbound_only=True))
    assert answer.endpoint is not None and answer.endpoint.endpoint_id == "vpce-0a1"
    # In the hub itself the endpoint's private DNS does not answer.
    assert _answer(_estate(inbound_only=True), vpc_id="vpc-hub").endpoint is None


def test_a_hub_endpoint_the_spoke_cannot_reach_is_no_central_answer() -> None:
    """Without the spoke's route to the hub the names resolve to addresses it cannot reach:
    the calls fail at the endpoint rather than leave by the NAT (as for a broken central
    zone, VPCE207's case), so 401 stays silent, and says nothing was skipped."""
    estate = _estate()
    tables = tuple(
        dataclasses.replace(t, routes=tuple(r for r in t.routes if r.target_id != "pcx-1"))
        if t.route_table_id == "rtb-spoke"
        else t
        for t in estate.route_tables
    )
    cut = dataclasses.replace(estate, route_tables=tables)
    assert _fates(cut) == {NameFate.UNUSABLE}
    assert _fates(estate) == {NameFate.CENTRAL}
    result = _nat_rules(cut)
    assert (result.findings, result.skipped) == ((), ())


def test_a_hub_endpoint_whose_security_group_is_unknown_leaves_the_answer_unknown() -> None:
    estate = _estate()
    endpoints = tuple(
        dataclasses.replace(e, security_group_ids=("sg-gone",)) for e in estate.vpc_endpoints
    )
    unknown = dataclasses.replace(estate, vpc_endpoints=endpoints)
    assert _fates(unknown) == {NameFate.UNKNOWN}
    assert {(s.rule_id, s.resource_id) for s in _nat_rules(unknown).skipped} == {
        ("VPCE401", "rtb-spoke")
    }


def test_forwarding_elsewhere_stays_unknown() -> None:
    cases = {
        "an address no inbound endpoint holds": _estate(_forward("10.9.0.10:53")),
        "another port": _estate(_forward("10.30.1.10:5353")),
        "one target elsewhere": _estate(_forward("10.30.1.10:53", "10.9.0.10:53")),
        "an outbound endpoint's addresses": _estate(
            resolver_endpoints=(
                ResolverEndpoint("rslvr-out", "OUTBOUND", "vpc-hub", "OPERATIONAL", INBOUND),
            )
        ),
    }
    for case, estate in cases.items():
        answer = _answer(estate)
        assert answer.via is None, case
        assert answer.unknown is not None and "whose answers the scan does not see" in (
            answer.unknown
        ), case
        skipped = {(s.rule_id, s.resource_id) for s in _nat_rules(estate).skipped}
        assert skipped == {("VPCE401", "rtb-spoke")}, case


@pytest.mark.parametrize("twin_addresses", [INBOUND, None], ids=["read", "not-read"])
def test_an_address_another_inbound_endpoint_may_hold_stays_unknown(
    twin_addresses: tuple[str, ...] | None,
) -> None:
    """VPCs with overlapping blocks: which endpoint the outbound endpoint reaches is not judged,
    also where the other's addresses were not read."""
    estate = _estate(
        resolver_endpoints=(
            ResolverEndpoint("rslvr-in-hub", "INBOUND", "vpc-hub", "OPERATIONAL", INBOUND),
            ResolverEndpoint("rslvr-in-twin", "INBOUND", "vpc-twin", "OPERATIONAL", twin_addresses),
        )
    )
    assert _answer(estate).via is None


def test_a_rule_that_forwards_the_hubs_own_names_back_is_a_loop() -> None:
    """The rule associated with the hub too sends the hub's queries to its own inbound
    endpoint (a rule of the endpoint's own domain wins over its private DNS)."""
    answer = _answer(_estate(_forward(vpcs=("vpc-spoke", "vpc-hub"), domain=S3_NAME)))
    assert (answer.zone, answer.endpoint) == (None, None)
    assert answer.unknown == (
        f"Resolver rule rslvr-rr-central ({S3_NAME}) forwards the name from vpc-spoke to "
        "inbound Resolver endpoint rslvr-in-hub in vpc-hub, where Resolver rule "
        f"rslvr-rr-central ({S3_NAME}) forwards the name from vpc-hub to inbound Resolver "
        "endpoint rslvr-in-hub in vpc-hub, whose rules forward it back: a loop"
    )


def test_what_the_hub_cannot_tell_stays_unknown_and_says_where() -> None:
    estate = _estate()
    hub_rule = ResolverRule(
        "rslvr-rr-hub", S3_NAME, "FORWARD", ("vpc-hub",), target_ips=("192.0.2.1:53",)
    )
    answer = _answer(dataclasses.replace(estate, resolver_rules=(_forward(), hub_rule)))
    assert answer.unknown is not None
    assert answer.unknown.startswith(
        "Resolver rule rslvr-rr-central (amazonaws.com) forwards the name from vpc-spoke to "
        "inbound Resolver endpoint rslvr-in-hub in vpc-hub, where Resolver rule rslvr-rr-hub"
    )


def test_a_private_zone_of_the_hub_answers_forwarded_names() -> None:
    """The centralised pattern with the zones associated with the hub alone: the spoke's
    forwarded query gets the hub zone's alias to the endpoint, and the spoke's path to it is
    judged."""
    target = f"vpce-0a1-1a2b3c4d.s3.{REGION}.vpce.amazonaws.com"
    zone = HostedZone(
        "Z1",
        S3_NAME,
        True,
        (HostedZoneVpc("vpc-hub", REGION),),
        (
            ResourceRecordSet(S3_NAME, "A", alias_target=target),
            ResourceRecordSet(f"*.{S3_NAME}", "A", alias_target=target),
        ),
    )
    accounts = (AccountSnapshot(ACCOUNT, "2026-11-26T00:00:00Z", hosted_zones=(zone,)),)
    estate = dataclasses.replace(_estate(), vpc_endpoints=_central_spoke("nat-1").vpc_endpoints)
    view = snapshot(estate, accounts=accounts)
    answer = Resolver(view).answer(view.scopes[0], "vpc-spoke", S3_NAME)
    assert (answer.zone, answer.via, answer.unknown) == (zone, "vpc-hub", None)
    result = evaluate(view, [s3_traffic_via_nat], Settings())
    assert (result.findings, result.skipped) == ((), ())
    # Without the forwarding rule the spoke resolves S3 publicly, through its NAT gateway.
    alone = snapshot(dataclasses.replace(estate, resolver_rules=()), accounts=accounts)
    found = evaluate(alone, [s3_traffic_via_nat], Settings()).findings
    assert [(f.rule_id, f.resource_id) for f in found] == [("VPCE401", "rtb-spoke")]


def test_two_vpcs_forwarding_to_each_others_inbound_endpoints_are_a_loop() -> None:
    """The hub forwards the name on to the spoke's inbound endpoint, which forwards it back."""
    estate = _estate(
        _forward(domain=S3_NAME),
        ResolverRule(
            "rslvr-rr-back", S3_NAME, "FORWARD", ("vpc-hub",), target_ips=("10.31.1.10:53",)
        ),
        resolver_endpoints=(
            ResolverEndpoint("rslvr-in-hub", "INBOUND", "vpc-hub", "OPERATIONAL", INBOUND),
            ResolverEndpoint(
                "rslvr-in-spoke", "INBOUND", "vpc-spoke", "OPERATIONAL", ("10.31.1.10",)
            ),
        ),
    )
    answer = _answer(estate)
    assert answer.unknown is not None and answer.unknown.endswith(
        "inbound Resolver endpoint rslvr-in-spoke in vpc-spoke, whose rules forward it back: a loop"
    )


def test_each_forwarding_vpc_is_judged_by_its_own_path() -> None:
    """Two spokes alike but for their routes: one reaches the hub, the other does not."""
    estate = _estate(_forward(vpcs=("vpc-spoke", "vpc-lost")))
    estate = dataclasses.replace(
        estate,
        vpcs=(*estate.vpcs, vpc("vpc-lost", "10.32.0.0/16")),
        subnets=(*estate.subnets, subnet("subnet-lost", "vpc-lost", cidr="10.32.1.0/24")),
        route_tables=(
            *estate.route_tables,
            table("rtb-lost", "vpc-lost", route("0.0.0.0/0", "nat-2"), subnets=("subnet-lost",)),
        ),
    )
    assert _fates_by_vpc(estate, "vpc-spoke", "vpc-lost") == {
        "vpc-spoke": {NameFate.CENTRAL},
        "vpc-lost": {NameFate.UNUSABLE},
    }


def test_an_endpoint_that_is_not_serving_is_named_with_its_status() -> None:
    """UPDATING still answers; CREATING or AUTO_RECOVERING may not."""
    assert _answer(_estate(status="UPDATING")).via == "vpc-hub"
    for status in ("CREATING", "AUTO_RECOVERING"):
        answer = _answer(_estate(status=status))
        assert (answer.via, answer.zone, answer.endpoint) == (None, None, None)
        assert answer.unknown is not None
        assert answer.unknown.endswith(f"in vpc-hub, which is {status}: it may not answer")


def test_a_hub_without_dns_hostnames_answers_publicly() -> None:
    """Private zones and endpoints' private DNS need enableDnsSupport and enableDnsHostnames in
    the VPC whose Resolver answers
    (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/hosted-zone-private-considerations.html):
    the hub's Resolver answers the forwarded name publicly, and the spoke's S3 traffic leaves by
    its NAT gateway. Attributes not read leave it unknown. Found by review."""
    for hostnames, fate in ((False, NameFate.PUBLIC), (None, NameFate.UNKNOWN)):
        estate = _estate()
        vpcs = tuple(
            dataclasses.replace(v, enable_dns_hostnames=hostnames) if v.vpc_id == "vpc-hub" else v
            for v in estate.vpcs
        )
        assert _fates(dataclasses.replace(estate, vpcs=vpcs)) == {fate}, hostnames
    off = _estate()
    off = dataclasses.replace(
        off,
        vpcs=tuple(
            dataclasses.replace(v, enable_dns_hostnames=False) if v.vpc_id == "vpc-hub" else v
            for v in off.vpcs
        ),
    )
    found = _nat_rules(off).findings
    assert [(f.rule_id, f.resource_id) for f in found] == [("VPCE401", "rtb-spoke")]
    # Its own rules still apply there: one forwarding the name on leaves it unknown.
    onward = ResolverRule(
        "rslvr-rr-hub", S3_NAME, "FORWARD", ("vpc-hub",), target_ips=("192.0.2.1:53",)
    )
    assert _fates(dataclasses.replace(off, resolver_rules=(_forward(), onward))) == {
        NameFate.UNKNOWN
    }


def test_via_names_the_vpc_whose_resolver_answered() -> None:
    """spoke -> hub -> hub2: the hub forwards the name on, and hub2's endpoint answers."""
    estate = _estate(
        _forward(),
        ResolverRule(
            "rslvr-rr-hub", "amazonaws.com", "FORWARD", ("vpc-hub",), target_ips=("10.40.1.10:53",)
        ),
        resolver_endpoints=(
            ResolverEndpoint("rslvr-in-hub", "INBOUND", "vpc-hub", "OPERATIONAL", INBOUND),
            ResolverEndpoint(
                "rslvr-in-hub2", "INBOUND", "vpc-hub2", "OPERATIONAL", ("10.40.1.10",)
            ),
        ),
    )
    endpoints = tuple(
        dataclasses.replace(e, vpc_id="vpc-hub2") if e.endpoint_id == "vpce-0a1" else e
        for e in estate.vpc_endpoints
    )
    estate = dataclasses.replace(
        estate, vpc_endpoints=endpoints, vpcs=(*estate.vpcs, vpc("vpc-hub2", "10.40.0.0/16"))
    )
    answer = _answer(estate)
    assert answer.endpoint is not None and answer.endpoint.vpc_id == "vpc-hub2"
    assert answer.via == "vpc-hub2"


def test_a_spoke_whose_zones_are_not_all_known_is_not_answered_by_the_hub() -> None:
    """A private zone of the spoke that the scan could not list, more specific than the rule,
    would answer instead (found by review)."""
    accounts = (
        AccountSnapshot(
            ACCOUNT, "2026-11-26T00:00:00Z", vpc_zones=(VpcZones("vpc-spoke", REGION, None),)
        ),
    )
    view = snapshot(_estate(), accounts=accounts)
    answer = Resolver(view).answer(view.scopes[0], "vpc-spoke", S3_NAME)
    assert (answer.via, answer.unknown is not None) == (None, True)


def test_an_inbound_endpoint_of_another_region_is_not_followed() -> None:
    other = region(
        name="us-east-1",
        resolver_endpoints=[
            ResolverEndpoint("rslvr-in-far", "INBOUND", "vpc-far", "OPERATIONAL", INBOUND)
        ],
    )
    view = snapshot(_estate(resolver_endpoints=()), other)
    scope = next(s for s in view.scopes if s.region == REGION)
    assert Resolver(view).answer(scope, "vpc-spoke", S3_NAME).via is None


def test_an_ipv6_target_written_another_way_is_followed() -> None:
    estate = _estate(
        _forward("[fd00:ec2:0:0::10]:53"),
        resolver_endpoints=(
            ResolverEndpoint(
                "rslvr-in-hub", "INBOUND", "vpc-hub", "OPERATIONAL", ("fd00:ec2::10",)
            ),
        ),
    )
    assert _answer(estate).via == "vpc-hub"


def test_a_hub_in_another_account_answers_with_its_own_endpoints() -> None:
    """The centralised design's hub is usually a network account's: the spoke's account does
    not list the hub's endpoints."""
    base = _estate()
    spoke = dataclasses.replace(
        base,
        vpcs=tuple(v for v in base.vpcs if v.vpc_id == "vpc-spoke"),
        subnets=tuple(s for s in base.subnets if s.vpc_id == "vpc-spoke"),
        route_tables=tuple(t for t in base.route_tables if t.vpc_id == "vpc-spoke"),
        vpc_endpoints=(),
        security_groups=(),
        resolver_endpoints=(),
    )
    hub = dataclasses.replace(
        base,
        account_id=OTHER_ACCOUNT,
        vpcs=tuple(v for v in base.vpcs if v.vpc_id != "vpc-spoke"),
        subnets=tuple(s for s in base.subnets if s.vpc_id != "vpc-spoke"),
        route_tables=tuple(t for t in base.route_tables if t.vpc_id != "vpc-spoke"),
        resolver_rules=(),
    )
    view = snapshot(spoke, hub)
    scope = next(s for s in view.scopes if s.account_id == ACCOUNT)
    answer = Resolver(view).answer(scope, "vpc-spoke", S3_NAME)
    assert answer.via == "vpc-hub"
    assert answer.endpoint is not None and answer.endpoint.endpoint_id == "vpce-0a1"


def test_an_account_whose_inbound_endpoints_were_not_listed_may_hold_the_target() -> None:
    """Another account of the region failed ListResolverEndpoints: an inbound endpoint of its
    (an overlapping VPC's) may hold the target as well. Found by review."""
    other = region(
        account=OTHER_ACCOUNT,
        vpcs=[vpc("vpc-twin", "10.30.0.0/16")],
        errors=[error("resolver_endpoints", "ListResolverEndpoints", account=OTHER_ACCOUNT)],
    )
    view = snapshot(_estate(), other)
    scope = next(s for s in view.scopes if s.account_id == ACCOUNT)
    answer = Resolver(view).answer(scope, "vpc-spoke", S3_NAME)
    assert (answer.via, answer.unknown is not None) == (None, True)


def test_an_unread_endpoint_whose_vpc_cannot_hold_the_target_is_no_doubt() -> None:
    """An inbound endpoint's addresses are its VPC's: one in 172.31.0.0/16 cannot hold
    10.30.1.10, and an outbound endpoint's addresses (never read) are no target at all."""
    estate = _estate(
        resolver_endpoints=(
            ResolverEndpoint("rslvr-in-hub", "INBOUND", "vpc-hub", "OPERATIONAL", INBOUND),
            ResolverEndpoint("rslvr-in-far", "INBOUND", "vpc-far", "OPERATIONAL", None),
            ResolverEndpoint("rslvr-out-hub", "OUTBOUND", "vpc-hub", "OPERATIONAL", None),
        )
    )
    estate = dataclasses.replace(estate, vpcs=(*estate.vpcs, vpc("vpc-far", "172.31.0.0/16")))
    assert _answer(estate).via == "vpc-hub"


def test_a_hub_with_one_dns_attribute_off_answers_publicly_whatever_the_other() -> None:
    for support in (None, True):
        estate = _estate()
        vpcs = tuple(
            dataclasses.replace(v, enable_dns_support=support, enable_dns_hostnames=False)
            if v.vpc_id == "vpc-hub"
            else v
            for v in estate.vpcs
        )
        estate = dataclasses.replace(estate, vpcs=vpcs)
        answer = _answer(estate)
        assert (answer.via, answer.zone, answer.endpoint, answer.unknown) == (
            "vpc-hub",
            None,
            None,
            None,
        ), support
        assert _fates(estate) == {NameFate.PUBLIC}


def test_a_hub_vpc_missing_from_its_scope_leaves_the_answer_unknown() -> None:
    estate = _estate()
    estate = dataclasses.replace(
        estate, vpcs=tuple(v for v in estate.vpcs if v.vpc_id != "vpc-hub")
    )
    answer = _answer(estate)
    assert answer.endpoint is None
    assert answer.unknown is not None and answer.unknown.endswith(
        "whose DNS attributes were not read"
    )


def test_unlisted_zones_matter_only_below_the_rules_domain() -> None:
    """A zone takes a name from a rule only when more specific than the rule's domain: a rule
    for the name itself leaves an unlisted zone nothing to take. Where one may take it, the
    reason names the unlisted zones (found by review)."""
    accounts = (
        AccountSnapshot(
            ACCOUNT, "2026-11-26T00:00:00Z", vpc_zones=(VpcZones("vpc-spoke", REGION, None),)
        ),
    )
    exact = snapshot(_estate(_forward(domain=S3_NAME)), accounts=accounts)
    answer = Resolver(exact).answer(exact.scopes[0], "vpc-spoke", S3_NAME)
    assert (answer.via, answer.unknown) == ("vpc-hub", None)
    wider = snapshot(_estate(), accounts=accounts)
    answer = Resolver(wider).answer(wider.scopes[0], "vpc-spoke", S3_NAME)
    assert answer.unknown == (
        "the private hosted zones that answer in vpc-spoke are not all known (ListHostedZonesByVPC "
        "failed, or a Route 53 Profile associated with it carries resources the scan cannot "
        "place): one more specific than Resolver rule rslvr-rr-central (amazonaws.com) would "
        "take the name from it"
    )


def test_vpcs_whose_rules_differ_only_in_target_are_not_answered_alike() -> None:
    """Answers are shared between VPCs alike in their rules' domains and types unless one
    forwards to an inbound endpoint, however its target is written."""
    other = ResolverRule(
        "rslvr-rr-other", "amazonaws.com", "FORWARD", ("vpc-spoke2",), target_ips=("192.0.2.53:53",)
    )
    estate = _estate(
        _forward("[fd00:ec2:0:0::10]:53"),
        other,
        resolver_endpoints=(
            ResolverEndpoint(
                "rslvr-in-hub", "INBOUND", "vpc-hub", "OPERATIONAL", ("fd00:ec2::10",)
            ),
        ),
    )
    estate = dataclasses.replace(estate, vpcs=(*estate.vpcs, vpc("vpc-spoke2", "10.50.0.0/16")))
    assert _fates_by_vpc(estate, "vpc-spoke2", "vpc-spoke") == {
        "vpc-spoke2": {NameFate.UNKNOWN},
        "vpc-spoke": {NameFate.CENTRAL},
    }


def _inbound(protocols: tuple[str, ...] | None) -> dict[str, Any]:
    return {
        "resolver_endpoints": (
            ResolverEndpoint(
                "rslvr-in-hub", "INBOUND", "vpc-hub", "OPERATIONAL", INBOUND, protocols=protocols
            ),
        )
    }


def _forward_by(protocol: str, port: int) -> ResolverRule:
    return dataclasses.replace(
        _forward(*(f"{address}:{port}" for address in INBOUND)),
        target_protocols=(protocol, protocol),
    )


@pytest.mark.parametrize(
    ("protocols", "rule"),
    [
        (("Do53", "DoH"), _forward_by("Do53", 53)),
        ((), _forward_by("", 53)),  # none listed: Do53, as AWS treats it
        (None, _forward()),  # a snapshot before schema 8: protocols unknown, taken as Do53
        (("DoH",), _forward_by("DoH", 443)),
        (("Do53", "DoH-FIPS"), _forward_by("DoH-FIPS", 443)),
    ],
    ids=["do53-and-doh", "none-listed", "before-schema-8", "doh", "doh-fips"],
)
def test_a_forward_in_a_protocol_the_inbound_endpoint_takes_is_followed(
    protocols: tuple[str, ...] | None, rule: ResolverRule
) -> None:
    """Protocols per https://docs.aws.amazon.com/Route53/latest/APIReference/API_route53resolver_TargetAddress.html;
    DNS over HTTPS on port 443 (resolver-forwarding-inbound-queries-values.html)."""
    answer = _answer(_estate(rule, **_inbound(protocols)))
    assert (answer.via, answer.unknown) == ("vpc-hub", None)
    assert answer.endpoint is not None and answer.endpoint.endpoint_id == "vpce-0a1"


@pytest.mark.parametrize(
    ("protocols", "rule", "taken", "refused"),
    [
        (("DoH",), _forward_by("Do53", 53), "DoH", "Do53"),
        (("DoH-FIPS",), _forward_by("", 53), "DoH-FIPS", "Do53"),
        ((), _forward_by("DoH", 443), "Do53", "DoH"),
        (("Do53", "DoH"), _forward_by("DoH-FIPS", 443), "Do53, DoH", "DoH-FIPS"),
    ],
    ids=["doh-only-endpoint", "fips-only-endpoint", "do53-only-endpoint", "fips-to-doh"],
)
def test_a_forward_in_a_protocol_the_inbound_endpoint_does_not_take_is_not_answered(
    protocols: tuple[str, ...], rule: ResolverRule, taken: str, refused: str
) -> None:
    """The queries reach no server there: the names are neither the hub's answer nor public,
    and VPCE401 says why it cannot judge the spoke rather than calling it healthy."""
    estate = _estate(rule, **_inbound(protocols))
    assert _answer(estate).unknown == (
        "Resolver rule rslvr-rr-central (amazonaws.com) forwards the name from vpc-spoke to "
        f"inbound Resolver endpoint rslvr-in-hub in vpc-hub, which takes {taken} only: the "
        f"rule's {refused} queries get no answer there"
    )
    assert _fates(estate) == {NameFate.UNKNOWN}
    result = _nat_rules(estate)
    assert result.findings == ()
    assert [(s.rule_id, s.resource_id) for s in result.skipped] == [("VPCE401", "rtb-spoke")]


@pytest.mark.parametrize(
    "rule",
    [_forward_by("DoH", 53), _forward_by("Do53", 443), _forward_by("DoT", 853)],
    ids=["doh-on-53", "do53-on-443", "unknown-protocol"],
)
def test_a_target_on_another_port_than_its_protocols_is_not_followed(rule: ResolverRule) -> None:
    # Not the endpoint's service: what answers there is not seen, as for any other DNS server.
    answer = _answer(_estate(rule, **_inbound(("Do53", "DoH"))))
    assert answer.via is None
    assert answer.unknown is not None and "whose answers the scan does not see" in answer.unknown


def test_every_target_must_be_in_a_protocol_the_endpoint_takes() -> None:
    """A rule with a Do53 target and a DoH one to a Do53-only endpoint: the DoH queries get no
    answer, so what the name resolves to is not the hub's answer alone."""
    rule = dataclasses.replace(
        _forward(f"{INBOUND[0]}:53", f"{INBOUND[1]}:443"), target_protocols=("Do53", "DoH")
    )
    answer = _answer(_estate(rule, **_inbound(("Do53",))))
    assert answer.via is None
    assert answer.unknown is not None and answer.unknown.endswith(
        "which takes Do53 only: the rule's DoH queries get no answer there"
    )


def test_doh_to_an_endpoint_of_doh_fips_alone_may_not_be_answered() -> None:
    """A rule's target protocol must be its outbound endpoint's, which cannot be DoH-FIPS
    (https://docs.aws.amazon.com/Route53/latest/APIReference/API_route53resolver_TargetAddress.html):
    whether a DoH-FIPS endpoint answers DoH is not documented, and the reason says "may"."""
    answer = _answer(_estate(_forward_by("DoH", 443), **_inbound(("DoH-FIPS",))))
    assert answer.unknown is not None and answer.unknown.endswith(
        "which takes DoH-FIPS only: the rule's DoH queries may get no answer there"
    )


def test_an_inbound_endpoints_protocols_are_read_as_aws_lists_them() -> None:
    item = {"Id": "rslvr-in-1", "Direction": "INBOUND", "HostVPCId": "vpc-1", "Status": "x"}
    addresses = [{"Ip": "10.0.0.2"}]
    assert translate.resolver_endpoint(item, addresses).protocols == ()  # none listed: Do53
    item["Protocols"] = ["Do53", "DoH"]
    assert translate.resolver_endpoint(item, addresses).protocols == ("Do53", "DoH")
