"""Collection details of rules v2, against recorded response shapes (botocore Stubber) where moto
lacks the API or cannot produce the answer AWS gives, and against moto where it can.

A Stubber fails the test on any call it was not told to expect, so "only these calls, with
these parameters" is part of every assertion here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from tests.helpers import endpoint, region, service, skipped
from vpce_audit.collect import translate
from vpce_audit.collect.account import organization_members, private_hosted_zones, vpc_zones
from vpce_audit.collect.calls import ScopeCalls
from vpce_audit.collect.region import (
    RegionCalls,
    _cross_region_service_details,
    _endpoint_interfaces,
    _profile_associations,
    _tgw_route_table,
    offered_in,
)
from vpce_audit.collect.runner import ClientFactory, CollectionRequest, collect
from vpce_audit.model import EndpointInterface, ProfileResource, VpcZones, ZoneSummary
from vpce_audit.rules.builtin.endpoint_policy import endpoint_policy_full_access

ACCOUNT = "111111111111"


@pytest.fixture
def stubbed(aws_credentials: None) -> Iterator[Any]:
    """A factory of stubbed clients; every stub must have been used up when the test ends."""
    stubbers: list[Stubber] = []

    def make(service_name: str, region_name: str = "eu-west-1") -> tuple[Any, Stubber]:
        client = boto3.client(service_name, region_name=region_name)
        stubber = Stubber(client)
        stubber.activate()
        stubbers.append(stubber)
        return client, stubber

    yield make
    for stubber in stubbers:
        stubber.assert_no_pending_responses()
        stubber.deactivate()


def test_list_accounts_refused_means_membership_unknown_not_a_failure(stubbed: Any) -> None:
    client, stub = stubbed("organizations", "us-east-1")
    stub.add_client_error("list_accounts", "AccessDeniedException", "member account")
    calls = ScopeCalls(ACCOUNT, "global")
    assert organization_members(client, calls) is None
    assert calls.errors == ()


def test_list_accounts_failing_otherwise_is_a_recorded_error(stubbed: Any) -> None:
    client, stub = stubbed("organizations", "us-east-1")
    stub.add_client_error("list_accounts", "ServiceException", "try later")
    calls = ScopeCalls(ACCOUNT, "global")
    assert organization_members(client, calls) is None
    assert [(e.operation, e.error_code, e.resource_kind) for e in calls.errors] == [
        ("ListAccounts", "ServiceException", "organization_members")
    ]


def test_list_accounts_reads_every_page(stubbed: Any) -> None:
    client, stub = stubbed("organizations", "us-east-1")

    def account(account_id: str) -> dict[str, Any]:
        return {"Id": account_id, "Arn": f"arn:aws:organizations::{account_id}:account/x"}

    stub.add_response(
        "list_accounts", {"Accounts": [account("222222222222")], "NextToken": "page2"}, {}
    )
    stub.add_response(
        "list_accounts", {"Accounts": [account("111111111111")]}, {"NextToken": "page2"}
    )
    assert organization_members(client, ScopeCalls(ACCOUNT, "global")) == (
        "111111111111",
        "222222222222",
    )


def _zone(zone_id: str, name: str, private: bool = True) -> dict[str, Any]:
    return {
        "Id": f"/hostedzone/{zone_id}",
        "Name": name,
        "CallerReference": zone_id,
        "Config": {"PrivateZone": private},
    }


def test_records_are_read_only_for_zones_that_may_answer_for_aws_services(stubbed: Any) -> None:
    client, stub = stubbed("route53", "us-east-1")
    zones = [
        _zone("ZCORP", "corp.example.com."),
        _zone("ZSSM", "ssm.eu-west-1.amazonaws.com."),
        _zone("ZPUBLIC", "example.org.", private=False),
    ]
    stub.add_response(
        "list_hosted_zones",
        {"HostedZones": zones, "IsTruncated": False, "MaxItems": "100", "Marker": ""},
        {},
    )
    vpc = {"VPCRegion": "eu-west-1", "VPCId": "vpc-1"}
    for zone in zones[:2]:
        zone_id = zone["Id"].rsplit("/", 1)[-1]
        stub.add_response("get_hosted_zone", {"HostedZone": zone, "VPCs": [vpc]}, {"Id": zone_id})
        if zone_id == "ZSSM":
            record = {
                "Name": "ssm.eu-west-1.amazonaws.com.",
                "Type": "A",
                "AliasTarget": {
                    "HostedZoneId": "Z1",
                    "DNSName": "vpce-0abc-1x.ssm.eu-west-1.vpce.amazonaws.com.",
                    "EvaluateTargetHealth": False,
                },
            }
            stub.add_response(
                "list_resource_record_sets",
                {"ResourceRecordSets": [record], "IsTruncated": False, "MaxItems": "300"},
                {"HostedZoneId": "ZSSM"},
            )
    calls = ScopeCalls(ACCOUNT, "global")
    # One call in flight at a time keeps the stubbed order deterministic.
    with mock.patch("vpce_audit.collect.account.ROUTE53_CALLS_IN_FLIGHT", 1):
        corp, ssm = private_hosted_zones(client, calls)
    assert calls.errors == ()
    assert (corp.hosted_zone_id, corp.records) == ("ZCORP", None)
    assert ssm.hosted_zone_id == "ZSSM"
    assert [(r.name, r.record_type, r.alias_target) for r in ssm.records or ()] == [
        (
            "ssm.eu-west-1.amazonaws.com",
            "A",
            "vpce-0abc-1x.ssm.eu-west-1.vpce.amazonaws.com",
        )
    ]


def test_unreadable_records_are_recorded_against_their_zone(stubbed: Any) -> None:
    client, stub = stubbed("route53", "us-east-1")
    zone = _zone("ZSTS", "amazonaws.com.")
    stub.add_response(
        "list_hosted_zones",
        {"HostedZones": [zone], "IsTruncated": False, "MaxItems": "100", "Marker": ""},
        {},
    )
    stub.add_response(
        "get_hosted_zone",
        {"HostedZone": zone, "VPCs": [{"VPCRegion": "eu-west-1", "VPCId": "vpc-1"}]},
        {"Id": "ZSTS"},
    )
    stub.add_client_error("list_resource_record_sets", "AccessDenied", "no")
    calls = ScopeCalls(ACCOUNT, "global")
    with mock.patch("vpce_audit.collect.account.ROUTE53_CALLS_IN_FLIGHT", 1):
        (found,) = private_hosted_zones(client, calls)
    assert found.records is None
    assert [(e.resource_kind, e.resource_id) for e in calls.errors] == [
        ("hosted_zone_records", "ZSTS")
    ]


def test_transit_gateway_routes_are_searched_for_active_and_blackhole_routes(
    stubbed: Any,
) -> None:
    client, stub = stubbed("ec2")
    table_id = "tgw-rtb-1"
    stub.add_response(
        "get_transit_gateway_route_table_associations",
        {"Associations": [{"TransitGatewayAttachmentId": "tgw-attach-a", "State": "associated"}]},
        {"TransitGatewayRouteTableId": table_id},
    )
    stub.add_response(
        "get_transit_gateway_route_table_propagations",
        {"TransitGatewayRouteTablePropagations": []},
        {"TransitGatewayRouteTableId": table_id},
    )
    stub.add_response(
        "search_transit_gateway_routes",
        {
            "Routes": [
                {
                    "DestinationCidrBlock": "10.9.0.0/16",
                    "TransitGatewayAttachments": [
                        {
                            "ResourceId": "vpc-9",
                            "TransitGatewayAttachmentId": "tgw-attach-9",
                            "ResourceType": "vpc",
                        }
                    ],
                    "Type": "static",
                    "State": "active",
                },
                {"DestinationCidrBlock": "10.8.0.0/16", "Type": "static", "State": "blackhole"},
            ],
            "AdditionalRoutesAvailable": False,
        },
        {
            "TransitGatewayRouteTableId": table_id,
            "Filters": [{"Name": "state", "Values": ["active", "blackhole"]}],
        },
    )
    calls = RegionCalls(ScopeCalls(ACCOUNT, "eu-west-1"), lambda _service: client)
    table = _tgw_route_table(
        calls, {"TransitGatewayRouteTableId": table_id, "TransitGatewayId": "tgw-1"}
    )
    assert table.associated_attachment_ids == ("tgw-attach-a",)
    assert {(r.destination_cidr, r.state, r.attachment_ids) for r in table.routes or ()} == {
        ("10.9.0.0/16", "active", ("tgw-attach-9",)),
        ("10.8.0.0/16", "blackhole", ()),
    }


def _stub_table_reads(stub: Any, table_id: str, *pages: dict[str, Any]) -> None:
    stub.add_response(
        "get_transit_gateway_route_table_associations",
        {"Associations": []},
        {"TransitGatewayRouteTableId": table_id},
    )
    stub.add_response(
        "get_transit_gateway_route_table_propagations",
        {"TransitGatewayRouteTablePropagations": []},
        {"TransitGatewayRouteTableId": table_id},
    )
    search = {
        "TransitGatewayRouteTableId": table_id,
        "Filters": [{"Name": "state", "Values": ["active", "blackhole"]}],
    }
    for number, page in enumerate(pages):
        stub.add_response(
            "search_transit_gateway_routes",
            page,
            {**search, "NextToken": pages[number - 1]["NextToken"]} if number else search,
        )


def _tgw_routes(count: int, first: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "DestinationCidrBlock": f"10.{i // 256}.{i % 256}.0/24",
            "Type": "propagated",
            "State": "active",
            "TransitGatewayAttachments": [
                {
                    "TransitGatewayAttachmentId": "tgw-attach-dx",
                    "ResourceType": "direct-connect-gateway",
                }
            ],
        }
        for i in range(first, first + count)
    ]


def test_a_route_search_that_says_more_routes_exist_without_a_token_is_incomplete(
    stubbed: Any,
) -> None:
    # AWS answers 1,000 routes of a larger table with AdditionalRoutesAvailable and (as it long
    # has) no NextToken; botocore's paginator stops there as if the list were whole.
    client, stub = stubbed("ec2")
    _stub_table_reads(
        stub, "tgw-rtb-big", {"Routes": _tgw_routes(1000), "AdditionalRoutesAvailable": True}
    )
    scope = ScopeCalls(ACCOUNT, "eu-west-1")
    calls = RegionCalls(scope, lambda _service: client)
    table = _tgw_route_table(calls, {"TransitGatewayRouteTableId": "tgw-rtb-big"})
    assert table.routes is None  # unknown, never "these 1,000 are all"
    assert [(e.operation, e.error_code, e.resource_kind, e.resource_id) for e in scope.errors] == [
        ("SearchTransitGatewayRoutes", "TruncatedListing", "transit_gateway_routes", "tgw-rtb-big")
    ]
    assert "holds the first 1000 Routes, says there are more" in scope.errors[0].message


def test_a_route_search_with_a_token_reads_every_page(stubbed: Any) -> None:
    client, stub = stubbed("ec2")
    _stub_table_reads(
        stub,
        "tgw-rtb-big",
        {"Routes": _tgw_routes(1000), "AdditionalRoutesAvailable": True, "NextToken": "t1"},
        {"Routes": _tgw_routes(5, first=1000), "AdditionalRoutesAvailable": False},
    )
    scope = ScopeCalls(ACCOUNT, "eu-west-1")
    calls = RegionCalls(scope, lambda _service: client)
    table = _tgw_route_table(calls, {"TransitGatewayRouteTableId": "tgw-rtb-big"})
    assert len(table.routes or ()) == 1005
    assert scope.errors == ()


def _cross_region_endpoint() -> Any:
    return endpoint("vpce-x", "vpc-1", "com.amazonaws.us-west-2.ssm", service_region="us-west-2")


def test_services_of_cross_region_endpoints_are_asked_of_their_region(stubbed: Any) -> None:
    client, stub = stubbed("ec2")
    detail = {
        "ServiceName": "com.amazonaws.us-west-2.ssm",
        "ServiceType": [{"ServiceType": "Interface"}],
        "Owner": "amazon",
        "VpcEndpointPolicySupported": True,
        "AcceptanceRequired": False,
    }
    stub.add_response(
        "describe_vpc_endpoint_services",
        {"ServiceDetails": [detail]},
        {"ServiceRegions": ["us-west-2"]},
    )
    same_region = endpoint("vpce-local", "vpc-1", "ssm")
    calls = RegionCalls(ScopeCalls(ACCOUNT, "eu-west-1"), lambda _service: client)
    (found,) = _cross_region_service_details(
        calls, [same_region, _cross_region_endpoint(), _cross_region_endpoint()], "eu-west-1"
    )
    assert (found.service_name, found.service_region) == (
        "com.amazonaws.us-west-2.ssm",
        "us-west-2",
    )
    assert found.vpc_endpoint_policy_supported


def test_an_unlisted_cross_region_service_skips_its_endpoints_and_says_why(stubbed: Any) -> None:
    client, stub = stubbed("ec2")
    stub.add_client_error("describe_vpc_endpoint_services", "UnauthorizedOperation", "no")
    calls = RegionCalls(ScopeCalls(ACCOUNT, "eu-west-1"), lambda _service: client)
    assert _cross_region_service_details(calls, [_cross_region_endpoint()], "eu-west-1") == []
    (failure,) = calls.calls.errors
    assert (failure.resource_kind, failure.resource_id) == ("endpoint_service_details", "us-west-2")

    # The rules then skip that endpoint instead of judging it; a listed service is judged.
    estate = region(
        endpoint_service_details=[service("ssm")],
        vpc_endpoints=[_cross_region_endpoint(), endpoint("vpce-local", "vpc-1", "ssm")],
        errors=[failure],
    )
    (skip,) = skipped(endpoint_policy_full_access, estate)
    assert skip.resource_id == "vpce-x"
    assert "us-west-2" in skip.reason


@pytest.fixture
def moto_session(aws_credentials: None, moto_gaps: object) -> Iterator[Any]:
    with mock_aws():
        yield boto3.session.Session(region_name="eu-west-1")


class RecordingFactory(ClientFactory):
    """Remembers the name of every operation its clients call."""

    def __init__(self, session: Any) -> None:
        super().__init__(session)
        self.made: list[str] = []

    def client(self, service: str, region: str) -> Any:
        made = super().client(service, region)
        made.meta.events.register(
            "before-call", lambda model, **_: self.made.append(model.name), unique_id="record"
        )
        return made


@pytest.mark.parametrize("names_unique_id", [False, True])
def test_iam_is_listed_only_when_a_policy_names_a_unique_id(
    moto_session: Any, names_unique_id: bool
) -> None:
    iam = moto_session.client("iam")
    role = iam.create_role(RoleName="reader", AssumeRolePolicyDocument="{}")["Role"]
    ec2 = moto_session.client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    principal = role["RoleId"] if names_unique_id else role["Arn"]
    policy = {
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "*", "Resource": "*"}
        ]
    }
    ec2.create_vpc_endpoint(
        VpcId=vpc_id,
        ServiceName="com.amazonaws.eu-west-1.s3",
        VpcEndpointType="Gateway",
        PolicyDocument=json.dumps(policy),
    )
    factory = RecordingFactory(moto_session)
    document = collect(factory, CollectionRequest(regions=("eu-west-1",)))
    (account,) = document.accounts
    iam_calls = sorted({name for name in factory.made if name in {"ListRoles", "ListUsers"}})
    if names_unique_id:
        assert iam_calls == ["ListRoles", "ListUsers"]
        assert account.iam_principals is not None
        assert [p.arn for p in account.iam_principals if p.unique_id == role["RoleId"]] == [
            role["Arn"]
        ]
    else:
        assert iam_calls == []
        assert account.iam_principals is None


NETWORK_ZONE_SUMMARY = {
    "HostedZoneId": "Z0NETWORK",
    "Name": "ssm.eu-west-1.amazonaws.com.",
    "Owner": {"OwningAccount": "222222222222"},
}
"""A zone of a central networking account, as ListHostedZonesByVPC lists it."""


def test_zones_of_every_vpc_are_listed_whoever_owns_them(stubbed: Any) -> None:
    client, stub = stubbed("route53", "us-east-1")
    summary = NETWORK_ZONE_SUMMARY
    stub.add_response(
        "list_hosted_zones_by_vpc",
        {"HostedZoneSummaries": [summary], "MaxItems": "100"},
        {"VPCId": "vpc-1", "VPCRegion": "eu-west-1"},
    )
    stub.add_client_error("list_hosted_zones_by_vpc", "AccessDenied", "no")
    calls = ScopeCalls(ACCOUNT, "global")
    # One call in flight at a time keeps the stubbed order deterministic.
    with mock.patch("vpce_audit.collect.account.ROUTE53_CALLS_IN_FLIGHT", 1):
        listed = vpc_zones(client, [("vpc-2", "eu-west-1"), ("vpc-1", "eu-west-1")], calls)
    assert listed == (
        VpcZones(
            "vpc-1",
            "eu-west-1",
            (ZoneSummary("Z0NETWORK", "ssm.eu-west-1.amazonaws.com.", "222222222222"),),
        ),
        VpcZones("vpc-2", "eu-west-1", None),
    )
    assert [(e.resource_kind, e.resource_id) for e in calls.errors] == [
        ("vpc_hosted_zones", "vpc-2")
    ]


def test_an_unreadable_zone_summary_makes_that_vpcs_zones_unknown_not_the_scan_fail(
    stubbed: Any,
) -> None:
    client, stub = stubbed("route53", "us-east-1")
    good = NETWORK_ZONE_SUMMARY
    stub.add_response(
        "list_hosted_zones_by_vpc",
        {"HostedZoneSummaries": [good], "MaxItems": "100"},
        {"VPCId": "vpc-1", "VPCRegion": "eu-west-1"},
    )
    stub.add_response(
        "list_hosted_zones_by_vpc",
        {"HostedZoneSummaries": [good, {**good, "Name": "unreadable."}], "MaxItems": "100"},
        {"VPCId": "vpc-2", "VPCRegion": "eu-west-1"},
    )
    calls = ScopeCalls(ACCOUNT, "global")
    real = translate.zone_summary

    def unreadable_for_vpc_2(item: dict[str, Any]) -> ZoneSummary:
        if item["Name"] == "unreadable.":  # as if an element the model needs were missing
            raise KeyError("HostedZoneId")
        return real(item)

    with (
        mock.patch("vpce_audit.collect.account.ROUTE53_CALLS_IN_FLIGHT", 1),
        mock.patch.object(translate, "zone_summary", side_effect=unreadable_for_vpc_2),
    ):
        listed = vpc_zones(client, [("vpc-1", "eu-west-1"), ("vpc-2", "eu-west-1")], calls)
    assert [(z.vpc_id, z.zones is None) for z in listed] == [("vpc-1", False), ("vpc-2", True)]
    assert [(e.error_code, e.resource_kind, e.resource_id) for e in calls.errors] == [
        ("MalformedResponse", "vpc_hosted_zones", "vpc-2")
    ]


def test_endpoint_interfaces_are_asked_for_by_id_in_chunks(stubbed: Any) -> None:
    client, stub = stubbed("ec2")
    ids = [f"eni-{n:017x}" for n in range(201)]
    endpoints = [
        endpoint("vpce-a", "vpc-1", "ssm", network_interface_ids=tuple(ids[:150])),
        endpoint("vpce-b", "vpc-1", "kms", network_interface_ids=tuple(ids[150:])),
    ]
    interface = {
        "NetworkInterfaceId": ids[0],
        "VpcId": "vpc-1",
        "SubnetId": "subnet-1",
        "PrivateIpAddress": "10.0.1.10",
        "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.1.10", "Primary": True}],
        "Ipv6Addresses": [{"Ipv6Address": "2001:db8::10"}],
        "InterfaceType": "vpc_endpoint",
    }
    for chunk, answer in ((ids[:200], [interface]), (ids[200:], [])):
        stub.add_response(
            "describe_network_interfaces",
            {"NetworkInterfaces": answer},
            {"Filters": [{"Name": "network-interface-id", "Values": chunk}]},
        )
    calls = RegionCalls(ScopeCalls(ACCOUNT, "eu-west-1"), lambda _service: client)
    (found,) = _endpoint_interfaces(calls, endpoints)
    assert found == EndpointInterface(ids[0], "vpc-1", "subnet-1", ("10.0.1.10", "2001:db8::10"))


def test_an_unreachable_service_endpoint_does_not_stop_the_other_services(
    stubbed: Any,
) -> None:
    """EndpointConnectionError says one service's endpoint is unreachable (a service not offered
    in the region): that service's later calls are recorded without being made, other services'
    calls go on. A refused region (OptInRequired) stops them all."""
    from botocore.exceptions import EndpointConnectionError

    resolver = boto3.client("route53resolver", region_name="eu-west-1")
    ec2, stub = stubbed("ec2")
    stub.add_response("describe_flow_logs", {"FlowLogs": []}, {})

    def unreachable(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url="https://route53resolver.eu-west-1.example")

    resolver.meta.events.register("before-call", unreachable)
    calls = ScopeCalls(ACCOUNT, "eu-west-1")
    assert calls.items(resolver, "ListResolverEndpoints", "ResolverEndpoints", "x") is None
    assert calls.items(resolver, "ListResolverEndpoints", "ResolverEndpoints", "y") is None
    assert calls.items(ec2, "DescribeFlowLogs", "FlowLogs", "flow_logs") == []
    assert [e.resource_kind for e in calls.errors] == ["x", "y"]
    assert "not attempted" in calls.errors[1].message


def test_route_53_profiles_and_what_they_carry_are_read(stubbed: Any) -> None:
    client, stub = stubbed("route53profiles")
    association = {
        "Id": "rpassoc-1",
        "ProfileId": "rp-central",
        "ResourceId": "vpc-spoke",
        "Status": "COMPLETE",
        "Name": "spoke",
    }
    stub.add_response("list_profile_associations", {"ProfileAssociations": [association]}, {})
    zone = {
        "ResourceType": "AWS::Route53::HostedZone",
        "ResourceArn": "arn:aws:route53:::hostedzone/Z0CENTRAL",
        "Name": "s3.eu-west-1.amazonaws.com",
        "ProfileId": "rp-central",
    }
    stub.add_response(
        "list_profile_resource_associations",
        {"ProfileResourceAssociations": [zone]},
        {"ProfileId": "rp-central"},
    )
    calls = RegionCalls(ScopeCalls(ACCOUNT, "eu-west-1"), lambda _service: client)
    (found,) = _profile_associations(calls, "eu-west-1")
    assert (found.profile_id, found.vpc_id, found.status) == ("rp-central", "vpc-spoke", "COMPLETE")
    assert found.resources == (
        ProfileResource(
            "AWS::Route53::HostedZone",
            "arn:aws:route53:::hostedzone/Z0CENTRAL",
            "s3.eu-west-1.amazonaws.com",
        ),
    )


def test_unreadable_profile_resources_are_recorded_and_profiles_are_not_asked_where_absent(
    stubbed: Any,
) -> None:
    client, stub = stubbed("route53profiles")
    association = {"Id": "a", "ProfileId": "rp-x", "ResourceId": "vpc-1", "Status": "COMPLETE"}
    stub.add_response("list_profile_associations", {"ProfileAssociations": [association]}, {})
    stub.add_client_error("list_profile_resource_associations", "AccessDeniedException", "no")
    calls = RegionCalls(ScopeCalls(ACCOUNT, "eu-west-1"), lambda _service: client)
    (found,) = _profile_associations(calls, "eu-west-1")
    assert found.resources is None
    assert [(e.resource_kind, e.resource_id) for e in calls.calls.errors] == [
        ("profile_resources", "rp-x")
    ]
    # AWS does not offer Route 53 Profiles in the ISO partition: nothing is called (a stubbed
    # client with no queued response would fail the test).
    assert not offered_in("route53profiles", "us-iso-east-1")
    assert _profile_associations(calls, "us-iso-east-1") == []
    assert offered_in("route53profiles", "eu-west-1") and offered_in("ec2", "xx-unknown-9")


def test_every_account_region_asking_at_once_reads_endpoint_data_once() -> None:
    """A scan's account-regions all ask whether Route 53 Profiles is offered as they start; one
    botocore session reads the endpoint data and the others wait for its answer."""
    import threading
    import time

    import botocore.session

    from vpce_audit.collect import region as region_module

    real = botocore.session.get_session
    sessions: list[object] = []

    def slow_session() -> object:
        time.sleep(0.05)  # long enough for every thread to arrive while the first one reads
        sessions.append(real())
        return sessions[-1]

    region_module._offered_in.cache_clear()
    region_module._endpoint_data.cache_clear()
    start = threading.Barrier(16, timeout=30)
    answers: list[bool] = []

    def ask(name: str) -> None:
        start.wait()
        answers.append(offered_in("route53profiles", name))

    names = ["eu-west-1", "us-east-1", "us-iso-east-1", "ap-south-1"] * 4
    with mock.patch.object(botocore.session, "get_session", slow_session):
        threads = [threading.Thread(target=ask, args=(name,)) for name in names]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    region_module._endpoint_data.cache_clear()  # not the patched session's for later tests
    assert len(sessions) == 1
    assert sorted(answers) == [False] * 4 + [True] * 12
