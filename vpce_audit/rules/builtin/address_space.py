"""5xx: overlapping address space across connected networks."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from vpce_audit.analysis.cidrs import Block, Network, overlapping_pairs, parse_network
from vpce_audit.findings import Severity
from vpce_audit.model import PeeringConnection, PeeringSide, Vpc
from vpce_audit.rules.base import CheckResult, RuleContext, builtin_rule
from vpce_audit.snapshot.views import ScopeView, Snapshot


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
class OverlapIndex:
    """Which VPCs overlap which, computed without listing every pair.

    Many VPCs often share one block (10.0.0.0/16). The sweep runs over distinct networks, and
    VPCs with the same set of blocks share one answer, so ten thousand VPCs on one block cost
    linear time, not ten thousand lists of ten thousand.
    """

    blocks_by_vpc: dict[str, frozenset[Network]]
    group_by_blocks: dict[frozenset[Network], tuple[str, ...]]
    """For each set of blocks: every VPC overlapping it, sorted, including its own owners."""

    def group(self, vpc_id: str) -> tuple[str, ...]:
        return self.group_by_blocks[self.blocks_by_vpc[vpc_id]]

    def others(self, vpc_id: str, limit: int) -> tuple[list[str], int]:
        """Up to ``limit`` other overlapping VPCs, and how many there are in all."""
        group = self.group(vpc_id)
        examples = [other for other in group[: limit + 1] if other != vpc_id][:limit]
        return examples, len(group) - 1


def overlap_index(refs: Iterable[VpcRef]) -> OverlapIndex:
    owners_by_network: dict[Network, set[str]] = defaultdict(set)
    blocks_by_vpc: dict[str, frozenset[Network]] = {}
    for ref in refs:
        blocks = frozenset(b.network for b in _vpc_blocks([ref]))
        blocks_by_vpc[ref.vpc_id] = blocks
        for network in blocks:
            owners_by_network[network].add(ref.vpc_id)
    neighbours: dict[Network, set[Network]] = {n: {n} for n in owners_by_network}
    for outer, inner in overlapping_pairs(Block(n, n) for n in owners_by_network):
        neighbours[outer.network].add(inner.network)
        neighbours[inner.network].add(outer.network)
    groups: dict[frozenset[Network], tuple[str, ...]] = {}
    for blocks in set(blocks_by_vpc.values()):
        reached = {n for block in blocks for n in neighbours[block]}
        groups[blocks] = tuple(sorted({o for n in reached for o in owners_by_network[n]}))
    return OverlapIndex(blocks_by_vpc, groups)


def _listing(examples: list[str], count: int) -> str:
    more = f" and {count - len(examples)} more" if count > len(examples) else ""
    return ", ".join(examples) + more


def _attachment_domains(
    scopes: Iterable[ScopeView],
) -> tuple[dict[str, dict[str, str]], dict[str, frozenset[str] | None]]:
    """VPC attachments per transit gateway (vpc id -> attachment id) and the TGW route tables
    each attachment is associated with or propagates to (None when that is unknown)."""
    vpcs_by_tgw: dict[str, dict[str, str]] = defaultdict(dict)
    tables_by_attachment: dict[str, set[str]] = defaultdict(set)
    unknown: set[str] = set()
    for scope in scopes:
        for attachment in scope.data.transit_gateway_attachments:
            if attachment.resource_type != "vpc" or attachment.resource_id is None:
                continue
            if attachment.state not in {"available", "modifying", "pendingAcceptance"}:
                continue
            vpcs_by_tgw[attachment.transit_gateway_id][attachment.resource_id] = (
                attachment.attachment_id
            )
            if attachment.association_route_table_id:
                tables_by_attachment[attachment.attachment_id].add(
                    attachment.association_route_table_id
                )
        for table in scope.data.transit_gateway_route_tables:
            for members in (table.associated_attachment_ids, table.propagating_attachment_ids):
                if members is None:
                    unknown.add(table.transit_gateway_id)
                    continue
                for attachment_id in members:
                    tables_by_attachment[attachment_id].add(table.route_table_id)
    domains: dict[str, frozenset[str] | None] = {}
    for tgw_id, attached in vpcs_by_tgw.items():
        for attachment_id in attached.values():
            domains[attachment_id] = (
                None if tgw_id in unknown else frozenset(tables_by_attachment[attachment_id])
            )
    return dict(vpcs_by_tgw), domains


@builtin_rule(
    "VPCE502",
    requires=("vpcs", "transit_gateway_attachments", "transit_gateway_route_tables"),
)
def cidr_overlap_transit_gateway(ctx: RuleContext) -> CheckResult:
    vpcs_by_tgw, domains = _attachment_domains(ctx.scopes())
    eligible = {(s.account_id, s.region) for s in ctx.scopes()}
    sentences: dict[str, list[str]] = defaultdict(list)
    severities: dict[str, Severity] = {}
    related: dict[str, list[str]] = defaultdict(list)
    refs_by_id: dict[str, VpcRef] = {}
    for tgw_id in sorted(vpcs_by_tgw):
        attachments = vpcs_by_tgw[tgw_id]
        refs = []
        for vpc_id in attachments:
            found = ctx.snapshot.vpcs_by_id.get(vpc_id)
            if found is not None and (found[0].account_id, found[0].region) in eligible:
                refs.append(VpcRef(found[0], found[1]))
        refs_by_id.update((ref.vpc_id, ref) for ref in refs)
        index = overlap_index(refs)
        domain = {ref.vpc_id: domains.get(attachments[ref.vpc_id]) for ref in refs}
        # Per group of VPCs: how many members sit in each TGW route table, and how many in
        # tables that could not be read. A VPC shares a table with an overlapping VPC when a
        # table of its own holds another member.
        tables_in_group: dict[tuple[str, ...], Counter[str]] = {}
        unknown_in_group: dict[tuple[str, ...], int] = {}
        for ref in sorted(refs, key=lambda r: r.vpc_id):
            examples, count = index.others(ref.vpc_id, limit=10)
            if count == 0:
                continue
            group = index.group(ref.vpc_id)
            if group not in tables_in_group:
                tables_in_group[group] = Counter(
                    t for member in group for t in (domain[member] or ())
                )
                unknown_in_group[group] = sum(1 for member in group if domain[member] is None)
            own = domain[ref.vpc_id]
            if own is not None and any(tables_in_group[group][t] > 1 for t in own):
                severity, how = ctx.severity, "sharing a route table with at least one of them"
            elif own is None or unknown_in_group[group] > 0:
                severity, how = Severity.MEDIUM, "route-table sharing unknown"
            else:
                severity, how = Severity.MEDIUM, "isolated from them in separate route tables"
            severities[ref.vpc_id] = max(severities.get(ref.vpc_id, severity), severity)
            sentences[ref.vpc_id].append(
                f"on {tgw_id}, {count} VPC(s) overlap it ({_listing(examples, count)}), {how}"
            )
            related[ref.vpc_id] += examples
    for vpc_id in sorted(sentences):
        ref = refs_by_id[vpc_id]
        yield ctx.finding(
            ref.scope,
            vpc_id,
            f"{vpc_id} ({', '.join(ref.vpc.cidr_blocks)}) is attached to a transit gateway with "
            f"VPCs whose CIDR blocks overlap its own: {'; '.join(sentences[vpc_id])}.",
            related=related[vpc_id],
            severity=severities[vpc_id],
        )


def _on_premises_prefixes(scope: ScopeView) -> dict[str, list[tuple[str, str]]]:
    """On-premises prefixes reachable from each VPC of the scope: (cidr, where it came from)."""
    found: dict[str, list[tuple[str, str]]] = defaultdict(list)
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
    # TGW routes toward VPN and Direct Connect attachments (present in converted or recorded
    # snapshots; collection cannot list TGW routes with read-only calls).
    kinds = {a.attachment_id: a.resource_type for a in scope.data.transit_gateway_attachments}
    for tgw_table in scope.data.transit_gateway_route_tables:
        for tgw_route in tgw_table.routes or ():
            if tgw_route.destination_cidr is None or tgw_route.state != "active":
                continue
            toward = [
                a
                for a in tgw_route.attachment_ids
                if kinds.get(a) in {"vpn", "direct-connect-gateway"}
            ]
            if not toward:
                continue
            for vpc_id in tgw_vpcs.get(tgw_table.transit_gateway_id, ()):
                found[vpc_id].append(
                    (
                        tgw_route.destination_cidr,
                        f"{tgw_table.route_table_id} route to {', '.join(toward)}",
                    )
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
    ),
)
def cidr_overlap_on_premises(ctx: RuleContext) -> CheckResult:
    configured = _parsed(
        [(c, "on_premises_cidrs in configuration") for c in ctx.settings.on_premises_cidrs]
    )
    for scope in ctx.scopes():
        prefixes = _on_premises_prefixes(scope)
        for vpc in sorted(scope.data.vpcs, key=lambda v: v.vpc_id):
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
                ),
                key=lambda found: (found[0], str(found[1])),
            )
            if not overlaps_found:
                continue
            described = "; ".join(
                f"{mine} overlaps {theirs} ({', '.join(sorted(sources[theirs]))})"
                for mine, theirs in overlaps_found
            )
            yield ctx.finding(
                scope,
                vpc.vpc_id,
                f"{vpc.vpc_id} has CIDR blocks that overlap on-premises prefixes: {described}. "
                "Traffic between the two cannot be routed unambiguously.",
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
    refs = [
        VpcRef(scope, vpc)
        for scope in ctx.scopes()
        for vpc in scope.data.vpcs
        if not vpc.is_default
    ]
    index = overlap_index(refs)
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
        )
