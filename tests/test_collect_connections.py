"""HTTPS connections shared by the clients of every account, verified with a CA bundle loaded once
(vpce_audit/collect/connections.py), against an HTTPS server on 127.0.0.1.

Before, each account's client opened connections of its own, and urllib3 read the CA bundle
again for each one (~14 ms of CPU for certifi's): an organisation of 16 accounts x 4 regions
opened 1,734 connections for 4,176 calls (docs/performance.md, ``--tls``)."""

from __future__ import annotations

import json
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import SSLError
from botocore.httpsession import URLLib3Session
from urllib3.util.wait import wait_for_read

from tests.local_tls import (
    HttpsServer,
    LocalTls,
    TlsServer,
    connect_proxy,
    handshake,
    running,
    self_signed,
    serve_https,
)
from vpce_audit import cli
from vpce_audit.collect import connections, runner
from vpce_audit.collect import region as region_module
from vpce_audit.collect.account import ROUTE53_CALLS_IN_FLIGHT
from vpce_audit.collect.connections import Pools
from vpce_audit.collect.limits import open_files_needed
from vpce_audit.collect.operations import OPERATIONS
from vpce_audit.collect.region import REGION_SERVICES, calls_in_flight_per_region
from vpce_audit.collect.runner import ClientFactory

NO_PROFILES = json.dumps({"ProfileAssociations": []}).encode()
SHARED = Pools(busy=64, other=32)
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(autouse=True)
def _fresh_sessions(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(runner, "CALL_ATTEMPTS", 1)  # a refused certificate is not retried
    monkeypatch.setattr(connections, "_CONTEXTS", {})  # each test's bundle loads afresh
    for key in [key for key in os.environ if key.startswith("AWS_")]:
        monkeypatch.delenv(key)
    for name in PROXY_VARIABLES:  # a CI image's proxy settings would route the tests' calls
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    connections.configure(SHARED)  # as the CLI does (a library caller shares nothing)
    yield


@pytest.fixture
def tls(tmp_path: Path) -> LocalTls:
    return self_signed(tmp_path / "tls")


@pytest.fixture
def server(tls: LocalTls) -> Iterator[HttpsServer]:
    with serve_https(tls, NO_PROFILES, "application/json") as seen:
        yield seen


@pytest.fixture
def bundle_loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The CA bundles loaded into a TLS context, in order."""
    loaded: list[str] = []
    original = ssl.SSLContext.load_verify_locations

    def spy(self: ssl.SSLContext, cafile: Any = None, *args: Any, **kwargs: Any) -> None:
        loaded.append(str(cafile))
        original(self, cafile, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", spy)
    return loaded


def _account(
    monkeypatch: pytest.MonkeyPatch, server: HttpsServer, bundle: Path, key: str, **options: Any
) -> ClientFactory:
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
    monkeypatch.setenv("AWS_CA_BUNDLE", str(bundle))
    session = boto3.session.Session(
        aws_access_key_id=key, aws_secret_access_key="secret", region_name="us-east-1"
    )
    return ClientFactory(session, **options)


def _ask(clients: ClientFactory) -> list[Any]:
    answer = clients.client("route53profiles", "us-east-1").list_profile_associations()
    return list(answer["ProfileAssociations"])


def test_accounts_take_turns_on_one_connection_and_the_bundle_is_read_once(
    monkeypatch: pytest.MonkeyPatch, server: HttpsServer, tls: LocalTls, bundle_loads: list[str]
) -> None:
    accounts = [_account(monkeypatch, server, tls.bundle, f"AKIA{i}") for i in range(5)]
    for clients in accounts:
        for _ in range(4):
            assert _ask(clients) == []
    assert server.requests == 20
    assert server.connections == 1
    assert bundle_loads == [str(tls.bundle)]
    assert connections.shared_sessions() == 1


def test_without_sharing_each_client_connects_but_the_bundle_is_still_read_once(
    monkeypatch: pytest.MonkeyPatch, server: HttpsServer, tls: LocalTls, bundle_loads: list[str]
) -> None:
    connections.configure(None)
    accounts = [_account(monkeypatch, server, tls.bundle, f"AKIA{i}") for i in range(3)]
    for clients in accounts:
        for _ in range(3):
            assert _ask(clients) == []
    assert (server.requests, server.connections) == (9, 3)
    assert bundle_loads == [str(tls.bundle)]
    assert connections.shared_sessions() == 0
    accounts[0].close()  # a session of its own closes with its client
    assert _ask(accounts[0]) == []
    assert server.connections == 4


def test_botocore_alone_reads_the_bundle_for_every_connection(
    monkeypatch: pytest.MonkeyPatch, server: HttpsServer, tls: LocalTls, bundle_loads: list[str]
) -> None:
    """What the sharing saves, shown on botocore's own clients (one per account)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
    for i in range(3):
        plain = boto3.session.Session(
            aws_access_key_id=f"AKIA{i}", aws_secret_access_key="s", region_name="us-east-1"
        ).client("route53profiles", verify=str(tls.bundle))
        plain.list_profile_associations()
    assert server.connections == 3
    assert bundle_loads == [str(tls.bundle)] * 3


@pytest.mark.parametrize("shared", [True, False])
def test_a_certificate_the_bundle_does_not_trust_is_refused(
    monkeypatch: pytest.MonkeyPatch, server: HttpsServer, tmp_path: Path, shared: bool
) -> None:
    connections.configure(SHARED if shared else None)
    stranger = self_signed(tmp_path / "stranger")  # the default authorities and another key
    with pytest.raises(SSLError, match="CERTIFICATE_VERIFY_FAILED"):
        _ask(_account(monkeypatch, server, stranger.bundle, "AKIA1"))
    assert server.requests == 0


def test_a_certificate_for_another_host_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The host name is still matched: a trusted certificate for another name fails."""
    elsewhere = self_signed(tmp_path / "elsewhere", names=("elsewhere.example",))
    with serve_https(elsewhere, NO_PROFILES, "application/json") as seen:
        with pytest.raises(SSLError, match=r"doesn't match 'elsewhere\.example'"):
            _ask(_account(monkeypatch, seen, elsewhere.bundle, "AKIA1"))
        assert seen.requests == 0


def test_a_bundle_that_cannot_be_read_fails_each_call_as_botocore_does(
    monkeypatch: pytest.MonkeyPatch, server: HttpsServer, tmp_path: Path
) -> None:
    clients = _account(monkeypatch, server, tmp_path / "missing.pem", "AKIA1")
    with pytest.raises(Exception, match="No such file or directory"):
        _ask(clients)
    session = clients.client("route53profiles", "us-east-1")._endpoint.http_session
    assert type(session) is URLLib3Session  # botocore's own, left as it made it


def test_a_client_closed_leaves_the_shared_connection_to_the_others_until_the_end(
    monkeypatch: pytest.MonkeyPatch, server: HttpsServer, tls: LocalTls
) -> None:
    first = _account(monkeypatch, server, tls.bundle, "AKIA1")
    second = _account(monkeypatch, server, tls.bundle, "AKIA2")
    _ask(first)
    first.close()  # its region is done
    _ask(second)
    assert server.connections == 1
    connections.close_shared()  # the collection is done
    assert connections.shared_sessions() == 0
    _ask(second)  # a client still holding the session reconnects
    assert server.connections == 2


def test_clients_with_other_settings_do_not_share(
    monkeypatch: pytest.MonkeyPatch, server: HttpsServer, tls: LocalTls
) -> None:
    _ask(_account(monkeypatch, server, tls.bundle, "AKIA1"))
    _ask(_account(monkeypatch, server, tls.bundle, "AKIA2", call_timeout=7.0))
    assert connections.shared_sessions() == 2
    assert server.connections == 2


def test_a_session_with_a_client_certificate_is_left_to_botocore(tls: LocalTls) -> None:
    client = boto3.session.Session(
        aws_access_key_id="a", aws_secret_access_key="b", region_name="us-east-1"
    ).client(
        "ec2",
        config=Config(client_cert=(str(tls.certificate), str(tls.key))),
    )
    own = client._endpoint.http_session
    connections.share_connections(client)
    assert client._endpoint.http_session is own
    assert connections.shared_sessions() == 0


def test_a_client_botocore_did_not_build_the_usual_way_is_left_alone() -> None:
    class Endpoint:
        host = "https://ec2.us-east-1.amazonaws.com"
        http_session = object()

    class Client:
        _endpoint = Endpoint()

    client = Client()
    connections.share_connections(client)
    assert client._endpoint.http_session is Endpoint.http_session


def test_the_pools_are_sized_to_the_calls_in_flight_within_the_open_files_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A pool smaller than the calls in flight on one endpoint closes the connections past it
    after each call; idle connections beside the calls in flight need descriptors."""
    asked: list[int] = []

    def limit_stays_at(limit: int | None) -> None:
        def ensure(needed: int) -> int | None:
            asked.append(needed)
            return limit

        monkeypatch.setattr(cli, "ensure_open_files", ensure)

    in_flight = 8 * (calls_in_flight_per_region(8) + ROUTE53_CALLS_IN_FLIGHT)
    calls_alone = open_files_needed(in_flight)
    full = Pools(busy=in_flight, other=4 * 8)
    limit_stays_at(None)  # raised as far as asked
    cli._open_files_for(8, ("us-east-1", "eu-west-1"), raise_limit=True)
    assert connections._POOLS[0] == full
    # Two regions: 3 busy endpoints (2 EC2, Route 53), 2 x 2 + 3 others.
    assert asked == [calls_alone + 3 * in_flight + 7 * 32]
    # Every enabled region (counted as 40), on a limit that leaves room for busy pools of 100.
    regions = connections.REGIONS_AT_MOST
    limit_stays_at(calls_alone + (regions + 1) * 100 + (2 * regions + 3) * 32)
    cli._open_files_for(8, None, raise_limit=True)
    assert connections._POOLS[0] == Pools(busy=100, other=32)
    # Room for busy pools of 8 only once the others shrink to 8 as well.
    limit_stays_at(calls_alone + (regions + 1) * 8 + (2 * regions + 3) * 8)
    cli._open_files_for(8, None, raise_limit=True)
    assert connections._POOLS[0] == Pools(busy=8, other=8)
    limit_stays_at(calls_alone + 50)  # room for the calls in flight, not for idle ones beside
    cli._open_files_for(8, None, raise_limit=True)
    assert connections._POOLS[0] is None
    # One worker: the other endpoints still keep what AssumeRole has in flight (16).
    limit_stays_at(None)
    cli._open_files_for(1, ("us-east-1",), raise_limit=True)
    pools = connections._POOLS[0]
    assert pools is not None and pools.other == 16
    # A process of --processes sizes its pools to the limit it inherited, without raising it.
    monkeypatch.setattr(cli, "ensure_open_files", lambda needed: pytest.fail("raised"))
    monkeypatch.setattr(cli, "open_files_limit", lambda: None)  # unlimited
    cli._open_files_for(8, ("us-east-1",), raise_limit=False)
    assert connections._POOLS[0] == full


def test_busy_endpoints_get_the_large_pools(
    monkeypatch: pytest.MonkeyPatch, server: HttpsServer, tls: LocalTls
) -> None:
    connections.configure(Pools(busy=300, other=24))
    clients = _account(monkeypatch, server, tls.bundle, "AKIA1")
    sizes = {  # what urllib3's pools keep: their maxsize
        service: clients.client(
            service, "us-east-1"
        )._endpoint.http_session._manager.connection_pool_kw["maxsize"]
        for service in ("ec2", "route53", "route53resolver", "route53profiles", "sts")
    }
    assert sizes == {
        "ec2": 300,
        "route53": 300,
        "route53resolver": 24,
        "route53profiles": 24,
        "sts": 24,
    }
    # The endpoints the budget counts are the ones a collection calls.
    called = {operation.service for operation in OPERATIONS}
    regional = REGION_SERVICES - connections.BUSY_SERVICES
    assert len(regional) == connections.OTHER_REGIONAL_ENDPOINTS
    assert len(called - REGION_SERVICES - connections.BUSY_SERVICES) == (
        connections.OTHER_GLOBAL_ENDPOINTS
    )


def test_a_shared_pool_keeps_as_many_connections_as_were_in_use_at_once(
    monkeypatch: pytest.MonkeyPatch, tls: LocalTls
) -> None:
    """Calls of several accounts in flight together on one endpoint: with a pool as large as
    the calls, the next round reuses every connection; with a smaller one, it reconnects."""

    def rounds(server: HttpsServer, pool: int, accounts: int = 12) -> int:
        connections.close_shared()
        connections.configure(Pools(busy=pool, other=pool))
        before = server.connections
        factories = [_account(monkeypatch, server, tls.bundle, f"AKIA{i}") for i in range(accounts)]
        barrier = threading.Barrier(accounts)

        def together(clients: ClientFactory) -> None:
            barrier.wait()
            _ask(clients)

        with ThreadPoolExecutor(accounts) as pool_of_threads:
            for _ in range(3):
                list(pool_of_threads.map(together, factories))
        return server.connections - before

    with serve_https(tls, NO_PROFILES, "application/json", delay=0.2) as server:
        assert rounds(server, pool=12) == 12  # the first round's, reused by the next two
        # Each round closes what is past the pool of 2: the next reconnects (give or take a
        # call that finds a connection another has just returned).
        assert rounds(server, pool=2) >= 12 + 10


def test_a_collection_closes_the_shared_sessions_when_it_ends(
    aws_credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto import mock_aws

    from vpce_audit.collect.runner import CollectionRequest, collect

    open_when_closed: list[int] = []
    close = connections.close_shared

    def closing() -> None:
        open_when_closed.append(connections.shared_sessions())
        close()

    monkeypatch.setattr(runner, "close_shared", closing)
    with mock_aws():
        session = boto3.session.Session(region_name="us-west-2")
        collect(ClientFactory(session), CollectionRequest(regions=("us-west-2",)))
    assert open_when_closed[0] >= 2  # EC2 of the region, and the global endpoints, at least
    assert connections.shared_sessions() == 0


def test_through_an_http_proxy_the_connection_is_shared_and_the_endpoint_still_verified(
    monkeypatch: pytest.MonkeyPatch, server: HttpsServer, tls: LocalTls, tmp_path: Path
) -> None:
    """CONNECT through a plain-HTTP proxy: the TLS session inside the tunnel is the endpoint's,
    verified against the bundle as without a proxy."""
    with connect_proxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        for key in ("AKIA1", "AKIA2"):
            assert _ask(_account(monkeypatch, server, tls.bundle, key)) == []
        assert proxy.opened == [server.url.removeprefix("https://")]  # one tunnel, shared
        connections.close_shared()
        stranger = self_signed(tmp_path / "stranger")
        with pytest.raises(SSLError, match="CERTIFICATE_VERIFY_FAILED"):
            _ask(_account(monkeypatch, server, stranger.bundle, "AKIA3"))


def test_through_an_https_proxy_botocore_keeps_its_own_session(
    monkeypatch: pytest.MonkeyPatch, server: HttpsServer, tls: LocalTls, tmp_path: Path
) -> None:
    """urllib3 verifies an HTTPS proxy against the bundle path it is given per connection: a
    session of this module would leave it none, and the proxy would be checked against the
    operating system's authorities instead of AWS_CA_BUNDLE (a review found it). Such clients
    keep botocore's session: the proxy that only the bundle trusts is accepted, one the bundle
    does not trust is refused."""
    with connect_proxy(tls) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        clients = _account(monkeypatch, server, tls.bundle, "AKIA1")
        assert _ask(clients) == []
        session = clients.client("route53profiles", "us-east-1")._endpoint.http_session
        assert type(session) is URLLib3Session
        assert connections.shared_sessions() == 0
        assert len(proxy.opened) == 1
    untrusted = self_signed(tmp_path / "proxy")  # a proxy certificate the bundle lacks
    with connect_proxy(untrusted) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        with pytest.raises(Exception, match="Failed to connect to proxy URL"):
            _ask(_account(monkeypatch, server, tls.bundle, "AKIA2"))
        assert proxy.opened == []  # no CONNECT reached a proxy the bundle does not trust


def test_sessions_differing_in_verification_or_proxies_are_not_shared(
    monkeypatch: pytest.MonkeyPatch, server: HttpsServer, tls: LocalTls, tmp_path: Path
) -> None:
    def session_of(clients: ClientFactory) -> Any:
        return clients.client("route53profiles", "us-east-1")._endpoint.http_session

    first = session_of(_account(monkeypatch, server, tls.bundle, "AKIA1"))
    assert session_of(_account(monkeypatch, server, tls.bundle, "AKIA2")) is first
    other = self_signed(tmp_path / "other")
    assert session_of(_account(monkeypatch, server, other.bundle, "AKIA3")) is not first
    with connect_proxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        session = boto3.session.Session(
            aws_access_key_id="AKIA4", aws_secret_access_key="s", region_name="us-east-1"
        )
        proxied = session_of(ClientFactory(session))
        monkeypatch.delenv("HTTPS_PROXY")
    assert proxied is not first
    unverified = boto3.session.Session(
        aws_access_key_id="AKIA5", aws_secret_access_key="s", region_name="us-east-1"
    ).client("route53profiles", verify=False)
    connections.share_connections(unverified)
    assert unverified._endpoint.http_session is not first
    assert unverified._endpoint.http_session._verified is None
    assert connections.shared_sessions() == 4


def test_two_bundles_in_one_process_are_each_read_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, bundle_loads: list[str]
) -> None:
    one, two = self_signed(tmp_path / "one"), self_signed(tmp_path / "two")
    with (
        serve_https(one, NO_PROFILES, "application/json") as first,
        serve_https(two, NO_PROFILES, "application/json") as second,
    ):
        connections.configure(None)  # a session per client: one connection each
        for key in ("AKIA1", "AKIA2", "AKIA3"):
            _ask(_account(monkeypatch, first, one.bundle, key))
            _ask(_account(monkeypatch, second, two.bundle, key))
        assert (first.connections, second.connections) == (3, 3)
    assert sorted(bundle_loads) == sorted([str(one.bundle), str(two.bundle)])


def test_a_session_forgotten_at_the_end_of_a_collection_closes_with_its_client(
    monkeypatch: pytest.MonkeyPatch, server: HttpsServer, tls: LocalTls
) -> None:
    """A library caller that keeps its ClientFactory past a collection: its clients' close
    closes the connections they opened since, which no later close_shared knows of."""
    clients = _account(monkeypatch, server, tls.bundle, "AKIA1")
    _ask(clients)
    connections.close_shared()
    _ask(clients)  # reconnects, on the session close_shared forgot
    session = clients.client("route53profiles", "us-east-1")._endpoint.http_session
    pool = session._manager.connection_from_url(server.url)
    assert pool.num_connections == 1 and pool.pool.qsize() > 0
    clients.close()
    assert len(session._manager.pools) == 0  # closed: no pool left, no idle connection


def test_a_botocore_whose_session_takes_other_arguments_is_left_alone(
    monkeypatch: pytest.MonkeyPatch, server: HttpsServer, tls: LocalTls
) -> None:
    """An argument botocore's session gained would be lost in the copy: nothing is shared."""
    plain = URLLib3Session.__init__

    def grown(self: Any, *args: Any, keep_alive_seconds: int = 0, **kwargs: Any) -> None:
        plain(self, *args, **kwargs)

    connections._known_arguments.cache_clear()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(URLLib3Session, "__init__", grown)
            clients = _account(monkeypatch, server, tls.bundle, "AKIA1")
            assert _ask(clients) == []
            session = clients.client("route53profiles", "us-east-1")._endpoint.http_session
            assert type(session) is URLLib3Session
            assert connections.shared_sessions() == 0
    finally:
        connections._known_arguments.cache_clear()
    assert connections._known_arguments()


# -- connections opened ahead of a region's first wave --------------------------------------


def _until(condition: Callable[[], bool], patience: float = 5.0) -> bool:
    deadline = time.monotonic() + patience
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.fixture
def slow_server(tls: LocalTls) -> Iterator[HttpsServer]:
    """An HTTPS server taking 0.2 s per answer: calls released together are in flight at once."""
    with serve_https(tls, NO_PROFILES, "application/json", delay=0.2) as seen:
        yield seen


def _profiles(monkeypatch: pytest.MonkeyPatch, server: HttpsServer, tls: LocalTls) -> Any:
    return _account(monkeypatch, server, tls.bundle, "AKIA1").client("route53profiles", "us-east-1")


def _opening_done() -> bool:
    return not any(t.name == connections.OPENING_THREAD for t in threading.enumerate())


def _idle(client: Any) -> int:
    """Connected connections waiting in the pools of the client's session."""
    manager = client._endpoint.http_session._manager
    return sum(
        conn is not None and conn.sock is not None
        for key in list(manager.pools.keys())
        for conn in list(manager.pools[key].pool.queue)
    )


def _together(client: Any, calls: int) -> None:
    """``calls`` calls of ``client`` in flight at once."""
    barrier = threading.Barrier(calls)

    def one(_: int) -> None:
        barrier.wait()
        client.list_profile_associations()

    with ThreadPoolExecutor(calls) as threads:
        list(threads.map(one, range(calls)))


def test_connections_asked_ahead_open_beside_the_next_request_and_serve_the_calls_after_it(
    monkeypatch: pytest.MonkeyPatch, slow_server: HttpsServer, tls: LocalTls
) -> None:
    """The first call opens 6 more connections as it goes out; the 7 calls released by its
    answer find one each, without opening any. (TLS 1.3 here: the session tickets the server
    sends after each handshake are read as the connection is opened, or urllib3 would take the
    idle connections for closed ones and open 6 others.)"""
    client = _profiles(monkeypatch, slow_server, tls)
    assert connections.open_ahead(client, 6)
    time.sleep(0.2)
    assert slow_server.connections == 0  # nothing opens before a request goes out
    client.list_profile_associations()
    assert _until(lambda: _idle(client) == 7), (_idle(client), slow_server.connections)
    _together(client, 7)
    assert (slow_server.requests, slow_server.connections) == (8, 7)
    # Once in a session's life: asked again (another account's region), it opens nothing.
    assert connections.open_ahead(client, 9)
    client.list_profile_associations()
    time.sleep(0.2)
    assert (slow_server.requests, slow_server.connections) == (9, 7)


def test_idle_connections_count_toward_those_opened_ahead(
    monkeypatch: pytest.MonkeyPatch, slow_server: HttpsServer, tls: LocalTls
) -> None:
    client = _profiles(monkeypatch, slow_server, tls)
    _together(client, 3)
    assert slow_server.connections == 3
    assert connections.open_ahead(client, 5)
    client.list_profile_associations()  # takes an idle one; 2 of the 5 are missing
    assert _until(_opening_done)
    assert (slow_server.connections, _idle(client)) == (5, 5)


def test_unasked_a_session_opens_a_connection_per_call_in_flight_and_no_more(
    monkeypatch: pytest.MonkeyPatch, slow_server: HttpsServer, tls: LocalTls
) -> None:
    """The same calls without asking: the 7 released together open 6 connections as they go."""
    client = _profiles(monkeypatch, slow_server, tls)
    client.list_profile_associations()
    assert slow_server.connections == 1
    _together(client, 7)
    assert (slow_server.requests, slow_server.connections) == (8, 7)


def test_once_another_client_has_sent_a_request_connections_open_at_once(
    monkeypatch: pytest.MonkeyPatch, server: HttpsServer, tls: LocalTls
) -> None:
    """A region's Resolver client, made while its first EC2 call is out: that call proves that
    requests go out, so its connections open without waiting for its own first call."""
    # Another endpoint (its session is another): the same server under another name.
    monkeypatch.setenv(
        "AWS_ENDPOINT_URL_ROUTE53RESOLVER", server.url.replace("127.0.0.1", "localhost")
    )
    clients = _account(monkeypatch, server, tls.bundle, "AKIA1")
    first = clients.client("route53profiles", "us-east-1")
    other = clients.client("route53resolver", "us-east-1")
    assert connections.open_ahead(other, 3, proven_by=first)  # first has sent nothing yet
    assert _opening_done()
    assert server.accepted == 0
    first.list_profile_associations()
    assert connections.open_ahead(other, 3, proven_by=first)
    assert _until(_opening_done)
    assert (server.requests, server.connections, _idle(other)) == (1, 1 + 3, 3)


def test_connections_that_cannot_be_opened_ahead_leave_the_call_to_fail_as_before(
    monkeypatch: pytest.MonkeyPatch, server: HttpsServer, tmp_path: Path
) -> None:
    stranger = self_signed(tmp_path / "stranger")
    client = _account(monkeypatch, server, stranger.bundle, "AKIA1").client(
        "route53profiles", "us-east-1"
    )
    assert connections.open_ahead(client, 3)
    for _ in range(2):
        with pytest.raises(SSLError, match="CERTIFICATE_VERIFY_FAILED"):
            client.list_profile_associations()
    assert _until(_opening_done)
    # The 3 opened ahead were refused as the calls' own were: none carried a request.
    assert (server.requests, server.connections, server.accepted) == (0, 0, 3 + 2)


def test_connections_opened_ahead_stay_within_the_pool(
    monkeypatch: pytest.MonkeyPatch, server: HttpsServer, tls: LocalTls
) -> None:
    """A pool of 4 (the open-files limit allowed no more) asked for 31: 3 are opened beside the
    request, whose own connection takes the fourth slot; none is opened to be thrown away."""
    connections.configure(Pools(busy=4, other=4))
    client = _profiles(monkeypatch, server, tls)
    assert connections.open_ahead(client, 31)
    client.list_profile_associations()
    assert _until(_opening_done)
    assert (server.connections, _idle(client)) == (4, 4)


def test_sessions_of_their_own_do_not_open_ahead(
    monkeypatch: pytest.MonkeyPatch, server: HttpsServer, tls: LocalTls
) -> None:
    """Without shared pools (a library caller, or an open-files limit too low), every
    account-region would open its wave ahead, also where its first call is refused."""
    connections.configure(None)
    client = _profiles(monkeypatch, server, tls)
    assert not connections.open_ahead(client, 3)
    client.list_profile_associations()
    assert _until(_opening_done)
    assert server.accepted == 1


def test_nothing_is_opened_ahead_through_a_proxy(
    monkeypatch: pytest.MonkeyPatch, server: HttpsServer, tls: LocalTls
) -> None:
    """urllib3 sets up a tunnel as a new connection's request goes out; one opened before would
    talk to the proxy itself."""
    with connect_proxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        client = _account(monkeypatch, server, tls.bundle, "AKIA1").client(
            "route53profiles", "us-east-1"
        )
        assert connections.open_ahead(client, 4)
        assert client.list_profile_associations()["ProfileAssociations"] == []
        time.sleep(0.2)
        assert proxy.opened == [server.url.removeprefix("https://")]
        assert server.connections == 1


def test_a_client_of_botocores_own_session_is_not_asked() -> None:
    plain = boto3.session.Session(
        aws_access_key_id="a", aws_secret_access_key="b", region_name="us-east-1"
    ).client("ec2")
    assert not connections.open_ahead(plain, 4)


def test_a_stubbed_client_opens_nothing_ahead(aws_credentials: None) -> None:
    """moto answers before a request reaches the session: nothing goes out, so nothing opens
    (the suite refuses any connection beyond 127.0.0.1, conftest)."""
    from moto import mock_aws

    connections.configure(SHARED)
    with mock_aws():
        clients = ClientFactory(boto3.session.Session(region_name="eu-west-1"))
        ec2 = clients.client("ec2", "eu-west-1")
        assert connections.open_ahead(ec2, 19)
        assert ec2.describe_vpcs()["Vpcs"]
        time.sleep(0.1)
        session = ec2._endpoint.http_session
        assert session._ahead == 19  # still waiting for a request that goes out
        assert not session._manager.pools


class _AfterHandshake(BaseHTTPRequestHandler):
    """Completes the handshake, then does what ``action`` says: nothing, close, or write."""

    action = "nothing"

    def setup(self) -> None:
        handshake(self.request)
        if self.action == "close":
            self.request.close()
        elif self.action == "write":
            self.request.sendall(b"HTTP/1.1 408 Request Timeout\r\n\r\n")
        time.sleep(0.5)

    def handle(self) -> None:
        pass


@pytest.mark.parametrize(
    ("action", "highest", "fit"),
    [
        ("nothing", ssl.TLSVersion.TLSv1_3, True),
        ("nothing", ssl.TLSVersion.TLSv1_2, True),
        ("close", ssl.TLSVersion.TLSv1_3, False),
        ("write", ssl.TLSVersion.TLSv1_3, False),
    ],
)
def test_a_connection_just_opened_is_fit_to_wait_once_its_session_tickets_are_read(
    tls: LocalTls, action: str, highest: ssl.TLSVersion, fit: bool
) -> None:
    handler = type("Handler", (_AfterHandshake,), {"action": action})
    server = TlsServer(("127.0.0.1", 0), handler)
    server.tls = tls.server_context()
    with running(server) as url:
        context = ssl.create_default_context(cafile=str(tls.bundle))
        context.maximum_version = highest
        port = int(url.rsplit(":", 1)[1])
        with context.wrap_socket(
            socket.create_connection(("127.0.0.1", port)), server_hostname="127.0.0.1"
        ) as sock:
            assert sock.version() == highest.name.replace("_", ".").replace("TLSv1.", "TLSv1.")
            assert connections._settled(sock, 0.5) is fit
            if fit and highest is ssl.TLSVersion.TLSv1_3:
                # The tickets were read: nothing is left that urllib3 would take for a close.
                assert not wait_for_read(sock, timeout=0.1)


@pytest.mark.parametrize("in_flight", [32, 8])
def test_a_region_readies_its_first_wave_while_its_first_call_is_out(
    aws_credentials: None, monkeypatch: pytest.MonkeyPatch, in_flight: int
) -> None:
    """DescribeVpcs' answer releases the other EC2 listings and every VPC's attributes at once:
    EC2's session is asked, before DescribeVpcs goes out, for a connection per call the region
    may have in flight, less DescribeVpcs' own; and the Resolver's and Profiles' clients are
    made before DescribeVpcs answers."""
    from moto import mock_aws

    made: list[str] = []
    asks: list[tuple[str, int, int]] = []
    others_made = threading.Event()
    made_while_out: list[bool] = []

    def ask(client: Any, count: int, **_: Any) -> bool:
        asks.append((client.meta.service_model.service_name, count, len(made)))
        return True

    def first_call_out(model: Any, **_: Any) -> None:
        made.append(model.name)
        if model.name == "DescribeVpcs":  # held until the other clients exist, or 5 s
            made_while_out.append(others_made.wait(5))

    monkeypatch.setattr(region_module, "open_ahead", ask)
    with mock_aws():
        clients: dict[str, Any] = {}
        lock = threading.Lock()

        def client_for(service: str) -> Any:
            with lock:
                if service not in clients:
                    clients[service] = boto3.client(service, region_name="eu-west-1")
                    clients[service].meta.events.register("before-call", first_call_out)
                if {"route53resolver", "route53profiles"} <= set(clients):
                    others_made.set()
                return clients[service]

        region_module.collect_region(
            client_for, "123456789012", "eu-west-1", calls_in_flight=in_flight
        )
    assert asks[0] == ("ec2", in_flight - 1, 0)
    assert sorted(ask[:2] for ask in asks[1:]) == [("route53profiles", 1), ("route53resolver", 2)]
    assert made[0] == "DescribeVpcs"
    assert made_while_out == [True]
