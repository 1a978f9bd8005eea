"""Estates built in moto for collector tests. Distinct from the demo estate on purpose: the rules
must give the right answers on networks they were not tuned on."""

from __future__ import annotations

import json
from typing import Any

STRANGER_POLICY = json.dumps(
    {
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:*", "Resource": "*"}
        ]
    }
)
BUCKET_POLICY = json.dumps(
    {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::corp-artifacts/*",
            }
        ]
    }
)


def _name(name: str, kind: str) -> list[dict[str, Any]]:
    return [{"ResourceType": kind, "Tags": [{"Key": "Name", "Value": name}]}]


def _vpc(ec2: Any, name: str, cidr: str, *, support: bool = True, hostnames: bool = True) -> str:
    vpc_id: str = ec2.create_vpc(CidrBlock=cidr, TagSpecifications=_name(name, "vpc"))["Vpc"][
        "VpcId"
    ]
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsSupport={"Value": support})
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": hostnames})
    return vpc_id


def _subnet(ec2: Any, vpc_id: str, cidr: str, zone: str) -> str:
    subnet_id: str = ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=zone)[
        "Subnet"
    ]["SubnetId"]
    return subnet_id


def _nat(ec2: Any, subnet_id: str) -> str:
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat: str = ec2.create_nat_gateway(SubnetId=subnet_id, AllocationId=allocation)["NatGateway"][
        "NatGatewayId"
    ]
    return nat


def _table(ec2: Any, vpc_id: str, subnets: list[str], nat: str | None) -> str:
    table: str = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    for subnet_id in subnets:
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnet_id)
    if nat:
        ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
    return table


def _group(ec2: Any, vpc_id: str, name: str, permission: dict[str, Any]) -> str:
    group: str = ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc_id)[
        "GroupId"
    ]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[permission])
    return group


def build_two_region_estate(west: Any, sydney: Any, sydney_elbv2: Any) -> dict[str, str]:
    """us-west-2 and ap-southeast-2; returns ids by role. Expected findings are in the test."""
    ids: dict[str, str] = {}
    shared = ids["shared"] = _vpc(west, "shared", "10.50.0.0/16")
    a = _subnet(west, shared, "10.50.1.0/24", "us-west-2a")
    b = _subnet(west, shared, "10.50.2.0/24", "us-west-2b")
    c = _subnet(west, shared, "10.50.3.0/24", "us-west-2c")
    public = _subnet(west, shared, "10.50.0.0/24", "us-west-2a")
    nat = _nat(west, public)
    ids["rt-app"] = _table(west, shared, [a, b], nat)
    ids["rt-data"] = _table(west, shared, [c], nat)
    ids["s3-gw"] = west.create_vpc_endpoint(
        VpcId=shared,
        ServiceName="com.amazonaws.us-west-2.s3",
        VpcEndpointType="Gateway",
        RouteTableIds=[ids["rt-data"]],
        PolicyDocument=STRANGER_POLICY,
    )["VpcEndpoint"]["VpcEndpointId"]
    ids["ddb-gw"] = west.create_vpc_endpoint(
        VpcId=shared,
        ServiceName="com.amazonaws.us-west-2.dynamodb",
        VpcEndpointType="Gateway",
        RouteTableIds=[ids["rt-app"], ids["rt-data"]],
        PolicyDocument=BUCKET_POLICY,
    )["VpcEndpoint"]["VpcEndpointId"]
    open6 = ids["sg-open6"] = _group(
        west,
        shared,
        "open6",
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
    )
    tight = _group(
        west,
        shared,
        "tight",
        {
            "IpProtocol": "tcp",
            "FromPort": 443,
            "ToPort": 443,
            "IpRanges": [{"CidrIp": "10.50.0.0/16"}],
        },
    )
    ids["kms"] = west.create_vpc_endpoint(
        VpcId=shared,
        ServiceName="com.amazonaws.us-west-2.kms",
        VpcEndpointType="Interface",
        SubnetIds=[a, c],
        SecurityGroupIds=[open6],
        PrivateDnsEnabled=True,
        PolicyDocument=BUCKET_POLICY,
    )["VpcEndpoint"]["VpcEndpointId"]
    ids["logs"] = west.create_vpc_endpoint(
        VpcId=shared,
        ServiceName="com.amazonaws.us-west-2.logs",
        VpcEndpointType="Interface",
        SubnetIds=[b],
        SecurityGroupIds=[tight],
        PrivateDnsEnabled=True,
        PolicyDocument=BUCKET_POLICY,
    )["VpcEndpoint"]["VpcEndpointId"]

    nodns = ids["nodns"] = _vpc(west, "nodns", "10.60.0.0/16", support=False)
    nodns_a = _subnet(west, nodns, "10.60.1.0/24", "us-west-2a")
    nodns_b = _subnet(west, nodns, "10.60.2.0/24", "us-west-2b")
    nodns_group = _group(
        west,
        nodns,
        "nodns",
        {
            "IpProtocol": "tcp",
            "FromPort": 443,
            "ToPort": 443,
            "IpRanges": [{"CidrIp": "10.60.0.0/16"}],
        },
    )
    ids["secrets"] = west.create_vpc_endpoint(
        VpcId=nodns,
        ServiceName="com.amazonaws.us-west-2.secretsmanager",
        VpcEndpointType="Interface",
        SubnetIds=[nodns_a, nodns_b],
        SecurityGroupIds=[nodns_group],
        PrivateDnsEnabled=True,
        PolicyDocument=BUCKET_POLICY,
    )["VpcEndpoint"]["VpcEndpointId"]
    ids["secrets-no-private-dns"] = west.create_vpc_endpoint(
        VpcId=nodns,
        ServiceName="com.amazonaws.us-west-2.ssm",
        VpcEndpointType="Interface",
        SubnetIds=[nodns_a, nodns_b],
        SecurityGroupIds=[nodns_group],
        PrivateDnsEnabled=False,
        PolicyDocument=BUCKET_POLICY,
    )["VpcEndpoint"]["VpcEndpointId"]

    # shared peers with two Sydney VPCs that do not overlap shared (AWS would refuse that) but
    # overlap each other: peer's secondary block lies inside far's block.
    peer = ids["peer"] = _vpc(sydney, "peer", "172.20.0.0/16")
    sydney.associate_vpc_cidr_block(VpcId=peer, CidrBlock="192.168.64.0/18")
    far = ids["far"] = _vpc(sydney, "far", "192.168.0.0/16")
    for role, other, destinations in (
        ("pcx-peer", peer, ("172.20.0.0/16", "192.168.64.0/18")),
        ("pcx-far", far, ("192.168.0.0/16",)),
    ):
        connection = west.create_vpc_peering_connection(
            VpcId=shared, PeerVpcId=other, PeerRegion="ap-southeast-2"
        )["VpcPeeringConnection"]["VpcPeeringConnectionId"]
        sydney.accept_vpc_peering_connection(VpcPeeringConnectionId=connection)
        ids[role] = connection
        for destination in destinations:
            west.create_route(
                RouteTableId=ids["rt-data"],
                DestinationCidrBlock=destination,
                VpcPeeringConnectionId=connection,
            )
    # Peering between two VPCs that overlap but never became active.
    lonely = ids["lonely"] = _vpc(sydney, "lonely", "192.168.128.0/17")
    ids["pcx-pending"] = sydney.create_vpc_peering_connection(VpcId=far, PeerVpcId=lonely)[
        "VpcPeeringConnection"
    ]["VpcPeeringConnectionId"]
    _build_sydney_hub(sydney, sydney_elbv2, ids)
    return ids


def _build_sydney_hub(ec2: Any, elbv2: Any, ids: dict[str, str]) -> None:
    """A transit-gateway hub whose endpoints get the policy, DNS and routing details wrong."""
    own = "123456789012"
    hub = ids["hub"] = _vpc(ec2, "hub", "10.70.0.0/16")
    options = ec2.create_dhcp_options(
        DhcpConfigurations=[{"Key": "domain-name-servers", "Values": ["10.70.0.10"]}]
    )["DhcpOptions"]["DhcpOptionsId"]
    ec2.associate_dhcp_options(DhcpOptionsId=options, VpcId=hub)
    a = _subnet(ec2, hub, "10.70.1.0/24", "ap-southeast-2a")
    b = _subnet(ec2, hub, "10.70.2.0/24", "ap-southeast-2b")
    edge = ids["edge"] = _vpc(ec2, "edge", "10.70.64.0/18")
    edge_subnet = _subnet(ec2, edge, "10.70.65.0/24", "ap-southeast-2a")
    created = ec2.create_transit_gateway()["TransitGateway"]
    gateway = created["TransitGatewayId"]
    attachments = {}
    for vpc_id, subnets in ((hub, [a, b]), (edge, [edge_subnet])):
        attachments[vpc_id] = ec2.create_transit_gateway_vpc_attachment(
            TransitGatewayId=gateway, VpcId=vpc_id, SubnetIds=subnets
        )["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
    # A static route for edge's block (moto does not propagate): it lies inside hub's own block,
    # so hub, whose default route goes to the transit gateway, can never reach edge.
    ec2.create_transit_gateway_route(
        DestinationCidrBlock="10.70.64.0/18",
        TransitGatewayRouteTableId=created["Options"]["AssociationDefaultRouteTableId"],
        TransitGatewayAttachmentId=attachments[edge],
    )
    table = ids["rt-hub"] = _table(ec2, hub, [a, b], None)
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", TransitGatewayId=gateway)
    # Inside the S3 prefix list (moto: 3.5.0.0/19): shadows the gateway endpoint.
    ec2.create_route(
        RouteTableId=table, DestinationCidrBlock="3.5.0.0/24", TransitGatewayId=gateway
    )
    own_only = {"StringEquals": {"aws:PrincipalAccount": own}}

    def endpoint(service: str, kind: str, policy: dict[str, Any], **extra: Any) -> str:
        endpoint_id: str = ec2.create_vpc_endpoint(
            VpcId=hub,
            ServiceName=f"com.amazonaws.ap-southeast-2.{service}",
            VpcEndpointType=kind,
            PolicyDocument=json.dumps({"Statement": [policy]}),
            **extra,
        )["VpcEndpoint"]["VpcEndpointId"]
        return endpoint_id

    ids["hub-s3"] = endpoint(
        "s3",
        "Gateway",
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": "*",
            "Condition": own_only,
        },
        RouteTableIds=[table],
    )
    ids["hub-ddb"] = endpoint(
        "dynamodb",
        "Gateway",
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "dynamodb:*",
            "Resource": "arn:aws:dynamodb:*:*:table/*",
            "Condition": own_only,
        },
        RouteTableIds=[],
    )
    every_port = _group(
        ec2,
        hub,
        "every-port",
        {
            "IpProtocol": "tcp",
            "FromPort": 0,
            "ToPort": 65535,
            "IpRanges": [{"CidrIp": "10.70.0.0/16"}],
        },
    )
    https = _group(
        ec2,
        hub,
        "hub-https",
        {
            "IpProtocol": "tcp",
            "FromPort": 443,
            "ToPort": 443,
            "IpRanges": [{"CidrIp": "10.0.0.0/8"}],
        },
    )
    ids["hub-kms"] = endpoint(
        "kms",
        "Interface",
        {
            "Effect": "Allow",
            "Principal": {"AWS": ["999999999999", own]},
            "Action": "kms:Decrypt",
            "Resource": "*",
        },
        SubnetIds=[a, b],
        SecurityGroupIds=[every_port],
        PrivateDnsEnabled=True,
    )
    for role, resource in (("hub-logs-1", "NotResource"), ("hub-logs-2", "Resource")):
        target = "arn:aws:logs:*:*:log-group:audit*" if resource == "NotResource" else "*"
        ids[role] = endpoint(
            "logs",
            "Interface",
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "logs:*",
                resource: target,
                "Condition": own_only,
            },
            SubnetIds=[a, b],
            SecurityGroupIds=[https],
            PrivateDnsEnabled=False,
        )
    # An endpoint service for a partner account, with manual acceptance.
    balancer = elbv2.create_load_balancer(Name="hub-nlb", Subnets=[a], Type="network")[
        "LoadBalancers"
    ][0]["LoadBalancerArn"]
    service = ec2.create_vpc_endpoint_service_configuration(
        NetworkLoadBalancerArns=[balancer], AcceptanceRequired=True
    )["ServiceConfiguration"]
    ec2.modify_vpc_endpoint_service_permissions(
        ServiceId=service["ServiceId"], AddAllowedPrincipals=["arn:aws:iam::999999999999:root"]
    )
    ids["hub-service"] = service["ServiceId"]


def expected_two_region_findings(ids: dict[str, str]) -> set[tuple[str, str]]:
    """(rule, resource) pairs the default rule set must report on build_two_region_estate.

    Written from the estate's design, not from a run: each line says why. The account is in no
    organisation, so every other account is definitely untrusted.
    """
    return {
        ("VPCE101", ids["s3-gw"]),  # {"AWS": "*"}, s3:*, Resource * and nothing else
        # BUCKET_POLICY names only s3:GetObject: on these endpoints it applies to nothing.
        ("VPCE105", ids["ddb-gw"]),
        ("VPCE105", ids["kms"]),
        ("VPCE105", ids["logs"]),
        ("VPCE105", ids["secrets"]),
        ("VPCE105", ids["secrets-no-private-dns"]),
        ("VPCE201", ids["secrets"]),  # private DNS in a VPC with enableDnsSupport off
        # private DNS off, and nothing answers ssm's name in nodns
        ("VPCE202", ids["secrets-no-private-dns"]),
        ("VPCE301", ids["kms"]),  # ::/0 on 443 (low: no routed path leaves the account)
        ("VPCE303", ids["kms"]),  # ... and nothing from the VPC's IPv4 blocks
        ("VPCE304", ids["logs"]),  # one subnet, one zone, in a VPC with three
        ("VPCE305", ids["logs"]),  # shared has subnets in a, b and c
        ("VPCE305", ids["kms"]),  # kms is in a and c only
        ("VPCE401", ids["rt-app"]),  # NAT default route, S3 endpoint only on rt-data
        # The transit gateway routes edge's 10.70.64.0/18, inside hub's own block, away from
        # hub. (shared's static routes to two overlapping peers are AWS's partial-access
        # design: not a finding.)
        ("VPCE501", ids["hub"]),
        # Private subnets (no internet gateway anywhere) without ssm, ssmmessages, ec2messages,
        # sts or logs endpoints (peer, far and lonely have no subnets).
        ("VPCE601", ids["shared"]),
        ("VPCE601", ids["nodns"]),
        # No flow logs anywhere (default VPCs are exempt).
        ("VPCE602", ids["shared"]),
        ("VPCE602", ids["nodns"]),
        ("VPCE602", ids["peer"]),
        ("VPCE602", ids["far"]),
        ("VPCE602", ids["lonely"]),
        # The Sydney hub.
        ("VPCE103", ids["hub-ddb"]),  # own principals may write to every account's tables
        ("VPCE104", ids["hub-kms"]),  # names account 999999999999
        ("VPCE105", ids["hub-logs-1"]),  # Allow with NotResource
        ("VPCE111", ids["hub-service"]),  # allows an untrusted account (high: review is on)
        ("VPCE202", ids["hub-logs-1"]),  # private DNS off, no hosted zone, no other endpoint
        ("VPCE202", ids["hub-logs-2"]),
        ("VPCE203", ids["hub"]),  # DNS servers 10.70.0.10 only (not base + 2), kms private DNS
        ("VPCE204", ids["hub"]),  # two logs endpoints
        ("VPCE302", ids["hub-kms"]),  # tcp 0-65535
        ("VPCE403", ids["rt-hub"]),  # DynamoDB to the transit gateway (its endpoint is unrouted)
        ("VPCE404", ids["rt-hub"]),  # 3.5.0.0/24 inside the S3 list goes to the TGW
        # 10.70.0.0/16 and 10.70.64.0/18 on one transit gateway (moto propagates neither into a
        # table, so medium: no route table joins them yet)
        ("VPCE502", ids["hub"]),
        ("VPCE502", ids["edge"]),
        ("VPCE601", ids["hub"]),  # private subnets; only logs endpoints
        ("VPCE601", ids["edge"]),
        ("VPCE602", ids["hub"]),
        ("VPCE602", ids["edge"]),
    }


def forwarding_rule(resolver: Any, vpc_id: str, subnet: str, group_id: str, domain: str) -> str:
    """A FORWARD rule for ``domain`` to 10.9.0.10:53 through a new outbound endpoint in the
    subnet, associated with the VPC; its id."""
    outbound = resolver.create_resolver_endpoint(
        CreatorRequestId=f"outbound-{domain}",
        Name="outbound",
        SecurityGroupIds=[group_id],
        Direction="OUTBOUND",
        IpAddresses=[{"SubnetId": subnet}, {"SubnetId": subnet}],
    )["ResolverEndpoint"]["Id"]
    rule_id: str = resolver.create_resolver_rule(
        CreatorRequestId=f"rule-{domain}",
        RuleType="FORWARD",
        DomainName=domain,
        TargetIps=[{"Ip": "10.9.0.10", "Port": 53}],
        ResolverEndpointId=outbound,
    )["ResolverRule"]["Id"]
    resolver.associate_resolver_rule(ResolverRuleId=rule_id, VPCId=vpc_id)
    return rule_id


def build_every_call_estate(moto_session: Any) -> None:
    """The two-region estate plus what makes a collection reach every per-resource call: an
    endpoint service, transit-gateway route tables, private zones (one for an AWS service name,
    whose records are read), an inbound resolver endpoint, an organisation and a gateway
    endpoint policy naming a unique id (roles and users are listed)."""
    ec2 = moto_session.client("ec2", region_name="us-west-2")
    build_two_region_estate(
        ec2,
        moto_session.client("ec2", region_name="ap-southeast-2"),
        moto_session.client("elbv2", region_name="ap-southeast-2"),
    )
    # Reach every per-resource call too: an endpoint service, TGW route tables, a private zone.
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    balancer = moto_session.client("elbv2", region_name="us-west-2").create_load_balancer(
        Name="nlb", Subnets=[subnet], Type="network"
    )["LoadBalancers"][0]["LoadBalancerArn"]
    ec2.create_vpc_endpoint_service_configuration(NetworkLoadBalancerArns=[balancer])
    gateway = ec2.create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
    ec2.create_transit_gateway_route_table(TransitGatewayId=gateway)
    vpc_id = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    moto_session.client("route53").create_hosted_zone(
        Name="corp.internal.",
        CallerReference="t",
        VPC={"VPCRegion": "us-west-2", "VPCId": vpc_id},
        HostedZoneConfig={"PrivateZone": True},
    )
    # A zone for an AWS service name (its records are read), an inbound resolver endpoint (its
    # addresses are read), an organisation (its members are listed) and a gateway endpoint
    # policy naming a unique id (roles and users are listed).
    moto_session.client("route53").create_hosted_zone(
        Name="ssm.us-west-2.amazonaws.com.",
        CallerReference="s",
        VPC={"VPCRegion": "us-west-2", "VPCId": vpc_id},
        HostedZoneConfig={"PrivateZone": True},
    )
    group = ec2.create_security_group(GroupName="dns", Description="dns", VpcId=vpc_id)
    resolver = moto_session.client("route53resolver", region_name="us-west-2")
    # Named: moto sorts endpoints by name and fails on two without one.
    resolver.create_resolver_endpoint(
        CreatorRequestId="r",
        Name="inbound",
        SecurityGroupIds=[group["GroupId"]],
        Direction="INBOUND",
        IpAddresses=[{"SubnetId": subnet}, {"SubnetId": subnet}],
    )
    # A forwarding rule associated with the VPC: its definition is listed.
    forwarding_rule(resolver, vpc_id, subnet, group["GroupId"], "corp.example.com")
    moto_session.client("organizations").create_organization(FeatureSet="ALL")
    ec2.create_vpc_endpoint(
        VpcId=vpc_id,
        ServiceName="com.amazonaws.us-west-2.s3",
        VpcEndpointType="Gateway",
        PolicyDocument=json.dumps(
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": "AROAEXAMPLEROLEID01"},
                        "Action": "s3:GetObject",
                        "Resource": "*",
                    }
                ]
            }
        ),
    )


def member_session(account_id: str, region_name: str = "us-east-1") -> Any:
    """A boto3 session in a member account of a moto organisation, reached as a scan reaches
    it: sts:AssumeRole of OrganizationAccountAccessRole (never MOTO_ACCOUNT_ID)."""
    import boto3

    credentials = boto3.client("sts", region_name=region_name).assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole",
        RoleSessionName="estate-builder",
    )["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region_name,
    )
