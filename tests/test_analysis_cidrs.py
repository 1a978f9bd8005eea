from __future__ import annotations

import ipaddress
import itertools
import random
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from vpce_audit.analysis.cidrs import (
    Block,
    NetworkIndex,
    contains,
    overlapping_pairs,
    parse_network,
)


def brute_force(blocks: list[Block[int]]) -> set[frozenset[tuple[str, int]]]:
    found = set()
    for a, b in itertools.combinations(blocks, 2):
        if a.owner != b.owner and a.network.overlaps(b.network):
            found.add(frozenset({(str(a.network), a.owner), (str(b.network), b.owner)}))
    return found


def swept(blocks: list[Block[int]]) -> set[frozenset[tuple[str, int]]]:
    return {
        frozenset({(str(a.network), a.owner), (str(b.network), b.owner)})
        for a, b in overlapping_pairs(blocks)
    }


def test_sweep_finds_exactly_the_pairs_all_pairs_comparison_finds() -> None:
    rng = random.Random(20261126)
    for _ in range(200):
        blocks = []
        for _ in range(rng.randint(2, 40)):
            prefix = rng.randint(8, 24)
            address = rng.getrandbits(32) & ~((1 << (32 - prefix)) - 1) & 0x0FFFFFFF | 0x0A000000
            network = ipaddress.IPv4Network((address, prefix), strict=False)
            blocks.append(Block(network, rng.randint(0, 6)))
        assert swept(blocks) == brute_force(blocks)


def test_same_owner_overlaps_are_ignored_and_versions_do_not_mix() -> None:
    blocks = [
        Block(ipaddress.ip_network("10.0.0.0/16"), "a"),
        Block(ipaddress.ip_network("10.0.1.0/24"), "a"),
        Block(ipaddress.ip_network("10.0.2.0/24"), "b"),
        Block(ipaddress.ip_network("fd00::/8"), "c"),
        Block(ipaddress.ip_network("fd00:1::/32"), "d"),
    ]
    pairs = {(a.owner, b.owner, str(b.network)) for a, b in overlapping_pairs(blocks)}
    assert pairs == {("a", "b", "10.0.2.0/24"), ("c", "d", "fd00:1::/32")}


def test_parse_network_never_raises() -> None:
    assert parse_network("10.0.0.1/16") == ipaddress.ip_network("10.0.0.0/16")
    assert parse_network("not-a-cidr") is None
    assert parse_network("") is None


_INDEXED = st.one_of(
    st.builds(
        lambda a, b, length: ipaddress.ip_network(f"10.{a}.{b}.0/{length}", strict=False),
        st.integers(0, 3),
        st.integers(0, 255),
        st.integers(0, 32),
    ),
    st.builds(
        lambda a, length: ipaddress.ip_network(f"fd00:{a:x}::/{length}", strict=False),
        st.integers(0, 3),
        st.integers(8, 64),
    ),
)


@given(st.lists(_INDEXED, max_size=30), _INDEXED, st.booleans())
def test_the_network_index_finds_what_comparing_each_network_finds(
    networks: list[Any], asked: Any, inside: bool
) -> None:
    expected = {
        index
        for index, network in enumerate(networks)
        if contains(network, asked) or (inside and contains(asked, network) and network != asked)
    }
    found = list(NetworkIndex(networks).overlapping(asked, inside))
    assert sorted(found) == sorted(expected)
    assert len(found) == len(set(found))
