"""Network ACL evaluation: which sources and ports a subnet's ACL lets through.

AWS evaluates a network ACL's rules in order, starting with the lowest rule number, and the first
rule that matches the traffic decides; the final ``*`` rule denies everything else
(https://docs.aws.amazon.com/vpc/latest/userguide/nacl-rules.html). ACLs are stateless: return
traffic needs a rule of its own.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from vpce_audit.analysis.cidrs import Network, intersection, parse_network
from vpce_audit.data import PortRange
from vpce_audit.model import NetworkAcl, NetworkAclEntry

TCP = "6"
ALL_PROTOCOLS = "-1"

# Clients pick the source port of a connection from an ephemeral range: Linux 32768-60999,
# Windows 49152-65535, NAT gateways, ELB and Lambda 1024-65535. Return traffic to these ports
# must pass the endpoint subnet's outbound rules
# (https://docs.aws.amazon.com/vpc/latest/userguide/nacl-ephemeral-ports.html).
EPHEMERAL_PORTS = PortRange(1024, 65535)
INSTANCE_EPHEMERAL_PORTS = PortRange(32768, 65535)
"""The part of the range that Linux and Windows instances use."""


@dataclass(frozen=True)
class Blocked:
    """Part of a flow an ACL denies: which addresses, which ports, and the rule that decides."""

    network: Network
    ports: PortRange
    rule: NetworkAclEntry | None
    """None when no rule matched and the implicit final deny applies."""

    def describe(self) -> str:
        rule = f"rule {self.rule.rule_number}" if self.rule is not None else "the final * rule"
        return f"{self.network} on tcp {self.ports} ({rule})"


def _matches_tcp(entry: NetworkAclEntry) -> bool:
    return entry.protocol in {TCP, ALL_PROTOCOLS, "tcp"}


def _entry_ports(entry: NetworkAclEntry) -> PortRange:
    if entry.protocol == ALL_PROTOCOLS or entry.from_port is None or entry.to_port is None:
        return PortRange(0, 65535)
    return PortRange(entry.from_port, entry.to_port)


def _entry_network(entry: NetworkAclEntry, version: int) -> Network | None:
    text = entry.cidr_ipv4 if version == 4 else entry.cidr_ipv6
    return parse_network(text) if text else None


def denied(
    acl: NetworkAcl, *, egress: bool, peers: Iterable[Network], ports: Iterable[PortRange]
) -> list[Blocked]:
    """The parts of TCP traffic to or from ``peers`` on ``ports`` that the ACL denies.

    Each (peer block, port) is split as the rules carve it: a rule decides only the addresses
    and ports it covers that no earlier rule decided.
    """
    entries = sorted((e for e in acl.entries if e.egress == egress), key=lambda e: e.rule_number)
    found: list[Blocked] = []
    for peer in peers:
        for port_range in ports:
            found += _walk(entries, peer, port_range)
    return found


def _walk(entries: list[NetworkAclEntry], peer: Network, ports: PortRange) -> list[Blocked]:
    # Undecided pieces: (addresses, ports). Rules carve them in order.
    undecided: list[tuple[Network, PortRange]] = [(peer, ports)]
    blocked: list[Blocked] = []
    for entry in entries:
        if not undecided or not _matches_tcp(entry):
            continue
        network = _entry_network(entry, peer.version)
        if network is None:
            continue
        rule_ports = _entry_ports(entry)
        remaining: list[tuple[Network, PortRange]] = []
        for addresses, port_range in undecided:
            overlap_ports = _intersect(port_range, rule_ports)
            overlap_net = intersection(addresses, network)
            if overlap_ports is None or overlap_net is None:
                remaining.append((addresses, port_range))
                continue
            if entry.rule_action == "deny":
                blocked.append(Blocked(overlap_net, overlap_ports, entry))
            remaining += [(n, port_range) for n in _exclude(addresses, overlap_net)]
            remaining += [(overlap_net, p) for p in _subtract(port_range, overlap_ports)]
        undecided = remaining
    blocked += [Blocked(addresses, port_range, None) for addresses, port_range in undecided]
    return blocked


def _intersect(a: PortRange, b: PortRange) -> PortRange | None:
    low, high = max(a.low, b.low), min(a.high, b.high)
    return PortRange(low, high) if low <= high else None


def _subtract(whole: PortRange, part: PortRange) -> list[PortRange]:
    found = []
    if whole.low < part.low:
        found.append(PortRange(whole.low, part.low - 1))
    if part.high < whole.high:
        found.append(PortRange(part.high + 1, whole.high))
    return found


def _exclude(whole: Network, part: Network) -> list[Network]:
    if whole == part or part.prefixlen <= whole.prefixlen:
        return []
    if isinstance(whole, ipaddress.IPv4Network) and isinstance(part, ipaddress.IPv4Network):
        return list(whole.address_exclude(part))
    if isinstance(whole, ipaddress.IPv6Network) and isinstance(part, ipaddress.IPv6Network):
        return list(whole.address_exclude(part))
    return [whole]
