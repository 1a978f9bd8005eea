"""The built-in demo estate: a small, deliberately flawed AWS network inside moto.

``vpce-audit scan --demo`` seeds it in-process and scans it through the real collectors, so a
newcomer sees real findings without an AWS account. Each flaw sits beside a clean look-alike,
and every resource carries a Name tag saying which it is.

Layout (account 123456789012):

us-east-1
  prod       10.0.0.0/16   DNS on. Private tables a/b -> NAT. S3 gateway endpoint on both
                           tables with the default policy (VPCE101); DynamoDB gateway
                           endpoint on table a only (VPCE402 on table b). Interface endpoints:
                           ssm in two AZs, tight SG, org-restricted policy (clean);
                           ecr.api in one AZ with an SG open to 0.0.0.0/0 (VPCE301, VPCE304).
  analytics  10.1.0.0/16   DNS on. Private table -> NAT; an S3 gateway endpoint exists but
                           is associated with another table (VPCE401 names it).
  legacy     10.2.0.0/16   enableDnsHostnames off; sts interface endpoint with private DNS
                           (VPCE201). Its NAT-bound subnets use the main table implicitly
                           (VPCE401, VPCE402 on the main table).
  peering prod <-> analytics (clean); analytics <-> eu-west-1 app (VPCE501: the app VPC's
  secondary block 10.1.64.0/20 overlaps analytics).

eu-west-1
  app        10.20.0.0/16 + 10.1.64.0/20. S3 and DynamoDB gateway endpoints on its private
                           table, with a policy limited to the organisation (clean).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from typing import Any

DEMO_ACCOUNT_ID = "123456789012"
DEMO_REGIONS = ("us-east-1", "eu-west-1")
DEMO_ORG_ID = "o-demo0example"

_ORG_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OrgOnly",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "*",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "aws:PrincipalOrgID": DEMO_ORG_ID,
                        "aws:ResourceOrgID": DEMO_ORG_ID,
                    }
                },
            }
        ],
    }
)


def _tags(name: str, kind: str) -> list[dict[str, Any]]:
    return [{"ResourceType": kind, "Tags": [{"Key": "Name", "Value": name}]}]


class _Region:
    """Small helpers over one region's EC2 client, so the layout reads like the docstring."""

    def __init__(self, ec2: Any, region: str) -> None:
        self.ec2 = ec2
        self.region = region

    def vpc(self, name: str, cidr: str, *, dns_hostnames: bool = True) -> str:
        vpc_id: str = self.ec2.create_vpc(CidrBlock=cidr, TagSpecifications=_tags(name, "vpc"))[
            "Vpc"
        ]["VpcId"]
        self.ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsSupport={"Value": True})
        self.ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": dns_hostnames})
        return vpc_id

    def subnet(self, name: str, vpc_id: str, cidr: str, zone: str) -> str:
        subnet_id: str = self.ec2.create_subnet(
            VpcId=vpc_id,
            CidrBlock=cidr,
            AvailabilityZone=f"{self.region}{zone}",
            TagSpecifications=_tags(name, "subnet"),
        )["Subnet"]["SubnetId"]
        return subnet_id

    def internet_and_nat(self, name: str, vpc_id: str, public_subnet: str) -> str:
        igw: str = self.ec2.create_internet_gateway(
            TagSpecifications=_tags(f"{name}-igw", "internet-gateway")
        )["InternetGateway"]["InternetGatewayId"]
        self.ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
        public_table = self.route_table(f"{name}-public", vpc_id, [public_subnet])
        self.ec2.create_route(
            RouteTableId=public_table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw
        )
        allocation = self.ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat: str = self.ec2.create_nat_gateway(
            SubnetId=public_subnet,
            AllocationId=allocation,
            TagSpecifications=_tags(f"{name}-nat", "natgateway"),
        )["NatGateway"]["NatGatewayId"]
        return nat

    def route_table(self, name: str, vpc_id: str, subnets: list[str]) -> str:
        table: str = self.ec2.create_route_table(
            VpcId=vpc_id, TagSpecifications=_tags(name, "route-table")
        )["RouteTable"]["RouteTableId"]
        for subnet_id in subnets:
            self.ec2.associate_route_table(RouteTableId=table, SubnetId=subnet_id)
        return table

    def default_route(self, table: str, nat: str) -> None:
        self.ec2.create_route(
            RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat
        )

    def main_table(self, vpc_id: str) -> str:
        tables = self.ec2.describe_route_tables(
            Filters=[
                {"Name": "vpc-id", "Values": [vpc_id]},
                {"Name": "association.main", "Values": ["true"]},
            ]
        )["RouteTables"]
        table_id: str = tables[0]["RouteTableId"]
        return table_id

    def gateway_endpoint(
        self, name: str, vpc_id: str, service: str, tables: list[str], policy: str | None = None
    ) -> str:
        params: dict[str, Any] = {
            "VpcId": vpc_id,
            "ServiceName": f"com.amazonaws.{self.region}.{service}",
            "VpcEndpointType": "Gateway",
            "RouteTableIds": tables,
            "TagSpecifications": _tags(name, "vpc-endpoint"),
        }
        if policy is not None:
            params["PolicyDocument"] = policy
        endpoint_id: str = self.ec2.create_vpc_endpoint(**params)["VpcEndpoint"]["VpcEndpointId"]
        return endpoint_id

    def security_group(self, name: str, vpc_id: str, source_cidr: str) -> str:
        group_id: str = self.ec2.create_security_group(
            GroupName=name, Description=f"{name} (vpce-audit demo)", VpcId=vpc_id
        )["GroupId"]
        self.ec2.authorize_security_group_ingress(
            GroupId=group_id,
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": 443,
                    "ToPort": 443,
                    "IpRanges": [{"CidrIp": source_cidr}],
                }
            ],
        )
        return group_id

    def interface_endpoint(
        self,
        name: str,
        vpc_id: str,
        service: str,
        subnets: list[str],
        groups: list[str],
        *,
        policy: str | None = None,
    ) -> str:
        params: dict[str, Any] = {
            "VpcId": vpc_id,
            "ServiceName": f"com.amazonaws.{self.region}.{service}",
            "VpcEndpointType": "Interface",
            "SubnetIds": subnets,
            "SecurityGroupIds": groups,
            "PrivateDnsEnabled": True,
            "TagSpecifications": _tags(name, "vpc-endpoint"),
        }
        if policy is not None:
            params["PolicyDocument"] = policy
        endpoint_id: str = self.ec2.create_vpc_endpoint(**params)["VpcEndpoint"]["VpcEndpointId"]
        return endpoint_id


def seed(clients: dict[str, Any]) -> dict[str, str]:
    """Create the estate; returns resource ids by Name (used by the tests that pin findings)."""
    east = _Region(clients["us-east-1"], "us-east-1")
    west = _Region(clients["eu-west-1"], "eu-west-1")
    ids: dict[str, str] = {}

    # prod: healthy routing for S3, DynamoDB endpoint missing from one table.
    prod = ids["prod"] = east.vpc("prod", "10.0.0.0/16")
    prod_public = east.subnet("prod-public", prod, "10.0.0.0/24", "a")
    prod_a = ids["prod-private-a"] = east.subnet("prod-private-a", prod, "10.0.1.0/24", "a")
    prod_b = ids["prod-private-b"] = east.subnet("prod-private-b", prod, "10.0.2.0/24", "b")
    prod_nat = east.internet_and_nat("prod", prod, prod_public)
    table_a = ids["prod-private-a-rt"] = east.route_table("prod-private-a-rt", prod, [prod_a])
    table_b = ids["prod-private-b-rt"] = east.route_table("prod-private-b-rt", prod, [prod_b])
    east.default_route(table_a, prod_nat)
    east.default_route(table_b, prod_nat)
    ids["prod-s3"] = east.gateway_endpoint("prod-s3", prod, "s3", [table_a, table_b])
    ids["prod-dynamodb"] = east.gateway_endpoint(
        "prod-dynamodb", prod, "dynamodb", [table_a], policy=_ORG_POLICY
    )
    tight = east.security_group("prod-endpoints", prod, "10.0.0.0/16")
    wide_open = ids["prod-open-sg"] = east.security_group("prod-open", prod, "0.0.0.0/0")
    ids["prod-ssm"] = east.interface_endpoint(
        "prod-ssm", prod, "ssm", [prod_a, prod_b], [tight], policy=_ORG_POLICY
    )
    ids["prod-ecr-api"] = east.interface_endpoint(
        "prod-ecr-api", prod, "ecr.api", [prod_a], [wide_open], policy=_ORG_POLICY
    )

    # analytics: an S3 gateway endpoint that is not on the NAT-bound table.
    analytics = ids["analytics"] = east.vpc("analytics", "10.1.0.0/16")
    analytics_public = east.subnet("analytics-public", analytics, "10.1.0.0/24", "a")
    analytics_private = east.subnet("analytics-private", analytics, "10.1.1.0/24", "b")
    analytics_nat = east.internet_and_nat("analytics", analytics, analytics_public)
    analytics_table = ids["analytics-private-rt"] = east.route_table(
        "analytics-private-rt", analytics, [analytics_private]
    )
    east.default_route(analytics_table, analytics_nat)
    spare_table = east.route_table("analytics-spare-rt", analytics, [])
    ids["analytics-s3"] = east.gateway_endpoint(
        "analytics-s3", analytics, "s3", [spare_table], policy=_ORG_POLICY
    )
    ids["analytics-dynamodb"] = east.gateway_endpoint(
        "analytics-dynamodb", analytics, "dynamodb", [analytics_table], policy=_ORG_POLICY
    )

    # legacy: DNS hostnames off, NAT-bound subnets on the implicit main table.
    legacy = ids["legacy"] = east.vpc("legacy", "10.2.0.0/16", dns_hostnames=False)
    legacy_public = east.subnet("legacy-public", legacy, "10.2.0.0/24", "a")
    legacy_a = east.subnet("legacy-private-a", legacy, "10.2.1.0/24", "a")
    legacy_b = east.subnet("legacy-private-b", legacy, "10.2.2.0/24", "b")
    legacy_nat = east.internet_and_nat("legacy", legacy, legacy_public)
    legacy_main = ids["legacy-main-rt"] = east.main_table(legacy)
    east.default_route(legacy_main, legacy_nat)
    legacy_group = east.security_group("legacy-endpoints", legacy, "10.2.0.0/16")
    ids["legacy-sts"] = east.interface_endpoint(
        "legacy-sts", legacy, "sts", [legacy_a, legacy_b], [legacy_group], policy=_ORG_POLICY
    )

    # eu-west-1 app: healthy, but its secondary block overlaps analytics across a peering.
    app = ids["app"] = west.vpc("app", "10.20.0.0/16")
    west.ec2.associate_vpc_cidr_block(VpcId=app, CidrBlock="10.1.64.0/20")
    app_public = west.subnet("app-public", app, "10.20.0.0/24", "a")
    app_private = west.subnet("app-private", app, "10.20.1.0/24", "b")
    app_nat = west.internet_and_nat("app", app, app_public)
    app_table = west.route_table("app-private-rt", app, [app_private])
    west.default_route(app_table, app_nat)
    west.gateway_endpoint("app-s3", app, "s3", [app_table], policy=_ORG_POLICY)
    west.gateway_endpoint("app-dynamodb", app, "dynamodb", [app_table], policy=_ORG_POLICY)

    ids["pcx-prod-analytics"] = _peer(east, prod, east, analytics)
    ids["pcx-analytics-app"] = _peer(east, analytics, west, app)
    return ids


def _peer(requester: _Region, vpc_id: str, accepter: _Region, peer_vpc_id: str) -> str:
    connection_id: str = requester.ec2.create_vpc_peering_connection(
        VpcId=vpc_id, PeerVpcId=peer_vpc_id, PeerRegion=accepter.region
    )["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    accepter.ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=connection_id)
    return connection_id


_ENVIRONMENT_TO_CLEAR = (
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_EC2",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
)


@contextlib.contextmanager
def demo_estate() -> Iterator[tuple[Any, dict[str, str]]]:
    """Inside: moto intercepts AWS, the estate exists; yields (boto3 session, ids by Name)."""
    try:
        import boto3
        from moto import mock_aws
    except ImportError as error:  # pragma: no cover - depends on the install
        raise RuntimeError("the demo needs moto: pip install 'vpce-audit[demo]'") from error
    saved = {key: os.environ.pop(key) for key in _ENVIRONMENT_TO_CLEAR if key in os.environ}
    fake_credentials = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": DEMO_REGIONS[0],
    }
    previous = {key: os.environ.get(key) for key in fake_credentials}
    os.environ.update(fake_credentials)
    try:
        with mock_aws():
            session = boto3.session.Session(region_name=DEMO_REGIONS[0])
            clients = {region: session.client("ec2", region_name=region) for region in DEMO_REGIONS}
            ids = seed(clients)
            yield session, ids
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        os.environ.update(saved)
