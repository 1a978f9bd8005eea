"""DNS reasoning for interface endpoints: which private hosted zone answers a name in a VPC, what
its records point at, and which addresses are the Amazon-provided resolver.

Route 53 Resolver answers a query from a VPC with the most specific private hosted zone
associated with the VPC whose name contains the query name; when that zone holds no record for
the name, the answer is NXDOMAIN, even if a public zone has one
(https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/hosted-zone-private-considerations.html).
An interface endpoint with private DNS acts like a zone named after the service's private DNS name,
associated with the endpoint's VPC only.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from vpce_audit.model import HostedZone, ResourceRecordSet, Vpc

AWS_SERVICE_DOMAINS = ("amazonaws.com", "amazonaws.com.cn", "api.aws")
"""Domains under which AWS services have their endpoint names (standard, China, dual-stack)."""

AMAZON_RESOLVER_LINK_LOCAL = ("169.254.169.253", "fd00:ec2::253")

# vpce-0123456789abcdef0-a1b2c3d4[.-zone].<service>.<region>.vpce.amazonaws.com
_ENDPOINT_DNS_NAME = re.compile(r"^(?:\*\.)?(vpce-[0-9a-f]+)-[0-9a-z]+[.-]")
# vpce-0abc-1x2y[-us-east-1a].ssm.us-east-1.vpce.amazonaws.com: the label before "vpce", in every
# partition's domain (amazonaws.com.cn, amazonaws.eu, sc2s.sgov.gov...).
_ENDPOINT_DNS_REGION = re.compile(r"\.([a-z0-9]+(?:-[a-z0-9]+)+)\.vpce\.[a-z0-9.-]+$")


def normalise(name: str) -> str:
    return name.strip().rstrip(".").lower()


def is_within(name: str, domain: str) -> bool:
    """Whether ``name`` equals ``domain`` or lies under it (both normalised)."""
    return name == domain or name.endswith("." + domain)


def zone_may_answer_for_aws_services(zone_name: str) -> bool:
    """A zone whose name is an AWS service domain, lies inside one, or is a parent of one
    (``com``, ``amazonaws.com``, ``ssm.eu-west-1.amazonaws.com``): its records decide how AWS
    service names resolve in the VPCs it is associated with."""
    zone = normalise(zone_name)
    if not zone:
        return False
    return any(is_within(zone, domain) or is_within(domain, zone) for domain in AWS_SERVICE_DOMAINS)


def record_matches(record: ResourceRecordSet, name: str) -> bool:
    """Exact names, and wildcard records (``*.zone``) for any name below their parent."""
    if record.name == name:
        return True
    if record.name.startswith("*."):
        parent = record.name[2:]
        return name.endswith("." + parent)
    return False


IP_RECORD_TYPES = frozenset({"A", "AAAA"})
ADDRESS_TYPES = IP_RECORD_TYPES | {"CNAME"}


def answering_records(zone: HostedZone, name: str) -> tuple[ResourceRecordSet, ...] | None:
    """The records the zone answers ``name`` with: exact records win over wildcards, and a nearer
    wildcard over a farther one. Empty means NXDOMAIN; None means the records were not read."""
    if zone.records is None:
        return None
    usable = [r for r in zone.records if r.record_type in ADDRESS_TYPES]
    exact = tuple(r for r in usable if r.name == name)
    if exact:
        return exact
    wildcards = [r for r in usable if r.name.startswith("*.") and record_matches(r, name)]
    if not wildcards:
        return ()
    nearest = max(len(r.name) for r in wildcards)
    return tuple(r for r in wildcards if len(r.name) == nearest)


def answering_zone(zones: Iterable[HostedZone], name: str) -> HostedZone | None:
    """The most specific private zone among ``zones`` whose name contains ``name``."""
    best: HostedZone | None = None
    for zone in zones:
        zone_name = normalise(zone.name)
        if is_within(name, zone_name) and (
            best is None or len(zone_name) > len(normalise(best.name))
        ):
            best = zone
    return best


def endpoint_id_in_dns_name(dns_name: str) -> str | None:
    """The endpoint id in an endpoint's own DNS name (the alias target of a centralised zone)."""
    match = _ENDPOINT_DNS_NAME.match(normalise(dns_name))
    return match.group(1) if match else None


def endpoint_region_in_dns_name(dns_name: str) -> str | None:
    """The region in an endpoint's own DNS name: a zone's record may name an endpoint of
    another region (a zone is associated per VPC and region)."""
    match = _ENDPOINT_DNS_REGION.search(normalise(dns_name))
    return match.group(1) if match else None


@dataclass(frozen=True)
class RecordTarget:
    """What one record of a zone points at."""

    record: ResourceRecordSet
    endpoint_id: str | None
    """The interface endpoint named by an alias or CNAME target, when it names one."""
    addresses: tuple[str, ...] = ()
    """The addresses of an A / AAAA record."""
    endpoint_region: str | None = None
    """The region the alias or CNAME target names, when it names one."""


def record_targets(
    records: Iterable[ResourceRecordSet], endpoint_by_address: Mapping[str, str] | None = None
) -> tuple[RecordTarget, ...]:
    """What each record points at. An alias or CNAME names an endpoint by its DNS name; an A /
    AAAA record does when every address it holds is an interface of one endpoint
    (``endpoint_by_address``, from the endpoints' network interfaces)."""
    found: list[RecordTarget] = []
    for record in records:
        target = record.alias_target
        if target is None and record.record_type == "CNAME" and record.values:
            target = record.values[0]
        if target is not None:
            found.append(
                RecordTarget(
                    record,
                    endpoint_id_in_dns_name(target),
                    endpoint_region=endpoint_region_in_dns_name(target),
                )
            )
            continue
        if record.record_type not in IP_RECORD_TYPES:
            found.append(RecordTarget(record, None))  # SOA, NS, TXT...: no target
            continue
        owners = {
            (endpoint_by_address or {}).get(canonical_address(value)) for value in record.values
        }
        endpoint_id = owners.pop() if len(owners) == 1 else None
        found.append(RecordTarget(record, endpoint_id, record.values))
    return tuple(found)


def amazon_resolver_addresses(vpc: Vpc) -> frozenset[str]:
    """The addresses at which the VPC reaches the Amazon-provided resolver: the primary IPv4
    block's base plus two, 169.254.169.253 and fd00:ec2::253
    (https://docs.aws.amazon.com/vpc/latest/userguide/AmazonDNS-concepts.html)."""
    found = set(AMAZON_RESOLVER_LINK_LOCAL)
    if vpc.cidr_blocks:
        try:
            primary = ipaddress.ip_network(vpc.cidr_blocks[0], strict=False)
        except ValueError:
            primary = None
        if primary is not None:
            found.add(str(primary.network_address + 2))
    return frozenset(found)


def canonical_address(text: str) -> str:
    """An IP address in canonical form (fd00:ec2:0::253 -> fd00:ec2::253); text unchanged if not."""
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return text.strip()
