"""AWS response shapes -> model, on recorded responses for what moto cannot produce (VPN static
routes, propagated routes, TGW propagations, peering CIDR sets, security-group rule forms)."""

from __future__ import annotations

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
    )
    assert table.associated_attachment_ids == ("tgw-attach-a",)
    assert table.propagating_attachment_ids == ("tgw-attach-c",)
    assert table.routes is None  # read-only collection cannot list TGW routes
    unknown = translate.transit_gateway_route_table(
        {"TransitGatewayRouteTableId": "tgw-rtb-2", "TransitGatewayId": "tgw-1"}, None, None
    )
    assert unknown.associated_attachment_ids is None


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
