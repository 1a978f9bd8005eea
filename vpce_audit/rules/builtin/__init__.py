"""The built-in rules, registered explicitly (plugins come through entry points)."""

from __future__ import annotations

from vpce_audit.rules.base import Rule
from vpce_audit.rules.builtin.address_space import cidr_overlap_peering
from vpce_audit.rules.builtin.dns import private_dns_without_vpc_dns
from vpce_audit.rules.builtin.endpoint_policy import endpoint_policy_full_access
from vpce_audit.rules.builtin.placement import endpoint_single_az
from vpce_audit.rules.builtin.routing import dynamodb_traffic_via_nat, s3_traffic_via_nat
from vpce_audit.rules.builtin.security_groups import endpoint_sg_open_to_internet

BUILTIN_RULES: tuple[Rule, ...] = (
    endpoint_policy_full_access,
    private_dns_without_vpc_dns,
    endpoint_sg_open_to_internet,
    endpoint_single_az,
    s3_traffic_via_nat,
    dynamodb_traffic_via_nat,
    cidr_overlap_peering,
)
