"""Rule cost on a centralised-endpoint organisation: `python -m benchmarks.bench_central_dns`.

Builds benchmarks.central_estate's estate (N spokes, S services with a hub endpoint and a
private zone each) at N and 2N and times ``run_scan`` with every rule, and with VPCE207 and
VPCE601 alone (the rules that judge each spoke's path to each record's interfaces) and VPCE501
(each spoke's networks, reached through the hub's gateway route table), medians of
``--repeats``. A linear rule shows a ratio near 2 from N to 2N; one that is quadratic in the
spokes, 4.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time

from benchmarks.central_estate import build
from vpce_audit.rules.base import Settings
from vpce_audit.rules.registry import load_registry
from vpce_audit.scan import run_scan

MEASURED = ("all rules", "VPCE207", "VPCE601", "VPCE501")


def _seconds(document: object, rules: list[object]) -> float:
    gc.collect()
    started = time.perf_counter()
    run_scan(document, rules, Settings())  # type: ignore[arg-type]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spokes", type=int, default=400)
    parser.add_argument("--services", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rules = load_registry(include_plugins=False)
    chosen = {
        "all rules": rules,
        **{rule_id: [r for r in rules if r.rule_id == rule_id] for rule_id in MEASURED[1:]},
    }
    medians: dict[tuple[int, str], float] = {}
    for spokes in (args.spokes, 2 * args.spokes):
        document = build(spokes, args.services)
        for name, subset in chosen.items():
            runs = [_seconds(document, subset) for _ in range(args.repeats)]
            seconds = medians[(spokes, name)] = statistics.median(runs)
            print(f"{spokes:5d} spokes x {args.services} services  {name:9s} {seconds:7.2f} s")
    for name in MEASURED:
        ratio = medians[(2 * args.spokes, name)] / medians[(args.spokes, name)]
        print(f"growth {args.spokes} -> {2 * args.spokes} spokes, {name}: {ratio:.2f}x")


if __name__ == "__main__":
    main()
