"""Routing-rule scaling with the number of route tables in one VPC:
`python -m benchmarks.bench_route_tables`.

Builds ONE VPC with N route tables, each deciding one subnet's traffic through a NAT default
route (so VPCE401 and VPCE402 flag most tables), some with a route to the S3 prefix list and a
more specific route inside it (VPCE404's business), some to a transit gateway (VPCE403's); a few
gateway endpoints, and interface endpoints with private DNS that grow with the VPC (one per
--endpoint-every tables), so per-VPC work redone for every table shows. Times VPCE401-404 at N
and 2N, alternating the sizes, and prints the ratio of the fastest runs (shared machines are
noisy; the minimum is the least disturbed run). Per-table work gives a ratio near 2; work per
table and per endpoint of the VPC tends to 4.
"""

from __future__ import annotations

import argparse
import gc
import time

from tests.helpers import (
    S3_PL,
    document,
    endpoint,
    region,
    route,
    service,
    service_prefix_lists,
    subnet,
    table,
    vpc,
)
from vpce_audit.model import RegionSnapshot, Route, RouteTable, VpcEndpoint
from vpce_audit.rules.base import Settings
from vpce_audit.rules.engine import evaluate
from vpce_audit.rules.registry import load_registry
from vpce_audit.snapshot.document import SnapshotDocument
from vpce_audit.snapshot.views import Snapshot

RULE_IDS = ("VPCE401", "VPCE402", "VPCE403", "VPCE404")
VPC_ID = "vpc-000001"
GATEWAY_ENDPOINTS = 4


def _routes(i: int) -> tuple[Route, ...]:
    """Every tenth table sends its default route to a transit gateway; every third routes S3 to
    the gateway endpoint, and every sixth also has a more specific route inside S3's blocks."""
    default = "tgw-000001" if i % 10 == 0 else f"nat-{i % 4:06d}"
    routes = [route("0.0.0.0/0", default)]
    if i % 3 == 0:
        routes.append(route(S3_PL, "vpce-gw-0"))
    if i % 6 == 0:
        routes.append(route("52.218.4.0/24", f"nat-{i % 4:06d}"))
    return tuple(routes)


def _endpoints(route_tables: int, endpoint_every: int, table_ids: list[str]) -> list[VpcEndpoint]:
    """Gateway endpoints stay few (AWS's quota is per region); interface endpoints, each for its
    own service with private DNS, grow with the estate: one per ``endpoint_every`` tables."""
    found = [
        endpoint(
            f"vpce-gw-{n}",
            VPC_ID,
            "s3" if n % 2 == 0 else "dynamodb",
            "Gateway",
            tables=tuple(table_ids[n::GATEWAY_ENDPOINTS]),
        )
        for n in range(GATEWAY_ENDPOINTS)
    ]
    found += [
        endpoint(
            f"vpce-if-{n:06d}", VPC_ID, f"svc{n}", private_dns=True, subnets=("subnet-000000",)
        )
        for n in range(route_tables // endpoint_every)
    ]
    return found


def synthetic_vpc(route_tables: int, endpoint_every: int = 10) -> RegionSnapshot:
    tables: list[RouteTable] = []
    subnets = []
    for i in range(route_tables):
        subnet_id = f"subnet-{i:06d}"
        subnets.append(subnet(subnet_id, VPC_ID, "abc"[i % 3]))
        tables.append(table(f"rtb-{i:06d}", VPC_ID, *_routes(i), subnets=(subnet_id,)))
    tables.append(table("rtb-main", VPC_ID, route("0.0.0.0/0", "nat-000000"), main=True))
    return region(
        vpcs=[vpc(VPC_ID, "10.0.0.0/8")],
        subnets=subnets,
        route_tables=tables,
        vpc_endpoints=_endpoints(route_tables, endpoint_every, [t.route_table_id for t in tables]),
        prefix_lists=service_prefix_lists(),
        endpoint_service_details=[service("s3", "Gateway"), service("dynamodb", "Gateway")],
    )


def time_rules(doc: SnapshotDocument) -> float:
    rules = [rule for rule in load_registry(include_plugins=False) if rule.rule_id in RULE_IDS]
    snapshot = Snapshot(doc)  # fresh indexes each run: building them is part of the cost
    gc.collect()  # garbage from the previous run is not this run's cost
    started = time.perf_counter()
    result = evaluate(snapshot, rules, Settings())
    elapsed = time.perf_counter() - started
    assert not result.rule_errors, result.rule_errors
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--route-tables", type=int, default=2000, help="route tables at the smaller size"
    )
    parser.add_argument(
        "--endpoint-every",
        type=int,
        default=10,
        help="one interface endpoint (with private DNS) per this many route tables",
    )
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    sizes = (args.route_tables, 2 * args.route_tables)
    docs = [document(synthetic_vpc(n, args.endpoint_every)) for n in sizes]
    samples: list[list[float]] = [[], []]
    # Alternate the sizes so that a burst of load on a shared machine hits both alike.
    for _ in range(args.repeats):
        for index, doc in enumerate(docs):
            samples[index].append(time_rules(doc))
    small, large = (min(found) for found in samples)
    print(
        f"{', '.join(RULE_IDS)} on one VPC: {sizes[0]} route tables: min {small:.3f}s; "
        f"{sizes[1]}: min {large:.3f}s; ratio {large / small:.2f} (2.0 = linear, 4.0 = quadratic)"
    )


if __name__ == "__main__":
    main()
