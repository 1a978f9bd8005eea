"""AWS API response items -> model objects. Pure functions; tolerant of absent optional keys."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from vpce_audit.analysis.dns import normalise
from vpce_audit.clock import parse_utc, utc_text
from vpce_audit.model import (
    CustomerGateway,
    DhcpOptions,
    EndpointConnection,
    EndpointInterface,
    EndpointServiceConfiguration,
    EndpointServiceDetail,
    FlowLog,
    HostedZone,
    HostedZoneVpc,
    IamPrincipal,
    InternetGateway,
    NatGateway,
    NetworkAcl,
    NetworkAclEntry,
    PeeringConnection,
    PeeringSide,
    PrefixList,
    ProfileAssociation,
    ProfileResource,
    ResolverEndpoint,
    ResolverRule,
    ResourceRecordSet,
    Route,
    RouteTable,
    SecurityGroup,
    SecurityGroupRule,
    SecurityGroupVpcAssociation,
    Subnet,
    TransitGateway,
    TransitGatewayAttachment,
    TransitGatewayRoute,
    TransitGatewayRouteTable,
    TransitGatewayRouteTarget,
    Vpc,
    VpcEndpoint,
    VpnConnection,
    VpnGateway,
    ZoneSummary,
)

Item = dict[str, Any]

_ROUTE_TARGET_KEYS = (
    "GatewayId",
    "NatGatewayId",
    "TransitGatewayId",
    "VpcPeeringConnectionId",
    "EgressOnlyInternetGatewayId",
    "NetworkInterfaceId",
    "InstanceId",
    "CarrierGatewayId",
    "LocalGatewayId",
    "CoreNetworkArn",
)


def _strs(values: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in values or ())


def _tag(item: Item, key: str) -> str | None:
    for tag in item.get("Tags") or ():
        if tag.get("Key") == key:
            return str(tag.get("Value"))
    return None


def _name_tag(item: Item) -> str | None:
    return _tag(item, "Name")


# GuardDuty creates and manages its runtime-monitoring endpoints (guardduty-data) in your VPCs and
# tags them; their security groups are GuardDuty's, like those of RequesterManaged endpoints.
GUARDDUTY_MANAGED_TAG = "GuardDutyManaged"


def vpc(item: Item, dns_support: bool | None, dns_hostnames: bool | None) -> Vpc:
    primary = item.get("CidrBlock")
    blocks = [primary] if primary else []
    for association in item.get("CidrBlockAssociationSet") or ():
        block = association.get("CidrBlock")
        state = (association.get("CidrBlockState") or {}).get("State", "associated")
        if block and state == "associated" and block not in blocks:
            blocks.append(block)
    ipv6 = [
        a["Ipv6CidrBlock"]
        for a in item.get("Ipv6CidrBlockAssociationSet") or ()
        if a.get("Ipv6CidrBlock")
        and (a.get("Ipv6CidrBlockState") or {}).get("State", "associated") == "associated"
    ]
    return Vpc(
        vpc_id=item["VpcId"],
        owner_id=str(item.get("OwnerId", "")),
        cidr_blocks=tuple(blocks),
        ipv6_cidr_blocks=tuple(ipv6),
        is_default=bool(item.get("IsDefault", False)),
        dhcp_options_id=item.get("DhcpOptionsId"),
        enable_dns_support=dns_support,
        enable_dns_hostnames=dns_hostnames,
        name=_name_tag(item),
    )


def subnet(item: Item) -> Subnet:
    return Subnet(
        subnet_id=item["SubnetId"],
        vpc_id=item["VpcId"],
        cidr_block=item.get("CidrBlock"),
        availability_zone=item.get("AvailabilityZone", ""),
        availability_zone_id=item.get("AvailabilityZoneId"),
        name=_name_tag(item),
    )


def route(item: Item) -> Route:
    target = next((item[key] for key in _ROUTE_TARGET_KEYS if item.get(key)), None)
    return Route(
        destination_cidr=item.get("DestinationCidrBlock"),
        destination_ipv6_cidr=item.get("DestinationIpv6CidrBlock"),
        destination_prefix_list_id=item.get("DestinationPrefixListId"),
        target_id=target,
        state=item.get("State", "active"),
        origin=item.get("Origin"),
    )


def route_table(item: Item) -> RouteTable:
    associations = [
        a
        for a in item.get("Associations") or ()
        if (a.get("AssociationState") or {}).get("State", "associated") == "associated"
    ]
    return RouteTable(
        route_table_id=item["RouteTableId"],
        vpc_id=item["VpcId"],
        is_main=any(a.get("Main") for a in associations),
        subnet_ids=tuple(sorted(a["SubnetId"] for a in associations if a.get("SubnetId"))),
        routes=tuple(route(r) for r in item.get("Routes") or ()),
        owner_id=item.get("OwnerId"),
        name=_name_tag(item),
    )


def nat_gateway(item: Item) -> NatGateway:
    return NatGateway(
        nat_gateway_id=item["NatGatewayId"],
        vpc_id=item.get("VpcId", ""),
        subnet_id=item.get("SubnetId"),
        state=item.get("State", "available"),
        connectivity_type=item.get("ConnectivityType", "public"),
    )


def internet_gateway(item: Item) -> InternetGateway:
    return InternetGateway(
        internet_gateway_id=item["InternetGatewayId"],
        attached_vpc_ids=tuple(
            a["VpcId"]
            for a in item.get("Attachments") or ()
            if a.get("VpcId") and a.get("State", "available") in {"available", "attached"}
        ),
    )


def dns_name(name: Any) -> str:
    """A DNS name as the model keeps it (``normalise``), with Route 53's octal escape for ``*``
    undone."""
    return normalise(str(name).replace("\\052", "*"))


def vpc_endpoint(item: Item) -> VpcEndpoint:
    dns_options = item.get("DnsOptions") or {}
    return VpcEndpoint(
        endpoint_id=item["VpcEndpointId"],
        vpc_id=item.get("VpcId", ""),
        service_name=item.get("ServiceName", ""),
        endpoint_type=item.get("VpcEndpointType", "Gateway"),
        state=item.get("State", "available"),
        owner_id=item.get("OwnerId"),
        policy_document=item.get("PolicyDocument"),
        private_dns_enabled=bool(item.get("PrivateDnsEnabled", False)),
        subnet_ids=tuple(sorted(_strs(item.get("SubnetIds")))),
        route_table_ids=tuple(sorted(_strs(item.get("RouteTableIds")))),
        security_group_ids=tuple(sorted(g["GroupId"] for g in item.get("Groups") or ())),
        network_interface_ids=tuple(sorted(_strs(item.get("NetworkInterfaceIds")))),
        dns_names=tuple(
            dns_name(entry["DnsName"])
            for entry in item.get("DnsEntries") or ()
            if entry.get("DnsName")
        ),
        private_dns_only_for_inbound_resolver=bool(
            dns_options.get("PrivateDnsOnlyForInboundResolverEndpoint", False)
        ),
        requester_managed=bool(item.get("RequesterManaged", False))
        or _tag(item, GUARDDUTY_MANAGED_TAG) == "true",
        service_region=item.get("ServiceRegion"),
        service_network_arn=item.get("ServiceNetworkArn"),
        resource_configuration_arn=item.get("ResourceConfigurationArn"),
        created_at=_timestamp(item.get("CreationTimestamp")),
        name=_name_tag(item),
        ip_address_type=str(item["IpAddressType"]) if item.get("IpAddressType") else None,
    )


def _timestamp(value: Any) -> str | None:
    # botocore parses timestamps into datetimes; a recorded response may carry the text.
    if isinstance(value, datetime):
        return utc_text(value)
    parsed = parse_utc(value) if isinstance(value, str) else None
    return utc_text(parsed) if parsed else None


def endpoint_service_detail(item: Item) -> EndpointServiceDetail:
    names = [
        n["PrivateDnsName"] for n in item.get("PrivateDnsNames") or () if n.get("PrivateDnsName")
    ]
    if item.get("PrivateDnsName") and item["PrivateDnsName"] not in names:
        names.insert(0, item["PrivateDnsName"])
    return EndpointServiceDetail(
        service_name=item["ServiceName"],
        service_types=tuple(t["ServiceType"] for t in item.get("ServiceType") or ()),
        owner=str(item.get("Owner", "")),
        vpc_endpoint_policy_supported=bool(item.get("VpcEndpointPolicySupported", False)),
        acceptance_required=bool(item.get("AcceptanceRequired", False)),
        private_dns_names=tuple(names),
        base_endpoint_dns_names=_strs(item.get("BaseEndpointDnsNames")),
        availability_zones=_strs(item.get("AvailabilityZones")),
        service_id=item.get("ServiceId"),
        service_region=item.get("ServiceRegion"),
    )


def endpoint_service_configuration(
    item: Item, allowed_principals: tuple[str, ...] | None
) -> EndpointServiceConfiguration:
    return EndpointServiceConfiguration(
        service_id=item["ServiceId"],
        service_name=item.get("ServiceName", ""),
        state=item.get("ServiceState", "Available"),
        acceptance_required=bool(item.get("AcceptanceRequired", True)),
        allowed_principals=allowed_principals,
        service_types=tuple(t["ServiceType"] for t in item.get("ServiceType") or ()),
        private_dns_name=item.get("PrivateDnsName"),
    )


def endpoint_connection(item: Item) -> EndpointConnection:
    return EndpointConnection(
        service_id=item.get("ServiceId", ""),
        endpoint_id=item["VpcEndpointId"],
        endpoint_owner=item.get("VpcEndpointOwner"),
        state=item.get("VpcEndpointState", "unknown"),
        endpoint_region=item.get("VpcEndpointRegion"),
    )


def _permission_rules(permission: Item) -> list[SecurityGroupRule]:
    base = SecurityGroupRule(
        ip_protocol=str(permission.get("IpProtocol", "-1")),
        from_port=permission.get("FromPort"),
        to_port=permission.get("ToPort"),
    )
    sources = [
        *({"cidr_ipv4": r["CidrIp"]} for r in permission.get("IpRanges") or ()),
        *({"cidr_ipv6": r["CidrIpv6"]} for r in permission.get("Ipv6Ranges") or ()),
        *({"prefix_list_id": r["PrefixListId"]} for r in permission.get("PrefixListIds") or ()),
        *(
            {"referenced_group_id": r["GroupId"]}
            for r in permission.get("UserIdGroupPairs") or ()
            if r.get("GroupId")
        ),
    ]
    return [dataclasses.replace(base, **source) for source in sources]


def security_group(item: Item) -> SecurityGroup:
    return SecurityGroup(
        group_id=item["GroupId"],
        vpc_id=item.get("VpcId"),
        owner_id=item.get("OwnerId"),
        group_name=item.get("GroupName", ""),
        ingress=tuple(r for p in item.get("IpPermissions") or () for r in _permission_rules(p)),
        egress=tuple(
            r for p in item.get("IpPermissionsEgress") or () for r in _permission_rules(p)
        ),
        name=_name_tag(item),
    )


def _network_acl_entry(item: Item) -> NetworkAclEntry:
    ports = item.get("PortRange") or {}
    return NetworkAclEntry(
        rule_number=int(item.get("RuleNumber", 32767)),
        egress=bool(item.get("Egress", False)),
        protocol=str(item.get("Protocol", "-1")),
        rule_action=str(item.get("RuleAction", "deny")).lower(),
        cidr_ipv4=item.get("CidrBlock"),
        cidr_ipv6=item.get("Ipv6CidrBlock"),
        from_port=ports.get("From"),
        to_port=ports.get("To"),
    )


def network_acl(item: Item) -> NetworkAcl:
    return NetworkAcl(
        network_acl_id=item["NetworkAclId"],
        vpc_id=item.get("VpcId", ""),
        is_default=bool(item.get("IsDefault", False)),
        subnet_ids=tuple(
            sorted(a["SubnetId"] for a in item.get("Associations") or () if a.get("SubnetId"))
        ),
        entries=tuple(
            sorted(
                (_network_acl_entry(e) for e in item.get("Entries") or ()),
                key=lambda e: (e.egress, e.rule_number),
            )
        ),
    )


def resolver_endpoint(item: Item, ip_addresses: list[Item] | None) -> ResolverEndpoint:
    return ResolverEndpoint(
        resolver_endpoint_id=item["Id"],
        direction=str(item.get("Direction", "")),
        vpc_id=item.get("HostVPCId", ""),
        status=str(item.get("Status", "")),
        ip_addresses=None
        if ip_addresses is None
        else tuple(
            sorted(
                str(address)
                for entry in ip_addresses
                for address in (entry.get("Ip"), entry.get("Ipv6"))
                if address
            )
        ),
        protocols=tuple(str(protocol) for protocol in item.get("Protocols") or ()),
    )


def resolver_rule(rule_id: str, item: Item | None, vpc_ids: Iterable[str]) -> ResolverRule:
    """A rule as ListResolverRules lists it (``item``; None when it did not list it), with the
    VPCs its associations name."""
    vpcs = tuple(sorted(set(vpc_ids)))
    if item is None:
        return ResolverRule(rule_id=rule_id, domain_name=None, rule_type=None, vpc_ids=vpcs)
    domain = item.get("DomainName") or item.get("DelegationRecord")
    if domain and not str(domain).strip("."):
        domain = "."  # the root, as AWS writes it (moto answers "..")
    targets = [
        (address, target.get("Port", 53), str(target.get("Protocol") or ""))
        for target in item.get("TargetIps") or ()
        for address in (target.get("Ip"), target.get("Ipv6"))
        if address
    ]
    return ResolverRule(
        rule_id=rule_id,
        domain_name=str(domain) if domain else None,
        rule_type=str(item["RuleType"]).upper(),
        vpc_ids=vpcs,
        owner_id=str(item["OwnerId"]) if item.get("OwnerId") else None,
        target_ips=tuple(
            f"{address}:{port}" if ":" not in address else f"[{address}]:{port}"
            for address, port, _ in targets
        ),
        target_protocols=tuple(protocol for _, _, protocol in targets),
        name=str(item["Name"]) if item.get("Name") else None,
    )


def security_group_vpc_association(item: Item) -> SecurityGroupVpcAssociation:
    return SecurityGroupVpcAssociation(
        group_id=item["GroupId"],
        vpc_id=item["VpcId"],
        state=str(item.get("State", "")),
        vpc_owner_id=str(item["VpcOwnerId"]) if item.get("VpcOwnerId") else None,
    )


def dhcp_options(item: Item) -> DhcpOptions:
    config = {
        c.get("Key"): tuple(str(v.get("Value")) for v in c.get("Values") or ())
        for c in item.get("DhcpConfigurations") or ()
    }
    domain_names = config.get("domain-name") or ()
    return DhcpOptions(
        dhcp_options_id=item["DhcpOptionsId"],
        domain_name_servers=config.get("domain-name-servers", ()),
        domain_name=domain_names[0] if domain_names else None,
    )


def prefix_list(item: Item, cidrs: tuple[str, ...] | None) -> PrefixList:
    return PrefixList(
        prefix_list_id=item["PrefixListId"],
        prefix_list_name=item.get("PrefixListName", ""),
        owner_id=str(item.get("OwnerId", "")),
        address_family=item.get("AddressFamily", "IPv4"),
        cidrs=cidrs,
    )


def _peering_side(info: Item) -> PeeringSide:
    blocks = [b["CidrBlock"] for b in info.get("CidrBlockSet") or () if b.get("CidrBlock")]
    if info.get("CidrBlock") and info["CidrBlock"] not in blocks:
        blocks.insert(0, info["CidrBlock"])
    options = info.get("PeeringOptions")
    return PeeringSide(
        owner_id=info.get("OwnerId"),
        vpc_id=info.get("VpcId", ""),
        region=info.get("Region"),
        cidr_blocks=tuple(blocks),
        allow_remote_vpc_dns_resolution=(
            None if options is None else bool(options.get("AllowDnsResolutionFromRemoteVpc"))
        ),
    )


def peering_connection(item: Item) -> PeeringConnection:
    return PeeringConnection(
        peering_connection_id=item["VpcPeeringConnectionId"],
        status=(item.get("Status") or {}).get("Code", "unknown"),
        requester=_peering_side(item.get("RequesterVpcInfo") or {}),
        accepter=_peering_side(item.get("AccepterVpcInfo") or {}),
    )


def transit_gateway(item: Item) -> TransitGateway:
    auto_accept = (item.get("Options") or {}).get("AutoAcceptSharedAttachments")
    return TransitGateway(
        transit_gateway_id=item["TransitGatewayId"],
        owner_id=str(item.get("OwnerId", "")),
        state=item.get("State", "available"),
        auto_accept_shared_attachments=None if auto_accept is None else auto_accept == "enable",
    )


def transit_gateway_attachment(item: Item) -> TransitGatewayAttachment:
    association = item.get("Association") or {}
    return TransitGatewayAttachment(
        attachment_id=item["TransitGatewayAttachmentId"],
        transit_gateway_id=item.get("TransitGatewayId", ""),
        transit_gateway_owner_id=item.get("TransitGatewayOwnerId"),
        resource_type=item.get("ResourceType", ""),
        resource_id=item.get("ResourceId"),
        resource_owner_id=item.get("ResourceOwnerId"),
        state=item.get("State", "available"),
        association_route_table_id=association.get("TransitGatewayRouteTableId")
        if association.get("State", "associated") == "associated"
        else None,
    )


def transit_gateway_route(item: Item) -> TransitGatewayRoute:
    return TransitGatewayRoute(
        destination_cidr=item.get("DestinationCidrBlock"),
        targets=tuple(
            TransitGatewayRouteTarget(
                attachment_id=target["TransitGatewayAttachmentId"],
                resource_type=target.get("ResourceType"),
                resource_id=target.get("ResourceId"),
            )
            for target in item.get("TransitGatewayAttachments") or ()
            if target.get("TransitGatewayAttachmentId")
        ),
        route_type=str(item.get("Type", "static")),
        state=str(item.get("State", "active")),
        prefix_list_id=item.get("PrefixListId"),
    )


def transit_gateway_route_table(
    item: Item,
    associations: list[Item] | None,
    propagations: list[Item] | None,
    routes: list[Item] | None,
) -> TransitGatewayRouteTable:
    def attachment_ids(
        entries: list[Item] | None, state_key: str, active: str
    ) -> tuple[str, ...] | None:
        if entries is None:
            return None
        return tuple(
            sorted(
                e["TransitGatewayAttachmentId"]
                for e in entries
                if e.get("TransitGatewayAttachmentId") and e.get(state_key, active) == active
            )
        )

    return TransitGatewayRouteTable(
        route_table_id=item["TransitGatewayRouteTableId"],
        transit_gateway_id=item.get("TransitGatewayId", ""),
        associated_attachment_ids=attachment_ids(associations, "State", "associated"),
        propagating_attachment_ids=attachment_ids(propagations, "State", "enabled"),
        routes=None
        if routes is None
        else tuple(
            sorted(
                (transit_gateway_route(r) for r in routes),
                key=lambda r: (r.destination_cidr or "", r.prefix_list_id or "", r.route_type),
            )
        ),
    )


def vpn_connection(item: Item) -> VpnConnection:
    return VpnConnection(
        vpn_connection_id=item["VpnConnectionId"],
        state=item.get("State", "available"),
        customer_gateway_id=item.get("CustomerGatewayId"),
        vpn_gateway_id=item.get("VpnGatewayId"),
        transit_gateway_id=item.get("TransitGatewayId"),
        static_route_cidrs=tuple(
            sorted(
                r["DestinationCidrBlock"]
                for r in item.get("Routes") or ()
                if r.get("DestinationCidrBlock") and r.get("State", "available") != "deleted"
            )
        ),
    )


def vpn_gateway(item: Item) -> VpnGateway:
    return VpnGateway(
        vpn_gateway_id=item["VpnGatewayId"],
        state=item.get("State", "available"),
        attached_vpc_ids=tuple(
            a["VpcId"] for a in item.get("VpcAttachments") or () if a.get("State") == "attached"
        ),
    )


def customer_gateway(item: Item) -> CustomerGateway:
    return CustomerGateway(
        customer_gateway_id=item["CustomerGatewayId"],
        state=item.get("State", "available"),
        ip_address=item.get("IpAddress"),
        bgp_asn=str(item["BgpAsn"]) if item.get("BgpAsn") is not None else None,
    )


def flow_log(item: Item) -> FlowLog:
    return FlowLog(
        flow_log_id=item["FlowLogId"],
        resource_id=item.get("ResourceId", ""),
        flow_log_status=item.get("FlowLogStatus", "ACTIVE"),
        deliver_logs_status=item.get("DeliverLogsStatus"),
        traffic_type=item.get("TrafficType"),
    )


def zone_id(value: Any) -> str:
    """A hosted zone id as the model keeps it: ``/hostedzone/Z123`` -> ``Z123``."""
    return str(value).rsplit("/", 1)[-1]


def resource_record_set(item: Item) -> ResourceRecordSet:
    alias = (item.get("AliasTarget") or {}).get("DNSName")
    return ResourceRecordSet(
        name=dns_name(item.get("Name", "")),
        record_type=str(item.get("Type", "")),
        alias_target=None if alias is None else dns_name(alias),
        values=tuple(
            str(record["Value"])
            for record in item.get("ResourceRecords") or ()
            if "Value" in record
        ),
    )


def hosted_zone(
    item: Item, vpcs: list[Item] | None, records: list[Item] | None = None
) -> HostedZone:
    private = bool((item.get("Config") or {}).get("PrivateZone", False))
    return HostedZone(
        hosted_zone_id=zone_id(item["Id"]),
        name=item.get("Name", ""),
        private=private,
        vpcs=None
        if vpcs is None
        else tuple(HostedZoneVpc(vpc_id=v["VPCId"], region=v.get("VPCRegion", "")) for v in vpcs),
        records=None
        if records is None
        else tuple(
            sorted(
                (resource_record_set(r) for r in records),
                key=lambda r: (r.name, r.record_type, r.alias_target or "", r.values),
            )
        ),
    )


def iam_principal(item: Item, id_key: str) -> IamPrincipal:
    return IamPrincipal(unique_id=str(item[id_key]), arn=str(item.get("Arn", "")))


def endpoint_interface(item: Item) -> EndpointInterface:
    addresses = [
        str(a["PrivateIpAddress"])
        for a in item.get("PrivateIpAddresses") or ()
        if a.get("PrivateIpAddress")
    ]
    if item.get("PrivateIpAddress") and item["PrivateIpAddress"] not in addresses:
        addresses.insert(0, str(item["PrivateIpAddress"]))
    addresses += [
        str(a["Ipv6Address"]) for a in item.get("Ipv6Addresses") or () if a.get("Ipv6Address")
    ]
    return EndpointInterface(
        network_interface_id=str(item["NetworkInterfaceId"]),
        vpc_id=str(item.get("VpcId", "")),
        subnet_id=item.get("SubnetId"),
        addresses=tuple(addresses),
    )


def zone_summary(item: Item) -> ZoneSummary:
    owner = item.get("Owner") or {}
    return ZoneSummary(
        hosted_zone_id=zone_id(item["HostedZoneId"]),
        name=str(item.get("Name", "")),
        owner_account=owner.get("OwningAccount"),
        owning_service=owner.get("OwningService"),
    )


def profile_association(item: Item) -> ProfileAssociation:
    return ProfileAssociation(
        association_id=str(item.get("Id", "")),
        profile_id=str(item.get("ProfileId", "")),
        vpc_id=str(item.get("ResourceId", "")),
        status=str(item.get("Status", "")),
    )


def profile_resource(item: Item) -> ProfileResource:
    return ProfileResource(
        resource_type=str(item.get("ResourceType", "")),
        resource_arn=str(item.get("ResourceArn", "")),
        name=item.get("Name"),
    )
