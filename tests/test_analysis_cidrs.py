from __future__ import annotations

import ipaddress
import itertools
import random

from vpce_audit.analysis.cidrs import Block, overlapping_pairs, parse_network


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
