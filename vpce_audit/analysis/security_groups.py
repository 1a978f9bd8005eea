"""Security-group reasoning for interface endpoints: which ports a service serves, and whether an
endpoint's groups admit a network on them."""

from __future__ import annotations

from collections.abc import Iterable

from vpce_audit.analysis.cidrs import Network, overlaps, parse_network
from vpce_audit.analysis.service_names import service_short_name
from vpce_audit.data import PortRange, ServicePorts, service_ports
from vpce_audit.model import SecurityGroup, SecurityGroupRule, VpcEndpoint, is_privatelink_service
from vpce_audit.snapshot.views import ScopeView

TCP_PROTOCOLS = frozenset({"tcp", "6"})
UDP_PROTOCOLS = frozenset({"udp", "17"})


def endpoint_ports(endpoint: VpcEndpoint) -> ServicePorts | None:
    """The TCP ports the endpoint's service serves (vpce_audit/data/service_ports.yaml); None for
    PrivateLink and VPC Lattice endpoints, whose ports only their provider knows."""
    if endpoint.is_lattice or is_privatelink_service(endpoint.service_name):
        return None
    return service_ports().for_service(service_short_name(endpoint.service_name))


def attached_groups(
    scope: ScopeView, endpoint: VpcEndpoint
) -> tuple[list[SecurityGroup], list[str]]:
    """The endpoint's security groups found in the snapshot, and the ids of those missing."""
    found: list[SecurityGroup] = []
    missing: list[str] = []
    for group_id in endpoint.security_group_ids:
        group = scope.security_groups_by_id.get(group_id)
        if group is None:
            missing.append(group_id)
        else:
            found.append(group)
    return found, missing


def rule_ports(rule: SecurityGroupRule) -> PortRange | None:
    """The TCP ports an ingress rule admits; None when it admits no TCP."""
    if rule.all_protocols:
        return PortRange(0, 65535)
    if rule.ip_protocol not in TCP_PROTOCOLS:
        return None
    if rule.from_port is None or rule.to_port is None:
        return PortRange(0, 65535)
    return PortRange(rule.from_port, rule.to_port)


def admits_any_port(rule: SecurityGroupRule, ports: Iterable[PortRange]) -> bool:
    admitted = rule_ports(rule)
    return admitted is not None and any(admitted.overlaps(wanted) for wanted in ports)


def source_covers(
    rule: SecurityGroupRule, scope: ScopeView, networks: Iterable[Network], vpc_id: str
) -> bool | None:
    """Whether the rule's source covers part of a VPC (its blocks ``networks``); None when the
    snapshot cannot say (a prefix list or group it does not hold)."""
    blocks = list(networks)
    for cidr in (rule.cidr_ipv4, rule.cidr_ipv6):
        if cidr is not None:
            source = parse_network(cidr)
            return source is not None and any(overlaps(source, n) for n in blocks)
    if rule.prefix_list_id is not None:
        plist = scope.prefix_lists_by_id.get(rule.prefix_list_id)
        if plist is None or plist.cidrs is None:
            return None
        entries = [parse_network(cidr) for cidr in plist.cidrs]
        return any(e is not None and overlaps(e, n) for e in entries for n in blocks)
    if rule.referenced_group_id is not None:
        group = scope.security_groups_by_id.get(rule.referenced_group_id)
        return None if group is None else group.vpc_id == vpc_id
    return False


def admits(
    scope: ScopeView,
    groups: Iterable[SecurityGroup],
    networks: Iterable[Network],
    vpc_id: str,
    ports: Iterable[PortRange],
) -> bool | None:
    """Whether some ingress rule of the groups admits a port of ``ports`` from the VPC; None when
    no rule does but one could not be resolved."""
    blocks, wanted = list(networks), list(ports)
    verdicts = [
        source_covers(rule, scope, blocks, vpc_id)
        for group in groups
        for rule in group.ingress
        if admits_any_port(rule, wanted)
    ]
    if any(verdicts):
        return True
    return None if None in verdicts else False
