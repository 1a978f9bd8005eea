"""2xx: DNS for interface endpoints."""

from __future__ import annotations

from vpce_audit.model import VpcEndpoint, is_privatelink_service
from vpce_audit.rules.base import CheckResult, RuleContext, builtin_rule
from vpce_audit.snapshot.views import ScopeView


@builtin_rule("VPCE201", requires=("vpc_endpoints", "vpcs", "vpc_attributes"))
def private_dns_without_vpc_dns(ctx: RuleContext) -> CheckResult:
    for scope in ctx.scopes():
        for endpoint in scope.live_endpoints:
            if not (endpoint.is_interface and endpoint.private_dns_enabled):
                continue
            vpc = scope.vpcs_by_id.get(endpoint.vpc_id)
            if vpc is None or vpc.enable_dns_support is None or vpc.enable_dns_hostnames is None:
                yield ctx.skip(
                    scope,
                    endpoint.endpoint_id,
                    f"DNS attributes of {endpoint.vpc_id} were not collected",
                    because_of=(endpoint.vpc_id,),
                )
                continue
            disabled = [
                name
                for name, enabled in (
                    ("enableDnsSupport", vpc.enable_dns_support),
                    ("enableDnsHostnames", vpc.enable_dns_hostnames),
                )
                if not enabled
            ]
            if disabled:
                yield ctx.finding(
                    scope,
                    endpoint.endpoint_id,
                    f"Interface endpoint {endpoint.endpoint_id} to {endpoint.service_name} has "
                    f"private DNS enabled, but {endpoint.vpc_id} has {' and '.join(disabled)} "
                    "set to false: the private name does not resolve and clients silently use "
                    "the public endpoint.",
                    related=(endpoint.vpc_id,),
                )


AMAZON_PROVIDED_DNS = "AmazonProvidedDNS"


def _service_dns_names(scope: ScopeView, endpoint: VpcEndpoint) -> tuple[str, ...]:
    """The names clients use for the service; the detail's private DNS names when known."""
    detail = scope.service_detail(endpoint)
    if detail is not None:
        return detail.private_dns_names
    short = endpoint.service_name.split(".", 3)[-1]
    return (f"{short}.{scope.region}.amazonaws.com",)


def _zone_covers(zone_name: str, dns_name: str) -> bool:
    zone = zone_name.rstrip(".").lower()
    name = dns_name.rstrip(".").lower().removeprefix("*.")
    return name == zone or name.endswith("." + zone)


def _is_aws_service(service_name: str) -> bool:
    return service_name.startswith("com.amazonaws.") and not is_privatelink_service(service_name)


@builtin_rule("VPCE202", requires=("vpc_endpoints", "endpoint_service_details", "hosted_zones"))
def interface_endpoint_without_private_dns(ctx: RuleContext) -> CheckResult:
    for scope in ctx.scopes():
        account = ctx.snapshot.accounts_by_id.get(scope.account_id)
        zones = account.hosted_zones if account is not None else ()
        for endpoint in scope.live_endpoints:
            if not endpoint.is_interface or endpoint.private_dns_enabled:
                continue
            if not _is_aws_service(endpoint.service_name):
                continue
            names = _service_dns_names(scope, endpoint)
            if not names:
                continue  # the service has no private DNS name to enable
            covering = [
                zone
                for zone in zones
                if zone.private and any(_zone_covers(zone.name, name) for name in names)
            ]
            associated = [
                zone
                for zone in covering
                if zone.vpcs is not None
                and any(v.vpc_id == endpoint.vpc_id and v.region == scope.region for v in zone.vpcs)
            ]
            if associated:
                continue
            if any(zone.vpcs is None for zone in covering):
                yield ctx.skip(
                    scope,
                    endpoint.endpoint_id,
                    "a private hosted zone covering the service name has unknown VPC associations",
                )
                continue
            yield ctx.finding(
                scope,
                endpoint.endpoint_id,
                f"Interface endpoint {endpoint.endpoint_id} to {endpoint.service_name} in "
                f"{endpoint.vpc_id} has private DNS disabled and no private hosted zone of "
                f"account {scope.account_id} associated with the VPC covers {', '.join(names)}: "
                "clients resolve the public endpoint unless configured with the "
                "endpoint-specific DNS name.",
                related=(endpoint.vpc_id,),
            )


@builtin_rule("VPCE203", requires=("vpc_endpoints", "vpcs", "dhcp_options"))
def dhcp_custom_dns_servers(ctx: RuleContext) -> CheckResult:
    for scope in ctx.scopes():
        for vpc_id, endpoints in sorted(scope.live_endpoints_by_vpc.items()):
            private_dns = [e for e in endpoints if e.is_interface and e.private_dns_enabled]
            vpc = scope.vpcs_by_id.get(vpc_id)
            if not private_dns or vpc is None or vpc.dhcp_options_id in {None, "default"}:
                continue
            options = scope.dhcp_options_by_id.get(vpc.dhcp_options_id or "")
            if options is None:
                yield ctx.skip(
                    scope, vpc_id, f"DHCP options set {vpc.dhcp_options_id} is not in the snapshot"
                )
                continue
            servers = options.domain_name_servers
            if not servers or AMAZON_PROVIDED_DNS in servers:
                continue
            yield ctx.finding(
                scope,
                vpc_id,
                f"{vpc_id} uses DHCP options {options.dhcp_options_id} with DNS servers "
                f"{', '.join(servers)} (not AmazonProvidedDNS) while interface endpoint "
                f"{', '.join(e.endpoint_id for e in private_dns)} relies on private DNS: names "
                "resolve to the endpoint only if those servers forward to the Route 53 Resolver.",
                related=(options.dhcp_options_id, *(e.endpoint_id for e in private_dns)),
            )


@builtin_rule("VPCE204", requires=("vpc_endpoints",))
def duplicate_interface_endpoint(ctx: RuleContext) -> CheckResult:
    for scope in ctx.scopes():
        for vpc_id, endpoints in sorted(scope.live_endpoints_by_vpc.items()):
            by_service: dict[str, list[str]] = {}
            for endpoint in endpoints:
                if endpoint.is_interface:
                    by_service.setdefault(endpoint.service_name, []).append(endpoint.endpoint_id)
            duplicates = {s: ids for s, ids in sorted(by_service.items()) if len(ids) > 1}
            if not duplicates:
                continue
            described = "; ".join(f"{s}: {', '.join(ids)}" for s, ids in duplicates.items())
            yield ctx.finding(
                scope,
                vpc_id,
                f"{vpc_id} has more than one interface endpoint for the same service "
                f"({described}): each costs per hour and per AZ, and private DNS can be enabled "
                "on only one.",
                related=[i for ids in duplicates.values() for i in ids],
            )


@builtin_rule("VPCE205", requires=("peering_connections", "vpc_endpoints"))
def peering_dns_resolution_disabled(ctx: RuleContext) -> CheckResult:
    endpoints_by_vpc = {
        vpc_id: endpoints
        for scope in ctx.scopes()
        for vpc_id, endpoints in scope.live_endpoints_by_vpc.items()
    }
    for scope, connection in ctx.snapshot.peering_connections(ctx.scopes()):
        if not connection.is_active:
            continue
        problems: list[str] = []
        related: list[str] = []
        for side, other in (
            (connection.requester, connection.accepter),
            (connection.accepter, connection.requester),
        ):
            hosted = [
                e.endpoint_id
                for e in endpoints_by_vpc.get(side.vpc_id, ())
                if e.is_interface and e.private_dns_enabled
            ]
            if hosted and side.allow_remote_vpc_dns_resolution is False:
                problems.append(
                    f"{side.vpc_id} hosts interface endpoint {', '.join(hosted)} with private "
                    f"DNS, but DNS resolution from {other.vpc_id} is disabled"
                )
                related += [side.vpc_id, other.vpc_id, *hosted]
        if problems:
            yield ctx.finding(
                scope,
                connection.peering_connection_id,
                f"Peering connection {connection.peering_connection_id}: {'; '.join(problems)}.",
                related=related,
            )
