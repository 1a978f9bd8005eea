"""3xx: who can reach interface endpoints: security groups and network ACLs.

Endpoints that AWS manages in your VPC (``RequesterManaged``) come with groups you should not
edit; 30x rules list them as skipped instead of judging them. The ports each AWS service's
endpoint serves come from vpce_audit/data/service_ports.yaml (443 unless AWS documents others).
"""

from __future__ import annotations

from collections.abc import Iterator

from vpce_audit.analysis.cidrs import Network, parse_networks
from vpce_audit.analysis.nacl import EPHEMERAL_PORTS, INSTANCE_EPHEMERAL_PORTS, denied
from vpce_audit.analysis.routes import prefix_list_gap
from vpce_audit.analysis.security_groups import (
    UDP_PROTOCOLS,
    admission,
    association,
    attached_groups,
    endpoint_ports,
    rule_ports,
)
from vpce_audit.analysis.topology import Topology
from vpce_audit.data import PortRange, ServicePorts
from vpce_audit.findings import Severity, Skipped
from vpce_audit.model import SecurityGroupRule, Vpc, VpcEndpoint
from vpce_audit.rules.base import CheckResult, RuleContext, builtin_rule
from vpce_audit.snapshot.views import ScopeView

ANY_SOURCE = frozenset({"0.0.0.0/0", "::/0"})


def reachable_endpoints(ctx: RuleContext) -> Iterator[tuple[ScopeView, VpcEndpoint] | Skipped]:
    """Live endpoints with network interfaces in the VPC (interface and VPC Lattice endpoints);
    endpoints AWS manages for you are skipped with that reason."""
    for scope in ctx.scopes():
        for endpoint in scope.live_endpoints:
            if not (endpoint.is_interface or endpoint.is_lattice):
                continue
            if endpoint.requester_managed:
                yield ctx.skip(
                    scope,
                    endpoint.endpoint_id,
                    "an AWS service manages this endpoint and its security groups "
                    "(RequesterManaged)",
                )
                continue
            yield scope, endpoint


def _missing_groups(missing: list[str]) -> str:
    return f"security group {', '.join(missing)} is not in the snapshot"


def _unknown_ports(endpoint: VpcEndpoint) -> str:
    what = "VPC Lattice" if endpoint.is_lattice else "PrivateLink"
    return f"the ports of this {what} endpoint's service are known only to its provider"


# What the severity of VPCE301 depends on; when one of them was not collected, the finding is
# reported at medium (the VPC may reach networks outside the organisation) and says why.
PATH_KINDS = (
    "route_tables",
    "peering_connections",
    "transit_gateway_attachments",
    "transit_gateway_route_tables",
    "transit_gateway_routes",
)


@builtin_rule("VPCE301", requires=("vpc_endpoints", "security_groups"))
def endpoint_sg_admits_any_source(ctx: RuleContext) -> CheckResult:
    topology = Topology(ctx.snapshot)
    for placed in reachable_endpoints(ctx):
        if isinstance(placed, Skipped):
            yield placed
            continue
        scope, endpoint = placed
        groups, missing = attached_groups(scope, endpoint)
        by_group = {
            group.group_id: [s for rule in group.ingress for s in _any_sources(scope, rule)]
            for group in groups
        }
        open_groups = sorted(group_id for group_id, found in by_group.items() if found)
        if not open_groups:
            unread = sorted(
                {
                    gap
                    for group in groups
                    for rule in group.ingress
                    if rule.prefix_list_id is not None
                    for gap in (prefix_list_gap(rule.prefix_list_id, scope.prefix_lists_by_id),)
                    if gap is not None
                }
            )
            if missing or unread:
                # A list whose entries are unknown may hold 0.0.0.0/0.
                why = [_missing_groups(missing)] if missing else []
                yield ctx.skip(scope, endpoint.endpoint_id, "; ".join(why + unread))
            continue
        sources = sorted({source for found in by_group.values() for source in found})
        paths = topology.external_paths(scope, endpoint.vpc_id, ctx.trusted)
        unread = [
            f"{kind} not collected" for kind in sorted(PATH_KINDS) if kind in scope.failed_kinds
        ] + [p.description for p in paths if p.unknown]
        external = [p.description for p in paths if p.certain]
        uncertain = [p.description for p in paths if not p.certain and not p.unknown]
        if external:
            reach = (
                f"{endpoint.vpc_id} routes to networks outside the organisation "
                f"({_first_three(external)}), so they can reach it"
            )
        elif unread:
            reach = (
                f"whether {endpoint.vpc_id} routes to networks outside the organisation is "
                f"unknown ({'; '.join(unread)})"
            )
        elif uncertain:
            reach = (
                f"{endpoint.vpc_id} routes to networks of accounts whose membership of the "
                f"organisation is unknown ({_first_three(uncertain)}); if they are outside it, "
                "they can reach it"
            )
        else:
            reach = (
                f"only networks that {endpoint.vpc_id} routes to can reach its private "
                "addresses, none of them outside the organisation"
            )
        yield ctx.finding(
            scope,
            endpoint.endpoint_id,
            f"{endpoint.endpoint_type} endpoint {endpoint.endpoint_id} to {endpoint.target} "
            f"has security group {', '.join(open_groups)} admitting any source address "
            f"({' and '.join(sources)}): {reach}.",
            related=(endpoint.vpc_id, *open_groups),
            severity=ctx.severity_for(Severity.MEDIUM if external or unread else Severity.LOW),
        )


def _any_sources(scope: ScopeView, rule: SecurityGroupRule) -> list[str]:
    """The rule's sources that admit any address: 0.0.0.0/0 or ::/0, written as a CIDR or held
    by the prefix list the rule names (a rule admits every CIDR of its list,
    https://docs.aws.amazon.com/vpc/latest/userguide/managed-prefix-lists.html)."""
    found = [cidr for cidr in (rule.cidr_ipv4, rule.cidr_ipv6) if cidr in ANY_SOURCE]
    plist = scope.prefix_lists_by_id.get(rule.prefix_list_id or "")
    if plist is not None and plist.cidrs:
        found += [f"{cidr} in {plist.prefix_list_id}" for cidr in plist.cidrs if cidr in ANY_SOURCE]
    return found


def _first_three(items: list[str]) -> str:
    return "; ".join(items[:3]) + ("; ..." if len(items) > 3 else "")


def _excess(rule: SecurityGroupRule, needed: tuple[PortRange, ...] | None) -> str | None:
    """Why an ingress rule admits more than the service needs, or None."""
    if rule.all_protocols:
        return "all protocols"
    if rule.ip_protocol in UDP_PROTOCOLS:
        low, high = rule.from_port, rule.to_port
        if needed is None:
            return "every udp port" if (low, high) in {(None, None), (0, 65535)} else None
        return "udp " + ("every port" if low is None else f"{low}-{high}")
    admitted = rule_ports(rule)
    if admitted is None:
        return None
    if needed is None:
        return "every tcp port" if (admitted.low, admitted.high) == (0, 65535) else None
    wanted = sum(max(0, min(admitted.high, p.high) - max(admitted.low, p.low) + 1) for p in needed)
    if admitted.high - admitted.low + 1 > wanted:
        return f"tcp {admitted}"
    return None


def _source(rule: SecurityGroupRule) -> str:
    return (
        rule.cidr_ipv4 or rule.cidr_ipv6 or rule.prefix_list_id or rule.referenced_group_id or "?"
    )


@builtin_rule("VPCE302", requires=("vpc_endpoints", "security_groups"))
def endpoint_sg_all_traffic(ctx: RuleContext) -> CheckResult:
    for placed in reachable_endpoints(ctx):
        if isinstance(placed, Skipped):
            yield placed
            continue
        scope, endpoint = placed
        ports = endpoint_ports(endpoint)
        needed = ports.ports if ports is not None else None
        wide: list[str] = []
        groups, missing = attached_groups(scope, endpoint)
        for group in groups:
            for rule in group.ingress:
                excess = _excess(rule, needed)
                if excess:
                    wide.append(f"{group.group_id} allows {excess} from {_source(rule)}")
        if wide:
            need = "its service's ports" if ports is None else f"tcp {ports.describe()}"
            yield ctx.finding(
                scope,
                endpoint.endpoint_id,
                f"{endpoint.endpoint_type} endpoint {endpoint.endpoint_id} to "
                f"{endpoint.target} needs only {need}, but {'; '.join(sorted(set(wide)))}.",
                related=(endpoint.vpc_id, *endpoint.security_group_ids),
            )
        elif missing:
            yield ctx.skip(scope, endpoint.endpoint_id, _missing_groups(missing))


def _endpoints_with_ports(
    ctx: RuleContext,
) -> Iterator[tuple[ScopeView, VpcEndpoint, ServicePorts] | Skipped]:
    """Reachable endpoints with the ports their service serves; the others are skipped (a
    PrivateLink or Lattice service's ports are known only to its provider)."""
    for placed in reachable_endpoints(ctx):
        if isinstance(placed, Skipped):
            yield placed
            continue
        scope, endpoint = placed
        ports = endpoint_ports(endpoint)
        if ports is None:
            yield ctx.skip(scope, endpoint.endpoint_id, _unknown_ports(endpoint))
            continue
        yield scope, endpoint, ports


@builtin_rule("VPCE303", requires=("vpc_endpoints", "security_groups", "vpcs", "prefix_lists"))
def endpoint_sg_blocks_vpc(ctx: RuleContext) -> CheckResult:
    for placed in _endpoints_with_ports(ctx):
        if isinstance(placed, Skipped):
            yield placed
            continue
        scope, endpoint, ports = placed
        vpc = scope.vpcs_by_id.get(endpoint.vpc_id)
        groups, missing = attached_groups(scope, endpoint)
        if vpc is None or missing or not groups:
            yield ctx.skip(
                scope,
                endpoint.endpoint_id,
                "the endpoint's VPC or security groups are not in the snapshot",
            )
            continue
        # Clients reach an IPv4-only endpoint by its IPv4 addresses, an IPv6-only one by IPv6.
        families = endpoint.address_families
        networks = [
            n
            for n in parse_networks((*vpc.cidr_blocks, *vpc.ipv6_cidr_blocks))
            if n.version in families
        ]
        # A participant's group of a shared VPC lives in its own account's listing.
        elsewhere = ctx.snapshot.security_groups_of(scope.region, vpc.vpc_id)
        admitted = admission(scope, groups, ports.ports, elsewhere)
        verdict = admitted.admits(networks, vpc.vpc_id)
        if verdict:
            continue
        if verdict is None:
            yield ctx.skip(
                scope,
                endpoint.endpoint_id,
                "a rule for the service's ports refers to a prefix list or security group not in "
                "the snapshot",
            )
            continue
        # A group of another VPC associated with this one admits its members here.
        reach = [association(ctx.snapshot, g, vpc, scope.region) for g in admitted.referenced]
        if any(found.verdict for found in reach):
            continue
        doubts = sorted(found.reason for found in reach if found.verdict is None)
        if doubts:
            yield ctx.skip(
                scope,
                endpoint.endpoint_id,
                "a rule for the service's ports admits a security group of another VPC that "
                f"may have members in {vpc.vpc_id}: {'; '.join(doubts)}",
            )
            continue
        yield ctx.finding(
            scope,
            endpoint.endpoint_id,
            f"Interface endpoint {endpoint.endpoint_id} to {endpoint.target}: no rule of "
            f"security group {', '.join(endpoint.security_group_ids)} allows tcp "
            f"{ports.describe()} (the service's port{'s' if len(ports.ports) > 1 else ''}) from "
            f"{vpc.vpc_id} ({', '.join(_client_blocks(vpc, endpoint))}): the endpoint is "
            f"unusable from its own "
            "VPC.",
            related=(vpc.vpc_id, *endpoint.security_group_ids),
        )


def _client_blocks(vpc: Vpc, endpoint: VpcEndpoint) -> tuple[str, ...]:
    """The VPC's blocks its clients reach the endpoint from, as AWS lists them."""
    return vpc.ipv6_cidr_blocks if endpoint.address_families == {6} else vpc.cidr_blocks


@builtin_rule("VPCE307", requires=("vpc_endpoints", "vpcs", "subnets", "network_acls"))
def endpoint_nacl_blocks_vpc(ctx: RuleContext) -> CheckResult:
    for placed in _endpoints_with_ports(ctx):
        if isinstance(placed, Skipped):
            yield placed
            continue
        scope, endpoint, ports = placed
        vpc = scope.vpcs_by_id.get(endpoint.vpc_id)
        acls = [(s, scope.network_acl_by_subnet.get(s)) for s in endpoint.subnet_ids]
        if vpc is None or any(acl is None for _, acl in acls):
            yield ctx.skip(
                scope,
                endpoint.endpoint_id,
                "the network ACL of an endpoint subnet is not in the snapshot",
            )
            continue
        # An IPv6-only endpoint has no IPv4 address: its clients come over IPv6. Otherwise the
        # IPv4 paths are judged (a dual-stack endpoint's IPv6 clients are not).
        blocks: list[Network] = parse_networks(_client_blocks(vpc, endpoint))
        problems: list[str] = []
        instances_affected = False
        seen: set[str] = set()
        for subnet_id, acl in acls:
            assert acl is not None
            if acl.network_acl_id in seen:
                continue
            seen.add(acl.network_acl_id)
            per_port = [denied(acl, egress=False, peers=blocks, ports=[p]) for p in ports.ports]
            if all(per_port):
                instances_affected = True
                shown = [b.describe() for blocked in per_port for b in blocked][:4]
                problems.append(
                    f"{acl.network_acl_id} (subnet {subnet_id}) denies inbound {'; '.join(shown)}"
                )
            returning = denied(acl, egress=True, peers=blocks, ports=[EPHEMERAL_PORTS])
            if returning:
                shown = [b.describe() for b in returning][:4]
                high = any(b.ports.overlaps(INSTANCE_EPHEMERAL_PORTS) for b in returning)
                instances_affected = instances_affected or high
                problems.append(
                    f"{acl.network_acl_id} (subnet {subnet_id}) denies return traffic to "
                    f"{'; '.join(shown)}"
                    + (
                        ""
                        if high
                        else " (ports below 32768: clients that use them, such as Lambda "
                        "functions, lose some connections; Linux and Windows instances do not)"
                    )
                )
        if problems:
            yield ctx.finding(
                scope,
                endpoint.endpoint_id,
                f"{endpoint.endpoint_type} endpoint {endpoint.endpoint_id} to "
                f"{endpoint.target} serves tcp {ports.describe()}, but "
                f"{'; '.join(problems)}: clients in {vpc.vpc_id} time out (network ACLs are "
                "stateless; replies go to the client's ephemeral port, 1024-65535 across the "
                "clients AWS lists).",
                related=(vpc.vpc_id, *endpoint.subnet_ids, *sorted(seen)),
                severity=None if instances_affected else ctx.severity_for(Severity.LOW),
            )
