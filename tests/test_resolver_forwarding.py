"""A FORWARD rule that sends names to an inbound Resolver endpoint the scan read: the Resolver
of that endpoint's VPC answers them as for a client there (its private zones, its endpoints'
private DNS), and the client connects to the answer from its own VPC. AWS's centralised DNS
(https://docs.aws.amazon.com/whitepapers/latest/hybrid-cloud-dns-options-for-vpc/route-53-resolver-endpoints-and-forwarding-rules.html);
an endpoint with private DNS only for inbound Resolver endpoints answers such queries
(https://docs.aws.amazon.com/vpc/latest/privatelink/privatelink-access-aws-services.html)."""

from __future__ import annotations

import dataclasses
from typing import Any

from tests.helpers import ACCOUNT, REGION, endpoint, route, snapshot, subnet, table, vpc
from tests.rules.test_vpce40x_routing import _central_spoke
from vpce_audit.analysis.endpoint_dns import CentralDns, NameFate, Resolver
from vpce_audit.model import (
    AccountSnapshot,
    HostedZone,
    HostedZoneVpc,
    RegionSnapshot,
    ResolverEndpoint,
    ResolverRule,
    ResourceRecordSet,
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


def _fates(estate: RegionSnapshot) -> set[NameFate]:
    view = snapshot(estate)
    return {
        fate for _, fate in CentralDns(view).resolution(view.scopes[0], "vpc-spoke", "s3").fates
    }


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
        "an endpoint being created": _estate(status="CREATING"),
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


def test_an_address_two_inbound_endpoints_hold_stays_unknown() -> None:
    """VPCs with overlapping blocks: which one the outbound endpoint reaches is not judged."""
    estate = _estate(
        resolver_endpoints=(
            ResolverEndpoint("rslvr-in-hub", "INBOUND", "vpc-hub", "OPERATIONAL", INBOUND),
            ResolverEndpoint("rslvr-in-twin", "INBOUND", "vpc-twin", "OPERATIONAL", INBOUND),
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
    view = snapshot(estate)
    central = CentralDns(view)
    fates = {
        vpc_id: {fate for _, fate in central.resolution(view.scopes[0], vpc_id, "s3").fates}
        for vpc_id in ("vpc-spoke", "vpc-lost")
    }
    assert fates == {"vpc-spoke": {NameFate.CENTRAL}, "vpc-lost": {NameFate.UNUSABLE}}
