"""An organisation scan under injected latency: `python -m benchmarks.bench_org_latency`.

A moto server sits behind a delay proxy (benchmarks.latency_proxy) that holds every request for
``--latency-ms`` (default 80 ms, the order of a real AWS round trip) and records it. The estate is
an organisation of ``--accounts`` accounts (the management account and its members), each with
``--vpcs`` VPCs in each of ``--regions`` regions (plus moto's default VPC in each): two subnets,
a private route table, a security group, an internet gateway on every second VPC, a NAT gateway
on every fifth, an S3 gateway endpoint on every third, an interface endpoint on the first. The
CLI runs as a subprocess, ``vpce-audit scan --org --region ... --workers W --format json``,
pointed at the proxy with AWS_ENDPOINT_URL (``--source`` chooses the vpce_audit it runs). With
``--tls`` the proxy speaks HTTPS, as every AWS endpoint does, with a certificate made at run time
that the scanner verifies against the default authorities plus that certificate
(AWS_CA_BUNDLE): a connection then costs the scanner what it costs on AWS (the bundle, the
handshake), and the connections the proxy accepted are reported with each run.

One warm-up scan is answered by moto; the measured scans are answered by the proxy replaying
moto's answers (``--no-replay``: by moto), because moto serves one request at a time and would
otherwise be the bottleneck (see benchmarks/latency_proxy.py). Measured, as the median of
``--repeats``: each of ``--workers`` at the full size (``--workers 1``, serial, at
``--serial-accounts``, by default the ``--growth-accounts`` organisation: a serial scan of 16
accounts takes over two minutes); the default workers at ``--growth-accounts`` (half) for the
growth ratio; one account-region alone (one account, one region) for the per-region target.
Reported: wall time and the scanner's CPU time, calls in total, per phase and per account-region
against the floor, the critical-path and ideal-schedule bounds, and where the wall time goes
(phases, calls in flight, idle gaps, one account-region call by call). At the default size the
benchmark takes about six minutes on two CPUs, half of it building the estate and the warm-up.

Dependent calls, as vpce_audit/collect orders them (cli._collect, accounts.prepare,
runner.collect_accounts, schedule.AccountPipeline, account.collect_account,
region.collect_region). The calls are labelled by phase, but only prepare ends before the
others start; after it, each account moves on by itself:

* prepare: GetCallerIdentity, ListAccounts, then AssumeRole and GetCallerIdentity (the
  confirmation) for ASSUME_ROLE_IN_FLIGHT = 16 members at a time;
* account facts (``min(workers, accounts)`` threads, beside the account's regions):
  DescribeOrganization then ListAccounts (when in an organisation), and meanwhile
  ListHostedZones, then per private zone GetHostedZone and ListResourceRecordSets, every zone's
  at once (the account's Route 53 calls: ROUTE53_CALLS_IN_FLIGHT = 16 at a time);
* account-regions (``workers`` threads, each region with calls_in_flight_per_region(workers)
  calls in flight: 32 at 8 workers, 8 at 32): DescribeVpcs alone; then the other listings and
  ListProfileAssociations and ListResolverRuleAssociations (then ListResolverRules where a rule
  is associated); the follow-ups of each listing's items as soon as it answers, an
  item's all at once (both DescribeVpcAttribute calls of a VPC, GetManagedPrefixListEntries
  per prefix list, ...);
  DescribeNetworkInterfaces (and cross-region DescribeVpcEndpointServices) as soon as
  DescribeVpcEndpoints has answered;
* "after" (a pool of its own, within the account's 16 Route 53 calls in flight):
  ListHostedZonesByVPC per VPC the account owns, from the moment its region's DescribeVpcs
  answered (ListRoles, ListUsers once every region is in, when a policy names IAM unique ids).

Definitions:

* a region's *code chain*: the longest sequence of calls that the code makes one after another
  in an account-region: DescribeVpcs, then a listing (its pages) and one follow-up, or
  DescribeVpcEndpoints (its pages) and the DescribeNetworkInterfaces chunks. Its *data chain*
  counts only what waits on an answer it needs: DescribeVpcs (the deliberate probe), a listing,
  one follow-up: 3 calls. Its *capacity waves*: 1 + ceil((calls - 1) / 32), what 32 calls in
  flight need (at the default workers). Target: a region's wall time (first call's arrival to
  last answer) within 1.3x of its code chain x latency. (Until 2026-11-27 the code chain was
  5 calls: a VPC's two attributes were asked one after the other, and the interfaces only once
  every follow-up had answered.)
* the organisation's *critical path*: the data chain of the whole scan, GetCallerIdentity ->
  ListAccounts -> AssumeRole -> GetCallerIdentity -> a region's data chain = 7 calls (with
  unlimited concurrency nothing can finish sooner); its *code path*: what the code's order forces
  with unlimited workers: prepare's chain (2 calls, then 2 per wave of 16 members), then the
  longest of an account's facts chain, a region's code chain, and DescribeVpcs followed by
  ceil(VPCs/16) zone listings of the largest account.
* the *total-calls bound*: calls x latency / concurrency. Reported for concurrency = workers (as
  the issue words it) and = workers x the calls in flight per region (what the region phase
  can actually have in flight: 256 in all up to 32 workers).
* the *quota bound*: the longest a request bucket of vpce_audit.collect.rates makes its calls
  take (Route 53: 40 at once, then 8 per second per account; EC2: 80, then 16 per second per
  account, region and action): 0 unless an account or region is large.
* the *ideal schedule*: max(critical path, calls x latency / (calls in flight), quota bound).
  Target: the organisation's wall within 1.5x of it.

A new connection costs ``--connect-latency-ms`` (by default one round trip, ``--latency-ms``)
before it is served: on a network TCP's handshake takes a round trip and TLS 1.3's another, so
this is the least it costs. The critical path and the code path count the connections they must
open (ORG_CONNECTS: STS's, Organizations', the region's EC2 endpoint's; 2 without members). A
region's span starts when its first call arrives, after that call's connection was opened, so a
region's chain counts calls only; a listing that waits for a connection of its own shows in it.

Timings are measured around the subprocess (``wall``: Python start-up, collection, rules, report)
and from the proxy's record (``span``: first request's arrival to the last answer). A call's time
is the latency plus moto's (none when replayed) plus the proxy's; its median is printed. The
scanner's CPU time next to its wall time says whether it waits on the network or on itself.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

import vpce_audit
from benchmarks.latency_proxy import DEFAULT_ACCOUNT, Call, DelayProxy, delay_proxy, moto_server
from tests.local_tls import self_signed
from vpce_audit.collect.account import ROUTE53_CALLS_IN_FLIGHT
from vpce_audit.collect.accounts import ASSUME_ROLE_IN_FLIGHT
from vpce_audit.collect.rates import EC2_PER_ACTION, PACED, ROUTE53_PER_ACCOUNT
from vpce_audit.collect.region import LISTINGS, calls_in_flight_per_region
from vpce_audit.collect.runner import DEFAULT_REGION_WORKERS

REGIONS = (
    "us-east-1",
    "eu-west-1",
    "ap-southeast-2",
    "us-west-2",
    "eu-central-1",
    "ap-northeast-1",
    "ca-central-1",
    "sa-east-1",
)
ROLE_NAME = "OrganizationAccountAccessRole"
SOURCE = Path(vpce_audit.__file__).resolve().parent.parent
PREPARE_OPS = frozenset({"GetCallerIdentity", "AssumeRole"})
FACT_OPS = frozenset(
    {
        "DescribeRegions",
        "DescribeOrganization",
        "ListAccounts",
        "ListHostedZones",
        "GetHostedZone",
        "ListResourceRecordSets",
    }
)
AFTER_OPS = frozenset({"ListHostedZonesByVPC", "ListRoles", "ListUsers"})
PHASES = ("prepare", "facts", "regions", "after")
FOLLOW_UPS = frozenset(
    {
        "DescribeVpcAttribute",
        "GetManagedPrefixListEntries",
        "DescribeVpcEndpointServicePermissions",
        "ListResolverEndpointIpAddresses",
        "ListProfileResourceAssociations",
        "GetTransitGatewayRouteTableAssociations",
        "GetTransitGatewayRouteTablePropagations",
        "SearchTransitGatewayRoutes",
    }
)
"""The calls about one listed item: an item's are made at once, one round trip after its
listing."""
LISTING_OPS = frozenset(listing.operation for listing in LISTINGS) | {
    "ListProfileAssociations",
    "ListResolverRuleAssociations",
}
ORG_DATA_CHAIN = 4
"""GetCallerIdentity -> ListAccounts -> AssumeRole -> GetCallerIdentity, before any region (2
when only the management account is scanned)."""
REGION_DATA_CHAIN = 3
ORG_CONNECTS = 3
"""Connections opened on the organisation's critical path (``connects_on_chain``)."""


# -- the estate ---------------------------------------------------------------------------------


def _client(endpoint: str, service: str, region: str, credentials: dict[str, str]) -> Any:
    return boto3.client(service, region_name=region, endpoint_url=endpoint, **credentials)


def _member_credentials(endpoint: str, account: str) -> dict[str, str]:
    sts = _client(endpoint, "sts", "us-east-1", {})
    issued = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{ROLE_NAME}", RoleSessionName="estate-builder"
    )["Credentials"]
    return {
        "aws_access_key_id": issued["AccessKeyId"],
        "aws_secret_access_key": issued["SecretAccessKey"],
        "aws_session_token": issued["SessionToken"],
    }


def _build_vpc(ec2: Any, region: str, index: int) -> None:
    vpc = ec2.create_vpc(CidrBlock=f"10.{index}.0.0/16")["Vpc"]["VpcId"]
    public = ec2.create_subnet(
        VpcId=vpc, CidrBlock=f"10.{index}.0.0/24", AvailabilityZone=f"{region}a"
    )["Subnet"]["SubnetId"]
    private = ec2.create_subnet(
        VpcId=vpc, CidrBlock=f"10.{index}.1.0/24", AvailabilityZone=f"{region}b"
    )["Subnet"]["SubnetId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=table, SubnetId=private)
    group = ec2.create_security_group(GroupName=f"app-{index}", Description="app", VpcId=vpc)
    if index % 2 == 0:
        gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
        edge = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.associate_route_table(RouteTableId=edge, SubnetId=public)
        ec2.create_route(RouteTableId=edge, DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
    if index % 5 == 1:
        allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat = ec2.create_nat_gateway(SubnetId=public, AllocationId=allocation)["NatGateway"]
        ec2.create_route(
            RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat["NatGatewayId"]
        )
    if index % 3 == 0:
        ec2.create_vpc_endpoint(
            VpcId=vpc,
            ServiceName=f"com.amazonaws.{region}.s3",
            VpcEndpointType="Gateway",
            RouteTableIds=[table],
        )
    if index == 0:
        ec2.create_vpc_endpoint(
            VpcId=vpc,
            ServiceName=f"com.amazonaws.{region}.ssm",
            VpcEndpointType="Interface",
            SubnetIds=[private],
            SecurityGroupIds=[group["GroupId"]],
            PrivateDnsEnabled=True,
        )


def build_organisation(
    endpoint: str, accounts: int, regions: Sequence[str], vpcs: int
) -> list[str]:
    """The organisation's account ids, the management account's first."""
    organizations = _client(endpoint, "organizations", "us-east-1", {})
    organizations.create_organization(FeatureSet="ALL")
    members = [
        organizations.create_account(Email=f"member{i}@example.com", AccountName=f"member{i}")[
            "CreateAccountStatus"
        ]["AccountId"]
        for i in range(1, accounts)
    ]

    def build(account: str) -> None:
        credentials = {} if account == DEFAULT_ACCOUNT else _member_credentials(endpoint, account)
        for region in regions:
            ec2 = _client(endpoint, "ec2", region, credentials)
            for index in range(vpcs):
                _build_vpc(ec2, region, index)

    ids = [DEFAULT_ACCOUNT, *members]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(build, ids))
    return ids


def warm(proxy: DelayProxy, regions: Sequence[str], ca_bundle: Path | None) -> None:
    """Fills the proxy's replay of DescribeVpcEndpointServices (moto's first answer is slow)."""
    for region in regions:
        ec2 = boto3.client(
            "ec2", region_name=region, endpoint_url=proxy.url, verify=str(ca_bundle or True)
        )
        ec2.describe_vpc_endpoint_services()
    proxy.take()


# -- one scan ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    workers: int
    processes: int
    accounts: int
    wall: float
    cpu: float
    """CPU seconds of the scanner's process (user + system)."""
    started: float
    calls: list[Call]
    complete: bool
    scopes: int
    errors: int
    connections: int
    """Connections the proxy accepted from the scanner (TLS handshakes with ``--tls``)."""


def scan(
    proxy: DelayProxy,
    regions: Sequence[str],
    workers: int,
    accounts: Sequence[str] | None,
    source: Path = SOURCE,
    *,
    processes: int = 1,
    ca_bundle: Path | None = None,
) -> Run:
    """One `vpce-audit scan --org` in a fresh process; ``accounts``: --accounts (None: all);
    ``source``: the folder holding the vpce_audit package that runs; ``ca_bundle``: what it
    verifies the proxy's certificate with (AWS_CA_BUNDLE), when the proxy speaks TLS."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    environment.update(
        PYTHONPATH=str(source),
        AWS_ENDPOINT_URL=proxy.url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=regions[0],
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    if ca_bundle is not None:
        environment["AWS_CA_BUNDLE"] = str(ca_bundle)
    with tempfile.TemporaryDirectory() as folder:
        report_path = Path(folder) / "report.json"
        argv = [sys.executable, "-m", "vpce_audit", "scan", "--org", "--workers", str(workers)]
        for region in regions:
            argv += ["--region", region]
        if accounts is not None:
            argv += ["--accounts", ",".join(accounts)]
        # Always said: the default (auto) would follow this machine's cores.
        argv += ["--processes", str(processes)]
        argv += ["--format", "json", "-o", str(report_path), "--fail-on", "never", "-q"]
        proxy.take()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        done = subprocess.run(
            argv, env=environment, cwd=source, capture_output=True, text=True, check=False
        )
        wall = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        connections = proxy.connections
        calls = proxy.take()
        if done.returncode != 0 or not report_path.exists():
            raise RuntimeError(f"the scan failed ({done.returncode}): {done.stderr[-3000:]}")
        report = json.loads(report_path.read_text())
    return Run(
        workers=workers,
        processes=processes,
        accounts=len(report["snapshot"]["accounts"]),
        wall=wall,
        cpu=cpu,
        started=started,
        calls=calls,
        complete=bool(report["summary"]["complete"]),
        scopes=len(report["snapshot"]["scopes"]),
        errors=len(report["collection_errors"]),
        connections=connections,
    )


# -- the trace -----------------------------------------------------------------------------------


def phase_of(call: Call, facts_start: float) -> str:
    if call.operation in PREPARE_OPS:
        return "prepare"
    if call.operation == "ListAccounts" and call.start < facts_start:
        return "prepare"  # the CLI's own listing of the organisation
    if call.operation in FACT_OPS:
        return "facts"
    if call.operation in AFTER_OPS:
        return "after"
    return "regions"


def phases(calls: Sequence[Call]) -> dict[str, list[Call]]:
    facts_start = min(
        (c.start for c in calls if c.operation in FACT_OPS - {"ListAccounts"}), default=math.inf
    )
    found: dict[str, list[Call]] = {name: [] for name in PHASES}
    for call in calls:
        found[phase_of(call, facts_start)].append(call)
    return found


def scopes(calls: Iterable[Call]) -> dict[tuple[str, str], list[Call]]:
    found: dict[tuple[str, str], list[Call]] = collections.defaultdict(list)
    for call in calls:
        found[(call.account, call.region)].append(call)
    return found


def org_data_chain(calls: Iterable[Call]) -> int:
    return ORG_DATA_CHAIN if any(c.operation == "AssumeRole" for c in calls) else 2


def region_chain(operations: collections.Counter[str]) -> int:
    """The code chain of one account-region (see the module docstring)."""
    pages = max(
        (n for op, n in operations.items() if op in LISTING_OPS - {"DescribeVpcs"}), default=0
    )
    follow = 1 if any(op in FOLLOW_UPS for op in operations) else 0
    interfaces = operations["DescribeVpcEndpoints"] + operations["DescribeNetworkInterfaces"]
    return operations["DescribeVpcs"] + max(pages + follow, interfaces)


def facts_chain(operations: collections.Counter[str]) -> int:
    """An account's facts: the organisation's calls one after another, beside ListHostedZones
    and then every zone's calls at once."""
    organisation = operations["DescribeOrganization"] + operations["ListAccounts"]
    zones = operations["ListHostedZones"] + (
        1 if operations["GetHostedZone"] or operations["ListResourceRecordSets"] else 0
    )
    return max(organisation, zones)


def _by_account(calls: Iterable[Call]) -> dict[str, list[Call]]:
    found: dict[str, list[Call]] = collections.defaultdict(list)
    for call in calls:
        found[call.account].append(call)
    return found


def capacity_waves(calls: int) -> int:
    return 1 + math.ceil((calls - 1) / calls_in_flight_per_region(DEFAULT_REGION_WORKERS))


def span(calls: Sequence[Call]) -> float:
    return max(c.end for c in calls) - min(c.start for c in calls) if calls else 0.0


def busy(calls: Sequence[Call]) -> tuple[float, float, list[float]]:
    """(time with at least one call in flight, mean calls in flight over the span, idle gaps)."""
    if not calls:
        return 0.0, 0.0, []
    ordered = sorted(calls, key=lambda c: c.start)
    covered, gaps = 0.0, []
    low, high = ordered[0].start, ordered[0].end
    for call in ordered[1:]:
        if call.start > high:
            covered += high - low
            gaps.append(call.start - high)
            low, high = call.start, call.end
        else:
            high = max(high, call.end)
    covered += high - low
    total = sum(c.end - c.start for c in calls)
    return covered, total / span(calls), gaps


def peak(calls: Sequence[Call]) -> int:
    events = sorted([(c.start, 1) for c in calls] + [(c.end, -1) for c in calls])
    level = best = 0
    for _, step in events:
        level += step
        best = max(best, level)
    return best


@dataclass(frozen=True)
class Bounds:
    calls: int
    critical: float
    code_path: float
    per_worker: float
    per_slot: float
    quota: float
    """What the request quotas vpce-audit keeps to allow at best (vpce_audit.collect.rates)."""

    @property
    def ideal(self) -> float:
        return max(self.critical, self.per_slot, self.quota)


def quota_bound(calls: Sequence[Call]) -> float:
    """The longest time a bucket of vpce_audit.collect.rates makes its calls take: Route 53 per
    account, EC2 per account, region and action. (A bucket's burst is free; the rest comes at
    its rate.)"""
    buckets = collections.Counter(
        ("route53", c.account)
        if c.service == "route53"
        else ("ec2", c.account, c.region, c.operation)
        for c in calls
        if c.service in PACED
    )
    return max(
        (
            max(0.0, count - quota.burst) / quota.per_second
            for key, count in buckets.items()
            for quota in [ROUTE53_PER_ACCOUNT if key[0] == "route53" else EC2_PER_ACTION]
        ),
        default=0.0,
    )


def connects_on_chain(calls: Iterable[Call]) -> int:
    """The connections the critical path must open: STS's, Organizations' (when members are
    assumed) and the region's EC2 endpoint's; an assumed role's calls reuse STS's."""
    return ORG_CONNECTS if any(c.operation == "AssumeRole" for c in calls) else 2


def bounds(run: Run, latency: float, connect: float = 0.0) -> Bounds:
    """``connect``: what opening a connection costs (the proxy's ``connect_latency``)."""
    by_phase = phases(run.calls)
    regional = scopes(by_phase["regions"])
    chains = [region_chain(collections.Counter(c.operation for c in v)) for v in regional.values()]
    facts = [
        facts_chain(collections.Counter(c.operation for c in calls))
        for calls in _by_account(by_phase["facts"]).values()
    ]
    after = collections.Counter(
        c.account for c in by_phase["after"] if c.operation == "ListHostedZonesByVPC"
    )
    members = sum(c.operation == "AssumeRole" for c in by_phase["prepare"])
    code_path = (
        2
        + 2 * math.ceil(members / ASSUME_ROLE_IN_FLIGHT)
        + max(
            max(facts, default=0),
            max(chains, default=0),
            1 + math.ceil(max(after.values(), default=0) / ROUTE53_CALLS_IN_FLIGHT),
        )
    )
    total = len(run.calls)
    opening = connects_on_chain(run.calls) * connect
    return Bounds(
        calls=total,
        critical=(org_data_chain(run.calls) + REGION_DATA_CHAIN) * latency + opening,
        code_path=code_path * latency + opening,
        per_worker=total * latency / (run.workers * run.processes),
        per_slot=total
        * latency
        / (run.workers * run.processes * calls_in_flight_per_region(run.workers)),
        quota=quota_bound(run.calls),
    )


# -- reporting -----------------------------------------------------------------------------------


def _median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def _spread(values: Sequence[float]) -> str:
    return f"{statistics.median(values):.0f} (min {min(values):.0f}, max {max(values):.0f})"


def calls_table(run: Run, vpcs_per_region: int) -> None:
    by_phase = phases(run.calls)
    regional = scopes(by_phase["regions"])
    per_scope = [len(v) for v in regional.values()]
    operations = collections.Counter(c.operation for c in run.calls)
    entries = operations["GetManagedPrefixListEntries"] / max(1, len(regional))
    # The listings, ListProfileAssociations and ListResolverRuleAssociations (ListResolverRules
    # only where a rule is associated, DescribeTransitGatewayVpcAttachments only where a VPC
    # attachment is listed: neither here), the VPCs' attributes, the prefix lists' entries, the
    # endpoints' interfaces.
    floor = len(LISTINGS) + 2 + 2 * vpcs_per_region + entries + 1
    accounts = max(1, run.accounts)
    print(f"\ncalls of one scan at {run.workers} workers, {run.accounts} accounts")
    print(f"  total {len(run.calls)}; not HTTP 200: {sum(c.status != 200 for c in run.calls)}")
    print(
        f"  connections opened: {run.connections}"
        f" ({run.connections / max(1, run.scopes):.1f} per account-region)"
    )
    print(f"  per account-region: {_spread(per_scope)}; floor {floor:.0f} =")
    print(
        f"    {len(LISTINGS)} listings + ListProfileAssociations + ListResolverRuleAssociations"
        f" + 2 x {vpcs_per_region} VPCs"
        f" (DescribeVpcAttribute) + {entries:.0f} prefix lists + 1 DescribeNetworkInterfaces"
    )
    for name in PHASES:
        print(
            f"  {name:8} {len(by_phase[name]):5} calls"
            f" ({len(by_phase[name]) / accounts:.1f}/account)"
        )
    print("  by operation:")
    for operation, count in operations.most_common():
        print(f"    {operation:42} {count:6}")


def trace_table(run: Run, latency: float) -> None:
    """Where the wall time of one run goes."""
    by_phase = phases(run.calls)
    first = min(c.start for c in run.calls)
    last = max(c.end for c in run.calls)
    covered, mean_flight, gaps = busy(run.calls)
    durations = [c.end - c.start for c in run.calls]
    upstream = [c.upstream for c in run.calls if c.upstream]
    print(f"\ntrace of one scan at {run.workers} workers, {run.accounts} accounts")
    print(
        f"  process start -> first call {first - run.started:.2f} s; span {last - first:.2f} s;"
        f" last answer -> exit {run.started + run.wall - last:.2f} s; scanner CPU"
        f" {run.cpu:.2f} s ({run.cpu / run.wall:.0%} of wall)"
    )
    print(
        f"  call time: median {_median(durations) * 1000:.0f} ms (latency {latency * 1000:.0f}"
        f" ms), p95 {sorted(durations)[int(0.95 * len(durations))] * 1000:.0f} ms; moto's part"
        f" median {_median(upstream or [0]) * 1000:.1f} ms"
    )
    print(
        f"  in flight: mean {mean_flight:.1f}, peak {peak(run.calls)}; some call in flight"
        f" {covered:.2f} s; idle (nothing in flight) {sum(gaps):.2f} s in {len(gaps)} gaps,"
        f" largest {max(gaps, default=0):.3f} s"
    )
    print(f"  {'phase':8} {'start':>6} {'span':>6} {'calls':>6} {'mean':>5} {'peak':>5}  chain")
    for name in PHASES:
        calls = by_phase[name]
        if not calls:
            continue
        _, flight, _ = busy(calls)
        print(
            f"  {name:8} {min(c.start for c in calls) - first:6.2f} {span(calls):6.2f}"
            f" {len(calls):6} {flight:5.1f} {peak(calls):5}  {_phase_chain(name, calls)}"
        )
    regional = scopes(by_phase["regions"])
    ratios, walls, chains, waves = [], [], [], []
    for scope_calls in regional.values():
        chain = region_chain(collections.Counter(c.operation for c in scope_calls))
        walls.append(span(scope_calls))
        chains.append(chain)
        waves.append(capacity_waves(len(scope_calls)))
        ratios.append(span(scope_calls) / (chain * latency))
    within = sum(r <= 1.3 for r in ratios)
    print(
        f"  account-region wall: median {_median(walls):.2f} s (min {min(walls):.2f}, max"
        f" {max(walls):.2f}); code chain {_median(chains):.0f} calls = "
        f"{_median(chains) * latency:.2f} s, capacity waves {_median(waves):.0f} ="
        f" {_median(waves) * latency:.2f} s"
    )
    print(
        f"  account-region wall / code chain: median {_median(ratios):.2f}, max {max(ratios):.2f};"
        f" within 1.3x: {within}/{len(ratios)}"
    )
    print(
        f"  account-region wall / data chain ({REGION_DATA_CHAIN} calls): median "
        f"{_median(walls) / (REGION_DATA_CHAIN * latency):.2f}"
    )
    print("  one account-region, call by call (ms from its first call):")
    _scope_waterfall(max(regional.values(), key=span), latency)


def _phase_chain(name: str, calls: Sequence[Call]) -> str:
    per_account = collections.Counter(c.account for c in calls)
    if name == "prepare":
        return f"{len(calls)} calls, roles assumed {ASSUME_ROLE_IN_FLIGHT} at a time"
    if name == "facts":
        longest = max(
            facts_chain(collections.Counter(c.operation for c in mine))
            for mine in _by_account(calls).values()
        )
        return f"up to {max(per_account.values())} calls per account, {longest} one after another"
    if name == "after":
        most = max(per_account.values())
        return f"up to {most} calls per account, {ROUTE53_CALLS_IN_FLIGHT} in flight"
    return f"{len(scopes(calls))} account-regions"


def _scope_waterfall(calls: Sequence[Call], latency: float) -> None:
    origin = min(c.start for c in calls)
    waves: dict[int, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for call in calls:
        waves[int((call.start - origin) / latency)].update([call.operation])
    for index in sorted(waves):
        names = ", ".join(f"{op} x{n}" if n > 1 else op for op, n in waves[index].most_common())
        print(f"    {index * latency * 1000:5.0f}+ {sum(waves[index].values()):3} {names}"[:150])


def dump(run: Run, folder: Path, label: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{label}.jsonl").open("w") as out:
        for call in run.calls:
            row = {
                **call.__dict__,
                "start": call.start - run.started,
                "end": call.end - run.started,
            }
            out.write(json.dumps(row) + "\n")


# -- main ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    label: str
    workers: int
    accounts: int
    regions: int
    repeats: int
    processes: int = 1


def plan(args: argparse.Namespace, growth: int) -> list[Setting]:
    serial = args.serial_accounts or growth
    settings = [
        Setting("serial", 1, serial, args.regions, args.serial_repeats)
        if workers == 1
        else Setting(
            "default" if workers == DEFAULT_REGION_WORKERS else "",
            workers,
            args.accounts,
            args.regions,
            args.repeats,
        )
        for workers in args.workers
    ]
    for accounts in sorted({growth, serial} - {args.accounts}):
        # The smaller organisation at the default workers: the growth ratio, and what the
        # serial run (at that size, to keep the benchmark short) is compared with.
        settings.append(
            Setting("growth", DEFAULT_REGION_WORKERS, accounts, args.regions, args.repeats)
        )
    if args.processes > 1:
        settings.append(
            Setting(
                "processes",
                DEFAULT_REGION_WORKERS,
                args.accounts,
                args.regions,
                args.repeats,
                args.processes,
            )
        )
    # One account-region alone: its wall time against its own chain, with no other scope
    # competing for the scanner's interpreter.
    settings.append(Setting("one region", DEFAULT_REGION_WORKERS, 1, 1, args.repeats))
    return settings


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=16, help="accounts of the organisation")
    parser.add_argument("--regions", type=int, default=4, choices=range(1, len(REGIONS) + 1))
    parser.add_argument("--vpcs", type=int, default=10, help="VPCs per account-region (+ default)")
    parser.add_argument("--latency-ms", type=float, default=80.0)
    parser.add_argument(
        "--connect-latency-ms",
        type=float,
        default=None,
        help="what opening a connection costs, before its handshake (default: --latency-ms,"
        " one round trip; 0: connections cost nothing, as before stop 25)",
    )
    parser.add_argument("--repeats", type=int, default=1, help="runs per figure (median)")
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[1, DEFAULT_REGION_WORKERS, 32],
        help="--workers values to compare (1: serial)",
    )
    parser.add_argument("--serial-repeats", type=int, default=1, help="runs at --workers 1")
    parser.add_argument(
        "--processes",
        type=int,
        default=2,
        help="also scan the organisation with --processes N at the default workers (1: not)",
    )
    parser.add_argument(
        "--serial-accounts",
        type=int,
        default=None,
        help="accounts scanned at --workers 1 (default: the --growth-accounts organisation; "
        "a serial scan of 16 accounts takes over two minutes)",
    )
    parser.add_argument(
        "--growth-accounts",
        type=int,
        default=None,
        help="smaller organisation for the growth ratio (default: half of --accounts)",
    )
    parser.add_argument(
        "--no-replay",
        action="store_true",
        help="send every measured call to moto (by default moto answers one warm-up scan and "
        "the proxy replays its answers: see benchmarks/latency_proxy.py)",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="the proxy speaks HTTPS, as AWS does, with a certificate the scanner verifies against"
        " a bundle of the default authorities plus that certificate (AWS_CA_BUNDLE): what a"
        " connection costs the client on real AWS counts",
    )
    parser.add_argument("--trace-dir", type=Path, default=None, help="write each trace as JSONL")
    parser.add_argument(
        "--source",
        type=Path,
        default=SOURCE,
        help="folder whose vpce_audit package the scans run (default: this checkout)",
    )
    return parser.parse_args()


def main() -> None:
    args = _arguments()
    latency = args.latency_ms / 1000
    connect = args.latency_ms if args.connect_latency_ms is None else args.connect_latency_ms
    connect /= 1000
    regions = REGIONS[: args.regions]
    growth = args.growth_accounts or max(1, args.accounts // 2)
    source = args.source.resolve()
    for key, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        os.environ[key] = value
    os.environ.pop("AWS_ENDPOINT_URL", None)
    print(
        f"organisation: {args.accounts} accounts x {len(regions)} regions x {args.vpcs} VPCs"
        f" (+1 default VPC each); latency {args.latency_ms:.0f} ms per call,"
        f" {connect * 1000:.0f} ms per new connection;"
        f" {os.cpu_count()} CPUs; vpce_audit from {source}"
    )
    runs: dict[Setting, list[Run]] = {}
    with contextlib.ExitStack() as stack:
        tls = None
        if args.tls:
            tls = self_signed(Path(stack.enter_context(tempfile.TemporaryDirectory())))
        bundle = tls.bundle if tls is not None else None
        endpoint = stack.enter_context(moto_server())
        context = tls.server_context() if tls is not None else None
        proxy = stack.enter_context(
            delay_proxy(endpoint, latency, context, connect_latency=connect)
        )
        built = time.monotonic()
        ids = build_organisation(endpoint, args.accounts, regions, args.vpcs)
        warm(proxy, regions, bundle)
        print(f"estate built in moto in {time.monotonic() - built:.0f} s")
        cold = scan(proxy, regions, max(args.workers), None, source, ca_bundle=bundle)
        moto_time = _median([c.upstream for c in cold.calls if c.source == "moto"] or [0])
        print(
            f"warm-up scan, answered by moto, at {max(args.workers)} workers: wall"
            f" {cold.wall:.2f} s, {len(cold.calls)} calls, moto's median time per call"
            f" {moto_time * 1000:.0f} ms"
        )
        proxy.replay = not args.no_replay
        for setting in plan(args, growth):
            chosen = None if setting.accounts == args.accounts else ids[: setting.accounts]
            for repeat in range(setting.repeats):
                run = scan(
                    proxy,
                    regions[: setting.regions],
                    setting.workers,
                    chosen,
                    source,
                    processes=setting.processes,
                    ca_bundle=bundle,
                )
                runs.setdefault(setting, []).append(run)
                print(
                    f"  {setting.label:10} workers {setting.workers:3} x {setting.processes}"
                    f" accounts"
                    f" {setting.accounts:3} regions {setting.regions}: wall {run.wall:6.2f} s"
                    f" (scanner CPU {run.cpu:5.2f} s), {len(run.calls)} calls"
                    f" ({sum(c.source == 'moto' for c in run.calls)} to moto), complete"
                    f" {run.complete}, {run.scopes} account-regions, {run.errors} errors,"
                    f" {run.connections} connections",
                    flush=True,
                )
                if args.trace_dir is not None:
                    name = f"w{setting.workers}-a{setting.accounts}-g{setting.regions}"
                    dump(run, args.trace_dir, f"{name}-r{repeat + 1}")
    _summary(runs, latency, connect, args.vpcs + 1, growth)


def _summary(
    runs: dict[Setting, list[Run]],
    latency: float,
    connect: float,
    vpcs_per_region: int,
    growth: int,
) -> None:
    print(
        f"\n{'':10} {'workers':>7} {'procs':>5} {'accounts':>8} {'regions':>7} {'runs':>4}"
        f" {'wall s':>7}"
        f" {'CPU s':>6} {'span s':>7} {'calls':>6} {'critical':>8} {'code path':>9}"
        f" {'calls/W':>8} {'calls/slot':>10} {'quota':>6}"
        f" {'ideal':>6} {'wall/ideal':>10}"
    )
    for setting, measured in runs.items():
        wall = _median(r.wall for r in measured)
        bound = bounds(measured[0], latency, connect)
        print(
            f"{setting.label:10} {setting.workers:>7} {setting.processes:>5}"
            f" {setting.accounts:>8} {setting.regions:>7}"
            f" {len(measured):>4} {wall:7.2f} {_median(r.cpu for r in measured):6.2f}"
            f" {_median(span(r.calls) for r in measured):7.2f} {bound.calls:6}"
            f" {bound.critical:8.2f} {bound.code_path:9.2f} {bound.per_worker:8.2f}"
            f" {bound.per_slot:10.2f} {bound.quota:6.2f} {bound.ideal:6.2f}"
            f" {wall / bound.ideal:10.1f}"
        )
    default_at = {
        setting.accounts: measured
        for setting, measured in runs.items()
        if setting.workers == DEFAULT_REGION_WORKERS and setting.regions > 1
    }
    serial = next((m for setting, m in runs.items() if setting.label == "serial"), None)
    default = next((m for setting, m in runs.items() if setting.label == "default"), None)
    if serial and serial[0].accounts in default_at:
        slowdown = _median(r.wall for r in serial) / _median(
            r.wall for r in default_at[serial[0].accounts]
        )
        print(f"serial / default workers at {serial[0].accounts} accounts: wall {slowdown:.1f}x")
    small = default_at.get(growth)
    if default and small and small is not default:
        ratio = _median(r.wall for r in default) / _median(r.wall for r in small)
        calls = len(default[0].calls) / len(small[0].calls)
        print(
            f"growth {small[0].accounts} -> {default[0].accounts} accounts at"
            f" {DEFAULT_REGION_WORKERS} workers: wall {ratio:.2f}x (target for 2x accounts:"
            f" <= 2.2x), calls {calls:.2f}x"
            f" (linear: {default[0].accounts / small[0].accounts:.2f}x)"
        )
    if default:
        calls_table(default[0], vpcs_per_region)
    for setting, measured in runs.items():
        if setting.label != "growth":
            trace_table(_median_run(measured), latency)


def _median_run(measured: Sequence[Run]) -> Run:
    return sorted(measured, key=lambda r: r.wall)[len(measured) // 2]


if __name__ == "__main__":
    main()
