"""How each output and option grows with the estate: `python -m benchmarks.bench_report_growth`.

Scans two synthetic snapshots, of A and 2A accounts (benchmarks.bench_snapshot_scan's estate, a
few VPCs each), once per case:

* every ``--format`` (SARIF as ``--output-dir``: one run per account, 19 per file);
* ``--format json --baseline`` a report that holds one finding in 20 (the rest are new);
* ``--format json --config`` with a suppression for one finding in four (exact resource ids)
  plus a few wildcard ones.

Prints each case's wall time at both sizes and their ratio. Doubling the estate doubles the
findings, so a ratio well above 2 is work that grows with findings x something else (each of
the cases above once did: a baseline, suppressions, SARIF per account and HTML pictures walked
every finding or scope for every finding). Target: every ratio at most 2.5.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_snapshot_scan import estate
from vpce_audit.snapshot.document import to_json

TARGET_RATIO = 2.5


def _seconds(argv: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        done = subprocess.run(argv, check=False, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
        # 0, 1 (findings) and 3 (the estate's own gaps) are scans; anything else timed nothing.
        if done.returncode not in (0, 1, 3):
            raise SystemExit(f"{' '.join(argv)} exited {done.returncode}")
    return statistics.median(times)


def _inputs(directory: Path, accounts: int, vpcs: int) -> tuple[Path, Path, Path]:
    """The snapshot, a baseline report holding one finding in 20, and a suppressions file."""
    snapshot = directory / f"snapshot-{accounts}.json"
    snapshot.write_text(to_json(estate(accounts, 1, vpcs, 0)))
    report = directory / f"report-{accounts}.json"
    subprocess.run(
        [*_scan(snapshot), "--format", "json", "-o", str(report)],
        check=False,
        stdout=subprocess.DEVNULL,
    )
    body = json.loads(report.read_text())
    findings = body["findings"]
    kept = findings[::20]
    body["findings"] = kept
    body["summary"]["findings"] = len(kept)
    for label in body["summary"]["by_severity"]:
        body["summary"]["by_severity"][label] = sum(f["severity"] == label for f in kept)
    baseline = directory / f"baseline-{accounts}.json"
    baseline.write_text(json.dumps(body))
    lines = ["suppressions:"]
    exact = [(f["rule_id"], f["resource_id"]) for f in findings[::4]]
    wildcards = [("VPCE601", "vpc-0000*"), ("VPCE301", "*:vpc-endpoint/vpce-00001?i")]
    for rule, resource in exact + wildcards:
        lines += [f"  - rule: {rule}", f'    resource: "{resource}"', "    reason: accepted"]
    config = directory / f"suppressions-{accounts}.yml"
    config.write_text("\n".join(lines) + "\n")
    return snapshot, baseline, config


def _scan(snapshot: Path) -> list[str]:
    return [sys.executable, "-m", "vpce_audit", "scan", "--snapshot", str(snapshot),
            "--fail-on", "never", "-q"]  # fmt: skip


def _cases(snapshot: Path, baseline: Path, config: Path, out: Path) -> dict[str, list[str]]:
    scan = _scan(snapshot)
    cases = {
        f"--format {name}": [*scan, "--format", name, "-o", "/dev/null"]
        for name in ("table", "json", "markdown", "html")
    }
    cases["sarif --output-dir"] = [*scan, "--output-dir", str(out / snapshot.stem)]
    cases["json --baseline (19 in 20 new)"] = [
        *scan, "--format", "json", "-o", "/dev/null", "--baseline", str(baseline)
    ]  # fmt: skip
    cases["json --config (1 in 4 suppressed)"] = [
        *scan, "--format", "json", "-o", "/dev/null", "--config", str(config)
    ]  # fmt: skip
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=500, help="the smaller estate's accounts")
    parser.add_argument("--vpcs", type=int, default=2, help="VPCs per account")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        sizes = (args.accounts, 2 * args.accounts)
        timings: dict[str, list[float]] = {}
        for accounts in sizes:
            cases = _cases(*_inputs(directory, accounts, args.vpcs), directory)
            for case, argv in cases.items():
                timings.setdefault(case, []).append(_seconds(argv, args.repeats))
    print(f"{'case':36} {sizes[0]:>7} {sizes[1]:>7} {'ratio':>6}  (accounts; seconds)")
    worst = 0.0
    for case, (small, large) in timings.items():
        ratio = large / small
        worst = max(worst, ratio)
        flag = "" if ratio <= TARGET_RATIO else f"  above {TARGET_RATIO}"
        print(f"{case:36} {small:7.2f} {large:7.2f} {ratio:6.2f}{flag}")
    print(f"largest ratio {worst:.2f} (target: at most {TARGET_RATIO})")


if __name__ == "__main__":
    main()
