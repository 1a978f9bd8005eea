"""A VPC shared through AWS RAM (VPC sharing) is judged in its owner's account only.

A participant's DescribeVpcs lists the shared VPC and its shared subnets, but the VPC's route
tables, gateways, endpoints, peerings and flow logs belong to the owner, and the participant
sees none of them (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-sharing.html, "Participants
cannot view, modify, or delete resources that belong to ... the VPC owner"; and
https://docs.aws.amazon.com/vpc/latest/userguide/vpc-share-limitations.html). Judged in the
participant's scope, the VPC would look unlogged, unrouted and without endpoints.
"""

from __future__ import annotations

import datetime

from tests.helpers import document, region, subnet, table, vpc
from vpce_audit.findings import Finding
from vpce_audit.model import FlowLog, RegionSnapshot
from vpce_audit.rules.base import Settings
from vpce_audit.rules.registry import load_registry
from vpce_audit.scan import ScanResult, run_scan
from vpce_audit.snapshot.views import Snapshot

OWNER, PARTICIPANT = "111111111111", "222222222222"


def _owner() -> RegionSnapshot:
    # No flow log and no endpoint: VPCE602 and VPCE601 have something to say about it.
    return region(
        OWNER,
        vpcs=[vpc("vpc-shared", "10.0.0.0/16", owner=OWNER)],
        subnets=[subnet("subnet-a", "vpc-shared", cidr="10.0.1.0/24")],
        route_tables=[table("rtb-a", "vpc-shared", main=True)],
    )


def _participant() -> RegionSnapshot:
    # What AWS shows the participant: the VPC, its shared subnet, and its own VPC (which
    # overlaps the shared one and has a flow log).
    return region(
        PARTICIPANT,
        vpcs=[
            vpc("vpc-shared", "10.0.0.0/16", owner=OWNER),
            vpc("vpc-own", "10.0.0.0/16", owner=PARTICIPANT),
        ],
        subnets=[subnet("subnet-a", "vpc-shared", cidr="10.0.1.0/24")],
        flow_logs=[FlowLog("fl-1", "vpc-own", "ACTIVE", "SUCCESS", "ALL")],
    )


def _scan(*regions: RegionSnapshot) -> ScanResult:
    rules = load_registry(include_plugins=False)
    return run_scan(document(*regions), rules, Settings(), today=datetime.date(2026, 11, 27))


def _about(result: ScanResult, resource_id: str) -> set[tuple[str, str]]:
    return {
        (f.rule_id, f.account_id)
        for f in result.findings
        if resource_id in (f.resource_id, *f.related_resources)
    }


def _flagged(result: ScanResult, rule_id: str) -> set[tuple[str, str]]:
    found: list[Finding] = [f for f in result.findings if f.rule_id == rule_id]
    return {(f.account_id, f.resource_id) for f in found}


def test_a_shared_vpc_is_judged_in_its_owner_account_only() -> None:
    both = _scan(_owner(), _participant())
    assert _flagged(both, "VPCE602") == {(OWNER, "vpc-shared")}
    assert _flagged(both, "VPCE504") == {(OWNER, "vpc-shared"), (PARTICIPANT, "vpc-own")}
    # The participant adds nothing about the shared VPC to what its owner's scan says.
    owner_only = _scan(_owner())
    shared_in_both = _about(both, "vpc-shared") - {("VPCE504", OWNER), ("VPCE504", PARTICIPANT)}
    assert shared_in_both == _about(owner_only, "vpc-shared")
    assert {account for _, account in shared_in_both} == {OWNER}
    assert not [s for s in both.skipped if s.resource_id == "vpc-shared"]
    assert not [n for n in both.notices if "vpc-shared" in n]


def test_a_vpc_shared_by_an_account_not_scanned_is_named_not_judged() -> None:
    result = _scan(_participant())
    assert _about(result, "vpc-shared") == {("VPCE504", PARTICIPANT)}
    assert not [s for s in result.skipped if s.resource_id == "vpc-shared"]
    assert [n for n in result.notices if "vpc-shared" in n] == [
        f"vpc-shared is shared with account {PARTICIPANT} in eu-west-1 by account {OWNER}, "
        "which was not scanned there: a VPC's route tables, gateways, endpoints and flow logs "
        "are its owner's, so the checks of them were not made for it"
    ]
    assert _flagged(result, "VPCE602") == set()  # vpc-own has its flow log
    # Its blocks are the participant's to see: the overlap with vpc-own is still reported.
    assert _flagged(result, "VPCE504") == {(PARTICIPANT, "vpc-shared"), (PARTICIPANT, "vpc-own")}


def test_the_snapshot_finds_a_shared_vpc_in_its_owner_scope() -> None:
    # The participant's scope sorts after the owner's: the owner's copy must still win.
    snapshot = Snapshot(document(_owner(), _participant()))
    scope, _ = snapshot.vpcs_by_id["vpc-shared"]
    assert scope.account_id == OWNER
    assert [v.vpc_id for v in snapshot.scopes[1].own_vpcs] == ["vpc-own"]
    assert snapshot.unjudged_shared_vpcs == ()


def test_many_vpcs_shared_by_one_owner_make_one_notice() -> None:
    shared = [vpc(f"vpc-s{n}", f"10.{n}.0.0/16", owner=OWNER) for n in range(5)]
    result = _scan(region(PARTICIPANT, vpcs=shared))
    assert list(result.notices) == [
        f"vpc-s0, vpc-s1, vpc-s2 and 2 more VPCs are shared with account {PARTICIPANT} in "
        f"eu-west-1 by account {OWNER}, which was not scanned there: a VPC's route tables, "
        "gateways, endpoints and flow logs are its owner's, so the checks of them were not "
        "made for them"
    ]


def test_one_more_shared_vpc_is_named_in_the_singular() -> None:
    shared = [vpc(f"vpc-s{n}", f"10.{n}.0.0/16", owner=OWNER) for n in range(4)]
    (notice,) = _scan(region(PARTICIPANT, vpcs=shared)).notices
    assert notice.startswith("vpc-s0, vpc-s1, vpc-s2 and 1 more VPC are shared with")
