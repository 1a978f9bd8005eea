"""Routes to an AWS Cloud WAN core network.

A VPC route may target a core network (EC2's ``CoreNetworkArn``:
https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_Route.html), a wide-area network with
VPC, Site-to-Site VPN and Connect attachments of its own
(https://docs.aws.amazon.com/network-manager/latest/cloudwan/cloudwan-create-attachment.html),
whose routes the scan does not read. Such a route was of kind "other": VPCE301 said the VPC
reached nothing outside the organisation, VPCE501 and VPCE503 passed it, and a path through it
read as "no route". Now where it leads is unknown, and the rules say so.
"""

from __future__ import annotations

from tests.helpers import (
    endpoint,
    ingress,
    region,
    route,
    run,
    security_group,
    subnet,
    table,
    vpc,
)
from vpce_audit.analysis.routes import target_kind
from vpce_audit.findings import Severity
from vpce_audit.model import RegionSnapshot
from vpce_audit.rules.base import Settings
from vpce_audit.rules.builtin.address_space import cidr_overlap_on_premises as rule_503
from vpce_audit.rules.builtin.address_space import connected_networks_conflict as rule_501
from vpce_audit.rules.builtin.security_groups import endpoint_sg_admits_any_source as rule_301

CORE = "arn:aws:networkmanager::210987654321:core-network/core-network-0a1b2c3d4e5f60718"


def estate() -> RegionSnapshot:
    """A VPC whose subnet routes 10.0.0.0/8 to a core network, and an endpoint whose group
    admits any source."""
    return region(
        vpcs=[vpc("vpc-1", "10.1.0.0/16")],
        subnets=[subnet("subnet-1", "vpc-1")],
        route_tables=[table("rtb-1", "vpc-1", route("10.0.0.0/8", CORE), subnets=("subnet-1",))],
        security_groups=[security_group("sg-open", "vpc-1", ingress("0.0.0.0/0"))],
        vpc_endpoints=[endpoint("vpce-1", "vpc-1", "ssm", groups=("sg-open",))],
    )


def test_a_core_network_arn_is_its_own_kind() -> None:
    assert target_kind(CORE) == "core-network"
    assert target_kind("arn:aws:ec2:eu-west-1:111111111111:something/else-1") == "other"


def test_301_is_medium_and_says_the_core_network_is_not_read() -> None:
    result = run(rule_301, estate())
    (finding,) = result.findings
    assert finding.severity is Severity.MEDIUM
    assert f"AWS Cloud WAN core network {CORE}: what it connects" in finding.message


def test_501_and_503_skip_rather_than_pass_the_vpc() -> None:
    conflicts = run(rule_501, estate())
    assert conflicts.findings == ()
    assert [(s.resource_id, s.reason) for s in conflicts.skipped] == [
        (
            "vpc-1",
            "what vpc-1 connects to is not all known: rtb-1 routes 10.0.0.0/8 to AWS Cloud WAN "
            f"core network {CORE}, whose routes are not read",
        )
    ]
    on_premises = run(rule_503, estate(), settings=Settings())
    assert on_premises.findings == ()
    assert [s.resource_id for s in on_premises.skipped] == ["vpc-1"]
    assert f"AWS Cloud WAN core network {CORE} (rtb-1 routes to it)" in (
        on_premises.skipped[0].reason
    )


def test_a_path_into_a_core_network_is_unknown_not_no_route() -> None:
    from tests.test_topology_hops import DIRECT, _reach
    from tests.test_topology_hops import estate as hub_and_spoke

    reachable, how = _reach(hub_and_spoke(DIRECT, spoke_exit=CORE))
    assert reachable is None
    assert f"sends it to {CORE} (core-network), whose onward path this scan does not follow" in how
