"""AWS response shapes -> model, on recorded responses for what moto cannot produce (VPN static
routes, propagated routes, TGW propagations, peering CIDR sets, security-group rule forms)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from vpce_audit.collect import translate

VPN_CONNECTION = {
    "VpnConnectionId": "vpn-0a1b2c3d4e5f60718",
    "State": "available",
    "CustomerGatewayId": "cgw-0123456789abcdef0",
    "VpnGatewayId": "vgw-0123456789abcdef0",
    "Type": "ipsec.1",
    "Options": {"StaticRoutesOnly": True},
    "Routes": [
        {"DestinationCidrBlock": "192.168.0.0/16", "Source": "Static", "State": "available"},
        {"DestinationCidrBlock": "172.16.0.0/12", "Source": "Static", "State": "deleted"},
    ],
}

ROUTE_TABLE = {
    "RouteTableId": "rtb-0123456789abcdef0",
    "VpcId": "vpc-0123456789abcdef0",
    "OwnerId": "111122223333",
    "Associations": [
        {
            "Main": True,
            "RouteTableAssociationId": "rtbassoc-1",
            "AssociationState": {"State": "associated"},
        },
        {"Main": False, "SubnetId": "subnet-1", "AssociationState": {"State": "associated"}},
        {"Main": False, "SubnetId": "subnet-gone", "AssociationState": {"State": "disassociated"}},
    ],
    "Routes": [
        {
            "DestinationCidrBlock": "10.0.0.0/16",
            "GatewayId": "local",
            "Origin": "CreateRouteTable",
            "State": "active",
        },
        {
            "DestinationCidrBlock": "10.50.0.0/16",
            "GatewayId": "vgw-0123456789abcdef0",
            "Origin": "EnableVgwRoutePropagation",
            "State": "active",
        },
        {
            "DestinationPrefixListId": "pl-63a5400a",
            "GatewayId": "vpce-0123456789abcdef0",
            "Origin": "CreateRoute",
            "State": "blackhole",
        },
        {
            "DestinationCidrBlock": "0.0.0.0/0",
            "NatGatewayId": "nat-0123456789abcdef0",
            "Origin": "CreateRoute",
            "State": "active",
        },
    ],
}


def test_vpn_static_routes_keep_only_live_routes() -> None:
    connection = translate.vpn_connection(VPN_CONNECTION)
    assert connection.static_route_cidrs == ("192.168.0.0/16",)
    assert connection.vpn_gateway_id == "vgw-0123456789abcdef0"


def test_route_tables_keep_main_flag_live_associations_and_every_target() -> None:
    table = translate.route_table(ROUTE_TABLE)
    assert table.is_main is True
    assert table.subnet_ids == ("subnet-1",)
    assert [(r.target_id, r.state, r.origin) for r in table.routes] == [
        ("local", "active", "CreateRouteTable"),
        ("vgw-0123456789abcdef0", "active", "EnableVgwRoutePropagation"),
        ("vpce-0123456789abcdef0", "blackhole", "CreateRoute"),
        ("nat-0123456789abcdef0", "active", "CreateRoute"),
    ]
    assert table.routes[2].destination_prefix_list_id == "pl-63a5400a"


def test_transit_gateway_route_table_associations_and_enabled_propagations() -> None:
    table = translate.transit_gateway_route_table(
        {"TransitGatewayRouteTableId": "tgw-rtb-1", "TransitGatewayId": "tgw-1"},
        [
            {"TransitGatewayAttachmentId": "tgw-attach-a", "State": "associated"},
            {"TransitGatewayAttachmentId": "tgw-attach-b", "State": "disassociating"},
        ],
        [
            {"TransitGatewayAttachmentId": "tgw-attach-c", "State": "enabled"},
            {"TransitGatewayAttachmentId": "tgw-attach-d", "State": "disabled"},
        ],
        # SearchTransitGatewayRoutes, as the EC2 API reference shapes it.
        [
            {
                "DestinationCidrBlock": "10.20.0.0/16",
                "TransitGatewayAttachments": [
                    {
                        "ResourceId": "vpc-0a",
                        "TransitGatewayAttachmentId": "tgw-attach-c",
                        "ResourceType": "vpc",
                    }
                ],
                "Type": "propagated",
                "State": "active",
            },
            {"DestinationCidrBlock": "192.168.0.0/16", "Type": "static", "State": "blackhole"},
        ],
    )
    assert table.associated_attachment_ids == ("tgw-attach-a",)
    assert table.propagating_attachment_ids == ("tgw-attach-c",)
    assert table.routes is not None
    propagated, blackhole = table.routes
    assert (propagated.destination_cidr, propagated.route_type, propagated.state) == (
        "10.20.0.0/16",
        "propagated",
        "active",
    )
    assert [(t.attachment_id, t.resource_type, t.resource_id) for t in propagated.targets] == [
        ("tgw-attach-c", "vpc", "vpc-0a")
    ]
    assert (blackhole.state, blackhole.targets) == ("blackhole", ())
    unknown = translate.transit_gateway_route_table(
        {"TransitGatewayRouteTableId": "tgw-rtb-2", "TransitGatewayId": "tgw-1"}, None, None, None
    )
    assert (unknown.associated_attachment_ids, unknown.routes) == (None, None)


def test_peering_sides_carry_every_cidr_block_and_dns_options() -> None:
    connection = translate.peering_connection(
        {
            "VpcPeeringConnectionId": "pcx-1",
            "Status": {"Code": "active"},
            "RequesterVpcInfo": {
                "OwnerId": "111122223333",
                "VpcId": "vpc-a",
                "Region": "eu-west-1",
                "CidrBlock": "10.0.0.0/16",
                "CidrBlockSet": [{"CidrBlock": "10.0.0.0/16"}, {"CidrBlock": "10.1.0.0/16"}],
                "PeeringOptions": {"AllowDnsResolutionFromRemoteVpc": True},
            },
            "AccepterVpcInfo": {
                "OwnerId": "444455556666",
                "VpcId": "vpc-b",
                "Region": "us-east-1",
                "CidrBlock": "10.2.0.0/16",
            },
        }
    )
    assert connection.requester.cidr_blocks == ("10.0.0.0/16", "10.1.0.0/16")
    assert connection.requester.allow_remote_vpc_dns_resolution is True
    assert connection.accepter.allow_remote_vpc_dns_resolution is None  # not shown to us


def test_security_group_permissions_become_one_rule_per_source() -> None:
    group = translate.security_group(
        {
            "GroupId": "sg-1",
            "GroupName": "endpoints",
            "VpcId": "vpc-1",
            "OwnerId": "111122223333",
            "IpPermissions": [
                {
                    "IpProtocol": "tcp",
                    "FromPort": 443,
                    "ToPort": 443,
                    "IpRanges": [{"CidrIp": "10.0.0.0/16"}],
                    "Ipv6Ranges": [{"CidrIpv6": "::/0"}],
                    "PrefixListIds": [{"PrefixListId": "pl-1"}],
                    "UserIdGroupPairs": [{"GroupId": "sg-2", "UserId": "111122223333"}],
                },
                {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
            ],
        }
    )
    sources = [
        (
            r.ip_protocol,
            r.from_port,
            r.cidr_ipv4 or r.cidr_ipv6 or r.prefix_list_id or r.referenced_group_id,
        )
        for r in group.ingress
    ]
    assert sources == [
        ("tcp", 443, "10.0.0.0/16"),
        ("tcp", 443, "::/0"),
        ("tcp", 443, "pl-1"),
        ("tcp", 443, "sg-2"),
        ("-1", None, "0.0.0.0/0"),
    ]


def test_vpc_blocks_keep_primary_first_and_drop_disassociated() -> None:
    vpc = translate.vpc(
        {
            "VpcId": "vpc-1",
            "OwnerId": "111122223333",
            "CidrBlock": "10.0.0.0/16",
            "CidrBlockAssociationSet": [
                {"CidrBlock": "10.0.0.0/16", "CidrBlockState": {"State": "associated"}},
                {"CidrBlock": "100.64.0.0/16", "CidrBlockState": {"State": "associated"}},
                {"CidrBlock": "10.9.0.0/16", "CidrBlockState": {"State": "disassociated"}},
            ],
            "IsDefault": False,
            "DhcpOptionsId": "dopt-1",
            "Tags": [{"Key": "Name", "Value": "prod"}],
        },
        True,
        None,
    )
    assert vpc.cidr_blocks == ("10.0.0.0/16", "100.64.0.0/16")
    assert (vpc.enable_dns_support, vpc.enable_dns_hostnames, vpc.name) == (True, None, "prod")


def test_vpc_endpoints_keep_dns_options_management_and_service_region() -> None:
    plus_one = timezone(timedelta(hours=1))
    endpoint = translate.vpc_endpoint(
        {
            "VpcEndpointId": "vpce-0a1b2c3d4e5f60718",
            "VpcEndpointType": "Interface",
            "VpcId": "vpc-1",
            "ServiceName": "com.amazonaws.us-west-2.s3",
            "ServiceRegion": "us-west-2",
            "State": "available",
            "PrivateDnsEnabled": True,
            "DnsOptions": {
                "DnsRecordIpType": "ipv4",
                "PrivateDnsOnlyForInboundResolverEndpoint": True,
            },
            "RequesterManaged": False,
            "DnsEntries": [
                {
                    "DnsName": "*.vpce-0a1b2c3d4e5f60718-4x6yab2c.s3.us-west-2.vpce.amazonaws.com",
                    "HostedZoneId": "Z1YSA3EXCYUU9Z",
                },
                {"DnsName": "VPCE-0A1B2C3D4E5F60718-4X6YAB2C.s3.us-west-2.vpce.amazonaws.com."},
            ],
            "Tags": [{"Key": "GuardDutyManaged", "Value": "true"}],
            # botocore parses timestamps into aware datetimes
            "CreationTimestamp": datetime(2026, 11, 25, 13, 0, 5, 120000, tzinfo=plus_one),
        }
    )
    assert endpoint.created_at == "2026-11-25T12:00:05Z"
    assert endpoint.private_dns_enabled and endpoint.private_dns_only_for_inbound_resolver
    assert not endpoint.private_dns_serves_vpc
    assert endpoint.service_region == "us-west-2"
    assert endpoint.requester_managed  # GuardDuty's tag
    assert endpoint.dns_names == (
        "*.vpce-0a1b2c3d4e5f60718-4x6yab2c.s3.us-west-2.vpce.amazonaws.com",
        "vpce-0a1b2c3d4e5f60718-4x6yab2c.s3.us-west-2.vpce.amazonaws.com",
    )
    lattice = translate.vpc_endpoint(
        {
            "VpcEndpointId": "vpce-0ffffffffffffffff",
            "VpcEndpointType": "ServiceNetwork",
            "VpcId": "vpc-1",
            "ServiceNetworkArn": "arn:aws:vpc-lattice:us-east-1:111122223333:servicenetwork/sn-1",
            "RequesterManaged": True,
        }
    )
    assert lattice.is_lattice and lattice.requester_managed and lattice.service_name == ""
    assert lattice.created_at is None


def test_endpoint_connections_network_acls_and_resolver_endpoints() -> None:
    connection = translate.endpoint_connection(
        {
            "ServiceId": "vpce-svc-0123456789abcdef0",
            "VpcEndpointId": "vpce-0aaaaaaaaaaaaaaaa",
            "VpcEndpointOwner": "999999999999",
            "VpcEndpointState": "available",
            "VpcEndpointRegion": "eu-west-1",
        }
    )
    assert (connection.endpoint_owner, connection.state, connection.endpoint_region) == (
        "999999999999",
        "available",
        "eu-west-1",
    )
    acl = translate.network_acl(
        {
            "NetworkAclId": "acl-1",
            "VpcId": "vpc-1",
            "IsDefault": False,
            "Associations": [{"NetworkAclAssociationId": "aclassoc-1", "SubnetId": "subnet-1"}],
            "Entries": [
                {
                    "RuleNumber": 32767,
                    "Protocol": "-1",
                    "RuleAction": "deny",
                    "Egress": False,
                    "CidrBlock": "0.0.0.0/0",
                },
                {
                    "RuleNumber": 100,
                    "Protocol": "6",
                    "RuleAction": "allow",
                    "Egress": False,
                    "CidrBlock": "10.0.0.0/16",
                    "PortRange": {"From": 443, "To": 443},
                },
            ],
        }
    )
    assert acl.subnet_ids == ("subnet-1",)
    assert [(e.rule_number, e.rule_action, e.from_port) for e in acl.entries] == [
        (100, "allow", 443),
        (32767, "deny", None),
    ]
    inbound = translate.resolver_endpoint(
        {"Id": "rslvr-in-1", "Direction": "INBOUND", "HostVPCId": "vpc-1", "Status": "OPERATIONAL"},
        [{"Ip": "10.0.1.10", "SubnetId": "subnet-1"}, {"Ipv6": "fd00::a", "SubnetId": "subnet-2"}],
    )
    assert (inbound.vpc_id, inbound.ip_addresses) == ("vpc-1", ("10.0.1.10", "fd00::a"))


def test_transit_gateway_options_and_record_sets() -> None:
    gateway = translate.transit_gateway(
        {
            "TransitGatewayId": "tgw-1",
            "OwnerId": "111122223333",
            "State": "available",
            "Options": {"AutoAcceptSharedAttachments": "enable"},
        }
    )
    assert gateway.auto_accept_shared_attachments is True
    assert (
        translate.transit_gateway({"TransitGatewayId": "tgw-2"}).auto_accept_shared_attachments
        is None
    )
    zone = translate.hosted_zone(
        {
            "Id": "/hostedzone/Z1",
            "Name": "s3.eu-west-1.amazonaws.com.",
            "Config": {"PrivateZone": True},
        },
        [{"VPCRegion": "eu-west-1", "VPCId": "vpc-1"}],
        [
            {
                "Name": "\\052.s3.eu-west-1.amazonaws.com.",
                "Type": "A",
                "AliasTarget": {
                    "HostedZoneId": "Z1",
                    "DNSName": "*.vpce-0abc-xyz.s3.eu-west-1.vpce.amazonaws.com.",
                    "EvaluateTargetHealth": False,
                },
            },
            {
                "Name": "s3.eu-west-1.amazonaws.com.",
                "Type": "A",
                "ResourceRecords": [{"Value": "10.0.1.10"}],
                "TTL": 60,
            },
        ],
    )
    assert zone.records is not None
    assert [(r.name, r.alias_target, r.values) for r in zone.records] == [
        ("*.s3.eu-west-1.amazonaws.com", "*.vpce-0abc-xyz.s3.eu-west-1.vpce.amazonaws.com", ()),
        ("s3.eu-west-1.amazonaws.com", None, ("10.0.1.10",)),
    ]
