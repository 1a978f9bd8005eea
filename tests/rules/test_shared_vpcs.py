"""A VPC shared through AWS RAM (VPC sharing) is judged in its owner's account only.

A participant's DescribeVpcs lists the shared VPC and its shared subnets; its DescribeRouteTables
lists the VPC's route tables too (AWS: participants can describe the VPC and its subnets, route
tables, network ACLs, gateways and DHCP option sets), with the owner's id, but the participant
cannot change them and sees none of the owner's endpoints, peerings or flow logs
(https://docs.aws.amazon.com/vpc/latest/userguide/vpc-sharing.html;
https://docs.aws.amazon.com/vpc/latest/userguide/vpc-share-limitations.html: route tables,
gateways and endpoints are the owner's). Judged in the participant's scope, the VPC would look
unlogged and without endpoints, and its route tables would be reported twice.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

import boto3

from tests.helpers import (
    document,
    error,
    region,
    route,
    service,
    service_prefix_lists,
    subnet,
    table,
    vpc,
)
from vpce_audit.collect.calls import ScopeCalls
from vpce_audit.collect.region import RegionCalls, _vpc_asks
from vpce_audit.findings import Finding
from vpce_audit.model import FlowLog, RegionSnapshot
from vpce_audit.rules.base import Settings
from vpce_audit.rules.registry import load_registry
from vpce_audit.scan import ScanResult, run_scan
from vpce_audit.snapshot.views import Snapshot

OWNER, PARTICIPANT = "111111111111", "222222222222"


# The shared VPC's main table sends everything to a NAT gateway: S3 and DynamoDB leave by it.
SHARED_TABLE = dataclasses.replace(
    table("rtb-a", "vpc-shared", route("0.0.0.0/0", "nat-1"), main=True), owner_id=OWNER
)
SERVICES: dict[str, Any] = {
    "prefix_lists": service_prefix_lists(),
    "endpoint_service_details": [service("s3", "Gateway"), service("dynamodb", "Gateway")],
}


def _owner() -> RegionSnapshot:
    # No flow log and no endpoint: VPCE602 and VPCE601 have something to say about it.
    return region(
        OWNER,
        vpcs=[vpc("vpc-shared", "10.0.0.0/16", owner=OWNER)],
        subnets=[subnet("subnet-a", "vpc-shared", cidr="10.0.1.0/24")],
        route_tables=[SHARED_TABLE],
        **SERVICES,
    )


def _participant() -> RegionSnapshot:
    # What AWS shows the participant: the VPC, its shared subnet and the VPC's route table (its
    # owner's), and its own VPC (which overlaps the shared one and has a flow log).
    return region(
        PARTICIPANT,
        vpcs=[
            vpc("vpc-shared", "10.0.0.0/16", owner=OWNER),
            vpc("vpc-own", "10.0.0.0/16", owner=PARTICIPANT),
        ],
        subnets=[subnet("subnet-a", "vpc-shared", cidr="10.0.1.0/24")],
        route_tables=[SHARED_TABLE],
        flow_logs=[FlowLog("fl-1", "vpc-own", "ACTIVE", "SUCCESS", "ALL")],
        **SERVICES,
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
    # The route table the participant also sees is reported once, in its owner's account.
    for rule_id in ("VPCE401", "VPCE402"):
        assert _flagged(both, rule_id) == {(OWNER, "rtb-a")}
    # The participant adds nothing about the shared VPC to what its owner's scan says.
    owner_only = _scan(_owner())
    shared_in_both = _about(both, "vpc-shared") - {("VPCE504", OWNER), ("VPCE504", PARTICIPANT)}
    assert shared_in_both == _about(owner_only, "vpc-shared")
    assert {account for _, account in shared_in_both} == {OWNER}
    assert not [s for s in both.skipped if s.resource_id == "vpc-shared"]
    assert not [n for n in both.notices if "vpc-shared" in n]


def test_a_vpc_shared_by_an_account_not_scanned_is_named_not_judged() -> None:
    result = _scan(_participant())
    # Only the overlap, both ways round, reported in the account that was scanned.
    assert _about(result, "vpc-shared") == {("VPCE504", PARTICIPANT)}
    assert not [s for s in result.skipped if s.resource_id == "vpc-shared"]
    assert [n for n in result.notices if "vpc-shared" in n] == [
        f"vpc-shared is shared with account {PARTICIPANT} in eu-west-1 by account {OWNER}, "
        "which was not scanned there: a VPC's route tables, gateways, endpoints and flow logs "
        "are its owner's, so the checks of them were not made for it"
    ]
    assert _flagged(result, "VPCE602") == set()  # vpc-own has its flow log
    # The owner's route table is not judged from the participant's scope (the notice says so).
    assert [f for f in result.findings if f.rule_id.startswith("VPCE40")] == []
    # Its blocks are the participant's to see: the overlap with vpc-own is still reported, in
    # the scanned account (its reports, baselines and SARIF run hold it), with the owner's ARN,
    # the VPC's: the finding keeps its fingerprint once the owner is scanned too.
    assert _flagged(result, "VPCE504") == {(PARTICIPANT, "vpc-shared"), (PARTICIPANT, "vpc-own")}
    (shared,) = [f for f in result.findings if f.resource_id == "vpc-shared"]
    assert shared.resource_arn == f"arn:aws:ec2:eu-west-1:{OWNER}:vpc/vpc-shared"
    (later,) = [
        f
        for f in _scan(_owner(), _participant()).findings
        if f.resource_id == "vpc-shared" and f.rule_id == "VPCE504"
    ]
    assert (later.account_id, later.fingerprint) == (OWNER, shared.fingerprint)


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


def test_a_shared_vpc_whose_owner_could_not_list_its_vpcs_says_so() -> None:
    failed = region(OWNER, errors=[error("vpcs", "DescribeVpcs", account=OWNER)])
    notices = [n for n in _scan(failed, _participant()).notices if "vpc-shared" in n]
    assert notices == [
        f"vpc-shared is shared with account {PARTICIPANT} in eu-west-1 by account {OWNER}, "
        "whose VPCs could not be listed there (a collection error): a VPC's route tables, "
        "gateways, endpoints and flow logs are its owner's, so the checks of them were not made "
        "for it"
    ]


def test_a_participant_does_not_ask_for_a_shared_vpcs_dns_attributes(
    aws_credentials: None,
) -> None:
    # They are the owner's settings, read in the owner's scan; asked by each participant they
    # would cost two calls of its EC2 quota per shared VPC. Stubber refuses any call.
    from botocore.stub import Stubber

    client = boto3.client("ec2", region_name="eu-west-1")
    scope = ScopeCalls(PARTICIPANT, "eu-west-1")
    calls = RegionCalls(scope, lambda _service: client)
    with Stubber(client) as stub:
        shared = {"VpcId": "vpc-shared", "OwnerId": OWNER, "CidrBlock": "10.0.0.0/16"}
        assert [ask() for ask in _vpc_asks(calls, shared)] == [None, None]
        stub.add_response("describe_vpc_attribute", {"EnableDnsSupport": {"Value": True}})
        stub.add_response("describe_vpc_attribute", {"EnableDnsHostnames": {"Value": False}})
        own = {"VpcId": "vpc-own", "OwnerId": PARTICIPANT, "CidrBlock": "10.1.0.0/16"}
        assert [ask() for ask in _vpc_asks(calls, own)] == [True, False]
        stub.assert_no_pending_responses()
    assert scope.errors == ()


def test_a_finding_about_a_shared_vpc_reaches_every_report_of_the_scanned_account() -> None:
    # SARIF writes one run per scanned account: a finding filed under the unscanned owner
    # was in no run at all.
    import json

    from vpce_audit.report import sarif

    result = _scan(_participant())
    runs = json.loads(sarif.render(result))["runs"]
    located = {
        location["physicalLocation"]["artifactLocation"]["uri"]
        for run in runs
        for found in run["results"]
        for location in found["locations"]
    }
    assert any("vpc-shared" in uri for uri in located), located
