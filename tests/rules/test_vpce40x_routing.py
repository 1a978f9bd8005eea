from __future__ import annotations

import dataclasses

from tests.helpers import (
    ACCOUNT,
    DDB_PL,
    REGION,
    S3_PL,
    endpoint,
    findings,
    flagged,
    ingress,
    peering,
    region,
    route,
    security_group,
    service_prefix_lists,
    snapshot,
    subnet,
    table,
    vpc,
)
from vpce_audit.model import (
    AccountSnapshot,
    DhcpOptions,
    HostedZone,
    HostedZoneVpc,
    RegionSnapshot,
    ResourceRecordSet,
    Route,
)
from vpce_audit.rules.base import Settings
from vpce_audit.rules.builtin.routing import (
    dynamodb_traffic_via_nat,
    endpoint_route_shadowed,
    gateway_endpoint_route_missing,
    s3_traffic_via_nat,
    service_traffic_via_transit_gateway,
)
from vpce_audit.rules.engine import evaluate


def test_403_flags_tables_whose_service_traffic_goes_to_a_transit_gateway() -> None:
    estate = region(
        prefix_lists=service_prefix_lists(),
        subnets=[subnet(f"subnet-{n}", "vpc-1") for n in ("tgw", "tgw-s3", "nat", "none")],
        route_tables=[
            table("rtb-tgw", "vpc-1", route("0.0.0.0/0", "tgw-1"), subnets=("subnet-tgw",)),
            table(
                "rtb-tgw-s3",
                "vpc-1",
                route("0.0.0.0/0", "tgw-1"),
                route(S3_PL, "vpce-s3"),
                subnets=("subnet-tgw-s3",),
            ),
            table("rtb-nat", "vpc-1", route("0.0.0.0/0", "nat-1"), subnets=("subnet-nat",)),
            table("rtb-tgw-unused", "vpc-1", route("0.0.0.0/0", "tgw-1")),
            table(
                "rtb-both-endpoints",
                "vpc-1",
                route("0.0.0.0/0", "tgw-1"),
                route(S3_PL, "vpce-s3"),
                route(DDB_PL, "vpce-ddb"),
                subnets=("subnet-none",),
            ),
        ],
        vpc_endpoints=[
            endpoint("vpce-s3", "vpc-1", "s3", "Gateway"),
            endpoint("vpce-ddb", "vpc-1", "dynamodb", "Gateway"),
        ],
    )
    found = findings(service_traffic_via_transit_gateway, estate)
    assert set(found) == {"rtb-tgw", "rtb-tgw-s3"}
    assert "S3 and DynamoDB traffic" in found["rtb-tgw"].message
    assert "sends DynamoDB traffic" in found["rtb-tgw-s3"].message
    # A trade-off, not an error.
    assert "central inspection" in found["rtb-tgw"].message


def _central_spoke(default_target: str) -> RegionSnapshot:
    """A spoke whose default route goes to ``default_target`` and a peered hub with S3 and
    DynamoDB interface endpoints."""
    return region(
        prefix_lists=service_prefix_lists(),
        vpcs=[vpc("vpc-spoke", "10.31.0.0/16"), vpc("vpc-hub", "10.30.0.0/16")],
        subnets=[
            subnet("subnet-spoke", "vpc-spoke", cidr="10.31.1.0/24"),
            subnet("subnet-hub", "vpc-hub", cidr="10.30.1.0/24"),
        ],
        route_tables=[
            table(
                "rtb-spoke",
                "vpc-spoke",
                route("0.0.0.0/0", default_target),
                route("10.30.0.0/16", "pcx-1"),
                subnets=("subnet-spoke",),
            ),
            table("rtb-hub", "vpc-hub", route("10.31.0.0/16", "pcx-1"), subnets=("subnet-hub",)),
        ],
        peering_connections=[peering("pcx-1", "vpc-spoke", "vpc-hub")],
        security_groups=[security_group("sg-hub", "vpc-hub", ingress("10.0.0.0/8"))],
        vpc_endpoints=[
            endpoint("vpce-0a1", "vpc-hub", "s3", subnets=("subnet-hub",), groups=("sg-hub",)),
            endpoint(
                "vpce-0a2", "vpc-hub", "dynamodb", subnets=("subnet-hub",), groups=("sg-hub",)
            ),
        ],
    )


def _central_zones(account_endpoints: bool = True) -> AccountSnapshot:
    """Zones that send the spoke's S3 and DynamoDB names to the hub's endpoints; with
    ``account_endpoints``, also DynamoDB's account-based names (``<account>.ddb...``), which
    AWS SDKs use by default."""

    def central_zone(zone_id: str, short: str, endpoint_id: str, label: str = "") -> HostedZone:
        name = f"{label or short}.{REGION}.amazonaws.com"
        target = f"{endpoint_id}-1a2b3c4d.{short}.{REGION}.vpce.amazonaws.com"
        return HostedZone(
            zone_id,
            name,
            True,
            (HostedZoneVpc("vpc-spoke", REGION),),
            (
                ResourceRecordSet(name, "A", alias_target=target),
                ResourceRecordSet(f"*.{name}", "A", alias_target=target),
            ),
        )

    zones = [central_zone("Z1", "s3", "vpce-0a1"), central_zone("Z2", "dynamodb", "vpce-0a2")]
    if account_endpoints:
        zones.append(central_zone("Z3", "dynamodb", "vpce-0a2", label="ddb"))
    return AccountSnapshot(ACCOUNT, "2026-11-26T00:00:00Z", hosted_zones=tuple(zones))


def test_403_is_silent_when_the_vpc_resolves_the_service_to_a_healthy_central_endpoint() -> None:
    """Names resolve to the hub's interface endpoint through a private zone: the routes for the
    public ranges do not matter (https://docs.aws.amazon.com/whitepapers/latest/building-scalable-secure-multi-vpc-network-infrastructure/centralized-access-to-vpc-private-endpoints.html)."""
    spoke = _central_spoke("tgw-1")
    central = evaluate(
        snapshot(spoke, accounts=(_central_zones(),)),
        [service_traffic_via_transit_gateway],
        Settings(),
    )
    assert central.findings == ()
    # The same spoke without the zones pays for the transit gateway.
    assert flagged(service_traffic_via_transit_gateway, spoke) == {"rtb-spoke"}


def test_401_and_402_are_silent_when_the_vpc_resolves_the_service_centrally() -> None:
    """The same pattern with a NAT gateway as the default route: S3 and DynamoDB names resolve
    to the hub's private addresses, so nothing goes through the NAT."""
    spoke = _central_spoke("nat-1")
    rules = [s3_traffic_via_nat, dynamodb_traffic_via_nat]
    central = evaluate(snapshot(spoke, accounts=(_central_zones(),)), rules, Settings())
    assert central.findings == ()
    without = evaluate(snapshot(spoke), rules, Settings())
    assert {(f.rule_id, f.resource_id) for f in without.findings} == {
        ("VPCE401", "rtb-spoke"),
        ("VPCE402", "rtb-spoke"),
    }
    # AWS SDKs call DynamoDB at <account>.ddb.<region>.amazonaws.com by default
    # (https://docs.aws.amazon.com/sdkref/latest/guide/feature-account-endpoints.html): a
    # zone for dynamodb.<region> alone leaves those names public, and their traffic on the NAT.
    partial = evaluate(
        snapshot(spoke, accounts=(_central_zones(account_endpoints=False),)), rules, Settings()
    )
    assert [(f.rule_id, f.resource_id) for f in partial.findings] == [("VPCE402", "rtb-spoke")]


def test_central_zones_do_not_apply_where_the_vpc_does_not_use_the_amazon_resolver() -> None:
    """Private zones need enableDnsSupport and enableDnsHostnames
    (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/hosted-zone-private-considerations.html);
    with either off, names resolve publicly and traffic takes the NAT. With custom DNS servers,
    whether the zones apply is unknown."""
    base = _central_spoke("nat-1")
    rules = [s3_traffic_via_nat]

    def with_spoke(**changes: object) -> RegionSnapshot:
        spoke = next(v for v in base.vpcs if v.vpc_id == "vpc-spoke")
        others = [v for v in base.vpcs if v.vpc_id != "vpc-spoke"]
        return dataclasses.replace(base, vpcs=(dataclasses.replace(spoke, **changes), *others))

    zones = (_central_zones(),)
    off = evaluate(
        snapshot(with_spoke(enable_dns_hostnames=False), accounts=zones), rules, Settings()
    )
    assert [f.resource_id for f in off.findings] == ["rtb-spoke"]
    custom = dataclasses.replace(
        with_spoke(dhcp_options_id="dopt-1"),
        dhcp_options=(DhcpOptions("dopt-1", ("10.9.0.10",)),),
    )
    unknown = evaluate(snapshot(custom, accounts=zones), rules, Settings())
    assert unknown.findings == ()
    assert [s.resource_id for s in unknown.skipped] == ["rtb-spoke"]


def test_404_flags_more_specific_routes_inside_the_service_ranges() -> None:
    base = (route("0.0.0.0/0", "nat-1"), route(S3_PL, "vpce-s3"))
    estate = region(
        prefix_lists=service_prefix_lists(),
        route_tables=[
            table("rtb-clean", "vpc-1", *base),
            table("rtb-inside", "vpc-1", *base, route("52.218.4.0/24", "nat-1")),
            table("rtb-equal", "vpc-1", *base, route("3.5.64.0/21", "igw-1")),
            table("rtb-blackhole", "vpc-1", *base, route("52.92.8.0/24", "eni-1", "blackhole")),
            table("rtb-wider", "vpc-1", *base, route("52.0.0.0/8", "pcx-1")),
            table(
                "rtb-propagated-tie",
                "vpc-1",
                *base,
                Route(
                    destination_cidr="3.5.64.0/21",
                    target_id="vgw-1",
                    origin="EnableVgwRoutePropagation",
                ),
            ),
            table("rtb-no-endpoint", "vpc-1", route("52.218.4.0/24", "nat-1")),
        ],
    )
    found = findings(endpoint_route_shadowed, estate)
    assert set(found) == {"rtb-inside", "rtb-equal", "rtb-blackhole"}
    assert "52.218.0.0/17 is taken by route 52.218.4.0/24 to nat-1" in found["rtb-inside"].message
    assert "(blackhole)" in found["rtb-blackhole"].message


def test_405_flags_missing_and_stale_endpoint_routes() -> None:
    estate = region(
        prefix_lists=service_prefix_lists(),
        route_tables=[
            table("rtb-ok", "vpc-1", route(S3_PL, "vpce-s3")),
            table("rtb-missing", "vpc-1", route("0.0.0.0/0", "nat-1")),
            table("rtb-stale", "vpc-1", route(DDB_PL, "vpce-deleted", "blackhole")),
            table("rtb-wrong-endpoint", "vpc-1", route(S3_PL, "vpce-other")),
        ],
        vpc_endpoints=[
            endpoint(
                "vpce-s3",
                "vpc-1",
                "s3",
                "Gateway",
                tables=("rtb-ok", "rtb-missing", "rtb-wrong-endpoint"),
            ),
            endpoint("vpce-other", "vpc-1", "s3", "Gateway", tables=("rtb-wrong-endpoint",)),
            endpoint("vpce-deleted", "vpc-1", "dynamodb", "Gateway", state="deleted"),
            endpoint("vpce-ghost-table", "vpc-1", "dynamodb", "Gateway", tables=("rtb-gone",)),
        ],
    )
    found = findings(gateway_endpoint_route_missing, estate)
    assert set(found) == {"rtb-missing", "rtb-stale", "rtb-wrong-endpoint"}
    assert "vpce-deleted, which no longer exists" in found["rtb-stale"].message
    assert "vpce-s3" in found["rtb-wrong-endpoint"].message
    assert flagged(gateway_endpoint_route_missing, estate) == set(found)
