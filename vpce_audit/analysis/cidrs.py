"""Address-space reasoning: parsing and near-linear overlap detection.

CIDR blocks form a laminar family: two blocks are either disjoint or one contains the other.
Sorting blocks by (first address, widest first) and sweeping with a stack of enclosing blocks
therefore finds every overlapping pair in O(n log n + pairs), which is what lets an organisation
with tens of thousands of VPCs be checked without an all-pairs comparison.
"""

from __future__ import annotations

import functools
import ipaddress
from bisect import bisect_left, bisect_right
from collections.abc import Hashable, Iterable, Iterator, Sequence
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


class NetworkIndex:
    """Finds which of many networks overlap a given one without comparing it with each: blocks
    are nested or disjoint, so those containing it are found by probing each prefix length
    present, and those inside it in one range of start addresses."""

    def __init__(self, networks: Sequence[Network]) -> None:
        self._by_network: dict[tuple[int, int, int], list[int]] = {}
        for index, network in enumerate(networks):
            key = (network.version, network.prefixlen, int(network.network_address))
            self._by_network.setdefault(key, []).append(index)
        self._lengths: dict[int, list[int]] = {}
        for version, length, _ in self._by_network:
            self._lengths.setdefault(version, []).append(length)
        for lengths in self._lengths.values():
            lengths[:] = sorted(set(lengths))
        self._networks = networks
        self._by_start = {
            version: sorted(
                (i for i, n in enumerate(networks) if n.version == version),
                key=lambda i: int(networks[i].network_address),
            )
            for version in self._lengths
        }
        self._starts = {
            version: [int(networks[i].network_address) for i in order]
            for version, order in self._by_start.items()
        }

    def overlapping(self, network: Network, inside: bool = True) -> Iterator[int]:
        """The indices of the networks that contain ``network`` or equal it, and (when
        ``inside``) of those strictly inside it, in no particular order."""
        address, bits = int(network.network_address), network.max_prefixlen
        for length in self._lengths.get(network.version, ()):
            if length > network.prefixlen:
                break
            mask = ((1 << length) - 1) << (bits - length)
            yield from self._by_network.get((network.version, length, address & mask), ())
        if inside and network.version in self._starts:
            starts, order = self._starts[network.version], self._by_start[network.version]
            last = int(network.broadcast_address)
            for position in range(bisect_left(starts, address), bisect_right(starts, last)):
                index = order[position]
                if self._networks[index].prefixlen > network.prefixlen:
                    yield index
