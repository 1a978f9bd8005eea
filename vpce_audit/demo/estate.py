"""The built-in demo estate: a small, deliberately flawed AWS network inside moto.

``vpce-audit scan --demo`` seeds it in-process and scans it through the real collectors, so a
newcomer sees real findings without an AWS account. Flaws sit beside clean look-alikes, and
every resource carries a Name tag saying what it is. The account belongs to an organisation
created in moto, so policies limited to that organisation count as trusted.

us-east-1
  prod       10.0.0.0/16, DNS on, flow log on. Private tables a and b -> NAT.
             S3 gateway endpoint on both tables, default policy (VPCE101); its route was
             removed from table b (VPCE405, and so VPCE401 on b); table a sends 52.216.0.0/16,
             inside the S3 prefix list, to the NAT (VPCE404). DynamoDB gateway endpoint on
             table a only (VPCE402 on b). Interface endpoints for every FSBP service, most clean:
             ecr.api in one AZ with an SG open to 0.0.0.0/0 (VPCE301, VPCE304, VPCE305);
             ecr.dkr with an all-traffic SG (VPCE302); ssm-incidents reachable only from
             192.168.0.0/16 (VPCE303); kms limited only by aws:SourceVpc (VPCE102); sts
             allowing a foreign account (VPCE104); logs with an Allow NotAction (VPCE105);
             a second ssm endpoint without private DNS (VPCE202, VPCE204) beside a
             secretsmanager endpoint whose name a private hosted zone covers (clean).
             Two endpoint services behind an NLB: one open to everyone with auto-accept
             (VPCE110, VPCE111 critical), one for the own account with review (clean).
  analytics  10.1.0.0/16. Private table -> NAT; the S3 gateway endpoint is on another table
             (VPCE401 names it) and lets the organisation write to any bucket (VPCE103).
             Interface endpoint to prod's internal endpoint service (trusted: clean VPCE112).
  legacy     10.2.0.0/16, DNS hostnames off, custom DHCP DNS servers. sts endpoint with
             private DNS (VPCE201, VPCE203). NAT-bound subnets on the main table (VPCE401,
             VPCE402). The demo configuration declares 10.2.128.0/17 on premises (VPCE503).
  spoke-a/b  10.3.0.0/16 and 10.3.128.0/20 on one transit gateway, default route to it
             (VPCE403 on spoke-a; VPCE502 on both).
  peerings   prod <-> analytics (prod allows remote DNS: clean), legacy <-> analytics
             (legacy hides its private DNS: VPCE205), analytics <-> eu-west-1 app (app's
             secondary 10.1.64.0/20 overlaps analytics: VPCE501, and VPCE504 when enabled).

eu-west-1
  app        10.20.0.0/16 + 10.1.64.0/20, flow log on. S3 and DynamoDB gateway endpoints
             limited to the organisation's principals and resources (clean).

Every VPC without flow logs gets VPCE602, and private subnets without the FSBP endpoints get
VPCE601 (prod has them all). VPCE112 (a third-party provider) and VPCE306 (an endpoint that is
not available) need things moto cannot build; the fixture tests cover them.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from typing import Any

from vpce_audit.config import Config, RuleConfig

DEMO_ACCOUNT_ID = "123456789012"
DEMO_REGIONS = ("us-east-1", "eu-west-1")
FOREIGN_ACCOUNT = "999999999999"
REQUIRED = ("ec2", "ecr.api", "ecr.dkr", "ssm", "ssm-contacts", "ssm-incidents")

# What the demo's configuration file would say: an on-premises range, and the organisation-wide
# overlap inventory switched on.
DEMO_CONFIG = Config(
    source="built-in demo configuration",
    on_premises_cidrs=("10.2.128.0/17",),
    rules={"VPCE504": RuleConfig(enabled=True)},
)


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(condition: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    statement = {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*", **fields}
    if condition:
        statement["Condition"] = condition
    return statement


def _tags(name: str, kind: str) -> list[dict[str, Any]]:
    return [{"ResourceType": kind, "Tags": [{"Key": "Name", "Value": name}]}]


class _Region:
    """Small helpers over one region's clients, so the layout reads like the docstring."""

    def __init__(self, session: Any, region: str) -> None:
        self.session = session
        self.ec2 = session.client("ec2", region_name=region)
        self.region = region

    def service(self, short: str) -> str:
        return f"com.amazonaws.{self.region}.{short}"

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

    def route(self, table: str, destination: str, **target: str) -> None:
        self.ec2.create_route(RouteTableId=table, DestinationCidrBlock=destination, **target)

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
            "ServiceName": self.service(service),
            "VpcEndpointType": "Gateway",
            "RouteTableIds": tables,
            "TagSpecifications": _tags(name, "vpc-endpoint"),
        }
        if policy is not None:
            params["PolicyDocument"] = policy
        endpoint_id: str = self.ec2.create_vpc_endpoint(**params)["VpcEndpoint"]["VpcEndpointId"]
        return endpoint_id

    def security_group(self, name: str, vpc_id: str, permission: dict[str, Any]) -> str:
        group_id: str = self.ec2.create_security_group(
            GroupName=name, Description=f"{name} (vpce-audit demo)", VpcId=vpc_id
        )["GroupId"]
        self.ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[permission])
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
        private_dns: bool = True,
    ) -> str:
        params: dict[str, Any] = {
            "VpcId": vpc_id,
            "ServiceName": service if service.startswith("com.") else self.service(service),
            "VpcEndpointType": "Interface",
            "SubnetIds": subnets,
            "SecurityGroupIds": groups,
            "PrivateDnsEnabled": private_dns,
            "TagSpecifications": _tags(name, "vpc-endpoint"),
        }
        if policy is not None:
            params["PolicyDocument"] = policy
        endpoint_id: str = self.ec2.create_vpc_endpoint(**params)["VpcEndpoint"]["VpcEndpointId"]
        return endpoint_id

    def flow_log(self, vpc_id: str) -> None:
        group = f"/vpce-audit-demo/{vpc_id}"
        self.session.client("logs", region_name=self.region).create_log_group(logGroupName=group)
        self.ec2.create_flow_logs(
            ResourceIds=[vpc_id],
            ResourceType="VPC",
            TrafficType="ALL",
            LogGroupName=group,
            DeliverLogsPermissionArn=f"arn:aws:iam::{DEMO_ACCOUNT_ID}:role/flow-logs",
        )


def _https(cidr: str) -> dict[str, Any]:
    return {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": cidr}]}


def seed(session: Any) -> dict[str, str]:
    """Create the estate; returns resource ids by Name (used by the tests that pin findings)."""
    org_id: str = session.client("organizations").create_organization(FeatureSet="ALL")[
        "Organization"
    ]["Id"]
    org_only = _policy(_allow({"StringEquals": {"aws:PrincipalOrgID": org_id}}))
    org_principals_and_resources = _policy(
        _allow({"StringEquals": {"aws:PrincipalOrgID": org_id, "aws:ResourceOrgID": org_id}})
    )
    east = _Region(session, "us-east-1")
    west = _Region(session, "eu-west-1")
    ids: dict[str, str] = {"org": org_id}
    _seed_prod(east, ids, org_id, org_only, org_principals_and_resources)
    _seed_analytics_and_legacy(east, ids, org_id, org_principals_and_resources)
    _seed_transit(east, ids)

    app = ids["app"] = west.vpc("app", "10.20.0.0/16")
    west.ec2.associate_vpc_cidr_block(VpcId=app, CidrBlock="10.1.64.0/20")
    app_public = west.subnet("app-public", app, "10.20.0.0/24", "a")
    app_private = west.subnet("app-private", app, "10.20.1.0/24", "b")
    app_nat = west.internet_and_nat("app", app, app_public)
    app_table = west.route_table("app-private-rt", app, [app_private])
    west.route(app_table, "0.0.0.0/0", NatGatewayId=app_nat)
    west.gateway_endpoint("app-s3", app, "s3", [app_table], org_principals_and_resources)
    west.gateway_endpoint(
        "app-dynamodb", app, "dynamodb", [app_table], org_principals_and_resources
    )
    west.flow_log(app)

    ids["pcx-prod-analytics"] = _peer(east, ids["prod"], east, ids["analytics"])
    east.ec2.modify_vpc_peering_connection_options(
        VpcPeeringConnectionId=ids["pcx-prod-analytics"],
        RequesterPeeringConnectionOptions={"AllowDnsResolutionFromRemoteVpc": True},
    )
    ids["pcx-legacy-analytics"] = _peer(east, ids["legacy"], east, ids["analytics"])
    ids["pcx-analytics-app"] = _peer(east, ids["analytics"], west, app)
    return ids


def _seed_prod(
    east: _Region, ids: dict[str, str], org_id: str, org_only: str, org_both: str
) -> None:
    prod = ids["prod"] = east.vpc("prod", "10.0.0.0/16")
    east.flow_log(prod)
    public = east.subnet("prod-public", prod, "10.0.0.0/24", "a")
    private_a = ids["prod-private-a"] = east.subnet("prod-private-a", prod, "10.0.1.0/24", "a")
    private_b = ids["prod-private-b"] = east.subnet("prod-private-b", prod, "10.0.2.0/24", "b")
    nat = east.internet_and_nat("prod", prod, public)
    table_a = ids["prod-private-a-rt"] = east.route_table("prod-private-a-rt", prod, [private_a])
    table_b = ids["prod-private-b-rt"] = east.route_table("prod-private-b-rt", prod, [private_b])
    east.route(table_a, "0.0.0.0/0", NatGatewayId=nat)
    east.route(table_b, "0.0.0.0/0", NatGatewayId=nat)
    east.route(table_a, "52.216.0.0/16", NatGatewayId=nat)  # a leftover "S3 range via NAT"
    ids["prod-s3"] = east.gateway_endpoint("prod-s3", prod, "s3", [table_a, table_b])
    s3_list = next(
        p["PrefixListId"]
        for p in east.ec2.describe_managed_prefix_lists()["PrefixLists"]
        if p["PrefixListName"] == east.service("s3")
    )
    east.ec2.delete_route(RouteTableId=table_b, DestinationPrefixListId=s3_list)
    ids["prod-dynamodb"] = east.gateway_endpoint(
        "prod-dynamodb", prod, "dynamodb", [table_a], policy=org_both
    )

    tight = east.security_group("prod-endpoints", prod, _https("10.0.0.0/16"))
    wide_open = ids["prod-open-sg"] = east.security_group("prod-open", prod, _https("0.0.0.0/0"))
    all_traffic = east.security_group(
        "prod-all-traffic", prod, {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}
    )
    wrong_source = east.security_group("prod-wrong-source", prod, _https("192.168.0.0/16"))
    both = [private_a, private_b]
    for short, groups in (
        ("ec2", [tight]),
        ("ssm", [tight]),
        ("ssm-contacts", [tight]),
        ("ecr.dkr", [all_traffic]),
        ("ssm-incidents", [wrong_source]),
    ):
        name = f"prod-{short.replace('.', '-')}"
        ids[name] = east.interface_endpoint(name, prod, short, both, groups, policy=org_only)
    ids["prod-ecr-api"] = east.interface_endpoint(
        "prod-ecr-api", prod, "ecr.api", [private_a], [wide_open], policy=org_only
    )
    ids["prod-kms"] = east.interface_endpoint(
        "prod-kms",
        prod,
        "kms",
        both,
        [tight],
        policy=_policy(_allow({"StringEquals": {"aws:SourceVpc": prod}})),
    )
    ids["prod-sts"] = east.interface_endpoint(
        "prod-sts",
        prod,
        "sts",
        both,
        [tight],
        policy=_policy(_allow(Principal={"AWS": f"arn:aws:iam::{FOREIGN_ACCOUNT}:root"})),
    )
    ids["prod-logs"] = east.interface_endpoint(
        "prod-logs",
        prod,
        "logs",
        both,
        [tight],
        policy=json.dumps(
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "NotAction": "logs:DeleteLogGroup",
                        "Resource": "*",
                        "Condition": {"StringEquals": {"aws:PrincipalOrgID": org_id}},
                    }
                ]
            }
        ),
    )
    ids["prod-ssm-second"] = east.interface_endpoint(
        "prod-ssm-second", prod, "ssm", both, [tight], policy=org_only, private_dns=False
    )
    ids["prod-secretsmanager"] = east.interface_endpoint(
        "prod-secretsmanager",
        prod,
        "secretsmanager",
        both,
        [tight],
        policy=org_only,
        private_dns=False,
    )
    east.session.client("route53").create_hosted_zone(
        Name="secretsmanager.us-east-1.amazonaws.com.",
        CallerReference="vpce-audit-demo",
        VPC={"VPCRegion": "us-east-1", "VPCId": prod},
        HostedZoneConfig={"PrivateZone": True, "Comment": "vpce-audit demo"},
    )

    balancer = east.session.client("elbv2", region_name="us-east-1").create_load_balancer(
        Name="prod-nlb", Subnets=[private_a], Type="network"
    )["LoadBalancers"][0]["LoadBalancerArn"]
    for name, acceptance, principal in (
        ("svc-open", False, "*"),
        ("svc-internal", True, f"arn:aws:iam::{DEMO_ACCOUNT_ID}:root"),
    ):
        configuration = east.ec2.create_vpc_endpoint_service_configuration(
            NetworkLoadBalancerArns=[balancer], AcceptanceRequired=acceptance
        )["ServiceConfiguration"]
        east.ec2.modify_vpc_endpoint_service_permissions(
            ServiceId=configuration["ServiceId"], AddAllowedPrincipals=[principal]
        )
        ids[name] = configuration["ServiceId"]
        ids[f"{name}-name"] = configuration["ServiceName"]


def _seed_analytics_and_legacy(
    east: _Region, ids: dict[str, str], org_id: str, org_both: str
) -> None:
    analytics = ids["analytics"] = east.vpc("analytics", "10.1.0.0/16")
    public = east.subnet("analytics-public", analytics, "10.1.0.0/24", "a")
    private = east.subnet("analytics-private", analytics, "10.1.1.0/24", "b")
    nat = east.internet_and_nat("analytics", analytics, public)
    table = ids["analytics-private-rt"] = east.route_table(
        "analytics-private-rt", analytics, [private]
    )
    east.route(table, "0.0.0.0/0", NatGatewayId=nat)
    spare = east.route_table("analytics-spare-rt", analytics, [])
    ids["analytics-s3"] = east.gateway_endpoint(
        "analytics-s3",
        analytics,
        "s3",
        [spare],
        policy=_policy(
            _allow(
                {"StringEquals": {"aws:PrincipalOrgID": org_id}},
                Action=["s3:GetObject", "s3:PutObject"],
            )
        ),
    )
    ids["analytics-dynamodb"] = east.gateway_endpoint(
        "analytics-dynamodb", analytics, "dynamodb", [table], policy=org_both
    )
    group = east.security_group("analytics-endpoints", analytics, _https("10.1.0.0/16"))
    ids["analytics-internal-service"] = east.interface_endpoint(
        "analytics-internal-service",
        analytics,
        ids["svc-internal-name"],
        [public, private],
        [group],
        private_dns=False,
    )

    legacy = ids["legacy"] = east.vpc("legacy", "10.2.0.0/16", dns_hostnames=False)
    options = east.ec2.create_dhcp_options(
        DhcpConfigurations=[{"Key": "domain-name-servers", "Values": ["10.2.0.2", "10.2.0.3"]}]
    )["DhcpOptions"]["DhcpOptionsId"]
    east.ec2.associate_dhcp_options(DhcpOptionsId=options, VpcId=legacy)
    legacy_public = east.subnet("legacy-public", legacy, "10.2.0.0/24", "a")
    legacy_a = east.subnet("legacy-private-a", legacy, "10.2.1.0/24", "a")
    legacy_b = east.subnet("legacy-private-b", legacy, "10.2.2.0/24", "b")
    legacy_nat = east.internet_and_nat("legacy", legacy, legacy_public)
    legacy_main = ids["legacy-main-rt"] = east.main_table(legacy)
    east.route(legacy_main, "0.0.0.0/0", NatGatewayId=legacy_nat)
    legacy_group = east.security_group("legacy-endpoints", legacy, _https("10.2.0.0/16"))
    ids["legacy-sts"] = east.interface_endpoint(
        "legacy-sts",
        legacy,
        "sts",
        [legacy_public, legacy_a, legacy_b],
        [legacy_group],
        policy=_policy(_allow({"StringEquals": {"aws:PrincipalOrgID": org_id}})),
    )


def _seed_transit(east: _Region, ids: dict[str, str]) -> None:
    gateway: str = east.ec2.create_transit_gateway(Description="vpce-audit demo")["TransitGateway"][
        "TransitGatewayId"
    ]
    for name, cidr, subnet_cidr in (
        ("spoke-a", "10.3.0.0/16", "10.3.1.0/24"),
        ("spoke-b", "10.3.128.0/20", "10.3.129.0/24"),
    ):
        vpc_id = ids[name] = east.vpc(name, cidr)
        subnet = east.subnet(f"{name}-private", vpc_id, subnet_cidr, "a")
        east.ec2.create_transit_gateway_vpc_attachment(
            TransitGatewayId=gateway, VpcId=vpc_id, SubnetIds=[subnet]
        )
        ids[f"{name}-main-rt"] = east.main_table(vpc_id)
    east.route(ids["spoke-a-main-rt"], "0.0.0.0/0", TransitGatewayId=gateway)


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
            yield session, seed(session)
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        os.environ.update(saved)
