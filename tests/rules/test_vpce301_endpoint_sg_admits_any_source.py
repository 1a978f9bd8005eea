"""VPCE301: an endpoint's private-only interfaces admit any source address. Low, medium when the
VPC routes to networks outside the organisation
(https://docs.aws.amazon.com/vpc/latest/privatelink/create-interface-endpoint.html)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tests.helpers import (
    ACCOUNT,
    OTHER_ACCOUNT,
    endpoint,
    error,
    findings,
    flagged,
    ingress,
    region,
    route,
    security_group,
    skipped,
    snapshot,
    subnet,
    table,
    vpc,
)
from vpce_audit.findings import Severity
from vpce_audit.model import (
    AccountSnapshot,
    PeeringConnection,
    PeeringSide,
    PrefixList,
    RegionSnapshot,
)
from vpce_audit.rules.base import Settings
from vpce_audit.rules.builtin.security_groups import endpoint_sg_admits_any_source as rule
from vpce_audit.rules.engine import evaluate


def estate(*extra_routes: tuple[str, str], **collections: object) -> RegionSnapshot:
    base: dict[str, object] = {
        "vpcs": [vpc("vpc-1", "10.0.0.0/16")],
        "subnets": [subnet("subnet-1", "vpc-1")],
        "route_tables": [
            table("rtb-1", "vpc-1", *(route(d, t) for d, t in extra_routes), subnets=("subnet-1",))
        ],
        "security_groups": [
            security_group("sg-open4", "vpc-1", ingress("0.0.0.0/0")),
            security_group("sg-open6", "vpc-1", ingress("::/0", "-1", None)),
            security_group("sg-tight", "vpc-1", ingress("10.0.0.0/16"), ingress("sg-clients")),
            security_group("sg-almost", "vpc-1", ingress("0.0.0.0/1"), ingress("10.0.0.0/8")),
        ],
        "vpc_endpoints": [
            endpoint("vpce-mixed", "vpc-1", "ssm", groups=("sg-open4", "sg-tight")),
            endpoint("vpce-tight", "vpc-1", "ssm", groups=("sg-tight",)),
            endpoint("vpce-v6", "vpc-1", "kms", groups=("sg-open6",)),
            endpoint("vpce-almost", "vpc-1", "kms", groups=("sg-almost",)),
            endpoint("vpce-deleted", "vpc-1", "kms", groups=("sg-open4",), state="deleted"),
            endpoint("vpce-missing-sg", "vpc-1", "kms", groups=("sg-gone",)),
            endpoint("vpce-gateway", "vpc-1", "s3", "Gateway"),
            endpoint(
                "vpce-aws-managed",
                "vpc-1",
                "guardduty-data",
                groups=("sg-open4",),
                requester_managed=True,
            ),
            endpoint(
                "vpce-lattice",
                "vpc-1",
                "",
                "ServiceNetwork",
                groups=("sg-open4",),
                service_network_arn="arn:aws:vpc-lattice:eu-west-1:111111111111:servicenetwork/sn-1",
            ),
        ],
    }
    base.update(collections)
    return region(**base)  # type: ignore[arg-type]


def test_flags_endpoints_with_a_group_open_to_any_source() -> None:
    assert flagged(rule, estate()) == {"vpce-mixed", "vpce-v6", "vpce-lattice"}


def test_low_when_nothing_outside_the_organisation_routes_to_the_vpc() -> None:
    finding = findings(rule, estate())["vpce-mixed"]
    assert finding.severity is Severity.LOW
    assert "sg-open4" in finding.message and "sg-tight" not in finding.message
    assert "any source address (0.0.0.0/0)" in finding.message
    assert "none of them outside the organisation" in finding.message


def test_medium_when_the_vpc_routes_to_a_peer_of_an_untrusted_account() -> None:
    peering = PeeringConnection(
        "pcx-partner",
        "active",
        PeeringSide("111111111111", "vpc-1", "eu-west-1", ("10.0.0.0/16",)),
        PeeringSide(OTHER_ACCOUNT, "vpc-partner", "eu-west-1", ("172.16.0.0/16",)),
    )
    routed = estate(("172.16.0.0/16", "pcx-partner"), peering_connections=[peering])
    finding = findings(rule, routed)["vpce-mixed"]
    assert finding.severity is Severity.MEDIUM
    assert f"peering pcx-partner with account {OTHER_ACCOUNT}" in finding.message
    # An unrouted peering is no path.
    assert findings(rule, estate(peering_connections=[peering]))["vpce-mixed"].severity is (
        Severity.LOW
    )


def test_low_when_the_peer_is_an_account_of_unknown_membership() -> None:
    """Without the organisation's member list the peer may be a member: say so, stay low."""
    peering = PeeringConnection(
        "pcx-member",
        "active",
        PeeringSide(ACCOUNT, "vpc-1", "eu-west-1", ("10.0.0.0/16",)),
        PeeringSide(OTHER_ACCOUNT, "vpc-peer", "eu-west-1", ("172.16.0.0/16",)),
    )
    routed = estate(("172.16.0.0/16", "pcx-member"), peering_connections=[peering])
    unknown = AccountSnapshot(ACCOUNT, "2026-11-26T00:00:00Z", "o-trusted0001", None)
    result = evaluate(snapshot(routed, accounts=(unknown,)), [rule], Settings())
    finding = {f.resource_id: f for f in result.findings}["vpce-mixed"]
    assert finding.severity is Severity.LOW
    assert "membership of the organisation is unknown" in finding.message
    assert "outside the organisation (" not in finding.message


def test_medium_when_the_vpc_routes_to_a_virtual_private_gateway() -> None:
    finding = findings(rule, estate(("192.168.0.0/16", "vgw-1")))["vpce-v6"]
    assert finding.severity is Severity.MEDIUM
    assert "virtual private gateway vgw-1 (VPN / Direct Connect)" in finding.message


def test_medium_and_said_so_when_the_paths_could_not_be_read() -> None:
    unread = estate(errors=[error("peering_connections", "DescribeVpcPeeringConnections")])
    finding = findings(rule, unread)["vpce-mixed"]
    assert finding.severity is Severity.MEDIUM
    assert "peering_connections not collected" in finding.message


def test_aws_managed_endpoints_and_unknown_groups_are_skipped() -> None:
    reasons = {s.resource_id: s.reason for s in skipped(rule, estate())}
    assert set(reasons) == {"vpce-aws-managed", "vpce-missing-sg"}
    assert "RequesterManaged" in reasons["vpce-aws-managed"]


def test_spokes_of_one_gateway_share_its_exits_and_never_count_their_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Spokes on one transit gateway whose table reaches a VPN: each open endpoint is medium,
    naming the VPN, and no spoke's own attachment is a way out. What the gateway table leads to
    is worked out once for all spokes (a hub's table routes to each: per spoke, it was
    quadratic)."""
    from vpce_audit.analysis.topology import Topology
    from vpce_audit.model import (
        TransitGatewayAttachment,
        TransitGatewayRoute,
        TransitGatewayRouteTable,
        TransitGatewayRouteTarget,
    )

    names = [f"vpc-{n}" for n in range(4)]

    def attached(attachment_id: str, kind: str, resource: str, owner: str) -> Any:
        return TransitGatewayAttachment(
            attachment_id, "tgw-1", ACCOUNT, kind, resource, owner, "available", "tgw-rtb-1"
        )

    attachments = [attached(f"tgw-attach-{v}", "vpc", v, ACCOUNT) for v in names]
    attachments.append(attached("tgw-attach-vpn", "vpn", "vpn-1", ACCOUNT))
    routes = tuple(
        TransitGatewayRoute(
            "10.0.0.0/8", (TransitGatewayRouteTarget(a.attachment_id),), "propagated", "active"
        )
        for a in attachments
    )
    ids = tuple(a.attachment_id for a in attachments)
    hub = region(
        vpcs=[vpc(v, f"10.{n}.0.0/16") for n, v in enumerate(names)],
        subnets=[subnet(f"subnet-{v}", v) for v in names],
        route_tables=[
            table(f"rtb-{v}", v, route("0.0.0.0/0", "tgw-1"), subnets=(f"subnet-{v}",))
            for v in names
        ],
        security_groups=[security_group(f"sg-{v}", v, ingress("0.0.0.0/0")) for v in names],
        vpc_endpoints=[endpoint(f"vpce-{v}", v, "ssm", groups=(f"sg-{v}",)) for v in names],
        transit_gateway_attachments=attachments,
        transit_gateway_route_tables=[
            TransitGatewayRouteTable("tgw-rtb-1", "tgw-1", ids, ids, routes)
        ],
    )
    calls: list[str] = []
    find = Topology._find_gateway_exits

    def counted(self: Topology, *args: Any) -> Any:
        calls.append(args[0])
        return find(self, *args)

    monkeypatch.setattr(Topology, "_find_gateway_exits", counted)
    found = findings(rule, hub)
    assert calls == ["tgw-1"]
    assert set(found) == {f"vpce-{v}" for v in names}
    for v in names:
        assert found[f"vpce-{v}"].severity is Severity.MEDIUM
        assert "tgw-1 attachment tgw-attach-vpn (vpn)" in found[f"vpce-{v}"].message
        assert f"tgw-attach-{v}" not in found[f"vpce-{v}"].message


def test_a_prefix_list_holding_any_address_is_any_source() -> None:
    """A rule admits every CIDR of the prefix list it names
    (https://docs.aws.amazon.com/vpc/latest/userguide/managed-prefix-lists.html): a list holding
    0.0.0.0/0 admits what the CIDR would. A list of narrower blocks does not; one whose entries
    are unknown may hold it, so the endpoint is skipped, not passed."""
    lists = [
        PrefixList("pl-anywhere", "anywhere", ACCOUNT, cidrs=("10.9.0.0/16", "0.0.0.0/0")),
        PrefixList("pl-anywhere6", "anywhere6", ACCOUNT, cidrs=("::/0",)),
        PrefixList("pl-offices", "offices", ACCOUNT, cidrs=("192.0.2.0/24",)),
        PrefixList("pl-unread", "unread", ACCOUNT, cidrs=None),
    ]
    groups = [
        security_group("sg-cidr", "vpc-1", ingress("0.0.0.0/0")),
        security_group("sg-pl", "vpc-1", ingress("pl-anywhere")),
        security_group("sg-pl6", "vpc-1", ingress("pl-anywhere6")),
        security_group("sg-offices", "vpc-1", ingress("pl-offices")),
        security_group("sg-unread", "vpc-1", ingress("pl-unread")),
    ]
    endpoints = [
        endpoint(f"vpce-{g.group_id[3:]}", "vpc-1", "ssm", groups=(g.group_id,)) for g in groups
    ]
    found = estate(prefix_lists=lists, security_groups=groups, vpc_endpoints=endpoints)
    result = findings(rule, found)
    assert set(result) == {"vpce-cidr", "vpce-pl", "vpce-pl6"}
    assert "admitting any source address (0.0.0.0/0 in pl-anywhere)" in result["vpce-pl"].message
    assert "admitting any source address (::/0 in pl-anywhere6)" in result["vpce-pl6"].message
    assert [(s.resource_id, s.reason) for s in skipped(rule, found)] == [
        ("vpce-unread", "the entries of prefix list pl-unread (unread) were not read")
    ]
    # With an attached group missing too, the reason gives both.
    both = dataclasses.replace(
        found,
        vpc_endpoints=(endpoint("vpce-2", "vpc-1", "ssm", groups=("sg-unread", "sg-gone")),),
    )
    assert [s.reason for s in skipped(rule, both)] == [
        "security group sg-gone is not in the snapshot; "
        "the entries of prefix list pl-unread (unread) were not read"
    ]
