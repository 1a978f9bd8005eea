"""The built-in rules, registered explicitly (plugins come through entry points).

Retired ids (VPCE205) have metadata but no check; see vpce_audit.rules.metadata.retired_metadata.
"""

from __future__ import annotations

from vpce_audit.rules.base import Rule
from vpce_audit.rules.builtin.address_space import (
    cidr_overlap_on_premises,
    cidr_overlap_organisation,
    cidr_overlap_transit_gateway,
    connected_networks_conflict,
    transit_gateway_auto_accepts_attachments,
)
from vpce_audit.rules.builtin.coverage import required_endpoint_missing, vpc_flow_logs_disabled
from vpce_audit.rules.builtin.dns import (
    centralised_endpoint_dns_broken,
    dhcp_custom_dns_servers,
    duplicate_interface_endpoint,
    interface_endpoint_without_private_dns,
    private_dns_without_vpc_dns,
    private_zone_shadows_aws_names,
)
from vpce_audit.rules.builtin.endpoint_policy import (
    endpoint_policy_full_access,
    endpoint_policy_no_principal_perimeter,
    endpoint_policy_no_resource_perimeter,
    endpoint_policy_unsafe_construct,
    endpoint_policy_untrusted_principal,
)
from vpce_audit.rules.builtin.endpoint_services import (
    endpoint_service_auto_accept,
    endpoint_service_open_principals,
    endpoint_service_untrusted_consumer,
    endpoint_to_untrusted_service,
)
from vpce_audit.rules.builtin.placement import (
    endpoint_az_coverage_gap,
    endpoint_not_available,
    endpoint_single_az,
)
from vpce_audit.rules.builtin.routing import (
    dynamodb_traffic_via_nat,
    endpoint_route_shadowed,
    gateway_endpoint_route_missing,
    s3_traffic_via_nat,
    service_traffic_via_transit_gateway,
    transit_gateway_zone_not_attached,
)
from vpce_audit.rules.builtin.security_groups import (
    endpoint_nacl_blocks_vpc,
    endpoint_sg_admits_any_source,
    endpoint_sg_all_traffic,
    endpoint_sg_blocks_vpc,
)

BUILTIN_RULES: tuple[Rule, ...] = (
    endpoint_policy_full_access,
    endpoint_policy_no_principal_perimeter,
    endpoint_policy_no_resource_perimeter,
    endpoint_policy_untrusted_principal,
    endpoint_policy_unsafe_construct,
    endpoint_service_auto_accept,
    endpoint_service_open_principals,
    endpoint_to_untrusted_service,
    endpoint_service_untrusted_consumer,
    private_dns_without_vpc_dns,
    interface_endpoint_without_private_dns,
    dhcp_custom_dns_servers,
    duplicate_interface_endpoint,
    private_zone_shadows_aws_names,
    centralised_endpoint_dns_broken,
    endpoint_sg_admits_any_source,
    endpoint_sg_all_traffic,
    endpoint_sg_blocks_vpc,
    endpoint_single_az,
    endpoint_az_coverage_gap,
    endpoint_not_available,
    endpoint_nacl_blocks_vpc,
    s3_traffic_via_nat,
    dynamodb_traffic_via_nat,
    service_traffic_via_transit_gateway,
    endpoint_route_shadowed,
    gateway_endpoint_route_missing,
    transit_gateway_zone_not_attached,
    connected_networks_conflict,
    cidr_overlap_transit_gateway,
    cidr_overlap_on_premises,
    cidr_overlap_organisation,
    transit_gateway_auto_accepts_attachments,
    required_endpoint_missing,
    vpc_flow_logs_disabled,
)
