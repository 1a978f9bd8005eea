"""The collection's schedule (vpce_audit.collect.schedule) and its request pacing
(vpce_audit.collect.rates): no account waits on another, follow-ups start before their region
ends, and no scope spends more than its share of AWS's request quotas."""

from __future__ import annotations

import collections
import gc
import math
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import boto3
import botocore.client
import pytest
from moto import mock_aws

from vpce_audit.collect import rates, runner
from vpce_audit.collect.account import collect_account
from vpce_audit.collect.calls import CallThreads, CallTimeout, ScopeCalls
from vpce_audit.collect.rates import AccountRates, Quota, TokenBucket
from vpce_audit.collect.region import LISTINGS, calls_in_flight_per_region, collect_region
from vpce_audit.collect.runner import ClientFactory, CollectionRequest, collect
from vpce_audit.collect.schedule import AccountPipeline, FollowUp
from vpce_audit.model import CollectionError

ACCOUNT = "123456789012"
"""moto's default account."""
PATIENCE = 10.0
"""Seconds a test waits for something that should happen at once; reached only on a failure."""


@dataclass
class Account:
    name: str
    regions: tuple[str, ...]
    facts_gate: threading.Event = field(default_factory=threading.Event)
    log: list[str] = field(default_factory=list)


class RecordingSteps:
    """Steps that record what happened, in order, across every account."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self._lock = threading.Lock()

    def note(self, event: str) -> None:
        with self._lock:
            self.events.append(event)

    def regions(self, work: Account) -> Sequence[str]:
        return work.regions

    def facts(self, work: Account) -> None:
        assert work.facts_gate.wait(PATIENCE), f"{work.name}'s facts were never released"
        self.note(f"{work.name} facts")

    def region(self, work: Account, region: str, follow_up: FollowUp) -> str:
        zones_listed = threading.Event()

        def zones() -> None:
            self.note(f"{work.name}/{region} zones")
            zones_listed.set()

        follow_up(zones)
        # The rest of the region waits for the follow-up: it runs while the region is still
        # being collected, or never (and the wait times out).
        ran_meanwhile = zones_listed.wait(PATIENCE)
        self.note(f"{work.name}/{region} collected, zones listed meanwhile: {ran_meanwhile}")
        return region

    def collected(self, work: Account, collected: str) -> None:
        work.log.append(collected)

    def finish(self, work: Account) -> str:
        self.note(f"{work.name} finished")
        return f"{work.name}: {sorted(work.log)}"


def test_an_account_whose_facts_are_slow_holds_up_no_other_account() -> None:
    slow, quick = Account("slow", ("r1", "r2")), Account("quick", ("r1",))
    quick.facts_gate.set()
    steps = RecordingSteps()
    result: list[list[str]] = []
    runner = threading.Thread(
        target=lambda: result.append(AccountPipeline(steps, 4, 2).run([slow, quick]))
    )
    runner.start()
    # The quick account finishes while the slow one's facts are still out.
    deadline = threading.Event()
    for _ in range(int(PATIENCE / 0.01)):
        if "quick finished" in steps.events:
            break
        deadline.wait(0.01)
    assert "quick finished" in steps.events
    assert "slow facts" not in steps.events
    # The slow account's regions did not wait for its facts either.
    assert {
        "slow/r1 collected, zones listed meanwhile: True",
        "slow/r2 collected, zones listed meanwhile: True",
    } <= set(steps.events)
    assert "slow finished" not in steps.events
    slow.facts_gate.set()
    runner.join(PATIENCE)
    assert result == [["slow: ['r1', 'r2']", "quick: ['r1']"]]  # in the order given
    assert steps.events.index("slow facts") < steps.events.index("slow finished")


def test_follow_ups_run_while_their_region_is_collected_and_before_the_account_ends() -> None:
    account = Account("a", ("r1", "r2", "r3"))
    account.facts_gate.set()
    steps = RecordingSteps()
    assert AccountPipeline(steps, workers=1, account_workers=1).run([account]) == [
        "a: ['r1', 'r2', 'r3']"
    ]
    # One region worker: a follow-up that waited for its region to end would deadlock it.
    for region in ("r1", "r2", "r3"):
        zones = steps.events.index(f"a/{region} zones")
        collected = steps.events.index(f"a/{region} collected, zones listed meanwhile: True")
        assert zones < collected < steps.events.index("a finished")


def test_an_account_without_regions_finishes_after_its_facts() -> None:
    account = Account("empty", ())
    account.facts_gate.set()
    steps = RecordingSteps()
    assert AccountPipeline(steps, 2, 2).run([account]) == ["empty: []"]
    assert steps.events == ["empty facts", "empty finished"]


def test_a_failing_step_is_raised_not_lost() -> None:
    class Broken(RecordingSteps):
        def facts(self, work: Account) -> None:
            raise RuntimeError("a collector bug")

    account = Account("a", ())
    with (
        mock.patch("vpce_audit.collect.schedule.CANCELLED") as cancelled,
        pytest.raises(RuntimeError, match="a collector bug"),
    ):
        AccountPipeline(Broken(), 2, 2).run([account])
    cancelled.set.assert_called()  # the other workers stop at their next call


# -- pacing -----------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_serves_its_burst_at_once_then_its_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(Quota(burst=2, per_second=4), clock)
    assert [bucket.reserve() for _ in range(5)] == [0.0, 0.0, 0.25, 0.5, 0.75]
    clock.now += 0.75  # the three reservations are used up as they fall due
    assert bucket.reserve() == 0.25
    clock.now += 60  # refills to its burst, no further
    assert [bucket.reserve() for _ in range(3)] == [0.0, 0.0, 0.25]


def test_a_scan_uses_part_of_aws_quotas() -> None:
    # AWS's EC2 bucket for a Describe action: 100, refilled at 20 per second; Route 53's per
    # account: 50 at 10 per second.
    ec2, route53 = rates.EC2_PER_ACTION, rates.ROUTE53_PER_ACCOUNT
    assert (ec2.burst, ec2.per_second) == (80, 16)
    assert (route53.burst, route53.per_second) == (40, 8)


@pytest.fixture
def waits() -> Iterator[list[float]]:
    """The waits requests were given (instead of waited), at a quota of 2 then one per 100 s:
    slow enough that moto's own time does not refill it."""
    asked: list[float] = []
    small = Quota(burst=2, per_second=0.01)
    with (
        mock.patch.object(rates, "wait", asked.append),
        mock.patch.object(rates, "EC2_PER_ACTION", small),
        mock.patch.object(rates, "ROUTE53_PER_ACCOUNT", small),
    ):
        yield asked


def _factory() -> ClientFactory:
    return ClientFactory(boto3.session.Session(region_name="eu-west-1"))


def _waited(values: Sequence[float]) -> list[bool]:
    return [v > 50 for v in values]


def test_ec2_requests_are_paced_per_action_and_region(aws_credentials: None, waits: Any) -> None:
    with mock_aws():
        clients = _factory()
        ireland, frankfurt = (
            clients.client("ec2", "eu-west-1"),
            clients.client("ec2", "eu-central-1"),
        )
        for _ in range(3):
            ireland.describe_vpcs()
        ireland.describe_subnets()  # another action: its own bucket
        frankfurt.describe_vpcs()  # another region: its own bucket
    assert _waited(waits) == [False, False, True, False, False]


def test_route53_requests_share_one_bucket_per_account(aws_credentials: None, waits: Any) -> None:
    with mock_aws():
        clients = _factory()
        route53 = clients.client("route53", "us-east-1")
        vpc = clients.client("ec2", "us-east-1").create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]
        route53.list_hosted_zones()
        route53.list_hosted_zones_by_vpc(VPCId=vpc["VpcId"], VPCRegion="us-east-1")
        route53.list_hosted_zones()
        other_account = _factory().client("route53", "us-east-1")  # other credentials
        other_account.list_hosted_zones()
    route53_waits = waits[1:]  # the first wait is CreateVpc's, EC2's bucket
    assert _waited(route53_waits) == [False, False, True, False]


def test_other_services_are_not_paced(aws_credentials: None, waits: Any) -> None:
    with mock_aws():
        sts: Callable[[], Any] = _factory().client("sts", "us-east-1").get_caller_identity
        for _ in range(4):
            sts()
    assert waits == []


# -- per-call costs ---------------------------------------------------------------------------


def _call_threads() -> int:
    return sum(thread.name == "aws-call" for thread in threading.enumerate())


def test_call_threads_are_reused_and_answer_on_the_caller_thread() -> None:
    threads = CallThreads()
    before = _call_threads()
    assert [threads.within(lambda n=n: n * 2, budget=PATIENCE) for n in range(50)] == list(
        range(0, 100, 2)
    )
    assert _call_threads() - before <= 1  # one thread made fifty calls one after another

    def broken() -> None:
        raise ValueError("an answer that could not be read")

    with pytest.raises(ValueError, match="could not be read"):
        threads.within(broken, budget=PATIENCE)


def test_a_call_past_its_budget_is_abandoned_and_the_next_gets_another_thread() -> None:
    threads = CallThreads()
    release = threading.Event()
    with pytest.raises(CallTimeout, match="no answer within 0 s"):
        threads.within(lambda: release.wait(PATIENCE), budget=0.05)
    # The abandoned call still holds its thread; the next call is not queued behind it.
    assert threads.within(lambda: "answered", budget=PATIENCE) == "answered"
    release.set()


def test_a_calls_own_timeout_is_its_answer_and_an_abandoned_thread_is_reused() -> None:
    threads = CallThreads()

    def socket_timeout() -> None:
        raise TimeoutError("read timed out")

    # The call's own TimeoutError is what it answered, not the budget running out.
    with pytest.raises(TimeoutError, match="read timed out") as raised:
        threads.within(socket_timeout, budget=PATIENCE)
    assert not isinstance(raised.value, CallTimeout)
    release, finished = threading.Event(), threading.Event()

    def late() -> str:
        release.wait(PATIENCE)
        finished.set()
        return "too late"

    with pytest.raises(CallTimeout):
        threads.within(late, budget=0.05)
    before = _call_threads()
    release.set()
    assert finished.wait(PATIENCE)
    deadline = time.monotonic() + PATIENCE
    while not threads._free and time.monotonic() < deadline:  # it frees itself after returning
        time.sleep(0.01)
    # The abandoned call's thread, free again, takes the next call: no new thread.
    assert threads.within(lambda: "answered", budget=PATIENCE) == "answered"
    assert _call_threads() == before


def test_a_failed_call_leaves_no_cycle_and_a_nan_budget_is_no_budget() -> None:
    threads = CallThreads()

    class Refused(Exception):
        pass

    def refused() -> None:
        raise Refused("AccessDenied")

    collecting = gc.isenabled()
    gc.disable()
    try:
        caught: list[weakref.ref[Refused]] = []
        try:
            threads.within(refused, budget=PATIENCE)
        except Refused as error:
            caught.append(weakref.ref(error))
        # Without the cycle collector: freed as soon as nothing refers to it.
        assert caught[0]() is None
    finally:
        if collecting:
            gc.enable()
    with pytest.raises(CallTimeout):
        threads.within(lambda: "answered", budget=math.nan)


def test_clients_share_botocores_event_name_translations(aws_credentials: None) -> None:
    from botocore.hooks import EventAliaser
    from botocore.utils import EVENT_ALIASES

    clients = _factory()
    ec2, route53 = clients.client("ec2", "eu-west-1"), clients.client("route53", "us-east-1")
    shared = ec2.meta.events._alias_name_cache
    assert shared is route53.meta.events._alias_name_cache
    assert shared is _factory().client("sts", "us-east-1").meta.events._alias_name_cache
    # Translations are botocore's own, whichever client made them first.
    own = EventAliaser(mock.Mock())
    for old in list(EVENT_ALIASES)[:20]:
        name = f"before-call.{old}.SomeOperation"
        assert ec2.meta.events._alias_event_name(name) == own._alias_event_name(name)
        assert shared[name] == own._alias_event_name(name)


def test_processes_split_the_account_wide_quota_not_the_per_region_ones() -> None:
    """--processes N: every process draws on each account's Route 53 bucket, so each takes 1/N
    of the share; an account-region's EC2 buckets serve the one process that collects it."""
    try:
        rates.share_account_quotas(2)
        account = AccountRates(FakeClock())
        route53 = account.bucket("route53", "us-east-1", "ListHostedZonesByVPC")
        ec2 = account.bucket("ec2", "eu-west-1", "DescribeVpcAttribute")
        assert [route53.reserve() for _ in range(21)][-2:] == [0.0, 0.25]  # 20 at once, 4/s
        assert [ec2.reserve() for _ in range(81)][-2:] == [0.0, 0.0625]  # 80 at once, 16/s
    finally:
        rates.share_account_quotas(1)


# -- calls that do not wait for each other are in flight together -------------------------------


class HeldCalls:
    """A ``before-send`` hook that holds the named operations until released, and counts the
    calls of each operation that it holds at the moment."""

    def __init__(self, held: frozenset[str]) -> None:
        self.held = held
        self.released = threading.Event()
        self.holding: collections.Counter[str] = collections.Counter()
        self.sent: list[str] = []
        self.seen = ""
        """What ``until`` saw when it returned."""
        self._changed = threading.Condition()

    def __call__(self, event_name: str, **_details: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        with self._changed:
            self.sent.append(operation)
            if operation in self.held:
                self.holding[operation] += 1
            self._changed.notify_all()
        if operation in self.held:
            assert self.released.wait(PATIENCE), f"{operation} was never released"

    def attach(self, client: Any) -> Any:
        client.meta.events.register("before-send", self)
        return client

    def until(self, condition: Callable[[HeldCalls], bool], patience: float = PATIENCE) -> bool:
        """Whether ``condition`` came true while the held calls are held (within
        ``patience`` seconds)."""
        with self._changed:
            came = self._changed.wait_for(lambda: condition(self), patience)
            self.seen = f"held at once {dict(self.holding)}; sent {sorted(set(self.sent))}"
            return came


def _in_thread(target: Callable[[], Any]) -> Callable[[], Any]:
    """Runs ``target`` in a thread; the returned function joins it and gives its value."""
    outcome: list[Any] = []
    thread = threading.Thread(target=lambda: outcome.append(target()), daemon=True)
    thread.start()

    def joined() -> Any:
        thread.join(PATIENCE)
        assert outcome, "the collection did not end once the calls were released"
        return outcome[0]

    return joined


def test_an_items_calls_and_what_needs_only_the_endpoints_are_in_flight_together(
    aws_credentials: None,
) -> None:
    """A VPC's two attributes at once, a transit-gateway route table's three reads at once, and
    the endpoints' interfaces asked for while those are still out: the region's wall time is its
    chain of dependent calls, not their sum (issue 8)."""
    held = HeldCalls(
        frozenset(
            {
                "DescribeVpcAttribute",
                "GetTransitGatewayRouteTableAssociations",
                "GetTransitGatewayRouteTablePropagations",
                "SearchTransitGatewayRoutes",
            }
        )
    )
    with mock_aws():
        ec2 = boto3.client("ec2", region_name="eu-west-1")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
        ec2.create_vpc_endpoint(
            VpcId=vpc,
            ServiceName="com.amazonaws.eu-west-1.ssm",
            VpcEndpointType="Interface",
            SubnetIds=[subnet],
        )
        gateway = ec2.create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
        ec2.create_transit_gateway_route_table(TransitGatewayId=gateway)
        vpcs = len(ec2.describe_vpcs()["Vpcs"])  # with moto's default VPC
        tables = len(ec2.describe_transit_gateway_route_tables()["TransitGatewayRouteTables"])
        clients: dict[str, Any] = {}

        def client_for(service: str) -> Any:
            if service not in clients:
                clients[service] = held.attach(boto3.client(service, region_name="eu-west-1"))
            return clients[service]

        client_for("ec2")
        collected = _in_thread(lambda: collect_region(client_for, ACCOUNT, "eu-west-1"))
        try:
            # Nothing held is released before this: what is counted is held at once.
            together = held.until(
                lambda h: (
                    h.holding["DescribeVpcAttribute"] >= 2 * vpcs
                    and h.holding["SearchTransitGatewayRoutes"] >= tables
                    and h.holding["GetTransitGatewayRouteTableAssociations"] >= tables
                    and h.holding["GetTransitGatewayRouteTablePropagations"] >= tables
                    and "DescribeNetworkInterfaces" in h.sent
                )
            )
        finally:
            held.released.set()
        snapshot = collected()
    assert together, held.seen
    # moto implements none of these; every call held above was answered.
    assert {e.operation for e in snapshot.errors} == {
        "DescribeVpcEndpointConnections",
        "DescribeSecurityGroupVpcAssociations",
        "ListProfileAssociations",
    }
    assert {v.vpc_id: (v.enable_dns_support, v.enable_dns_hostnames) for v in snapshot.vpcs}[
        vpc
    ] == (
        True,
        False,
    )
    assert len(snapshot.transit_gateway_route_tables) >= tables
    assert all(table.routes == () for table in snapshot.transit_gateway_route_tables)
    assert len(snapshot.endpoint_interfaces) == 1


def test_an_accounts_zones_and_its_organisation_are_read_at_once(aws_credentials: None) -> None:
    """Each private zone's GetHostedZone and ListResourceRecordSets, for every zone, are in
    flight together, and the organisation is asked meanwhile: a hub with a zone per service took
    two round trips per zone, one after another."""
    held = HeldCalls(frozenset({"GetHostedZone", "ListResourceRecordSets"}))
    with mock_aws():
        vpc = boto3.client("ec2", region_name="eu-west-1").create_vpc(CidrBlock="10.0.0.0/16")
        route53 = boto3.client("route53", region_name="us-east-1")
        services = ("ssm", "kms", "sts")
        for service in services:
            route53.create_hosted_zone(
                Name=f"{service}.eu-west-1.amazonaws.com",
                CallerReference=service,
                VPC={"VPCRegion": "eu-west-1", "VPCId": vpc["Vpc"]["VpcId"]},
                HostedZoneConfig={"PrivateZone": True},
            )
        clients = {
            service: held.attach(boto3.client(service, region_name="us-east-1"))
            for service in ("route53", "organizations")
        }
        calls = ScopeCalls(ACCOUNT, "global")
        collected = _in_thread(lambda: collect_account(ACCOUNT, clients.__getitem__, calls))
        try:
            together = held.until(
                lambda h: (
                    h.holding["GetHostedZone"] >= len(services)
                    and h.holding["ListResourceRecordSets"] >= len(services)
                    and "DescribeOrganization" in h.sent
                )
            )
        finally:
            held.released.set()
        account = collected()
    assert together, held.seen
    assert sorted(zone.name for zone in account.hosted_zones) == sorted(
        f"{service}.eu-west-1.amazonaws.com." for service in services
    )
    assert all(zone.records is not None for zone in account.hosted_zones)


# -- connections are let go of as scopes end ----------------------------------------------------


def test_every_client_lets_go_of_its_connections_once_its_scope_is_done(
    aws_credentials: None,
) -> None:
    """A scan made a client per account, region and service and kept each one's pooled
    connections, a file descriptor apiece, until it ended: an organisation of 8 accounts x 4
    regions held 370 at once, past macOS's default limit of 256. A region's clients now let go
    when the region is done, before its account is; every client when the account is."""
    events: list[tuple[str, str]] = []
    real_close = botocore.client.BaseClient.close
    real_finish = runner._CollectionSteps.finish

    def close(client: Any) -> None:
        events.append((client.meta.service_model.service_name, client.meta.region_name))
        real_close(client)

    def finish(steps: Any, work: Any) -> Any:
        events.append(("account finished", work.account_id))
        return real_finish(steps, work)

    regions = ("eu-west-1", "eu-central-1")
    with (
        mock_aws(),
        mock.patch.object(botocore.client.BaseClient, "close", close),
        mock.patch.object(runner._CollectionSteps, "finish", finish),
    ):
        clients = _factory()
        collect(clients, CollectionRequest(regions=regions))
        made = {
            (client.meta.service_model.service_name, client.meta.region_name)
            for client in clients._clients.values()
        }
    assert {("ec2", region) for region in regions} <= made
    assert {"route53", "organizations", "route53resolver"} <= {service for service, _ in made}
    finished = events.index(("account finished", ACCOUNT))
    assert {("ec2", region) for region in regions} <= set(events[:finished])
    assert made <= set(events[finished:])


def test_an_unreadable_follow_up_answer_costs_its_item_not_the_region(
    aws_credentials: None,
) -> None:
    """A VPC attribute answer of the wrong shape is recorded against the VPCs (as before the
    attributes were asked at once), and the rest of the region is kept."""
    with mock_aws():
        ec2 = boto3.client("ec2", region_name="eu-west-1")
        ec2.create_subnet(
            VpcId=ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"], CidrBlock="10.0.1.0/24"
        )

        def mangle(parsed: dict[str, Any], **_details: Any) -> None:
            if "EnableDnsHostnames" in parsed:
                parsed["EnableDnsHostnames"] = "true"  # a string where a structure belongs

        ec2.meta.events.register("after-call.ec2.DescribeVpcAttribute", mangle)
        clients = {"ec2": ec2}

        def client_for(service: str) -> Any:
            if service not in clients:
                clients[service] = boto3.client(service, region_name="eu-west-1")
            return clients[service]

        snapshot = collect_region(client_for, ACCOUNT, "eu-west-1")
    assert snapshot.vpcs == ()
    assert len(snapshot.subnets) == 1 + 3  # ours and the default VPC's three
    unreadable = [e for e in snapshot.errors if e.error_code == "MalformedResponse"]
    assert [(e.operation, e.resource_kind) for e in unreadable] == [("DescribeVpcs", "vpcs")] * 2


def test_errors_that_differ_only_in_code_have_one_order() -> None:
    """A VPC's two attributes are asked at once: which error is recorded first is chance."""
    errors = [
        CollectionError(
            ACCOUNT,
            "eu-west-1",
            "ec2",
            "DescribeVpcAttribute",
            code,
            "no",
            "vpc_attributes",
            "vpc-1",
        )
        for code in ("Throttling", "InternalError")
    ]
    assert sorted(errors, key=lambda e: e.sort_key) == sorted(
        reversed(errors), key=lambda e: e.sort_key
    )


@pytest.mark.parametrize(("workers", "per_region"), [(1, 32), (8, 32), (16, 16), (32, 8), (512, 8)])
def test_regions_share_what_a_process_may_have_in_flight(workers: int, per_region: int) -> None:
    """256 calls in flight in a process (each holds a thread or two and a connection): at the
    default 8 workers a region has 32; at more, its share; never fewer than 8."""
    assert calls_in_flight_per_region(workers) == per_region


def test_a_region_has_no_more_calls_in_flight_than_it_is_given(aws_credentials: None) -> None:
    every_call_but_the_first = frozenset(
        listing.operation for listing in LISTINGS if listing.operation != "DescribeVpcs"
    )
    held = HeldCalls(every_call_but_the_first)
    with mock_aws():
        clients: dict[str, Any] = {}

        def client_for(service: str) -> Any:
            if service not in clients:
                clients[service] = held.attach(boto3.client(service, region_name="eu-west-1"))
            return clients[service]

        collected = _in_thread(
            lambda: collect_region(client_for, ACCOUNT, "eu-west-1", calls_in_flight=5)
        )
        try:
            five = held.until(lambda h: sum(h.holding.values()) >= 5)
            sixth = held.until(lambda h: sum(h.holding.values()) > 5, patience=0.5)
        finally:
            held.released.set()
        collected()
    assert five, held.seen
    assert not sixth, held.seen
