"""Network ACL evaluation: rule order, first match, partial coverage, the final deny
(https://docs.aws.amazon.com/vpc/latest/userguide/nacl-rules.html)."""

from __future__ import annotations

import ipaddress

from vpce_audit.analysis.nacl import denied
from vpce_audit.data import PortRange
from vpce_audit.model import NetworkAcl, NetworkAclEntry

VPC = ipaddress.ip_network("10.0.0.0/16")


def acl(*entries: NetworkAclEntry) -> NetworkAcl:
    return NetworkAcl("acl-1", "vpc-1", False, ("subnet-1",), entries)


def allow(number: int, cidr: str, low: int, high: int) -> NetworkAclEntry:
    return NetworkAclEntry(number, False, "6", "allow", cidr, None, low, high)


def deny(number: int, cidr: str, low: int, high: int) -> NetworkAclEntry:
    return NetworkAclEntry(number, False, "6", "deny", cidr, None, low, high)


def test_first_matching_rule_decides() -> None:
    https = [PortRange(443, 443)]
    assert (
        denied(acl(allow(100, "10.0.0.0/8", 443, 443)), egress=False, peers=[VPC], ports=https)
        == []
    )
    blocked = denied(
        acl(deny(50, "10.0.0.0/8", 0, 65535), allow(100, "10.0.0.0/8", 443, 443)),
        egress=False,
        peers=[VPC],
        ports=https,
    )
    assert [
        (str(b.network), str(b.ports), b.rule.rule_number if b.rule else None) for b in blocked
    ] == [("10.0.0.0/16", "443", 50)]


def test_a_rule_decides_only_the_part_it_covers() -> None:
    blocked = denied(
        acl(allow(100, "10.0.0.0/17", 443, 443)),
        egress=False,
        peers=[VPC],
        ports=[PortRange(443, 443)],
    )
    assert [(str(b.network), b.rule) for b in blocked] == [("10.0.128.0/17", None)]


def test_port_ranges_are_carved_too() -> None:
    egress = NetworkAclEntry(100, True, "6", "allow", "0.0.0.0/0", None, 1024, 40000)
    blocked = denied(acl(egress), egress=True, peers=[VPC], ports=[PortRange(32768, 65535)])
    assert [str(b.ports) for b in blocked] == ["40001-65535"]
    every_protocol = NetworkAclEntry(100, True, "-1", "allow", "0.0.0.0/0")
    assert (
        denied(acl(every_protocol), egress=True, peers=[VPC], ports=[PortRange(32768, 65535)]) == []
    )
