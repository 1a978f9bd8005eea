"""How a VPC connects to other networks: peering, transit gateways, virtual private gateways.

Everything here starts from the VPC's own route tables (the tables that decide some subnet's
traffic) and follows the next hop: an active peering connection, or a transit gateway whose
route table (the one the VPC's attachment is associated with) routes the destination onwards.
Transit-gateway routes come from SearchTransitGatewayRoutes; where they could not be read, the
attachments that propagate into the table stand in for them.
"""

from __future__ import annotations

import bisect
import dataclasses
import ipaddress
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from vpce_audit.analysis.cidrs import (
    Network,
    NetworkIndex,
    intersection,
    parse_network,
    parse_networks,
)
from vpce_audit.analysis.routes import prefix_list_gap, route_networks, target_kind
from vpce_audit.analysis.trust import Trust, TrustedSet
from vpce_audit.cached import cached_property
from vpce_audit.model import (
    PeeringConnection,
    Route,
    RouteTable,
    Subnet,
    TransitGatewayAttachment,
    TransitGatewayRoute,
    TransitGatewayRouteTable,
    TransitGatewayRouteTarget,
    Vpc,
)
from vpce_audit.snapshot.views import (
    CARRYING_ATTACHMENT_STATES,
    LIVE_ATTACHMENT_STATES,
    ScopeView,
    Snapshot,
)

HYBRID_ATTACHMENT_TYPES = frozenset(
    {"vpn", "vpn-concentrator", "direct-connect-gateway", "connect", "client-vpn"}
)
"""Attachment types that lead outside AWS: on premises (a VPN concentrator aggregates VPN
connections), or to remote users (Client VPN)."""
PEERING_ATTACHMENT_TYPES = frozenset({"peering", "tgw-peering"})
"""Attachments to another transit gateway, which may be the same account's in another region
(https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateTransitGatewayPeeringAttachment.html)."""
DEAD_VPN_STATES = frozenset({"deleted", "deleting"})
ON_PREMISES = "on-premises"
GATEWAY_KINDS = ("transit_gateway_attachments", "transit_gateway_route_tables")
"""What the owner of a transit gateway holds of it that no participant sees."""


@dataclass(frozen=True)
class Reach:
    """Whether traffic from one VPC gets to a network, and how."""

    reachable: bool | None
    """None when the snapshot cannot say (a transit gateway owned by an account not scanned)."""
    how: str
    followed: bool = False
    """The path was followed beyond the asking VPC's own routes (into an inspection VPC,
    through a firewall endpoint): ``how`` then says where it ends, even when it does not reach."""
    appliance: bool = False
    """The path passes a Gateway Load Balancer endpoint: a firewall, which must see both
    directions of a flow."""
    crosses_gateway: bool = False
    """The path crosses a transit gateway, where a security-group rule that references the
    asking VPC's groups matches nothing at a PrivateLink endpoint. From ``Topology.reach``: the
    way of some route table of the VPC that reaches, whichever ``how`` names."""


_MIDDLEBOX_KINDS = frozenset(
    {"vpc-endpoint", "network-interface", "instance", "core-network", "other", "unknown"}
)
"""Route targets that hand traffic to something that forwards it by routes of its own: in a VPC
route table a ``vpce-`` target is a Gateway Load Balancer endpoint (AWS Network Firewall's
endpoints are such), and an ENI or instance target an appliance
(https://docs.aws.amazon.com/vpc/latest/userguide/route-table-options.html#route-tables-appliance-routing).
An AWS Cloud WAN core network, whose routes are not read, and a target of a kind this analysis
does not know (one AWS adds later, one the collector could not read) are as unknown."""


@dataclass(frozen=True)
class Goal:
    """Where traffic is bound: a block inside a destination VPC."""

    network: ipaddress.IPv4Network
    vpc_id: str


NO_SUBNETS: Mapping[str, str] = MappingProxyType({})

MAX_HOPS = 4
"""Middle hops followed on one path (an inspection VPC's attachment and its firewall endpoint are
two): a longer chain, or a loop, is unknown."""
ROUTING_KINDS = ("subnets", "route_tables", "vpc_endpoints", "transit_gateway_attachments")
"""What following a path through a VPC reads of its account-region."""


def _after(step: str, onward: Reach, *, followed: bool = False) -> Reach:
    """``onward`` as seen from one step before it: the step prefixes how it is reached, and,
    on a followed path, where it ends; otherwise why it is not (or may not be) reached is
    onward's own reason."""
    followed = followed or onward.followed
    if onward.reachable or followed:
        # The constructor, not dataclasses.replace: this runs for every step of every path.
        return Reach(
            onward.reachable,
            f"{step} -> {onward.how}",
            followed,
            onward.appliance,
            onward.crosses_gateway,
        )
    return onward


def _zone_of(subnet: Subnet | None) -> str | None:
    """A subnet's Availability Zone: its id where known (names differ between accounts)."""
    if subnet is None:
        return None
    return subnet.availability_zone_id or subnet.availability_zone or None


def in_region_zone(subnet: Subnet, region: str) -> bool:
    """Whether the subnet lies in one of the region's Availability Zones (us-east-1a), not in a
    Local Zone or Wavelength Zone (us-west-2-lax-1a). Those cannot hold a transit-gateway
    attachment and reach a gateway through their parent zone
    (https://docs.aws.amazon.com/local-zones/latest/ug/local-zones-connectivity-transit-gateway-lzs.html),
    which this analysis does not follow."""
    name = subnet.availability_zone
    return name.startswith(region) and len(name) == len(region) + 1 and name[-1].isalpha()


def _zones_of(scope: ScopeView, subnet_ids: Iterable[str]) -> set[str | None]:
    """The zones of an attachment's subnets (None for a subnet the scope does not hold)."""
    return {_zone_of(scope.subnets_by_id.get(subnet_id)) for subnet_id in subnet_ids}


class Topology:
    """Connectivity questions over one snapshot, with the joins they need built once."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    @cached_property
    def peerings_by_id(self) -> dict[str, PeeringConnection]:
        return {c.peering_connection_id: c for _, c in self.snapshot.peering_connections()}

    @cached_property
    def peerings_by_vpc(self) -> dict[str, tuple[PeeringConnection, ...]]:
        grouped: dict[str, list[PeeringConnection]] = {}
        for connection in self.peerings_by_id.values():
            if connection.is_active:
                for side in (connection.requester, connection.accepter):
                    grouped.setdefault(side.vpc_id, []).append(connection)
        return {vpc_id: tuple(found) for vpc_id, found in grouped.items()}

    @cached_property
    def tgw_route_tables(self) -> dict[str, TransitGatewayRouteTable]:
        return {
            table.route_table_id: table
            for scope in self.snapshot.scopes
            for table in scope.data.transit_gateway_route_tables
        }

    @cached_property
    def attachments(self) -> dict[str, TransitGatewayAttachment]:
        """Every transit-gateway attachment, as its owner or the gateway's owner sees it."""
        found: dict[str, TransitGatewayAttachment] = {}
        for scope in self.snapshot.scopes:
            for attachment in scope.data.transit_gateway_attachments:
                known = found.get(attachment.attachment_id)
                # The gateway owner's view carries the association; prefer it.
                if known is None or known.association_route_table_id is None:
                    found[attachment.attachment_id] = attachment
        return found

    @cached_property
    def attachments_by_tgw(self) -> dict[str, tuple[TransitGatewayAttachment, ...]]:
        grouped: dict[str, list[TransitGatewayAttachment]] = {}
        for attachment in self.attachments.values():
            grouped.setdefault(attachment.transit_gateway_id, []).append(attachment)
        return {
            tgw: tuple(sorted(found, key=lambda a: a.attachment_id))
            for tgw, found in grouped.items()
        }

    @cached_property
    def vpc_attachments_by_gateway(
        self,
    ) -> dict[tuple[str, str], tuple[TransitGatewayAttachment, ...]]:
        """(gateway, VPC) -> that VPC's attachments to the gateway, whatever their state."""
        grouped: dict[tuple[str, str], list[TransitGatewayAttachment]] = {}
        for gateway, found in self.attachments_by_tgw.items():
            for attachment in found:
                if attachment.resource_type == "vpc" and attachment.resource_id is not None:
                    grouped.setdefault((gateway, attachment.resource_id), []).append(attachment)
        return {key: tuple(found) for key, found in grouped.items()}

    @cached_property
    def _longest_prefixes(self) -> dict[str, LongestPrefix]:
        return {}

    def _longest_prefix(self, table: TransitGatewayRouteTable) -> LongestPrefix:
        index = self._longest_prefixes.get(table.route_table_id)
        if index is None:
            index = self._longest_prefixes[table.route_table_id] = LongestPrefix(table.routes or ())
        return index

    @cached_property
    def _propagated_blocks(self) -> dict[str, tuple[str, ...]]:
        found: dict[str, dict[str, None]] = {}
        for table in self.tgw_route_tables.values():
            for route in table.routes or ():
                if route.route_type != "propagated" or route.state != "active":
                    continue
                if not route.destination_cidr or ":" in route.destination_cidr:
                    continue
                for attachment_id in route.attachment_ids:
                    found.setdefault(attachment_id, {})[route.destination_cidr] = None
        return {attachment_id: tuple(blocks) for attachment_id, blocks in found.items()}

    def propagated_blocks(self, attachment_id: str) -> tuple[str, ...]:
        """The IPv4 blocks a VPC attachment propagates into the gateway's route tables that were
        read: the VPC's own blocks (https://docs.aws.amazon.com/vpc/latest/tgw/tgw-route-tables.html,
        "route propagation"), seen even where the VPC's account was not scanned. Empty when it
        propagates into none of them."""
        return self._propagated_blocks.get(attachment_id, ())

    def gateway_unseen(self, attachment: TransitGatewayAttachment, region: str) -> str | None:
        """Why the gateway's side of an attachment is unknown, or None when it is known.

        A participant account sees its own attachments to a gateway shared with it (through
        RAM), not the gateway's route tables nor the other accounts' attachments: those come
        from the gateway owner's account-region, which may not have been scanned."""
        gateway, owner = attachment.transit_gateway_id, attachment.transit_gateway_owner_id
        if owner is None:
            if any(t.transit_gateway_id == gateway for t in self.tgw_route_tables.values()):
                return None
            return f"the owner of {gateway} is unknown and its route tables are not in the snapshot"
        scope = self.snapshot.scope_by_place.get((owner, region))
        if scope is None:
            return f"{gateway} belongs to account {owner}, whose {region} was not scanned"
        failed = [kind for kind in GATEWAY_KINDS if kind in scope.failed_kinds]
        if failed:
            return (
                f"the {' and '.join(kind.replace('_', ' ') for kind in failed)} of "
                f"{owner}/{region}, which owns {gateway}, were not collected"
            )
        return None

    def association_table(
        self, attachment: TransitGatewayAttachment
    ) -> TransitGatewayRouteTable | None:
        table_id = self.attachments[attachment.attachment_id].association_route_table_id
        if table_id is None:
            for table in self.tgw_route_tables.values():
                if attachment.attachment_id in (table.associated_attachment_ids or ()):
                    return table
            return None
        return self.tgw_route_tables.get(table_id)

    # -- reaching a network ----------------------------------------------------------------

    def reach(
        self,
        scope: ScopeView,
        vpc_id: str,
        destination_vpc_id: str,
        networks: Iterable[Network],
        from_subnets: Iterable[str] | None = None,
    ) -> Reach:
        """Whether the VPC's route tables send traffic for ``networks`` (blocks inside the
        destination VPC) onwards to that VPC: some table that a subnet uses, or with
        ``from_subnets``, the table of one of those subnets.

        Remembered for the topology's life (its snapshot does not change): VPCE207 asks the same
        of each spoke for every record of every service zone, both ways, for each interface."""
        networks = tuple(networks)
        key = (
            scope.account_id,
            scope.region,
            vpc_id,
            destination_vpc_id,
            networks,
            None if from_subnets is None else tuple(from_subnets),
        )
        found = self._reached.get(key)
        if found is None:
            found = self._reached[key] = self._reach(
                scope, vpc_id, destination_vpc_id, networks, key[5]
            )
        return found

    @cached_property
    def _reached(self) -> dict[tuple[object, ...], Reach]:
        return {}

    def _reach(
        self,
        scope: ScopeView,
        vpc_id: str,
        destination_vpc_id: str,
        networks: tuple[Network, ...],
        from_subnets: tuple[str, ...] | None,
    ) -> Reach:
        if vpc_id == destination_vpc_id:
            return Reach(True, "the same VPC")
        tables = scope.route_tables_with_subnets_by_vpc.get(vpc_id, ())
        unknown: list[str] = []
        broken: list[str] = []
        for network in networks:
            if not isinstance(network, ipaddress.IPv4Network):
                continue
            goal = Goal(network, destination_vpc_id)
            if from_subnets is None:
                verdicts = [self._table_reach(scope, vpc_id, t, goal, hops=0) for t in tables]
            else:
                # Replies leave by the subnet of the interface that answers: each one (each zone)
                # must lead back, from its own zone.
                verdicts = [
                    self._subnets_reach(scope, vpc_id, from_subnets, goal, hops=0, transit=False)
                ]
            reached = [verdict for verdict in verdicts if verdict.reachable]
            if reached:
                # Whether some table's way crosses a gateway is the VPC's, whichever table is
                # named first: its subnets' clients are refused where only a reference admits.
                first = reached[0]
                if first.crosses_gateway or not any(v.crosses_gateway for v in reached):
                    return first
                return Reach(first.reachable, first.how, first.followed, first.appliance, True)
            for verdict in verdicts:
                if verdict.reachable is None:
                    unknown.append(verdict.how)
                elif verdict.followed:
                    broken.append(verdict.how)  # where, beyond this VPC's tables, it ends
        if unknown:
            return Reach(None, unknown[0])
        return Reach(False, broken[0] if broken else "no route of its route tables leads there")

    def _table_reach(
        self,
        scope: ScopeView,
        vpc_id: str,
        table: RouteTable,
        goal: Goal,
        *,
        hops: int,
        transit: bool = False,
        subnet: Subnet | None = None,
    ) -> Reach:
        """Whether the route ``table`` of ``vpc_id`` sends traffic for the goal's network on to
        its VPC. ``hops``: the middle hops followed so far on this path; ``transit``: the
        traffic entered this VPC from a transit gateway (it is not this VPC's own); ``subnet``:
        the subnet it leaves from, where known (its zone decides whether a gateway takes it)."""
        choice = scope.route_index(table).choice(goal.network)
        if choice.contenders:
            # A route to a prefix list whose entries are unknown may win: where this table
            # sends the traffic is unknown, not whatever the known routes say.
            lists = sorted({r.destination_prefix_list_id or "?" for r in choice.contenders})
            return Reach(
                None,
                f"{table.route_table_id} routes to prefix list {', '.join(lists)}, "
                "whose entries are unknown",
            )
        route = choice.route
        if route is None or not route.is_active:
            return Reach(False, f"{table.route_table_id} (of {vpc_id}) has no route there")
        kind = target_kind(route.target_id)
        if kind == "peering-connection":
            return self._over_peering(table, vpc_id, route.target_id or "", goal, transit)
        if kind == "vpc-endpoint" and hops < MAX_HOPS:
            onward = self._through_endpoint(
                scope, vpc_id, route.target_id or "", goal, hops=hops + 1, transit=transit
            )
            if onward is not None:
                return _after(table.route_table_id, onward)
        if kind in _MIDDLEBOX_KINDS:
            # An appliance's interface or instance forwards the traffic by routes of its own, not
            # followed here; so does a Gateway Load Balancer endpoint this snapshot cannot follow.
            return Reach(
                None,
                f"{table.route_table_id} sends it to "
                f"{route.target_id or 'a target the scan could not read'} ({kind}), "
                "whose onward path this scan does not follow",
            )
        if kind == "transit-gateway":
            tgw_id = route.target_id or ""
            if subnet is not None:
                absent = self._zone_not_attached(scope, vpc_id, tgw_id, subnet)
                if absent is not None:
                    return Reach(
                        False, f"{table.route_table_id} (of {vpc_id}) {absent}", followed=True
                    )
            onward = self._through_tgw(scope, vpc_id, tgw_id, goal, hops)
            crossed = Reach(onward.reachable, onward.how, onward.followed, onward.appliance, True)
            return _after(table.route_table_id, crossed)
        return Reach(False, f"{table.route_table_id} sends it to {route.target_id} ({kind})")

    def _over_peering(
        self, table: RouteTable, vpc_id: str, connection_id: str, goal: Goal, transit: bool
    ) -> Reach:
        connection = self.peerings_by_id.get(connection_id)
        if (
            connection is None
            or not connection.is_active
            or {connection.requester.vpc_id, connection.accepter.vpc_id} != {vpc_id, goal.vpc_id}
        ):
            return Reach(False, f"{table.route_table_id} sends it to {connection_id}")
        if transit:
            # Traffic that entered this VPC from a transit gateway is not this VPC's: a peering
            # connection does not carry it on (no transitive peering, no edge-to-edge routing:
            # https://docs.aws.amazon.com/vpc/latest/peering/vpc-peering-basics.html).
            return Reach(
                False,
                f"{table.route_table_id} (of {vpc_id}) sends it over {connection_id}, which does "
                f"not carry traffic that entered {vpc_id} from a transit gateway",
            )
        return Reach(True, f"{table.route_table_id} -> {connection_id}")

    def _zone_not_attached(
        self, scope: ScopeView, vpc_id: str, tgw_id: str, subnet: Subnet
    ) -> str | None:
        """Why ``subnet`` cannot send traffic to the gateway, or None: a transit gateway takes a
        VPC's traffic only in the Availability Zones where its attachment has a subnet
        (https://docs.aws.amazon.com/vpc/latest/tgw/how-transit-gateways-work.html). None too
        when the attachment's zones are unknown, or the subnet is in a Local Zone."""
        found = self.attachment_zones(scope, vpc_id, tgw_id)
        if isinstance(found, str) or not in_region_zone(subnet, scope.region):
            return None
        if found.covers(subnet):
            return None
        return (
            f"sends it to {tgw_id} from zone {subnet.availability_zone}, where "
            f"{found.attachment.attachment_id} has no subnet: the gateway takes no traffic from "
            "that zone"
        )

    def attachment_zones(self, scope: ScopeView, vpc_id: str, tgw_id: str) -> AttachmentZones | str:
        """The Availability Zones where the VPC's attachment to the gateway has a subnet (the
        only zones whose traffic the gateway takes), or why they are unknown. ``scope``: the
        VPC owner's account-region."""
        attachment = self._own_attachment(scope, vpc_id, tgw_id)
        if attachment is None:
            return (
                f"no live attachment (available, pending or modifying) of {vpc_id} to {tgw_id} "
                "is in the snapshot"
            )
        facts = self._attachment_facts.get(attachment.attachment_id)
        if facts is None or facts.subnet_ids is None:
            return f"the subnets of {attachment.attachment_id} were not read"
        subnets = [scope.subnets_by_id.get(subnet_id) for subnet_id in facts.subnet_ids]
        missing = [i for i, subnet in zip(facts.subnet_ids, subnets, strict=True) if not subnet]
        if missing:
            return f"subnet {missing[0]} of {attachment.attachment_id} is not in the snapshot"
        known = [subnet for subnet in subnets if subnet is not None]
        ids = [subnet.availability_zone_id for subnet in known]
        return AttachmentZones(
            attachment,
            frozenset(name for name in (s.availability_zone for s in known) if name),
            None if None in ids or "" in ids else frozenset(i for i in ids if i),
        )

    def _subnets_reach(
        self,
        scope: ScopeView,
        vpc_id: str,
        subnet_ids: Iterable[str],
        goal: Goal,
        *,
        hops: int,
        transit: bool,
    ) -> Reach:
        """Where the route tables of ``subnet_ids`` (of ``vpc_id``, whose owner's account-region is
        ``scope``) send traffic for the goal's network that enters the VPC there.

        The subnets are an attachment's or an endpoint's, one per Availability Zone, and which one
        a flow uses depends on the zones: without the attachment's appliance mode, traffic stays
        in the zone it came from; with it, a flow hash picks one
        (https://docs.aws.amazon.com/vpc/latest/tgw/transit-gateway-appliance-scenario.html).
        So reachable only if every zone leads on, not reachable if none does, and unknown
        otherwise (the traffic of some zones, or some flows, is dropped)."""
        if vpc_id == goal.vpc_id:
            return Reach(True, f"{vpc_id}, the destination")
        verdicts: list[Reach] = []
        for subnet_id in sorted(set(subnet_ids)):
            table = scope.route_table_by_subnet.get(subnet_id)
            if table is None:
                verdicts.append(Reach(None, f"the route table of {subnet_id} is unknown"))
                continue
            subnet = scope.subnets_by_id.get(subnet_id)
            verdicts.append(
                self._table_reach(
                    scope, vpc_id, table, goal, hops=hops, transit=transit, subnet=subnet
                )
            )
        if not verdicts:
            return Reach(None, f"no subnet of {vpc_id} is known there")
        reached = [v for v in verdicts if v.reachable]
        if len(reached) == len(verdicts):
            return Reach(
                True,
                reached[0].how,
                appliance=any(v.appliance for v in reached),
                crosses_gateway=any(v.crosses_gateway for v in reached),
            )
        unknown = [v for v in verdicts if v.reachable is None]
        if unknown:
            return unknown[0]
        dropped = next(v for v in verdicts if v.reachable is False)
        if reached:
            return Reach(
                None,
                f"{dropped.how}: the traffic of that zone is dropped, while another zone leads on",
            )
        return dropped

    def _through_endpoint(
        self,
        scope: ScopeView,
        vpc_id: str,
        endpoint_id: str,
        goal: Goal,
        *,
        hops: int,
        transit: bool,
    ) -> Reach | None:
        """A Gateway Load Balancer endpoint (AWS Network Firewall's endpoints are such) hands the
        traffic to its appliances, which return it to the endpoint; the route table of the
        endpoint's subnet then sends it on
        (https://docs.aws.amazon.com/network-firewall/latest/developerguide/vpc-config-route-tables.html,
        https://docs.aws.amazon.com/elasticloadbalancing/latest/gateway/getting-started.html).
        Whether the appliance lets it pass is its policy, not routing. An endpoint that is not
        available passes nothing. None when the endpoint is not such a one of this VPC in the
        snapshot, or its subnets' tables were not collected."""
        found = self.snapshot.endpoints_by_id.get(endpoint_id)
        if found is None:
            return None
        endpoint = found[1]
        if (
            endpoint.vpc_id != vpc_id
            or endpoint.endpoint_type != "GatewayLoadBalancer"
            or not endpoint.subnet_ids
            or any(kind in scope.failed_kinds for kind in ROUTING_KINDS)
        ):
            return None
        step = f"{endpoint_id} (Gateway Load Balancer endpoint)"
        state = endpoint.state.lower()
        if state == "pending":
            return Reach(None, f"{step} is still being created", followed=True)
        if state != "available":
            # pendingAcceptance, rejected, failed, expired, deleting, deleted: no traffic passes
            # (https://docs.aws.amazon.com/vpc/latest/privatelink/gateway-load-balancer-endpoints.html).
            return Reach(False, f"{step} is {endpoint.state}: it passes no traffic", followed=True)
        onward = self._subnets_reach(
            scope, vpc_id, endpoint.subnet_ids, goal, hops=hops, transit=transit
        )
        followed = _after(step, onward, followed=True)
        return dataclasses.replace(followed, appliance=True) if followed.reachable else followed

    def _own_attachment(
        self, scope: ScopeView, vpc_id: str, tgw_id: str
    ) -> TransitGatewayAttachment | None:
        """The VPC's attachment to the gateway, as its owner lists it or, where that listing
        failed, as the gateway's owner does."""
        for attachment in scope.vpc_attachments_by_vpc.get(vpc_id, ()):
            if attachment.transit_gateway_id == tgw_id:
                return attachment
        for attachment in self.vpc_attachments_by_gateway.get((tgw_id, vpc_id), ()):
            if attachment.state in LIVE_ATTACHMENT_STATES:
                return attachment
        return None

    def _through_tgw(
        self,
        scope: ScopeView,
        vpc_id: str,
        tgw_id: str,
        goal: Goal,
        hops: int = 0,
    ) -> Reach:
        own = self._own_attachment(scope, vpc_id, tgw_id)
        if own is None:
            if "transit_gateway_attachments" in scope.failed_kinds:
                return Reach(
                    None,
                    f"{tgw_id}: the attachments of {scope.account_id}/{scope.region} were not "
                    "collected",
                )
            return Reach(False, f"{tgw_id} (the VPC is not attached)")
        idle = self.idle(own.attachment_id)
        if idle is not None:
            how = f"{tgw_id} ({own.attachment_id} {idle.how})"
            return Reach(idle.reachable, how, followed=True)
        table = self.association_table(own)
        if table is None:
            return Reach(None, f"{tgw_id}: the route table of {own.attachment_id} is unknown")
        targets = self.vpc_attachments_by_gateway.get((tgw_id, goal.vpc_id), ())
        target_ids = {a.attachment_id for a in targets}
        if table.routes is not None:
            best = self._longest_prefix(table).route_for(goal.network)
            if best is None or best.state != "active":
                return Reach(False, f"{tgw_id} ({table.route_table_id} has no route there)")
            routed = sorted(target_ids & set(best.attachment_ids))
            if routed:
                # AWS refuses a second attachment of one VPC to one gateway: one is routed.
                idle = self.idle(routed[0])
                if idle is not None:
                    return Reach(
                        idle.reachable,
                        f"{tgw_id} ({table.route_table_id} sends it to {routed[0]}, which "
                        f"{idle.how})",
                        followed=True,
                    )
                return Reach(True, f"{tgw_id} ({table.route_table_id})")
            # Sent to another attachment: an inspection VPC, a Network Firewall or Connect
            # attachment, a peer gateway. AWS's centralised-inspection designs route 0.0.0.0/0 to
            # the firewall VPC's attachment, whose subnets' route tables send it to a firewall
            # endpoint and back to the gateway, which routes it by that attachment's route table
            # (https://docs.aws.amazon.com/vpc/latest/tgw/transit-gateway-appliance-scenario.html).
            # A VPC attachment is followed there; any other is a path this analysis does not
            # follow: unknown, not "no route".
            if len(best.targets) == 1:
                onward = self._through_attachment(
                    best.targets[0].attachment_id, scope.region, goal, hops
                )
                if onward is not None:
                    return _after(f"{tgw_id} ({table.route_table_id})", onward)
            via = ", ".join(
                f"{target.attachment_id} ({target.resource_type or 'unknown type'})"
                for target in best.targets
            )
            return Reach(
                None,
                f"{tgw_id}: {table.route_table_id} forwards it to {via or 'another attachment'}, "
                "whose onward path this scan does not follow",
            )
        if table.propagating_attachment_ids is None:
            return Reach(None, f"{tgw_id}: the routes of {table.route_table_id} are unknown")
        # Its routes could not be read, only its propagations. A static route wins over a
        # propagated one for the same block, and a longer one wins by length, so either may
        # send the block elsewhere or drop it, or route it where propagation does not
        # (https://docs.aws.amazon.com/vpc/latest/tgw/how-transit-gateways-work.html).
        learned = (
            "learns the route by propagation"
            if target_ids & set(table.propagating_attachment_ids)
            else "does not learn the route"
        )
        return Reach(
            None, f"{tgw_id}: {table.route_table_id} {learned}, but its static routes are unknown"
        )

    @cached_property
    def _attachment_states(self) -> dict[str, frozenset[str]]:
        """Each attachment's state as every account that lists it saw it: the VPC's owner and
        the gateway's, read minutes (or shards) apart, may disagree."""
        states: dict[str, set[str]] = {}
        for scope in self.snapshot.scopes:
            for attachment in scope.data.transit_gateway_attachments:
                states.setdefault(attachment.attachment_id, set()).add(attachment.state)
        return {attachment_id: frozenset(found) for attachment_id, found in states.items()}

    def idle(self, attachment_id: str) -> Reach | None:
        """Why the attachment carries no traffic (False) or may not (None), said after its
        id; None when it carries. AWS carries traffic on an attachment only once it is available
        (https://docs.aws.amazon.com/vpc/latest/tgw/tgw-vpc-attachments.html): one pending the
        gateway owner's acceptance waits for a person, the finding's fix; one pending is being
        created, minutes from carrying, so a scan taken meanwhile cannot say; copies of it in
        two accounts' listings that disagree cannot either."""
        states = self._attachment_states.get(attachment_id, frozenset())
        if not states or states <= CARRYING_ATTACHMENT_STATES:
            return None
        said = " / ".join(sorted(states))
        if states & CARRYING_ATTACHMENT_STATES:
            return Reach(
                None,
                f"is {said} in different accounts' listings: whether it carries traffic is unknown",
            )
        if "pending" in states:
            return Reach(None, f"is still being created ({said})")
        return Reach(False, f"is {said}: it carries nothing")

    @cached_property
    def _routed_beyond(self) -> dict[str, str]:
        """VPC attachments to which the gateway sends other networks' traffic, with the route
        that does: an active route, in a route table that some other attachment uses, whose
        destination is the default route or holds a block of another VPC attached to the same
        gateway (AWS's egress and inspection designs route 0.0.0.0/0, or the spokes' summary, to
        the hub's attachment). A spoke's attachment is routed its own blocks, or a summary of
        them (an IPAM allocation): not counted. Nor is a table nothing uses, or whose
        associations are unknown."""
        found: dict[str, str] = {}
        for table in self.tgw_route_tables.values():
            users = frozenset(table.associated_attachment_ids or ())
            for route in table.routes or ():
                network = parse_network(route.destination_cidr or "")
                if route.state != "active" or not isinstance(network, ipaddress.IPv4Network):
                    continue
                for attachment_id in route.attachment_ids:
                    attachment = self.attachments.get(attachment_id)
                    if attachment_id in found or attachment is None:
                        continue
                    if attachment.resource_type != "vpc" or not users - {attachment_id}:
                        continue
                    vpc_id = attachment.resource_id or ""
                    if network.prefixlen == 0 or self._holds_other_vpc(
                        table.transit_gateway_id, network, vpc_id
                    ):
                        found[attachment_id] = (
                            f"{route.destination_cidr} (route table {table.route_table_id})"
                        )
        return found

    def _holds_other_vpc(self, gateway: str, network: ipaddress.IPv4Network, vpc_id: str) -> bool:
        """Whether ``network``, not inside a block of ``vpc_id`` (which makes it the VPC's own,
        whatever overlapping VPCs hold), contains a block of another VPC attached to the
        gateway. A bisection over the gateway's blocks: a spoke's route is looked at once."""
        if any(network.subnet_of(block) for block in self._ipv4_blocks(vpc_id)):
            return False
        starts, blocks = self._gateway_blocks.get(gateway, ([], []))
        first, last = int(network.network_address), int(network.broadcast_address)
        for index in range(bisect.bisect_left(starts, first), len(blocks)):
            block_start, block_end, owner = blocks[index]
            if block_start > last:
                return False
            if block_end <= last and owner != vpc_id:
                return True
        return False

    @cached_property
    def _gateway_blocks(self) -> dict[str, tuple[list[int], list[tuple[int, int, str]]]]:
        """Each gateway's attached VPCs' IPv4 blocks as (first, last, VPC) sorted by first
        address, with the first addresses apart for bisection."""
        grouped: dict[str, list[tuple[int, int, str]]] = {}
        for gateway, vpc_id in self.vpc_attachments_by_gateway:
            grouped.setdefault(gateway, []).extend(
                (int(block.network_address), int(block.broadcast_address), vpc_id)
                for block in self._ipv4_blocks(vpc_id)
            )
        ordered = {gateway: sorted(found) for gateway, found in grouped.items()}
        return {gateway: ([b[0] for b in found], found) for gateway, found in ordered.items()}

    def _ipv4_blocks(self, vpc_id: str) -> tuple[ipaddress.IPv4Network, ...]:
        """The VPC's IPv4 blocks (none when it is not in the snapshot), parsed once."""
        found = self._parsed_blocks.get(vpc_id)
        if found is None:
            owned = self.snapshot.vpcs_by_id.get(vpc_id)
            blocks = parse_networks(owned[1].cidr_blocks if owned is not None else ())
            found = self._parsed_blocks[vpc_id] = tuple(
                block for block in blocks if isinstance(block, ipaddress.IPv4Network)
            )
        return found

    @cached_property
    def _parsed_blocks(self) -> dict[str, tuple[ipaddress.IPv4Network, ...]]:
        return {}

    def transit_subnets(self, scope: ScopeView) -> Mapping[str, str]:
        """The scope's subnets built to carry other VPCs' traffic, each with what it is: the
        subnets of a VPC attachment to which the gateway routes other networks' traffic
        (``_routed_beyond``: an egress or inspection VPC's; the spokes' traffic enters there), and
        the subnets of the Gateway Load Balancer (or Network Firewall) endpoints that such a
        subnet's route table sends traffic to (an inspection VPC's firewall subnets). Their route
        tables carry traffic that arrived through the gateway, which a gateway endpoint does not
        serve ("gateway endpoints do not allow access ... through a transit gateway":
        https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-s3.html). A spoke's
        attachment subnets, often its workload subnets, are not among them. Where the gateway's
        route tables were not read, none is. An egress or inspection VPC's attachment subnets
        are taken to be dedicated to it, as AWS recommends: a workload placed in them is not
        judged (the skip says so)."""
        if not scope.data.transit_gateway_attachments:
            return NO_SUBNETS  # most account-regions of an organisation
        key = (scope.account_id, scope.region)
        found = self._transit_subnets.get(key)
        if found is None:
            found = self._transit_subnets[key] = self._find_transit_subnets(scope)
        return found

    @cached_property
    def _transit_subnets(self) -> dict[tuple[str, str], dict[str, str]]:
        return {}

    def _find_transit_subnets(self, scope: ScopeView) -> dict[str, str]:
        found: dict[str, str] = {}
        if not self._routed_beyond:
            return found
        for attachments in scope.vpc_attachments_by_vpc.values():
            for attachment in attachments:
                beyond = self._routed_beyond.get(attachment.attachment_id)
                if beyond is None:
                    continue
                facts = self._attachment_facts.get(attachment.attachment_id, attachment)
                what = (
                    f"a subnet of transit-gateway attachment {attachment.attachment_id}, to which "
                    f"the gateway routes {beyond}"
                )
                for subnet_id in facts.subnet_ids or ():
                    found.setdefault(subnet_id, what)
        firewalls = {
            endpoint.endpoint_id: endpoint
            for endpoint in scope.data.vpc_endpoints
            if endpoint.endpoint_type == "GatewayLoadBalancer" and not endpoint.is_deleted
        }
        for subnet_id in list(found) if firewalls else ():
            table = scope.route_table_by_subnet.get(subnet_id)
            for route in table.routes if table is not None else ():
                firewall = firewalls.get(route.target_id or "")
                if firewall is None or not route.is_active:
                    continue
                for firewall_subnet in firewall.subnet_ids:
                    found.setdefault(
                        firewall_subnet,
                        f"a subnet of firewall endpoint {firewall.endpoint_id}, to which "
                        f"attachment subnet {subnet_id} sends traffic",
                    )
        return found

    @cached_property
    def _attachment_facts(self) -> dict[str, TransitGatewayAttachment]:
        """Each VPC attachment as the account-region that read its subnets lists it (the VPC's
        owner and the gateway's both may)."""
        return {
            attachment.attachment_id: attachment
            for scope in self.snapshot.scopes
            for attachment in scope.data.transit_gateway_attachments
            if attachment.subnet_ids is not None
        }

    @cached_property
    def _followed(self) -> dict[tuple[str, str, Goal, int], Reach | None]:
        return {}

    def _through_attachment(
        self, attachment_id: str, region: str, goal: Goal, hops: int
    ) -> Reach | None:
        """Where a VPC attachment's VPC sends traffic the gateway hands it: by the route tables
        of the attachment's subnets. None when it is not a VPC attachment. Once per attachment,
        destination and hop count: every spoke behind one inspection VPC asks the same."""
        key = (attachment_id, region, goal, hops)
        if key not in self._followed:
            self._followed[key] = self._into_attachment(attachment_id, region, goal, hops)
        return self._followed[key]

    def _into_attachment(
        self, attachment_id: str, region: str, goal: Goal, hops: int
    ) -> Reach | None:
        attachment = self.attachments.get(attachment_id)
        if attachment is None or attachment.resource_type != "vpc":
            return None
        vpc_id = attachment.resource_id or ""
        step = f"{attachment_id} into {vpc_id}"
        idle = self.idle(attachment_id)
        if idle is not None:
            return Reach(idle.reachable, f"{step}, which {idle.how}", followed=True)
        if hops >= MAX_HOPS:
            return Reach(
                None, f"{step}: a path of more than {MAX_HOPS} hops (or a loop)", followed=True
            )
        facts = self._attachment_facts.get(attachment_id)
        if facts is None or not facts.subnet_ids:
            return Reach(
                None,
                f"{step}, whose subnets were not read (DescribeTransitGatewayVpcAttachments; a "
                "snapshot before schema 7 has none): where it goes there is not followed",
                followed=True,
            )
        owner = attachment.resource_owner_id or ""
        scope = self.snapshot.scope_by_place.get((owner, region))
        if scope is None or vpc_id not in scope.vpcs_by_id:
            return Reach(
                None, f"{step}: {owner or 'its owner'}/{region} was not scanned", followed=True
            )
        failed = [kind for kind in ROUTING_KINDS if kind in scope.failed_kinds]
        if failed:
            return Reach(
                None,
                f"{step}: the {' and '.join(k.replace('_', ' ') for k in failed)} of "
                f"{owner}/{region} were not collected",
                followed=True,
            )
        onward = self._subnets_reach(
            scope, vpc_id, facts.subnet_ids, goal, hops=hops + 1, transit=True
        )
        zones = _zones_of(scope, facts.subnet_ids)
        if (
            onward.reachable
            and onward.appliance
            and facts.appliance_mode is not True
            and (len(zones) > 1 or None in zones)
        ):
            # A stateful firewall must see both directions of a flow; without appliance mode the
            # gateway keeps each direction in its own zone, so a flow between zones crosses one
            # firewall endpoint out and another back, and is dropped
            # (https://docs.aws.amazon.com/network-firewall/latest/developerguide/asymmetric-routing.html).
            mode = "off" if facts.appliance_mode is False else "unknown"
            return Reach(
                None,
                f"{step}: the path passes a firewall endpoint, the attachment spans several "
                f"zones and its appliance mode is {mode}, so flows between zones may be "
                "dropped",
                followed=True,
            )
        # Checked for this attachment, whose VPC holds the firewall: an attachment earlier on
        # the path is not judged by it.
        return _after(step, dataclasses.replace(onward, appliance=False), followed=True)

    @cached_property
    def _beyond(self) -> dict[tuple[str, str, str, frozenset[str]], str | None]:
        return {}

    @cached_property
    def _gateway_beyond(self) -> dict[tuple[str, frozenset[str]], str | None]:
        return {}

    def reaches_beyond(self, scope: ScopeView, vpc_id: str, accounts: frozenset[str]) -> str | None:
        """``_reaches_beyond``, once per VPC and set of accounts: asked for every record that
        names a missing endpoint (thousands of spokes' zones after a hub's endpoints were
        recreated)."""
        key = (scope.account_id, scope.region, vpc_id, accounts)
        if key not in self._beyond:
            self._beyond[key] = self._reaches_beyond(scope, vpc_id, accounts)
        return self._beyond[key]

    def _reaches_beyond(
        self, scope: ScopeView, vpc_id: str, accounts: frozenset[str]
    ) -> str | None:
        """How the VPC may reach a VPC of an account outside ``accounts``, or None when it cannot:
        an active peering with one, a transit gateway that attaches one or whose attachments are
        unknown, or one with an attachment that leads elsewhere unfollowed (another gateway,
        peered; a network function; a kind AWS adds later). VPN, Direct Connect, Connect and
        Client VPN attachments lead outside AWS, where no endpoint is. ``external_paths`` asks
        the like about trust; this asks about what was scanned."""
        for connection in self.peerings_by_vpc.get(vpc_id, ()):
            if not connection.is_active:
                continue
            peer = (
                connection.accepter
                if connection.requester.vpc_id == vpc_id
                else connection.requester
            )
            if peer.owner_id not in accounts:
                return (
                    f"{vpc_id} peers ({connection.peering_connection_id}) with {peer.vpc_id} of "
                    f"account {peer.owner_id or 'unknown'}, not scanned"
                )
        for attachment in scope.vpc_attachments_by_vpc.get(vpc_id, ()):
            gateway = attachment.transit_gateway_id
            unseen = self.gateway_unseen(attachment, scope.region)
            if unseen:
                return (
                    f"{vpc_id} is attached to {gateway}, whose other attachments are unknown "
                    f"({unseen})"
                )
            key = (gateway, accounts)
            if key not in self._gateway_beyond:
                self._gateway_beyond[key] = self._leads_beyond(gateway, accounts)
            beyond = self._gateway_beyond[key]
            if beyond is not None:
                return f"{gateway}, to which {vpc_id} is attached, {beyond}"
        return None

    def _leads_beyond(self, gateway: str, accounts: frozenset[str]) -> str | None:
        for other in self.attachments_by_tgw.get(gateway, ()):
            if other.state not in LIVE_ATTACHMENT_STATES:
                continue
            if other.resource_type in HYBRID_ATTACHMENT_TYPES:
                continue  # on premises or remote users: no VPC endpoint there
            if other.resource_type == "vpc":
                if other.resource_owner_id not in accounts:
                    return (
                        f"attaches {other.resource_id} of account "
                        f"{other.resource_owner_id or 'unknown'}, not scanned"
                    )
                continue
            # Another gateway (peering), a network function, a type AWS adds later: what lies
            # behind it is not followed.
            return (
                f"has attachment {other.attachment_id} ({other.resource_type}), whose "
                "destination is not followed"
            )
        return None

    # -- networks a VPC connects to ----------------------------------------------------------

    def remote_networks(
        self, scope: ScopeView, vpc: Vpc, on_premises: Iterable[tuple[Network, str]] = ()
    ) -> Remotes:
        """For each route table of the VPC that subnets use: the networks it reaches beyond the
        VPC, each with where it leads and whether the table learns it (from a transit gateway,
        a virtual private gateway's propagation or a VPN) rather than routing it by a static
        route someone wrote.

        A peering route reaches the part of the peer's blocks it covers; a route to a transit
        gateway reaches what the attachment's transit-gateway route table routes (inside the
        route's destination); a route to a virtual private gateway reaches its destination, the
        static routes of its VPN connections, and the configured on-premises blocks.

        ``Remotes.unknown`` says which routes lead to networks the snapshot cannot tell: a
        transit gateway whose route table is not in it (another account's gateway, unscanned).

        What a route reaches through a transit gateway is one ``RemoteGroup`` shared by every VPC
        whose route sends the same destination to the same gateway route table (a hub's table
        routes a block per spoke: copied into every spoke's list, it made VPCE501 quadratic in
        the spokes).
        """
        found: dict[str, tuple[RemotePart, ...]] = {}
        unknown: list[str] = []
        peerings = {c.peering_connection_id: c for c in self.peerings_by_vpc.get(vpc.vpc_id, ())}
        attachments = {
            a.transit_gateway_id: a for a in scope.vpc_attachments_by_vpc.get(vpc.vpc_id, ())
        }
        gateways = {
            g.vpn_gateway_id: g for g in scope.data.vpn_gateways if vpc.vpc_id in g.attached_vpc_ids
        }
        for table in scope.route_tables_with_subnets_by_vpc.get(vpc.vpc_id, ()):
            parts: list[RemotePart] = []
            networks: list[RemoteNetwork] = []
            hybrid = False
            for route in table.routes:
                for destination in _route_destinations(scope, table, route, unknown):
                    target = route.target_id or ""
                    kind = target_kind(target)
                    prefix = destination.prefixlen
                    if target in peerings:
                        networks += [
                            dataclasses.replace(n, route_prefix=prefix)
                            for n in self._peer_networks(peerings[target], vpc, destination)
                        ]
                    elif target in attachments:
                        tgw_table = self.association_table(attachments[target])
                        gap = self.association_gap(attachments[target], tgw_table, scope.region)
                        if gap is not None:
                            unknown.append(f"{table.route_table_id} routes {destination} to {gap}")
                        if tgw_table is None:
                            continue
                        group = self._remote_group(tgw_table, destination)
                        own = attachments[target].attachment_id
                        if next(group.seen_from(own), None) is not None:
                            hybrid |= group.reaches_on_premises(own)
                            if networks:
                                parts.append(tuple(networks))
                                networks = []
                            parts.append(SharedRoute(group, own))
                    elif kind == "core-network":
                        unknown.append(
                            f"{table.route_table_id} routes {destination} to AWS Cloud WAN core "
                            f"network {target}, whose routes are not read"
                        )
                    elif kind == "virtual-private-gateway":
                        hybrid = True
                        propagated = route.origin == "EnableVgwRoutePropagation"
                        networks.append(
                            RemoteNetwork(
                                destination,
                                ON_PREMISES,
                                f"{'propagated' if propagated else 'static'} route to {target} in "
                                f"{table.route_table_id}",
                                concrete=False,
                                learned=propagated,
                                route_prefix=prefix,
                            )
                        )
                        if target in gateways:
                            # The VPN's static routes reach the VPC by this route only as far as
                            # its destination holds them: AWS puts them in a table only by
                            # propagation (listed among its routes) or a route someone adds
                            # (https://docs.aws.amazon.com/vpn/latest/s2svpn/vpn-route-priority.html).
                            for remote in self._vpn_networks(scope, target):
                                inside = intersection(remote.network, destination)
                                if inside is not None:
                                    networks.append(
                                        dataclasses.replace(
                                            remote, network=inside, route_prefix=prefix
                                        )
                                    )
            if hybrid:
                networks += [
                    RemoteNetwork(network, ON_PREMISES, source, concrete=False, learned=True)
                    for network, source in on_premises
                ]
            if networks:
                parts.append(tuple(networks))
            if parts:
                found[table.route_table_id] = tuple(parts)
        return Remotes(found, tuple(unknown))

    def association_gap(
        self,
        attachment: TransitGatewayAttachment,
        table: TransitGatewayRouteTable | None,
        region: str,
    ) -> str | None:
        """Why what the attachment's gateway route table routes is unknown, or None. Routes
        that could not be read leave it unknown even when the propagations are known: a static
        route may send a block elsewhere."""
        gateway = attachment.transit_gateway_id
        if table is None:
            unseen = self.gateway_unseen(attachment, region)
            if unseen is not None:
                return f"{gateway}, whose route tables are unknown ({unseen})"
            if attachment.association_route_table_id is not None:
                return (
                    f"{gateway}, whose route table {attachment.association_route_table_id} is "
                    "not in the snapshot"
                )
            return None  # not associated: the gateway routes nothing from it
        if table.routes is None:
            return f"{gateway}, whose route table {table.route_table_id} could not be read"
        return None

    def _peer_networks(
        self, connection: PeeringConnection, vpc: Vpc, destination: Network
    ) -> list[RemoteNetwork]:
        peer = (
            connection.accepter
            if connection.requester.vpc_id == vpc.vpc_id
            else connection.requester
        )
        found = []
        for cidr in _side_blocks(self.snapshot, peer.vpc_id, peer.cidr_blocks):
            block = parse_network(cidr)
            inside = intersection(block, destination) if block is not None else None
            if inside is not None:
                found.append(
                    RemoteNetwork(
                        inside,
                        peer.vpc_id,
                        f"peer {peer.vpc_id} via {connection.peering_connection_id}",
                        concrete=True,
                        learned=False,
                    )
                )
        return found

    def _vpn_networks(self, scope: ScopeView, gateway_id: str) -> list[RemoteNetwork]:
        found = []
        for vpn in scope.data.vpn_connections:
            if vpn.vpn_gateway_id != gateway_id or vpn.state in DEAD_VPN_STATES:
                continue
            for cidr in vpn.static_route_cidrs:
                network = parse_network(cidr)
                if network is not None and network.version == 4:
                    found.append(
                        RemoteNetwork(
                            network,
                            ON_PREMISES,
                            f"VPN {vpn.vpn_connection_id} static route",
                            concrete=False,
                            learned=True,
                        )
                    )
        return found

    def _remote_group(self, table: TransitGatewayRouteTable, destination: Network) -> RemoteGroup:
        """What a VPC route to ``destination`` reaches through ``table`` (each network cut to
        the destination), remembered for the topology's life."""
        key = (table.route_table_id, destination)
        group = self._remote_groups.get(key)
        if group is None:
            entries, index = self._routed(table)
            networks: list[RemoteNetwork] = []
            hidden_from: list[frozenset[str]] = []
            # A hub may route a destination per spoke to the gateway: look up, do not walk.
            for found in sorted(set(index.overlapping(destination))):
                entry, attachment_ids = entries[found]
                inside = intersection(entry.network, destination)
                if inside is not None:
                    networks.append(
                        dataclasses.replace(
                            entry, network=inside, route_prefix=destination.prefixlen
                        )
                    )
                    hidden_from.append(attachment_ids)
            group = self._remote_groups[key] = RemoteGroup(tuple(networks), tuple(hidden_from))
        return group

    @cached_property
    def _remote_groups(self) -> dict[tuple[str, Network], RemoteGroup]:
        return {}

    @cached_property
    def _routed_by_table(
        self,
    ) -> dict[str, tuple[list[tuple[RemoteNetwork, frozenset[str]]], NetworkIndex]]:
        return {}

    def _routed(
        self, table: TransitGatewayRouteTable
    ) -> tuple[list[tuple[RemoteNetwork, frozenset[str]]], NetworkIndex]:
        """The networks the table routes (``_tgw_networks``) and an index of them, once."""
        routed = self._routed_by_table.get(table.route_table_id)
        if routed is None:
            entries = list(self._tgw_networks(table))
            index = NetworkIndex([entry.network for entry, _ in entries])
            routed = self._routed_by_table[table.route_table_id] = (entries, index)
        return routed

    def target_kind(self, target: TransitGatewayRouteTarget) -> str | None:
        """What a gateway route's target attaches ('vpc', 'vpn', ...): as the route says, else
        as the attachment does."""
        if target.resource_type:
            return target.resource_type
        attachment = self.attachments.get(target.attachment_id)
        return attachment.resource_type if attachment is not None else None

    def _tgw_networks(
        self, table: TransitGatewayRouteTable
    ) -> Iterator[tuple[RemoteNetwork, frozenset[str]]]:
        """The networks a gateway route table routes, each with the attachments whose VPCs do
        not reach it: a VPC's own attachment is where the traffic came from (its own block),
        so a route that targets it, even among others, is not one the VPC takes."""
        if table.routes is not None:
            for route in table.routes:
                if route.state != "active" or route.destination_cidr is None:
                    continue
                if not route.targets:
                    continue
                hidden_from = frozenset(t.attachment_id for t in route.targets)
                target = route.targets[0]
                attachment = self.attachments.get(target.attachment_id)
                kind = self.target_kind(target)
                resource = target.resource_id or (attachment.resource_id if attachment else None)
                if kind == "vpc":
                    destination = resource or target.attachment_id
                    # A prefix-list reference's entries are listed as propagated routes ("The
                    # route type for a prefix list route is propagated",
                    # https://docs.aws.amazon.com/vpc/latest/tgw/view-prefix-list-reference.html):
                    # the list's blocks, not the attached VPC's own, so read as a static route.
                    concrete = route.route_type == "propagated" and route.prefix_list_id is None
                    attached = self.snapshot.vpcs_by_id.get(resource or "")
                    route_network = parse_network(route.destination_cidr)
                    if not concrete and attached is not None and route_network is not None:
                        # A static route to a VPC we can see reaches that VPC's blocks in it.
                        source = f"{table.route_table_id} static route to {target.attachment_id}"
                        for cidr in attached[1].cidr_blocks:
                            block = parse_network(cidr)
                            inside = intersection(block, route_network) if block else None
                            if inside is not None:
                                yield RemoteNetwork(inside, destination, source, True), hidden_from
                        continue
                elif kind in HYBRID_ATTACHMENT_TYPES:
                    destination, concrete = ON_PREMISES, False
                else:
                    destination, concrete = target.attachment_id, False
                for network in _remote(
                    route.destination_cidr,
                    destination,
                    f"{table.route_table_id} {route.route_type} route to {target.attachment_id}",
                    concrete,
                ):
                    yield network, hidden_from
            return
        for attachment_id in table.propagating_attachment_ids or ():
            attachment = self.attachments.get(attachment_id)
            if attachment is None:
                continue
            if attachment.resource_type == "vpc" and attachment.resource_id:
                found = self.snapshot.vpcs_by_id.get(attachment.resource_id)
                for cidr in found[1].cidr_blocks if found else ():
                    for network in _remote(
                        cidr,
                        attachment.resource_id,
                        f"{table.route_table_id} propagated from {attachment_id}",
                        True,
                    ):
                        yield network, frozenset((attachment_id,))

    # -- networks outside the organisation ---------------------------------------------------

    def external_paths(
        self, scope: ScopeView, vpc_id: str, trusted: TrustedSet
    ) -> list[ExternalPath]:
        """Ways the VPC's route tables reach networks outside the organisation: peerings with
        untrusted accounts, virtual private gateways (VPN, Direct Connect), transit gateways
        that route to VPN / Direct Connect / peering attachments or to untrusted accounts' VPCs.
        Accounts whose organisation membership is unknown give uncertain paths."""
        tables = scope.route_tables_with_subnets_by_vpc.get(vpc_id, ())
        routed = {route.target_id for table in tables for route in table.routes if route.is_active}
        found: list[ExternalPath] = []
        for connection in self.peerings_by_vpc.get(vpc_id, ()):
            peer = (
                connection.accepter
                if connection.requester.vpc_id == vpc_id
                else connection.requester
            )
            if connection.peering_connection_id in routed and peer.owner_id:
                path = _account_path(
                    trusted,
                    peer.owner_id,
                    f"peering {connection.peering_connection_id} with account {peer.owner_id}",
                )
                found += [path] if path else []
        for target in sorted(t for t in routed if t and t.startswith("vgw-")):
            found.append(
                ExternalPath(f"virtual private gateway {target} (VPN / Direct Connect)", True)
            )
        for target in sorted(t for t in routed if t and target_kind(t) == "core-network"):
            found.append(
                ExternalPath(
                    f"AWS Cloud WAN core network {target}: what it connects (VPN, Connect, other "
                    "accounts' VPCs) is not read",
                    certain=False,
                    unknown=True,
                )
            )
        for attachment in scope.vpc_attachments_by_vpc.get(vpc_id, ()):
            tgw = attachment.transit_gateway_id
            if tgw not in routed:
                continue
            unseen = self.gateway_unseen(attachment, scope.region)
            if unseen is not None:
                found.append(
                    ExternalPath(
                        f"{tgw}: what else it connects is unknown ({unseen})",
                        certain=False,
                        unknown=True,
                    )
                )
                continue
            exits = self._gateway_exits(tgw, self.association_table(attachment), trusted)
            found += [path for other, path in exits if other != attachment.attachment_id]
        return found

    def _gateway_exits(
        self, tgw: str, table: TransitGatewayRouteTable | None, trusted: TrustedSet
    ) -> list[tuple[str, ExternalPath]]:
        """The attachments of the gateway that lead outside the organisation, with the path,
        for a VPC whose attachment is associated with ``table`` (every attachment when its
        routes are unknown). Once per gateway table: every spoke of a hub asks the same, and the
        hub's table routes to each of them."""
        key = (tgw, table.route_table_id if table is not None else None)
        known = self._exits.get(key)
        # Kept with the trusted set it was worked out for (the set itself, not its id, which a
        # later set may reuse): a rule asks with one set throughout.
        if known is None or known[0] is not trusted:
            known = self._exits[key] = (trusted, self._find_gateway_exits(tgw, table, trusted))
        return known[1]

    @cached_property
    def _exits(
        self,
    ) -> dict[tuple[str, str | None], tuple[TrustedSet, list[tuple[str, ExternalPath]]]]:
        return {}

    def _find_gateway_exits(
        self, tgw: str, table: TransitGatewayRouteTable | None, trusted: TrustedSet
    ) -> list[tuple[str, ExternalPath]]:
        reachable = (
            None
            if table is None or table.routes is None
            else {t.attachment_id for r in table.routes if r.state == "active" for t in r.targets}
        )
        found: list[tuple[str, ExternalPath]] = []
        for other in self.attachments_by_tgw.get(tgw, ()):
            if reachable is not None and other.attachment_id not in reachable:
                continue
            path: ExternalPath | None
            if other.resource_type in HYBRID_ATTACHMENT_TYPES:
                path = ExternalPath(
                    f"{tgw} attachment {other.attachment_id} ({other.resource_type})", True
                )
            elif other.resource_type in PEERING_ATTACHMENT_TYPES:
                peer_account = other.resource_owner_id
                description = f"{tgw} attachment {other.attachment_id} (peering with " + (
                    f"a transit gateway of account {peer_account})"
                    if peer_account
                    else "a transit gateway)"
                )
                if peer_account and trusted.account_trust(peer_account) is Trust.UNTRUSTED:
                    path = ExternalPath(description, certain=True)
                else:
                    # A gateway of the organisation, or of an account whose membership is
                    # unknown: what it reaches beyond (its own VPNs, peerings) is not
                    # followed, so whether that is outside is unknown.
                    path = ExternalPath(
                        f"{description}, whose onward routes are not followed",
                        certain=False,
                        unknown=True,
                    )
            elif other.resource_type == "vpc":
                path = (
                    _account_path(
                        trusted,
                        other.resource_owner_id,
                        f"{tgw} attachment {other.attachment_id} (VPC of account "
                        f"{other.resource_owner_id})",
                    )
                    if other.resource_owner_id
                    else None
                )
            else:
                # A kind not judged here (a network function, a type AWS adds later): where it
                # leads is unknown, not inside the organisation.
                path = ExternalPath(
                    f"{tgw} attachment {other.attachment_id} ({other.resource_type}), "
                    "whose destination is not judged",
                    certain=False,
                    unknown=True,
                )
            if path is not None:
                found.append((other.attachment_id, path))
        return found


@dataclass(frozen=True)
class ExternalPath:
    """A route from a VPC towards networks outside the organisation."""

    description: str
    certain: bool
    """False when it leads to an account whose organisation membership is unknown."""
    unknown: bool = False
    """Where it leads is unknown (a transit gateway whose owner was not scanned)."""


@dataclass(frozen=True)
class AttachmentZones:
    """Where a VPC's transit-gateway attachment has its subnets."""

    attachment: TransitGatewayAttachment
    names: frozenset[str]
    """The zones' names, as the VPC owner's account calls them."""
    ids: frozenset[str] | None
    """The zones' ids; None unless every subnet of the attachment carries one."""

    def covers(self, subnet: Subnet) -> bool:
        """Whether the gateway takes the subnet's traffic: the subnet is in one of the zones.
        By zone id where both sides carry one (names differ between accounts), else by name
        (the subnets of one VPC, read by its owner, name zones alike)."""
        if self.ids is not None and subnet.availability_zone_id:
            return subnet.availability_zone_id in self.ids
        return subnet.availability_zone in self.names


@dataclass(frozen=True)
class RemoteGroup:
    """The networks one VPC route reaches through a transit-gateway route table, shared by every
    VPC whose route sends the same destination to that table. A VPC does not reach the routes
    of its own attachment: ``hidden_from[i]`` names the attachments whose VPCs do not reach
    ``networks[i]``."""

    networks: tuple[RemoteNetwork, ...]
    hidden_from: tuple[frozenset[str], ...]

    @cached_property
    def _on_premises_hidden_from(self) -> tuple[frozenset[str], ...]:
        return tuple(
            hidden
            for network, hidden in zip(self.networks, self.hidden_from, strict=True)
            if network.destination == ON_PREMISES
        )

    def reaches_on_premises(self, own_attachment: str) -> bool:
        """Whether the VPC behind ``own_attachment`` reaches on-premises networks through it
        (asked for every spoke: the group's on-premises routes are found once)."""
        return any(own_attachment not in hidden for hidden in self._on_premises_hidden_from)

    def seen_from(self, own_attachment: str) -> Iterator[RemoteNetwork]:
        for network, hidden in zip(self.networks, self.hidden_from, strict=True):
            if own_attachment not in hidden:
                yield network


@dataclass(frozen=True)
class SharedRoute:
    """A VPC route's ``RemoteGroup``, as the VPC behind ``own_attachment`` reaches it."""

    group: RemoteGroup
    own_attachment: str

    def networks(self) -> Iterator[RemoteNetwork]:
        return self.group.seen_from(self.own_attachment)


RemotePart = tuple["RemoteNetwork", ...] | SharedRoute
"""A run of a route table's remote networks: the VPC's own, or a shared group."""


def flattened(parts: Iterable[RemotePart]) -> list[RemoteNetwork]:
    """A table's remote networks in route order, as one list."""
    found: list[RemoteNetwork] = []
    for part in parts:
        found += part.networks() if isinstance(part, SharedRoute) else part
    return found


@dataclass(frozen=True)
class Remotes:
    """What ``Topology.remote_networks`` found for one VPC."""

    by_table: dict[str, tuple[RemotePart, ...]]
    unknown: tuple[str, ...]
    """Routes that lead where the snapshot cannot tell, one description each."""


@dataclass(frozen=True)
class RemoteNetwork:
    network: Network
    destination: str
    """Where the traffic ends up: a VPC id, 'on-premises', or an attachment id."""
    source: str
    """How the VPC learns the network, for messages."""
    concrete: bool
    """A network that exists as such (a VPC's block), not an advertised summary."""
    learned: bool = True
    """Learned by the route table (a transit gateway's routes, route propagation, a VPN) rather
    than written into it as a static route."""
    route_prefix: int = 0
    """Prefix length of the VPC route that sends the network on (longest-prefix match picks
    between routes by it)."""


def _route_destinations(
    scope: ScopeView, table: RouteTable, route: Route, unknown: list[str]
) -> list[Network]:
    """The IPv4 blocks an active route sends on: its CIDR, or the entries of the prefix list it
    names (a prefix-list route competes by its entries,
    https://docs.aws.amazon.com/vpc/latest/userguide/route-tables-priority.html). A list whose
    entries are unknown sends what the snapshot cannot tell: said in ``unknown``."""
    if not route.is_active:
        return []
    networks = route_networks(route, scope.prefix_lists_by_id)
    if networks is None:
        gap = prefix_list_gap(route.destination_prefix_list_id or "", scope.prefix_lists_by_id)
        unknown.append(f"{table.route_table_id} routes {gap} to {route.target_id}")
        return []
    return list(networks)


def _account_path(trusted: TrustedSet, account: str, description: str) -> ExternalPath | None:
    """A path into ``account``, if it leads outside the organisation (certainly, or for all
    that is known of the account's membership)."""
    trust = trusted.account_trust(account)
    if trust is Trust.UNTRUSTED:
        return ExternalPath(description, certain=True)
    if trust is Trust.UNKNOWN:
        return ExternalPath(f"{description}, membership unknown", certain=False)
    return None


def _remote(cidr: str, destination: str, source: str, concrete: bool) -> list[RemoteNetwork]:
    network = parse_network(cidr)
    if network is None or network.version != 4:
        return []
    return [RemoteNetwork(network, destination, source, concrete)]


def _side_blocks(snapshot: Snapshot, vpc_id: str, listed: Iterable[str]) -> tuple[str, ...]:
    """The IPv4 blocks of a peer: those the peering lists, and the VPC's own when scanned."""
    blocks = set(listed)
    found = snapshot.vpcs_by_id.get(vpc_id)
    if found is not None:
        blocks.update(found[1].cidr_blocks)
    return tuple(sorted(blocks))


class LongestPrefix:
    """A transit-gateway route table's routes by destination, for longest-prefix match: the
    route for a whole network is the one whose destination is the longest that contains it (the
    first listed, among equals), found by probing each prefix length the table holds, longest
    first, instead of walking every route (a hub's table routes a block per spoke: asked for
    every spoke's path, the walk was quadratic in the spokes)."""

    def __init__(self, routes: Iterable[TransitGatewayRoute]) -> None:
        self._routes: dict[tuple[int, int, int], TransitGatewayRoute] = {}
        lengths: dict[int, set[int]] = {}
        for route in routes:
            destination = parse_network(route.destination_cidr or "")
            if destination is None:
                continue
            key = (destination.version, destination.prefixlen, int(destination.network_address))
            self._routes.setdefault(key, route)
            lengths.setdefault(destination.version, set()).add(destination.prefixlen)
        self._lengths = {version: sorted(found, reverse=True) for version, found in lengths.items()}

    def route_for(self, network: ipaddress.IPv4Network) -> TransitGatewayRoute | None:
        address, bits = int(network.network_address), network.max_prefixlen
        for length in self._lengths.get(network.version, ()):
            if length > network.prefixlen:
                continue
            mask = ((1 << length) - 1) << (bits - length)
            route = self._routes.get((network.version, length, address & mask))
            if route is not None:
                return route
        return None
