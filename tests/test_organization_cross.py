"""Cross-account reasoning in an organisation scan (``scan --org``).

One moto organisation, built once for the module: a management account and two members reached
by sts:AssumeRole, never by MOTO_ACCOUNT_ID.

* ``hub`` (us-east-1): VPC ``hub`` (10.10.0.0/16) holds an S3 interface endpoint without private
  DNS, whose security group admits 10.0.0.0/8 on 443, and the private hosted zone
  ``s3.us-east-1.amazonaws.com`` (apex and wildcard aliases to that endpoint), associated with
  ``hub`` and with two VPCs of the ``spokes`` account; ``hub``'s route table routes back to
  ``spoke-ok`` only. VPC ``transit`` (10.60.0.0/16) is peered with two VPCs of ``spokes``.
  us-west-2: ``west-hub``, a private subnet behind a NAT gateway.
* ``spokes`` (us-east-1): ``spoke-ok`` (10.20.0.0/16) and ``spoke-noreturn`` (10.30.0.0/16),
  private subnets behind NAT gateways, each peered with ``hub`` and routing 10.10.0.0/16 to it;
  ``spoke-control`` (10.21.0.0/16), the same but not associated with the zone. ``partner-y``
  (10.40.0.0/16) and ``partner-z`` (10.70.0.0/16 plus the secondary 10.40.0.0/24), peered with
  ``transit``, whose route table sends 10.40.0.0/20 to ``partner-y`` and 10.40.0.0/16 and
  10.70.0.0/16 to ``partner-z``. us-west-2: ``west-spoke``, private subnet behind a NAT gateway.

AWS refuses a peering between overlapping blocks; nothing here overlaps across a peering.

Where moto falls short, the fixture says how the gap is bridged:

* moto implements neither CreateVPCAssociationAuthorization nor an association made from the
  VPC owner's account (zones live in the owner's backend): the zone's owner associates the other
  account's VPC itself, which leaves GetHostedZone in the state AWS reaches after authorisation
  and association.
* moto's ListHostedZonesByVPC lists only the caller's own zones; AWS lists every zone associated
  with the VPC "regardless of which AWS account ... owns the hosted zones"
  (https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListHostedZonesByVPC.html):
  ``_zones_of_every_account`` answers as AWS does.
* moto lists only a peer's primary block in DescribeVpcPeeringConnections (AWS's CidrBlockSet
  lists all): ``partner-z``'s secondary block is known from ``spokes``' own scan only.
* moto does not share transit gateways through RAM (the share is ACTIVE, but the other account
  neither sees the gateway nor can attach to it): transit-gateway cases are snapshot fixtures.
* DescribeVpcEndpointServices costs moto over a second per call; the answer (the region's
  catalogue, the same for every account here, which provides no service of its own) is read
  from moto once per region and parameters (``_catalogue_once_per_region``).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import io
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.conftest import AWS_ENVIRONMENT
from tests.helpers import (
    ACCOUNT,
    endpoint,
    ingress,
    region,
    scope_of,
    security_group,
    subnet,
    with_scope,
)
from tests.helpers import REGION as FIXTURE_REGION
from tests.helpers import error as collection_error
from tests.helpers import vpc as make_vpc
from tests.moto_estates import _nat, _subnet, _table, _vpc, member_session
from tests.moto_gaps import (
    answer_endpoint_connections,
    answer_group_associations,
    answer_profiles_in_process,
)
from vpce_audit.analysis.topology import Topology
from vpce_audit.cli import main
from vpce_audit.collect import accounts as accounts_module
from vpce_audit.collect.runner import CALL_ATTEMPTS
from vpce_audit.demo.moto_gaps import transit_gateway_routes_in_aws_shape
from vpce_audit.model import (
    AccountSnapshot,
    CollectionError,
    Route,
    RouteTable,
    TransitGateway,
    TransitGatewayAttachment,
    TransitGatewayRoute,
    TransitGatewayRouteTable,
    TransitGatewayRouteTarget,
)
from vpce_audit.scan import run_scan as real_run_scan
from vpce_audit.snapshot.document import SnapshotDocument, to_json
from vpce_audit.snapshot.views import Snapshot

REGION = "us-east-1"
WEST = "us-west-2"
MANAGEMENT = "123456789012"
S3_ZONE = f"s3.{REGION}.amazonaws.com"

# -- the moto organisation ---------------------------------------------------------------------


def _peer(requester: Any, accepter: Any, vpc_id: str, peer_vpc_id: str, peer_owner: str) -> str:
    """An active cross-account peering: requested in one account, accepted in the other."""
    connection: str = requester.create_vpc_peering_connection(
        VpcId=vpc_id, PeerVpcId=peer_vpc_id, PeerOwnerId=peer_owner
    )["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    accepter.accept_vpc_peering_connection(VpcPeeringConnectionId=connection)
    return connection


def _private_vpc(ec2: Any, name: str, cidr: str, zone: str) -> tuple[str, str]:
    """A VPC whose private subnet (x.x.1.0/24) goes out through a NAT gateway in x.x.0.0/24;
    returns the VPC and the private subnet's route table."""
    base = cidr.rsplit(".", 2)[0]
    vpc_id = _vpc(ec2, name, cidr)
    public = _subnet(ec2, vpc_id, f"{base}.0.0/24", zone)
    private = _subnet(ec2, vpc_id, f"{base}.1.0/24", zone)
    return vpc_id, _table(ec2, vpc_id, [private], _nat(ec2, public))


def _build(hub_account: str, spokes_account: str) -> dict[str, str]:
    ids: dict[str, str] = {}
    hub_session, spokes_session = member_session(hub_account), member_session(spokes_account)
    hub_ec2, spokes_ec2 = hub_session.client("ec2"), spokes_session.client("ec2")

    # Centralised S3 endpoint in the hub account.
    hub = ids["hub"] = _vpc(hub_ec2, "hub", "10.10.0.0/16")
    hub_a = _subnet(hub_ec2, hub, "10.10.1.0/24", f"{REGION}a")
    hub_b = _subnet(hub_ec2, hub, "10.10.2.0/24", f"{REGION}b")
    ids["rt-hub"] = _table(hub_ec2, hub, [hub_a, hub_b], None)
    group = hub_ec2.create_security_group(
        GroupName="central-https", Description="central endpoints", VpcId=hub
    )["GroupId"]
    hub_ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "IpRanges": [{"CidrIp": "10.0.0.0/8"}],
            }
        ],
    )
    ids["hub-s3"] = hub_ec2.create_vpc_endpoint(
        VpcId=hub,
        ServiceName=f"com.amazonaws.{REGION}.s3",
        VpcEndpointType="Interface",
        SubnetIds=[hub_a, hub_b],
        SecurityGroupIds=[group],
        PrivateDnsEnabled=False,
    )["VpcEndpoint"]["VpcEndpointId"]

    # Spokes in the other member account.
    for name, cidr in (
        ("spoke-ok", "10.20.0.0/16"),
        ("spoke-noreturn", "10.30.0.0/16"),
        ("spoke-control", "10.21.0.0/16"),
    ):
        ids[name], ids[f"rt-{name}"] = _private_vpc(spokes_ec2, name, cidr, f"{REGION}a")
    for name in ("spoke-ok", "spoke-noreturn", "spoke-control"):
        connection = ids[f"pcx-{name}"] = _peer(hub_ec2, spokes_ec2, hub, ids[name], spokes_account)
        spokes_ec2.create_route(
            RouteTableId=ids[f"rt-{name}"],
            DestinationCidrBlock="10.10.0.0/16",
            VpcPeeringConnectionId=connection,
        )
    # The hub's subnets route back to spoke-ok only.
    hub_ec2.create_route(
        RouteTableId=ids["rt-hub"],
        DestinationCidrBlock="10.20.0.0/16",
        VpcPeeringConnectionId=ids["pcx-spoke-ok"],
    )

    # The hub's zone, associated with the hub and (across accounts) with two spokes.
    route53 = hub_session.client("route53")
    zone = ids["zone"] = route53.create_hosted_zone(
        Name=f"{S3_ZONE}.",
        CallerReference="central-s3",
        VPC={"VPCRegion": REGION, "VPCId": hub},
        HostedZoneConfig={"PrivateZone": True},
    )["HostedZone"]["Id"].rsplit("/", 1)[-1]
    for name in ("spoke-ok", "spoke-noreturn"):
        route53.associate_vpc_with_hosted_zone(
            HostedZoneId=zone, VPC={"VPCRegion": REGION, "VPCId": ids[name]}
        )
    endpoint_name = f"{ids['hub-s3']}-4f2a9c1e.s3.{REGION}.vpce.amazonaws.com"
    route53.change_resource_record_sets(
        HostedZoneId=zone,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "CREATE",
                    "ResourceRecordSet": {
                        "Name": name,
                        "Type": "A",
                        "AliasTarget": {
                            "HostedZoneId": "Z7HUB22UULQXV",
                            "DNSName": endpoint_name,
                            "EvaluateTargetHealth": False,
                        },
                    },
                }
                for name in (f"{S3_ZONE}.", f"*.{S3_ZONE}.")
            ]
        },
    )

    # transit (hub account) peers with partner-y and partner-z (spokes account), which overlap
    # each other, not transit: the /20 route to partner-y takes all of partner-z's secondary
    # block, which the less specific /16 route meant for partner-z.
    transit = ids["transit"] = _vpc(hub_ec2, "transit", "10.60.0.0/16")
    ids["rt-transit"] = _table(
        hub_ec2, transit, [_subnet(hub_ec2, transit, "10.60.1.0/24", f"{REGION}a")], None
    )
    partner_y = ids["partner-y"] = _vpc(spokes_ec2, "partner-y", "10.40.0.0/16")
    partner_z = ids["partner-z"] = _vpc(spokes_ec2, "partner-z", "10.70.0.0/16")
    spokes_ec2.associate_vpc_cidr_block(VpcId=partner_z, CidrBlock="10.40.0.0/24")
    for name, vpc_id, cidr in (
        ("partner-y", partner_y, "10.40.1.0/24"),
        ("partner-z", partner_z, "10.70.1.0/24"),
    ):
        connection = ids[f"pcx-{name}"] = _peer(
            hub_ec2, spokes_ec2, transit, vpc_id, spokes_account
        )
        table = ids[f"rt-{name}"] = _table(
            spokes_ec2, vpc_id, [_subnet(spokes_ec2, vpc_id, cidr, f"{REGION}a")], None
        )
        spokes_ec2.create_route(
            RouteTableId=table,
            DestinationCidrBlock="10.60.0.0/16",
            VpcPeeringConnectionId=connection,
        )
    for destination, connection in (
        ("10.40.0.0/20", ids["pcx-partner-y"]),
        ("10.40.0.0/16", ids["pcx-partner-z"]),
        ("10.70.0.0/16", ids["pcx-partner-z"]),
    ):
        hub_ec2.create_route(
            RouteTableId=ids["rt-transit"],
            DestinationCidrBlock=destination,
            VpcPeeringConnectionId=connection,
        )

    # A second region in each member.
    for account, name, cidr in (
        (hub_account, "west-hub", "10.80.0.0/16"),
        (spokes_account, "west-spoke", "10.90.0.0/16"),
    ):
        west_ec2 = member_session(account, WEST).client("ec2")
        ids[name], ids[f"rt-{name}"] = _private_vpc(west_ec2, name, cidr, f"{WEST}a")
    return ids


def _zones_of_every_account(monkeypatch: pytest.MonkeyPatch) -> None:
    """ListHostedZonesByVPC as AWS answers it: the zones of every account associated with the
    VPC, each with its owning account (moto lists the caller's own zones only)."""
    from moto.route53.models import Route53Backend, route53_backends

    own_zones = Route53Backend.list_hosted_zones_by_vpc

    def list_hosted_zones_by_vpc(self: Any, vpc_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for account_id in sorted(route53_backends):
            for backend in route53_backends[account_id].values():
                found += own_zones(backend, vpc_id)
        return found

    monkeypatch.setattr(Route53Backend, "list_hosted_zones_by_vpc", list_hosted_zones_by_vpc)


def _catalogue_once_per_region(monkeypatch: pytest.MonkeyPatch) -> None:
    """DescribeVpcEndpointServices read from moto once per region and parameters, then answered
    with a copy of that answer (the same catalogue; moto is slow to serialise it)."""
    from botocore.client import BaseClient

    answers: dict[tuple[str, str], Any] = {}
    lock = threading.Lock()  # regions are collected at once: one of them asks moto
    real = BaseClient._make_api_call

    def make_api_call(client: Any, operation: str, params: Any) -> Any:
        if operation != "DescribeVpcEndpointServices":
            return real(client, operation, params)
        key = (client.meta.region_name, json.dumps(params, sort_keys=True, default=str))
        with lock:
            if key not in answers:
                answers[key] = real(client, operation, params)
            return copy.deepcopy(answers[key])

    monkeypatch.setattr(BaseClient, "_make_api_call", make_api_call)


@dataclass(frozen=True)
class Report:
    code: int
    body: dict[str, Any]
    err: str
    document: SnapshotDocument
    """What the rules were run on (collected, or read from --snapshot)."""

    def flagged(self, rule_id: str) -> set[tuple[str, str, str]]:
        """(account, region, resource) of the rule's findings."""
        return {
            (f["account_id"], f["region"], f["resource_id"])
            for f in self.body["findings"]
            if f["rule_id"] == rule_id
        }

    def finding(self, rule_id: str, resource_id: str) -> dict[str, Any]:
        found: dict[str, Any]
        (found,) = [
            f
            for f in self.body["findings"]
            if f["rule_id"] == rule_id and f["resource_id"] == resource_id
        ]
        return found

    def skipped(self, rule_id: str) -> dict[tuple[str, str, str | None], str]:
        """(account, region, resource or None for a whole scope) -> reason."""
        return {
            (s["account_id"], s["region"], s["resource_id"]): s["reason"]
            for s in self.body["skipped"]
            if s["rule_id"] == rule_id
        }

    def errors(self) -> set[tuple[str, str, str, str]]:
        return {
            (e["account_id"], e["region"], e["operation"], e["error_code"])
            for e in self.body["collection_errors"]
        }


def _run(argv: list[str]) -> Report:
    """The CLI, its JSON report, its stderr (never a traceback) and the document it judged."""
    seen: list[SnapshotDocument] = []

    def run_scan(document: SnapshotDocument, *args: Any, **kwargs: Any) -> Any:
        seen.append(document)
        return real_run_scan(document, *args, **kwargs)

    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as monkeypatch, contextlib.redirect_stderr(err):
        monkeypatch.setattr("vpce_audit.cli.run_scan", run_scan)
        code = main(argv, stdout=out)
    assert "Traceback" not in err.getvalue(), err.getvalue()
    (document,) = seen
    return Report(code, json.loads(out.getvalue()), err.getvalue(), document)


@dataclass
class Organisation:
    hub: str
    spokes: str
    ids: dict[str, str]
    reports: dict[tuple[str, ...], Report] = field(default_factory=dict)

    def scan(self, *extra: str, regions: tuple[str, ...] = (REGION, WEST)) -> Report:
        """``scan --org`` over ``regions``; the same arguments scan once per module."""
        key = (*regions, *extra)
        if key not in self.reports:
            self.reports[key] = self.scan_now(*extra, regions=regions)
        return self.reports[key]

    def scan_now(self, *extra: str, regions: tuple[str, ...] = (REGION, WEST)) -> Report:
        argv = ["scan", "--org", "--format", "json", "--fail-on", "never", *extra]
        for name in regions:
            argv += ["--region", name]
        return _run(argv)


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Organisation]:
    home = tmp_path_factory.mktemp("organisation")
    with pytest.MonkeyPatch.context() as monkeypatch:
        # What tests.conftest's aws_credentials and moto_gaps do, for the whole module.
        for key in AWS_ENVIRONMENT:
            monkeypatch.delenv(key, raising=False)
        for key, value in (
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_SESSION_TOKEN", "testing"),
            ("AWS_DEFAULT_REGION", REGION),
            ("AWS_CONFIG_FILE", str(home / "no-config")),
            ("AWS_SHARED_CREDENTIALS_FILE", str(home / "no-credentials")),
        ):
            monkeypatch.setenv(key, value)
        monkeypatch.chdir(home)  # no .vpce-audit.yml from the working directory
        answer_profiles_in_process(monkeypatch)
        answer_endpoint_connections(monkeypatch)
        answer_group_associations(monkeypatch)
        _zones_of_every_account(monkeypatch)
        _catalogue_once_per_region(monkeypatch)
        with mock_aws(), transit_gateway_routes_in_aws_shape():
            organizations = boto3.client("organizations", region_name=REGION)
            organizations.create_organization(FeatureSet="ALL")
            members = {
                name: organizations.create_account(Email=f"{name}@example.com", AccountName=name)[
                    "CreateAccountStatus"
                ]["AccountId"]
                for name in ("hub", "spokes")
            }
            ids = _build(members["hub"], members["spokes"])
            yield Organisation(members["hub"], members["spokes"], ids)


# -- peering across member accounts ------------------------------------------------------------


def test_the_whole_organisation_is_scanned_and_complete(org: Organisation) -> None:
    report = org.scan()
    assert report.code == 0 and report.body["summary"]["complete"] is True
    assert report.body["collection_errors"] == []
    assert report.body["snapshot"]["accounts"] == sorted([MANAGEMENT, org.hub, org.spokes])
    assert {(s["account_id"], s["region"]) for s in report.body["snapshot"]["scopes"]} == {
        (account, name) for account in (MANAGEMENT, org.hub, org.spokes) for name in (REGION, WEST)
    }


def test_a_peer_block_seen_only_in_the_peer_account_makes_a_conflict_in_the_requester(
    org: Organisation,
) -> None:
    """partner-z's secondary 10.40.0.0/24 is not in the peering connection (moto lists primary
    blocks only): only spokes' own scan shows it. The /20 route to partner-y (spokes) takes it
    all from transit (hub): the finding is transit's, in the hub account, and nothing is
    reported for the partners, whose only route is back to transit."""
    report = org.scan()
    ids = org.ids
    assert report.flagged("VPCE501") == {(org.hub, REGION, ids["transit"])}
    message = report.finding("VPCE501", ids["transit"])["message"]
    assert (
        f"in {ids['rt-transit']}, 10.40.0.0/24 (peer {ids['partner-z']} via "
        f"{ids['pcx-partner-z']}) overlaps 10.40.0.0/20 (peer {ids['partner-y']} via "
        f"{ids['pcx-partner-y']}), whose more specific route leaves it no address"
    ) in message


def test_peering_dns_options_are_not_judged(org: Organisation) -> None:
    """Every peering here leaves AllowDnsResolutionFromRemoteVpc off on both sides while the hub
    holds an interface endpoint: VPCE205 is retired (the option does not carry endpoint private
    DNS), so no rule runs under its id and no finding is about a peering connection."""
    report = org.scan()
    assert "VPCE205" not in report.body["summary"]["rules"]
    peerings = {org.ids[key] for key in org.ids if key.startswith("pcx-")}
    assert len(peerings) == 5
    # The premise, as the hub account sees its peerings.
    hub_ec2 = member_session(org.hub).client("ec2")
    seen = hub_ec2.describe_vpc_peering_connections()["VpcPeeringConnections"]
    assert {c["VpcPeeringConnectionId"] for c in seen} == peerings
    for connection in seen:
        assert connection["Status"]["Code"] == "active"
        for side in ("RequesterVpcInfo", "AccepterVpcInfo"):
            assert connection[side]["PeeringOptions"]["AllowDnsResolutionFromRemoteVpc"] is False
    assert {f["resource_id"] for f in report.body["findings"]} & peerings == set()


# -- a hub account's private zone answering in another account's VPCs ---------------------------


def test_a_spoke_that_resolves_s3_through_the_hub_zone_is_not_sent_to_its_nat(
    org: Organisation,
) -> None:
    """spoke-ok and spoke-control (spokes) both send S3 traffic to a NAT gateway by their
    routes, and both are peered with the hub and route to it; spoke-ok's S3 names resolve to
    the hub account's interface endpoint through the hub account's zone, which it reaches and
    is admitted by: only spoke-control, which the zone is not associated with, is flagged. (So
    is each us-west-2 VPC, where nothing is central.)"""
    report = org.scan()
    ids = org.ids
    assert report.flagged("VPCE401") == {
        (org.spokes, REGION, ids["rt-spoke-control"]),
        (org.hub, WEST, ids["rt-west-hub"]),
        (org.spokes, WEST, ids["rt-west-spoke"]),
    }
    assert report.skipped("VPCE401") == {}


def test_a_hub_subnet_without_a_route_back_breaks_the_spoke_not_the_hub(
    org: Organisation,
) -> None:
    """spoke-noreturn routes to the hub through its peering, but the hub account's route table
    of the endpoint's subnets has no route back: VPCE207 flags spoke-noreturn, in the spokes
    account, for both S3 names; spoke-ok and the hub are clean."""
    report = org.scan()
    ids = org.ids
    assert report.flagged("VPCE207") == {(org.spokes, REGION, ids["spoke-noreturn"])}
    message = report.finding("VPCE207", ids["spoke-noreturn"])["message"]
    broken = (
        f"points at {ids['hub-s3']} in {ids['hub']}, whose subnets have no route back to "
        f"{ids['spoke-noreturn']}"
    )
    for name in (S3_ZONE, f"*.{S3_ZONE}"):
        assert f"{name} in zone {S3_ZONE} ({ids['zone']}) {broken}" in message
    assert report.skipped("VPCE207") == {}


def test_without_the_hub_account_the_spokes_are_unknown_not_flagged(org: Organisation) -> None:
    """--exclude-accounts hub: the spokes account's ListHostedZonesByVPC still names the hub's
    zone, whose records, endpoint and routes are the hub account's. Neither VPCE401 nor VPCE207
    may judge spoke-ok or spoke-noreturn: both are skipped, and only what needs no hub data is
    flagged."""
    report = org.scan("--exclude-accounts", org.hub)
    ids = org.ids
    assert report.code == 0
    assert report.body["snapshot"]["accounts"] == sorted([MANAGEMENT, org.spokes])
    assert report.flagged("VPCE401") == {
        (org.spokes, REGION, ids["rt-spoke-control"]),
        (org.spokes, WEST, ids["rt-west-spoke"]),
    }
    assert report.skipped("VPCE401") == {
        (org.spokes, REGION, ids[f"rt-{name}"]): (
            f"whether {ids[name]} resolves S3 names to a central interface endpoint is unknown: "
            "a private hosted zone that answers for them, its records or the endpoint they point "
            "at could not be read, the VPC's DNS servers are not the Amazon resolver, a Route 53 "
            "Resolver rule forwards them (or the rules associated with the VPC are unknown), or "
            "its path to the endpoint passes a hop this scan does not follow (an inspection or "
            "appliance hop, a transit gateway not scanned)"
        )
        for name in ("spoke-ok", "spoke-noreturn")
    }
    assert report.flagged("VPCE207") == set()
    assert report.skipped("VPCE207") == {
        (org.spokes, REGION, ids[name]): (
            f"the records of zone {S3_ZONE} ({ids['zone']}) were not read"
        )
        for name in ("spoke-ok", "spoke-noreturn")
    }
    # transit is the hub's: its conflict is not reported, nor moved to the partners' account.
    assert report.flagged("VPCE501") == set()


# -- failures in one account-region -------------------------------------------------------------


class _Raw:
    """What botocore reads an HTTP body from."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


@dataclass(frozen=True)
class Fault:
    account: str
    region: str
    operation: str
    status: int
    code: str


def _inject(
    monkeypatch: pytest.MonkeyPatch, faults: list[Fault]
) -> dict[tuple[str, str, str], int]:
    """Answers each fault's EC2 operation in that member account-region with the error, on the
    wire (a before-send handler), so botocore's retries see it as AWS's answer; returns how many
    times each was sent. Backoff between retries is zero: the attempts, not the waits, matter."""
    from botocore.awsrequest import AWSResponse
    from botocore.retries.standard import ExponentialBackoff

    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)
    sent: dict[tuple[str, str, str], int] = {}
    real = accounts_module.assumed_clients

    def answer(fault: Fault) -> Callable[..., AWSResponse]:
        def before_send(request: Any, **_: Any) -> AWSResponse:
            key = (fault.account, fault.region, fault.operation)
            sent[key] = sent.get(key, 0) + 1
            body = (
                f"<Response><Errors><Error><Code>{fault.code}</Code><Message>injected "
                f"{fault.code}</Message></Error></Errors><RequestID>fault</RequestID></Response>"
            ).encode()
            return AWSResponse(request.url, fault.status, {}, _Raw(body))

        return before_send

    def assumed_clients(base: Any, home: str, role_arn: str, selection: Any) -> Any:
        factory = real(base, home, role_arn, selection)
        account = accounts_module.role_account(role_arn)
        make = factory.client

        def client(service: str, region_name: str) -> Any:
            made = make(service, region_name)
            for fault in faults:
                if (fault.account, fault.region, service) == (account, region_name, "ec2"):
                    made.meta.events.register_first(
                        f"before-send.ec2.{fault.operation}",
                        answer(fault),
                        unique_id=f"fault-{fault.operation}",
                    )
            return made

        monkeypatch.setattr(factory, "client", client)
        return factory

    monkeypatch.setattr(accounts_module, "assumed_clients", assumed_clients)
    return sent


def _outside(report: Report, scopes: set[tuple[str, str]]) -> set[tuple[str, str, str, str]]:
    """(rule, account, region, resource) of the findings outside ``scopes``."""
    return {
        (f["rule_id"], f["account_id"], f["region"], f["resource_id"])
        for f in report.body["findings"]
        if (f["account_id"], f["region"]) not in scopes
    }


def test_throttling_and_a_denial_in_two_scopes_leave_the_rest_of_the_organisation_intact(
    org: Organisation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DescribeRouteTables throttled past every retry in spokes/us-east-1, DescribeVpcEndpoints
    denied in hub/us-west-2: exit 3, both named in collection_errors, the rules that need them
    skipped in those scopes (never clean), and every finding elsewhere as in the clean scan."""
    baseline = org.scan()
    throttled = Fault(org.spokes, REGION, "DescribeRouteTables", 400, "RequestLimitExceeded")
    denied = Fault(org.hub, WEST, "DescribeVpcEndpoints", 403, "UnauthorizedOperation")
    sent = _inject(monkeypatch, [throttled, denied])
    report = org.scan_now()
    ids = org.ids
    assert report.code == 3 and report.body["summary"]["complete"] is False
    assert report.errors() == {
        (org.spokes, REGION, "DescribeRouteTables", "RequestLimitExceeded"),
        (org.hub, WEST, "DescribeVpcEndpoints", "UnauthorizedOperation"),
    }
    # Throttling is retried until the attempts run out; a denial is not retried.
    assert sent == {
        (org.spokes, REGION, "DescribeRouteTables"): CALL_ATTEMPTS,
        (org.hub, WEST, "DescribeVpcEndpoints"): 1,
    }
    for error in report.body["collection_errors"]:
        assert error["resource_id"] is None and error["service"] == "ec2"
    assert report.flagged("VPCE401") == {(org.spokes, WEST, ids["rt-west-spoke"])}
    assert report.skipped("VPCE401") == {
        (org.spokes, REGION, None): (
            "route_tables not collected (DescribeRouteTables: RequestLimitExceeded)"
        ),
        (org.hub, WEST, None): (
            "vpc_endpoints not collected (DescribeVpcEndpoints: UnauthorizedOperation)"
        ),
    }
    assert report.flagged("VPCE207") == set()
    assert (org.spokes, REGION, None) in report.skipped("VPCE207")
    failed = {(org.spokes, REGION), (org.hub, WEST)}
    assert _outside(report, failed) == _outside(baseline, failed)
    assert report.flagged("VPCE501") == {(org.hub, REGION, ids["transit"])}


# -- a transit gateway shared across accounts (snapshot fixtures: moto cannot share one) --------

NETWORK = "333333333333"
"""Owns tgw-0shared; shares it (through RAM in AWS) with APP_A and APP_B."""
APP_A = ACCOUNT  # the owner tests.helpers gives endpoints and security groups
APP_B = "222222222222"
PARTNER = "444455556666"
"""Outside the organisation; its VPC vpc-0c is attached to tgw-0shared too."""
ORG_ID = "o-exampleorg1"
TGW = "tgw-0shared"
TGW_TABLE = "tgw-rtb-0shared"
ATTACHMENT_A = "tgw-attach-0aaaaaaaaaaaaaaaa"
ATTACHMENT_B = "tgw-attach-0bbbbbbbbbbbbbbbb"
ATTACHMENT_C = "tgw-attach-0cccccccccccccccc"
OPEN_ENDPOINT = "vpce-0aaaaaaaaaaaaaaaa"


def _app_scope(account: str, vpc_id: str, attachment_id: str) -> Any:
    """An application account's view: its VPC (10.1.0.0/16) sends 10.0.0.0/8 to the shared
    gateway; it sees the gateway (owned by NETWORK) and its own attachment, whose route table
    only the gateway's owner sees. APP_A's VPC holds a kms endpoint open to any address."""
    suffix = vpc_id[-1]
    extra: dict[str, Any] = {}
    if account == APP_A:
        extra = {
            "vpc_endpoints": [
                endpoint(OPEN_ENDPOINT, vpc_id, "kms", subnets=("subnet-0a",), groups=("sg-0open",))
            ],
            "security_groups": [security_group("sg-0open", vpc_id, ingress("0.0.0.0/0"))],
        }
    return region(
        account,
        **extra,
        vpcs=[make_vpc(vpc_id, "10.1.0.0/16", owner=account)],
        subnets=[subnet(f"subnet-0{suffix}", vpc_id, cidr="10.1.1.0/24")],
        route_tables=[
            RouteTable(
                route_table_id=f"rtb-0{suffix}",
                vpc_id=vpc_id,
                is_main=True,
                subnet_ids=(f"subnet-0{suffix}",),
                routes=(
                    Route(destination_cidr="10.1.0.0/16", target_id="local"),
                    Route(destination_cidr="10.0.0.0/8", target_id=TGW),
                ),
            )
        ],
        transit_gateways=[TransitGateway(TGW, NETWORK, "available", True)],
        transit_gateway_attachments=[
            TransitGatewayAttachment(
                attachment_id, TGW, NETWORK, "vpc", vpc_id, account, "available"
            )
        ],
    )


def _network_scope() -> Any:
    """The owner's view: the attachments, associated with and propagating into one route table;
    vpc-0a and vpc-0b share 10.1.0.0/16, so the table holds one propagated route for it, to A;
    PARTNER's vpc-0c (10.9.0.0/16) is reached through the same table."""
    return region(
        NETWORK,
        transit_gateways=[TransitGateway(TGW, NETWORK, "available", True)],
        transit_gateway_attachments=[
            TransitGatewayAttachment(
                attachment, TGW, NETWORK, "vpc", vpc_id, owner, "available", TGW_TABLE
            )
            for attachment, vpc_id, owner in (
                (ATTACHMENT_A, "vpc-0a", APP_A),
                (ATTACHMENT_B, "vpc-0b", APP_B),
                (ATTACHMENT_C, "vpc-0c", PARTNER),
            )
        ],
        transit_gateway_route_tables=[
            TransitGatewayRouteTable(
                TGW_TABLE,
                TGW,
                associated_attachment_ids=(ATTACHMENT_A, ATTACHMENT_B, ATTACHMENT_C),
                propagating_attachment_ids=(ATTACHMENT_A, ATTACHMENT_B, ATTACHMENT_C),
                routes=tuple(
                    TransitGatewayRoute(
                        cidr,
                        (TransitGatewayRouteTarget(attachment, "vpc", vpc_id),),
                        "propagated",
                        "active",
                    )
                    for cidr, attachment, vpc_id in (
                        ("10.1.0.0/16", ATTACHMENT_A, "vpc-0a"),
                        ("10.9.0.0/16", ATTACHMENT_C, "vpc-0c"),
                    )
                ),
            )
        ],
    )


def _shared_gateway(*accounts: str) -> SnapshotDocument:
    """The estate as collected from ``accounts`` (all members of ORG_ID)."""
    scopes = {
        NETWORK: _network_scope(),
        APP_A: _app_scope(APP_A, "vpc-0a", ATTACHMENT_A),
        APP_B: _app_scope(APP_B, "vpc-0b", ATTACHMENT_B),
    }
    return SnapshotDocument(
        tool_version="test",
        created_at="2026-11-26T00:00:00Z",
        accounts=tuple(
            AccountSnapshot(
                account,
                "2026-11-26T00:00:00Z",
                organization_id=ORG_ID,
                organization_member_ids=(APP_A, APP_B, NETWORK),
            )
            for account in accounts
        ),
        regions=tuple(scopes[account] for account in accounts),
    )


@pytest.fixture
def scan_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[SnapshotDocument], Report]:
    monkeypatch.chdir(tmp_path)  # no .vpce-audit.yml from the working directory

    def scan(document: SnapshotDocument) -> Report:
        path = tmp_path / "snapshot.json"
        path.write_text(to_json(document))
        return _run(["scan", "--snapshot", str(path), "--format", "json", "--fail-on", "never"])

    return scan


def _severities(report: Report, rule_id: str) -> dict[tuple[str, str], str]:
    return {
        (f["account_id"], f["resource_id"]): f["severity"]
        for f in report.body["findings"]
        if f["rule_id"] == rule_id
    }


def test_a_shared_transit_gateway_is_judged_with_its_owner_route_table(
    scan_snapshot: Callable[[SnapshotDocument], Report],
) -> None:
    """Owner and both application accounts scanned: the owner's route table joins the two
    overlapping VPCs (VPCE502 high, each in its own account); vpc-0b's 10.0.0.0/8 route reaches,
    through that table, vpc-0a's 10.1.0.0/16, its own block (VPCE501 on vpc-0b, in APP_B); only
    the owner's gateway is flagged for auto-accepting (VPCE505), not the accounts it is shared
    with."""
    report = scan_snapshot(_shared_gateway(NETWORK, APP_A, APP_B))
    assert report.code == 0 and report.body["summary"]["complete"] is True
    assert _severities(report, "VPCE502") == {(APP_A, "vpc-0a"): "high", (APP_B, "vpc-0b"): "high"}
    for vpc_id, other in (("vpc-0a", "vpc-0b"), ("vpc-0b", "vpc-0a")):
        message = report.finding("VPCE502", vpc_id)["message"]
        assert f"{TGW_TABLE} routes to both it and {other}" in message
    assert report.flagged("VPCE501") == {(APP_B, FIXTURE_REGION, "vpc-0b")}
    message = report.finding("VPCE501", "vpc-0b")["message"]
    assert f"10.1.0.0/16 ({TGW_TABLE} propagated route to {ATTACHMENT_A})" in message
    assert report.flagged("VPCE505") == {(NETWORK, FIXTURE_REGION, TGW)}


def test_the_owner_route_table_decides_even_when_the_other_vpc_account_is_not_scanned(
    scan_snapshot: Callable[[SnapshotDocument], Report],
) -> None:
    """APP_A not scanned: the owner's route table says where 10.1.0.0/16 goes, so vpc-0b's
    conflict (VPCE501) stands; and the route vpc-0a's attachment propagates there carries its
    block, so the overlap on the gateway is reported on vpc-0b, the scanned one (VPCE502, high:
    the table routes to both)."""
    report = scan_snapshot(_shared_gateway(NETWORK, APP_B))
    assert report.flagged("VPCE501") == {(APP_B, FIXTURE_REGION, "vpc-0b")}
    assert _severities(report, "VPCE502") == {(APP_B, "vpc-0b"): "high"}
    message = report.finding("VPCE502", "vpc-0b")["message"]
    assert f"{TGW_TABLE} routes to both it and vpc-0a" in message
    assert report.flagged("VPCE505") == {(NETWORK, FIXTURE_REGION, TGW)}


def _isolated(document: SnapshotDocument) -> SnapshotDocument:
    """vpc-0a and vpc-0b (both 10.1.0.0/16) each associated with and propagating into a route
    table of its own: isolated today."""
    network = scope_of(document, NETWORK)
    tables = tuple(
        TransitGatewayRouteTable(
            f"tgw-rtb-{suffix}",
            TGW,
            (attachment,),
            (attachment,),
            (
                TransitGatewayRoute(
                    "10.1.0.0/16",
                    (TransitGatewayRouteTarget(attachment, "vpc", f"vpc-0{suffix}"),),
                    "propagated",
                    "active",
                ),
            ),
        )
        for suffix, attachment in (("a", ATTACHMENT_A), ("b", ATTACHMENT_B))
    )
    own_table = {ATTACHMENT_A: "tgw-rtb-a", ATTACHMENT_B: "tgw-rtb-b"}
    attachments = tuple(
        dataclasses.replace(
            a,
            association_route_table_id=own_table.get(a.attachment_id, a.association_route_table_id),
        )
        for a in network.transit_gateway_attachments
    )
    network = dataclasses.replace(
        network, transit_gateway_route_tables=tables, transit_gateway_attachments=attachments
    )
    return with_scope(document, network)


def test_an_unscanned_vpc_is_compared_by_the_blocks_its_attachment_propagates(
    scan_snapshot: Callable[[SnapshotDocument], Report],
) -> None:
    """Two overlapping VPCs isolated in route tables of their own: flagged on both when both
    accounts are scanned; with APP_A not scanned, still on vpc-0b (it passed clean before)."""
    both = scan_snapshot(_isolated(_shared_gateway(NETWORK, APP_A, APP_B)))
    assert _severities(both, "VPCE502") == {
        (APP_A, "vpc-0a"): "medium",
        (APP_B, "vpc-0b"): "medium",
    }
    report = scan_snapshot(_isolated(_shared_gateway(NETWORK, APP_B)))
    assert _severities(report, "VPCE502") == {(APP_B, "vpc-0b"): "medium"}
    message = report.finding("VPCE502", "vpc-0b")["message"]
    assert "overlap its own (vpc-0a): no route table of the gateway joins them yet" in message
    assert report.skipped("VPCE502") == {}


def test_without_the_gateway_owner_nothing_about_its_routes_is_invented(
    scan_snapshot: Callable[[SnapshotDocument], Report],
) -> None:
    """The owner not scanned: its route table is unknown. The overlap on one gateway is still
    plain from the attachments (VPCE502), at medium only; no conflict through the gateway's
    routes is reported (VPCE501), and the accounts it is shared with are not blamed for its
    auto-accept setting (VPCE505)."""
    report = scan_snapshot(_shared_gateway(APP_A, APP_B))
    assert _severities(report, "VPCE502") == {
        (APP_A, "vpc-0a"): "medium",
        (APP_B, "vpc-0b"): "medium",
    }
    assert report.flagged("VPCE501") == set()
    assert report.flagged("VPCE505") == set()


def test_without_the_gateway_owner_the_overlap_says_its_route_tables_are_unknown(
    scan_snapshot: Callable[[SnapshotDocument], Report],
) -> None:
    report = scan_snapshot(_shared_gateway(APP_A, APP_B))
    for vpc_id in ("vpc-0a", "vpc-0b"):
        message = report.finding("VPCE502", vpc_id)["message"]
        assert "no route table of the gateway joins them" not in message
        assert "unknown" in message


def test_without_the_gateway_owner_a_vpc_routed_to_it_is_skipped_not_passed(
    scan_snapshot: Callable[[SnapshotDocument], Report],
) -> None:
    report = scan_snapshot(_shared_gateway(APP_A, APP_B))
    assert set(report.skipped("VPCE501")) == {
        (APP_A, FIXTURE_REGION, "vpc-0a"),
        (APP_B, FIXTURE_REGION, "vpc-0b"),
    }


def test_without_the_gateway_owner_a_lone_attachment_is_skipped_by_the_overlap_rule(
    scan_snapshot: Callable[[SnapshotDocument], Report],
) -> None:
    """Only APP_A scanned: the other accounts' VPCs on the gateway are its owner's to see, so
    whether vpc-0a overlaps one of them is unknown (VPCE502 skips it, not passes it)."""
    alone = scan_snapshot(_shared_gateway(APP_A))
    assert alone.flagged("VPCE502") == set()
    assert set(alone.skipped("VPCE502")) == {(APP_A, FIXTURE_REGION, "vpc-0a")}


def test_an_unscanned_vpc_whose_blocks_no_route_shows_makes_the_overlap_unknown(
    scan_snapshot: Callable[[SnapshotDocument], Report],
) -> None:
    """The owner and APP_A scanned, APP_B not: vpc-0b's attachment propagates into the owner's
    table, but no route there carries its blocks (10.1.0.0/16 went to vpc-0a's attachment), so
    whether vpc-0a overlaps it is unknown: skipped, naming it, not passed. PARTNER's vpc-0c,
    not scanned either, is known by its propagated 10.9.0.0/16 and overlaps nothing."""
    report = scan_snapshot(_shared_gateway(NETWORK, APP_A))
    assert report.flagged("VPCE502") == set()
    assert report.skipped("VPCE502") == {
        (APP_A, FIXTURE_REGION, "vpc-0a"): (
            f"the blocks of vpc-0b of account {APP_B}, attached to {TGW} but not scanned, are "
            "unknown: no route table of the gateway that was read holds a route they propagate"
        )
    }


def test_a_shared_gateway_that_reaches_an_outside_account_raises_an_open_endpoint(
    scan_snapshot: Callable[[SnapshotDocument], Report],
) -> None:
    """OPEN_ENDPOINT (APP_A) admits any address. Through the owner's route table vpc-0a reaches
    PARTNER's VPC, outside the organisation: VPCE301 is medium and names that attachment; the
    member account APP_B on the same gateway is no reason (trusted)."""
    report = scan_snapshot(_shared_gateway(NETWORK, APP_A, APP_B))
    assert _severities(report, "VPCE301") == {(APP_A, OPEN_ENDPOINT): "medium"}
    message = report.finding("VPCE301", OPEN_ENDPOINT)["message"]
    assert f"{TGW} attachment {ATTACHMENT_C} (VPC of account {PARTNER})" in message
    assert ATTACHMENT_B not in message


def test_without_the_gateway_owner_an_open_endpoint_is_not_called_internal_only(
    scan_snapshot: Callable[[SnapshotDocument], Report],
) -> None:
    """The owner not scanned: who else is attached to tgw-0shared, and what its route table
    reaches, is unknown; the VPC routes to it. VPCE301 must say so at medium, as it does when a
    path kind was not collected, not call the endpoint reachable from the organisation only."""
    report = scan_snapshot(_shared_gateway(APP_A, APP_B))
    assert _severities(report, "VPCE301") == {(APP_A, OPEN_ENDPOINT): "medium"}
    message = report.finding("VPCE301", OPEN_ENDPOINT)["message"]
    assert "none of them outside the organisation" not in message
    assert "unknown" in message


def test_without_the_gateway_owner_the_on_premises_overlap_is_skipped_not_passed(
    scan_snapshot: Callable[[SnapshotDocument], Report],
) -> None:
    """What the owner's route table sends toward VPN or Direct Connect is unknown: VPCE503
    cannot say the VPCs' blocks are clear of on-premises prefixes, so it skips them, as
    VPCE501 does (https://docs.aws.amazon.com/vpc/latest/tgw/tgw-transit-gateways.html: only
    the gateway's owner sees its route tables)."""
    report = scan_snapshot(_shared_gateway(APP_A, APP_B))
    assert set(report.skipped("VPCE503")) == {
        (APP_A, FIXTURE_REGION, "vpc-0a"),
        (APP_B, FIXTURE_REGION, "vpc-0b"),
    }
    assert set(scan_snapshot(_shared_gateway(NETWORK, APP_A, APP_B)).skipped("VPCE503")) == set()
    # A VPC whose route tables send nothing to the gateway reaches nothing through it.
    document = _shared_gateway(APP_A, APP_B)
    app_b = document.regions[1]
    (table,) = app_b.route_tables
    unrouted = dataclasses.replace(table, routes=table.routes[:1])  # the local route only
    document = dataclasses.replace(
        document,
        regions=(document.regions[0], dataclasses.replace(app_b, route_tables=(unrouted,))),
    )
    assert set(scan_snapshot(document).skipped("VPCE503")) == {(APP_A, FIXTURE_REGION, "vpc-0a")}


def _routes_unread(propagating: tuple[str, ...]) -> tuple[Topology, Any]:
    """The organisation of ``_shared_gateway``, where SearchTransitGatewayRoutes failed for the
    owner's table and only its propagations are known: the topology and APP_B's scope."""
    document = _shared_gateway(NETWORK, APP_A, APP_B)
    network = document.regions[0]
    (table,) = network.transit_gateway_route_tables
    unread = dataclasses.replace(table, routes=None, propagating_attachment_ids=propagating)
    regions = (dataclasses.replace(network, transit_gateway_route_tables=(unread,)),)
    snapshot = Snapshot(dataclasses.replace(document, regions=regions + document.regions[1:]))
    return Topology(snapshot), next(s for s in snapshot.scopes if s.account_id == APP_B)


def test_a_gateway_route_table_whose_routes_were_not_read_leaves_what_it_reaches_unknown() -> None:
    """A static route wins over a propagated one, and may exist where nothing propagates
    (https://docs.aws.amazon.com/vpc/latest/tgw/how-transit-gateways-work.html): with the
    routes unread, whether a block is reached is unknown either way, never "no route"."""
    partner = [ip_network("10.9.1.0/24")]
    topology, scope_b = _routes_unread((ATTACHMENT_C,))
    learned = topology.reach(scope_b, "vpc-0b", "vpc-0c", partner)
    # Learned, but a static route for the block would win over the propagated one.
    assert learned.reachable is None
    assert "learns the route by propagation, but its static routes are unknown" in learned.how
    topology, scope_b = _routes_unread((ATTACHMENT_A, ATTACHMENT_B))
    not_learned = topology.reach(scope_b, "vpc-0b", "vpc-0c", partner)
    assert not_learned.reachable is None
    assert "its static routes are unknown" in not_learned.how
    remote = topology.remote_networks(scope_b, scope_b.vpcs_by_id["vpc-0b"])
    assert remote.unknown and f"{TGW_TABLE} could not be read" in remote.unknown[0]


def _with_attachment(kind: str, owner: str) -> SnapshotDocument:
    """``_shared_gateway`` of every account, with one more attachment of ``kind`` (owned by
    ``owner``) on the gateway, and the owner's table (which vpc-0a uses) routing to it instead
    of to PARTNER's VPC."""
    document = _shared_gateway(NETWORK, APP_A, APP_B)
    network = document.regions[0]
    (table,) = network.transit_gateway_route_tables
    extra = "tgw-attach-0eeeeeeeeeeeeeeee"
    route = TransitGatewayRoute(
        "172.16.0.0/12", (TransitGatewayRouteTarget(extra, kind, "tgw-0peer"),), "static", "active"
    )
    network = dataclasses.replace(
        network,
        transit_gateway_attachments=(
            *network.transit_gateway_attachments,
            TransitGatewayAttachment(extra, TGW, NETWORK, kind, "tgw-0peer", owner, "available"),
        ),
        transit_gateway_route_tables=(
            dataclasses.replace(
                table,
                routes=(
                    *(r for r in table.routes or () if r.destination_cidr != "10.9.0.0/16"),
                    route,
                ),
            ),
        ),
    )
    return dataclasses.replace(document, regions=(network, *document.regions[1:]))


@pytest.mark.parametrize(
    ("kind", "owner", "reach"),
    [
        # The organisation's own gateway (here the owner's, as in another region): what it
        # reaches beyond is not followed, so unknown, not "outside".
        ("peering", NETWORK, "is unknown"),
        ("tgw-peering", NETWORK, "is unknown"),
        ("peering", "999988887777", "routes to networks outside the organisation"),
        ("vpn-concentrator", NETWORK, "routes to networks outside the organisation"),
        ("client-vpn", NETWORK, "routes to networks outside the organisation"),
        # A kind not judged (a network function): unknown, not "inside the organisation".
        ("network-function", NETWORK, "is unknown"),
    ],
)
def test_an_open_endpoint_behind_a_gateway_is_judged_by_what_its_attachments_lead_to(
    scan_snapshot: Callable[[SnapshotDocument], Report], kind: str, owner: str, reach: str
) -> None:
    """A peering attachment may join the same account's gateway in another region
    (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateTransitGatewayPeeringAttachment.html);
    a VPN concentrator aggregates VPN connections (on premises). ResourceOwnerId names the
    account of the attached resource
    (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_TransitGatewayAttachment.html)."""
    message = scan_snapshot(_with_attachment(kind, owner)).finding("VPCE301", OPEN_ENDPOINT)
    assert reach in message["message"]
    assert "tgw-attach-0eeeeeeeeeeeeeeee" in message["message"]
    assert message["severity"] == "medium"


# -- a hub account that could not be read (the collected organisation, edited) -----------------


def _denied(document: SnapshotDocument, account: str, kind: str, operation: str) -> Any:
    """``document`` as the collector records ``operation`` refused in account/us-east-1: the
    kind empty (for endpoints, their network interfaces too, which are asked for by endpoint)
    and one error against the whole kind."""
    emptied: dict[str, Any] = {kind: ()}
    if kind == "vpc_endpoints":
        emptied["endpoint_interfaces"] = ()
    refusal = CollectionError(
        account_id=account,
        region=REGION,
        service="ec2",
        operation=operation,
        error_code="UnauthorizedOperation",
        message="You are not authorized to perform this operation.",
        resource_kind=kind,
    )
    regions = tuple(
        dataclasses.replace(scope, **emptied, errors=(*scope.errors, refusal))
        if (scope.account_id, scope.region) == (account, REGION)
        else scope
        for scope in document.regions
    )
    return dataclasses.replace(document, regions=regions)


@pytest.mark.parametrize(
    ("kind", "operation"),
    [
        ("vpc_endpoints", "DescribeVpcEndpoints"),
        ("route_tables", "DescribeRouteTables"),
        ("subnets", "DescribeSubnets"),
    ],
)
def test_a_hub_that_could_not_be_read_leaves_the_spokes_unjudged(
    org: Organisation,
    scan_snapshot: Callable[[SnapshotDocument], Report],
    kind: str,
    operation: str,
) -> None:
    """``operation`` refused in hub/us-east-1: the hub's endpoint, the subnets it sits in or
    their route tables are unknown, not gone. The spokes account's VPCs that resolve S3 through
    the hub's zone cannot be judged: VPCE207 and VPCE401 must skip them (spoke-control, which
    does not depend on the hub, stays flagged), not report a broken DNS set-up nor pass them."""
    report = scan_snapshot(_denied(org.scan().document, org.hub, kind, operation))
    ids = org.ids
    assert report.code == 3
    assert report.errors() == {(org.hub, REGION, operation, "UnauthorizedOperation")}
    assert report.flagged("VPCE207") == set()
    assert set(report.skipped("VPCE207")) >= {
        (org.spokes, REGION, ids["spoke-ok"]),
        (org.spokes, REGION, ids["spoke-noreturn"]),
    }
    east = {finding for finding in report.flagged("VPCE401") if finding[1] == REGION}
    assert east == {(org.spokes, REGION, ids["rt-spoke-control"])}
    assert {skip for skip in report.skipped("VPCE401") if skip[1] == REGION} == {
        (org.spokes, REGION, ids["rt-spoke-ok"]),
        (org.spokes, REGION, ids["rt-spoke-noreturn"]),
        (org.hub, REGION, None),
    }


def _with_network_vpc(document: SnapshotDocument, partner_cidr: str) -> SnapshotDocument:
    """The network account's own vpc-0n (192.168.0.0/16) on the gateway too, and PARTNER's
    vpc-0c (not scanned) propagating ``partner_cidr``."""
    network = scope_of(document, NETWORK)
    attachment = "tgw-attach-0nnnnnnnnnnnnnnnn"
    (gateway_table,) = network.transit_gateway_route_tables
    routes = tuple(
        dataclasses.replace(r, destination_cidr=partner_cidr)
        if ATTACHMENT_C in r.attachment_ids
        else r
        for r in gateway_table.routes or ()
    )
    own = TransitGatewayRouteTarget(attachment, "vpc", "vpc-0n")
    gateway_table = dataclasses.replace(
        gateway_table,
        routes=(*routes, TransitGatewayRoute("192.168.0.0/16", (own,), "propagated", "active")),
        associated_attachment_ids=(*(gateway_table.associated_attachment_ids or ()), attachment),
        propagating_attachment_ids=(*(gateway_table.propagating_attachment_ids or ()), attachment),
    )
    network = dataclasses.replace(
        network,
        vpcs=(make_vpc("vpc-0n", "192.168.0.0/16", owner=NETWORK),),
        transit_gateway_attachments=(
            *network.transit_gateway_attachments,
            TransitGatewayAttachment(
                attachment, TGW, NETWORK, "vpc", "vpc-0n", NETWORK, "available", TGW_TABLE
            ),
        ),
        transit_gateway_route_tables=(gateway_table,),
    )
    return with_scope(document, network)


@pytest.mark.parametrize(
    ("partner_cidr", "flagged"),
    [("10.9.0.0/16", set()), ("10.1.0.0/24", {(APP_A, FIXTURE_REGION, "vpc-0a")})],
    ids=["nothing-overlaps", "another-overlap-is-found"],
)
def test_a_vpc_that_overlaps_nothing_seen_is_skipped_while_an_attached_vpc_is_unseen(
    scan_snapshot: Callable[[SnapshotDocument], Report],
    partner_cidr: str,
    flagged: set[tuple[str, str, str]],
) -> None:
    """APP_B's vpc-0b is not scanned and no route carries its blocks. Whatever else is found
    on the gateway (PARTNER's propagated block overlapping vpc-0a, or nothing), vpc-0n, which
    overlaps nothing seen, is skipped, not passed."""
    report = scan_snapshot(_with_network_vpc(_shared_gateway(NETWORK, APP_A), partner_cidr))
    assert report.flagged("VPCE502") == flagged
    skipped = report.skipped("VPCE502")
    assert (NETWORK, FIXTURE_REGION, "vpc-0n") in skipped
    assert (
        f"the blocks of vpc-0b of account {APP_B}" in skipped[(NETWORK, FIXTURE_REGION, "vpc-0n")]
    )
    assert set(skipped) | flagged == {
        (NETWORK, FIXTURE_REGION, "vpc-0n"),
        (APP_A, FIXTURE_REGION, "vpc-0a"),
    }


def test_a_scanned_vpc_whose_account_region_is_not_judged_is_still_compared(
    scan_snapshot: Callable[[SnapshotDocument], Report],
) -> None:
    """APP_A's transit-gateway listing failed: vpc-0a is not judged (skipped), but its blocks
    are known and overlap vpc-0b's, which is flagged as when APP_A is not scanned at all."""
    document = _shared_gateway(NETWORK, APP_A, APP_B)
    failed = collection_error(
        "transit_gateway_attachments", "DescribeTransitGatewayAttachments", account=APP_A
    )
    failing = dataclasses.replace(scope_of(document, APP_A), errors=(failed,))
    report = scan_snapshot(with_scope(document, failing))
    assert _severities(report, "VPCE502") == {(APP_B, "vpc-0b"): "high"}
    assert set(report.skipped("VPCE502")) == {(APP_A, FIXTURE_REGION, None)}
