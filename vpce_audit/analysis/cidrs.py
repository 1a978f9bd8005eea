"""Address-space reasoning: parsing and near-linear overlap detection.

CIDR blocks form a laminar family: two blocks are either disjoint or one contains the other.
Sorting blocks by (first address, widest first) and sweeping with a stack of enclosing blocks
therefore finds every overlapping pair in O(n log n + pairs), which is what lets an organisation
with tens of thousands of VPCs be checked without an all-pairs comparison.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
K = TypeVar("K", bound=Hashable)


@functools.lru_cache(maxsize=1 << 16)
def parse_network(text: str) -> Network | None:
    """A CIDR string as a network, or None when it is not one (never raises).

    Cached: route tables repeat the same few destinations thousands of times, and networks are
    immutable."""
    try:
        return ipaddress.ip_network(text, strict=False)
    except (ValueError, TypeError):
        return None


def parse_networks(cidrs: Iterable[str]) -> list[Network]:
    """The blocks among ``cidrs`` that parse (``parse_network``)."""
    return [n for n in map(parse_network, cidrs) if n is not None]


def contains(outer: Network, inner: Network) -> bool:
    return (
        outer.version == inner.version
        and outer.prefixlen <= inner.prefixlen
        and inner.network_address in outer
    )


def overlaps(a: Network, b: Network) -> bool:
    return contains(a, b) or contains(b, a)


def intersection(a: Network, b: Network) -> Network | None:
    """The addresses two networks share: the smaller one when one contains the other (blocks
    are nested or disjoint); None when they share none."""
    if a.version != b.version or not a.overlaps(b):
        return None
    return a if a.prefixlen >= b.prefixlen else b


@dataclass(frozen=True)
class Block(Generic[K]):
    network: Network
    owner: K


def overlapping_pairs(blocks: Iterable[Block[K]]) -> Iterator[tuple[Block[K], Block[K]]]:
    """Every pair of blocks with different owners whose networks overlap.

    Each pair is yielded once, wider (or earlier) block first.
    """
    ordered = sorted(
        blocks,
        key=lambda b: (b.network.version, int(b.network.network_address), b.network.prefixlen),
    )
    enclosing: list[Block[K]] = []
    for block in ordered:
        while enclosing and not contains(enclosing[-1].network, block.network):
            enclosing.pop()
        for outer in enclosing:
            if outer.owner != block.owner:
                yield outer, block
        enclosing.append(block)
