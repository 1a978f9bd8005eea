"""Offline scan cost against reading the file: `python -m benchmarks.bench_snapshot_scan`.

Writes a synthetic snapshot of N VPCs per account-region over A accounts and R regions
(benchmarks.bench_rules' estate), each account-region listing a catalogue of C AWS endpoint
services as DescribeVpcEndpointServices does (~1.2 KB each, the same in every account of a
region), then runs, each in a fresh process so peak memory is its own:

* ``json.load`` of the file (the floor: any scan must at least parse it);
* ``vpce-audit scan --snapshot FILE --format json -o /dev/null`` (strict decoding, every rule,
  the report).

Prints the medians of the wall times, their ratio (issue 8's target: 3x) and each process's
peak resident memory, with the figure per 1,000 VPCs.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_rules import synthetic_region
from tests.helpers import document
from vpce_audit.model import EndpointServiceDetail, RegionSnapshot
from vpce_audit.snapshot.document import SnapshotDocument, to_json


def _run(argv: list[str]) -> float:
    """Seconds of one fresh process."""
    started = time.perf_counter()
    subprocess.run(argv, check=False, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def _peak_mib() -> float:
    # The largest resident set of any child so far: read after the smaller measurement (the
    # json.load runs) and again after the larger one (the scans).
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


REGIONS = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-west-3",
    "eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2",
    "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "ca-central-1", "sa-east-1",
)  # fmt: skip


def catalogue(region: str, size: int) -> list[EndpointServiceDetail]:
    """``size`` AWS services as a region lists them (names, DNS names, six zones)."""
    zones = tuple(f"{region}{zone}" for zone in "abcdef")
    found = []
    for number in range(size):
        short = f"service{number:03d}"
        name = f"com.amazonaws.{region}.{short}"
        found.append(
            EndpointServiceDetail(
                service_name=name,
                service_types=("Interface",),
                owner="amazon",
                vpc_endpoint_policy_supported=True,
                private_dns_names=(f"{short}.{region}.amazonaws.com",),
                base_endpoint_dns_names=(f"{short}.{region}.vpce.amazonaws.com",),
                availability_zones=zones,
                service_id=f"vpce-svc-{number:017d}",
            )
        )
    return found


def estate(accounts: int, regions: int, vpcs: int, services: int) -> SnapshotDocument:
    scopes: list[RegionSnapshot] = []
    for region_name in REGIONS[:regions]:
        listed = catalogue(region_name, services)  # one list per region: shared, as collected
        for number in range(accounts):
            account = f"{100000000000 + number:012d}"
            scope = synthetic_region(
                vpcs, region_name, first_id=len(scopes) * vpcs, account=account
            )
            scopes.append(
                dataclasses.replace(
                    scope,
                    endpoint_service_details=tuple(
                        sorted(
                            (*scope.endpoint_service_details, *listed),
                            key=lambda d: (d.service_name, repr(d)),
                        )
                    ),
                )
            )
    return document(*scopes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--vpcs", type=int, default=1000, help="VPCs per account-region")
    parser.add_argument("--accounts", type=int, default=5)
    parser.add_argument("--regions", type=int, default=1, choices=range(1, len(REGIONS) + 1))
    parser.add_argument(
        "--services", type=int, default=0, help="AWS services in each region's catalogue"
    )
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "snapshot.json"
        path.write_text(to_json(estate(args.accounts, args.regions, args.vpcs, args.services)))
        size = path.stat().st_size / 1024**2
        load = [sys.executable, "-c", f"import json; json.load(open({str(path)!r}))"]
        scan = [
            sys.executable, "-m", "vpce_audit", "scan", "--snapshot", str(path),
            "--format", "json", "-o", "/dev/null", "--fail-on", "never", "-q",
        ]  # fmt: skip
        loads = [_run(load) for _ in range(args.repeats)]
        load_peak = _peak_mib()
        scans = [_run(scan) for _ in range(args.repeats)]
        scan_peak = _peak_mib()
    vpcs = args.vpcs * args.accounts * args.regions
    load_time = statistics.median(loads)
    scan_time = statistics.median(scans)
    print(
        f"{vpcs} VPCs ({args.accounts} accounts x {args.regions} regions, {args.services} "
        f"AWS services per region), {size:.0f} MiB: json.load {load_time:.2f}s, "
        f"scan --snapshot {scan_time:.2f}s (ratio {scan_time / load_time:.1f}); peak RSS "
        f"json.load {load_peak:.0f} MiB, scan {scan_peak:.0f} MiB "
        f"({scan_peak / vpcs * 1000:.0f} MiB per 1,000 VPCs)"
    )


if __name__ == "__main__":
    main()
