"""How a VPC resolves AWS service names, and whether centralised endpoint DNS works.

The centralised pattern (https://docs.aws.amazon.com/whitepapers/latest/building-scalable-secure-multi-vpc-network-infrastructure/centralized-access-to-vpc-private-endpoints.html):
interface endpoints with private DNS disabled in a hub VPC; per service, a private hosted zone
named after the service's DNS name with an alias record to the endpoint's regional DNS name,
associated with the spoke VPCs. A spoke then needs a route to the hub and the endpoint's security
groups must admit the spoke's blocks on the service's ports.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from vpce_audit.analysis.cidrs import Network, contains, parse_network, parse_networks
from vpce_audit.analysis.dns import (
    RecordTarget,
    amazon_resolver_addresses,
    answering_records,
    canonical_address,
    is_within,
    normalise,
    record_targets,
)
from vpce_audit.analysis.security_groups import (
    Admission,
    admission,
    attached_groups,
    endpoint_ports,
)
from vpce_audit.analysis.service_names import default_dns_name
from vpce_audit.analysis.topology import Topology
from vpce_audit.cached import cached_property
from vpce_audit.data import ServicePorts
from vpce_audit.model import (
    AUTODEFINED_RULE_PREFIX,
    HostedZone,
    ResolverEndpoint,
    ResolverRule,
    Vpc,
    VpcEndpoint,
)
from vpce_audit.snapshot.views import ScopeView, Snapshot


def service_dns_names(scope: ScopeView, endpoint: VpcEndpoint) -> tuple[str, ...]:
    """The names clients use for the endpoint's service (``*.`` kept for wildcard names): the
    service's private DNS names when the snapshot lists the service (none for a service without
    private DNS), else the usual ``<service>.<region>.amazonaws.com`` (``iam.amazonaws.com`` for a
    global service)."""
    detail = scope.service_detail(endpoint)
    if detail is not None:
        return tuple(normalise(name) for name in detail.private_dns_names)
    default = default_dns_name(endpoint.service_name)
    return (default,) if default else ()


AMAZON_PROVIDED_DNS = "AmazonProvidedDNS"


def amazon_resolver(scope: ScopeView, vpc: Vpc) -> frozenset[str] | None:
    """Addresses that are the Amazon resolver for the VPC; None when the VPC's inbound resolver
    endpoints' addresses could not be read."""
    found = set(amazon_resolver_addresses(vpc))
    for resolver in scope.resolver_endpoints_by_vpc.get(vpc.vpc_id, ()):
        if resolver.direction.upper() != "INBOUND":
            continue
        if resolver.ip_addresses is None:
            return None
        found.update(canonical_address(address) for address in resolver.ip_addresses)
    return frozenset(found)


class VpcDns(enum.Enum):
    """Who answers the VPC's DNS queries."""

    AMAZON = "amazon"
    """The Route 53 Resolver: private hosted zones and endpoints' private DNS apply."""
    DISABLED = "disabled"
    """enableDnsSupport or enableDnsHostnames is off: private hosted zones do not apply
    (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/hosted-zone-private-considerations.html),
    so service names resolve to their public addresses."""
    CUSTOM = "custom"
    """DHCP options name other DNS servers: whether they forward to the Route 53 Resolver, and
    so whether private zones apply, is not known."""
    UNKNOWN = "unknown"


def vpc_dns(scope: ScopeView, vpc_id: str) -> VpcDns:
    vpc = scope.vpcs_by_id.get(vpc_id)
    if vpc is None:
        return VpcDns.UNKNOWN
    if vpc.enable_dns_support is False or vpc.enable_dns_hostnames is False:
        return VpcDns.DISABLED
    if vpc.enable_dns_support is None or vpc.enable_dns_hostnames is None:
        return VpcDns.UNKNOWN
    if vpc.dhcp_options_id in {None, "default"}:
        return VpcDns.AMAZON
    options = scope.dhcp_options_by_id.get(vpc.dhcp_options_id or "")
    if options is None:
        return VpcDns.UNKNOWN
    servers = options.domain_name_servers
    if not servers or AMAZON_PROVIDED_DNS in servers:
        return VpcDns.AMAZON
    amazon = amazon_resolver(scope, vpc)
    if amazon is None:
        return VpcDns.UNKNOWN
    if any(canonical_address(server) in amazon for server in servers):
        return VpcDns.AMAZON
    return VpcDns.CUSTOM


# The names through which clients reach a gateway service's data plane: S3 path-style and
# virtual-hosted-style names, DynamoDB's regional name and the account-based endpoints AWS SDKs
# use by default (https://docs.aws.amazon.com/sdkref/latest/guide/feature-account-endpoints.html).
_DATA_PLANE_NAMES = {
    "s3": ("s3.{region}.amazonaws.com", "*.s3.{region}.amazonaws.com"),
    "dynamodb": ("dynamodb.{region}.amazonaws.com", "*.ddb.{region}.amazonaws.com"),
}


def client_names(scope: ScopeView, short_service: str) -> tuple[str, ...]:
    """The DNS names clients of the region's service use: S3's and DynamoDB's data-plane names,
    else the private DNS names of the service's interface endpoint (``*.dkr.ecr...`` for
    ecr.dkr), else ``<service>.<region>.amazonaws.com``."""
    if short_service in _DATA_PLANE_NAMES:
        return tuple(n.format(region=scope.region) for n in _DATA_PLANE_NAMES[short_service])
    service_name = scope.service_name(short_service)
    for detail in scope.service_details_by_name.get(service_name, ()):
        if "Interface" in detail.service_types and detail.private_dns_names:
            return tuple(normalise(name) for name in detail.private_dns_names)
    default = default_dns_name(service_name)
    return (default,) if default else ()


class NameFate(enum.Enum):
    PUBLIC = "public"
    """Resolves to the service's public addresses (and leaves by the route tables)."""
    CENTRAL = "central"
    """Resolves to a healthy interface endpoint through a private zone."""
    BROKEN = "broken"
    """A private zone answers, but with NXDOMAIN or no record that names an endpoint."""
    UNUSABLE = "unusable"
    """A private zone answers with an endpoint's records that the VPC cannot use (VPCE207's
    finding): the calls fail at the endpoint."""
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ServiceResolution:
    """What each client name of a service resolves to in a VPC."""

    fates: tuple[tuple[str, NameFate], ...]

    def _all(self, fate: NameFate) -> bool | None:
        values = {f for _, f in self.fates}
        if values == {fate}:
            return True
        if NameFate.UNKNOWN in values:
            return None
        return False

    # Cached: one resolution answers every alike VPC (CentralDns.resolution), and each asks.
    @cached_property
    def central(self) -> bool | None:
        """Every name resolves to a healthy central endpoint; None when that cannot be told."""
        return self._all(NameFate.CENTRAL) if self.fates else False

    @cached_property
    def answered_by_central_zones(self) -> bool | None:
        """Every name resolves to a central endpoint's records, healthy or not (a broken one is
        VPCE207's finding: the calls fail there, they do not leave by the VPC's routes); None
        when that cannot be told."""
        values = {f for _, f in self.fates}
        if not values:
            return False
        if values <= {NameFate.CENTRAL, NameFate.UNUSABLE}:
            return True
        return None if NameFate.UNKNOWN in values else False

    @cached_property
    def leaves_publicly(self) -> bool | None:
        """Some name resolves to public addresses (its traffic follows the route tables)."""
        values = {f for _, f in self.fates}
        if NameFate.PUBLIC in values:
            return True
        return None if NameFate.UNKNOWN in values else False


def undecided_resolution(vpc_id: str, names: str) -> str:
    """Why a rule cannot say whether the VPC resolves ``names`` to a central endpoint."""
    return (
        f"whether {vpc_id} resolves {names} to a central interface endpoint is unknown: a "
        "private hosted zone that answers for them, its records or the endpoint they point at "
        "could not be read, the VPC's DNS servers are not the Amazon resolver, a Route 53 "
        "Resolver rule forwards them (or the rules associated with the VPC are unknown), or its "
        "path to the endpoint passes a hop this scan does not follow (an inspection or "
        "appliance hop, a transit gateway not scanned)"
    )


def query_name(name: str) -> str:
    """A name a client asks for: ``*.s3.eu-west-1.amazonaws.com`` -> a name under it."""
    return "bucket-name." + name[2:] if name.startswith("*.") else name


@dataclass(frozen=True)
class Answer:
    """Who answers a name in a VPC."""

    zone: HostedZone | None = None
    """The private hosted zone that answers (most specific), if one does."""
    endpoint: VpcEndpoint | None = None
    """The interface endpoint whose private DNS answers, if its name is the most specific."""
    unknown: str | None = None
    """Set when the snapshot cannot tell who answers: the zones associated with the VPC could
    not all be listed, a Resolver rule forwards the name to DNS servers the scan does not see
    (then ``zone`` and ``endpoint`` are None), or the VPC's Resolver rules are unknown (then
    they say who answers unless a rule does)."""
    via: str | None = None
    """The VPC whose Route 53 Resolver answered, where a FORWARD rule sent the name to that
    VPC's inbound Resolver endpoint: ``zone`` and ``endpoint`` are that VPC's, and the client
    connects to what they give from its own VPC."""


SERVING_RESOLVER_STATES = frozenset({"OPERATIONAL", "UPDATING"})
"""States of a Resolver endpoint in which it answers queries (ResolverEndpoint ``Status``): one
being created, recovering, needing action or being deleted may not."""

RESOLVER_ANSWERS = frozenset({"SYSTEM", "RECURSIVE"})
"""Resolver rule types under which the Resolver answers a name itself (its private zones, then
public DNS): a SYSTEM rule, and the autodefined RECURSIVE rule for "." that AWS shares as the
Internet Resolver. Every other type takes the name elsewhere, or is not judged."""


class Resolver:
    """Answers "who resolves this name in that VPC" over one snapshot."""

    def __init__(self, snapshot: Snapshot, topology: Topology | None = None) -> None:
        self.snapshot = snapshot
        self.topology = topology or Topology(snapshot)
        # Rules ask about many names per VPC (VPCE206 about every AWS service name).
        self._private_dns_names: dict[tuple[str, str, str, bool], dict[str, VpcEndpoint]] = {}

    def private_dns_names(
        self, scope: ScopeView, vpc_id: str, *, inbound: bool = False
    ) -> dict[str, VpcEndpoint]:
        """Names the VPC's own interface endpoints answer through private DNS, as the scope
        sees them (a shared VPC's endpoints are its owner's: a participant's scope lists none).
        ``inbound``: for queries that arrive through an inbound Resolver endpoint, which an
        endpoint with private DNS only for inbound Resolver endpoints answers too."""
        key = (scope.account_id, scope.region, vpc_id, inbound)
        if key not in self._private_dns_names:
            found: dict[str, VpcEndpoint] = {}
            for endpoint in scope.live_endpoints_by_vpc.get(vpc_id, ()):
                serves = (
                    endpoint.private_dns_enabled if inbound else endpoint.private_dns_serves_vpc
                )
                if endpoint.is_interface and serves:
                    for name in service_dns_names(scope, endpoint):
                        found.setdefault(name.removeprefix("*."), endpoint)
            self._private_dns_names[key] = found
        return self._private_dns_names[key]

    @cached_property
    def _inbound_endpoints(
        self,
    ) -> tuple[
        dict[tuple[str, str], list[tuple[ScopeView, ResolverEndpoint]]],
        dict[str, list[Sequence[Network] | None]],
    ]:
        """Inbound Resolver endpoints by (region, address), where a FORWARD rule's target may
        be one of the organisation's own; and, per region, where an inbound endpoint whose
        addresses are unknown may hold one too: the blocks of its VPC (its addresses are its
        subnets'), or None for anywhere (its VPC unknown, or an account's endpoints not
        listed there)."""
        found: dict[tuple[str, str], list[tuple[ScopeView, ResolverEndpoint]]] = {}
        unknown: dict[str, list[Sequence[Network] | None]] = {}
        for scope in self.snapshot.scopes:
            if "resolver_endpoints" in scope.failed_kinds:
                unknown.setdefault(scope.region, []).append(None)
            for endpoint in scope.data.resolver_endpoints:
                if endpoint.direction.upper() != "INBOUND":
                    continue
                if endpoint.ip_addresses is None:
                    vpc = scope.vpcs_by_id.get(endpoint.vpc_id)
                    blocks = None if vpc is None else parse_networks(vpc.cidr_blocks)
                    unknown.setdefault(scope.region, []).append(blocks)
                for address in endpoint.ip_addresses or ():
                    key = (scope.region, canonical_address(address))
                    found.setdefault(key, []).append((scope, endpoint))
        return found, unknown

    def answer(
        self,
        scope: ScopeView,
        vpc_id: str,
        name: str,
        *,
        inbound: bool = False,
        asked: frozenset[str] = frozenset(),
    ) -> Answer:
        """Who answers ``name`` in the VPC. ``inbound``: the query arrived through one of the
        VPC's inbound Resolver endpoints; ``asked``: the VPCs whose rules forwarded it there.

        Private hosted zones and endpoints' private DNS answer only where both of the VPC's DNS
        attributes are on
        (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/hosted-zone-private-considerations.html);
        with one of them off they answer nothing there, whatever is associated. Attributes not
        read leave the answer as if both were on: callers that depend on them ask ``vpc_dns``."""
        name = normalise(name)
        vpc = scope.vpcs_by_id.get(vpc_id)
        if vpc is not None and vpc.dns_attributes_off:
            return self._without_private_names(scope, vpc, name, asked)
        best_zone: HostedZone | None = None
        best_length = -1
        for zone in self.snapshot.zones_for(scope, vpc_id):
            zone_name = normalise(zone.name)
            if is_within(name, zone_name) and len(zone_name) > best_length:
                best_zone, best_length = zone, len(zone_name)
        private: VpcEndpoint | None = None
        for domain, endpoint in self.private_dns_names(scope, vpc_id, inbound=inbound).items():
            # The endpoint's AWS-managed zone is at least as specific as a customer zone of the
            # same name (AWS refuses to create both: ConflictingDomainExists).
            if is_within(name, domain) and len(domain) >= best_length:
                private, best_length = endpoint, len(domain)
                break
        ruled = self._ruled(scope, vpc_id, name, best_length)
        if ruled is not None:
            reason, forwarding = ruled
            if forwarding is not None:
                # No zone of the VPC's answers it: the DNS servers the rule names do, unless a
                # zone not listed, more specific than the rule's domain, takes the name.
                if not self.snapshot.zone_list_known(scope, vpc_id) and len(
                    normalise(forwarding.domain_name or "")
                ) < len(name):
                    return Answer(
                        unknown=f"{_zones_unknown(vpc_id)}: one more specific than Resolver rule "
                        f"{forwarding.rule_id} ({forwarding.domain_name}) would take the name "
                        "from it"
                    )
                through = self._through_inbound(scope, vpc_id, name, forwarding, asked)
                return through or Answer(unknown=reason)
            # What answers unless a rule does: rules that judge on it see the doubt.
            return Answer(zone=None if private else best_zone, endpoint=private, unknown=reason)
        if private is not None:
            return Answer(endpoint=private)
        if not self.snapshot.zone_list_known(scope, vpc_id):
            return Answer(zone=best_zone, unknown=_zones_unknown(vpc_id))
        return Answer(zone=best_zone)

    def _without_private_names(
        self, scope: ScopeView, vpc: Vpc, name: str, asked: frozenset[str]
    ) -> Answer:
        """The answer in a VPC with a DNS attribute off: without DNS support it has no Route 53
        Resolver (its DHCP options' servers answer, as for any public name); with DNS support
        but hostnames off, the Resolver's forwarding rules still govern the names they hold,
        and nothing private answers the rest."""
        if vpc.enable_dns_support is False:
            return Answer()
        ruled = self._ruled(scope, vpc.vpc_id, name, -1)
        if ruled is None:
            return Answer()
        reason, forwarding = ruled
        if forwarding is None:
            return Answer(unknown=reason)
        through = self._through_inbound(scope, vpc.vpc_id, name, forwarding, asked)
        return through or Answer(unknown=reason)

    def forwards_inbound(self, rule: ResolverRule, region: str) -> bool:
        """Whether a FORWARD rule sends names to an inbound Resolver endpoint the scan read."""
        return rule.rule_type == "FORWARD" and any(
            (region, _target_address(target)[0]) in self._inbound_endpoints[0]
            for target in rule.target_ips
        )

    def _through_inbound(
        self,
        scope: ScopeView,
        vpc_id: str,
        name: str,
        rule: ResolverRule,
        asked: frozenset[str],
    ) -> Answer | None:
        """The answer where a FORWARD rule sends the name to an inbound Resolver endpoint the
        scan read: the Resolver of that endpoint's VPC answers it as for a client there (its
        private hosted zones, its endpoints' private DNS, its own rules), the centralised-DNS
        design of AWS's hybrid guidance
        (https://docs.aws.amazon.com/whitepapers/latest/hybrid-cloud-dns-options-for-vpc/route-53-resolver-endpoints-and-forwarding-rules.html).
        None where the targets are not all addresses of one inbound endpoint in the region, on
        their protocol's port (53 for Do53, 443 for DNS over HTTPS), or where one may be another
        DNS server's (an endpoint not scanned, an address several VPCs hold or an endpoint whose
        addresses were not read may hold): then what answers is not seen. The endpoint must be
        serving, take the targets' protocols (an inbound endpoint may take DNS over HTTPS
        alone), and its VPC's DNS attributes be on for its private zones and endpoints to
        answer. Whether the rule's outbound endpoint reaches those addresses, and takes the
        protocol, is not judged."""
        by_address, unread = self._inbound_endpoints
        holders: set[tuple[str, str, str]] = set()
        found: tuple[ScopeView, ResolverEndpoint] | None = None
        protocols = _target_protocols(rule)
        for target, protocol in zip(rule.target_ips, protocols, strict=True):
            address, port = _target_address(target)
            held = by_address.get((scope.region, address))
            if (
                DNS_PORTS.get(protocol) != port
                or not held
                or _may_hold(unread.get(scope.region, ()), address)
            ):
                return None
            for hub_scope, endpoint in held:
                holders.add((hub_scope.account_id, endpoint.vpc_id, endpoint.resolver_endpoint_id))
                found = (hub_scope, endpoint)
        if found is None or len(holders) != 1:
            return None
        hub_scope, endpoint = found
        forwarded = (
            f"Resolver rule {rule.rule_id} ({rule.domain_name}) forwards the name from {vpc_id} "
            f"to inbound Resolver endpoint {endpoint.resolver_endpoint_id} in {endpoint.vpc_id}"
        )
        if endpoint.status.upper() not in SERVING_RESOLVER_STATES:
            return Answer(unknown=f"{forwarded}, which is {endpoint.status}: it may not answer")
        if endpoint.protocols is not None:
            taken = set(endpoint.protocols) or {DO53}  # none listed: Do53, as AWS treats it
            refused = sorted(set(protocols) - taken)
            if refused:
                # A rule's DoH reaching an endpoint of DoH-FIPS alone: whether it answers is
                # not documented (a rule's target protocol must be its outbound endpoint's,
                # which cannot be DoH-FIPS).
                may = "may " if refused == ["DoH"] and "DoH-FIPS" in taken else ""
                return Answer(
                    unknown=f"{forwarded}, which takes {', '.join(sorted(taken))} only: the "
                    f"rule's {', '.join(refused)} queries {may}get no answer there"
                )
        if endpoint.vpc_id == vpc_id or endpoint.vpc_id in asked:
            return Answer(unknown=f"{forwarded}, whose rules forward it back: a loop")
        hub = hub_scope.vpcs_by_id.get(endpoint.vpc_id)
        attributes = (
            (None, None) if hub is None else (hub.enable_dns_support, hub.enable_dns_hostnames)
        )
        if False in attributes:
            # Private zones and endpoints' private DNS need both attributes on in the VPC whose
            # Resolver answers (one off settles it); its rules still apply.
            doubt = self.rule_doubt(hub_scope, endpoint.vpc_id, name)
            if doubt is not None:
                return Answer(unknown=f"{forwarded}, where {doubt}")
            return Answer(via=endpoint.vpc_id)
        if None in attributes:
            return Answer(unknown=f"{forwarded}, whose DNS attributes were not read")
        answer = self.answer(hub_scope, endpoint.vpc_id, name, inbound=True, asked=asked | {vpc_id})
        unknown = f"{forwarded}, where {answer.unknown}" if answer.unknown else None
        # Forwarded on again, the answer is the last VPC's.
        return replace(answer, via=answer.via or endpoint.vpc_id, unknown=unknown)

    def rule_doubt(self, scope: ScopeView, vpc_id: str, name: str) -> str | None:
        """Why a Resolver rule takes, or may take, the name where no private zone applies (a
        VPC with enableDnsHostnames off still follows its forwarding rules), or None."""
        ruled = self._ruled(scope, vpc_id, normalise(name), -1)
        return None if ruled is None else ruled[0]

    def zone_ruled(
        self, scope: ScopeView, vpc_id: str, zone: HostedZone, *, certain: bool = False
    ) -> str | None:
        """Why a Resolver rule takes, or may take, the zone's own names from it in the VPC (the
        rules unknown, or a FORWARD rule at least as specific), or None. ``certain``: only where
        a FORWARD rule does take them."""
        zone_name = normalise(zone.name)
        ruled = self._ruled(scope, vpc_id, zone_name, len(zone_name))
        if ruled is None or (certain and ruled[1] is None):
            return None
        return ruled[0]

    def _ruled(
        self, scope: ScopeView, vpc_id: str, name: str, private_length: int
    ) -> tuple[str, ResolverRule | None] | None:
        """Whether a Route 53 Resolver rule takes the name from the VPC's zones: (why, the rule)
        when a FORWARD rule does, (why, None) when that is unknown, None when none does. The most
        specific rule whose domain holds the name governs, and it wins over a private zone (or
        an endpoint's private DNS) unless that zone is more specific; a FORWARD rule sends the
        query to DNS servers the snapshot does not see, a SYSTEM or RECURSIVE rule lets the
        Resolver answer. ``private_length``: the length of the most specific private domain that
        holds the name (-1: none)."""
        unknown = self.snapshot.resolver_rules_unknown(scope, vpc_id)
        if unknown is not None:
            return (
                f"the Route 53 Resolver rules associated with {vpc_id} are unknown: {unknown}",
                None,
            )
        by_domain = self.snapshot.resolver_rules_by_domain(vpc_id)
        unlisted = by_domain.get(None)
        if unlisted:
            return (
                f"Resolver rule {unlisted[0].rule_id} is associated with {vpc_id}, but "
                "ListResolverRules did not list it: its domain is unknown",
                None,
            )
        governing, domain = _governing_rules(by_domain, name)
        if not governing or all(rule.rule_type in RESOLVER_ANSWERS for rule in governing):
            return None
        if len(domain) < private_length:
            return None  # a more specific private zone answers, whatever the rules say
        if len({rule.rule_type for rule in governing}) > 1:
            # One domain, rules of different kinds (an association AWS marks OVERRIDDEN beside
            # another): which one applies is not documented.
            ids = _listed([rule.rule_id for rule in governing])
            return (
                f"Resolver rules {ids} of different types are associated with {vpc_id} for "
                f"{governing[0].domain_name}: which one applies is unknown",
                None,
            )
        ruling = min(governing, key=lambda rule: rule.rule_id)
        if ruling.rule_type != "FORWARD":
            # DELEGATE (queries delegated to the domain go to your resolvers), or a type AWS
            # adds later: what it does with the name is not judged.
            return (
                f"Resolver rule {ruling.rule_id} ({ruling.domain_name}) of type "
                f"{ruling.rule_type} governs the name in {vpc_id}, and what it does with it is "
                "not judged",
                None,
            )
        targets = ", ".join(ruling.target_ips) or "its outbound endpoint's targets"
        return (
            f"Resolver rule {ruling.rule_id} ({ruling.domain_name}) forwards the name from "
            f"{vpc_id} to {targets}, whose answers the scan does not see",
            ruling,
        )


SHOWN_RULE_IDS = 5


def _zones_unknown(vpc_id: str) -> str:
    return (
        f"the private hosted zones that answer in {vpc_id} are not all known "
        "(ListHostedZonesByVPC failed, or a Route 53 Profile associated with it carries "
        "resources the scan cannot place)"
    )


def _may_hold(unread: Sequence[Sequence[Network] | None], address: str) -> bool:
    """Whether an inbound endpoint whose addresses are unknown may hold ``address``: one of a
    VPC whose blocks hold it, or of anywhere (None)."""
    parsed = parse_network(address)
    return any(
        blocks is None or (parsed is not None and any(contains(b, parsed) for b in blocks))
        for blocks in unread
    )


DO53 = "Do53"
DNS_PORTS = {DO53: "53", "DoH": "443", "DoH-FIPS": "443"}
"""Where an inbound Resolver endpoint takes each protocol: DNS over HTTPS on 443
(https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resolver-forwarding-inbound-queries-values.html)."""


def _target_protocols(rule: ResolverRule) -> tuple[str, ...]:
    """The protocol of each of the rule's targets: Do53 where AWS gave none, as it treats it
    (https://docs.aws.amazon.com/Route53/latest/APIReference/API_route53resolver_TargetAddress.html),
    and where a snapshot before schema 8 did not record them."""
    recorded = rule.target_protocols
    if recorded is None:
        return (DO53,) * len(rule.target_ips)
    return tuple(protocol or DO53 for protocol in recorded)


def _target_address(target: str) -> tuple[str, str]:
    """A FORWARD rule's target ("10.0.0.2:53", "[fd00::2]:53") as (canonical address, port)."""
    address, _, port = target.rpartition(":")
    return canonical_address(address.strip("[]")), port


def _governing_rules(
    by_domain: dict[str | None, tuple[ResolverRule, ...]], name: str
) -> tuple[tuple[ResolverRule, ...], str]:
    """The rules of the most specific domain that holds ``name`` (walking its suffixes up to the
    root ""), with that domain; a rule you made ranks above an autodefined one of its domain."""
    labels = name.split(".") if name else []
    for start in range(len(labels) + 1):
        domain = ".".join(labels[start:])
        found = by_domain.get(domain)
        if found:
            custom = tuple(r for r in found if not r.rule_id.startswith(AUTODEFINED_RULE_PREFIX))
            return custom or found, domain
    return (), ""


def _listed(ids: list[str]) -> str:
    shown = ", ".join(ids[:SHOWN_RULE_IDS])
    more = len(ids) - SHOWN_RULE_IDS
    return shown + (f" and {more} more" if more > 0 else "")


@dataclass(frozen=True)
class RecordCheck:
    """One record of a zone that points at an interface endpoint, and what is wrong with it."""

    zone: HostedZone | None
    """None for the private DNS of an endpoint in another VPC, whose Resolver answered the name
    through its inbound endpoint (``Answer.via``)."""
    record_name: str
    endpoint_id: str | None
    endpoint: VpcEndpoint | None = None
    problem: str | None = None
    unknown: str | None = None
    """Set when the snapshot cannot tell whether the record works."""

    @property
    def healthy(self) -> bool:
        return self.endpoint is not None and self.problem is None and self.unknown is None


ZONAL_LABEL = re.compile(
    r"^vpce-[0-9a-f]+-[0-9a-z]+-(?P<zone>[a-z]{2}(?:-[a-z]+)+-[0-9]+[a-z](?:-[a-z]+-[0-9]+[a-z])?)$"
)
"""The first label of an endpoint's zonal DNS name, which ends with the Availability Zone's name
(``vpce-0a1b...-4f2a9c1e-eu-west-1a``; a Local Zone's, ``...-us-west-2-lax-1a``)."""


def _answering_subnets(
    snapshot: Snapshot, target: RecordTarget, endpoint: VpcEndpoint, hub_scope: ScopeView
) -> tuple[str, ...] | None:
    """The subnets of the endpoint's interfaces that ``target``'s name gives: an A record's
    addresses, a zonal DNS name's zone, or every subnet of the endpoint for its regional name
    (zonal names "include the VPC endpoint ID, the Availability Zone name and Region Name":
    https://docs.aws.amazon.com/vpc/latest/userguide/verify-domains.html). Every subnet when an
    address or a subnet is not known; None for a zonal name of a zone where the endpoint has no
    interface (the name answers nothing)."""
    everywhere = tuple(endpoint.subnet_ids)
    if target.addresses:
        found = {
            snapshot.interface_subnet(canonical_address(address), endpoint.endpoint_id)
            for address in target.addresses
        }
        if None in found:
            return everywhere
        return tuple(sorted(s for s in found if s is not None))
    name = target.record.alias_target or (target.record.values[0] if target.record.values else "")
    label = normalise(name).removeprefix("*.").split(".", 1)[0]
    zonal = ZONAL_LABEL.match(label)
    if zonal is None:
        return everywhere
    subnets = [hub_scope.subnets_by_id.get(subnet_id) for subnet_id in everywhere]
    if any(subnet is None for subnet in subnets):
        return everywhere
    inside = tuple(s.subnet_id for s in subnets if s and s.availability_zone == zonal["zone"])
    return inside or None


HUB_KINDS = ("subnets", "route_tables")
"""What judging a path to another VPC's endpoint reads in the endpoint's account-region."""


class CentralDns:
    """Checks records of service-name zones that point at interface endpoints."""

    def __init__(self, snapshot: Snapshot, resolver: Resolver | None = None) -> None:
        self.snapshot = snapshot
        self.resolver = resolver or Resolver(snapshot)
        self.topology = self.resolver.topology
        self._zoneless: dict[tuple[object, ...], ServiceResolution] = {}
        self._contexts: dict[tuple[str, str, str], tuple[VpcDns, tuple[object, ...] | None]] = {}
        self._scanned: dict[str, frozenset[str] | None] = {}
        self._admissions: dict[tuple[str, str, str], Admission] = {}
        """What each hub endpoint's groups admit, indexed once for every spoke that asks."""

    def resolves_to(
        self, scope: ScopeView, vpc_id: str, name: str
    ) -> tuple[Answer, list[RecordCheck]]:
        """Who answers ``name`` in the VPC and, for a zone, the checks of its answering records."""
        answer = self.resolver.answer(scope, vpc_id, query_name(name))
        if answer.zone is None or answer.unknown is not None:
            return answer, []
        records = answering_records(answer.zone, normalise(query_name(name)))
        if records is None:
            return answer, []
        return answer, [
            self.check_target(scope, vpc_id, answer.zone, target)
            for target in record_targets(records, self.snapshot.endpoint_by_address(scope.region))
            if target.endpoint_id is not None or target.addresses
        ]

    def check_target(
        self, scope: ScopeView, vpc_id: str, zone: HostedZone, target: RecordTarget
    ) -> RecordCheck:
        """``check`` for a record, or why an A / AAAA record's target cannot be told."""
        if target.endpoint_id is not None:
            return self.check(
                scope,
                vpc_id,
                zone,
                target.record.name,
                target.endpoint_id,
                endpoint_region=target.endpoint_region,
                answers_from=functools.partial(_answering_subnets, self.snapshot, target),
            )
        holders = {
            endpoint
            for address in target.addresses
            for endpoint in self.snapshot.endpoints_holding(
                scope.region, canonical_address(address)
            )
        }
        why = (
            f"which the interfaces of several endpoints hold ({', '.join(sorted(holders))}; "
            "VPCs with overlapping blocks, or a record that names more than one endpoint): which "
            "one answers this VPC is not judged"
            if len(holders) > 1
            else "which are not the addresses of one endpoint in the snapshot (another account's "
            "endpoint, or not an endpoint)"
        )
        return RecordCheck(
            zone,
            target.record.name,
            None,
            unknown=f"{target.record.name} holds {', '.join(target.addresses)}, {why}",
        )

    def resolution(self, scope: ScopeView, vpc_id: str, short_service: str) -> ServiceResolution:
        """What the service's client names resolve to in the VPC (the centralised pattern).

        Rules ask this for every VPC and several services (VPCE401/402 for S3 and DynamoDB,
        VPCE601 for each required service). Where no private hosted zone may answer, the answer
        depends only on the VPC's DNS mode and the names its own endpoints answer (``_fate``),
        so VPCs alike in those are answered once."""
        where = (scope.account_id, scope.region, vpc_id)
        known = self._contexts.get(where)
        if known is None:  # asked once per service: the VPC's part is worked out once
            mode = vpc_dns(scope, vpc_id)
            known = self._contexts[where] = (mode, self._zoneless_context(scope, vpc_id, mode))
        mode, context = known
        if context is None:
            return self._resolution(scope, vpc_id, short_service, mode)
        key = (*context, short_service)
        found = self._zoneless.get(key)
        if found is None:
            found = self._zoneless[key] = self._resolution(scope, vpc_id, short_service, mode)
        return found

    def _zoneless_context(
        self, scope: ScopeView, vpc_id: str, mode: VpcDns
    ) -> tuple[object, ...] | None:
        """Everything that decides the VPC's resolutions when no private hosted zone may answer
        in it: its region and AWS's service catalogue as its account saw it there (they give
        the client names: ``client_names``), its DNS mode (and whether DNS support is off),
        whether its zone list is known, the names its own endpoints answer, and its Resolver
        rules (whether they are known, and each one's domain and type). None when a zone may
        answer: a zone's records are judged from the VPC (its path to their target).

        The catalogue is keyed by identity: account-regions that saw one catalogue share one
        tuple (snapshot/catalogue.py), so an organisation's accounts in a region share their
        answers, where keying by account answered each account-region again (8,500 of them in
        an organisation of 500 accounts x 17 regions). The snapshot holds every catalogue for
        as long as this object answers about it, so an id is never another tuple's."""
        if self.snapshot.zones_for(scope, vpc_id):
            return None
        rules = self.snapshot.resolver_rules(vpc_id)
        if any(self.resolver.forwards_inbound(rule, scope.region) for rule in rules):
            # A name forwarded to another VPC's inbound Resolver endpoint is judged by the path
            # from this VPC to what that VPC answers (``Resolver._through_inbound``).
            return None
        vpc = scope.vpcs_by_id.get(vpc_id)
        return (
            scope.region,
            id(scope.data.endpoint_service_details),
            mode,
            # DISABLED covers two cases _fate tells apart: no Resolver at all, or no hostnames.
            vpc is not None and vpc.enable_dns_support is False,
            self.snapshot.zone_list_known(scope, vpc_id),
            frozenset(self.resolver.private_dns_names(scope, vpc_id)),
            # The Resolver rules that may govern its names (a fate, not its wording; an
            # autodefined rule ranks below one you made).
            self.snapshot.resolver_rules_unknown(scope, vpc_id) is None,
            frozenset(
                (
                    rule.domain_name,
                    rule.rule_type,
                    rule.rule_id.startswith(AUTODEFINED_RULE_PREFIX),
                )
                for rule in rules
            ),
        )

    def _resolution(
        self, scope: ScopeView, vpc_id: str, short_service: str, mode: VpcDns
    ) -> ServiceResolution:
        fates: list[tuple[str, NameFate]] = []
        for name in client_names(scope, short_service):
            fates.append((name, self._fate(scope, vpc_id, name, mode)))
        return ServiceResolution(tuple(fates))

    def _fate(self, scope: ScopeView, vpc_id: str, name: str, mode: VpcDns) -> NameFate:
        if mode is VpcDns.DISABLED:
            vpc = scope.vpcs_by_id.get(vpc_id)
            if vpc is not None and vpc.enable_dns_support is False:
                return NameFate.PUBLIC  # no Route 53 Resolver, so no rules either
            # enableDnsHostnames off: no private zone applies, but forwarding rules still do
            # (only the autodefined rules depend on it).
            if self.resolver.rule_doubt(scope, vpc_id, query_name(name)) is not None:
                return NameFate.UNKNOWN
            return NameFate.PUBLIC
        answer, checks = self.resolves_to(scope, vpc_id, name)
        if answer.unknown is not None:
            return NameFate.UNKNOWN
        if answer.endpoint is None and answer.zone is None:
            return NameFate.PUBLIC  # nothing private could answer, whoever resolves
        if mode is not VpcDns.AMAZON:
            # Unknown attributes, or DNS servers that may not forward to the Route 53 Resolver.
            return NameFate.UNKNOWN
        if answer.endpoint is not None:
            if answer.via is None:
                return NameFate.CENTRAL  # the VPC's own endpoint
            check = self.check(scope, vpc_id, None, name, answer.endpoint.endpoint_id)
            if check.unknown:
                return NameFate.UNKNOWN
            return NameFate.CENTRAL if check.healthy else NameFate.UNUSABLE
        assert answer.zone is not None
        if answer.zone.records is None or any(check.unknown for check in checks):
            return NameFate.UNKNOWN
        if not checks:
            return NameFate.BROKEN
        if all(check.healthy for check in checks):
            return NameFate.CENTRAL
        # Records that name an endpoint, which the VPC cannot use (or one that is gone).
        return NameFate.UNUSABLE if all(check.endpoint_id for check in checks) else NameFate.BROKEN

    def check(
        self,
        scope: ScopeView,
        vpc_id: str,
        zone: HostedZone | None,
        record_name: str,
        endpoint_id: str,
        *,
        endpoint_region: str | None = None,
        answers_from: Callable[[VpcEndpoint, ScopeView], tuple[str, ...] | None] | None = None,
    ) -> RecordCheck:
        """``endpoint_region``: the region the record's target names, where the endpoint must
        be; ``answers_from``: the subnets of the interfaces the record's name gives (default:
        every subnet of the endpoint). An endpoint missing from the snapshot is gone only when
        every member was scanned there and the VPC reaches no account outside the scan
        (``Topology.reaches_beyond``); a name whose region cannot be read leaves it unknown."""
        base = RecordCheck(zone, record_name, endpoint_id)
        found = self.snapshot.endpoints_by_id.get(endpoint_id)
        if found is None:
            scanned = self._scanned_accounts(endpoint_region) if endpoint_region else None
            if scanned is not None:
                # Every member was scanned there; an account outside the organisation may still
                # own it, where the VPC reaches one (a gateway shared across organisations).
                beyond = self.topology.reaches_beyond(scope, vpc_id, scanned)
                if beyond is None:
                    return _with(base, problem=f"points at {endpoint_id}, which no longer exists")
                return _with(
                    base,
                    unknown=f"{endpoint_id} is not in the snapshot, and every member account was "
                    f"scanned in {endpoint_region}, but {beyond}, which may own it",
                )
            where = f" ({endpoint_region})" if endpoint_region else ""
            return _with(
                base,
                unknown=f"{endpoint_id} is not in the snapshot (deleted, or owned by an account "
                f"or in a region{where} that was not scanned)",
            )
        hub_scope, endpoint = found
        if endpoint.is_deleted:
            return _with(
                base,
                endpoint=endpoint,
                problem=f"points at {endpoint_id}, which is {endpoint.state}",
            )
        base = _with(base, endpoint=endpoint)
        vpc = scope.vpcs_by_id.get(vpc_id)
        if vpc is None:
            return _with(base, unknown=f"{vpc_id} is not in the snapshot")
        crossings: set[bool] = set()
        if endpoint.vpc_id != vpc_id:
            # The way there needs the endpoint's subnets, the way back their route tables: both
            # read in the endpoint's own account-region, which may be another account's.
            unread = [kind for kind in HUB_KINDS if kind in hub_scope.failed_kinds]
            if unread:
                return _with(
                    base,
                    unknown=f"the {' and '.join(unread).replace('_', ' ')} of "
                    f"{hub_scope.account_id}/{hub_scope.region}, where {endpoint_id} is, were "
                    "not collected",
                )
            verdict = self._paths(
                scope, vpc, hub_scope, endpoint, answers_from, crossings=crossings
            )
            if verdict is not None:
                return _with(base, **verdict)
        ports = endpoint_ports(endpoint)
        groups, missing = attached_groups(hub_scope, endpoint)
        if ports is None:
            return base
        if missing:
            return _with(
                base, unknown=f"security group {', '.join(missing)} is not in the snapshot"
            )
        key = (hub_scope.account_id, hub_scope.region, endpoint.endpoint_id)
        groups_admit = self._admissions.get(key)
        if groups_admit is None:
            groups_admit = self._admissions[key] = admission(hub_scope, groups, ports.ports)
        # The paths judged are IPv4 ones: an IPv6 block admitted says nothing of them.
        blocks = parse_networks(vpc.cidr_blocks)
        if True in crossings:
            return self._admitted_across_gateway(
                base, vpc, endpoint, groups_admit=groups_admit, blocks=blocks, ports=ports
            )
        # A group of the VPC that another scanned account lists (a peer's, a shared VPC
        # participant's): a reference to it is resolved, and counts as the hub's own do.
        by_group = vpc_id in groups_admit.group_vpcs or not groups_admit.unknown_groups.isdisjoint(
            self.snapshot.security_groups_of(scope.region, vpc_id)
        )
        by_address = groups_admit.by_address(blocks)
        if (
            vpc_id != endpoint.vpc_id
            and by_group
            and not by_address
            and not self._peered_in_region(vpc_id, endpoint.vpc_id)
        ):
            return _with(
                base,
                unknown=f"{endpoint_id}'s security group admits {vpc_id} only by a reference to "
                "a group of it, which admits traffic only over an active peering in the region",
            )
        if by_group or by_address:
            return base
        if groups_admit.unresolved:
            return _with(
                base,
                unknown="a security-group rule refers to a prefix list or group the snapshot lacks",
            )
        return _ipv6_only(base, vpc, endpoint, groups_admit) or _not_admitted(
            base, vpc, endpoint, ports
        )

    @staticmethod
    def _admitted_across_gateway(
        base: RecordCheck,
        vpc: Vpc,
        endpoint: VpcEndpoint,
        *,
        groups_admit: Admission,
        blocks: Sequence[Network],
        ports: ServicePorts,
    ) -> RecordCheck:
        """The verdict of the endpoint's security groups on a VPC whose way there crosses a
        transit gateway (from some of its route tables, to some interface the name gives): only
        a rule whose source is an address range admits it there. AWS's security-group
        referencing across a transit gateway "is not supported for PrivateLink endpoints. We
        recommend using IP CIDR-based security rules as an alternative"
        (https://docs.aws.amazon.com/vpc/latest/tgw/tgw-vpc-attachments.html#vpc-attachment-security),
        so a rule referencing the VPC's groups, of any account, admits nothing there."""
        if groups_admit.by_address(blocks):
            return base
        ipv6_only = _ipv6_only(base, vpc, endpoint, groups_admit)
        if ipv6_only is not None:
            return ipv6_only
        if groups_admit.unknown_lists:
            return _with(
                base,
                unknown="a security-group rule refers to a prefix list whose entries are unknown",
            )
        # Only a reference that may name the VPC's groups (a group of it, or one the snapshot
        # cannot resolve) is worth a word: a hub group's reference to itself admits no spoke.
        because = (
            "; its rules that reference security groups match nothing across a transit gateway, "
            "which does not support security-group referencing for PrivateLink endpoints"
            if vpc.vpc_id in groups_admit.group_vpcs or groups_admit.unknown_groups
            else ""
        )
        return _not_admitted(
            base,
            vpc,
            endpoint,
            ports,
            f" where {vpc.vpc_id} reaches it across a transit gateway{because}",
        )

    def _peered_in_region(self, vpc_id: str, other_vpc_id: str) -> bool:
        """Whether an active peering joins the two VPCs within one region: what lets a rule of
        one reference the other's security groups
        (https://docs.aws.amazon.com/vpc/latest/peering/vpc-peering-security-groups.html).
        Across a transit gateway no reference admits anything at a PrivateLink endpoint
        (``_admitted_across_gateway``)."""
        for connection in self.topology.peerings_by_vpc.get(vpc_id, ()):
            sides = (connection.requester, connection.accepter)
            if {side.vpc_id for side in sides} == {vpc_id, other_vpc_id} and (
                connection.requester.region == connection.accepter.region
            ):
                return True
        return False

    def _paths(
        self,
        scope: ScopeView,
        vpc: Vpc,
        hub_scope: ScopeView,
        endpoint: VpcEndpoint,
        answers_from: Callable[[VpcEndpoint, ScopeView], tuple[str, ...] | None] | None,
        *,
        crossings: set[bool],
    ) -> dict[str, str] | None:
        """Whether the VPC reaches each interface the record's name gives, and each one's
        replies come back, or None when all do; ``crossings`` hears, for each interface
        reached, whether the way there crosses a transit gateway.

        A client connects to one of the addresses the name gives, and the interface answers from
        its own subnet, whose route table (and zone: a transit gateway takes traffic only in
        the zones its attachment has a subnet in) decides the way back
        (https://docs.aws.amazon.com/vpc/latest/tgw/tgw-vpc-attachments.html,
        https://docs.aws.amazon.com/vpc/latest/peering/vpc-peering-routing.html). An interface
        that fails fails every connection made to it: a problem, also when others work."""
        subnet_ids = (
            answers_from(endpoint, hub_scope) if answers_from is not None else endpoint.subnet_ids
        )
        where = f"{endpoint.endpoint_id} in {endpoint.vpc_id}"
        if subnet_ids is None:
            return {
                "problem": f"points at {where} by the zonal name of a zone where the endpoint "
                "has no interface: the name answers nothing"
            }
        failed: list[tuple[str, str]] = []
        unknown: list[str] = []
        for subnet_id in subnet_ids:
            subnet = hub_scope.subnets_by_id.get(subnet_id)
            network = parse_network(subnet.cidr_block or "") if subnet is not None else None
            if network is None:
                unknown.append(
                    f"the block of {endpoint.endpoint_id}'s subnet {subnet_id} is unknown"
                )
                continue
            there = self.topology.reach(scope, vpc.vpc_id, endpoint.vpc_id, [network])
            if there.reachable:
                crossings.add(there.crosses_gateway)
            if there.reachable is False:
                failed.append((subnet_id, f"which {vpc.vpc_id} has no route to ({there.how})"))
                continue
            back = self.topology.reach(
                hub_scope,
                endpoint.vpc_id,
                vpc.vpc_id,
                parse_networks(vpc.cidr_blocks),
                from_subnets=(subnet_id,),
            )
            if back.reachable is False:
                failed.append(
                    (
                        subnet_id,
                        f"whose subnets have no route back to {vpc.vpc_id} ({back.how}): "
                        "replies are lost",
                    )
                )
            elif there.reachable is None:
                unknown.append(
                    f"whether {vpc.vpc_id} reaches {endpoint.vpc_id} is unknown ({there.how})"
                )
            elif back.reachable is None:
                unknown.append(
                    f"whether {endpoint.vpc_id} routes back to {vpc.vpc_id} is unknown ({back.how})"
                )
        if failed and len(failed) == len(subnet_ids):
            return {"problem": f"points at {where}, {failed[0][1]}"}
        if failed:
            subnet_id, why = failed[0]
            why = why.replace("whose subnets have", "whose interface there has")
            return {
                "problem": f"points at {where}: {len(failed)} of its {len(subnet_ids)} "
                f"interfaces the name gives fail (in {', '.join(s for s, _ in failed)}); "
                f"{subnet_id}'s, {why}"
            }
        if unknown:
            return {"unknown": unknown[0]}
        if not subnet_ids:
            return {"unknown": f"the subnets of {endpoint.endpoint_id} are unknown"}
        return None

    def _scanned_accounts(self, region: str) -> frozenset[str] | None:
        """The accounts whose endpoints in the region are known, when they include every member
        of the scanned organisation (its member list known); else None: an endpoint missing
        from the snapshot may be a member's that was not seen. Once per region."""
        if region not in self._scanned:
            self._scanned[region] = self._accounts_scanned_in(region)
        return self._scanned[region]

    def _accounts_scanned_in(self, region: str) -> frozenset[str] | None:
        members = self.snapshot.organization_members
        if not members or self.snapshot.orgs_with_unknown_members:
            return None
        scanned = frozenset(
            s.account_id
            for s in self.snapshot.scopes
            if s.region == region and "vpc_endpoints" not in s.failed_kinds
        )
        return scanned if members <= scanned else None


def _ipv6_only(
    base: RecordCheck, vpc: Vpc, endpoint: VpcEndpoint, groups_admit: Admission
) -> RecordCheck | None:
    """Unknown where the endpoint's groups admit the VPC's IPv6 blocks but not its IPv4 ones:
    its clients connect only over IPv6, which works where the endpoint takes IPv6 (dual-stack,
    or its address type unknown) and is not the path judged. An IPv4-only endpoint
    (IpAddressType ipv4) is not reached over IPv6: None, and the caller reports it."""
    if 6 not in endpoint.address_families:
        return None
    if not groups_admit.by_address(parse_networks(vpc.ipv6_cidr_blocks)):
        return None
    return _with(
        base,
        unknown=f"{endpoint.endpoint_id}'s security groups admit {vpc.vpc_id} by its IPv6 "
        "blocks only: its clients connect over IPv6 alone, whose path is not judged",
    )


def _not_admitted(
    check: RecordCheck, vpc: Vpc, endpoint: VpcEndpoint, ports: ServicePorts, why: str = ""
) -> RecordCheck:
    """The endpoint's security groups do not admit the VPC's blocks on the service's ports."""
    return _with(
        check,
        problem=f"points at {endpoint.endpoint_id}, whose security group "
        f"{', '.join(endpoint.security_group_ids)} does not admit {vpc.vpc_id} "
        f"({', '.join(vpc.cidr_blocks)}) on tcp {ports.describe()}{why}",
    )


def _with(check: RecordCheck, **changes: object) -> RecordCheck:
    return replace(check, **changes)  # type: ignore[arg-type]
