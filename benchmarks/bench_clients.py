"""A member account's botocore session and EC2 client: `python -m benchmarks.bench_clients`.

An organisation scan makes one botocore session per member account and one client per service,
account and region. Measured in fresh processes (nothing cached from an earlier run), as CPU
time per session and client, the median of ``--repeats`` processes of ``--clients`` each:

* ``plain``: what botocore does by itself: a new session registers its builtin handlers, and each
  client builds its own service model and methods (the model loader is shared, as
  ``ClientFactory.share_models`` shares it);
* ``reused``: what vpce-audit does (``vpce_audit.collect.botocore_reuse``): sessions copy the
  handlers, clients share the model and methods.

No call is made: creating clients does not touch the network.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

CHILD = """
import json, os, sys, time
os.environ.setdefault("AWS_ACCESS_KEY_ID", "x")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "y")
import boto3, botocore.session
mode, count = sys.argv[1], int(sys.argv[2])
if mode == "plain":
    base = boto3.session.Session(region_name="us-east-1")
    base.client("ec2", region_name="us-east-1")
    loader = base._session.get_component("data_loader")
    started = time.process_time()
    for _ in range(count):
        session = botocore.session.Session()
        session.register_component("data_loader", loader)
        boto3.session.Session(botocore_session=session).client("ec2", region_name="eu-west-1")
else:
    from vpce_audit.collect.botocore_reuse import fresh_session
    from vpce_audit.collect.runner import ClientFactory
    base = ClientFactory(boto3.session.Session(region_name="us-east-1"))
    base.client("ec2", "us-east-1")
    started = time.process_time()
    for _ in range(count):
        session = fresh_session()
        base.share_models(session)
        base.with_session(session).client("ec2", "eu-west-1")
print(json.dumps((time.process_time() - started) / count))
"""


def per_client(mode: str, clients: int) -> float:
    environment = {**os.environ, "PYTHONPATH": os.getcwd()}
    answer = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(clients)],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
    )
    return float(json.loads(answer.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    runs: dict[str, list[float]] = {"plain": [], "reused": []}
    for _ in range(args.repeats):
        for mode, times in runs.items():  # alternating: the machine's moods fall on both
            times.append(per_client(mode, args.clients))
    plain, reused = (statistics.median(runs[mode]) * 1000 for mode in ("plain", "reused"))
    print(f"session + EC2 client, CPU per member account-region (median of {args.repeats}):")
    print(f"  plain botocore: {plain:.1f} ms")
    print(f"  reused:         {reused:.1f} ms ({plain / reused:.1f}x less)")


if __name__ == "__main__":
    main()
