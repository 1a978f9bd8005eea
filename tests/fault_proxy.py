"""A fault-injecting AWS endpoint on 127.0.0.1, in front of a moto server.

Requests are forwarded to moto unless a fault is set for their operation, in which case the
proxy answers as a broken network or a broken service would: an error code, a hang, an HTML page
with status 200, an empty or truncated body, an answer without its result element, or a
pagination token that changes forever. The service and operation are read the way AWS reads
them: the service from the SigV4 credential scope, the operation from ``Action=`` (query
protocols), ``X-Amz-Target`` (JSON protocols) or the path (Route 53). Route 53 Profiles, which
moto lacks, is answered here with no profile associated.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import threading
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d+/([^/]+)/([^/]+)/aws4_request")
EC2_NS = "http://ec2.amazonaws.com/doc/2016-11-15/"
CAPTIVE_PORTAL = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Sign in to the Wi-Fi</title>'
    "</head><body><p>Accept the terms to continue.</p></body></html>"
)


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str = "text/xml"
    declared_length: int | None = None
    """A Content-Length larger than the body: the connection closes early."""


Fault = Callable[[int], "Reply | None"]
"""Given how many times the operation was called (1 = first), a reply, or None to forward."""


def ec2_answer(operation: str, inner: str = "") -> Reply:
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<{operation}Response xmlns="{EC2_NS}">'
        f"<requestId>fault-proxy</requestId>{inner}</{operation}Response>"
    )
    return Reply(200, body.encode())


def ec2_error(code: str, status: int = 403, message: str = "refused by the fault proxy") -> Reply:
    body = (
        f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error>"
        "</Errors><RequestID>fault-proxy</RequestID></Response>"
    )
    return Reply(status, body.encode())


def always(reply: Reply) -> Fault:
    return lambda _count: reply


def first(times: int, reply: Reply) -> Fault:
    """The reply for the first ``times`` calls, then the real answer."""
    return lambda count: reply if count <= times else None


HANG = Reply(0, b"")
"""Never answer (until the proxy stops)."""
TRICKLE = Reply(0, b"<")
"""Answer one byte every 0.05 s, never finishing (until the proxy stops). Far below any read
timeout a test sets (1 s): a drip late by a second on a loaded machine would end the call by
its read timeout, not by the call's budget the test means to reach."""


@dataclass
class FaultProxy:
    upstream: str
    faults: dict[str, Fault] = field(default_factory=dict)
    """Operation name (DescribeVpcs, GetCallerIdentity, ...) -> fault; "DescribeVpcs@us-east-1":
    in that region only (the region of the request's SigV4 credential scope)."""
    calls: Counter[str] = field(default_factory=Counter)
    stopping: threading.Event = field(default_factory=threading.Event)
    url: str = ""

    def record(self, operation: str) -> int:
        with _LOCK:
            self.calls[operation] += 1
            return self.calls[operation]


_LOCK = threading.Lock()


ROUTE53_PATHS = (
    (re.compile(r"^/2013-04-01/hostedzone$"), "GET", "ListHostedZones"),
    (re.compile(r"^/2013-04-01/hostedzonesbyvpc$"), "GET", "ListHostedZonesByVPC"),
    (re.compile(r"^/2013-04-01/hostedzone/[^/]+/rrset$"), "GET", "ListResourceRecordSets"),
    (re.compile(r"^/2013-04-01/hostedzone/[^/]+$"), "GET", "GetHostedZone"),
    (re.compile(r"^/profileassociations$"), "GET", "ListProfileAssociations"),
)
"""Operations of the REST services, by method and path."""


def operation_of(method: str, path: str, headers: dict[str, str], body: bytes) -> str:
    """The operation, read as AWS reads it."""
    target = headers.get("x-amz-target")
    if target:
        return target.rsplit(".", 1)[-1]
    if body:
        action = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("Action")
        if action:
            return action[0]
    bare = urllib.parse.urlsplit(path).path
    for pattern, verb, operation in ROUTE53_PATHS:
        if method == verb and pattern.match(bare):
            return operation
    return f"{method} {path}"


def _handler(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out as two writes; under Nagle's algorithm the body would wait
        # for the client's delayed ACK (40 ms on Linux) on every kept-alive call.
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {key.lower(): value for key, value in self.headers.items()}
            scope = CREDENTIAL_SCOPE.search(headers.get("authorization", ""))
            region, service = scope.groups() if scope else ("", "")
            operation = operation_of(self.command, self.path, headers, body)
            count = proxy.record(operation)
            fault = proxy.faults.get(f"{operation}@{region}") or proxy.faults.get(operation)
            reply = fault(count) if fault else None
            if reply is HANG:
                proxy.stopping.wait()
                self.close_connection = True
                return
            if reply is TRICKLE:
                self._trickle()
                return
            if reply is None and service == "route53profiles":
                reply = Reply(
                    200, json.dumps({"ProfileAssociations": []}).encode(), "application/json"
                )
            if reply is None:
                reply = self._forward(body)
            try:
                self._send(reply)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (its read timeout): fine

        def _trickle(self) -> None:
            self.close_connection = True
            try:
                self.send_response(200)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", "1000000")
                self.end_headers()
                while not proxy.stopping.wait(0.05):
                    self.wfile.write(b" ")
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up, as it should

        def _forward(self, body: bytes) -> Reply:
            target = urllib.parse.urlsplit(proxy.upstream)
            connection = http.client.HTTPConnection(target.hostname or "", target.port, timeout=60)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                headers["Host"] = target.netloc
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                return Reply(
                    response.status,
                    response.read(),
                    response.getheader("Content-Type") or "text/xml",
                )
            finally:
                connection.close()

        def _send(self, reply: Reply) -> None:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("x-amzn-RequestId", "fault-proxy")
            length = reply.declared_length if reply.declared_length else len(reply.body)
            self.send_header("Content-Length", str(length))
            if reply.declared_length:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(reply.body)
            self.wfile.flush()

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, *_: object) -> None:
            pass

    return Handler


@contextlib.contextmanager
def fault_proxy(upstream: str) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream=upstream)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(proxy))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield proxy
    finally:
        proxy.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
