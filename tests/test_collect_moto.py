"""Collectors against moto (in-process): exact findings on an estate the rules were not tuned on,
read-only calls, pagination, and failures recorded instead of lost."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from tests.moto_estates import (
    build_every_call_estate,
    build_two_region_estate,
    expected_two_region_findings,
    forwarding_rule,
)
from tests.moto_gaps import answer_group_associations
from vpce_audit.analysis.dns import normalise
from vpce_audit.collect.calls import ScopeCalls
from vpce_audit.collect.operations import OPERATIONS, NotReadOnlyError, iam_actions
from vpce_audit.collect.runner import ClientFactory, CollectionRequest, collect
from vpce_audit.config import Config
from vpce_audit.model import SecurityGroupVpcAssociation
from vpce_audit.rules.base import Settings
from vpce_audit.rules.registry import load_registry
from vpce_audit.scan import ExitCode, ScanResult, run_scan, select_rules

REGIONS = ("ap-southeast-2", "us-west-2")
ACCOUNT_ID = "123456789012"  # moto's default account
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def moto_session(aws_credentials: None, moto_gaps: object) -> Iterator[Any]:
    with mock_aws():
        yield boto3.session.Session(region_name="us-west-2")


def _scan(
    session: Any, regions: tuple[str, ...] | None = REGIONS, factory: ClientFactory | None = None
) -> ScanResult:
    document = collect(factory or ClientFactory(session), CollectionRequest(regions=regions))
    rules = select_rules(load_registry(include_plugins=False), Config())
    return run_scan(document, rules, Settings())


def _by_rule(result: ScanResult) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for finding in result.findings:
        found.setdefault(finding.rule_id, set()).add(finding.resource_id)
    return found


def test_unseen_estate_gives_exactly_the_expected_findings(moto_session: Any) -> None:
    ids = build_two_region_estate(
        moto_session.client("ec2", region_name="us-west-2"),
        moto_session.client("ec2", region_name="ap-southeast-2"),
        moto_session.client("elbv2", region_name="ap-southeast-2"),
    )
    result = _scan(moto_session)
    assert result.is_complete, result.collection_errors
    assert {(f.rule_id, f.resource_id) for f in result.findings} == (
        expected_two_region_findings(ids)
    )
    assert result.skipped == ()
    conflict = next(f for f in result.findings if f.rule_id == "VPCE501")
    assert f"in {ids['rt-hub']}, 10.70.64.0/18 (" in conflict.message
    assert "overlaps the VPC's own block 10.70.0.0/16" in conflict.message
    assert conflict.region == "ap-southeast-2"
    assert result.exit_code(None) == ExitCode.CLEAN
    assert result.exit_code(_severity("medium")) == ExitCode.FINDINGS


def _severity(label: str) -> Any:
    from vpce_audit.findings import Severity

    return Severity.parse(label)


def test_collection_only_calls_read_only_apis(moto_session: Any) -> None:
    build_every_call_estate(moto_session)
    operations: list[str] = []
    calls: set[str] = set()

    def record(model: Any, **_: Any) -> None:
        operations.append(model.name)
        # IAM action prefixes are the services' signing names (route53, not route-53).
        calls.add(f"{model.service_model.signing_name}:{model.name}")

    moto_session.events.register("before-call", record)
    # moto has no Route 53 Profiles: answer one association in AWS's shape, after recording.
    moto_session.events.register("before-call", _one_profile)
    document = collect(ClientFactory(moto_session), CollectionRequest(regions=None))

    assert len(document.regions) > 10  # every enabled region, found with DescribeRegions
    # A full collection calls exactly the operations of the read-only allowlist, each of IAM
    # access level Read or List (Service Authorization Reference)...
    allowlisted = {f"{op.service}:{op.name}" for op in OPERATIONS}
    assert calls == allowlisted
    assert {op.access_level for op in OPERATIONS} <= {"Read", "List"}
    assert "ec2:SearchTransitGatewayRoutes" in calls  # read-only, though not Describe/List/Get
    # ... and the documented IAM policy grants exactly those actions (GetCallerIdentity needs
    # no permission).
    policy = json.loads((ROOT / "docs" / "iam-policy.json").read_text())
    documented = set(policy["Statement"][0]["Action"])
    assert documented == calls - {"sts:GetCallerIdentity"} == set(iam_actions())


def _one_profile(model: Any, **_: Any) -> Any:
    from botocore.awsrequest import AWSResponse

    if model.service_model.service_name != "route53profiles":
        return None
    answers = {
        "ListProfileAssociations": {
            "ProfileAssociations": [
                {"Id": "a", "ProfileId": "rp-1", "ResourceId": "vpc-1", "Status": "COMPLETE"}
            ]
        },
        "ListProfileResourceAssociations": {"ProfileResourceAssociations": []},
    }
    return AWSResponse("https://route53profiles.amazonaws.com/", 200, {}, None), answers[model.name]


def test_a_failing_region_is_recorded_and_the_other_region_is_intact(moto_session: Any) -> None:
    ids = build_two_region_estate(
        moto_session.client("ec2", region_name="us-west-2"),
        moto_session.client("ec2", region_name="ap-southeast-2"),
        moto_session.client("elbv2", region_name="ap-southeast-2"),
    )
    factory = ClientFactory(moto_session)

    def deny(**_: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "UnauthorizedOperation", "Message": "not allowed"}},
            "DescribeVpcPeeringConnections",
        )

    factory.client("ec2", "us-west-2").meta.events.register(
        "before-call.ec2.DescribeVpcPeeringConnections", deny
    )
    factory.client("ec2", "ap-southeast-2").meta.events.register(
        "before-call.ec2.DescribeVpcEndpoints", deny
    )
    result = _scan(moto_session, factory=factory)

    assert [(e.region, e.operation, e.error_code) for e in result.collection_errors] == [
        ("ap-southeast-2", "DescribeVpcEndpoints", "UnauthorizedOperation"),
        ("us-west-2", "DescribeVpcPeeringConnections", "UnauthorizedOperation"),
    ]
    found = _by_rule(result)
    # us-west-2's endpoint findings survive the other region's failure ...
    assert found["VPCE101"] == {ids["s3-gw"]}
    assert found["VPCE301"] == {ids["kms"]}
    # ... and Sydney's transit-gateway findings are intact.
    assert found["VPCE502"] == {ids["hub"], ids["edge"]}
    skipped = {(s.rule_id, s.region) for s in result.skipped if s.resource_id is None}
    assert ("VPCE101", "ap-southeast-2") in skipped
    assert ("VPCE501", "us-west-2") in skipped
    assert result.exit_code(None) == ExitCode.INCOMPLETE


def test_pagination_reads_every_page(aws_credentials: None) -> None:
    client = boto3.client("ec2", region_name="eu-west-1")
    stubber = Stubber(client)
    stubber.add_response(
        "describe_vpc_endpoints",
        {"VpcEndpoints": [{"VpcEndpointId": "vpce-1"}], "NextToken": "t1"},
        {},
    )
    stubber.add_response(
        "describe_vpc_endpoints",
        {"VpcEndpoints": [{"VpcEndpointId": "vpce-2"}]},
        {"NextToken": "t1"},
    )
    calls = ScopeCalls("111111111111", "eu-west-1")
    with stubber:
        items = calls.items(client, "DescribeVpcEndpoints", "VpcEndpoints", "vpc_endpoints")
    assert [i["VpcEndpointId"] for i in items or ()] == ["vpce-1", "vpce-2"]
    stubber.assert_no_pending_responses()


def test_unpaginated_operations_follow_next_tokens(aws_credentials: None) -> None:
    client = boto3.client("ec2", region_name="eu-west-1")
    stubber = Stubber(client)
    stubber.add_response(
        "describe_vpn_connections", {"VpnConnections": [{"VpnConnectionId": "vpn-1"}]}, {}
    )
    calls = ScopeCalls("111111111111", "eu-west-1")
    with stubber:
        items = calls.items(client, "DescribeVpnConnections", "VpnConnections", "vpn_connections")
    assert [i["VpnConnectionId"] for i in items or ()] == ["vpn-1"]


@pytest.mark.parametrize(
    ("raised", "code"),
    [
        (NotImplementedError("moto lacks it"), "NotImplementedError"),
        (ClientError({"Error": {"Code": "Throttling", "Message": "slow down"}}, "X"), "Throttling"),
        (RuntimeError("surprise"), "RuntimeError"),
    ],
)
def test_any_failure_at_the_call_boundary_is_recorded(
    aws_credentials: None, raised: Exception, code: str
) -> None:
    client = boto3.client("ec2", region_name="eu-west-1")

    def fail(**_: Any) -> None:
        raise raised

    client.meta.events.register("before-call.ec2.DescribeFlowLogs", fail)
    calls = ScopeCalls("111111111111", "eu-west-1")
    assert calls.items(client, "DescribeFlowLogs", "FlowLogs", "flow_logs") is None
    (error,) = calls.errors
    assert (error.operation, error.error_code, error.resource_kind) == (
        "DescribeFlowLogs",
        code,
        "flow_logs",
    )


def test_operations_outside_the_allowlist_are_refused_before_any_call(
    aws_credentials: None,
) -> None:
    client = boto3.client("ec2", region_name="eu-west-1")
    made: list[str] = []
    client.meta.events.register("before-call", lambda model, **_: made.append(model.name))
    calls = ScopeCalls("111111111111", "eu-west-1")
    with pytest.raises(NotReadOnlyError, match="not a read-only operation"):
        calls.items(client, "DeleteVpcEndpoints", "Unsuccessful", "vpc_endpoints")
    with pytest.raises(NotReadOnlyError, match="not a read-only operation"):
        calls.single(client, "CreateVpc", "vpcs")
    # A read-only name is not enough: the operation must be on the list.
    with pytest.raises(NotReadOnlyError):
        calls.items(client, "DescribeInstances", "Reservations", "vpcs")
    assert made == []


def test_an_account_outside_any_organisation_is_not_an_error(moto_session: Any) -> None:
    document = collect(ClientFactory(moto_session), CollectionRequest(regions=("us-west-2",)))
    (account,) = document.accounts
    assert account.organization_id is None
    assert account.errors == ()


def test_a_region_that_is_not_enabled_fails_once_not_per_call(moto_session: Any) -> None:
    factory = ClientFactory(moto_session)
    attempted: list[str] = []

    def opt_in_required(model: Any, **_: Any) -> None:
        attempted.append(model.name)
        raise ClientError(
            {"Error": {"Code": "OptInRequired", "Message": "region not enabled"}}, model.name
        )

    factory.client("ec2", "ap-southeast-2").meta.events.register("before-call", opt_in_required)
    result = _scan(moto_session, factory=factory)
    failed = [e for e in result.collection_errors if e.region == "ap-southeast-2"]
    assert len(attempted) == 1  # the first call; the rest were not made
    assert {e.error_code for e in failed} == {"OptInRequired"}
    assert len(failed) > 10  # ... but every resource kind is still recorded as missing
    assert all("not attempted" in e.message for e in failed if e.operation != attempted[0])
    assert {s.region for s in result.skipped if s.resource_id is None} == {"ap-southeast-2"}
    assert result.exit_code(None) == ExitCode.INCOMPLETE


def test_global_services_are_called_in_the_partition_of_the_home_region() -> None:
    from vpce_audit.collect.runner import global_service_region

    assert global_service_region("eu-west-1") == "us-east-1"
    assert global_service_region("cn-north-1") == "cn-northwest-1"
    assert global_service_region("us-gov-east-1") == "us-gov-west-1"


def test_a_resolver_rule_associated_with_a_vpc_is_collected_with_its_definition(
    moto_session: Any,
) -> None:
    """Through moto's ListResolverRuleAssociations and ListResolverRules: a forwarding rule for
    every name, associated with one VPC, reaches the snapshot with its targets."""
    ec2 = moto_session.client("ec2", region_name="us-west-2")
    vpc_id = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.40.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="dns", Description="dns", VpcId=vpc_id)
    resolver = moto_session.client("route53resolver", region_name="us-west-2")
    rule_id = forwarding_rule(resolver, vpc_id, subnet, group["GroupId"], ".")
    document = collect(ClientFactory(moto_session), CollectionRequest(regions=("us-west-2",)))
    (scope,) = document.regions
    assert scope.errors == ()
    (collected,) = scope.resolver_rules or ()
    # AWS lists the root as "."; moto appends a dot to what it was given (".."): one domain.
    assert (collected.rule_id, normalise(collected.domain_name or "x"), collected.rule_type) == (
        rule_id,
        "",
        "FORWARD",
    )
    assert (collected.vpc_ids, collected.target_ips) == ((vpc_id,), ("10.9.0.10:53",))


def test_vpc_attachments_are_collected_with_their_subnets(moto_session: Any) -> None:
    """DescribeTransitGatewayVpcAttachments (asked where a VPC attachment is listed) gives each
    VPC attachment the subnets where traffic from the gateway enters its VPC."""
    ec2 = moto_session.client("ec2", region_name="us-west-2")
    vpc_id = ec2.create_vpc(CidrBlock="10.41.0.0/16")["Vpc"]["VpcId"]
    subnets = sorted(
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.41.{n}.0/24", AvailabilityZone=zone)[
            "Subnet"
        ]["SubnetId"]
        for n, zone in ((1, "us-west-2a"), (2, "us-west-2b"))
    )
    gateway = ec2.create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
    attachment = ec2.create_transit_gateway_vpc_attachment(
        TransitGatewayId=gateway,
        VpcId=vpc_id,
        SubnetIds=subnets,
        Options={"ApplianceModeSupport": "enable"},
    )["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
    document = collect(ClientFactory(moto_session), CollectionRequest(regions=("us-west-2",)))
    (scope,) = document.regions
    assert scope.errors == ()
    assert [
        (a.attachment_id, a.subnet_ids, a.appliance_mode) for a in scope.transit_gateway_attachments
    ] == [(attachment, tuple(subnets), True)]


def _attachment_item(attachment_id: str, resource_type: str = "vpc") -> dict[str, Any]:
    return {
        "TransitGatewayAttachmentId": attachment_id,
        "TransitGatewayId": "tgw-1",
        "ResourceType": resource_type,
        "ResourceId": "vpc-1",
        "State": "available",
    }


def test_attachment_subnets_are_asked_only_where_a_vpc_attachment_is_listed(
    aws_credentials: None,
) -> None:
    from botocore.stub import Stubber

    from vpce_audit.collect import translate
    from vpce_audit.collect.region import RegionCalls, _attachment_subnets

    client = boto3.client("ec2", region_name="us-west-2")
    vpn = [translate.transit_gateway_attachment(_attachment_item("tgw-attach-vpn", "vpn"))]
    vpc = [translate.transit_gateway_attachment(_attachment_item("tgw-attach-vpc"))]
    with Stubber(client) as stub:  # refuses any call it was not given
        scope = ScopeCalls("123456789012", "us-west-2")
        assert _attachment_subnets(RegionCalls(scope, lambda _s: client), vpn) == {}
        stub.add_client_error(
            "describe_transit_gateway_vpc_attachments", "UnauthorizedOperation", "not allowed"
        )
        assert _attachment_subnets(RegionCalls(scope, lambda _s: client), vpc) is None
        stub.assert_no_pending_responses()
    # Recorded: the scan is incomplete, and the attachments' subnets stay unknown (None).
    assert [(e.operation, e.error_code, e.resource_kind) for e in scope.errors] == [
        (
            "DescribeTransitGatewayVpcAttachments",
            "UnauthorizedOperation",
            "transit_gateway_attachment_subnets",
        )
    ]


def test_security_group_vpc_associations_are_collected_and_admit_the_vpc(
    moto_session: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DescribeSecurityGroupVpcAssociations (moto answers it from the test's items, in AWS's
    shape) reaches the snapshot; with the client group of another VPC associated with the
    endpoint's, VPCE303 finds the endpoint reachable, and without it, reports it."""
    ec2 = moto_session.client("ec2", region_name="us-west-2")
    home = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    other = ec2.create_vpc(CidrBlock="10.43.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=home, CidrBlock="10.42.1.0/24")["Subnet"]["SubnetId"]
    clients = ec2.create_security_group(GroupName="clients", Description="c", VpcId=other)
    endpoint_group = ec2.create_security_group(GroupName="ep", Description="e", VpcId=home)
    ec2.authorize_security_group_ingress(
        GroupId=endpoint_group["GroupId"],
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "UserIdGroupPairs": [{"GroupId": clients["GroupId"]}],
            }
        ],
    )
    endpoint_id = ec2.create_vpc_endpoint(
        VpcId=home,
        ServiceName="com.amazonaws.us-west-2.ssm",
        VpcEndpointType="Interface",
        SubnetIds=[subnet],
        SecurityGroupIds=[endpoint_group["GroupId"]],
    )["VpcEndpoint"]["VpcEndpointId"]
    item = {
        "GroupId": clients["GroupId"],
        "VpcId": home,
        "VpcOwnerId": ACCOUNT_ID,
        "State": "associated",
        "GroupOwnerId": ACCOUNT_ID,
    }
    table = answer_group_associations(monkeypatch, {(ACCOUNT_ID, "us-west-2"): [item]})
    result = _scan(moto_session, ("us-west-2",))
    (scope,) = result.snapshot.document.regions
    assert scope.security_group_vpc_associations == (
        SecurityGroupVpcAssociation(clients["GroupId"], home, "associated", ACCOUNT_ID),
    )
    assert endpoint_id not in _by_rule(result).get("VPCE303", set())
    assert endpoint_id not in {s.resource_id for s in result.skipped if s.rule_id == "VPCE303"}
    table.clear()
    assert endpoint_id in _by_rule(_scan(moto_session, ("us-west-2",)))["VPCE303"]


@pytest.mark.parametrize(
    ("code", "recorded"),
    [("InvalidAction", False), ("UnsupportedOperation", False), ("UnauthorizedOperation", True)],
)
def test_a_region_without_group_associations_lists_none(
    moto_session: Any, monkeypatch: pytest.MonkeyPatch, code: str, recorded: bool
) -> None:
    """A region (or partition) that does not offer the 2024 feature answers EC2's "not a valid
    action": no group can be associated there, so the list is known and empty, and the scan is
    complete. A refusal is still a failure, recorded."""
    from moto.ec2.exceptions import EC2ClientError
    from moto.ec2.responses import EC2Response

    def refuse(self: Any) -> Any:
        raise EC2ClientError(code, "not here")

    monkeypatch.setattr(EC2Response, "describe_security_group_vpc_associations", refuse)
    ec2 = moto_session.client("ec2", region_name="us-west-2")
    ec2.create_vpc(CidrBlock="10.44.0.0/16")
    document = collect(ClientFactory(moto_session), CollectionRequest(regions=("us-west-2",)))
    (scope,) = document.regions
    errors = [(e.operation, e.error_code) for e in scope.errors]
    if recorded:
        assert errors == [("DescribeSecurityGroupVpcAssociations", code)]
    else:
        assert (errors, scope.security_group_vpc_associations) == ([], ())
