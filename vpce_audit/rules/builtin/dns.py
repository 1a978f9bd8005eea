"""2xx: DNS for interface endpoints: VPC DNS attributes, private hosted zones (local and
centralised), DHCP options, duplicates.

VPCE205 (peering DNS resolution) is retired: ``AllowDnsResolutionFromRemoteVpc`` only makes
instances' public DNS hostnames resolve to private addresses across a peering and has no effect
on interface-endpoint private DNS (https://docs.aws.amazon.com/vpc/latest/peering/vpc-peering-dns.html).
Centralised endpoint DNS is judged by VPCE207 instead.
"""

from __future__ import annotations

from collections.abc import Iterable

from vpce_audit.analysis.dns import (
    AWS_SERVICE_DOMAINS,
    answering_records,
    canonical_address,
    is_within,
    normalise,
    record_targets,
    zone_may_answer_for_aws_services,
)
from vpce_audit.analysis.endpoint_dns import (
    AMAZON_PROVIDED_DNS,
    CentralDns,
    RecordCheck,
    Resolver,
    amazon_resolver,
    client_names,
    query_name,
    service_dns_names,
)
from vpce_audit.analysis.service_names import default_dns_name, is_aws_service, service_short_name
from vpce_audit.findings import Severity
from vpce_audit.model import HostedZone, VpcEndpoint, is_privatelink_service
from vpce_audit.rules.base import CheckResult, RuleContext, builtin_rule
from vpce_audit.snapshot.views import ScopeView, Snapshot


@builtin_rule("VPCE201", requires=("vpc_endpoints", "vpcs", "vpc_attributes"))
def private_dns_without_vpc_dns(ctx: RuleContext) -> CheckResult:
    for scope in ctx.scopes():
        for endpoint in scope.live_endpoints:
            if endpoint.is_gateway or not endpoint.private_dns_enabled:
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
            if not vpc.enable_dns_support:
                effect = (
                    "enableDnsSupport is false: the VPC's Amazon DNS server does not answer at "
                    "all, so clients that use it cannot resolve any name"
                )
            elif not vpc.enable_dns_hostnames:
                effect = (
                    "enableDnsHostnames is false: private hosted zones, including the endpoint's, "
                    "do not apply, so clients resolve the service's public addresses and bypass "
                    "the endpoint"
                )
            else:
                continue
            yield ctx.finding(
                scope,
                endpoint.endpoint_id,
                f"Interface endpoint {endpoint.endpoint_id} to {endpoint.target} has "
                f"private DNS enabled, but in {endpoint.vpc_id} {effect}.",
                related=(endpoint.vpc_id,),
            )


GATEWAY_SERVICES = frozenset({"s3", "dynamodb"})


def _uses_gateway_endpoint(scope: ScopeView, vpc_id: str, service_name: str) -> bool:
    """Whether a route table of the VPC routes the service's prefix list to a gateway endpoint."""
    gateways = {e.endpoint_id for e in scope.gateway_endpoints(vpc_id, service_name)}
    plist = scope.prefix_lists_by_name.get(service_name)
    return any(
        route.target_id in gateways
        and (plist is None or route.destination_prefix_list_id == plist.prefix_list_id)
        for table in scope.route_tables_with_subnets_by_vpc.get(vpc_id, ())
        for route in table.routes
        if route.is_active and route.destination_prefix_list_id
    )


def _zone_label(zone: HostedZone) -> str:
    return f"{normalise(zone.name)} ({zone.hosted_zone_id})"


@builtin_rule(
    "VPCE202",
    requires=("vpc_endpoints", "endpoint_service_details", "hosted_zones", "route_tables"),
)
def interface_endpoint_without_private_dns(ctx: RuleContext) -> CheckResult:
    central = CentralDns(ctx.snapshot)
    unknown_zones = ctx.snapshot.zones_with_unknown_associations
    for scope in ctx.scopes():
        for endpoint in scope.live_endpoints:
            if not endpoint.is_interface or endpoint.private_dns_enabled:
                continue
            if not is_aws_service(endpoint.service_name):
                continue
            short = service_short_name(endpoint.service_name)
            if short in GATEWAY_SERVICES and _uses_gateway_endpoint(
                scope, endpoint.vpc_id, endpoint.service_name
            ):
                # AWS's hybrid pattern: in-VPC clients use the gateway endpoint, on-premises
                # clients the interface endpoint by its own DNS name.
                continue
            names = service_dns_names(scope, endpoint)
            if not names:
                continue  # the service has no private DNS name to enable
            name = names[0]
            query = normalise(query_name(name))
            if any(is_within(query, normalise(z.name)) for z in unknown_zones):
                yield ctx.skip(
                    scope,
                    endpoint.endpoint_id,
                    "a private hosted zone that may answer for the service has unknown VPC "
                    "associations",
                )
                continue
            answer, checks = central.resolves_to(scope, endpoint.vpc_id, name)
            if answer.unknown is not None:
                yield ctx.skip(scope, endpoint.endpoint_id, answer.unknown)
                continue
            if answer.endpoint is not None:
                continue  # another endpoint for the service answers with private DNS
            vpc = scope.vpcs_by_id.get(endpoint.vpc_id)
            off = " and ".join(vpc.dns_attributes_off) if vpc is not None else ""
            verdict = (
                f"private hosted zones do not apply in {endpoint.vpc_id} ({off} is false)"
                if off
                else _zone_verdict(answer.zone, query, endpoint, checks)
            )
            if verdict is None:
                continue
            if verdict.startswith("?"):
                yield ctx.skip(scope, endpoint.endpoint_id, verdict[1:])
                continue
            if name.startswith("*.") and _names_below_lead_here(central, scope, endpoint, name):
                continue
            yield ctx.finding(
                scope,
                endpoint.endpoint_id,
                f"Interface endpoint {endpoint.endpoint_id} to {endpoint.target} in "
                f"{endpoint.vpc_id} has private DNS disabled and {name} does not resolve to an "
                f"endpoint of the service in the VPC: {verdict}. Clients reach the public service "
                "unless they are configured with the endpoint-specific DNS name.",
                related=(endpoint.vpc_id, *([answer.zone.hosted_zone_id] if answer.zone else [])),
            )


def _names_below_lead_here(
    central: CentralDns, scope: ScopeView, endpoint: VpcEndpoint, wildcard: str
) -> bool:
    """Whether a private zone of the VPC for a name below the service's wildcard domain answers
    with an endpoint of the service: API Gateway's design for private APIs beside public ones,
    private DNS off and "a private hosted zone for each private API in the VPC"
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-private-apis.html).
    The names chosen resolve to the endpoint; the others are meant to be public."""
    domain = normalise(wildcard.removeprefix("*."))
    for zone in central.snapshot.zones_for(scope, endpoint.vpc_id):
        zone_name = normalise(zone.name)
        if zone_name == domain or not is_within(zone_name, domain):
            continue
        answer, checks = central.resolves_to(scope, endpoint.vpc_id, zone_name)
        if (
            answer.unknown is None
            and answer.zone == zone
            and _zone_verdict(zone, zone_name, endpoint, checks) is None
        ):
            return True
    return False


def _zone_verdict(
    zone: HostedZone | None, query: str, endpoint: VpcEndpoint, checks: list[RecordCheck]
) -> str | None:
    """None when the zone covers the name with a record to an endpoint of the service; a reason
    otherwise ('?' first when the snapshot cannot tell)."""
    if zone is None:
        return "no private hosted zone for the name is associated with the VPC"
    records = answering_records(zone, query)
    if records is None:
        return f"?the records of private hosted zone {_zone_label(zone)} were not read"
    if not records:
        return (
            f"private hosted zone {_zone_label(zone)} answers for it but holds no record "
            "(NXDOMAIN; see VPCE206)"
        )
    for check in checks:
        found = check.endpoint
        if found is not None and not found.is_deleted:
            if found.service_name == endpoint.service_name:
                return None
        elif check.unknown is not None:
            return f"?{check.unknown}"
    targets = ", ".join(
        t.endpoint_id or ", ".join(t.addresses) or (t.record.alias_target or "?")
        for t in record_targets(records)
        if t.endpoint_id or t.addresses or t.record.alias_target
    )
    return (
        f"private hosted zone {_zone_label(zone)} answers with {targets}, which is not a live "
        "endpoint of the service"
    )


@builtin_rule("VPCE203", requires=("vpc_endpoints", "vpcs", "dhcp_options", "resolver_endpoints"))
def dhcp_custom_dns_servers(ctx: RuleContext) -> CheckResult:
    for scope in ctx.scopes():
        for vpc_id, endpoints in sorted(scope.live_endpoints_by_vpc.items()):
            private_dns = [e for e in endpoints if not e.is_gateway and e.private_dns_serves_vpc]
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
            amazon = amazon_resolver(scope, vpc)
            if amazon is not None and any(canonical_address(s) in amazon for s in servers):
                continue
            if amazon is None:
                yield ctx.skip(
                    scope,
                    vpc_id,
                    "the addresses of the VPC's inbound Route 53 Resolver endpoints were not read",
                )
                continue
            yield ctx.finding(
                scope,
                vpc_id,
                f"{vpc_id} uses DHCP options {options.dhcp_options_id} with DNS servers "
                f"{', '.join(servers)}, none of which is the Amazon-provided resolver "
                "(AmazonProvidedDNS, the primary block's base + 2, 169.254.169.253, "
                "fd00:ec2::253, or a Route 53 Resolver inbound endpoint in the VPC), while "
                f"interface endpoint {', '.join(e.endpoint_id for e in private_dns)} relies on "
                "private DNS: names resolve to the endpoint only if those servers forward to the "
                "Route 53 Resolver of this VPC.",
                related=(options.dhcp_options_id, *(e.endpoint_id for e in private_dns)),
            )


@builtin_rule("VPCE204", requires=("vpc_endpoints",))
def duplicate_interface_endpoint(ctx: RuleContext) -> CheckResult:
    """Endpoints AWS manages for you are left out (GuardDuty creates its own beside yours).
    Duplicates of PrivateLink services alone are info: consumers of a provider's service often
    run one endpoint per team or policy on purpose, and the provider's private DNS name, when it
    has one, can still be held by only one of them."""
    for scope in ctx.scopes():
        for vpc_id, endpoints in sorted(scope.live_endpoints_by_vpc.items()):
            by_service: dict[str, list[VpcEndpoint]] = {}
            for endpoint in endpoints:
                if endpoint.is_interface and not endpoint.requester_managed:
                    by_service.setdefault(endpoint.service_name, []).append(endpoint)
            duplicates = {s: found for s, found in sorted(by_service.items()) if len(found) > 1}
            if not duplicates:
                continue
            described = "; ".join(
                f"{service}: {', '.join(e.endpoint_id for e in found)} ({_dns_holder(found)})"
                for service, found in duplicates.items()
            )
            only_privatelink = all(is_privatelink_service(name) for name in duplicates)
            yield ctx.finding(
                scope,
                vpc_id,
                f"{vpc_id} has more than one interface endpoint for the same service "
                f"({described}): each costs per hour and per AZ, and only one can hold the "
                "service's private DNS name.",
                related=[e.endpoint_id for found in duplicates.values() for e in found],
                severity=ctx.severity_for(Severity.INFO) if only_privatelink else None,
            )


def _dns_holder(endpoints: Iterable[VpcEndpoint]) -> str:
    holders = [e.endpoint_id for e in endpoints if e.private_dns_enabled]
    if not holders:
        return "none holds private DNS"
    return f"{', '.join(holders)} holds private DNS"


# -- VPCE206: zones that shadow AWS service names ----------------------------------------------


def aws_service_names(scope: ScopeView) -> dict[str, str]:
    """DNS names of the region's AWS services (query form) -> service short name."""
    found: dict[str, str] = {}
    for detail in scope.data.endpoint_service_details:
        if not is_aws_service(detail.service_name):
            continue
        short = service_short_name(detail.service_name)
        default = default_dns_name(detail.service_name)
        for name in (*detail.private_dns_names, *([default] if default else [])):
            found.setdefault(normalise(query_name(normalise(name))), short)
    return found


def _services_used(scope: ScopeView, vpc_id: str) -> dict[str, str]:
    """Names of the services the VPC has endpoints for -> their short names."""
    found: dict[str, str] = {}
    for endpoint in scope.live_endpoints_by_vpc.get(vpc_id, ()):
        if not is_aws_service(endpoint.service_name):
            continue
        short = service_short_name(endpoint.service_name)
        for name in service_dns_names(scope, endpoint):
            found.setdefault(normalise(query_name(name)), short)
    return found


def _shadowed_names(
    resolver: Resolver, scope: ScopeView, vpc_id: str, zone: HostedZone, names: dict[str, str]
) -> tuple[list[tuple[str, str]], str | None]:
    """For the AWS service names under the zone (name -> service): those it answers from the
    VPC with NXDOMAIN, and why that is unknown for some (a Resolver rule or a zone the scan
    cannot see may answer them instead), or None."""
    zone_name = normalise(zone.name)
    shadowed: list[tuple[str, str]] = []
    doubt: str | None = None
    for name, short in names.items():
        if name == zone_name or not is_within(name, zone_name):
            continue
        answer = resolver.answer(scope, vpc_id, name)
        if answer.zone != zone or answering_records(zone, name) != ():
            continue
        if answer.unknown is None:
            shadowed.append((name, short))
        else:
            doubt = doubt or answer.unknown  # not a finding on the zone's word alone
    return sorted(shadowed), doubt


@builtin_rule(
    "VPCE206",
    requires=("vpcs", "vpc_endpoints", "endpoint_service_details", "hosted_zones"),
)
def private_zone_shadows_aws_names(ctx: RuleContext) -> CheckResult:
    resolver = Resolver(ctx.snapshot)
    for scope in ctx.scopes():
        catalogue: dict[str, str] | None = None  # built for the first VPC that needs it
        for vpc in scope.own_vpcs:
            if vpc.dns_attributes_off:
                continue  # no private zone applies there (Resolver.answer): none shadows
            zones = [
                z
                for z in ctx.snapshot.zones_for(scope, vpc.vpc_id)
                if zone_may_answer_for_aws_services(z.name)
            ]
            if not zones:
                continue
            if catalogue is None:
                catalogue = aws_service_names(scope)
            used = _services_used(scope, vpc.vpc_id)
            problems: list[str] = []
            unread: list[str] = []
            doubts: list[str] = []  # why a zone's answers are unknown
            for zone in zones:
                zone_name = normalise(zone.name)
                if zone.records is None:
                    unread.append(_zone_label(zone))
                    continue
                shadowed, doubt = _shadowed_names(
                    resolver, scope, vpc.vpc_id, zone, {**catalogue, **used}
                )
                if not shadowed:
                    if doubt is not None:
                        doubts.append(doubt)
                        continue
                    if zone_name not in parent_domains(scope.region):
                        continue
                    if resolver.zone_ruled(scope, vpc.vpc_id, zone, certain=True):
                        continue  # a forwarding rule for its own domain: it answers nothing
                broken = sorted({short for name, short in shadowed if name in used})
                others = sorted({short for _, short in shadowed} - set(broken))
                parts = []
                if broken:
                    parts.append(f"services with endpoints in the VPC: {', '.join(broken)}")
                if others:
                    shown = ", ".join(others[:8])
                    more = f" and {len(others) - 8} more" if len(others) > 8 else ""
                    parts.append(f"other AWS services: {shown}{more}")
                problems.append(
                    f"zone {_zone_label(zone)} answers NXDOMAIN for every AWS service name under "
                    f"{zone_name} it holds no record for"
                    + (f" ({'; '.join(parts)})" if parts else "")
                )
            if problems:
                yield ctx.finding(
                    scope,
                    vpc.vpc_id,
                    f"Private hosted zones associated with {vpc.vpc_id} shadow AWS service names: "
                    f"{'; '.join(problems)}. Route 53 answers from the most specific private zone "
                    "and does not fall back to public DNS.",
                    related=[z.hosted_zone_id for z in zones],
                )
            elif unread:
                yield ctx.skip(
                    scope,
                    vpc.vpc_id,
                    f"the records of private hosted zone {', '.join(unread)} were not read",
                )
            elif doubts:
                yield ctx.skip(
                    scope,
                    vpc.vpc_id,
                    f"whether its private hosted zones answer the AWS service names under them "
                    f"is unknown: {doubts[0]}",
                )


def parent_domains(region: str) -> frozenset[str]:
    """Zone names that are parents of AWS service names whatever the catalogue lists."""
    found = {"com", "cn", "aws", *AWS_SERVICE_DOMAINS}
    found.update(f"{region}.{domain}" for domain in AWS_SERVICE_DOMAINS)
    return frozenset(found)


# -- VPCE207: centralised endpoint DNS ---------------------------------------------------------


@builtin_rule(
    "VPCE207",
    requires=(
        "vpcs",
        "subnets",
        "route_tables",
        "vpc_endpoints",
        "security_groups",
        "prefix_lists",
        "hosted_zones",
        "peering_connections",
        "transit_gateway_attachments",
        "transit_gateway_route_tables",
        "transit_gateway_routes",
    ),
)
def centralised_endpoint_dns_broken(ctx: RuleContext) -> CheckResult:
    central = CentralDns(ctx.snapshot)
    for scope in ctx.scopes():
        for vpc in scope.own_vpcs:
            problems: list[str] = []
            unknown: list[str] = []
            related: set[str] = set()
            for zone in ctx.snapshot.zones_for(scope, vpc.vpc_id):
                if not _is_service_zone(zone):
                    continue
                if zone.records is None:
                    unknown.append(f"the records of zone {_zone_label(zone)} were not read")
                    continue
                ruled = central.resolver.zone_ruled(scope, vpc.vpc_id, zone)
                if ruled is not None:
                    # Its records are what clients get only if no Resolver rule takes its names.
                    unknown.append(f"zone {_zone_label(zone)}: {ruled}")
                    continue
                served: dict[str, VpcEndpoint] = {}
                for target in record_targets(
                    zone.records, ctx.snapshot.endpoint_by_address(scope.region)
                ):
                    if target.endpoint_id is None and not target.addresses:
                        continue
                    check = central.check_target(scope, vpc.vpc_id, zone, target)
                    if check.endpoint is not None:
                        served[check.endpoint.service_name] = check.endpoint
                    problem = check.problem or _wrong_service(ctx.snapshot, check)
                    if problem:
                        problems.append(
                            f"{target.record.name} in zone {_zone_label(zone)} {problem}"
                        )
                        related.add(zone.hosted_zone_id)
                        related.update([target.endpoint_id] if target.endpoint_id else [])
                    elif check.unknown:
                        unknown.append(f"{target.record.name}: {check.unknown}")
                for name in _unanswered_names(ctx.snapshot, zone, served.values()):
                    problems.append(
                        f"zone {_zone_label(zone)} holds no record for {name}: clients asking "
                        "for it get NXDOMAIN"
                    )
                    related.add(zone.hosted_zone_id)
            if problems:
                yield ctx.finding(
                    scope,
                    vpc.vpc_id,
                    f"Centralised endpoint DNS is broken for {vpc.vpc_id}: "
                    f"{'; '.join(sorted(set(problems)))}. Clients in the VPC resolve the "
                    "service's name to an endpoint they cannot use (or, where some of its "
                    "interfaces work, fail on the connections made to the others).",
                    related=sorted(related),
                )
            elif unknown:
                yield ctx.skip(scope, vpc.vpc_id, "; ".join(sorted(set(unknown))))


def _unanswered_names(
    snapshot: Snapshot, zone: HostedZone, endpoints: Iterable[VpcEndpoint]
) -> list[str]:
    """Names of the services the zone's records point at that lie in the zone but that it holds
    no record for (``*.s3.<region>.amazonaws.com`` in a zone with only the apex record): the
    zone answers NXDOMAIN for them, with no fallback to public DNS."""
    zone_name = normalise(zone.name)
    found: set[str] = set()
    for endpoint in endpoints:
        hub_scope, _ = snapshot.endpoints_by_id[endpoint.endpoint_id]
        names = {
            *service_dns_names(hub_scope, endpoint),
            *client_names(hub_scope, service_short_name(endpoint.service_name)),
        }
        for name in names:
            base = normalise(name).removeprefix("*.")
            if (
                is_within(base, zone_name)
                and answering_records(zone, normalise(query_name(name))) == ()
            ):
                found.add(name)
    return sorted(found)


def _is_service_zone(zone: HostedZone) -> bool:
    """A zone named after an AWS service's DNS name (or inside one): the centralised pattern."""
    name = normalise(zone.name)
    return any(is_within(name, domain) and name != domain for domain in AWS_SERVICE_DOMAINS)


def _wrong_service(snapshot: Snapshot, check: RecordCheck) -> str | None:
    """A record whose endpoint serves another service than the name it answers for."""
    endpoint = check.endpoint
    if endpoint is None or check.unknown is not None:
        return None
    hub_scope, _ = snapshot.endpoints_by_id[endpoint.endpoint_id]
    names = [normalise(n).removeprefix("*.") for n in service_dns_names(hub_scope, endpoint)]
    record = check.record_name.removeprefix("*.")
    if not names or any(is_within(record, n) or is_within(n, record) for n in names):
        return None
    return f"points at {endpoint.endpoint_id}, an endpoint for {endpoint.target}"
