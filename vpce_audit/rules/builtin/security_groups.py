"""3xx: security groups of interface endpoints."""

from __future__ import annotations

from vpce_audit.analysis.cidrs import Network, overlaps, parse_network
from vpce_audit.model import (
    SecurityGroup,
    SecurityGroupRule,
    VpcEndpoint,
    is_privatelink_service,
)
from vpce_audit.rules.base import CheckResult, RuleContext, builtin_rule
from vpce_audit.snapshot.views import ScopeView

INTERNET_SOURCES = frozenset({"0.0.0.0/0", "::/0"})


def _attached_groups(
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


def _missing_groups(missing: list[str]) -> str:
    return f"security group {', '.join(missing)} is not in the snapshot"


@builtin_rule("VPCE301", requires=("vpc_endpoints", "security_groups"))
def endpoint_sg_open_to_internet(ctx: RuleContext) -> CheckResult:
    for scope in ctx.scopes():
        for endpoint in scope.live_endpoints:
            if not endpoint.is_interface:
                continue
            open_groups: list[str] = []
            sources: set[str] = set()
            groups, missing = _attached_groups(scope, endpoint)
            for group in groups:
                group_sources = {
                    source
                    for rule in group.ingress
                    for source in (rule.cidr_ipv4, rule.cidr_ipv6)
                    if source in INTERNET_SOURCES
                }
                if group_sources:
                    open_groups.append(group.group_id)
                    sources |= group_sources
            if open_groups:
                yield ctx.finding(
                    scope,
                    endpoint.endpoint_id,
                    f"Interface endpoint {endpoint.endpoint_id} to {endpoint.service_name} has "
                    f"security group {', '.join(open_groups)} allowing ingress from "
                    f"{' and '.join(sorted(sources))}.",
                    related=(endpoint.vpc_id, *open_groups),
                )
            elif missing:
                yield ctx.skip(scope, endpoint.endpoint_id, _missing_groups(missing))


# Ports an interface endpoint's service listens on. Every AWS service endpoint speaks HTTPS on
# 443, except SMTP for SES.
SERVICE_PORTS = {"email-smtp": frozenset({25, 465, 587, 2465, 2587})}
HTTPS = frozenset({443})


def _needed_ports(service_name: str) -> frozenset[int] | None:
    """TCP ports the service needs; None for services whose ports vpce-audit cannot know."""
    if is_privatelink_service(service_name):
        return None
    return SERVICE_PORTS.get(service_name.rsplit(".", 1)[-1], HTTPS)


def _excess(rule: SecurityGroupRule, needed: frozenset[int] | None) -> str | None:
    """Why an ingress rule admits more than the service needs, or None."""
    if rule.all_protocols:
        return "all protocols"
    if rule.ip_protocol not in {"tcp", "udp", "6", "17"}:
        return None
    low, high = rule.from_port, rule.to_port
    if low is None or high is None:
        return f"every {rule.ip_protocol} port"
    if needed is None:
        return f"every {rule.ip_protocol} port" if (low, high) == (0, 65535) else None
    if rule.ip_protocol in {"udp", "17"}:
        return f"udp {low}-{high}"
    extra = (high - low + 1) - sum(1 for port in needed if low <= port <= high)
    if extra > 0:
        return f"tcp {low}-{high}" if low != high else f"tcp {low}"
    return None


def _source(rule: SecurityGroupRule) -> str:
    return (
        rule.cidr_ipv4 or rule.cidr_ipv6 or rule.prefix_list_id or rule.referenced_group_id or "?"
    )


@builtin_rule("VPCE302", requires=("vpc_endpoints", "security_groups"))
def endpoint_sg_all_traffic(ctx: RuleContext) -> CheckResult:
    for scope in ctx.scopes():
        for endpoint in scope.live_endpoints:
            if not endpoint.is_interface:
                continue
            needed = _needed_ports(endpoint.service_name)
            wide: list[str] = []
            groups, missing = _attached_groups(scope, endpoint)
            for group in groups:
                for rule in group.ingress:
                    excess = _excess(rule, needed)
                    if excess:
                        wide.append(f"{group.group_id} allows {excess} from {_source(rule)}")
            if wide:
                need = (
                    "its service's ports"
                    if needed is None
                    else "tcp " + ", ".join(str(p) for p in sorted(needed))
                )
                yield ctx.finding(
                    scope,
                    endpoint.endpoint_id,
                    f"Interface endpoint {endpoint.endpoint_id} to {endpoint.service_name} needs "
                    f"only {need}, but {'; '.join(sorted(set(wide)))}.",
                    related=(endpoint.vpc_id, *endpoint.security_group_ids),
                )
            elif missing:
                yield ctx.skip(scope, endpoint.endpoint_id, _missing_groups(missing))


def _allows_https(rule: SecurityGroupRule) -> bool:
    if rule.all_protocols:
        return True
    if rule.ip_protocol not in {"tcp", "6"}:
        return False
    if rule.from_port is None or rule.to_port is None:
        return True
    return rule.from_port <= 443 <= rule.to_port


def _covers_vpc(
    rule: SecurityGroupRule, scope: ScopeView, vpc_networks: list[Network], vpc_id: str
) -> bool | None:
    """Whether the rule's source covers part of the VPC; None when it cannot be known."""
    if rule.cidr_ipv4 is not None:
        source = parse_network(rule.cidr_ipv4)
        return source is not None and any(overlaps(source, n) for n in vpc_networks)
    if rule.cidr_ipv6 is not None:
        source = parse_network(rule.cidr_ipv6)
        return source is not None and any(overlaps(source, n) for n in vpc_networks)
    if rule.prefix_list_id is not None:
        plist = scope.prefix_lists_by_id.get(rule.prefix_list_id)
        if plist is None or plist.cidrs is None:
            return None
        entries = [parse_network(cidr) for cidr in plist.cidrs]
        return any(e is not None and overlaps(e, n) for e in entries for n in vpc_networks)
    if rule.referenced_group_id is not None:
        group = scope.security_groups_by_id.get(rule.referenced_group_id)
        return None if group is None else group.vpc_id == vpc_id
    return False


@builtin_rule("VPCE303", requires=("vpc_endpoints", "security_groups", "vpcs", "prefix_lists"))
def endpoint_sg_blocks_vpc(ctx: RuleContext) -> CheckResult:
    for scope in ctx.scopes():
        for endpoint in scope.live_endpoints:
            if not endpoint.is_interface or _needed_ports(endpoint.service_name) != HTTPS:
                continue
            vpc = scope.vpcs_by_id.get(endpoint.vpc_id)
            groups, missing = _attached_groups(scope, endpoint)
            if vpc is None or missing or not groups:
                yield ctx.skip(
                    scope,
                    endpoint.endpoint_id,
                    "the endpoint's VPC or security groups are not in the snapshot",
                )
                continue
            networks = [
                n for n in map(parse_network, (*vpc.cidr_blocks, *vpc.ipv6_cidr_blocks)) if n
            ]
            verdicts = [
                _covers_vpc(rule, scope, networks, vpc.vpc_id)
                for group in groups
                for rule in group.ingress
                if _allows_https(rule)
            ]
            if any(verdicts):
                continue
            if None in verdicts:
                yield ctx.skip(
                    scope,
                    endpoint.endpoint_id,
                    "an HTTPS rule refers to a prefix list or security group not in the snapshot",
                )
                continue
            yield ctx.finding(
                scope,
                endpoint.endpoint_id,
                f"Interface endpoint {endpoint.endpoint_id} to {endpoint.service_name}: no rule "
                f"of security group {', '.join(endpoint.security_group_ids)} allows TCP 443 from "
                f"{vpc.vpc_id} ({', '.join(vpc.cidr_blocks)}): the endpoint is unusable from its "
                "own VPC.",
                related=(vpc.vpc_id, *endpoint.security_group_ids),
            )
