"""Offline scan cost against reading the file: `python -m benchmarks.bench_snapshot_scan`.

Writes a synthetic snapshot of N VPCs per region over A accounts (benchmarks.bench_rules'
estate), then runs, each in a fresh process so peak memory is its own:

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
from vpce_audit.snapshot.document import to_json


def _run(argv: list[str]) -> float:
    """Seconds of one fresh process."""
    started = time.perf_counter()
    subprocess.run(argv, check=False, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def _peak_mib() -> float:
    # The largest resident set of any child so far: read after the smaller measurement (the
    # json.load runs) and again after the larger one (the scans).
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--vpcs", type=int, default=1000, help="VPCs per account-region")
    parser.add_argument("--accounts", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    regions = []
    for number in range(args.accounts):
        account = f"{100000000000 + number:012d}"
        regions.append(dataclasses.replace(synthetic_region(args.vpcs), account_id=account))
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "snapshot.json"
        path.write_text(to_json(document(*regions)))
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
    vpcs = args.vpcs * args.accounts
    load_time = statistics.median(loads)
    scan_time = statistics.median(scans)
    print(
        f"{vpcs} VPCs ({args.accounts} accounts), {size:.0f} MiB: json.load {load_time:.2f}s, "
        f"scan --snapshot {scan_time:.2f}s (ratio {scan_time / load_time:.1f}); peak RSS "
        f"json.load {load_peak:.0f} MiB, scan {scan_peak:.0f} MiB "
        f"({scan_peak / vpcs * 1000:.0f} MiB per 1,000 VPCs)"
    )


if __name__ == "__main__":
    main()
