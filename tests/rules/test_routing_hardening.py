"""VPCE401-404 (and VPCE601's egress note) never call a route table clean on routes whose
addresses were not seen: prefix lists whose entries failed to read, lists the snapshot does not
hold, and AWS lists that came back empty. Exactly the tables whose verdict those lists could
change are skipped, naming the list and the collection error; the others are still judged.

The fixtures record a failed GetManagedPrefixListEntries as the collector does
(vpce_audit/collect/region.py ``_prefix_list``): the list with ``cidrs=None`` and an error of
kind ``prefix_list_entries`` against the list's id.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from typing import Any

import pytest

from tests.helpers import (
    ACCOUNT,
    DDB_PL,
    S3_PL,
    endpoint,
    error,
    region,
    route,
    run,
    service_prefix_lists,
    subnet,
    table,
    vpc,
)
from vpce_audit.analysis.endpoint_dns import CentralDns
from vpce_audit.analysis.routes import route_for, service_destinations
from vpce_audit.model import CollectionError, PrefixList, RegionSnapshot, Route, RouteTable
from vpce_audit.rules.base import Rule
from vpce_audit.rules.builtin.coverage import required_endpoint_missing
from vpce_audit.rules.builtin.routing import (
    dynamodb_traffic_via_nat,
    endpoint_route_shadowed,
    s3_traffic_via_nat,
    service_traffic_via_transit_gateway,
)

ENTRIES_DENIED = "GetManagedPrefixListEntries: AccessDenied"
CORP = PrefixList("pl-corp", "corp-networks", ACCOUNT, cidrs=None)


def entries_failed(prefix_list_id: str) -> CollectionError:
    return error("prefix_list_entries", "GetManagedPrefixListEntries", resource_id=prefix_list_id)


def estate(
    *tables: RouteTable,
    prefix_lists: tuple[PrefixList, ...] | None = None,
    errors: tuple[CollectionError, ...] = (),
) -> RegionSnapshot:
    """vpc-1 with the given route tables, each deciding a subnet of its own, and S3 and
    DynamoDB gateway endpoints that none of them is associated with."""
    return region(
        vpcs=[vpc("vpc-1")],
        prefix_lists=service_prefix_lists() if prefix_lists is None else prefix_lists,
        subnets=[subnet(f"subnet-{t.route_table_id[4:]}", "vpc-1") for t in tables],
        route_tables=[replace(t, subnet_ids=(f"subnet-{t.route_table_id[4:]}",)) for t in tables],
        vpc_endpoints=[
            endpoint("vpce-s3", "vpc-1", "s3", "Gateway"),
            endpoint("vpce-ddb", "vpc-1", "dynamodb", "Gateway"),
        ],
        errors=errors,
    )


def verdicts(rule: Rule, snapshot: RegionSnapshot) -> tuple[set[str], dict[str, str]]:
    """(flagged route tables, skipped route table -> reason)."""
    result = run(rule, snapshot)
    assert not result.rule_errors, result.rule_errors
    skips: dict[str, str] = {}
    for skip in result.skipped:
        assert skip.resource_id is not None, skip  # never the whole region
        assert skip.resource_id not in skips, skip  # one skip per table
        skips[skip.resource_id] = skip.reason
    return {f.resource_id for f in result.findings}, skips


# -- the service's own list ---------------------------------------------------------------


def service_list_unread() -> RegionSnapshot:
    s3_list, ddb_list = service_prefix_lists()
    return estate(
        table("rtb-nat", "vpc-1", route("0.0.0.0/0", "nat-1")),
        table("rtb-igw", "vpc-1", route("0.0.0.0/0", "igw-1")),
        table("rtb-s3-endpoint", "vpc-1", route("0.0.0.0/0", "nat-1"), route(S3_PL, "vpce-s3")),
        table("rtb-ddb-endpoint", "vpc-1", route("0.0.0.0/0", "nat-1"), route(DDB_PL, "vpce-ddb")),
        table("rtb-tgw", "vpc-1", route("0.0.0.0/0", "tgw-1")),
        prefix_lists=(replace(s3_list, cidrs=None), ddb_list),
        errors=(entries_failed(S3_PL),),
    )


def test_unread_service_list_skips_only_tables_whose_routes_may_carry_the_service() -> None:
    unread = service_list_unread()
    flagged, skips = verdicts(s3_traffic_via_nat, unread)
    # Any NAT route may carry S3's (unknown) addresses; a table without one cannot, and a table
    # routing S3 to the gateway endpoint uses it whatever the list holds.
    assert flagged == set()
    assert set(skips) == {"rtb-nat", "rtb-ddb-endpoint"}
    gap = f"the entries of prefix list {S3_PL} (com.amazonaws.eu-west-1.s3) were not read"
    assert gap in skips["rtb-nat"]
    assert ENTRIES_DENIED in skips["rtb-nat"]


def test_unread_service_list_leaves_the_other_service_judged_except_where_it_is_routed() -> None:
    flagged, skips = verdicts(dynamodb_traffic_via_nat, service_list_unread())
    assert flagged == {"rtb-nat"}
    # The route to S3's list may take DynamoDB's addresses too: its entries are unknown.
    assert set(skips) == {"rtb-s3-endpoint"}
    assert S3_PL in skips["rtb-s3-endpoint"] and ENTRIES_DENIED in skips["rtb-s3-endpoint"]


def test_unread_service_list_in_403_skips_s3_and_still_flags_dynamodb() -> None:
    result = run(service_traffic_via_transit_gateway, service_list_unread())
    assert [f.resource_id for f in result.findings] == ["rtb-tgw"]
    assert "sends DynamoDB traffic" in result.findings[0].message
    assert [(s.resource_id, S3_PL in s.reason) for s in result.skipped] == [("rtb-tgw", True)]
    assert "S3 traffic" in result.skipped[0].reason


def test_unread_service_list_in_404_skips_the_tables_routing_it_to_the_endpoint() -> None:
    unread = service_list_unread()
    shadowed = replace(
        unread,
        route_tables=(
            *unread.route_tables,
            table(
                "rtb-ddb-shadow",
                "vpc-1",
                route(DDB_PL, "vpce-ddb"),
                route("52.119.240.0/24", "nat-1"),
            ),
        ),
    )
    flagged, skips = verdicts(endpoint_route_shadowed, shadowed)
    assert flagged == {"rtb-ddb-shadow"}
    assert set(skips) == {"rtb-s3-endpoint"}
    assert S3_PL in skips["rtb-s3-endpoint"] and ENTRIES_DENIED in skips["rtb-s3-endpoint"]


def test_an_empty_service_list_is_not_the_whole_ipv4_space() -> None:
    """AWS's service lists are never empty: an empty one was not read in full. Taking it for
    0.0.0.0/0 would judge tables by their default route alone."""
    s3_list, ddb_list = service_prefix_lists()
    empty = replace(s3_list, cidrs=())
    assert service_destinations(empty) is None
    snapshot = estate(
        table("rtb-nat", "vpc-1", route("0.0.0.0/0", "nat-1")),
        table(
            "rtb-specific", "vpc-1", route("0.0.0.0/0", "igw-1"), route("52.218.0.0/17", "nat-1")
        ),
        table("rtb-endpoint", "vpc-1", route(S3_PL, "vpce-s3"), route("52.218.4.0/24", "nat-1")),
        table("rtb-clean", "vpc-1", route("0.0.0.0/0", "igw-1")),
        prefix_lists=(empty, ddb_list),
    )
    flagged, skips = verdicts(s3_traffic_via_nat, snapshot)
    assert flagged == set()
    assert set(skips) == {"rtb-nat", "rtb-specific"}
    assert f"prefix list {S3_PL} (com.amazonaws.eu-west-1.s3) has no entries" in skips["rtb-nat"]
    flagged, skips = verdicts(endpoint_route_shadowed, snapshot)
    assert flagged == set()
    assert set(skips) == {"rtb-endpoint"}
    assert "has no entries" in skips["rtb-endpoint"]


# -- a customer-managed list whose entries failed ----------------------------------------


def corp_list_unread() -> RegionSnapshot:
    return estate(
        table("rtb-corp", "vpc-1", route("0.0.0.0/0", "nat-1"), route("pl-corp", "tgw-1")),
        table("rtb-plain", "vpc-1", route("0.0.0.0/0", "nat-1")),
        table("rtb-corp-igw", "vpc-1", route("0.0.0.0/0", "igw-1"), route("pl-corp", "tgw-1")),
        table(
            "rtb-corp-blackhole",
            "vpc-1",
            route("0.0.0.0/0", "nat-1"),
            route("pl-corp", "tgw-gone", "blackhole"),
        ),
        table(
            "rtb-corp-endpoint",
            "vpc-1",
            route("0.0.0.0/0", "nat-1"),
            route(S3_PL, "vpce-s3"),
            route("pl-corp", "tgw-1"),
        ),
        table("rtb-shadow", "vpc-1", route(S3_PL, "vpce-s3"), route("52.218.4.0/24", "nat-1")),
        prefix_lists=(*service_prefix_lists(), CORP),
        errors=(entries_failed("pl-corp"),),
    )


@pytest.mark.parametrize(
    ("rule", "flagged", "skipped"),
    [
        # pl-corp may take S3's addresses (or drop them, when a blackhole) from the NAT route;
        # where no NAT route exists it cannot add one.
        (
            s3_traffic_via_nat,
            {"rtb-plain"},
            {"rtb-corp", "rtb-corp-blackhole"},
        ),
        (
            dynamodb_traffic_via_nat,
            {"rtb-plain"},
            {"rtb-corp", "rtb-corp-blackhole", "rtb-corp-endpoint"},
        ),
        # pl-corp's own target is a transit gateway: it may carry the traffic there.
        (
            service_traffic_via_transit_gateway,
            set(),
            {"rtb-corp", "rtb-corp-igw", "rtb-corp-endpoint"},
        ),
        (endpoint_route_shadowed, {"rtb-shadow"}, {"rtb-corp-endpoint"}),
    ],
)
def test_unread_customer_list_skips_exactly_the_tables_it_could_change(
    rule: Rule, flagged: set[str], skipped: set[str]
) -> None:
    found, skips = verdicts(rule, corp_list_unread())
    assert found == flagged
    assert set(skips) == skipped
    for reason in skips.values():
        assert "the entries of prefix list pl-corp (corp-networks) were not read" in reason
        assert ENTRIES_DENIED in reason


def test_403_skips_a_table_once_naming_the_services_it_cannot_judge() -> None:
    result = run(service_traffic_via_transit_gateway, corp_list_unread())
    reasons = {s.resource_id: s.reason for s in result.skipped}
    assert reasons["rtb-corp"].startswith("which route carries S3 and DynamoDB traffic from")
    # S3 goes to the gateway endpoint whatever pl-corp holds.
    assert reasons["rtb-corp-endpoint"].startswith("which route carries DynamoDB traffic from")


def test_a_readable_customer_list_is_judged_on_its_entries() -> None:
    read = corp_list_unread()
    known = replace(
        read,
        prefix_lists=(*service_prefix_lists(), replace(CORP, cidrs=("10.8.0.0/13",))),
        errors=(),
    )
    found, skips = verdicts(s3_traffic_via_nat, known)
    assert found == {"rtb-plain", "rtb-corp", "rtb-corp-blackhole"}
    assert skips == {}


# -- a list the snapshot does not hold ----------------------------------------------------


def test_a_route_to_a_prefix_list_missing_from_the_snapshot_is_not_judged() -> None:
    snapshot = estate(
        table("rtb-gone", "vpc-1", route("0.0.0.0/0", "nat-1"), route("pl-gone", "pcx-1")),
        table("rtb-plain", "vpc-1", route("0.0.0.0/0", "nat-1")),
        table("rtb-gone-endpoint", "vpc-1", route(DDB_PL, "vpce-ddb"), route("pl-gone", "pcx-1")),
    )
    for rule in (s3_traffic_via_nat, dynamodb_traffic_via_nat):
        found, skips = verdicts(rule, snapshot)
        assert found == {"rtb-plain"}
        assert set(skips) == {"rtb-gone"}
        assert "prefix list pl-gone is not in the snapshot" in skips["rtb-gone"]
    found, skips = verdicts(endpoint_route_shadowed, snapshot)
    assert found == set()
    assert set(skips) == {"rtb-gone-endpoint"}
    assert "prefix list pl-gone is not in the snapshot" in skips["rtb-gone-endpoint"]


# -- route selection and VPCE601's egress note ---------------------------------------------


def test_route_for_says_when_a_list_with_unknown_entries_could_win() -> None:
    lists = {plist.prefix_list_id: plist for plist in (*service_prefix_lists(), CORP)}
    propagated = Route(
        destination_cidr="0.0.0.0/0", target_id="vgw-1", origin="EnableVgwRoutePropagation"
    )
    s3_block = ipaddress.IPv4Network("52.218.0.0/17")
    static = table("rtb-1", "vpc-1", route("0.0.0.0/0", "nat-1"), route("pl-corp", "tgw-1"))
    # A static route beats a prefix-list entry of the same length: nothing can beat it at /0.
    assert route_for(static, ipaddress.IPv4Network("0.0.0.0/0"), lists).contenders == ()
    assert [r.target_id for r in route_for(static, s3_block, lists).contenders] == ["tgw-1"]
    weaker = table("rtb-2", "vpc-1", propagated, route("pl-corp", "tgw-1"))
    choice = route_for(weaker, ipaddress.IPv4Network("0.0.0.0/0"), lists)
    assert choice.route == propagated
    assert [r.target_id for r in choice.contenders] == ["tgw-1"]


def coverage_estate(*routes: Route) -> RegionSnapshot:
    return region(
        vpcs=[vpc("vpc-1")],
        prefix_lists=(*service_prefix_lists(), CORP),
        subnets=[subnet("subnet-1", "vpc-1")],
        route_tables=[table("rtb-1", "vpc-1", *routes, subnets=("subnet-1",))],
        errors=(entries_failed("pl-corp"),),
    )


@pytest.mark.parametrize(
    ("routes", "egress"),
    [
        (
            (route("0.0.0.0/0", "nat-1"), route("pl-corp", "tgw-1")),
            "leave the VPC through nat gateway nat-1.",
        ),
        (
            (route("pl-corp", "tgw-1"),),
            "go where the routes to prefix list pl-corp (entries unknown) send them.",
        ),
        (
            (
                Route(
                    destination_cidr="0.0.0.0/0",
                    target_id="vgw-1",
                    origin="EnableVgwRoutePropagation",
                ),
                route("pl-corp", "tgw-1"),
            ),
            "leave the VPC through virtual private gateway vgw-1 (unless routes to prefix list "
            "pl-corp, whose entries are unknown, win).",
        ),
    ],
)
def test_601_does_not_say_calls_fail_or_leave_by_a_route_a_list_may_beat(
    routes: tuple[Route, ...], egress: str
) -> None:
    result = run(required_endpoint_missing, coverage_estate(*routes))
    (finding,) = result.findings
    assert finding.message.endswith(egress), finding.message


# -- scaling ---------------------------------------------------------------------------------


def test_dns_is_resolved_once_per_vpc_not_once_per_route_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every route table of a VPC shares its DNS; asking per table made VPCE401-403 quadratic
    in a VPC with thousands of tables and many endpoints."""
    calls: list[tuple[str, str]] = []
    original = CentralDns.resolution

    def counted(self: CentralDns, scope: Any, vpc_id: str, short_service: str) -> Any:
        calls.append((vpc_id, short_service))
        return original(self, scope, vpc_id, short_service)

    monkeypatch.setattr(CentralDns, "resolution", counted)
    tables = [table(f"rtb-{n:03d}", "vpc-1", route("0.0.0.0/0", f"nat-{n}")) for n in range(50)]
    tables += [table(f"rtb-{n:03d}", "vpc-1", route("0.0.0.0/0", "tgw-1")) for n in range(50, 99)]
    many = estate(*tables)
    for rule in (s3_traffic_via_nat, service_traffic_via_transit_gateway):
        calls.clear()
        result = run(rule, many)
        assert len(result.findings) >= 49  # every table of the kind was judged
        assert calls and len(calls) == len(set(calls)), calls


def test_reach_over_a_peering_is_unknown_when_an_unread_prefix_list_route_may_win() -> None:
    """Where a VPC sends traffic is unknown while a route to a prefix list with unknown entries
    could be more specific than the known route (VPCE207 and the central-DNS checks use it)."""
    import ipaddress

    from tests.helpers import document, peering, region, route, subnet, table, vpc
    from vpce_audit.analysis.topology import Topology
    from vpce_audit.model import PrefixList
    from vpce_audit.snapshot.views import Snapshot

    def reach(corp_cidrs: tuple[str, ...] | None) -> tuple[bool | None, str]:
        snapshot = Snapshot(
            document(
                region(
                    vpcs=[vpc("vpc-a", "10.0.0.0/16"), vpc("vpc-b", "10.1.0.0/16")],
                    subnets=[subnet("subnet-a", "vpc-a")],
                    route_tables=[
                        table(
                            "rtb-a",
                            "vpc-a",
                            route("10.1.0.0/16", "pcx-1"),
                            route("pl-corp", "tgw-1"),
                            subnets=("subnet-a",),
                        )
                    ],
                    peering_connections=[peering("pcx-1", "vpc-a", "vpc-b", "10.1.0.0/16")],
                    prefix_lists=[PrefixList("pl-corp", "corp", "111111111111", cidrs=corp_cidrs)],
                )
            )
        )
        (scope,) = snapshot.scopes
        found = Topology(snapshot).reach(
            scope, "vpc-a", "vpc-b", [ipaddress.IPv4Network("10.1.0.0/24")]
        )
        return found.reachable, found.how

    assert reach(None) == (None, "rtb-a routes to prefix list pl-corp, whose entries are unknown")
    assert reach(("192.168.0.0/16",)) == (True, "rtb-a -> pcx-1")
