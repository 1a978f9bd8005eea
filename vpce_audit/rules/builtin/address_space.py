"""5xx: overlapping address space across connected networks."""

from __future__ import annotations

from vpce_audit.analysis.cidrs import Block, overlapping_pairs, parse_network
from vpce_audit.model import PeeringConnection, PeeringSide
from vpce_audit.rules.base import CheckResult, RuleContext, builtin_rule
from vpce_audit.snapshot.views import Snapshot


def side_cidrs(snapshot: Snapshot, side: PeeringSide) -> tuple[str, ...]:
    """The IPv4 blocks of one side of a peering.

    The peering connection carries the blocks AWS associates with it; when the VPC itself is in
    the snapshot, its current blocks are added (a secondary block added later shows there).
    """
    blocks = set(side.cidr_blocks)
    found = snapshot.vpcs_by_id.get(side.vpc_id)
    if found is not None:
        blocks.update(found[1].cidr_blocks)
    return tuple(sorted(blocks))


def peering_overlaps(snapshot: Snapshot, connection: PeeringConnection) -> list[tuple[str, str]]:
    blocks: list[Block[str]] = []
    for owner, side in (("requester", connection.requester), ("accepter", connection.accepter)):
        for cidr in side_cidrs(snapshot, side):
            network = parse_network(cidr)
            if network is not None and network.version == 4:
                blocks.append(Block(network, owner))
    pairs: set[tuple[str, str]] = set()
    for first, second in overlapping_pairs(blocks):
        requester, accepter = (first, second) if first.owner == "requester" else (second, first)
        pairs.add((str(requester.network), str(accepter.network)))
    return sorted(pairs)


@builtin_rule("VPCE501", requires=("peering_connections", "vpcs"))
def cidr_overlap_peering(ctx: RuleContext) -> CheckResult:
    for scope, connection in ctx.snapshot.peering_connections(ctx.scopes()):
        if not connection.is_active:
            continue
        pairs = peering_overlaps(ctx.snapshot, connection)
        if not pairs:
            continue
        requester, accepter = connection.requester, connection.accepter
        described = ", ".join(f"{a} overlaps {b}" for a, b in pairs)
        yield ctx.finding(
            scope,
            connection.peering_connection_id,
            f"Peering connection {connection.peering_connection_id} joins {requester.vpc_id} "
            f"(account {requester.owner_id}, {requester.region}) and {accepter.vpc_id} "
            f"(account {accepter.owner_id}, {accepter.region}) whose IPv4 blocks overlap: "
            f"{described}. Traffic to the overlapping range cannot be routed across the peering.",
            related=(requester.vpc_id, accepter.vpc_id),
        )
