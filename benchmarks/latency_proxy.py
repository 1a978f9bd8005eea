"""A delay proxy on 127.0.0.1 in front of a moto server, recording every call it forwards.

Each request waits ``latency`` seconds (the order of a real AWS round trip) and is then sent to
moto; the proxy is threaded, so any number of requests wait at once, as they would on the network.
Each new connection waits ``connect_latency`` seconds before it is served, as opening one costs
round trips on a network (TCP's handshake, then TLS's). For every request it records the service
and region (from the SigV4 credential scope), the operation (``Action=``, ``X-Amz-Target`` or the
Route 53 path), the account (the access key: ``testing`` is moto's default account, an assumed
role's key is learnt from the AssumeRole answer that handed it out), when the request arrived and
when its answer was sent, and how long moto itself took.

moto runs in a child process (``ThreadedMotoServer(ip_address="127.0.0.1", port=0)``), so its
request handling does not share an interpreter lock with the proxy's threads. Where moto falls
short the proxy answers itself, after the same delay, so that every call the scanner makes is
still one delayed round trip:

* Route 53 Profiles (moto has none): no profile associated;
* DescribeVpcEndpointConnections and DescribeSecurityGroupVpcAssociations (moto raises
  NotImplementedError): no connection, no association;
* DescribeVpcEndpointServices: moto builds its 256 AWS services on every call (0.3 s of CPU);
  its first answer for a region and request body is replayed. No account of the estate offers a
  service of its own, so the answer is the same in every account.

With ``replay`` on, every answer moto gave is kept, by account, region, service, method, path
and body, and given again for the same request without asking moto. moto handles one request
at a time (its interpreter lock) and takes 5-20 ms each, so with dozens of calls in flight its
queue, not the injected latency, would set the pace: a scan then measures moto. The estate does
not change between scans, and the scanner's requests are deterministic (no timestamps or
random ids in their bodies), so a replayed answer is the answer moto would give; the scanner
still makes, signs, sends and parses every call.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import multiprocessing
import re
import ssl
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from multiprocessing.connection import Connection

from tests.fault_proxy import operation_of
from tests.local_tls import TlsServer, handshake, running

CREDENTIAL = re.compile(r"Credential=([^/]+)/\d+/([^/]+)/([^/]+)/aws4_request")
ACCESS_KEY_ID = re.compile(r"<AccessKeyId>([^<]+)</AccessKeyId>")
ROLE_ACCOUNT = re.compile(r"arn:aws[a-z-]*:iam::([0-9]{12}):role/")
DEFAULT_ACCOUNT = "123456789012"
"""moto's account for the access key ``testing``."""
EC2_NS = "http://ec2.amazonaws.com/doc/2016-11-15/"
REPLAYED = frozenset({"DescribeVpcEndpointServices"})
"""Replayed across accounts, even without ``replay``."""
Reply = tuple[int, bytes, str]
"""HTTP status, body, content type."""


@dataclass(frozen=True)
class Call:
    """One request as the proxy saw it (times are ``time.monotonic()``)."""

    service: str
    operation: str
    region: str
    account: str
    start: float
    """The request has arrived (its body read)."""
    end: float
    """Its answer has been written."""
    upstream: float
    """Seconds moto took (0 for an answer the proxy gave itself)."""
    status: int
    source: str
    """Who answered: moto, replay (an earlier answer of moto's) or proxy (a gap of moto's)."""


@dataclass
class DelayProxy:
    upstream: str
    latency: float
    calls: list[Call] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=lambda: {"testing": DEFAULT_ACCOUNT})
    """Access key id -> account id."""
    replay: bool = False
    """Answer a request seen before with moto's earlier answer (see the module docstring)."""
    replies: dict[tuple[str, ...], Reply] = field(default_factory=dict)
    url: str = ""
    connect_latency: float = 0.0
    """Seconds each new connection waits before its handshake (its first request before being
    read, over plain HTTP): what opening a connection costs on a network, where TCP's handshake
    takes a round trip and TLS 1.3's another (TLS 1.2's two)."""
    connections: int = 0
    """Connections accepted (TLS handshakes, when it speaks TLS) since the last ``take``."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self) -> list[Call]:
        """The calls recorded so far, sorted by start; the record and the count of connections
        are emptied."""
        with self.lock:
            taken, self.calls = self.calls, []
            self.connections = 0
        return sorted(taken, key=lambda call: call.start)

    def connected(self) -> None:
        with self.lock:
            self.connections += 1

    def record(self, call: Call) -> None:
        with self.lock:
            self.calls.append(call)

    def learn(self, key: str, account: str) -> None:
        with self.lock:
            self.keys[key] = account

    def account_of(self, key: str) -> str:
        with self.lock:
            return self.keys.get(key, "?")


def _handler(proxy: DelayProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # An answer is written as headers, then body: two segments. Under Nagle's algorithm the
        # body waits for the client's ACK of the headers, which the client delays (up to 40 ms on
        # Linux): every call took ~44 ms at zero latency, on top of the latency injected.
        disable_nagle_algorithm = True

        def setup(self) -> None:
            if proxy.connect_latency:
                time.sleep(proxy.connect_latency)
            handshake(self.request)
            proxy.connected()
            super().setup()

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            start = time.monotonic()
            headers = {key.lower(): value for key, value in self.headers.items()}
            credential = CREDENTIAL.search(headers.get("authorization", ""))
            key, region, service = credential.groups() if credential else ("", "", "")
            operation = operation_of(self.command, self.path, headers, body)
            account = proxy.account_of(key)
            time.sleep(proxy.latency)
            upstream, source = 0.0, "proxy"
            reply = _own_answer(service, operation)
            # Every account gets the same answer to these; any other answer is its account's.
            asker = "" if operation in REPLAYED else account
            key_of_request = (
                asker,
                region,
                service,
                operation,
                self.command,
                self.path,
                body.decode(),
            )
            if reply is None and (proxy.replay or operation in REPLAYED):
                reply, source = proxy.replies.get(key_of_request), "replay"
            if reply is None:
                began = time.monotonic()
                reply, source = self._forward(body), "moto"
                upstream = time.monotonic() - began
                if reply[0] == 200:
                    proxy.replies[key_of_request] = reply
            if operation == "AssumeRole":
                account = _learn_role(proxy, body, reply)
            try:
                self._send(*reply)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
            end = time.monotonic()
            proxy.record(
                Call(service, operation, region, account, start, end, upstream, reply[0], source)
            )

        def _forward(self, body: bytes) -> Reply:
            target = urllib.parse.urlsplit(proxy.upstream)
            connection = http.client.HTTPConnection(
                target.hostname or "127.0.0.1", target.port, timeout=120
            )
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                headers["Host"] = target.netloc
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                return (
                    response.status,
                    response.read(),
                    response.getheader("Content-Type") or "text/xml",
                )
            finally:
                connection.close()

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("x-amzn-RequestId", "delay-proxy")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, *_: object) -> None:
            pass

    return Handler


def _own_answer(service: str, operation: str) -> Reply | None:
    if service == "route53profiles":
        return 200, json.dumps({"ProfileAssociations": []}).encode(), "application/json"
    listed = MOTO_LACKS.get(operation)
    if listed is not None:
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<{operation}Response xmlns="{EC2_NS}">'
            f"<requestId>delay-proxy</requestId><{listed}/></{operation}Response>"
        )
        return 200, body.encode(), "text/xml"
    return None


MOTO_LACKS = {
    "DescribeVpcEndpointConnections": "vpcEndpointConnectionSet",
    "DescribeSecurityGroupVpcAssociations": "securityGroupVpcAssociationSet",
}
"""EC2 listings moto does not implement, each answered empty: the element of its item set."""


def _learn_role(proxy: DelayProxy, body: bytes, reply: Reply) -> str:
    """The account whose role was assumed; its new access key is remembered as that account's."""
    arns = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("RoleArn") or [""]
    role = ROLE_ACCOUNT.match(arns[0])
    account = role.group(1) if role else "?"
    key = ACCESS_KEY_ID.search(reply[1].decode("utf-8", "replace"))
    if key and role:
        proxy.learn(key.group(1), account)
    return account


@contextlib.contextmanager
def delay_proxy(
    upstream: str,
    latency: float,
    tls: ssl.SSLContext | None = None,
    *,
    connect_latency: float = 0.0,
) -> Iterator[DelayProxy]:
    """The proxy, speaking HTTPS with ``tls`` (a server context) when given: what a client
    pays per connection on real AWS, its CA bundle and the handshake, then counts; each new
    connection held ``connect_latency`` seconds before it is served."""
    proxy = DelayProxy(upstream=upstream, latency=latency, connect_latency=connect_latency)
    server = TlsServer(("127.0.0.1", 0), _handler(proxy))
    server.tls = tls
    with running(server) as url:
        proxy.url = url
        yield proxy


def _serve_moto(connection: Connection) -> None:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    connection.send(server.get_host_and_port()[1])
    connection.recv()  # anything: stop
    server.stop()


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """A moto server in a child process; yields its endpoint URL."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=_serve_moto, args=(theirs,), daemon=True)
    process.start()
    try:
        if not ours.poll(60):
            raise RuntimeError("the moto server did not start")
        yield f"http://127.0.0.1:{ours.recv()}"
    finally:
        with contextlib.suppress(OSError):
            ours.send("stop")
        process.join(timeout=10)
        if process.is_alive():
            process.terminate()
            process.join()
