"""5xx: overlapping address space across connected networks."""

from __future__ import annotations

import heapq
import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from itertools import islice

from vpce_audit.analysis.cidrs import (
    Block,
    Network,
    NetworkIndex,
    contains,
    intersection,
    overlapping_pairs,
    parse_network,
    parse_networks,
)
from vpce_audit.analysis.routes import target_kind
from vpce_audit.analysis.topology import (
    HYBRID_ATTACHMENT_TYPES,
    RemoteGroup,
    RemoteNetwork,
    RemotePart,
    SharedRoute,
    Topology,
    flattened,
)
from vpce_audit.findings import Finding, Severity
from vpce_audit.model import TransitGatewayAttachment, TransitGatewayRouteTable, Vpc
from vpce_audit.rules.base import CheckResult, RuleContext, builtin_rule
from vpce_audit.snapshot.views import LIVE_ATTACHMENT_STATES, ScopeView

Side = Network | RemoteNetwork
"""What a route table holds, for overlap: one of the VPC's own blocks, or a remote network."""

Conflicts = dict[tuple[str, str], set[str]]
"""Each conflict's (network, what it conflicts with), and the VPCs it involves."""


def _conflict(outer: Side, inner: Side) -> tuple[str, str] | None:
    """The conflict two overlapping networks of one route table make, if any (``outer`` is the
    wider, or the first listed of two equal networks).

    Two networks leading to different places conflict when they overlap and at least one of
    them is learned (a transit gateway's route, a propagated or VPN route, an on-premises
    block): static routes to overlapping peers are AWS's documented partial-access designs
    (https://docs.aws.amazon.com/vpc/latest/peering/peering-configurations-partial-access.html),
    where longest-prefix match does what the author wrote. A wider network that is only an
    advertised summary leaves the narrower one its route: no conflict either. A remote network
    equal to or inside the VPC's own block is unreachable (the local route wins); one that
    contains the VPC (a summary or default route) is normal.
    """
    if not isinstance(outer, RemoteNetwork) or not isinstance(inner, RemoteNetwork):
        if isinstance(outer, RemoteNetwork):
            remote, local = outer, inner
        elif isinstance(inner, RemoteNetwork):
            remote, local = inner, outer
        else:
            return None
        assert not isinstance(local, RemoteNetwork)
        if contains(local, remote.network):
            return f"{remote.network} ({remote.source})", f"the VPC's own block {local}"
        return None
    wide, narrow = outer, inner
    if wide.destination == narrow.destination:
        return None
    if not (wide.learned or narrow.learned):
        # Static routes say where each address goes; they conflict only when one peer keeps
        # no address at all: a more specific route to another place covers it.
        victim = _shadowed(wide, narrow)
        if victim is None:
            return None
        other = narrow if victim is wide else wide
        return (
            f"{victim.network} ({victim.source})",
            f"{other.network} ({other.source}), whose more specific route leaves it no address",
        )
    if wide.network != narrow.network and not wide.concrete:
        return None
    return f"{narrow.network} ({narrow.source})", f"{wide.network} ({wide.source})"


def _shadowed(wide: RemoteNetwork, narrow: RemoteNetwork) -> RemoteNetwork | None:
    """Of two networks routed statically to different places (``wide`` contains ``narrow``),
    the one that a more specific route to the other place takes entirely, if any."""
    if narrow.route_prefix < wide.route_prefix:
        return narrow  # all of narrow lies in wide, whose route is more specific
    if wide.network == narrow.network and wide.route_prefix < narrow.route_prefix:
        return wide
    return None


def _involved(*sides: Side) -> set[str]:
    return {
        side.destination
        for side in sides
        if isinstance(side, RemoteNetwork) and side.destination.startswith("vpc-")
    }


def _add(found: Conflicts, conflict: tuple[str, str] | None, outer: Side, inner: Side) -> None:
    if conflict is not None:
        found.setdefault(conflict, set()).update(_involved(outer, inner))


def _network(side: Side) -> Network:
    return side.network if isinstance(side, RemoteNetwork) else side


def _conflicts(own: list[Network], remotes: list[RemoteNetwork]) -> Conflicts:
    """The conflicts among the networks one route table reaches, by a sweep over every
    overlapping pair."""
    blocks = [Block(network, -1) for network in own]
    blocks += [Block(remote.network, index) for index, remote in enumerate(remotes)]
    found: Conflicts = {}
    for outer, inner in overlapping_pairs(blocks):
        wide = outer.network if outer.owner == -1 else remotes[outer.owner]
        narrow = inner.network if inner.owner == -1 else remotes[inner.owner]
        _add(found, _conflict(wide, narrow), wide, narrow)
    return found


class SharedNetworks:
    """The networks of a route table's shared routes (``SharedRoute``: what it reaches through
    transit-gateway route tables), with the conflicts among them and an index of them. Built
    once for all the tables that send the same destinations to the same gateway route tables
    (every spoke of a hub), so each spoke's table costs its own networks' lookups, not a sweep
    over one route per spoke.
    """

    def __init__(self, groups: tuple[RemoteGroup, ...]) -> None:
        self.groups = groups  # alive as long as the cache keys by their ids
        self.entries: list[RemoteNetwork] = []
        self.hidden_from: list[frozenset[str]] = []
        self.place: list[tuple[int, int]] = []
        """Each entry's group and its index there (its order in the table, among equals)."""
        for group_index, group in enumerate(groups):
            for index, (network, hidden) in enumerate(
                zip(group.networks, group.hidden_from, strict=True)
            ):
                self.entries.append(network)
                self.hidden_from.append(hidden)
                self.place.append((group_index, index))
        self.all_learned = all(entry.learned for entry in self.entries)
        self.conflicts: list[tuple[tuple[str, str], tuple[int, int], set[str]]] = []
        """Conflicts among the entries: each with its two entries (a VPC that does not see one
        of them does not have the conflict)."""
        blocks = [Block(entry.network, index) for index, entry in enumerate(self.entries)]
        for outer, inner in overlapping_pairs(blocks):
            wide, narrow = self.entries[outer.owner], self.entries[inner.owner]
            conflict = _conflict(wide, narrow)
            if conflict is not None:
                pair = (outer.owner, inner.owner)
                self.conflicts.append((conflict, pair, _involved(wide, narrow)))
        self.index = NetworkIndex([entry.network for entry in self.entries])

    def seen(self, index: int, own_attachments: list[str]) -> bool:
        """Whether a VPC whose attachments behind the groups are ``own_attachments`` (one per
        group, in order) reaches entry ``index``: not when it is its own attachment's route."""
        return own_attachments[self.place[index][0]] not in self.hidden_from[index]


def _table_conflicts(
    own: list[Network],
    parts: tuple[RemotePart, ...],
    shared_by_groups: dict[tuple[int, ...], SharedNetworks],
) -> Conflicts:
    """``_conflicts`` of the table's networks, its shared routes' part computed once for every
    table that has them (``SharedNetworks``)."""
    shared_parts = [(at, part) for at, part in enumerate(parts) if isinstance(part, SharedRoute)]
    if not shared_parts:
        return _conflicts(own, flattened(parts))
    groups = tuple(part.group for _, part in shared_parts)
    key = tuple(map(id, groups))  # SharedNetworks.groups keeps them, and so their ids, alive
    shared = shared_by_groups.get(key)
    if shared is None:
        shared = shared_by_groups[key] = SharedNetworks(groups)
    own_attachments = [part.own_attachment for _, part in shared_parts]
    found: Conflicts = {}
    for conflict, (one, other), involved in shared.conflicts:
        if shared.seen(one, own_attachments) and shared.seen(other, own_attachments):
            found.setdefault(conflict, set()).update(involved)
    # The table's other networks, with their place in it: own blocks first, then route order.
    local: list[tuple[Side, tuple[int, int]]] = [
        (network, (-1, index)) for index, network in enumerate(own)
    ]
    for at, part in enumerate(parts):
        if not isinstance(part, SharedRoute):
            local += [(network, (at, index)) for index, network in enumerate(part)]
    for conflict, involved in _conflicts(
        own, [side for side, _ in local if isinstance(side, RemoteNetwork)]
    ).items():
        found.setdefault(conflict, set()).update(involved)
    for side, place in local:
        network = _network(side)
        # A summary that is no network of its own conflicts with no learned network inside it
        # (``_conflict``): skip the range that may hold one route per spoke.
        summary = isinstance(side, RemoteNetwork) and not side.concrete and shared.all_learned
        for index in shared.index.overlapping(network, inside=not summary):
            if not shared.seen(index, own_attachments):
                continue
            entry = shared.entries[index]
            group_index, within = shared.place[index]
            entry_place = (shared_parts[group_index][0], within)
            if (int(network.network_address), network.prefixlen, place) < (
                int(entry.network.network_address),
                entry.network.prefixlen,
                entry_place,
            ):
                _add(found, _conflict(side, entry), side, entry)
            else:
                _add(found, _conflict(entry, side), entry, side)
    return found


@builtin_rule(
    "VPCE501",
    requires=(
        "vpcs",
        "route_tables",
        "subnets",
        "peering_connections",
        "transit_gateway_attachments",
        "transit_gateway_route_tables",
        "transit_gateway_routes",
        "vpn_connections",
        "vpn_gateways",
    ),
)
def connected_networks_conflict(ctx: RuleContext) -> CheckResult:
    topology = Topology(ctx.snapshot)
    configured = _parsed(
        [(c, "on_premises_cidrs in configuration") for c in ctx.settings.on_premises_cidrs]
    )
    shared_by_groups: dict[tuple[int, ...], SharedNetworks] = {}
    for scope in ctx.scopes():
        for vpc in scope.own_vpcs:
            own = parse_networks(vpc.cidr_blocks)
            conflicts: list[str] = []
            related: set[str] = set()
            remote = topology.remote_networks(scope, vpc, configured)
            tables = remote.by_table
            for table_id, parts in sorted(tables.items()):
                found = _table_conflicts(own, parts, shared_by_groups)
                for a, b in sorted(found):
                    conflicts.append(f"in {table_id}, {a} overlaps {b}")
                    related |= found[(a, b)]
            if not conflicts:
                if remote.unknown:
                    others = len(remote.unknown) - 1
                    yield ctx.skip(
                        scope,
                        vpc.vpc_id,
                        f"what {vpc.vpc_id} connects to is not all known: {remote.unknown[0]}"
                        + (f" (and {others} more)" if others else ""),
                    )
                continue
            described = "; ".join(conflicts[:10])
            more = f" and {len(conflicts) - 10} more" if len(conflicts) > 10 else ""
            yield ctx.finding(
                scope,
                vpc.vpc_id,
                f"{vpc.vpc_id} ({', '.join(vpc.cidr_blocks)}) connects to networks that "
                f"conflict: {described}{more}. A route table sends each address to one place "
                "only: part of one network is unreachable from its subnets, or reached by "
                "accident.",
                related=sorted(related | {*tables}),
            )


@dataclass(frozen=True)
class VpcRef:
    scope: ScopeView
    vpc: Vpc

    @property
    def vpc_id(self) -> str:
        return self.vpc.vpc_id


def _vpc_blocks(refs: Iterable[VpcRef]) -> list[Block[str]]:
    blocks: list[Block[str]] = []
    for ref in refs:
        for cidr in ref.vpc.cidr_blocks:
            network = parse_network(cidr)
            if network is not None:
                blocks.append(Block(network, ref.vpc_id))
    return blocks


@dataclass(frozen=True)
class Overlaps:
    """The VPCs whose blocks overlap one set of blocks, its own owners included, sorted.

    Held as the owners of the most shared network among those reached, kept as the index has
    them (not copied), plus the few others: with thousands of VPCs on one secondary block (EKS
    pods on 100.64.0.0/16) each beside a primary block of its own, each VPC's answer costs what
    its own blocks add, not a list of thousands."""

    common: tuple[str, ...]
    common_set: frozenset[str]
    rest: tuple[str, ...]
    rest_set: frozenset[str]

    def __len__(self) -> int:
        return len(self.common) + len(self.rest)

    def __contains__(self, vpc_id: object) -> bool:
        return vpc_id in self.common_set or vpc_id in self.rest_set

    def __iter__(self) -> Iterator[str]:
        return heapq.merge(self.common, self.rest) if self.rest else iter(self.common)

    def first(self, count: int) -> list[str]:
        if not self.rest:
            return list(self.common[:count])
        return list(islice(self, count))


NO_OVERLAPS = Overlaps((), frozenset(), (), frozenset())


class OverlapIndex:
    """Which VPCs overlap which, computed without listing every pair.

    Many VPCs often share one block (10.0.0.0/16). The search runs over distinct networks, VPCs
    with the same set of blocks share one answer, and an answer is built from the owners of
    the networks it reaches without copying the largest of them (``Overlaps``): ten thousand
    VPCs on one block, with or without a block of their own beside it, cost linear time, not
    ten thousand lists of ten thousand.
    """

    def __init__(self, refs: Iterable[VpcRef]) -> None:
        owners: dict[Network, set[str]] = defaultdict(set)
        self.blocks_by_vpc: dict[str, frozenset[Network]] = {}
        for ref in refs:
            blocks = frozenset(b.network for b in _vpc_blocks([ref]))
            self.blocks_by_vpc[ref.vpc_id] = blocks
            for network in blocks:
                owners[network].add(ref.vpc_id)
        self._networks = list(owners)
        self._owners = [tuple(sorted(owners[network])) for network in self._networks]
        self._owner_sets = [frozenset(owners[network]) for network in self._networks]
        self._network_index = NetworkIndex(self._networks)
        self._answers: dict[frozenset[Network], Overlaps] = {}

    def overlaps(self, blocks: frozenset[Network]) -> Overlaps:
        """The VPCs with a block overlapping one of ``blocks``."""
        answer = self._answers.get(blocks)
        if answer is None:
            answer = self._answers[blocks] = self._overlaps(blocks)
        return answer

    def _overlaps(self, blocks: frozenset[Network]) -> Overlaps:
        reached = {p for block in blocks for p in self._network_index.overlapping(block)}
        if not reached:
            return NO_OVERLAPS
        widest = max(reached, key=lambda p: (len(self._owners[p]), -p))
        common = self._owner_sets[widest]
        rest = {
            owner
            for position in reached
            if position != widest
            for owner in self._owners[position]
            if owner not in common
        }
        return Overlaps(self._owners[widest], common, tuple(sorted(rest)), frozenset(rest))

    def group(self, vpc_id: str) -> Overlaps:
        """Every VPC overlapping this one, itself included."""
        return self.overlaps(self.blocks_by_vpc[vpc_id])

    def others(self, vpc_id: str, limit: int) -> tuple[list[str], int]:
        """Up to ``limit`` other overlapping VPCs, and how many there are in all."""
        group = self.group(vpc_id)
        examples = [other for other in group.first(limit + 1) if other != vpc_id][:limit]
        return examples, len(group) - (vpc_id in group)


def _listing(examples: list[str], count: int) -> str:
    more = f" and {count - len(examples)} more" if count > len(examples) else ""
    return ", ".join(examples) + more


def _present_attachments(table: TransitGatewayRouteTable) -> frozenset[str] | None:
    """Attachments a transit-gateway route table routes to (an active route targets them) or
    learns routes from (they propagate into it); None when neither could be read."""
    if table.routes is None and table.propagating_attachment_ids is None:
        return None
    found = set(table.propagating_attachment_ids or ())
    for route in table.routes or ():
        if route.state == "active":
            found.update(route.attachment_ids)
    return frozenset(found)


@dataclass(frozen=True)
class _Partner:
    """An attached VPC compared with, never reported on: another account's VPC that was not
    scanned (its blocks as the gateway's propagated routes show them; none when no route read
    carries them), or a scanned VPC whose account-region the rule cannot judge (its blocks as
    collected)."""

    attachment: TransitGatewayAttachment
    blocks: tuple[str, ...]

    @property
    def vpc(self) -> Vpc:
        return Vpc(
            vpc_id=self.attachment.resource_id or "",
            owner_id=self.attachment.resource_owner_id or "",
            cidr_blocks=self.blocks,
        )

    @property
    def label(self) -> str:
        owner = self.attachment.resource_owner_id or "unknown"
        return f"{self.attachment.resource_id} of account {owner}"


def _attached_vpcs(
    ctx: RuleContext,
    topology: Topology,
    attachments: Iterable[TransitGatewayAttachment],
    eligible: set[tuple[str, str]],
) -> tuple[dict[str, str], list[VpcRef], list[_Partner]]:
    """The live VPC attachments of one gateway: (attachment id by VPC id, the scanned VPCs the
    rule judges, the others). The gateway owner sees every attachment."""
    by_vpc: dict[str, str] = {}
    refs: list[VpcRef] = []
    partners: list[_Partner] = []
    for attachment in attachments:
        vpc_id = attachment.resource_id
        if attachment.resource_type != "vpc" or not vpc_id or vpc_id in by_vpc:
            continue
        if attachment.state not in LIVE_ATTACHMENT_STATES:
            continue
        by_vpc[vpc_id] = attachment.attachment_id
        found = ctx.snapshot.vpcs_by_id.get(vpc_id)
        if found is None:
            blocks = topology.propagated_blocks(attachment.attachment_id)
            partners.append(_Partner(attachment, blocks))
        elif (found[0].account_id, found[0].region) in eligible:
            refs.append(VpcRef(found[0], found[1]))
        else:
            partners.append(_Partner(attachment, found[1].cidr_blocks))
    return by_vpc, refs, partners


def _unknown_neighbours(tgw_id: str, unseen: str | None, partners: list[_Partner]) -> str | None:
    """Why some VPC on the gateway may overlap a scanned one unseen, or None."""
    if unseen:
        # The gateway's other attachments (other accounts' VPCs) are its owner's to see.
        return f"what else is attached to {tgw_id} is unknown: {unseen}"
    blind = [partner.label for partner in partners if not partner.blocks]
    if blind:
        return (
            f"the blocks of {_listing(blind[:5], len(blind))}, attached to {tgw_id} but not "
            "scanned, are unknown: no route table of the gateway that was read holds a route "
            "they propagate"
        )
    return None


def _routed_shares(
    table: TransitGatewayRouteTable, attached: dict[str, str], blocks: dict[str, frozenset[Network]]
) -> Iterator[tuple[Network, str]]:
    """The parts of the joined VPCs' blocks ``table``'s routes send toward them, with the VPC
    each is sent to (``attached`` maps attachment id to VPC id). The most specific route that
    matches an address decides where it goes
    (https://docs.aws.amazon.com/vpc/latest/tgw/how-transit-gateways-work.html, route
    evaluation order): the addresses a more specific route blackholes or sends elsewhere are not
    sent toward the VPC by a wider one. A route to a prefix list, whose entries are not read, is
    taken to carry all of the VPC's blocks (and to take nothing from a wider route)."""
    routes = table.routes or ()
    destinations = [
        parse_network(route.destination_cidr) if route.destination_cidr else None
        for route in routes
    ]
    known = [
        (network, route) for network, route in zip(destinations, routes, strict=True) if network
    ]
    by_destination = NetworkIndex([network for network, _ in known])
    for route, destination in zip(routes, destinations, strict=True):
        if route.state != "active":
            continue  # a blackhole route drops what it matches: it reaches no VPC
        if destination is None and not route.prefix_list_id:
            continue
        for attachment_id in route.attachment_ids:
            vpc_id = attached.get(attachment_id)
            if vpc_id is None:
                continue
            for block in blocks[vpc_id]:
                part = block if destination is None else intersection(block, destination)
                if part is None:
                    continue
                if destination is None:
                    yield part, vpc_id
                    continue
                # A more specific route decides its addresses (one toward this VPC yields
                # them itself).
                narrower = [
                    network
                    for position in by_destination.overlapping(part)
                    if (network := known[position][0]).prefixlen > destination.prefixlen
                ]
                for piece in _without(part, narrower):
                    yield piece, vpc_id


def _without(network: Network, holes: list[Network]) -> list[Network]:
    """The parts of ``network`` outside every hole (blocks are nested or disjoint), in one sweep
    over the holes in address order: the gaps between them, summarised as networks."""
    inside: list[Network] = []
    for hole in sorted(holes, key=lambda h: (int(h.network_address), h.prefixlen)):
        if contains(hole, network):
            return []
        if contains(network, hole) and not (inside and contains(inside[-1], hole)):
            inside.append(hole)
    address = type(network.network_address)
    pieces: list[Network] = []
    start = int(network.network_address)
    for hole in inside:
        if int(hole.network_address) > start:
            gap = (address(start), address(int(hole.network_address) - 1))
            pieces.extend(ipaddress.summarize_address_range(*gap))
        start = int(hole.broadcast_address) + 1
    if start <= int(network.broadcast_address):
        gap = (address(start), network.broadcast_address)
        pieces.extend(ipaddress.summarize_address_range(*gap))
    return pieces


def _pairs_sharing_routed_parts(
    parts: Iterable[tuple[Network, str]], index: OverlapIndex
) -> dict[str, set[str]]:
    """For each VPC: the VPCs of ``index`` with which it shares an address that one of
    ``parts`` (part of a block, and the VPC a route sends it toward) sends toward one of the two.

    A VPC whose block overlaps a part sent toward another shares an address with it that is
    sent there (blocks are nested or disjoint), so the pairs are found from the parts through
    the index, in time that grows with the pairs found."""
    pairs: dict[str, set[str]] = defaultdict(set)
    for part, toward in set(parts):
        for other in index.overlaps(frozenset((part,))):
            if other != toward:
                pairs[toward].add(other)
                pairs[other].add(toward)
    return pairs


@dataclass
class _Joins:
    """What the gateway's route tables do with the VPCs that overlap others on it.

    A table that joins two overlapping VPCs (routes to or learns from both) conflicts where it
    sends an address both hold toward one of them: its other attachments reach that address in
    one VPC only, and AWS does not propagate the second VPC's overlapping block. One that joins
    them by their other blocks only leaves the shared range to each VPC's local route: AWS's
    design for connecting overlapping networks, a private NAT gateway in a routable block with
    the overlapping blocks kept off the gateway
    (https://docs.aws.amazon.com/whitepapers/latest/building-scalable-secure-multi-vpc-network-infrastructure/private-nat-gateway.html)."""

    conflicts: dict[str, list[str]]
    """Per VPC: each table that sends a shared address toward it or an overlapping VPC, said."""
    joined: dict[str, list[Overlaps]]
    """Per VPC: the overlapping VPCs (itself included) each table routes to or learns from."""
    unknown_tables: list[str]
    present: frozenset[str]
    """The VPCs some table with readable associations and propagations routes to or learns
    from."""
    routed_pairs: dict[str, set[str]]
    """Per VPC: the overlapping VPCs with which it shares an address some table with readable
    routes sends toward one of the two."""
    members: list[VpcRef]

    @cached_property
    def absent(self) -> OverlapIndex:
        """The VPCs not ``present``: what they would route is unknown."""
        return OverlapIndex(ref for ref in self.members if ref.vpc_id not in self.present)

    def unjoined(self, vpc_id: str, index: OverlapIndex) -> tuple[list[str], int]:
        """The overlapping VPCs no table joins to this one that would conflict with it if one
        did (up to ten, and how many): those with which it shares an address some table routes
        toward one of the two, or where what one of them routes is unknown. Two that each keep
        the shared range off every table of the gateway stay apart by design. (Asked only where
        every table's routes were read.)"""
        if vpc_id not in self.present:
            return index.others(vpc_id, limit=10)
        # No table joins an absent VPC to this one: each counts, uncopied.
        absent = self.absent.overlaps(index.blocks_by_vpc[vpc_id])
        tables = self.joined.get(vpc_id, ())
        routed = sorted(
            v
            for v in self.routed_pairs.get(vpc_id, ())
            if v not in absent and not any(v in group for group in tables)
        )
        examples = sorted((*absent.first(10), *routed[:10]))[:10]
        return examples, len(absent) + len(routed)


def _table_joins(
    topology: Topology,
    tgw_id: str,
    by_vpc: dict[str, str],
    members: list[VpcRef],
    index: OverlapIndex,
) -> _Joins:
    conflicts: dict[str, list[str]] = defaultdict(list)
    joined: dict[str, list[Overlaps]] = defaultdict(list)
    unknown_tables: list[str] = []
    present: set[str] = set()
    parts: list[tuple[Network, str]] = []
    for table in sorted(topology.tgw_route_tables.values(), key=lambda t: t.route_table_id):
        if table.transit_gateway_id != tgw_id:
            continue
        attachments = _present_attachments(table)
        if attachments is None:
            unknown_tables.append(table.route_table_id)
            continue
        members_here = [ref for ref in members if by_vpc[ref.vpc_id] in attachments]
        attached = {by_vpc[ref.vpc_id]: ref.vpc_id for ref in members_here}
        present.update(attached.values())
        table_index = OverlapIndex(members_here)
        if table.routes is None:
            # The VPCs known to be joined there propagate into it, and propagation carries
            # every block: each conflicts with all it overlaps there. Its static routes are
            # unknown: what it does with the others' shared ranges is too.
            unknown_tables.append(table.route_table_id)
            table_pairs = None
        else:
            table_parts = set(_routed_shares(table, attached, index.blocks_by_vpc))
            parts.extend(table_parts)
            table_pairs = _pairs_sharing_routed_parts(table_parts, table_index)
        for ref in members_here:
            group = table_index.group(ref.vpc_id)
            if len(group) < 2:
                continue
            joined[ref.vpc_id].append(group)
            if table_pairs is None:
                examples, count = table_index.others(ref.vpc_id, limit=5)
            else:
                pairs = table_pairs.get(ref.vpc_id, set())
                examples, count = sorted(pairs)[:5], len(pairs)
            if count:
                conflicts[ref.vpc_id].append(
                    f"{table.route_table_id} routes to both it and {_listing(examples, count)}"
                )
    return _Joins(
        conflicts,
        joined,
        unknown_tables,
        present=frozenset(present),
        routed_pairs=_pairs_sharing_routed_parts(parts, index),
        members=members,
    )


@builtin_rule(
    "VPCE502",
    requires=(
        "vpcs",
        "transit_gateway_attachments",
        "transit_gateway_route_tables",
        "transit_gateway_routes",
    ),
)
def cidr_overlap_transit_gateway(ctx: RuleContext) -> CheckResult:
    """Overlapping VPCs on one transit gateway. A route table that routes to (or learns routes
    from) both and sends an address they share toward one of them cannot reach both: the second
    VPC's overlapping block is not propagated
    (https://docs.aws.amazon.com/vpc/latest/tgw/tgw-route-tables.html) and the overlapping range
    goes to one of them only. One that joins them by their other blocks only is AWS's private
    NAT gateway design for overlapping networks, not flagged (``_Joins``). VPCs
    that no route table joins are a medium finding: isolated today, in the way of connecting
    them later."""
    topology = Topology(ctx.snapshot)
    eligible = {(s.account_id, s.region) for s in ctx.scopes()}
    for tgw_id, attachments in sorted(topology.attachments_by_tgw.items()):
        by_vpc, refs, others = _attached_vpcs(ctx, topology, attachments, eligible)
        if not refs:
            continue
        partners = [VpcRef(refs[0].scope, other.vpc) for other in others if other.blocks]
        unseen = next(
            (
                reason
                for ref in refs
                if (
                    reason := topology.gateway_unseen(
                        topology.attachments[by_vpc[ref.vpc_id]], ref.scope.region
                    )
                )
            ),
            None,
        )
        index = OverlapIndex([*refs, *partners])
        overlapping = [ref for ref in refs if index.others(ref.vpc_id, limit=1)[1] > 0]
        found = []
        if overlapping:
            overlapping_partners = [p for p in partners if index.others(p.vpc_id, limit=1)[1] > 0]
            joins = _table_joins(
                topology,
                tgw_id,
                by_vpc,
                [*overlapping, *overlapping_partners],
                index,
            )
            for ref in sorted(overlapping, key=lambda r: r.vpc_id):
                finding = _overlap_finding(ctx, tgw_id, ref, index, joins=joins, unseen=unseen)
                if finding is not None:
                    found.append(finding)
        doubt = _unknown_neighbours(tgw_id, unseen, others)
        if doubt is not None:
            # Overlapping nothing seen, or only VPCs kept apart, is no pass while something
            # attached is unseen.
            flagged = {finding.resource_id for finding in found}
            for ref in sorted(refs, key=lambda r: r.vpc_id):
                if ref.vpc_id not in flagged:
                    yield ctx.skip(ref.scope, ref.vpc_id, doubt)
        yield from found


def _overlap_finding(
    ctx: RuleContext,
    tgw_id: str,
    ref: VpcRef,
    index: OverlapIndex,
    *,
    joins: _Joins,
    unseen: str | None,
) -> Finding | None:
    """The finding on one VPC that overlaps others on the gateway; None where the VPCs it
    overlaps keep the ranges they share with it off the gateway and nothing else is in doubt."""
    if joins.unknown_tables or unseen or ref.vpc_id in joins.conflicts:
        examples, count = index.others(ref.vpc_id, limit=10)
    else:
        examples, count = joins.unjoined(ref.vpc_id, index)
        if not count:
            return None
    if ref.vpc_id in joins.conflicts:
        severity = ctx.severity
        how = (
            "; ".join(joins.conflicts[ref.vpc_id])
            + ". Such a table sends the addresses both hold to one of them only"
        )
    elif joins.unknown_tables:
        severity = Severity.MEDIUM
        how = (
            f"the routes of {', '.join(joins.unknown_tables)} could not be read, so whether a "
            "route table joins them is unknown"
        )
    elif unseen:
        severity = Severity.MEDIUM
        how = f"whether a route table of the gateway joins them is unknown: {unseen}"
    else:
        severity, how = Severity.MEDIUM, "no route table of the gateway joins them yet"
    return ctx.finding(
        ref.scope,
        ref.vpc_id,
        f"{ref.vpc_id} ({', '.join(ref.vpc.cidr_blocks)}) is attached to {tgw_id} with "
        f"{count} VPC(s) whose CIDR blocks overlap its own ({_listing(examples, count)}): "
        f"{how}.",
        related=examples,
        severity=ctx.severity_for(severity),
    )


def _routed_targets(scope: ScopeView, vpc_id: str) -> set[str]:
    """What the route tables of the VPC's subnets send traffic to: a gateway nothing routes to
    reaches nothing from the VPC, however unknown its own routes."""
    return {
        route.target_id or ""
        for table in scope.route_tables_with_subnets_by_vpc.get(vpc_id, ())
        for route in table.routes
    }


def _on_premises_prefixes(
    scope: ScopeView, topology: Topology, hybrid_routes: dict[str, list[tuple[str, str]]]
) -> tuple[dict[str, list[tuple[str, str]]], dict[str, list[str]]]:
    """On-premises prefixes reachable from each VPC of the scope: (cidr, where it came from);
    and, per VPC, why some of them are unknown (a transit gateway whose route table could not
    be read, or belongs to an account that was not scanned). ``hybrid_routes`` remembers each
    gateway route table's routes toward on-premises (a hub's table is every spoke's, and holds a
    route per spoke)."""
    found: dict[str, list[tuple[str, str]]] = defaultdict(list)
    unknown: dict[str, list[str]] = defaultdict(list)
    vgw_vpcs = {
        gateway.vpn_gateway_id: gateway.attached_vpc_ids for gateway in scope.data.vpn_gateways
    }
    tgw_vpcs: dict[str, set[str]] = defaultdict(set)
    for attachment in scope.data.transit_gateway_attachments:
        if attachment.resource_type == "vpc" and attachment.resource_id:
            tgw_vpcs[attachment.transit_gateway_id].add(attachment.resource_id)
    for connection in scope.data.vpn_connections:
        if connection.state.lower() in {"deleted", "deleting"}:
            continue
        vpcs: set[str] = set()
        if connection.vpn_gateway_id:
            vpcs.update(vgw_vpcs.get(connection.vpn_gateway_id, ()))
        if connection.transit_gateway_id:
            vpcs.update(tgw_vpcs.get(connection.transit_gateway_id, ()))
        for vpc_id in vpcs:
            for cidr in connection.static_route_cidrs:
                found[vpc_id].append((cidr, f"VPN {connection.vpn_connection_id} static route"))
    for table in scope.data.route_tables:
        for route in table.routes:
            if route.destination_cidr and (route.target_id or "").startswith("vgw-"):
                origin = "propagated" if route.origin == "EnableVgwRoutePropagation" else "static"
                found[table.vpc_id].append(
                    (
                        route.destination_cidr,
                        f"{origin} route to {route.target_id} in {table.route_table_id}",
                    )
                )
    # A core network's routes (and so its VPN and Connect prefixes) are not read.
    for tables in scope.route_tables_with_subnets_by_vpc.values():
        for route_table in tables:
            for route in route_table.routes:
                if route.is_active and target_kind(route.target_id) == "core-network":
                    unknown[route_table.vpc_id].append(
                        f"AWS Cloud WAN core network {route.target_id} "
                        f"({route_table.route_table_id} routes to it), whose routes and "
                        "on-premises prefixes are not read"
                    )
    # Transit-gateway routes toward VPN, Direct Connect and Connect attachments, in the route
    # table each VPC attachment is associated with (what the VPC can actually reach).
    for vpc_id, attachments in scope.vpc_attachments_by_vpc.items():
        for attachment in attachments:
            tgw_table = topology.association_table(attachment)
            gap = topology.association_gap(attachment, tgw_table, scope.region)
            if gap is not None and attachment.transit_gateway_id in _routed_targets(scope, vpc_id):
                unknown[vpc_id].append(gap)
            if tgw_table is None:
                continue
            hybrid = hybrid_routes.get(tgw_table.route_table_id)
            if hybrid is None:
                hybrid = hybrid_routes[tgw_table.route_table_id] = _hybrid_routes(
                    topology, tgw_table
                )
            found[vpc_id] += hybrid
    return found, unknown


def _hybrid_routes(topology: Topology, table: TransitGatewayRouteTable) -> list[tuple[str, str]]:
    """A gateway route table's active routes toward on-premises: (cidr, where it came from)."""
    found = []
    for route in table.routes or ():
        if route.destination_cidr is None or route.state != "active":
            continue
        toward = [
            target.attachment_id
            for target in route.targets
            if topology.target_kind(target) in HYBRID_ATTACHMENT_TYPES
        ]
        if toward:
            found.append(
                (route.destination_cidr, f"{table.route_table_id} route to {', '.join(toward)}")
            )
    return found


@builtin_rule(
    "VPCE503",
    requires=(
        "vpcs",
        "vpn_connections",
        "vpn_gateways",
        "route_tables",
        "transit_gateway_attachments",
        "transit_gateway_route_tables",
        "transit_gateway_routes",
    ),
)
def cidr_overlap_on_premises(ctx: RuleContext) -> CheckResult:
    """A VPC block that an on-premises prefix equals or lies inside: the VPC cannot reach that
    part of on-premises. A summary or default route that contains the VPC is normal."""
    topology = Topology(ctx.snapshot)
    configured = _parsed(
        [(c, "on_premises_cidrs in configuration") for c in ctx.settings.on_premises_cidrs]
    )
    hybrid_routes: dict[str, list[tuple[str, str]]] = {}
    for scope in ctx.scopes():
        prefixes, unknown = _on_premises_prefixes(scope, topology, hybrid_routes)
        for vpc in scope.own_vpcs:
            candidates = _parsed(prefixes.get(vpc.vpc_id, [])) + configured
            sources: dict[Network, set[str]] = defaultdict(set)
            for network, source in candidates:
                sources[network].add(source)
            # Every on-premises block has one owner, so each pair the sweep yields is one VPC
            # block against one on-premises prefix.
            blocks = _vpc_blocks([VpcRef(scope, vpc)])
            blocks += [Block(network, ON_PREMISES) for network in sources]
            overlaps_found = sorted(
                (
                    (str(mine.network), theirs.network)
                    for pair in overlapping_pairs(blocks)
                    for mine, theirs in [pair if pair[1].owner == ON_PREMISES else pair[::-1]]
                    if contains(mine.network, theirs.network)
                ),
                key=lambda found: (found[0], str(found[1])),
            )
            if not overlaps_found:
                if unknown.get(vpc.vpc_id):
                    gaps = unknown[vpc.vpc_id]
                    yield ctx.skip(
                        scope,
                        vpc.vpc_id,
                        f"the on-premises prefixes {vpc.vpc_id} reaches are not all known: it is "
                        f"attached to {gaps[0]}"
                        + (f" (and {len(gaps) - 1} more)" if len(gaps) > 1 else ""),
                    )
                continue
            described = "; ".join(
                f"{mine} overlaps {theirs} ({', '.join(sorted(sources[theirs]))})"
                for mine, theirs in overlaps_found
            )
            yield ctx.finding(
                scope,
                vpc.vpc_id,
                f"{vpc.vpc_id} has CIDR blocks that on-premises prefixes equal or lie inside: "
                f"{described}. The VPC's local route wins, so it cannot reach that part of "
                "on-premises, and on-premises cannot tell the two apart.",
            )


ON_PREMISES = "on-premises"


def _parsed(prefixes: Iterable[tuple[str, str]]) -> list[tuple[Network, str]]:
    """(network, source) for each prefix that parses; unparseable ones are dropped."""
    found = []
    for cidr, source in prefixes:
        network = parse_network(cidr)
        if network is not None:
            found.append((network, source))
    return found


@builtin_rule("VPCE504", requires=("vpcs",))
def cidr_overlap_organisation(ctx: RuleContext) -> CheckResult:
    # Each VPC once, from its owner's scope when the owner was scanned; a VPC shared by an owner
    # that was not scanned still has the blocks its participant sees, and still overlaps.
    eligible = {(scope.account_id, scope.region) for scope in ctx.scopes()}
    refs = [
        VpcRef(scope, vpc)
        for scope, vpc in ctx.snapshot.vpcs_by_id.values()
        if (scope.account_id, scope.region) in eligible and not vpc.is_default
    ]
    index = OverlapIndex(refs)
    for ref in sorted(refs, key=lambda r: r.vpc_id):
        examples, count = index.others(ref.vpc_id, limit=10)
        if count == 0:
            continue
        yield ctx.finding(
            ref.scope,
            ref.vpc_id,
            f"{ref.vpc_id} ({', '.join(ref.vpc.cidr_blocks)}) overlaps {count} other VPC(s) "
            f"of the scanned organisation: {_listing(examples, count)}. Connecting them later "
            "would need re-addressing.",
            related=examples,
            owner=ref.vpc.owner_id or None,
        )


@builtin_rule("VPCE505", requires=("transit_gateways",))
def transit_gateway_auto_accepts_attachments(ctx: RuleContext) -> CheckResult:
    """FSBP EC2.23: a transit gateway this account owns that accepts cross-account attachments
    without review (https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-23)."""
    for scope in ctx.scopes():
        for gateway in scope.data.transit_gateways:
            if gateway.owner_id and gateway.owner_id != scope.account_id:
                continue  # shared with this account; its owner decides
            if gateway.state.lower() in {"deleted", "deleting"}:
                continue
            if gateway.auto_accept_shared_attachments is None:
                yield ctx.skip(
                    scope,
                    gateway.transit_gateway_id,
                    "DescribeTransitGateways did not return AutoAcceptSharedAttachments",
                )
                continue
            if gateway.auto_accept_shared_attachments:
                yield ctx.finding(
                    scope,
                    gateway.transit_gateway_id,
                    f"Transit gateway {gateway.transit_gateway_id} accepts attachments from "
                    "accounts it is shared with automatically (AutoAcceptSharedAttachments = "
                    "enable): any VPC of those accounts joins its route tables without review.",
                )
