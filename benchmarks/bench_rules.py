"""Rule-evaluation scaling on synthetic estates: `python -m benchmarks.bench_rules`.

Builds an estate of N VPCs per region (subnets, route tables, gateway and interface endpoints,
security groups, a peering per VPC, one transit gateway for all) and times every rule (VPCE504
included) at N and 2N.
Near-linear rules show a ratio close to 2; an all-pairs rule would show 4. Prints medians of
several runs, since shared machines are noisy. --shared-cidr gives every VPC the same block,
the worst case for the overlap rules; --shared-secondary gives every VPC a block of its own and
100.64.0.0/16 beside it, as EKS custom networking does (each VPC overlaps all the others, each
through a different set of blocks).
"""

from __future__ import annotations

import argparse
import statistics
import time

from tests.helpers import (
    ACCOUNT,
    document,
    endpoint,
    ingress,
    region,
    route,
    security_group,
    service,
    service_prefix_lists,
    subnet,
    table,
    vpc,
)
from vpce_audit.model import (
    PeeringConnection,
    PeeringSide,
    RegionSnapshot,
    TransitGatewayAttachment,
    TransitGatewayRouteTable,
)
from vpce_audit.rules.base import Settings
from vpce_audit.rules.registry import load_registry
from vpce_audit.scan import run_scan
from vpce_audit.snapshot.document import SnapshotDocument


def synthetic_region(
    vpcs: int,
    name: str = "eu-west-1",
    *,
    shared_cidr: bool = False,
    first_id: int = 0,
    account: str = ACCOUNT,
    shared_secondary: bool = False,
) -> RegionSnapshot:
    """``vpcs`` VPCs of ``account`` with ids from ``first_id`` (unique ids across the scopes of
    one estate)."""
    vpc_list, subnets, tables, endpoints, groups, peerings = [], [], [], [], [], []
    attachments = []
    for i in range(vpcs):
        n = first_id + i
        vpc_id = f"vpc-{n:06d}"
        cidr = "10.0.0.0/16" if shared_cidr else f"10.{(i // 256) % 256}.{i % 256}.0/24"
        blocks = (cidr, "100.64.0.0/16") if shared_secondary else (cidr,)
        vpc_list.append(vpc(vpc_id, *blocks, dns=(True, i % 7 != 0), owner=account))
        subnet_ids = []
        for zone in "abc":
            subnet_id = f"subnet-{n:06d}{zone}"
            subnets.append(subnet(subnet_id, vpc_id, zone))
            subnet_ids.append(subnet_id)
        tables.append(
            table(
                f"rtb-{n:06d}",
                vpc_id,
                route("0.0.0.0/0", f"nat-{n:06d}"),
                subnets=tuple(subnet_ids),
            )
        )
        groups.append(
            security_group(f"sg-{n:06d}", vpc_id, ingress("0.0.0.0/0" if i % 5 == 0 else cidr))
        )
        endpoints.append(
            endpoint(
                f"vpce-{n:06d}g", vpc_id, "s3", "Gateway", tables=(f"rtb-{n:06d}",) if i % 2 else ()
            )
        )
        endpoints.append(
            endpoint(
                f"vpce-{n:06d}i",
                vpc_id,
                "ssm",
                private_dns=True,
                subnets=tuple(subnet_ids[: 1 + i % 3]),
                groups=(f"sg-{n:06d}",),
            )
        )
        attachments.append(
            TransitGatewayAttachment(
                f"tgw-attach-{n:06d}",
                "tgw-1",
                account,
                "vpc",
                vpc_id,
                account,
                "available",
                association_route_table_id="tgw-rtb-1",
            )
        )
        if i:
            peerings.append(
                PeeringConnection(
                    f"pcx-{n:06d}",
                    "active",
                    PeeringSide(account, f"vpc-{n - 1:06d}", name),
                    PeeringSide(account, vpc_id, name),
                )
            )
    attachment_ids = tuple(a.attachment_id for a in attachments)
    return region(
        account,
        name=name,
        transit_gateway_attachments=attachments,
        # Every attachment associated with and propagating into one table: the overlap rules'
        # worst case with --shared-cidr.
        transit_gateway_route_tables=[
            TransitGatewayRouteTable("tgw-rtb-1", "tgw-1", attachment_ids, attachment_ids, None)
        ],
        vpcs=vpc_list,
        subnets=subnets,
        route_tables=tables,
        vpc_endpoints=endpoints,
        security_groups=groups,
        peering_connections=peerings,
        prefix_lists=service_prefix_lists(),
        endpoint_service_details=[service("s3", "Gateway"), service("ssm")],
    )


def time_scan(doc: SnapshotDocument, repeats: int) -> float:
    rules = load_registry(include_plugins=False)  # every rule, VPCE504 included
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        run_scan(doc, rules, Settings())
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--vpcs", type=int, default=2000, help="VPCs at the smaller size")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--shared-cidr",
        action="store_true",
        help="give every VPC the same block (worst case for the overlap rules)",
    )
    parser.add_argument(
        "--shared-secondary",
        action="store_true",
        help="give every VPC 100.64.0.0/16 beside a block of its own (EKS custom networking)",
    )
    args = parser.parse_args()
    layout = {"shared_cidr": args.shared_cidr, "shared_secondary": args.shared_secondary}
    small = time_scan(document(synthetic_region(args.vpcs, **layout)), args.repeats)
    large = time_scan(document(synthetic_region(2 * args.vpcs, **layout)), args.repeats)
    print(
        f"{args.vpcs} VPCs: median {small:.3f}s; {2 * args.vpcs} VPCs: median {large:.3f}s; "
        f"ratio {large / small:.2f} (2.0 = linear, 4.0 = quadratic)"
    )


if __name__ == "__main__":
    main()
