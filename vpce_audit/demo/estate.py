"""The built-in demo estate: a small, deliberately flawed AWS network inside moto.

``vpce-audit scan --demo`` seeds it in-process and scans it through the real collectors, so a
newcomer sees real findings without an AWS account. Flaws sit beside clean look-alikes, and
every resource carries a Name tag saying what it is. The account is the management account of an
organisation created in moto, so its member list is known and policies limited to the
organisation count as trusted. Nothing here is a state AWS would refuse.

us-east-1
  prod       10.0.0.0/16, flow log on. Private tables a and b -> NAT. S3 gateway endpoint on both
             tables, default policy (VPCE101); its route was removed from table b (VPCE405, and
             so VPCE401 on b); table a sends 52.216.0.0/15, inside the S3 prefix list, to the NAT
             (VPCE404). DynamoDB gateway endpoint on table a only (VPCE402 on b). Interface
             endpoints for what private workloads need, most clean: ecr.api in one AZ with an SG
             open to 0.0.0.0/0 (VPCE301 low: nothing outside the organisation routes to prod;
             VPCE304, VPCE305); ecr.dkr with an all-traffic SG (VPCE302); ssm-incidents
             reachable only from 192.168.0.0/16 (VPCE303); kms limited only by aws:SourceVpc
             (VPCE102); sts allowing a foreign account (VPCE104); logs with an Allow NotAction
             (VPCE105); a second ssm endpoint (VPCE204, naming the one with private DNS);
             monitoring without private DNS and nothing answering for its name (VPCE202) beside
             secretsmanager without private DNS whose private zone holds an alias record to it,
             and an S3 interface endpoint without private DNS next to the S3 gateway endpoint
             (AWS's hybrid pattern), both clean. Three endpoint services behind an NLB: one open
             to everyone with auto-accept (VPCE110, VPCE111 critical) and connected to an
             endpoint of a foreign account (VPCE113), one for the own account with review, one
             with auto-accept and an empty allow list (both clean).
  analytics  10.1.0.0/16. Private table -> NAT; the S3 gateway endpoint is on another table
             (VPCE401 names it) and lets the organisation write to any bucket (VPCE103).
             Interface endpoint to prod's internal endpoint service (trusted: clean VPCE112;
             its ports are the provider's, so VPCE303 / VPCE307 list it as skipped). Peered
             with partner-a and partner-b, which both use 10.40.0.0/16, with a static route to
             each part (AWS's partial-access design: clean).
  legacy     10.2.0.0/16, DNS hostnames off, DHCP options pointing at two domain controllers
             (VPCE201, VPCE203). NAT-bound subnets on the main table (VPCE401, VPCE402). The demo
             configuration declares 10.2.128.0/17 on premises, inside legacy (VPCE503).
  spoke-a/b  10.3.0.0/16 and 10.3.128.0/20 on transit gateway tgw-main, whose route table both
             propagate into (VPCE502, high, on both); spoke-a's default route goes to it
             (VPCE403), and its route to spoke-b's block lies inside spoke-a's own (VPCE501).
             spoke-a has a subnet in zone b, where its attachment has none (VPCE406); spoke-b
             routes to the gateway from zone a only, where its attachment is (clean).
             tgw-main accepts shared attachments automatically (VPCE505); tgw-quiet does not
             (clean).
  hub        10.30.0.0/16: centralised interface endpoints for ssm and sts (private DNS off),
             with private zones ssm.us-east-1.amazonaws.com and sts.us-east-1.amazonaws.com
             aliasing them, associated with the hub and two spokes peered with it. spoke-ok
             (10.31.0.0/16) is routed and admitted by the endpoints' security group: clean.
             spoke-broken (10.32.0.0/16) is routed but not admitted, and a third zone,
             kms.us-east-1.amazonaws.com, points it at a hub endpoint that was deleted
             (VPCE207). A private zone named amazonaws.com is associated with the hub
             (VPCE206).
  peerings   prod <-> analytics and analytics <-> eu-west-1 app (clean), legacy <-> analytics
             (legacy does not allow remote DNS resolution: no finding, VPCE205 is retired).

eu-west-1
  app        10.20.0.0/16, flow log on. S3 and DynamoDB gateway endpoints limited to the
             organisation's principals and resources (clean). A logs endpoint in a subnet whose
             network ACL lets HTTPS in but no replies out (VPCE307) beside an sts endpoint in a
             subnet with the default ACL (clean).

VPCE601 (the services private workloads need) and VPCE602 (flow logs) flag the VPCs planted
without them. DescribeVpcEndpointConnections is not implemented by moto: the demo answers it with
connections in the shape AWS returns (``_endpoint_connections``, answered by
``demo.moto_gaps``), so the scan stays complete.
VPCE112 (a third-party provider) and VPCE306 (an endpoint that is not available) need things
moto cannot build; the fixture tests cover them.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from typing import Any

from vpce_audit.config import Config, RuleConfig
from vpce_audit.demo.moto_gaps import (
    answer_endpoint_connections,
    answer_group_associations,
    answer_profiles,
    transit_gateway_routes_in_aws_shape,
)

DEMO_ACCOUNT_ID = "123456789012"
DEMO_REGIONS = ("us-east-1", "eu-west-1")
FOREIGN_ACCOUNT = "999999999999"

# What the demo's configuration file would say: an on-premises range, and the organisation-wide
# overlap inventory switched on.
DEMO_CONFIG = Config(
    source="built-in demo configuration",
    on_premises_cidrs=("10.2.128.0/17",),
    rules={"VPCE504": RuleConfig(enabled=True)},
)
DEMO_CONFIG_YAML = """\
# The configuration `scan --demo` uses (vpce-audit demo config prints it). With it,
#   vpce-audit collect --demo -o demo.json
#   vpce-audit scan --snapshot demo.json --config demo.yml
# reports exactly what `vpce-audit scan --demo` reports.
on_premises_cidrs:
  - 10.2.128.0/17        # the demo's on-premises range, reached over the VPN
rules:
  VPCE504:
    enabled: true        # off by default; the demo shows it
"""
"""DEMO_CONFIG as a file (a test checks that the two say the same)."""


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

    def security_group(self, name: str, vpc_id: str, *permissions: dict[str, Any]) -> str:
        group_id: str = self.ec2.create_security_group(
            GroupName=name, Description=f"{name} (vpce-audit demo)", VpcId=vpc_id
        )["GroupId"]
        self.ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=list(permissions))
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
    ) -> tuple[str, str]:
        """Creates the endpoint; returns its id and its regional DNS name."""
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
        endpoint = self.ec2.create_vpc_endpoint(**params)["VpcEndpoint"]
        dns = [entry["DnsName"] for entry in endpoint.get("DnsEntries") or ()]
        return str(endpoint["VpcEndpointId"]), dns[0] if dns else ""

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

    def private_zone(
        self, name: str, vpcs: list[str], records: dict[str, str], reference: str
    ) -> str:
        """A private hosted zone associated with ``vpcs``, with alias A records name -> DNS name."""
        route53 = self.session.client("route53")
        zone_id: str = route53.create_hosted_zone(
            Name=f"{name}.",
            CallerReference=reference,
            VPC={"VPCRegion": self.region, "VPCId": vpcs[0]},
            HostedZoneConfig={"PrivateZone": True, "Comment": "vpce-audit demo"},
        )["HostedZone"]["Id"].rsplit("/", 1)[-1]
        for vpc_id in vpcs[1:]:
            route53.associate_vpc_with_hosted_zone(
                HostedZoneId=zone_id, VPC={"VPCRegion": self.region, "VPCId": vpc_id}
            )
        changes = [
            {
                "Action": "CREATE",
                "ResourceRecordSet": {
                    "Name": f"{record}.",
                    "Type": "A",
                    "AliasTarget": {
                        "HostedZoneId": "Z7HUB22UULQXV",
                        "DNSName": target,
                        "EvaluateTargetHealth": False,
                    },
                },
            }
            for record, target in records.items()
        ]
        if changes:
            route53.change_resource_record_sets(
                HostedZoneId=zone_id, ChangeBatch={"Changes": changes}
            )
        return zone_id


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
    _seed_hub(east, ids, org_only)
    _seed_app(west, ids, org_only, org_principals_and_resources)

    ids["pcx-prod-analytics"] = _peer(east, ids["prod"], east, ids["analytics"])
    east.route(
        ids["analytics-private-rt"], "10.0.0.0/16", VpcPeeringConnectionId=ids["pcx-prod-analytics"]
    )
    ids["pcx-legacy-analytics"] = _peer(east, ids["legacy"], east, ids["analytics"])
    ids["pcx-analytics-app"] = _peer(east, ids["analytics"], west, ids["app"])
    for partner, destination in (("partner-a", "10.40.0.0/16"), ("partner-b", "10.40.0.0/17")):
        ids[partner] = east.vpc(partner, "10.40.0.0/16")
        east.flow_log(ids[partner])
        connection = ids[f"pcx-analytics-{partner}"] = _peer(
            east, ids["analytics"], east, ids[partner]
        )
        east.route(ids["analytics-private-rt"], destination, VpcPeeringConnectionId=connection)
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
    east.route(table_a, "52.216.0.0/15", NatGatewayId=nat)  # a leftover "S3 range via NAT"
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
        ("ssmmessages", [tight]),
        ("ec2messages", [tight]),
        ("ssm-contacts", [tight]),
        ("ecr.dkr", [all_traffic]),
        ("ssm-incidents", [wrong_source]),
    ):
        name = f"prod-{short.replace('.', '-')}"
        ids[name], _ = east.interface_endpoint(name, prod, short, both, groups, policy=org_only)
    ids["prod-ecr-api"], _ = east.interface_endpoint(
        "prod-ecr-api", prod, "ecr.api", [private_a], [wide_open], policy=org_only
    )
    ids["prod-kms"], _ = east.interface_endpoint(
        "prod-kms",
        prod,
        "kms",
        both,
        [tight],
        policy=_policy(_allow({"StringEquals": {"aws:SourceVpc": prod}})),
    )
    ids["prod-sts"], _ = east.interface_endpoint(
        "prod-sts",
        prod,
        "sts",
        both,
        [tight],
        policy=_policy(_allow(Principal={"AWS": f"arn:aws:iam::{FOREIGN_ACCOUNT}:root"})),
    )
    ids["prod-logs"], _ = east.interface_endpoint(
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
    ids["prod-ssm-second"], _ = east.interface_endpoint(
        "prod-ssm-second", prod, "ssm", both, [tight], policy=org_only, private_dns=False
    )
    ids["prod-monitoring"], _ = east.interface_endpoint(
        "prod-monitoring", prod, "monitoring", both, [tight], policy=org_only, private_dns=False
    )
    ids["prod-secretsmanager"], secrets_dns = east.interface_endpoint(
        "prod-secretsmanager",
        prod,
        "secretsmanager",
        both,
        [tight],
        policy=org_only,
        private_dns=False,
    )
    ids["zone-secretsmanager"] = east.private_zone(
        "secretsmanager.us-east-1.amazonaws.com",
        [prod],
        {"secretsmanager.us-east-1.amazonaws.com": secrets_dns},
        "vpce-audit-demo-secretsmanager",
    )
    ids["prod-s3-interface"], _ = east.interface_endpoint(
        "prod-s3-interface", prod, "s3", both, [tight], policy=org_both, private_dns=False
    )

    balancer = east.session.client("elbv2", region_name="us-east-1").create_load_balancer(
        Name="prod-nlb", Subnets=[private_a], Type="network"
    )["LoadBalancers"][0]["LoadBalancerArn"]
    for name, acceptance, principal in (
        ("svc-open", False, "*"),
        ("svc-internal", True, f"arn:aws:iam::{DEMO_ACCOUNT_ID}:root"),
        ("svc-closed", False, None),
    ):
        configuration = east.ec2.create_vpc_endpoint_service_configuration(
            NetworkLoadBalancerArns=[balancer], AcceptanceRequired=acceptance
        )["ServiceConfiguration"]
        if principal is not None:
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
    ids["analytics-internal-service"], _ = east.interface_endpoint(
        "analytics-internal-service",
        analytics,
        ids["svc-internal-name"],
        [public, private],
        [group],
        private_dns=False,
    )

    legacy = ids["legacy"] = east.vpc("legacy", "10.2.0.0/16", dns_hostnames=False)
    options = east.ec2.create_dhcp_options(
        DhcpConfigurations=[{"Key": "domain-name-servers", "Values": ["10.2.0.10", "10.2.0.11"]}]
    )["DhcpOptions"]["DhcpOptionsId"]
    east.ec2.associate_dhcp_options(DhcpOptionsId=options, VpcId=legacy)
    legacy_public = east.subnet("legacy-public", legacy, "10.2.0.0/24", "a")
    legacy_a = east.subnet("legacy-private-a", legacy, "10.2.1.0/24", "a")
    legacy_b = east.subnet("legacy-private-b", legacy, "10.2.2.0/24", "b")
    legacy_nat = east.internet_and_nat("legacy", legacy, legacy_public)
    legacy_main = ids["legacy-main-rt"] = east.main_table(legacy)
    east.route(legacy_main, "0.0.0.0/0", NatGatewayId=legacy_nat)
    legacy_group = east.security_group("legacy-endpoints", legacy, _https("10.2.0.0/16"))
    ids["legacy-sts"], _ = east.interface_endpoint(
        "legacy-sts",
        legacy,
        "sts",
        [legacy_public, legacy_a, legacy_b],
        [legacy_group],
        policy=_policy(_allow({"StringEquals": {"aws:PrincipalOrgID": org_id}})),
    )


def _seed_transit(east: _Region, ids: dict[str, str]) -> None:
    created = east.ec2.create_transit_gateway(
        Description="vpce-audit demo: tgw-main",
        Options={"AutoAcceptSharedAttachments": "enable"},
    )["TransitGateway"]
    gateway: str = created["TransitGatewayId"]
    ids["tgw-main"] = gateway
    ids["tgw-quiet"] = east.ec2.create_transit_gateway(Description="vpce-audit demo: tgw-quiet")[
        "TransitGateway"
    ]["TransitGatewayId"]
    # Attachments are associated with the default route table; both spokes propagate into it.
    table: str = created["Options"]["AssociationDefaultRouteTableId"]
    ids["tgw-main-rt"] = table
    for name, cidr, subnet_cidr in (
        ("spoke-a", "10.3.0.0/16", "10.3.1.0/24"),
        ("spoke-b", "10.3.128.0/20", "10.3.129.0/24"),
    ):
        vpc_id = ids[name] = east.vpc(name, cidr)
        subnet = east.subnet(f"{name}-private", vpc_id, subnet_cidr, "a")
        attachment: str = east.ec2.create_transit_gateway_vpc_attachment(
            TransitGatewayId=gateway, VpcId=vpc_id, SubnetIds=[subnet]
        )["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
        east.ec2.enable_transit_gateway_route_table_propagation(
            TransitGatewayRouteTableId=table, TransitGatewayAttachmentId=attachment
        )
        ids[f"{name}-attachment"] = attachment
        ids[f"{name}-main-rt"] = east.main_table(vpc_id)
    # A workload subnet in zone b, where spoke-a's attachment has no subnet: its traffic to the
    # gateway is dropped (VPCE406). spoke-b routes to the gateway from zone a only (clean).
    east.subnet("spoke-a-private-b", ids["spoke-a"], "10.3.2.0/24", "b")
    east.route(ids["spoke-a-main-rt"], "0.0.0.0/0", TransitGatewayId=gateway)
    east.route(ids["spoke-b-main-rt"], "10.3.0.0/16", TransitGatewayId=gateway)
    # The route propagation adds on AWS (moto does not propagate): spoke-b's block, which lies
    # inside spoke-a's own, so spoke-a can never reach spoke-b (VPCE501).
    east.ec2.create_transit_gateway_route(
        DestinationCidrBlock="10.3.128.0/20",
        TransitGatewayRouteTableId=table,
        TransitGatewayAttachmentId=ids["spoke-b-attachment"],
    )


def _seed_hub(east: _Region, ids: dict[str, str], org_only: str) -> None:
    """Centralised interface endpoints and the private zones that point spokes at them."""
    hub = ids["hub"] = east.vpc("hub", "10.30.0.0/16")
    east.flow_log(hub)
    hub_a = east.subnet("hub-a", hub, "10.30.1.0/24", "a")
    hub_b = east.subnet("hub-b", hub, "10.30.2.0/24", "b")
    hub_table = ids["hub-rt"] = east.route_table("hub-rt", hub, [hub_a, hub_b])
    admitted = east.security_group(
        "hub-endpoints", hub, _https("10.30.0.0/16"), _https("10.31.0.0/16")
    )
    targets: dict[str, str] = {}
    for short in ("ssm", "sts", "kms"):
        ids[f"hub-{short}"], targets[short] = east.interface_endpoint(
            f"hub-{short}",
            hub,
            short,
            [hub_a, hub_b],
            [admitted],
            policy=org_only,
            private_dns=False,
        )
    # The kms endpoint was deleted later; its zone was forgotten.
    east.ec2.delete_vpc_endpoints(VpcEndpointIds=[ids["hub-kms"]])
    spokes = []
    for name, cidr in (("spoke-ok", "10.31.0.0/16"), ("spoke-broken", "10.32.0.0/16")):
        vpc_id = ids[name] = east.vpc(name, cidr)
        east.flow_log(vpc_id)
        subnet = east.subnet(f"{name}-private", vpc_id, cidr.replace("0.0/16", "1.0/24"), "a")
        table = ids[f"{name}-rt"] = east.route_table(f"{name}-rt", vpc_id, [subnet])
        connection = ids[f"pcx-hub-{name}"] = _peer(east, vpc_id, east, hub)
        east.route(table, "10.30.0.0/16", VpcPeeringConnectionId=connection)
        east.route(hub_table, cidr, VpcPeeringConnectionId=connection)  # the way back
        spokes.append(vpc_id)
    for short in ("ssm", "sts"):
        name = f"{short}.us-east-1.amazonaws.com"
        ids[f"zone-{short}"] = east.private_zone(
            name, [hub, *spokes], {name: targets[short]}, f"vpce-audit-demo-{short}"
        )
    # Someone wanted one name answered in the hub and created the parent domain: every AWS
    # name without a record (kms, logs, s3...) now gets NXDOMAIN in the hub; ssm and sts still
    # resolve through their own, more specific zones (VPCE206).
    ids["zone-amazonaws"] = east.private_zone(
        "amazonaws.com",
        [hub],
        {"ec2.us-east-1.amazonaws.com": "ec2.us-east-1.amazonaws.com"},
        "vpce-audit-demo-parent",
    )
    ids["zone-kms"] = east.private_zone(
        "kms.us-east-1.amazonaws.com",
        [ids["spoke-broken"]],
        {"kms.us-east-1.amazonaws.com": targets["kms"]},
        "vpce-audit-demo-kms",
    )


def _seed_app(west: _Region, ids: dict[str, str], org_only: str, org_both: str) -> None:
    app = ids["app"] = west.vpc("app", "10.20.0.0/16")
    app_public = ids["app-public"] = west.subnet("app-public", app, "10.20.0.0/24", "a")
    app_private = ids["app-private"] = west.subnet("app-private", app, "10.20.1.0/24", "b")
    app_services = west.subnet("app-services", app, "10.20.2.0/24", "b")
    app_nat = west.internet_and_nat("app", app, app_public)
    app_table = west.route_table("app-private-rt", app, [app_private])
    west.route(app_table, "0.0.0.0/0", NatGatewayId=app_nat)
    west.gateway_endpoint("app-s3", app, "s3", [app_table], org_both)
    west.gateway_endpoint("app-dynamodb", app, "dynamodb", [app_table], org_both)
    west.flow_log(app)
    group = west.security_group("app-endpoints", app, _https("10.20.0.0/16"))
    ids["app-logs"], _ = west.interface_endpoint(
        "app-logs", app, "logs", [app_public, app_private], [group], policy=org_only
    )
    ids["app-sts"], _ = west.interface_endpoint(
        "app-sts", app, "sts", [app_public, app_services], [group], policy=org_only
    )
    # A hand-made ACL for the private subnet: HTTPS in, but only HTTPS out (no replies to the
    # clients' ephemeral ports).
    acl = ids["app-private-acl"] = west.ec2.create_network_acl(
        VpcId=app, TagSpecifications=_tags("app-private-acl", "network-acl")
    )["NetworkAcl"]["NetworkAclId"]
    for egress in (False, True):
        west.ec2.create_network_acl_entry(
            NetworkAclId=acl,
            RuleNumber=100,
            Protocol="6",
            RuleAction="allow",
            Egress=egress,
            CidrBlock="10.20.0.0/16",
            PortRange={"From": 443, "To": 443},
        )
    current = west.ec2.describe_network_acls(
        Filters=[{"Name": "association.subnet-id", "Values": [app_private]}]
    )["NetworkAcls"][0]
    association = next(
        a["NetworkAclAssociationId"]
        for a in current["Associations"]
        if a["SubnetId"] == app_private
    )
    west.ec2.replace_network_acl_association(AssociationId=association, NetworkAclId=acl)


def _peer(requester: _Region, vpc_id: str, accepter: _Region, peer_vpc_id: str) -> str:
    connection_id: str = requester.ec2.create_vpc_peering_connection(
        VpcId=vpc_id, PeerVpcId=peer_vpc_id, PeerRegion=accepter.region
    )["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    accepter.ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=connection_id)
    return connection_id


def _endpoint_connections(ids: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """What DescribeVpcEndpointConnections returns in each region (moto does not implement it):
    a foreign account's endpoint connected to svc-open, and the analytics VPC's endpoint
    connected to svc-internal. Shapes as in the EC2 API reference."""
    return {
        "us-east-1": [
            {
                "ServiceId": ids["svc-open"],
                "VpcEndpointId": "vpce-0f00d00d00d00d00d",
                "VpcEndpointOwner": FOREIGN_ACCOUNT,
                "VpcEndpointState": "available",
                "VpcEndpointRegion": "us-east-1",
            },
            {
                "ServiceId": ids["svc-internal"],
                "VpcEndpointId": ids["analytics-internal-service"],
                "VpcEndpointOwner": DEMO_ACCOUNT_ID,
                "VpcEndpointState": "available",
                "VpcEndpointRegion": "us-east-1",
            },
        ],
    }


_ENVIRONMENT_TO_CLEAR = (
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_EC2",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
)


DEMO_RANDOM_SEED = 20261126
DEMO_EPOCH = 1767225600
"""2026-01-01T00:00:00Z: when the demo estate is collected, unless SOURCE_DATE_EPOCH says."""


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
    if not os.environ.get("SOURCE_DATE_EPOCH", "").strip():
        # The demo's own moment: its snapshot and reports are the same bytes on every run.
        fake_credentials["SOURCE_DATE_EPOCH"] = str(DEMO_EPOCH)
    previous = {key: os.environ.get(key) for key in fake_credentials}
    os.environ.update(fake_credentials)
    try:
        with mock_aws(), transit_gateway_routes_in_aws_shape():
            # moto's ids are random: seeded, the demo has the same ids, fingerprints and
            # report bytes on every run (moto's documented way: its MotoRandom's seed).
            from moto.moto_api._internal import mock_random

            mock_random.seed(DEMO_RANDOM_SEED)
            session = boto3.session.Session(region_name=DEMO_REGIONS[0])
            ids = seed(session)
            answer_endpoint_connections(session, _endpoint_connections(ids))
            answer_profiles(session)
            answer_group_associations(session)
            yield session, ids
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        os.environ.update(saved)
