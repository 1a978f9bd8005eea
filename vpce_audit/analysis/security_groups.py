"""Security-group reasoning for interface endpoints: which ports a service serves, and whether an
endpoint's groups admit a network on them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from vpce_audit.analysis.cidrs import Network, NetworkIndex, parse_network
from vpce_audit.analysis.routes import prefix_list_gap
from vpce_audit.analysis.service_names import service_short_name
from vpce_audit.data import PortRange, ServicePorts, service_ports
from vpce_audit.model import (
    SecurityGroup,
    SecurityGroupRule,
    Vpc,
    VpcEndpoint,
    is_privatelink_service,
)
from vpce_audit.snapshot.views import ScopeView, Snapshot

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


@dataclass(frozen=True)
class Admission:
    """What some security groups admit on some ports, indexed once: the networks of their CIDR
    and prefix-list sources, the VPCs of the groups they reference, and whether some source is
    unknown to the snapshot. A hub's endpoint group may hold a rule per spoke, and every spoke's
    every record asks it (``CentralDns``): looked up, not walked rule by rule."""

    networks: NetworkIndex
    group_vpcs: frozenset[str | None]
    unknown_lists: bool
    """Some rule's source is a prefix list whose entries are unknown."""
    unknown_groups: frozenset[str]
    """The groups rules name as sources that the snapshot does not resolve (here)."""
    referenced: tuple[SecurityGroup, ...] = ()
    """The groups rules name as sources that the snapshot resolves."""

    @property
    def unresolved(self) -> bool:
        return self.unknown_lists or bool(self.unknown_groups)

    def admits(self, networks: Iterable[Network], vpc_id: str) -> bool | None:
        """Whether some rule admits the VPC (its blocks ``networks``); None when no rule does
        but one could not be resolved."""
        if vpc_id in self.group_vpcs or self.by_address(networks):
            return True
        return None if self.unresolved else False

    def by_address(self, networks: Iterable[Network]) -> bool:
        """Whether a CIDR or prefix-list source covers part of ``networks`` (not a group)."""
        return any(next(self.networks.overlapping(block), None) is not None for block in networks)


def admission(
    scope: ScopeView,
    groups: Iterable[SecurityGroup],
    ports: Iterable[PortRange],
    elsewhere: Mapping[str, SecurityGroup] | None = None,
) -> Admission:
    """The ``Admission`` of the groups' ingress rules that admit a port of ``ports``; a group a
    rule references is looked up in ``scope``, then in ``elsewhere`` (groups other scanned
    accounts list: a shared VPC's participants')."""
    wanted = list(ports)
    networks: list[Network] = []
    group_vpcs: set[str | None] = set()
    unknown_lists = False
    unknown_groups: set[str] = set()
    referenced_groups: dict[str, SecurityGroup] = {}
    for group in groups:
        for rule in group.ingress:
            if not admits_any_port(rule, wanted):
                continue
            cidr = rule.cidr_ipv4 if rule.cidr_ipv4 is not None else rule.cidr_ipv6
            if cidr is not None:
                source = parse_network(cidr)
                networks += [source] if source is not None else []
            elif rule.prefix_list_id is not None:
                if prefix_list_gap(rule.prefix_list_id, scope.prefix_lists_by_id) is not None:
                    # Not in the snapshot, not read, or an AWS-managed list read empty (a read
                    # gone wrong: AWS's lists are never empty): its sources are unknown, not none.
                    unknown_lists = True
                else:
                    cidrs = scope.prefix_lists_by_id[rule.prefix_list_id].cidrs or ()
                    networks += [n for n in map(parse_network, cidrs) if n is not None]
            elif rule.referenced_group_id is not None:
                referenced = scope.security_groups_by_id.get(rule.referenced_group_id)
                if referenced is None and elsewhere is not None:
                    referenced = elsewhere.get(rule.referenced_group_id)
                if referenced is None:
                    unknown_groups.add(rule.referenced_group_id)
                else:
                    group_vpcs.add(referenced.vpc_id)
                    referenced_groups[referenced.group_id] = referenced
    return Admission(
        NetworkIndex(networks),
        frozenset(group_vpcs),
        unknown_lists,
        frozenset(unknown_groups),
        tuple(referenced_groups.values()),
    )


ASSOCIATION_STATES: dict[str, bool | None] = {  # a state AWS adds later: unknown
    "associated": True,
    "disassociation-failed": True,  # still associated
    "associating": None,
    "disassociating": None,
    "association-failed": False,
    "disassociated": False,
}
"""Whether a group's members may sit in the VPC, by the state of its association with it; None
while the association changes."""


def association(snapshot: Snapshot, group: SecurityGroup, vpc: Vpc, region: str) -> Association:
    """Whether members of the group may sit in the VPC, though the group was created in another
    one: a security group VPC association lets instances and interfaces of another VPC of the
    region use it (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AssociateSecurityGroupVpc.html),
    as its owner's account-region lists them. Where that list is unknown (the owner not scanned
    there, the listing failed, a snapshot before schema 8), only what AWS refuses settles it: a
    default group, the default VPC, or a VPC of another account that is not shared with the
    group's owner ("if your account owns the VPC or if the VPC was shared with you": a VPC
    shared with an account is among those its DescribeVpcs lists)."""
    if group.vpc_id == vpc.vpc_id:
        return Association(True)
    owner = snapshot.scope_by_place.get((group.owner_id or "", region))
    known = None if owner is None else owner.group_vpc_associations
    if known is not None:
        state = known.get((group.group_id, vpc.vpc_id))
        if state is None:
            return Association(False)
        verdict = ASSOCIATION_STATES.get(state)
        return Association(verdict, f"{group.group_id}'s association with {vpc.vpc_id} is {state}")
    if group.group_name == "default" or vpc.is_default:
        return Association(False)
    if (
        group.owner_id
        and vpc.owner_id
        and group.owner_id != vpc.owner_id
        and owner is not None
        and "vpcs" not in owner.failed_kinds
        and vpc.vpc_id not in owner.vpcs_by_id
    ):
        return Association(False)  # another account's VPC, not shared with the group's owner
    return Association(
        None,
        f"{group.group_id} (of {group.vpc_id}) may be associated with {vpc.vpc_id}: "
        f"{group.owner_id or 'its owner'}'s security group VPC associations in {region} were not "
        "read",
    )


@dataclass(frozen=True)
class Association:
    """``association``'s verdict, and why it is not a plain no."""

    verdict: bool | None
    reason: str = ""
