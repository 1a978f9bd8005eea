"""Collect one account-region with account-wide, paginated Describe calls.

Every resource kind is described once for the whole region and grouped client-side. The few
calls that exist only per resource (DescribeVpcAttribute, GetManagedPrefixListEntries,
DescribeVpcEndpointServicePermissions, the TGW route-table association / propagation lists) run
on a small thread pool, because a region with hundreds of VPCs otherwise spends most of its time
waiting on them one by one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from vpce_audit.clock import utc_now
from vpce_audit.collect import translate
from vpce_audit.collect.calls import ScopeCalls
from vpce_audit.model import RegionSnapshot

T = TypeVar("T")
R = TypeVar("R")

PER_RESOURCE_WORKERS = 8


def _fan_out(function: Callable[[T], R], items: Iterable[T]) -> list[R]:
    work = list(items)
    if len(work) <= 1:
        return [function(item) for item in work]
    with ThreadPoolExecutor(max_workers=min(PER_RESOURCE_WORKERS, len(work))) as pool:
        return list(pool.map(function, work))


def _vpc_attribute(calls: ScopeCalls, ec2: Any, vpc_id: str, attribute: str) -> bool | None:
    response = calls.single(
        ec2,
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


def collect_region(ec2: Any, account_id: str, region: str) -> RegionSnapshot:
    """Describe everything vpce-audit needs in one region of one account."""
    calls = ScopeCalls(account_id, region)
    collected_at = utc_now()

    def items(operation: str, result_key: str, kind: str, **params: Any) -> list[dict[str, Any]]:
        return calls.items(ec2, operation, result_key, kind, **params) or []

    # VPCs and their DNS attributes (no batch form: two calls per VPC is the floor).
    raw_vpcs = items("DescribeVpcs", "Vpcs", "vpcs")

    def with_attributes(item: dict[str, Any]) -> Any:
        vpc_id = item["VpcId"]
        support = _vpc_attribute(calls, ec2, vpc_id, "enableDnsSupport")
        hostnames = _vpc_attribute(calls, ec2, vpc_id, "enableDnsHostnames")
        return translate.vpc(item, support, hostnames)

    vpcs = _fan_out(with_attributes, raw_vpcs)

    # Prefix lists, with entries for each (AWS-managed service lists and customer lists that
    # security groups and routes may reference).
    raw_prefix_lists = items("DescribeManagedPrefixLists", "PrefixLists", "prefix_lists")

    def with_entries(item: dict[str, Any]) -> Any:
        entries = calls.items(
            ec2,
            "GetManagedPrefixListEntries",
            "Entries",
            "prefix_list_entries",
            resource_id=item["PrefixListId"],
            PrefixListId=item["PrefixListId"],
        )
        cidrs = (
            None if entries is None else tuple(sorted(e["Cidr"] for e in entries if e.get("Cidr")))
        )
        return translate.prefix_list(item, cidrs)

    prefix_lists = _fan_out(with_entries, raw_prefix_lists)

    # Endpoint services this account provides, with who may connect.
    raw_configurations = items(
        "DescribeVpcEndpointServiceConfigurations",
        "ServiceConfigurations",
        "endpoint_service_configurations",
    )

    def with_permissions(item: dict[str, Any]) -> Any:
        permissions = calls.items(
            ec2,
            "DescribeVpcEndpointServicePermissions",
            "AllowedPrincipals",
            "endpoint_service_permissions",
            resource_id=item["ServiceId"],
            ServiceId=item["ServiceId"],
        )
        principals = (
            None
            if permissions is None
            else tuple(sorted(p["Principal"] for p in permissions if p.get("Principal")))
        )
        return translate.endpoint_service_configuration(item, principals)

    configurations = _fan_out(with_permissions, raw_configurations)

    # Transit gateway route tables with their associations and propagations.
    raw_tgw_tables = items(
        "DescribeTransitGatewayRouteTables",
        "TransitGatewayRouteTables",
        "transit_gateway_route_tables",
    )

    def with_tgw_details(item: dict[str, Any]) -> Any:
        table_id = item["TransitGatewayRouteTableId"]
        associations = calls.items(
            ec2,
            "GetTransitGatewayRouteTableAssociations",
            "Associations",
            "transit_gateway_route_tables",
            resource_id=table_id,
            TransitGatewayRouteTableId=table_id,
        )
        propagations = calls.items(
            ec2,
            "GetTransitGatewayRouteTablePropagations",
            "TransitGatewayRouteTablePropagations",
            "transit_gateway_route_tables",
            resource_id=table_id,
            TransitGatewayRouteTableId=table_id,
        )
        return translate.transit_gateway_route_table(item, associations, propagations)

    tgw_tables = _fan_out(with_tgw_details, raw_tgw_tables)

    # Keyword arguments are evaluated in order, so `errors` (last) sees every call's failure.
    return RegionSnapshot(
        account_id=account_id,
        region=region,
        collected_at=collected_at,
        vpcs=tuple(sorted(vpcs, key=lambda v: v.vpc_id)),
        subnets=_sorted(translate.subnet, items("DescribeSubnets", "Subnets", "subnets")),
        route_tables=_sorted(
            translate.route_table, items("DescribeRouteTables", "RouteTables", "route_tables")
        ),
        nat_gateways=_sorted(
            translate.nat_gateway, items("DescribeNatGateways", "NatGateways", "nat_gateways")
        ),
        internet_gateways=_sorted(
            translate.internet_gateway,
            items("DescribeInternetGateways", "InternetGateways", "internet_gateways"),
        ),
        vpc_endpoints=_sorted(
            translate.vpc_endpoint, items("DescribeVpcEndpoints", "VpcEndpoints", "vpc_endpoints")
        ),
        endpoint_service_details=_sorted(
            translate.endpoint_service_detail,
            items("DescribeVpcEndpointServices", "ServiceDetails", "endpoint_service_details"),
        ),
        endpoint_service_configurations=tuple(sorted(configurations, key=lambda c: c.service_id)),
        security_groups=_sorted(
            translate.security_group,
            items("DescribeSecurityGroups", "SecurityGroups", "security_groups"),
        ),
        dhcp_options=_sorted(
            translate.dhcp_options, items("DescribeDhcpOptions", "DhcpOptions", "dhcp_options")
        ),
        prefix_lists=tuple(sorted(prefix_lists, key=lambda p: p.prefix_list_id)),
        peering_connections=_sorted(
            translate.peering_connection,
            items("DescribeVpcPeeringConnections", "VpcPeeringConnections", "peering_connections"),
        ),
        transit_gateways=_sorted(
            translate.transit_gateway,
            items("DescribeTransitGateways", "TransitGateways", "transit_gateways"),
        ),
        transit_gateway_attachments=_sorted(
            translate.transit_gateway_attachment,
            items(
                "DescribeTransitGatewayAttachments",
                "TransitGatewayAttachments",
                "transit_gateway_attachments",
            ),
        ),
        transit_gateway_route_tables=tuple(sorted(tgw_tables, key=lambda t: t.route_table_id)),
        vpn_connections=_sorted(
            translate.vpn_connection,
            items("DescribeVpnConnections", "VpnConnections", "vpn_connections"),
        ),
        vpn_gateways=_sorted(
            translate.vpn_gateway, items("DescribeVpnGateways", "VpnGateways", "vpn_gateways")
        ),
        customer_gateways=_sorted(
            translate.customer_gateway,
            items("DescribeCustomerGateways", "CustomerGateways", "customer_gateways"),
        ),
        flow_logs=_sorted(translate.flow_log, items("DescribeFlowLogs", "FlowLogs", "flow_logs")),
        errors=calls.errors,
    )


def _sorted(convert: Callable[[dict[str, Any]], T], raw: list[dict[str, Any]]) -> tuple[T, ...]:
    converted = [convert(item) for item in raw]
    return tuple(sorted(converted, key=_identity))


def _identity(obj: Any) -> tuple[str, str]:
    # The first field of every model class is its id; repr breaks the rare tie (a service
    # offered both as Gateway and as Interface under one name) so snapshots are deterministic.
    return str(getattr(obj, dataclasses.fields(obj)[0].name)), repr(obj)
