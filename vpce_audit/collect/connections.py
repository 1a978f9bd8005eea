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
bundle is not read again. A client with a client certificate, or a session botocore did not
make the usual way, is left as botocore made it.

A shared session outlives the clients that use it: ``close`` of a client leaves it open (another
account's calls may be on it), and ``close_shared`` closes every one, at the end of a
collection. Between calls it keeps idle as many connections as were in use on its endpoint at
once, up to its pool size, so a process holds more descriptors than with a pool per region that
closes when the region is done. A pool smaller than the calls that may be in flight on one
endpoint would close every connection past it when the call is done (at 32, an organisation
scanned in one region, 256 calls in flight, reconnected for most of them), so ``cli`` sizes the
pools to the calls in flight, within what the open-files limit leaves beside them
(``pool_size_within``, ``retained_at_most``), and where that leaves too little, turns sharing
off (``configure(None)``): each client then has a session of its own again, closed with it,
whose connections still find the CA bundle loaded.
"""

from __future__ import annotations

import logging
import threading
from functools import cache
from typing import Any

log = logging.getLogger(__name__)

REGIONS_AT_MOST = 40
"""Regions counted when a scan takes each account's enabled regions, unnamed: AWS's commercial
partition has 30-odd."""
OTHER_CALLS_PER_WORKER = 4
"""Besides EC2's, the calls one account-region (or account) may have in flight on the other
endpoints of its region (Route 53 Resolver and Profiles) or the global ones (STS,
Organizations, IAM)."""
SMALLEST_SHARED_POOL = 8
DEFAULT_POOL = 32
"""The pool of a shared session when ``configure`` was not called (a library caller): the pool
size of ``runner.ClientFactory``'s clients."""

_LOCK = threading.Lock()
_CONTEXT_LOCK = threading.Lock()
_SESSIONS: dict[tuple[Any, ...], Any] = {}
_CONTEXTS: dict[str, Any] = {}
_POOL: list[int | None] = [DEFAULT_POOL]


def retained_at_most(regions: int, pool: int, workers: int) -> int:
    """Idle connections shared sessions of pool size ``pool`` may keep open at once in a
    collection of ``regions`` regions with ``workers`` workers: each region's EC2 endpoint up to
    the pool, its other endpoints what its account-regions have in flight on them, and as much
    again for the global endpoints."""
    return (regions + 1) * (pool + OTHER_CALLS_PER_WORKER * workers)


def pool_size_within(spare: int, regions: int, calls_in_flight: int, workers: int) -> int | None:
    """The largest useful pool (no larger than ``calls_in_flight``) whose idle connections fit in
    ``spare`` descriptors, or None (do not share) when that is below SMALLEST_SHARED_POOL."""
    fits = spare // (regions + 1) - OTHER_CALLS_PER_WORKER * workers
    pool = min(calls_in_flight, fits)
    return pool if pool >= SMALLEST_SHARED_POOL else None


def configure(pool: int | None) -> None:
    """Share sessions between clients, each endpoint's pool keeping up to ``pool`` connections,
    or (None) give each client a session of its own."""
    _POOL[0] = pool


def share_connections(client: Any) -> None:
    """Give ``client`` the process's session for its endpoint and settings (made from the
    client's own settings when it is the first), or, with sharing off, a session of its own
    like the one botocore made but with the CA bundle loaded once. Leaves the client alone when
    botocore's internals are not where this expects them: a botocore that changes costs speed,
    never correctness."""
    endpoint: Any = getattr(client, "_endpoint", None)
    host = getattr(endpoint, "host", None)
    settings = _settings(getattr(endpoint, "http_session", None))
    if settings is None or not isinstance(host, str):
        return
    pool = _POOL[0]
    if pool is None:
        own = _session(host, settings, shared=False)
        if own is not None:
            endpoint.http_session = own
        return
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


def close_shared() -> None:
    """Close every shared session's idle connections and forget the sessions (a client still
    holding one keeps working: its pools open new connections)."""
    with _LOCK:
        sessions = [session for session in _SESSIONS.values() if session is not None]
        _SESSIONS.clear()
    for session in sessions:
        try:
            session.close_connections()
        except Exception:  # only idle connections are lost
            log.debug("closing a shared session failed", exc_info=True)


def shared_sessions() -> int:
    """How many shared sessions are open (tests, diagnostics)."""
    with _LOCK:
        return sum(session is not None for session in _SESSIONS.values())


def _settings(session: Any) -> dict[str, Any] | None:
    """The arguments that make a session like ``session``, or None when it is not botocore's
    plain ``URLLib3Session`` with the attributes it has had since botocore 1.11, or when it
    presents a client certificate (urllib3 loads that into the TLS context: never shared)."""
    from botocore.httpsession import URLLib3Session

    if type(session) is not URLLib3Session:
        return None
    try:
        if session._cert_file or session._key_file:
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

    bundle = str(get_cert_path(verify))
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
            super().__init__(**settings)

        def _get_pool_manager_kwargs(self, **extra: Any) -> dict[str, Any]:
            kwargs: dict[str, Any] = super()._get_pool_manager_kwargs(**extra)
            if self._verified is not None:
                kwargs["ssl_context"] = self._verified
            return kwargs

        def _setup_ssl_cert(self, conn: Any, url: str, verify: Any) -> None:
            super()._setup_ssl_cert(conn, url, verify)
            if self._verified is not None and conn.cert_reqs == "CERT_REQUIRED":
                # Given a path, urllib3 loads it into the context for every new connection.
                conn.ca_certs = None

        def close(self) -> None:
            """A client is done with it; shared, other clients may not be (``close_shared``)."""
            if not self._shared:
                super().close()

        def close_connections(self) -> None:
            super().close()

    return SharedSession
