"""What an endpoint's security groups admit (analysis.security_groups.Admission), held to the
rule-by-rule reading it replaced: a rule admits a VPC when it admits one of the ports and its
source covers part of the VPC; a source the snapshot cannot resolve leaves the answer unknown."""

from __future__ import annotations

import ipaddress
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import ingress, region, security_group
from vpce_audit.analysis.cidrs import overlaps, parse_network
from vpce_audit.analysis.security_groups import admission, admits_any_port
from vpce_audit.data import PortRange
from vpce_audit.model import PrefixList, SecurityGroupRule
from vpce_audit.snapshot.views import ScopeView

_SOURCES = st.sampled_from(
    [
        "10.0.0.0/8",
        "10.1.0.0/16",
        "10.1.2.0/24",
        "10.2.0.0/16",
        "0.0.0.0/0",
        "192.168.0.0/16",
        "not-a-cidr",
        "fd00::/8",
        "::/0",
        "pl-known",
        "pl-unread",
        "pl-aws-empty",
        "pl-customer-empty",
        "pl-missing",
        "sg-here",
        "sg-there",
        "sg-peer-here",
        "sg-peer-there",
        "sg-missing",
    ]
)
_RULES = st.builds(
    ingress,
    _SOURCES,
    st.sampled_from(["tcp", "6", "udp", "-1"]),
    st.sampled_from([(443, 443), (80, 80), (0, 65535), None]),
)


def _one_by_one(
    scope: ScopeView,
    groups: list[Any],
    networks: list[Any],
    vpc_id: str,
    ports: list[PortRange],
    *,
    elsewhere: dict[str, Any],
) -> bool | None:
    def covers(rule: SecurityGroupRule) -> bool | None:
        for cidr in (rule.cidr_ipv4, rule.cidr_ipv6):
            if cidr is not None:
                source = parse_network(cidr)
                return source is not None and any(overlaps(source, n) for n in networks)
        if rule.prefix_list_id is not None:
            plist = scope.prefix_lists_by_id.get(rule.prefix_list_id)
            if plist is None or plist.cidrs is None:
                return None
            if not plist.cidrs and plist.owner_id == "AWS":
                return None  # AWS's own lists are never empty: the read went wrong
            entries = [parse_network(cidr) for cidr in plist.cidrs]
            return any(e is not None and overlaps(e, n) for e in entries for n in networks)
        if rule.referenced_group_id is not None:
            group = scope.security_groups_by_id.get(rule.referenced_group_id)
            group = group or elsewhere.get(rule.referenced_group_id)
            return None if group is None else group.vpc_id == vpc_id
        return False

    verdicts = [covers(r) for g in groups for r in g.ingress if admits_any_port(r, ports)]
    return True if any(verdicts) else (None if None in verdicts else False)


@given(
    st.lists(st.lists(_RULES, max_size=5), min_size=1, max_size=3),
    st.lists(
        st.sampled_from(["10.1.0.0/16", "10.1.2.128/25", "172.16.0.0/12", "fd00:1::/56"]),
        min_size=1,
        max_size=2,
    ),
    st.sampled_from([[PortRange(443, 443)], [PortRange(443, 443), PortRange(80, 80)]]),
)
def test_the_indexed_admission_answers_as_reading_each_rule_does(
    rule_sets: list[list[SecurityGroupRule]], blocks: list[str], ports: list[PortRange]
) -> None:
    scope = ScopeView(
        region(
            security_groups=[
                security_group("sg-here", "vpc-1"),
                security_group("sg-there", "vpc-2"),
                *(security_group(f"sg-{n}", "vpc-hub", *r) for n, r in enumerate(rule_sets)),
            ],
            prefix_lists=[
                PrefixList("pl-known", "clients", "111111111111", cidrs=("10.1.2.0/24", "bad")),
                PrefixList("pl-unread", "unread", "111111111111", cidrs=None),
                PrefixList(
                    "pl-aws-empty", "com.amazonaws.global.cloudfront.origin-facing", "AWS", cidrs=()
                ),
                PrefixList("pl-customer-empty", "nobody-yet", "111111111111", cidrs=()),
            ],
        )
    )
    groups = [scope.security_groups_by_id[f"sg-{n}"] for n in range(len(rule_sets))]
    networks = [ipaddress.ip_network(block) for block in blocks]
    # Another account's groups of the region: one in the asking VPC, one elsewhere.
    peer = ScopeView(
        region(
            "222222222222",
            security_groups=[
                security_group("sg-peer-here", "vpc-1"),
                security_group("sg-peer-there", "vpc-2"),
            ],
        )
    )
    elsewhere = peer.security_groups_by_id
    expected = _one_by_one(scope, groups, networks, "vpc-1", ports, elsewhere=elsewhere)
    assert admission(scope, groups, ports, elsewhere).admits(networks, "vpc-1") is expected
