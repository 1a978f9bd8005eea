"""The resource model that every stage after collection speaks.

These frozen dataclasses are the snapshot's vocabulary. Collectors translate AWS API responses
into them; rules read only them. Nothing here knows about boto3, so the same rules can later run
on resources built from Terraform plans or CloudFormation templates.

Field names are snake_case versions of the AWS names where one exists. A value of ``None``
means "unknown" (it could not be collected), never "false" or "empty": rules must tell the two
apart.

Fields whose text has a form (CIDRs, addresses, account ids, region names, resource kinds) are
annotated with a ``Check`` that the snapshot codec enforces when it reads a file: a value a rule
cannot parse would otherwise be skipped, and the rule would report "clean" on it.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, TypeAlias

from vpce_audit.analysis.cidrs import parse_network
from vpce_audit.snapshot.codec import Check

# Longer than any CIDR ("ffff:...:ffff/128" is 43): nothing longer needs parsing to be refused.
_MAX_CIDR_LENGTH = 50
ACCOUNT_ID = re.compile(r"[0-9]{12}")
"""Use with fullmatch; ASCII digits only (\\d would take Arabic-Indic ones)."""
# Lower-case words and digits joined by dashes: us-east-1, us-gov-west-1, eusc-de-east-1.
REGION_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)+")
GLOBAL_REGION = "global"
"""The region of account-wide collection errors (Route 53, Organizations, IAM)."""


# An IPv4 CIDR as ipaddress accepts it (no leading zeros, octets to 255, a prefix to 32): most of
# a snapshot's CIDRs, accepted without building a network object. Anything else is parsed.
_PLAIN_IPV4_CIDR = re.compile(
    r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}"
    r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])/(?:3[0-2]|[12]?[0-9])"
)


def _network(version: int | None) -> Callable[[str], bool]:
    def accepts(text: str) -> bool:
        # The collectors keep CIDRs as AWS returns them; rules parse them as parse_network does
        # (strict=False), and its cache makes the thousands of repeated route destinations cheap.
        if version != 6 and _PLAIN_IPV4_CIDR.fullmatch(text) is not None:
            return True
        if "/" not in text or len(text) > _MAX_CIDR_LENGTH:
            return False
        network = parse_network(text)
        return network is not None and (version is None or network.version == version)

    return accepts


def _is_address(text: str) -> bool:
    if len(text) > _MAX_CIDR_LENGTH:
        return False
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_region(text: str) -> bool:
    return REGION_NAME.fullmatch(text) is not None


Cidr: TypeAlias = Annotated[str, Check(_network(None), "a CIDR")]
Ipv4Cidr: TypeAlias = Annotated[str, Check(_network(4), "an IPv4 CIDR")]
Ipv6Cidr: TypeAlias = Annotated[str, Check(_network(6), "an IPv6 CIDR")]
IpAddress: TypeAlias = Annotated[str, Check(_is_address, "an IP address")]


# Checked before parsing: what fromisoformat accepts differs between Python 3.10 and 3.11.
_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
    r"(?:\.[0-9]{3}(?:[0-9]{3})?)?(?:Z|[+-][0-9]{2}:[0-9]{2})"
)


def moment(text: str) -> datetime.datetime | None:
    """The instant a snapshot timestamp names; None unless it is ISO 8601 with a time zone,
    as 2026-11-27T02:40:00Z (milli- or microseconds, or an offset for Z, allowed)."""
    if not _TIMESTAMP.fullmatch(text):
        return None
    try:
        # Python 3.10's fromisoformat does not read "Z".
        parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


Timestamp: TypeAlias = Annotated[
    str,
    Check(lambda text: moment(text) is not None, "a time with its zone (2026-11-27T02:40:00Z)"),
]
"""When something was collected: merge keeps the newer of two, so it must be a real instant."""

AccountId: TypeAlias = Annotated[
    str, Check(lambda text: ACCOUNT_ID.fullmatch(text) is not None, "a 12-digit account id")
]
OwnerId: TypeAlias = Annotated[
    str,
    Check(
        lambda text: text == "" or ACCOUNT_ID.fullmatch(text) is not None,
        "a 12-digit account id or empty",
    ),
]
"""An owner the collector writes as "" when AWS did not return one."""
Region: TypeAlias = Annotated[str, Check(_is_region, "an AWS region name")]
ErrorRegion: TypeAlias = Annotated[
    str,
    Check(lambda text: text == GLOBAL_REGION or _is_region(text), "an AWS region name or global"),
]
Port: TypeAlias = Annotated[int, Check(lambda port: -1 <= port <= 65535, "a port (-1 to 65535)")]
"""-1 (all), a TCP / UDP port, or an ICMP type or code."""
RuleNumber: TypeAlias = Annotated[
    int, Check(lambda number: 1 <= number <= 32767, "a rule number (1 to 32767)")
]
ResourceKind: TypeAlias = Annotated[
    str, Check(lambda kind: kind in RESOURCE_KINDS, "a resource kind (see RESOURCE_KINDS)")
]


@dataclass(frozen=True)
class Vpc:
    vpc_id: str
    owner_id: OwnerId
    cidr_blocks: tuple[Ipv4Cidr, ...]
    """Associated IPv4 CIDR blocks, primary first, then secondary blocks."""
    ipv6_cidr_blocks: tuple[Ipv6Cidr, ...] = ()
    is_default: bool = False
    dhcp_options_id: str | None = None
    enable_dns_support: bool | None = None
    enable_dns_hostnames: bool | None = None
    name: str | None = None

    @property
    def dns_attributes_off(self) -> tuple[str, ...]:
        """The DNS attributes known to be off: with either, no private hosted zone and no
        endpoint's private DNS answers in the VPC
        (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/hosted-zone-private-considerations.html)."""
        return tuple(
            name
            for name, value in (
                ("enableDnsSupport", self.enable_dns_support),
                ("enableDnsHostnames", self.enable_dns_hostnames),
            )
            if value is False
        )


@dataclass(frozen=True)
class Subnet:
    subnet_id: str
    vpc_id: str
    cidr_block: Ipv4Cidr | None
    availability_zone: str
    availability_zone_id: str | None = None
    name: str | None = None
    """The Name tag (schema 5), shown beside the id in reports."""


@dataclass(frozen=True)
class Route:
    destination_cidr: Ipv4Cidr | None = None
    destination_ipv6_cidr: Ipv6Cidr | None = None
    destination_prefix_list_id: str | None = None
    target_id: str | None = None
    """The next hop: igw-, nat-, tgw-, pcx-, vpce-, eni-, vgw-, i-, 'local', ..."""
    state: str = "active"
    """'active' or 'blackhole'."""
    origin: str | None = None

    @property
    def is_active(self) -> bool:
        return self.state == "active"


@dataclass(frozen=True)
class RouteTable:
    route_table_id: str
    vpc_id: str
    is_main: bool
    subnet_ids: tuple[str, ...]
    """Subnets explicitly associated with this table."""
    routes: tuple[Route, ...]
    owner_id: AccountId | None = None
    name: str | None = None


@dataclass(frozen=True)
class NatGateway:
    nat_gateway_id: str
    vpc_id: str
    subnet_id: str | None
    state: str
    connectivity_type: str = "public"


@dataclass(frozen=True)
class InternetGateway:
    internet_gateway_id: str
    attached_vpc_ids: tuple[str, ...]


PRIVATELINK_SERVICE_PREFIX = "com.amazonaws.vpce."


def is_privatelink_service(service_name: str) -> bool:
    """An endpoint service someone provides over PrivateLink, as opposed to an AWS service."""
    return service_name.startswith(PRIVATELINK_SERVICE_PREFIX)


ENDPOINT_FAMILIES = {
    "ipv4": frozenset({4}),
    "ipv6": frozenset({6}),
    "dualstack": frozenset({4, 6}),
}


@dataclass(frozen=True)
class VpcEndpoint:
    endpoint_id: str
    vpc_id: str
    service_name: str
    endpoint_type: str
    """'Gateway', 'Interface', 'GatewayLoadBalancer', 'Resource' or 'ServiceNetwork'."""
    state: str
    owner_id: AccountId | None = None
    policy_document: str | None = None
    """The policy text exactly as AWS returned it; None when the endpoint has no policy."""
    private_dns_enabled: bool = False
    subnet_ids: tuple[str, ...] = ()
    route_table_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    network_interface_ids: tuple[str, ...] = ()
    dns_names: tuple[str, ...] = ()
    """The endpoint's own DNS names (DnsEntries), e.g.
    vpce-0abc-1x2y.ssm.eu-west-1.vpce.amazonaws.com."""
    private_dns_only_for_inbound_resolver: bool = False
    """DnsOptions.PrivateDnsOnlyForInboundResolverEndpoint: private DNS answers only queries that
    arrive through a Route 53 Resolver inbound endpoint; clients in the VPC resolve the public
    service addresses (and follow the route tables, e.g. to an S3 gateway endpoint)."""
    requester_managed: bool = False
    """An endpoint an AWS service created and manages in your VPC: RequesterManaged, or tagged
    GuardDutyManaged=true by GuardDuty's runtime monitoring."""
    service_region: Region | None = None
    """The region of the service, when it differs from the VPC's (cross-region PrivateLink)."""
    service_network_arn: str | None = None
    resource_configuration_arn: str | None = None
    created_at: str | None = None
    """CreationTimestamp, in the snapshot's timestamp format; None when AWS did not give it."""
    name: str | None = None
    ip_address_type: str | None = None
    """IpAddressType of an interface endpoint: 'ipv4', 'dualstack' or 'ipv6' (its interfaces'
    addresses; an 'ipv6' endpoint sits in IPv6-only subnets and has no IPv4 address,
    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpcEndpoint.html); None
    where AWS gave none or a snapshot before schema 8 did not record it."""

    @property
    def address_families(self) -> frozenset[int]:
        """The IP versions clients reach the endpoint's interfaces by: 4, 6 or both; both where
        the address type is unknown."""
        kind = (self.ip_address_type or "").lower()
        return ENDPOINT_FAMILIES.get(kind, frozenset({4, 6}))

    @property
    def is_interface(self) -> bool:
        return self.endpoint_type.lower() == "interface"

    @property
    def target(self) -> str:
        """What the endpoint connects to, for messages: the service name, or the ARN of the
        service network or resource configuration of a VPC Lattice endpoint (which has no
        service name)."""
        return (
            self.service_name
            or self.service_network_arn
            or self.resource_configuration_arn
            or "an unnamed target"
        )

    @property
    def is_lattice(self) -> bool:
        """A VPC Lattice endpoint (to a service network or a resource configuration)."""
        return self.endpoint_type.lower() in {"servicenetwork", "resource"}

    @property
    def private_dns_serves_vpc(self) -> bool:
        """Whether clients inside the VPC resolve the service's name to this endpoint."""
        return self.private_dns_enabled and not self.private_dns_only_for_inbound_resolver

    @property
    def is_gateway(self) -> bool:
        return self.endpoint_type.lower() == "gateway"

    @property
    def is_deleted(self) -> bool:
        return self.state.lower() in {"deleted", "deleting"}


@dataclass(frozen=True)
class EndpointServiceDetail:
    """A service this region offers endpoints to (DescribeVpcEndpointServices)."""

    service_name: str
    service_types: tuple[str, ...]
    owner: str
    """'amazon' for AWS services, else the provider's account id."""
    vpc_endpoint_policy_supported: bool
    acceptance_required: bool = False
    private_dns_names: tuple[str, ...] = ()
    base_endpoint_dns_names: tuple[str, ...] = ()
    availability_zones: tuple[str, ...] = ()
    service_id: str | None = None
    service_region: Region | None = None
    """Set for a service listed from another region (DescribeVpcEndpointServices ServiceRegions)."""


@dataclass(frozen=True)
class EndpointServiceConfiguration:
    """An endpoint service this account provides (DescribeVpcEndpointServiceConfigurations)."""

    service_id: str
    service_name: str
    state: str
    acceptance_required: bool
    allowed_principals: tuple[str, ...] | None
    """None when the permissions could not be read."""
    service_types: tuple[str, ...] = ()
    private_dns_name: str | None = None


@dataclass(frozen=True)
class EndpointConnection:
    """A consumer's endpoint connected to a service this account provides
    (DescribeVpcEndpointConnections)."""

    service_id: str
    endpoint_id: str
    endpoint_owner: AccountId | None
    state: str
    """'pendingAcceptance', 'pending', 'available', 'rejected', 'expired', 'failed', 'deleted'..."""
    endpoint_region: Region | None = None


@dataclass(frozen=True)
class SecurityGroupRule:
    """One ingress or egress permission with exactly one source or destination."""

    ip_protocol: str
    """'-1' for all protocols, else 'tcp', 'udp', 'icmp', a protocol number..."""
    from_port: Port | None = None
    to_port: Port | None = None
    cidr_ipv4: Ipv4Cidr | None = None
    cidr_ipv6: Ipv6Cidr | None = None
    prefix_list_id: str | None = None
    referenced_group_id: str | None = None

    @property
    def all_protocols(self) -> bool:
        return self.ip_protocol == "-1"


@dataclass(frozen=True)
class SecurityGroup:
    group_id: str
    vpc_id: str | None
    owner_id: AccountId | None
    group_name: str
    ingress: tuple[SecurityGroupRule, ...] = ()
    egress: tuple[SecurityGroupRule, ...] = ()
    name: str | None = None


@dataclass(frozen=True)
class SecurityGroupVpcAssociation:
    """A security group associated with a VPC other than its own
    (DescribeSecurityGroupVpcAssociations, listed by the group's owner): instances and network
    interfaces of that VPC may then use it, and a rule referencing it admits them
    (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AssociateSecurityGroupVpc.html)."""

    group_id: str
    vpc_id: str
    state: str
    """'associating', 'associated', 'association-failed', 'disassociating', 'disassociated' or
    'disassociation-failed'."""
    vpc_owner_id: AccountId | None = None


@dataclass(frozen=True)
class NetworkAclEntry:
    rule_number: RuleNumber
    egress: bool
    protocol: str
    """'-1' for all protocols, else a protocol number as text ('6' is TCP, '17' UDP)."""
    rule_action: str
    """'allow' or 'deny'."""
    cidr_ipv4: Ipv4Cidr | None = None
    cidr_ipv6: Ipv6Cidr | None = None
    from_port: Port | None = None
    to_port: Port | None = None


@dataclass(frozen=True)
class NetworkAcl:
    network_acl_id: str
    vpc_id: str
    is_default: bool
    subnet_ids: tuple[str, ...]
    """Subnets associated with this ACL (every subnet has exactly one)."""
    entries: tuple[NetworkAclEntry, ...]


@dataclass(frozen=True)
class ResolverEndpoint:
    """A Route 53 Resolver endpoint (ListResolverEndpoints)."""

    resolver_endpoint_id: str
    direction: str
    """'INBOUND', 'OUTBOUND' or 'INBOUND_DELEGATION'."""
    vpc_id: str
    status: str
    ip_addresses: tuple[IpAddress, ...] | None = None
    """IPv4 and IPv6 addresses of an inbound endpoint; None when not read."""
    protocols: tuple[str, ...] | None = None
    """The DNS protocols it takes ('Do53', 'DoH', 'DoH-FIPS'), as AWS lists them: empty where AWS
    gave none, which it treats as Do53 alone; None where not read (snapshots before schema 8)
    (https://docs.aws.amazon.com/Route53/latest/APIReference/API_route53resolver_ResolverEndpoint.html)."""


AUTODEFINED_RULE_PREFIX = "rslvr-autodefined-"
"""The Resolver's own rules (the Internet Resolver for ".", reverse lookups): a rule you make for
the same domain takes precedence over them
(https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resolver-overview-forward-vpc-to-network-autodefined-rules.html)."""
_DOMAIN = re.compile(r"\.|[^\s.]{1,63}(?:\.[^\s.]{1,63}){0,127}\.?")
DomainName: TypeAlias = Annotated[
    str,
    Check(lambda text: _DOMAIN.fullmatch(text) is not None, 'a domain name ("." for the root)'),
]
"""The root ".", or labels that are not empty, without spaces: a blank name, ".." or "a..b"
would read as the root, every name."""
_RULE_TYPE = re.compile(r"[A-Z][A-Z_]{0,31}")
RuleType: TypeAlias = Annotated[
    str,
    Check(
        lambda text: _RULE_TYPE.fullmatch(text) is not None,
        "a Resolver rule type as AWS writes it (FORWARD, SYSTEM, RECURSIVE, DELEGATE)",
    ),
]
"""Upper case, as AWS writes it: a "forward" would not be taken for FORWARD."""


@dataclass(frozen=True)
class ResolverRule:
    """A Route 53 Resolver rule associated with VPCs of the account: ListResolverRuleAssociations
    joined with ListResolverRules (which lists the account's rules and those shared with it
    through RAM). A FORWARD rule sends queries for its domain, and the names under it, to other
    DNS servers; a SYSTEM rule makes the Resolver answer them itself; the most specific rule
    governs, and a rule wins over a private hosted zone of the same domain
    (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resolver-overview-forward-vpc-to-network-domain-name-matches.html,
    https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/hosted-zone-private-considerations.html)."""

    rule_id: str
    domain_name: DomainName | None
    """The rule's DomainName (a DELEGATE rule's DelegationRecord where it has none); None when
    the associated rule was not among those ListResolverRules returned, or names neither."""
    rule_type: RuleType | None
    """'FORWARD', 'SYSTEM', 'RECURSIVE' or 'DELEGATE' (or a type AWS adds later); None when the
    rule was not listed."""
    vpc_ids: tuple[str, ...]
    """The account's VPCs the rule is associated with (associations not being deleted or
    failed)."""
    owner_id: str | None = None
    target_ips: tuple[str, ...] = ()
    """Where a FORWARD rule sends queries ("10.0.0.2:53", "[fd00::2]:53")."""
    target_protocols: tuple[str, ...] | None = None
    """The protocol of each of ``target_ips``, in their order: "Do53", "DoH" or "DoH-FIPS", or ""
    where AWS gave none (Do53, https://docs.aws.amazon.com/Route53/latest/APIReference/API_route53resolver_TargetAddress.html);
    None where not read (snapshots before schema 8)."""
    name: str | None = None


@dataclass(frozen=True)
class EndpointInterface:
    """A network interface of an interface endpoint (DescribeNetworkInterfaces): the addresses
    an A / AAAA record must hold to point at the endpoint."""

    network_interface_id: str
    vpc_id: str
    subnet_id: str | None
    addresses: tuple[IpAddress, ...]
    """Private IPv4 and IPv6 addresses."""


@dataclass(frozen=True)
class ProfileResource:
    """A resource a Route 53 Profile carries (ListProfileResourceAssociations)."""

    resource_type: str
    """'AWS::Route53::HostedZone', 'AWS::EC2::VPCEndpoint', 'AWS::Route53Resolver::ResolverRule',
    ..."""
    resource_arn: str
    name: str | None = None


@dataclass(frozen=True)
class ProfileAssociation:
    """A Route 53 Profile associated with a VPC (ListProfileAssociations): the hosted zones,
    interface endpoints and Resolver rules it carries apply in the VPC, and
    ListHostedZonesByVPC does not show them."""

    association_id: str
    profile_id: str
    vpc_id: str
    status: str
    resources: tuple[ProfileResource, ...] | None = None
    """None when they could not be read."""


@dataclass(frozen=True)
class DhcpOptions:
    dhcp_options_id: str
    domain_name_servers: tuple[str, ...] = ()
    domain_name: str | None = None


@dataclass(frozen=True)
class PrefixList:
    prefix_list_id: str
    prefix_list_name: str
    owner_id: str
    address_family: str = "IPv4"
    cidrs: tuple[Cidr, ...] | None = None
    """None when the entries could not be read."""


@dataclass(frozen=True)
class PeeringSide:
    owner_id: AccountId | None
    vpc_id: str
    region: Region | None
    cidr_blocks: tuple[Ipv4Cidr, ...] = ()
    allow_remote_vpc_dns_resolution: bool | None = None


@dataclass(frozen=True)
class PeeringConnection:
    peering_connection_id: str
    status: str
    requester: PeeringSide
    accepter: PeeringSide

    @property
    def is_active(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True)
class TransitGateway:
    transit_gateway_id: str
    owner_id: OwnerId
    state: str
    auto_accept_shared_attachments: bool | None = None
    """Options.AutoAcceptSharedAttachments == 'enable'; None when the option was not returned."""


@dataclass(frozen=True)
class TransitGatewayAttachment:
    attachment_id: str
    transit_gateway_id: str
    transit_gateway_owner_id: AccountId | None
    resource_type: str
    """'vpc', 'vpn', 'direct-connect-gateway', 'peering', 'connect', ..."""
    resource_id: str | None
    resource_owner_id: AccountId | None
    state: str
    association_route_table_id: str | None = None
    subnet_ids: tuple[str, ...] | None = None
    """A VPC attachment's subnets, one per Availability Zone, where traffic from the gateway
    enters the VPC (DescribeTransitGatewayVpcAttachments): their route tables decide where it
    goes next. None when unknown: not a VPC attachment, not read, or a snapshot before schema 7."""
    appliance_mode: bool | None = None
    """A VPC attachment's appliance mode (Options.ApplianceModeSupport), read with its subnets:
    on, the gateway keeps both directions of a flow in one zone of the VPC, as a stateful
    firewall there needs. None where the subnets are."""


@dataclass(frozen=True)
class TransitGatewayRouteTarget:
    attachment_id: str
    resource_type: str | None = None
    """'vpc', 'vpn', 'direct-connect-gateway', 'peering', 'connect', ..."""
    resource_id: str | None = None


@dataclass(frozen=True)
class TransitGatewayRoute:
    destination_cidr: Cidr | None
    targets: tuple[TransitGatewayRouteTarget, ...]
    route_type: str
    """'static' or 'propagated'."""
    state: str
    """'active' or 'blackhole' (the only states collected)."""
    prefix_list_id: str | None = None

    @property
    def attachment_ids(self) -> tuple[str, ...]:
        return tuple(target.attachment_id for target in self.targets)


@dataclass(frozen=True)
class TransitGatewayRouteTable:
    route_table_id: str
    transit_gateway_id: str
    associated_attachment_ids: tuple[str, ...] | None
    propagating_attachment_ids: tuple[str, ...] | None
    routes: tuple[TransitGatewayRoute, ...] | None
    """Active and blackhole routes (SearchTransitGatewayRoutes). Each of the three is None when
    it could not be read."""


@dataclass(frozen=True)
class VpnConnection:
    vpn_connection_id: str
    state: str
    customer_gateway_id: str | None
    vpn_gateway_id: str | None
    transit_gateway_id: str | None
    static_route_cidrs: tuple[Cidr, ...] = ()


@dataclass(frozen=True)
class VpnGateway:
    vpn_gateway_id: str
    state: str
    attached_vpc_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class CustomerGateway:
    customer_gateway_id: str
    state: str
    ip_address: str | None = None
    bgp_asn: str | None = None


@dataclass(frozen=True)
class FlowLog:
    flow_log_id: str
    resource_id: str
    flow_log_status: str
    deliver_logs_status: str | None = None
    traffic_type: str | None = None


@dataclass(frozen=True)
class HostedZoneVpc:
    vpc_id: str
    region: Region


@dataclass(frozen=True)
class ResourceRecordSet:
    name: str
    """Fully qualified, lower case, without the trailing dot; '*.' for a wildcard record."""
    record_type: str
    alias_target: str | None = None
    """The alias target's DNS name (lower case, no trailing dot), for alias records."""
    values: tuple[str, ...] = ()
    """ResourceRecords values of a non-alias record."""


@dataclass(frozen=True)
class HostedZone:
    hosted_zone_id: str
    name: str
    private: bool
    vpcs: tuple[HostedZoneVpc, ...] | None = None
    """VPC associations of a private zone; None when they could not be read."""
    records: tuple[ResourceRecordSet, ...] | None = None
    """Record sets, read only for private zones whose names are AWS service domains (or their
    parents); None otherwise, or when they could not be read."""


@dataclass(frozen=True)
class ZoneSummary:
    """A private hosted zone associated with a VPC, as ListHostedZonesByVPC lists it: whichever
    account or AWS service owns it."""

    hosted_zone_id: str
    name: str
    owner_account: AccountId | None = None
    owning_service: str | None = None


@dataclass(frozen=True)
class VpcZones:
    """The private hosted zones associated with one VPC (ListHostedZonesByVPC)."""

    vpc_id: str
    region: Region
    zones: tuple[ZoneSummary, ...] | None
    """None when they could not be read."""


@dataclass(frozen=True)
class IamPrincipal:
    """An IAM role or user of a scanned account, to resolve unique ids (AROA..., AIDA...)."""

    unique_id: str
    arn: str


@dataclass(frozen=True)
class CollectionError:
    """One failed API call, kept so a scan never reports clean what it could not see."""

    account_id: AccountId
    region: ErrorRegion
    """The region, or 'global' for account-wide services (Route 53, Organizations)."""
    service: str
    operation: str
    error_code: str
    message: str
    resource_kind: ResourceKind
    """The snapshot collection the call would have filled (see RESOURCE_KINDS)."""
    resource_id: str | None = None
    """Set when the failure concerns one resource only (e.g. one VPC's DNS attribute)."""

    @property
    def sort_key(self) -> tuple[str, ...]:
        """Errors' order in a snapshot: the same however the calls that failed interleaved (a
        VPC's two attributes are asked at once: their errors differ only in code or message)."""
        return (
            self.region,
            self.resource_kind,
            self.operation,
            self.resource_id or "",
            self.service,
            self.error_code,
            self.message,
        )


def summarise_errors(errors: Iterable[CollectionError]) -> str:
    """'DescribeVpcAttribute: AccessDenied, ...': what failed, once per operation and code."""
    return ", ".join(sorted({f"{e.operation}: {e.error_code}" for e in errors}))


@dataclass(frozen=True)
class RegionSnapshot:
    """Everything collected in one account-region (a scope)."""

    account_id: AccountId
    region: Region
    collected_at: Timestamp
    vpcs: tuple[Vpc, ...] = ()
    subnets: tuple[Subnet, ...] = ()
    route_tables: tuple[RouteTable, ...] = ()
    nat_gateways: tuple[NatGateway, ...] = ()
    internet_gateways: tuple[InternetGateway, ...] = ()
    vpc_endpoints: tuple[VpcEndpoint, ...] = ()
    endpoint_service_details: tuple[EndpointServiceDetail, ...] = ()
    endpoint_service_configurations: tuple[EndpointServiceConfiguration, ...] = ()
    endpoint_connections: tuple[EndpointConnection, ...] = ()
    security_groups: tuple[SecurityGroup, ...] = ()
    network_acls: tuple[NetworkAcl, ...] = ()
    dhcp_options: tuple[DhcpOptions, ...] = ()
    prefix_lists: tuple[PrefixList, ...] = ()
    peering_connections: tuple[PeeringConnection, ...] = ()
    transit_gateways: tuple[TransitGateway, ...] = ()
    transit_gateway_attachments: tuple[TransitGatewayAttachment, ...] = ()
    transit_gateway_route_tables: tuple[TransitGatewayRouteTable, ...] = ()
    vpn_connections: tuple[VpnConnection, ...] = ()
    vpn_gateways: tuple[VpnGateway, ...] = ()
    customer_gateways: tuple[CustomerGateway, ...] = ()
    flow_logs: tuple[FlowLog, ...] = ()
    resolver_endpoints: tuple[ResolverEndpoint, ...] = ()
    endpoint_interfaces: tuple[EndpointInterface, ...] = ()
    profile_associations: tuple[ProfileAssociation, ...] = ()
    resolver_rules: tuple[ResolverRule, ...] | None = None
    """None in a snapshot written before Resolver rules were collected (schema version 6): then
    which rules govern the region's VPCs' DNS is unknown."""
    security_group_vpc_associations: tuple[SecurityGroupVpcAssociation, ...] | None = None
    """The account's groups associated with other VPCs of the region; None in a snapshot written
    before they were collected (schema version 8): then whether a group has members outside its
    own VPC is unknown."""
    errors: tuple[CollectionError, ...] = field(default=())
    out_of_scope: str | None = None
    """Set (to AWS's words) when a service control policy denies the region although it is
    enabled, e.g. Control Tower's region deny: the region is outside what the organisation
    allows, reported once, and neither collected nor an error."""


@dataclass(frozen=True)
class AccountSnapshot:
    """Account-wide facts (global services)."""

    account_id: AccountId
    collected_at: Timestamp
    organization_id: str | None = None
    organization_member_ids: tuple[AccountId, ...] | None = None
    """Every account of the organisation (organizations:ListAccounts). None when the account may
    not list them (a member account that is not a delegated administrator), the call failed, or
    another account of the snapshot holds the same list (a collection stores each list once)."""
    hosted_zones: tuple[HostedZone, ...] = ()
    iam_principals: tuple[IamPrincipal, ...] | None = None
    """Roles and users of the account; None when they could not be read."""
    vpc_zones: tuple[VpcZones, ...] = ()
    """For each VPC of the account: every private hosted zone associated with it, including
    zones other accounts own. Empty when not collected (then only the account's own zones'
    associations are known)."""
    errors: tuple[CollectionError, ...] = ()


# The collections of RegionSnapshot / AccountSnapshot that a collection error can leave
# incomplete. Rules declare which of these they read; the engine skips a rule in a scope where
# one of them failed instead of letting it report "clean".
REGION_RESOURCE_KINDS: tuple[str, ...] = (
    "vpcs",
    "vpc_attributes",
    "subnets",
    "route_tables",
    "nat_gateways",
    "internet_gateways",
    "vpc_endpoints",
    "endpoint_service_details",
    "endpoint_service_configurations",
    "endpoint_service_permissions",
    "endpoint_connections",
    "security_groups",
    "network_acls",
    "dhcp_options",
    "prefix_lists",
    "prefix_list_entries",
    "peering_connections",
    "transit_gateways",
    "transit_gateway_attachments",
    "transit_gateway_attachment_subnets",
    "transit_gateway_route_tables",
    "transit_gateway_routes",
    "vpn_connections",
    "vpn_gateways",
    "customer_gateways",
    "flow_logs",
    "resolver_endpoints",
    "resolver_endpoint_ips",
    "endpoint_interfaces",
    "profile_associations",
    "profile_resources",
    "resolver_rules",
    "security_group_vpc_associations",
)
ACCOUNT_RESOURCE_KINDS: tuple[str, ...] = (
    "regions",
    "hosted_zones",
    "hosted_zone_records",
    "vpc_hosted_zones",
    "organization",
    "organization_members",
    "iam_principals",
)
RESOURCE_KINDS: tuple[str, ...] = REGION_RESOURCE_KINDS + ACCOUNT_RESOURCE_KINDS
