"""How collection cost grows with the estate: `python -m benchmarks.bench_collect_calls`.

Seeds N and 2N VPCs (each with subnets, a route table, an endpoint and a security group) in
moto, collects one region, and counts API calls by operation. Account-wide calls stay constant;
only DescribeVpcAttribute (no batch form in the EC2 API) and ListHostedZonesByVPC (Route 53 asks
for one VPC at a time) grow, by exactly two and one per VPC. Call
counts are deterministic, unlike timings on a shared machine; wall time is printed for scale.
"""

from __future__ import annotations

import argparse
import collections
import os
import time
from typing import Any

import boto3
from moto import mock_aws

from vpce_audit.collect.runner import ClientFactory, CollectionRequest, collect
from vpce_audit.demo.moto_gaps import (
    answer_endpoint_connections,
    answer_group_associations,
    answer_profiles,
)

REGION = "eu-west-1"


def seed(ec2: Any, vpcs: int) -> None:
    for i in range(vpcs):
        vpc = ec2.create_vpc(CidrBlock=f"10.{i // 256}.{i % 256}.0/24")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{i // 256}.{i % 256}.0/25")["Subnet"][
            "SubnetId"
        ]
        table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
        ec2.create_security_group(GroupName=f"g{i}", Description="bench", VpcId=vpc)
        ec2.create_vpc_endpoint(
            VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.s3", RouteTableIds=[table]
        )


def measure(vpcs: int) -> tuple[collections.Counter[str], float]:
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        seed(session.client("ec2"), vpcs)
        calls: collections.Counter[str] = collections.Counter()
        # Counted before the request is built: a before-call handler that answers a call moto
        # lacks stops the before-call handlers after it.
        session.events.register(
            "before-parameter-build", lambda model, **_: calls.update([model.name])
        )
        answer_endpoint_connections(session, {})
        answer_profiles(session)
        answer_group_associations(session)
        started = time.perf_counter()
        collect(ClientFactory(session), CollectionRequest(regions=(REGION,)))
        return calls, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--vpcs", type=int, default=50)
    args = parser.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    small, small_time = measure(args.vpcs)
    large, large_time = measure(2 * args.vpcs)
    print(f"{'operation':45} {args.vpcs:>6} VPCs {2 * args.vpcs:>6} VPCs")
    for operation in sorted(set(small) | set(large)):
        print(f"{operation:45} {small[operation]:>11} {large[operation]:>11}")
    print(f"{'total calls':45} {sum(small.values()):>11} {sum(large.values()):>11}")
    print(f"{'wall time (s, moto in-process)':45} {small_time:>11.2f} {large_time:>11.2f}")


if __name__ == "__main__":
    main()
