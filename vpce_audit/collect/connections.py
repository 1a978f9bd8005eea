"""HTTPS connections shared by every client of a process, verified with certificates loaded once.

botocore gives each client its own connection pool, and urllib3 loads the client's CA bundle
into its TLS context again for every connection it opens (``load_verify_locations``: about 14 ms
of CPU for the ~140 authorities of certifi's bundle, where the handshake itself costs about 2 ms).
An organisation scan makes a client per account, region and service, and a region's calls go
out together, so it opened a new connection for two of every five calls: 1,734 connections for
4,176 calls on 16 accounts x 4 regions, which cost the scanner 38 s of CPU beyond its 9.4 s
(``python -m benchmarks.bench_org_latency --tls``, docs/performance.md).

Nothing on the wire ties a connection to an account: each request is signed on its own (SigV4),
so the accounts of an organisation can take turns on one connection to
``ec2.<region>.amazonaws.com`` as the calls of one account do. Here every client whose endpoint
and HTTP settings (CA bundle, proxies, timeouts, pool size, socket options) are the same gets one
session, whose TLS context holds the CA bundle, loaded once per process and bundle. A
certificate is verified exactly as before: the context is the one botocore builds
(``create_urllib3_context``), certificates required, the host name matched by urllib3; only the
bundle is not read again. A client with a client certificate, one whose calls go through an
HTTPS proxy (urllib3 verifies the proxy against the bundle it is given per connection), or a
session botocore did not make the way this module knows, is left as botocore made it.

A shared session outlives the clients that use it: ``close`` of a client leaves it open (another
account's calls may be on it), and ``close_shared`` closes every one, at the end of a
collection. Between calls it keeps idle as many connections as were in use on its endpoint at
once, up to its pool size, so a process holds more descriptors than with a pool per region that
closes when the region is done. A pool smaller than the calls that may be in flight on one
endpoint would close every connection past it when the call is done (at 32, an organisation
scanned in one region, 256 calls in flight, reconnected for most of them), so ``cli`` sizes the
pools of the busy endpoints (EC2's, Route 53's) to the calls in flight and the others' to a few
per worker, within what the open-files limit leaves beside the calls (``pools_within``,
``retained_at_most``: a pool never keeps more idle connections than its size, so that bound
holds by construction), and where that leaves too little, turns sharing off
(``configure(None)``): each client then has a session of its own again, closed with it, whose
connections still find the CA bundle loaded.

A region's first call goes alone, and its answer releases its other EC2 listings and its VPCs'
attributes at once, each needing a connection: opened then, each would cost that call a TCP and
a TLS handshake (two round trips, and a DNS lookup) on top of its own round trip.
``open_ahead`` asks a session to open them while the first call is out, beside it, once that
call actually goes through the session (a stubbed or simulated client opens nothing).
"""

from __future__ import annotations

import inspect
import logging
import os
import ssl
import threading
import time
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

REGIONS_AT_MOST = 40
"""Regions counted when a scan takes each account's enabled regions, unnamed: AWS's commercial
partition has 30-odd."""
BUSY_SERVICES = frozenset({"ec2", "route53"})
"""Services with many calls in flight on one endpoint: a region's EC2 calls (every listing and
follow-up of its account-regions), an account's Route 53 zone listings."""
OTHER_REGIONAL_ENDPOINTS = 2
"""A region's endpoints besides EC2's: Route 53 Resolver and Route 53 Profiles
(``region.REGION_SERVICES``)."""
OTHER_GLOBAL_ENDPOINTS = 3
"""The global endpoints besides Route 53's: STS, Organizations and IAM."""
OTHER_CALLS_PER_WORKER = 4
"""Pool size of the other endpoints, per worker: what an account-region (or account) has in
flight on them at once (a Resolver listing and its follow-ups, an organisation's listing)."""
OTHER_POOL_AT_LEAST = 16
"""...and never fewer than the AssumeRole calls in flight (``accounts.ASSUME_ROLE_IN_FLIGHT``)."""
SMALLEST_SHARED_POOL = 8


@dataclass(frozen=True)
class Pools:
    """How many connections the shared pool of an endpoint keeps: ``busy`` for
    BUSY_SERVICES, ``other`` for every other service."""

    busy: int
    other: int


_LOCK = threading.Lock()
_CONTEXT_LOCK = threading.Lock()
_SESSIONS: dict[tuple[Any, ...], Any] = {}
_CONTEXTS: dict[str, Any] = {}
_POOLS: list[Pools | None] = [None]
"""Until ``configure`` says otherwise (the CLI does, within the open-files limit), nothing is
shared: a library caller that collects through ``runner`` gets a session per client, closed with
its region as before, with the CA bundle loaded once."""


def other_pool(workers: int) -> int:
    return max(OTHER_POOL_AT_LEAST, OTHER_CALLS_PER_WORKER * workers)


def retained_at_most(regions: int, pools: Pools) -> int:
    """The most idle connections shared sessions with ``pools`` can keep open at once in a
    collection of ``regions`` regions: each region's EC2 endpoint and the Route 53 one up to
    ``busy``, every other endpoint up to ``other``."""
    return (regions + 1) * pools.busy + (
        regions * OTHER_REGIONAL_ENDPOINTS + OTHER_GLOBAL_ENDPOINTS
    ) * pools.other


def pools_within(spare: int, regions: int, calls_in_flight: int, workers: int) -> Pools | None:
    """The largest useful pools whose idle connections fit in ``spare`` descriptors: busy ones
    no larger than ``calls_in_flight``, the others ``other_pool(workers)``, or fewer (down to
    SMALLEST_SHARED_POOL) before the busy ones go below that; None (do not share) when even
    that does not fit."""
    others = regions * OTHER_REGIONAL_ENDPOINTS + OTHER_GLOBAL_ENDPOINTS
    for other in dict.fromkeys((other_pool(workers), SMALLEST_SHARED_POOL)):
        busy = min(calls_in_flight, (spare - others * other) // (regions + 1))
        if busy >= SMALLEST_SHARED_POOL:
            return Pools(busy, other)
    return None


def configure(pools: Pools | None) -> None:
    """Share sessions between clients, with ``pools``, or (None) give each client a session of
    its own."""
    _POOLS[0] = pools


def share_connections(client: Any) -> None:
    """Give ``client`` the process's session for its endpoint and settings (made from the
    client's own settings when it is the first), or, with sharing off, a session of its own
    like the one botocore made but with the CA bundle loaded once. Leaves the client alone when
    botocore's internals are not where this expects them: a botocore that changes costs speed,
    never correctness."""
    endpoint: Any = getattr(client, "_endpoint", None)
    host = getattr(endpoint, "host", None)
    settings = _settings(getattr(endpoint, "http_session", None), host)
    if settings is None or not isinstance(host, str):
        return
    pools = _POOLS[0]
    if pools is None:
        own = _session(host, settings, shared=False)
        if own is not None:
            endpoint.http_session = own
        return
    service = getattr(
        getattr(getattr(client, "meta", None), "service_model", None), "service_name", ""
    )
    pool = pools.busy if service in BUSY_SERVICES else pools.other
    key = (host, pool, *(_hashable(value) for value in settings.values()))
    try:
        hash(key)
    except TypeError:  # a setting of a kind botocore did not have when this was written
        return
    with _LOCK:
        if key not in _SESSIONS:
            sized = {**settings, "max_pool_connections": pool}
            _SESSIONS[key] = _session(host, sized, shared=True)
        shared = _SESSIONS[key]
    if shared is not None:
        endpoint.http_session = shared


def open_ahead(client: Any, count: int, *, proven_by: Any = None) -> bool:
    """Have ``count`` connections to ``client``'s endpoint opened (idle ones in its pool count),
    each on a thread of its own, once requests are known to go out: when ``client``'s next
    request goes out through its session, or at once if ``proven_by`` (another client) has
    already sent one through its own.

    A region's first call goes alone and its answer releases the next ones at once, each needing
    a connection of its own: opened while that first call is out, their handshakes (TCP's round
    trip, TLS's, a DNS lookup) are off the path of every later call. Nothing is sent on them: no
    API call is made. Opened only once a request has gone out, so clients whose calls a stub or
    simulator answers (moto, botocore's Stubber) connect to nothing. Only a shared session
    opens ahead, once in its life (``configure``: the CLI sizes the pools): with sessions of
    their own, every account-region would open its wave's connections, also where its first
    call is refused (a region a policy denies). Whether it was asked (False: the client's
    session is not a shared one of this module's)."""
    session: Any = _session_of(client)
    ours: Any = _session_class()
    if count <= 0 or not isinstance(session, ours) or not session._shared:
        return False
    proof: Any = _session_of(proven_by)
    if isinstance(proof, ours) and proof.carried:
        session.open_now(_endpoint_url(client), count)
    else:
        session.ask_ahead(count)
    return True


def _session_of(client: Any) -> Any:
    return getattr(getattr(client, "_endpoint", None), "http_session", None)


def _endpoint_url(client: Any) -> str:
    return str(client._endpoint.host)


def _open(pool: Any, connection: Any) -> None:
    """Connect ``connection`` and give it back to ``pool``; a failure is left to the call that
    meets it (it will connect again, and fail or succeed on its own)."""
    try:
        from urllib3.util.timeout import Timeout

        # As urllib3 does before it connects: an object that served a call before (and was
        # found dropped) still has the read timeout. (urllib3 1.26 has no resolving to do.)
        resolve = getattr(Timeout, "resolve_default_timeout", lambda timeout: timeout)
        connection.timeout = resolve(pool.timeout.connect_timeout)
        started = time.monotonic()
        connection.connect()
        if not _settled(connection.sock, time.monotonic() - started):
            connection.close()
    except Exception:
        log.debug("opening a connection ahead failed", exc_info=True)
        connection.close()
    finally:
        pool._put_conn(connection)


OPENING_THREAD = "vpce-audit-connect"
"""The name of the threads that open connections ahead."""
TICKET_READS = 8
"""Reads at most, for the records a TLS 1.3 server sends after the handshake (OpenSSL: two
session tickets)."""


def _settled(sock: Any, handshake: float) -> bool:
    """Whether a connection just opened is fit to wait in its pool, once the session tickets a
    TLS 1.3 server sends after the handshake are read.

    urllib3 takes an idle connection with something to read for one the server closed, and opens
    another in its place; a connection whose first request went out at once reads the tickets
    with the answer, but one opened ahead still has them waiting. So they are read here: the
    first waited for at most half as long as the handshake took (TCP's round trip and TLS's:
    the tickets follow by half a round trip; a server that sends none holds the connection back
    no longer than that), the next ones for a moment (they come in one flight), each read
    without blocking. TLS records that carry no data are consumed and raise SSLWantReadError;
    data, or the end of the connection, where nothing was asked, make it unfit."""
    if getattr(sock, "version", lambda: None)() != "TLSv1.3":
        return True
    from urllib3.util.wait import wait_for_read

    wait = min(max(handshake / 2, 0.02), 1.0)
    timeout = sock.gettimeout()
    try:
        for _ in range(TICKET_READS):
            if not wait_for_read(sock, timeout=wait):
                return True
            sock.settimeout(0.0)
            try:
                sock.recv(1)
            except ssl.SSLWantReadError:
                wait = min(0.05, 0.01 + handshake / 10)
                continue
            return False  # data, or b"": the server closed it
    finally:
        sock.settimeout(timeout)
    return False


def close_shared() -> None:
    """Close every shared session's idle connections and forget the sessions (a client still
    holding one keeps working: its pools open new connections)."""
    with _LOCK:
        sessions = [session for session in _SESSIONS.values() if session is not None]
        _SESSIONS.clear()
    for session in sessions:
        # Forgotten here, it is its clients' own now: their close closes it.
        session._shared = False
        try:
            session.close_connections()
        except Exception:  # only idle connections are lost
            log.debug("closing a shared session failed", exc_info=True)


def shared_sessions() -> int:
    """How many shared sessions are open (tests, diagnostics)."""
    with _LOCK:
        return sum(session is not None for session in _SESSIONS.values())


def _settings(session: Any, host: Any) -> dict[str, Any] | None:
    """The arguments that make a session like ``session``, or None (leave it) when it is not
    botocore's plain ``URLLib3Session`` taking the arguments this module knows, when it presents
    a client certificate (urllib3 loads that into the TLS context: never shared), or when its
    calls to ``host`` go through an HTTPS proxy (urllib3 verifies the proxy against the bundle
    path it is given for each connection, which this module's sessions do not give)."""
    from botocore.httpsession import URLLib3Session

    if type(session) is not URLLib3Session or not _known_arguments():
        return None
    try:
        if session._cert_file or session._key_file:
            return None
        proxy = session._proxy_config.proxy_url_for(host) if isinstance(host, str) else None
        if proxy and urlsplit(proxy).scheme.lower() != "http":
            return None
        timeout = session._timeout
        return {
            "verify": session._verify,
            "proxies": session._proxy_config._proxies,
            "proxies_config": session._proxy_config._proxies_settings,
            "timeout": (
                timeout
                if isinstance(timeout, (int, float))
                else (timeout.connect_timeout, timeout.read_timeout)
            ),
            "max_pool_connections": int(session._max_pool_connections),
            "socket_options": session._socket_options,
        }
    except (AttributeError, TypeError, ValueError):
        return None


_ARGUMENTS = frozenset(
    {
        "self",
        "verify",
        "proxies",
        "timeout",
        "max_pool_connections",
        "socket_options",
        "client_cert",
        "proxies_config",
    }
)


@cache
def _known_arguments() -> bool:
    """Whether botocore's session takes exactly the arguments ``_settings`` copies: one it
    added since would be lost in the copy, so then nothing is shared."""
    from botocore.httpsession import URLLib3Session

    return set(inspect.signature(URLLib3Session.__init__).parameters) == _ARGUMENTS


def _hashable(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((str(k), _hashable(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_hashable(item) for item in value)
    return value


def _session(host: str, settings: dict[str, Any], *, shared: bool) -> Any:
    """A session made with ``settings``, or None (leave botocore's) where one cannot be made."""
    try:
        verify = settings["verify"] if host.lower().startswith("https") else False
        return _session_class()(_verified_context(verify), shared, **settings)
    except Exception:
        log.debug("no session of ours for %s", host, exc_info=True)
        return None


def _verified_context(verify: Any) -> Any:
    """The TLS context holding the CA bundle ``verify`` names (True: botocore's default), loaded
    once per process; None where certificates are not verified. Raises OSError when the bundle
    cannot be read (the caller then shares nothing, and each call fails as botocore's would)."""
    if not verify:
        return None
    from botocore.httpsession import create_urllib3_context, get_cert_path

    bundle = os.path.expanduser(str(get_cert_path(verify)))  # as urllib3 reads it
    with _CONTEXT_LOCK:  # the bundle is read once, however many threads ask at once
        context = _CONTEXTS.get(bundle)
        if context is None:
            context = create_urllib3_context()
            context.load_verify_locations(bundle)
            _CONTEXTS[bundle] = context
    return context


@cache
def _session_class() -> type:
    from botocore.httpsession import URLLib3Session

    class SharedSession(URLLib3Session):  # type: ignore[misc]
        """botocore's session, whose TLS context already holds the CA bundle, and which a
        client's ``close`` leaves open when it is shared."""

        def __init__(self, verified: Any, shared: bool, **settings: Any) -> None:
            self._verified = verified  # read by __init__, through _get_pool_manager_kwargs
            self._shared = shared
            self._ahead = 0
            """Connections to open when the next request goes out (``open_ahead``)."""
            self._ahead_lock = threading.Lock()
            self._opened_ahead = False
            self.carried = False
            """Whether a request has gone out through it (not answered by a stub)."""
            super().__init__(**settings)

        def _get_pool_manager_kwargs(self, **extra: Any) -> dict[str, Any]:
            kwargs: dict[str, Any] = super()._get_pool_manager_kwargs(**extra)
            if self._verified is not None:
                kwargs["ssl_context"] = self._verified
            return kwargs

        def _setup_ssl_cert(self, conn: Any, url: str, verify: Any) -> None:
            if self._verified is not None and url.lower().startswith("https") and verify:
                # Set at once, never the path first: given a path, urllib3 loads it into the
                # context for every new connection; the context holds the bundle already.
                conn.cert_reqs = "CERT_REQUIRED"
                conn.ca_certs = None
            else:
                super()._setup_ssl_cert(conn, url, verify)

        def ask_ahead(self, count: int) -> None:
            with self._ahead_lock:
                if not self._opened_ahead:
                    self._ahead = max(self._ahead, count)

        def open_now(self, url: str, count: int) -> None:
            """Open ahead, once in the session's life: after that, its pool holds what the
            calls on it have used (an organisation's accounts take turns on it), and more
            opened ahead for each account-region would only add connections."""
            with self._ahead_lock:
                if self._opened_ahead or count <= 0:
                    return
                self._opened_ahead = True
            try:
                self._open_ahead(url, count)
            except Exception:  # urllib3's internals moved: speed lost, never a call
                log.debug("no connections opened ahead", exc_info=True)

        def send(self, request: Any) -> Any:
            self.carried = True
            with self._ahead_lock:
                count, self._ahead = self._ahead, 0
            if count:
                self.open_now(request.url, count)
            return super().send(request)

        def _open_ahead(self, url: str, count: int) -> None:
            """Start opening the connections ``url``'s pool lacks to hold ``count`` idle, within
            its size less one (the slot of the request that asked: a connection past the size
            is closed when it is given back).

            The pool is the one ``send`` uses, set up as ``send`` sets it up. The connections
            are taken from it at once (idle ones, or new unconnected ones where it has none), so
            that an idle connection counts once; the connected ones go straight back, the others
            are connected on threads of their own and go back when done. Not through a proxy:
            urllib3 sets up the tunnel of a new connection as it sends."""
            if self._proxy_config.proxy_url_for(url):
                return
            pool = self._get_connection_manager(url, None).connection_from_url(url)
            self._setup_ssl_cert(pool, url, self._verify)
            taken: list[Any] = []
            try:
                for _ in range(min(count, pool.pool.maxsize - 1)):
                    taken.append(pool._get_conn())
            except Exception:
                for conn in taken:
                    pool._put_conn(conn)
                raise
            for index, conn in enumerate(taken):
                if getattr(conn, "sock", None) is not None:
                    pool._put_conn(conn)
                    continue
                try:
                    threading.Thread(
                        target=_open, args=(pool, conn), name=OPENING_THREAD, daemon=True
                    ).start()
                except RuntimeError:  # no thread to be had: the rest go back unopened
                    for left in taken[index:]:
                        pool._put_conn(left)
                    raise

        def close(self) -> None:
            """A client is done with it; shared, other clients may not be (``close_shared``)."""
            if not self._shared:
                super().close()

        def close_connections(self) -> None:
            super().close()

    return SharedSession
