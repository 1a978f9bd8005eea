from __future__ import annotations

from tests.helpers import ACCOUNT, OTHER_ACCOUNT, findings, flagged, region, vpc
from vpce_audit.model import PeeringConnection, PeeringSide
from vpce_audit.rules.builtin.address_space import cidr_overlap_peering as rule


def peering(
    pcx: str,
    requester: str,
    accepter: str,
    *,
    status: str = "active",
    accepter_cidrs: tuple[str, ...] = (),
    accepter_owner: str = ACCOUNT,
    accepter_region: str = "eu-west-1",
) -> PeeringConnection:
    return PeeringConnection(
        peering_connection_id=pcx,
        status=status,
        requester=PeeringSide(owner_id=ACCOUNT, vpc_id=requester, region="eu-west-1"),
        accepter=PeeringSide(
            owner_id=accepter_owner,
            vpc_id=accepter,
            region=accepter_region,
            cidr_blocks=accepter_cidrs,
        ),
    )


VPCS = [
    vpc("vpc-a", "10.0.0.0/16"),
    vpc("vpc-b", "10.1.0.0/16"),
    vpc("vpc-c", "172.16.0.0/16", "10.0.128.0/20"),  # secondary block inside vpc-a
    vpc("vpc-d", "10.0.0.0/16"),
]


def test_flags_active_peerings_with_overlapping_blocks() -> None:
    estate = region(
        vpcs=VPCS,
        peering_connections=[
            peering("pcx-clean", "vpc-a", "vpc-b"),
            peering("pcx-secondary", "vpc-a", "vpc-c"),
            peering("pcx-identical", "vpc-a", "vpc-d"),
            peering("pcx-pending", "vpc-a", "vpc-d", status="pending-acceptance"),
            peering("pcx-deleted", "vpc-a", "vpc-c", status="deleted"),
            # The accepter is in an account that was not scanned: its blocks come from the
            # peering connection itself.
            peering(
                "pcx-cross-account",
                "vpc-b",
                "vpc-x",
                accepter_cidrs=("10.1.8.0/24",),
                accepter_owner=OTHER_ACCOUNT,
            ),
            peering(
                "pcx-cross-account-clean",
                "vpc-b",
                "vpc-y",
                accepter_cidrs=("10.2.0.0/16",),
                accepter_owner=OTHER_ACCOUNT,
            ),
        ],
    )
    assert flagged(rule, estate) == {"pcx-secondary", "pcx-identical", "pcx-cross-account"}


def test_message_names_both_vpcs_and_the_overlapping_blocks() -> None:
    estate = region(vpcs=VPCS, peering_connections=[peering("pcx-secondary", "vpc-a", "vpc-c")])
    finding = findings(rule, estate)["pcx-secondary"]
    assert "10.0.0.0/16 overlaps 10.0.128.0/20" in finding.message
    assert finding.related_resources == ("vpc-a", "vpc-c")
    assert finding.resource_type == "vpc-peering-connection"


def test_a_peering_seen_from_both_sides_is_reported_once_from_the_requester() -> None:
    connection = peering("pcx-x", "vpc-a", "vpc-c", accepter_region="us-east-1")
    requester_side = region(vpcs=[VPCS[0]], peering_connections=[connection])
    accepter_side = region(name="us-east-1", vpcs=[VPCS[2]], peering_connections=[connection])
    found = findings(rule, accepter_side, requester_side)
    assert list(found) == ["pcx-x"]
    assert found["pcx-x"].region == "eu-west-1"
