"""VPCE406: subnets that route to a transit gateway from an Availability Zone where the VPC's
attachment has no subnet. "Any resources in Availability Zones where there is no transit gateway
attachment cannot reach the transit gateway"
(https://docs.aws.amazon.com/vpc/latest/tgw/tgw-vpc-attachments.html)."""

from __future__ import annotations

import dataclasses
from typing import Any

from tests.helpers import ACCOUNT, REGION, findings, flagged, region, route, run, subnet, table, vpc
from vpce_audit.model import PrefixList, RegionSnapshot, Subnet, TransitGatewayAttachment
from vpce_audit.rules.builtin.routing import transit_gateway_zone_not_attached as rule


def attachment(
    subnet_ids: tuple[str, ...] | None, state: str = "available"
) -> TransitGatewayAttachment:
    return TransitGatewayAttachment(
        "tgw-attach-1",
        "tgw-1",
        "999999999999",  # a hub account's gateway, shared through RAM
        "vpc",
        "vpc-1",
        ACCOUNT,
        state,
        None,
        subnet_ids=subnet_ids,
        appliance_mode=None if subnet_ids is None else False,
    )


def spoke(
    *tables: Any,
    attached: tuple[str, ...] | None = ("subnet-tgw-a", "subnet-tgw-b"),
    extra_subnets: tuple[Subnet, ...] = (),
    **collections: Any,
) -> RegionSnapshot:
    """vpc-1 with workload subnets in zones a, b and c and attachment subnets in a and b."""
    collections.setdefault("transit_gateway_attachments", [attachment(attached)])
    return region(
        vpcs=[vpc("vpc-1", "10.0.0.0/16")],
        subnets=[
            subnet("subnet-a", "vpc-1", "a"),
            subnet("subnet-b", "vpc-1", "b"),
            subnet("subnet-c", "vpc-1", "c"),
            subnet("subnet-tgw-a", "vpc-1", "a"),
            subnet("subnet-tgw-b", "vpc-1", "b"),
            *extra_subnets,
        ],
        route_tables=list(tables),
        **collections,
    )


WORKLOADS = ("subnet-a", "subnet-b", "subnet-c")


def test_subnets_of_a_zone_without_an_attachment_subnet_are_flagged() -> None:
    estate = spoke(table("rtb-private", "vpc-1", route("0.0.0.0/0", "tgw-1"), subnets=WORKLOADS))
    assert flagged(rule, estate) == {"rtb-private"}
    found = findings(rule, estate)["rtb-private"]
    assert (
        f"its routes to tgw-1 serve subnet(s) subnet-c in {REGION}c, where tgw-attach-1 has no "
        f"subnet (it has {REGION}a, {REGION}b)"
    ) in found.message
    assert set(found.related_resources) == {"vpc-1", "tgw-1", "tgw-attach-1", "subnet-c"}


def test_every_zone_covered_or_no_route_to_the_gateway_is_fine() -> None:
    covered = spoke(
        table("rtb-private", "vpc-1", route("0.0.0.0/0", "tgw-1"), subnets=WORKLOADS),
        attached=("subnet-tgw-a", "subnet-tgw-b", "subnet-c"),
    )
    assert flagged(rule, covered) == set()
    # Zone c's subnet uses a table without a route to the gateway (a NAT gateway, say); a
    # blackhole route (its attachment deleted) forwards nothing to judge.
    separate = spoke(
        table("rtb-ab", "vpc-1", route("10.0.0.0/8", "tgw-1"), subnets=("subnet-a", "subnet-b")),
        table("rtb-nat", "vpc-1", route("0.0.0.0/0", "nat-1")),
        table(
            "rtb-dead",
            "vpc-1",
            route("10.0.0.0/8", "tgw-1", state="blackhole"),
            subnets=("subnet-c",),
        ),
    )
    assert flagged(rule, separate) == set()


def test_a_subnet_on_the_main_table_counts_and_each_table_is_judged_once() -> None:
    estate = spoke(
        table("rtb-main", "vpc-1", route("10.0.0.0/8", "tgw-1"), main=True),
        table("rtb-ab", "vpc-1", route("10.0.0.0/8", "tgw-1"), subnets=("subnet-a", "subnet-b")),
    )
    # subnet-c and the attachment subnets are on the main table implicitly.
    assert flagged(rule, estate) == {"rtb-main"}
    assert f"subnet(s) subnet-c in {REGION}c" in findings(rule, estate)["rtb-main"].message


def test_local_zone_subnets_are_not_judged() -> None:
    local = Subnet("subnet-lax", "vpc-1", None, f"{REGION}-lax-1a")
    estate = spoke(
        table("rtb-lax", "vpc-1", route("0.0.0.0/0", "tgw-1"), subnets=("subnet-lax",)),
        extra_subnets=(local,),
    )
    assert flagged(rule, estate) == set()


def test_unknown_attachment_zones_skip_the_table_with_the_reason() -> None:
    unread = spoke(
        table("rtb-private", "vpc-1", route("0.0.0.0/0", "tgw-1"), subnets=WORKLOADS),
        attached=None,
    )
    result = run(rule, unread)
    assert result.findings == ()
    assert [(s.resource_id, s.reason) for s in result.skipped] == [
        (
            "rtb-private",
            "from which zones vpc-1 reaches tgw-1 is unknown: tgw-1: the subnets of "
            "tgw-attach-1 were not read",
        )
    ]
    unattached = spoke(
        table("rtb-private", "vpc-1", route("0.0.0.0/0", "tgw-1"), subnets=WORKLOADS),
        transit_gateway_attachments=[],
    )
    (skip,) = run(rule, unattached).skipped
    assert skip.reason.endswith(
        "no live attachment (available, pending or modifying) of vpc-1 to tgw-1 is in the snapshot"
    )


def _one_workload(attachment_subnet: Subnet, workload: Subnet) -> RegionSnapshot:
    """vpc-1 whose attachment's one subnet is ``attachment_subnet`` and whose one workload
    subnet, ``workload``, routes everything to the gateway."""
    return region(
        vpcs=[vpc("vpc-1", "10.0.0.0/16")],
        subnets=[attachment_subnet, workload],
        route_tables=[
            table("rtb-1", "vpc-1", route("0.0.0.0/0", "tgw-1"), subnets=(workload.subnet_id,))
        ],
        transit_gateway_attachments=[attachment((attachment_subnet.subnet_id,))],
    )


def test_zones_are_compared_by_id_where_both_sides_carry_one_else_by_name() -> None:
    """Names differ between accounts, ids do not; where a subnet lacks its id (a hand-made
    snapshot), the names of one VPC's subnets, read by its owner, agree."""
    with_id = Subnet("subnet-a", "vpc-1", None, f"{REGION}a", availability_zone_id="euw1-az1")
    named = Subnet("subnet-tgw-a", "vpc-1", None, f"{REGION}a")
    assert flagged(rule, _one_workload(named, with_id)) == set()
    # By id: the workload subnet's zone is the attachment's, under another name (as a second
    # account would call it); and another zone under the same name.
    same_zone = dataclasses.replace(
        named, availability_zone=f"{REGION}b", availability_zone_id="euw1-az1"
    )
    assert flagged(rule, _one_workload(same_zone, with_id)) == set()
    other_zone = dataclasses.replace(named, availability_zone_id="euw1-az9")
    assert flagged(rule, _one_workload(other_zone, with_id)) == {"rtb-1"}


def test_an_attachment_not_yet_carrying_traffic_is_not_a_zone_problem() -> None:
    pending = spoke(
        table("rtb-private", "vpc-1", route("0.0.0.0/0", "tgw-1"), subnets=WORKLOADS),
        transit_gateway_attachments=[
            attachment(("subnet-tgw-a", "subnet-tgw-b"), state="pendingAcceptance")
        ],
    )
    result = run(rule, pending)
    assert result.findings == ()
    assert [s.reason for s in result.skipped] == [
        "from which zones vpc-1 reaches tgw-1 is unknown: tgw-1: tgw-attach-1 is "
        "pendingAcceptance: it carries nothing"
    ]


def test_an_attachment_its_two_accounts_list_in_different_states_is_not_judged() -> None:
    """The gateway owner's copy of the attachment, read minutes (or a shard) apart from the VPC
    owner's, is the one the gateway goes by: while they disagree, whether the attachment carries
    the zones' traffic is unknown (``Topology.idle``, as for VPCE207)."""
    routed = table("rtb-private", "vpc-1", route("0.0.0.0/0", "tgw-1"), subnets=WORKLOADS)
    hub = "999999999999"

    def hub_copy(state: str) -> RegionSnapshot:
        copy = dataclasses.replace(attachment(None, state=state), subnet_ids=None)
        return region(hub, transit_gateway_attachments=[copy])

    assert flagged(rule, spoke(routed), hub_copy("available")) == {"rtb-private"}
    for state in ("pendingAcceptance", "deleting"):
        result = run(rule, spoke(routed), hub_copy(state))
        assert result.findings == ()
        assert [s.reason for s in result.skipped] == [
            "from which zones vpc-1 reaches tgw-1 is unknown: tgw-1: tgw-attach-1 is "
            f"available / {state} in different accounts' listings: whether it carries traffic "
            "is unknown"
        ]


def test_each_gateway_is_judged_with_its_own_attachment_and_long_lists_are_cut() -> None:
    many = tuple(subnet(f"subnet-c{n:02d}", "vpc-1", "c") for n in range(12))
    second = TransitGatewayAttachment(
        "tgw-attach-2",
        "tgw-2",
        ACCOUNT,
        "vpc",
        "vpc-1",
        ACCOUNT,
        "available",
        None,
        subnet_ids=("subnet-tgw-a", "subnet-tgw-b", "subnet-c00"),
        appliance_mode=False,
    )
    estate = spoke(
        table(
            "rtb-private",
            "vpc-1",
            route("0.0.0.0/0", "tgw-1"),
            route("10.0.0.0/8", "tgw-2"),
            subnets=tuple(s.subnet_id for s in many),
        ),
        extra_subnets=many,
        transit_gateway_attachments=[attachment(("subnet-tgw-a", "subnet-tgw-b")), second],
    )
    message = findings(rule, estate)["rtb-private"].message
    listed = ", ".join(f"subnet-c{n:02d}" for n in range(10))
    assert f"its routes to tgw-1 serve subnet(s) {listed} and 2 more in {REGION}c" in message
    assert "tgw-2" not in message  # its attachment covers zone c


def test_an_attachment_subnet_missing_from_the_snapshot_skips_the_table() -> None:
    estate = spoke(
        table("rtb-private", "vpc-1", route("0.0.0.0/0", "tgw-1"), subnets=WORKLOADS),
        attached=("subnet-tgw-a", "subnet-gone"),
    )
    (skip,) = run(rule, estate).skipped
    assert skip.reason.endswith("subnet subnet-gone of tgw-attach-1 is not in the snapshot")


def test_a_route_to_an_empty_customer_prefix_list_sends_nothing_to_the_gateway() -> None:
    """A customer-managed prefix list with no entries matches no address: its route forwards
    nothing, from any zone. Entries unknown (not read), or any entry, and the route counts."""

    def estate(cidrs: tuple[str, ...] | None) -> RegionSnapshot:
        return spoke(
            table("rtb-private", "vpc-1", route("pl-0onprem", "tgw-1"), subnets=WORKLOADS),
            prefix_lists=[PrefixList("pl-0onprem", "on-premises", ACCOUNT, cidrs=cidrs)],
        )

    assert flagged(rule, estate(())) == set()
    assert flagged(rule, estate(("192.168.0.0/16",))) == {"rtb-private"}
    assert flagged(rule, estate(None)) == {"rtb-private"}
