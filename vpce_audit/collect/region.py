"""Collect one account-region with account-wide, paginated calls, issued concurrently.

Every resource kind is listed once for the whole region (``LISTINGS``) and grouped client-side.
The listings do not depend on each other, so they run at once on a small pool; the few calls that
exist only per resource (DescribeVpcAttribute, GetManagedPrefixListEntries, the endpoint-service
permissions, the transit-gateway route tables' associations, propagations and routes, the inbound
resolver endpoints' addresses) start as soon as the listing they depend on has answered. A
region's wall time is therefore close to its longest chain of dependent calls, not their sum.
The connections the first wave of EC2 calls will need (the other listings, every VPC's DNS
attributes) are opened while the region's first call is out (``connections.open_ahead``), so
that those calls do not each wait for a handshake.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import logging
import operator
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any, Generic, TypeAlias, TypeVar

from vpce_audit.clock import utc_now
from vpce_audit.collect import translate
from vpce_audit.collect.calls import (
    ACCESS_DENIED_CODES,
    REGION_PROBE,
    SCP_DENY,
    UNREADABLE,
    ExpectedAnswer,
    ScopeCalls,
)
from vpce_audit.collect.connections import open_ahead
from vpce_audit.model import (
    AUTODEFINED_RULE_PREFIX,
    EndpointInterface,
    EndpointServiceDetail,
    ProfileAssociation,
    ProfileResource,
    RegionSnapshot,
    ResolverRule,
    TransitGatewayAttachment,
)
from vpce_audit.snapshot.catalogue import intern

log = logging.getLogger(__name__)

NOT_OFFERED_ERRORS = frozenset({"InvalidAction", "UnsupportedOperation"})
"""How EC2 answers an action a region does not have: InvalidAction ("The action or operation
requested is not valid"), or UnsupportedOperation
(https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html). Any other error
(AccessDenied included) is a failed listing, recorded."""

T = TypeVar("T")
Item = dict[str, Any]
ClientFor = Callable[[str], Any]
"""Returns this region's boto3 client for a service name (ec2, route53resolver,
route53profiles)."""

CALLS_IN_FLIGHT_PER_REGION = 32
"""What one region may have in flight: its listings and its VPCs' attributes at once."""
CALLS_IN_FLIGHT_PER_PROCESS = 256
"""What the regions of one process may have in flight together (each call holds a thread, or
two with its budget, and a connection): at many ``--workers``, each region gets its share."""
FEWEST_CALLS_IN_FLIGHT_PER_REGION = 8


def calls_in_flight_per_region(workers: int) -> int:
    """32 at the default 8 workers, fewer at more (8 at 32 workers), never fewer than 8."""
    share = CALLS_IN_FLIGHT_PER_PROCESS // max(1, workers)
    return max(FEWEST_CALLS_IN_FLIGHT_PER_REGION, min(CALLS_IN_FLIGHT_PER_REGION, share))


@dataclass(frozen=True)
class RegionCalls:
    """The calls of one account-region: its clients and the boundary that records failures."""

    calls: ScopeCalls
    client_for: ClientFor

    def items(
        self, service: str, operation: str, result_key: str, kind: str, **params: Any
    ) -> list[Item] | None:
        return self.calls.items(self.client_for(service), operation, result_key, kind, **params)

    def single(self, service: str, operation: str, kind: str, **params: Any) -> Item | None:
        return self.calls.single(self.client_for(service), operation, kind, **params)


@dataclass(frozen=True)
class Listing:
    """One account-wide call whose items fill one RegionSnapshot field."""

    field: str
    service: str
    operation: str
    result_key: str
    convert: Callable[[RegionCalls, Item], Any]
    """Item -> model object; may make the item's own follow-up calls."""
    kind: str = ""
    """The resource kind a failure leaves incomplete; the field name unless given."""
    none_where: frozenset[str] = frozenset()
    """Error codes that say the region does not offer the operation at all: none of its items
    can exist there, so the listing is empty, not failed."""

    @property
    def resource_kind(self) -> str:
        return self.kind or self.field


@dataclass(frozen=True)
class _Plain(Generic[T]):
    """A conversion that makes no call of its own: it runs where its listing's answer is
    read, not as a task of the region's pool (a catalogue of 256 services would be 256 tasks)."""

    convert: Callable[[Item], T]

    def __call__(self, _calls: RegionCalls, item: Item) -> T:
        return self.convert(item)


def _plain(convert: Callable[[Item], T]) -> Callable[[RegionCalls, Item], T]:
    return _Plain(convert)


@dataclass(frozen=True)
class _FollowUps(Generic[T]):
    """A conversion that needs calls about the item, none of which waits for another: each is a
    task of the region's pool, so an item's calls are in flight at once (a VPC's two DNS
    attributes; a transit-gateway route table's associations, propagations and routes), and
    ``combine(item, *answers)`` builds the model object from their answers (None where a call
    failed: recorded by the call)."""

    asks: Callable[[RegionCalls, Item], tuple[Callable[[], Any], ...]]
    combine: Callable[..., T]

    def __call__(self, calls: RegionCalls, item: Item) -> T:
        """The model object, its calls made one after another (for a caller without a pool)."""
        return self.combine(item, *(ask() for ask in self.asks(calls, item)))


# -- per-item follow-ups ------------------------------------------------------------------------


def _vpc_attribute(region: RegionCalls, vpc_id: str, attribute: str) -> bool | None:
    response = region.single(
        "ec2",
        "DescribeVpcAttribute",
        "vpc_attributes",
        resource_id=vpc_id,
        VpcId=vpc_id,
        Attribute=attribute,
    )
    if response is None:
        return None
    key = attribute[0].upper() + attribute[1:]
    value = (response.get(key) or {}).get("Value")
    return bool(value) if value is not None else None


def _not_asked() -> None:
    return None


def _vpc_asks(region: RegionCalls, item: Item) -> tuple[Callable[[], Any], ...]:
    # No batch form exists: two calls per VPC is the floor.
    vpc_id = item["VpcId"]
    if item.get("OwnerId") not in (None, "", region.calls.account_id):
        # A VPC shared with this account (VPC sharing): its DNS attributes are its owner's
        # settings, read in the owner's scan, and the only copy judged. Asked here they would
        # spend two calls of this account's EC2 quota per shared VPC, and a refusal would make
        # the scan incomplete over values nothing reads. Unknown (None) in this copy.
        return (_not_asked, _not_asked)
    return tuple(
        functools.partial(_vpc_attribute, region, vpc_id, attribute)
        for attribute in ("enableDnsSupport", "enableDnsHostnames")
    )


_vpc = _FollowUps(_vpc_asks, translate.vpc)


def _per_resource(
    region: RegionCalls, service: str, operation: str, result_key: str, kind: str, **params: Any
) -> list[Item] | None:
    """A call about one resource, named by the first parameter; a failure is recorded against
    that resource only."""
    resource_id = next(iter(params.values()))
    return region.items(service, operation, result_key, kind, resource_id=resource_id, **params)


def _about(
    region: RegionCalls, operation: str, result_key: str, kind: str, **params: Any
) -> Callable[[], list[Item] | None]:
    """An EC2 call about one resource (``_per_resource``), to be made later."""
    return functools.partial(_per_resource, region, "ec2", operation, result_key, kind, **params)


def _one_call_about(
    operation: str, result_key: str, kind: str, identifier: str
) -> Callable[[RegionCalls, Item], tuple[Callable[[], Any], ...]]:
    """The asks of an item that needs one EC2 call about it, named by its ``identifier``
    element (a parameter of the same name)."""

    def asks(region: RegionCalls, item: Item) -> tuple[Callable[[], Any], ...]:
        return (_about(region, operation, result_key, kind, **{identifier: item[identifier]}),)

    return asks


def _prefix_list_of(item: Item, entries: list[Item] | None) -> Any:
    cidrs = None if entries is None else tuple(sorted(e["Cidr"] for e in entries if e.get("Cidr")))
    return translate.prefix_list(item, cidrs)


_prefix_list = _FollowUps(
    _one_call_about(
        "GetManagedPrefixListEntries", "Entries", "prefix_list_entries", "PrefixListId"
    ),
    _prefix_list_of,
)


def _service_configuration_of(item: Item, permissions: list[Item] | None) -> Any:
    principals = (
        None
        if permissions is None
        else tuple(sorted(p["Principal"] for p in permissions if p.get("Principal")))
    )
    return translate.endpoint_service_configuration(item, principals)


_service_configuration = _FollowUps(
    _one_call_about(
        "DescribeVpcEndpointServicePermissions",
        "AllowedPrincipals",
        "endpoint_service_permissions",
        "ServiceId",
    ),
    _service_configuration_of,
)


ROUTE_STATES = ("active", "blackhole")


def _tgw_route_table_asks(region: RegionCalls, item: Item) -> tuple[Callable[[], Any], ...]:
    table = {"TransitGatewayRouteTableId": item["TransitGatewayRouteTableId"]}
    return (
        _about(
            region,
            "GetTransitGatewayRouteTableAssociations",
            "Associations",
            "transit_gateway_route_tables",
            **table,
        ),
        _about(
            region,
            "GetTransitGatewayRouteTablePropagations",
            "TransitGatewayRouteTablePropagations",
            "transit_gateway_route_tables",
            **table,
        ),
        # SearchTransitGatewayRoutes requires a filter; these two states are every route that
        # forwards or drops traffic (the others are transitional).
        _about(
            region,
            "SearchTransitGatewayRoutes",
            "Routes",
            "transit_gateway_routes",
            **table,
            Filters=[{"Name": "state", "Values": list(ROUTE_STATES)}],
        ),
    )


_tgw_route_table = _FollowUps(_tgw_route_table_asks, translate.transit_gateway_route_table)


def _resolver_endpoint_asks(region: RegionCalls, item: Item) -> tuple[Callable[[], Any], ...]:
    # Only inbound endpoints answer DNS queries from the VPC (VPCE203 needs their addresses).
    if str(item.get("Direction", "")).upper() != "INBOUND":
        return ()
    addresses = functools.partial(
        _per_resource,
        region,
        "route53resolver",
        "ListResolverEndpointIpAddresses",
        "IpAddresses",
        "resolver_endpoint_ips",
        ResolverEndpointId=item["Id"],
    )
    return (addresses,)


def _resolver_endpoint_of(item: Item, addresses: list[Item] | None = None) -> Any:
    return translate.resolver_endpoint(item, addresses)


_resolver_endpoint = _FollowUps(_resolver_endpoint_asks, _resolver_endpoint_of)


LISTINGS: tuple[Listing, ...] = (
    Listing("vpcs", "ec2", REGION_PROBE, "Vpcs", _vpc),  # first: see collect_region
    Listing("subnets", "ec2", "DescribeSubnets", "Subnets", _plain(translate.subnet)),
    Listing(
        "route_tables", "ec2", "DescribeRouteTables", "RouteTables", _plain(translate.route_table)
    ),
    Listing(
        "nat_gateways", "ec2", "DescribeNatGateways", "NatGateways", _plain(translate.nat_gateway)
    ),
    Listing(
        "internet_gateways",
        "ec2",
        "DescribeInternetGateways",
        "InternetGateways",
        _plain(translate.internet_gateway),
    ),
    Listing(
        "vpc_endpoints",
        "ec2",
        "DescribeVpcEndpoints",
        "VpcEndpoints",
        _plain(translate.vpc_endpoint),
    ),
    Listing(
        "endpoint_service_details",
        "ec2",
        "DescribeVpcEndpointServices",
        "ServiceDetails",
        _plain(lambda item: intern(translate.endpoint_service_detail(item))),
    ),
    Listing(
        "endpoint_service_configurations",
        "ec2",
        "DescribeVpcEndpointServiceConfigurations",
        "ServiceConfigurations",
        _service_configuration,
    ),
    Listing(
        "endpoint_connections",
        "ec2",
        "DescribeVpcEndpointConnections",
        "VpcEndpointConnections",
        _plain(translate.endpoint_connection),
    ),
    Listing(
        "security_groups",
        "ec2",
        "DescribeSecurityGroups",
        "SecurityGroups",
        _plain(translate.security_group),
    ),
    Listing(
        "security_group_vpc_associations",
        "ec2",
        "DescribeSecurityGroupVpcAssociations",
        "SecurityGroupVpcAssociations",
        _plain(translate.security_group_vpc_association),
        # A region (or partition) that has not got the feature (2024) knows no such action:
        # then no group can be associated there.
        none_where=NOT_OFFERED_ERRORS,
    ),
    Listing(
        "network_acls", "ec2", "DescribeNetworkAcls", "NetworkAcls", _plain(translate.network_acl)
    ),
    Listing(
        "dhcp_options", "ec2", "DescribeDhcpOptions", "DhcpOptions", _plain(translate.dhcp_options)
    ),
    Listing("prefix_lists", "ec2", "DescribeManagedPrefixLists", "PrefixLists", _prefix_list),
    Listing(
        "peering_connections",
        "ec2",
        "DescribeVpcPeeringConnections",
        "VpcPeeringConnections",
        _plain(translate.peering_connection),
    ),
    Listing(
        "transit_gateways",
        "ec2",
        "DescribeTransitGateways",
        "TransitGateways",
        _plain(translate.transit_gateway),
    ),
    Listing(
        "transit_gateway_attachments",
        "ec2",
        "DescribeTransitGatewayAttachments",
        "TransitGatewayAttachments",
        _plain(translate.transit_gateway_attachment),
    ),
    Listing(
        "transit_gateway_route_tables",
        "ec2",
        "DescribeTransitGatewayRouteTables",
        "TransitGatewayRouteTables",
        _tgw_route_table,
    ),
    Listing(
        "vpn_connections",
        "ec2",
        "DescribeVpnConnections",
        "VpnConnections",
        _plain(translate.vpn_connection),
    ),
    Listing(
        "vpn_gateways", "ec2", "DescribeVpnGateways", "VpnGateways", _plain(translate.vpn_gateway)
    ),
    Listing(
        "customer_gateways",
        "ec2",
        "DescribeCustomerGateways",
        "CustomerGateways",
        _plain(translate.customer_gateway),
    ),
    Listing("flow_logs", "ec2", "DescribeFlowLogs", "FlowLogs", _plain(translate.flow_log)),
    Listing(
        "resolver_endpoints",
        "route53resolver",
        "ListResolverEndpoints",
        "ResolverEndpoints",
        _resolver_endpoint,
    ),
)


REGION_SERVICES = frozenset({listing.service for listing in LISTINGS} | {"route53profiles"})
"""The services whose clients a region's collection uses (and no one else: the account-wide
calls go to their global region's clients)."""


def _open_ahead(region: RegionCalls, calls_in_flight: int) -> None:
    """Have EC2's session open, beside the region's first call, the connections the first wave
    needs (``connections.open_ahead``): its answer releases the other EC2 listings (20) and both
    DNS attributes of every VPC, which fill the region's calls in flight from six VPCs on; less
    the first call's own connection, back in its pool by then. Asked before the first call goes
    out, which is what opens them."""
    try:
        open_ahead(region.client_for(LISTINGS[0].service), calls_in_flight - 1)
    except Exception:  # the first call meets this too, and records it
        log.debug("no connections asked ahead", exc_info=True)


OTHER_FIRST_WAVE = {"route53resolver": 2, "route53profiles": 1}
"""The first wave's calls to the region's other endpoints: ListResolverEndpoints and
ListResolverRuleAssociations; ListProfileAssociations."""


def _other_clients(region: RegionCalls, region_name: str) -> None:
    """Make the clients of the region's other services (Route 53 Resolver, Route 53 Profiles)
    while its first call is out, and have their first wave's connections opened: the first
    client of a service in a process loads its model, tens of milliseconds of CPU, and each of
    their first calls would open a connection, a round trip or two, before the calls that
    follow them could start."""
    for service in sorted(REGION_SERVICES - {LISTINGS[0].service}):
        if offered_in(service, region_name):
            try:
                client = region.client_for(service)
                first = region.client_for(LISTINGS[0].service)
                open_ahead(client, OTHER_FIRST_WAVE.get(service, 1), proven_by=first)
            except Exception:  # its calls meet this too, and record it
                log.debug("no %s client made ahead", service, exc_info=True)


def _cross_region_service_details(
    region: RegionCalls, endpoints: Iterable[Any], home_region: str
) -> list[EndpointServiceDetail]:
    """Services of other regions that endpoints here connect to (cross-region PrivateLink).

    DescribeVpcEndpointServices lists only this region's services unless asked for others; a
    failure is recorded against the service region, so the endpoints to it are skipped, not
    judged on guesses.
    """
    wanted = sorted(
        {
            endpoint.service_region
            for endpoint in endpoints
            if endpoint.service_region and endpoint.service_region != home_region
        }
    )
    found: list[EndpointServiceDetail] = []
    for service_region in wanted:
        items = region.items(
            "ec2",
            "DescribeVpcEndpointServices",
            "ServiceDetails",
            "endpoint_service_details",
            resource_id=service_region,
            ServiceRegions=[service_region],
        )
        for item in items or ():
            detail = translate.endpoint_service_detail(item)
            if detail.service_region is None:
                detail = dataclasses.replace(detail, service_region=service_region)
            found.append(detail)
    return found


_OFFERED_LOCK = threading.Lock()


def offered_in(service: str, region: str) -> bool:
    """Whether AWS offers the service in the region, by botocore's endpoint data (a region
    botocore does not know yet is assumed to have it: the call then says).

    Every account-region asks at once when a scan starts. Without the lock each of them found
    the cache empty and read endpoints.json in a botocore session of its own (some 50 ms of CPU
    apiece: 6% of an organisation scan's CPU, benchmarks/bench_org_latency.py); with it, the
    first reads and the others wait for its answer."""
    with _OFFERED_LOCK:
        return _offered_in(service, region)


@functools.cache
def _offered_in(service: str, region: str) -> bool:
    from botocore.exceptions import UnknownRegionError

    session = _endpoint_data()
    try:
        partition = session.get_partition_for_region(region)
    except UnknownRegionError:
        return True
    return region in session.get_available_regions(service, partition)


@functools.cache
def _endpoint_data() -> Any:
    """One botocore session kept for its endpoint data: a new session reads it again. A
    botocore session is not thread-safe: use it only under ``_OFFERED_LOCK``."""
    import botocore.session

    return botocore.session.get_session()


def _profile_associations(region: RegionCalls, region_name: str) -> list[ProfileAssociation]:
    """Route 53 Profiles associated with the region's VPCs, with the resources each carries.

    Where AWS does not offer Route 53 Profiles, none can be associated: nothing to read.
    """
    if not offered_in("route53profiles", region_name):
        return []
    items = region.items(
        "route53profiles", "ListProfileAssociations", "ProfileAssociations", "profile_associations"
    )
    associations = [translate.profile_association(item) for item in items or ()]
    resources: dict[str, tuple[ProfileResource, ...] | None] = {}
    for profile_id in sorted({a.profile_id for a in associations}):
        listed = _per_resource(
            region,
            "route53profiles",
            "ListProfileResourceAssociations",
            "ProfileResourceAssociations",
            "profile_resources",
            ProfileId=profile_id,
        )
        resources[profile_id] = (
            None if listed is None else tuple(translate.profile_resource(r) for r in listed)
        )
    return [dataclasses.replace(a, resources=resources[a.profile_id]) for a in associations]


DEAD_RULE_ASSOCIATIONS = frozenset({"DELETING", "FAILED"})
"""Association states in which a Resolver rule does not (or no longer) govern the VPC's DNS.
CREATING and OVERRIDDEN ones are kept: the first soon will; what an overridden one yields to
AWS does not document (another rule of its domain: rules of one domain but different types make
its names unknown, ``analysis.endpoint_dns``)."""


def _resolver_rules(region: RegionCalls, region_name: str) -> list[ResolverRule]:
    """The Resolver rules associated with the region's VPCs (the account's own associations:
    only a VPC's owner associates rules with it). The rules are listed only where some are
    associated, since most regions have none."""
    if not offered_in("route53resolver", region_name):
        return []
    associations = region.items(
        "route53resolver",
        "ListResolverRuleAssociations",
        "ResolverRuleAssociations",
        "resolver_rules",
    )
    vpcs_by_rule: dict[str, list[str]] = {}
    for association in associations or ():
        if str(association.get("Status", "")).upper() in DEAD_RULE_ASSOCIATIONS:
            continue
        rule_id, vpc_id = association.get("ResolverRuleId"), association.get("VPCId")
        if str(rule_id).startswith(AUTODEFINED_RULE_PREFIX):
            # The Resolver's own default (the Internet Resolver for every VPC): listed with
            # each VPC, it changes nothing, and would make every region list its rules.
            continue
        if rule_id and vpc_id:
            vpcs_by_rule.setdefault(str(rule_id), []).append(str(vpc_id))
    if not vpcs_by_rule:
        return []
    listed = region.items("route53resolver", "ListResolverRules", "ResolverRules", "resolver_rules")
    if listed is None:
        return []  # recorded: the rules that govern the VPCs are unknown
    rules = {str(item.get("Id")): item for item in listed}
    found = [
        region.calls.convert(
            "route53resolver",
            "ListResolverRules",
            "resolver_rules",
            translate.resolver_rule,
            rule_id,
            rules.get(rule_id),
            vpc_ids,
        )
        for rule_id, vpc_ids in vpcs_by_rule.items()
    ]
    return [rule for rule in found if rule is not None]


VpcAttachmentFacts: TypeAlias = dict[str, tuple[tuple[str, ...], bool | None]]
"""By attachment id: its subnets and its appliance mode."""


def _attachment_subnets(
    region: RegionCalls, attachments: Iterable[TransitGatewayAttachment]
) -> VpcAttachmentFacts | None:
    """The subnets and appliance mode of the region's VPC attachments: where traffic from a
    transit gateway enters a VPC (an inspection VPC's routes are read from them). Asked only
    where a VPC attachment is listed, as most regions have none; None when the call failed
    (recorded: the attachments' subnets are unknown)."""
    if not any(a.resource_type == "vpc" for a in attachments):
        return {}
    items = region.items(
        "ec2",
        "DescribeTransitGatewayVpcAttachments",
        "TransitGatewayVpcAttachments",
        "transit_gateway_attachment_subnets",
    )
    if items is None:
        return None
    found: VpcAttachmentFacts = {}
    for item in items:
        attachment_id, subnets = item.get("TransitGatewayAttachmentId"), item.get("SubnetIds")
        if isinstance(attachment_id, str) and isinstance(subnets, list):
            mode = (item.get("Options") or {}).get("ApplianceModeSupport")
            appliance = None if mode not in ("enable", "disable") else mode == "enable"
            found[attachment_id] = (tuple(sorted(str(subnet) for subnet in subnets)), appliance)
    return found


def _with_subnets(
    attachments: Iterable[TransitGatewayAttachment], facts: VpcAttachmentFacts | None
) -> list[TransitGatewayAttachment]:
    """The attachments, each VPC attachment with its subnets and appliance mode where they
    were read."""
    if not facts:
        return list(attachments)
    return [
        dataclasses.replace(
            a,
            subnet_ids=facts[a.attachment_id][0],
            appliance_mode=facts[a.attachment_id][1],
        )
        if a.resource_type == "vpc" and a.attachment_id in facts
        else a
        for a in attachments
    ]


# DescribeNetworkInterfaces takes at most 200 values per filter.
INTERFACES_PER_CALL = 200


def _endpoint_interfaces(region: RegionCalls, endpoints: Iterable[Any]) -> list[EndpointInterface]:
    """The network interfaces of the region's endpoints, for the addresses A records hold.

    Asked by interface id (a filter, so an interface deleted meanwhile is simply absent): AWS
    marks them with interface type vpc_endpoint, which moto does not.
    """
    wanted = sorted({i for endpoint in endpoints for i in endpoint.network_interface_ids})
    found: list[EndpointInterface] = []
    for start in range(0, len(wanted), INTERFACES_PER_CALL):
        chunk = wanted[start : start + INTERFACES_PER_CALL]
        items = region.items(
            "ec2",
            "DescribeNetworkInterfaces",
            "NetworkInterfaces",
            "endpoint_interfaces",
            Filters=[{"Name": "network-interface-id", "Values": chunk}],
        )
        found += [translate.endpoint_interface(item) for item in items or ()]
    return found


def collect_region(
    client_for: ClientFor,
    account_id: str,
    region: str,
    deadline: float | None = None,
    call_budget: float | None = None,
    *,
    on_vpcs: Callable[[list[Any]], None] | None = None,
    calls_in_flight: int = CALLS_IN_FLIGHT_PER_REGION,
) -> RegionSnapshot:
    """Describe everything vpce-audit needs in one region of one account; no call is made after
    ``deadline`` (a ``time.monotonic()`` instant), none takes longer than ``call_budget``.

    ``on_vpcs`` hears of the region's VPCs (model objects, DNS attributes not yet asked) as soon
    as DescribeVpcs has answered, so that work needing only their ids can start meanwhile;
    ``calls_in_flight``: at most this many of the region's calls at once."""
    calls = RegionCalls(ScopeCalls(account_id, region, deadline, call_budget), client_for)
    collected_at = utc_now()
    with ThreadPoolExecutor(
        max_workers=calls_in_flight, thread_name_prefix=f"collect-{region}"
    ) as pool:

        def submit(listing: Listing) -> Future[list[Item] | None]:
            return pool.submit(_listed, calls, listing)

        # The first listing goes alone: if the region is not enabled (or the credentials are
        # refused), it fails once and every other call is recorded as not attempted instead of
        # each failing after its own retries.
        first, *rest = LISTINGS
        _open_ahead(calls, calls_in_flight)
        listed = {first.field: submit(first)}
        pool.submit(_other_clients, calls, region)
        if listed[first.field].result() is None:
            denial = policy_denial(calls.calls.errors)
            if denial is not None:
                return RegionSnapshot(
                    account_id=account_id,
                    region=region,
                    collected_at=collected_at,
                    out_of_scope=denial,
                )
        listed.update((listing.field, submit(listing)) for listing in rest)
        if on_vpcs is not None:
            on_vpcs(_bare_vpcs(listed[first.field].result() or []))
        profiles = pool.submit(_profile_associations, calls, region)
        resolver_rules = pool.submit(_resolver_rules, calls, region)
        # Each listing's items are converted as soon as it answers, whatever the others do
        # (AWS's catalogue of services is a slow answer), and the calls about an item are
        # submitted then, on the same pool. What depends on the endpoints starts as soon as
        # they are known.
        started: dict[str, list[tuple[Item, list[Future[Any]]]]] = {}
        fields: dict[str, list[Any]] = {}
        listing_of = {listed[listing.field]: listing for listing in LISTINGS}
        for answered in as_completed(listing_of):
            listing = listing_of[answered]
            items = answered.result() or []
            if isinstance(listing.convert, _FollowUps):
                started[listing.field] = _started(calls, listing, listing.convert, items, pool)
            else:
                fields[listing.field] = _present(_converted(calls, listing, i) for i in items)
            if listing.field == "vpc_endpoints":
                endpoints = fields["vpc_endpoints"]
                cross_region = pool.submit(_cross_region_service_details, calls, endpoints, region)
                interfaces = pool.submit(_endpoint_interfaces, calls, endpoints)
            if listing.field == "transit_gateway_attachments":
                attachment_subnets = pool.submit(
                    _attachment_subnets, calls, fields["transit_gateway_attachments"]
                )
        for listing in LISTINGS:
            if isinstance(listing.convert, _FollowUps):
                fields[listing.field] = _present(
                    _combined(calls, listing, listing.convert, item, answers)
                    for item, answers in started[listing.field]
                )
        fields["endpoint_service_details"] += cross_region.result()
        fields["endpoint_interfaces"] = interfaces.result()
        fields["transit_gateway_attachments"] = _with_subnets(
            fields["transit_gateway_attachments"], attachment_subnets.result()
        )
        fields["profile_associations"] = profiles.result()
        fields["resolver_rules"] = resolver_rules.result()
    return RegionSnapshot(
        account_id=account_id,
        region=region,
        collected_at=collected_at,
        errors=tuple(sorted(calls.calls.errors, key=lambda error: error.sort_key)),
        **_sorted_fields(fields),
    )


def _listed(calls: RegionCalls, listing: Listing) -> list[Item] | None:
    """The listing's items; None when it failed (recorded), none where the region does not
    offer the operation (``Listing.none_where``)."""
    try:
        return calls.items(
            listing.service,
            listing.operation,
            listing.result_key,
            listing.resource_kind,
            expected_errors=listing.none_where,
        )
    except ExpectedAnswer as answer:
        log.info(
            "%s/%s does not offer %s (%s): none listed",
            calls.calls.account_id,
            calls.calls.region,
            listing.operation,
            answer.code,
        )
        return []


def _present(values: Iterable[Any]) -> list[Any]:
    """The converted items, without those that could not be converted (recorded)."""
    return [value for value in values if value is not None]


def _bare_vpcs(items: Iterable[Item]) -> list[Any]:
    """The VPCs of DescribeVpcs' items, their DNS attributes unknown; an unreadable item is left
    out here (its conversion records it)."""
    found = []
    for item in items:
        try:
            found.append(translate.vpc(item, None, None))
        except UNREADABLE:
            continue
    return found


def _sorted_fields(fields: dict[str, list[Any]]) -> dict[str, Any]:
    return {name: _in_identity_order(values) for name, values in fields.items()}


def policy_denial(errors: Iterable[Any]) -> str | None:
    """AWS's message when the region's first call was refused by a service control policy."""
    for error in errors:
        if error.error_code in ACCESS_DENIED_CODES and SCP_DENY in error.message:
            return str(error.message)[:300]
    return None


def _converted(calls: RegionCalls, listing: Listing, item: Item) -> Any:
    """The listing's model object for ``item``; None, with the kind recorded as incomplete, when
    the item lacks an element the model needs."""
    return calls.calls.convert(
        listing.service, listing.operation, listing.resource_kind, listing.convert, calls, item
    )


def _started(
    calls: RegionCalls,
    listing: Listing,
    follow_ups: _FollowUps[Any],
    items: Iterable[Item],
    pool: ThreadPoolExecutor,
) -> list[tuple[Item, list[Future[Any]]]]:
    """The items, each with its calls submitted; an item that lacks what its calls need is
    recorded as ``_converted`` records it, and left out."""
    started = []
    for item in items:
        asks = calls.calls.convert(
            listing.service, listing.operation, listing.resource_kind, follow_ups.asks, calls, item
        )
        if asks is not None:
            started.append((item, [pool.submit(ask) for ask in asks]))
    return started


def _combined(
    calls: RegionCalls,
    listing: Listing,
    follow_ups: _FollowUps[Any],
    item: Item,
    answers: Iterable[Future[Any]],
) -> Any:
    # The answers are read inside the boundary: an ask's own reading of its answer (a VPC
    # attribute's value) may fail on a mis-shaped one, which is recorded against the item.
    return calls.calls.convert(
        listing.service,
        listing.operation,
        listing.resource_kind,
        lambda: follow_ups.combine(item, *(answer.result() for answer in answers)),
    )


def _in_identity_order(values: Iterable[Any]) -> tuple[Any, ...]:
    """Model objects by id (the first field of every model class), so that snapshots are
    deterministic; objects with the same id (a service offered both as Gateway and as Interface
    under one name) by their repr. Only those are repr'd: repr of every object was 2% of an
    organisation scan's CPU."""
    keyed = sorted(((_id_of(value), value) for value in values), key=operator.itemgetter(0))
    result: list[Any] = []
    for _, group in itertools.groupby(keyed, key=operator.itemgetter(0)):
        members = [value for _, value in group]
        result += sorted(members, key=repr) if len(members) > 1 else members
    return tuple(result)


def _id_of(obj: Any) -> str:
    kind = type(obj)
    name = _FIRST_FIELDS.get(kind)
    if name is None:
        name = _FIRST_FIELDS.setdefault(kind, dataclasses.fields(obj)[0].name)
    return str(getattr(obj, name))


_FIRST_FIELDS: dict[type, str] = {}
