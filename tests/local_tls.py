"""TLS for servers on 127.0.0.1: a self-signed certificate, and a CA bundle of a real bundle's size.

Real AWS endpoints speak only HTTPS, and what a client pays per connection (loading its CA
bundle, the handshake) is invisible to a test or benchmark that talks plain HTTP. The
certificate is made at run time with ``cryptography`` (a dependency of moto), for ``127.0.0.1``
and ``localhost``, valid for a day. The bundle a client is told to trust is the one botocore would
use anyway (certifi's, ~140 authorities) with this certificate appended, so loading it costs what
loading the real one costs.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass(frozen=True)
class LocalTls:
    certificate: Path
    key: Path
    bundle: Path
    """The default CA bundle plus ``certificate``: what a client should verify against."""

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.certificate, self.key)
        return context


def self_signed(
    folder: Path,
    *,
    with_default_authorities: bool = True,
    names: tuple[str, ...] = ("localhost", "127.0.0.1"),
) -> LocalTls:
    """A certificate for ``names`` (host names and IP addresses) in ``folder``; ``bundle``
    trusts it (and, by default, every authority botocore trusts)."""
    from botocore.httpsession import get_cert_path
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([_alternative_name(name) for name in names]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    folder.mkdir(parents=True, exist_ok=True)
    paths = LocalTls(folder / "cert.pem", folder / "key.pem", folder / "bundle.pem")
    paths.certificate.write_bytes(pem)
    paths.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    authorities = Path(get_cert_path(True)).read_bytes() if with_default_authorities else b""
    paths.bundle.write_bytes(authorities.rstrip(b"\n") + b"\n" + pem)
    return paths


def _alternative_name(name: str) -> object:
    from cryptography import x509

    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


class TlsServer(ThreadingHTTPServer):
    """A threaded HTTP server on 127.0.0.1 that speaks TLS with ``tls`` (None: plain HTTP). The
    handshake is left to each connection's handler (``handshake``), in its own thread, not to the
    one thread that accepts every connection."""

    daemon_threads = True
    request_queue_size = 1024
    tls: ssl.SSLContext | None = None

    def get_request(self) -> tuple[socket.socket, object]:
        connection, address = super().get_request()
        if self.tls is None:
            return connection, address
        wrapped = self.tls.wrap_socket(connection, server_side=True, do_handshake_on_connect=False)
        return wrapped, address

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that refused the certificate, or went away: the client side reports it


@contextlib.contextmanager
def running(server: TlsServer) -> Iterator[str]:
    """``server`` serving on a thread of its own; yields its URL (``https://`` when it speaks
    TLS); shut down, closed and its thread ended on exit."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    scheme = "https" if server.tls is not None else "http"
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def handshake(connection: object) -> None:
    """Complete the TLS handshake of a ``TlsServer`` connection (nothing for plain HTTP)."""
    if isinstance(connection, ssl.SSLSocket):
        connection.do_handshake()


@dataclass
class HttpsServer:
    """What a ``serve_https`` server saw: connections accepted, connections whose TLS handshake
    succeeded, and requests."""

    url: str = ""
    accepted: int = 0
    """TCP connections accepted, whether or not their handshake succeeded."""
    connections: int = 0
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextlib.contextmanager
def serve_https(
    tls: LocalTls, body: bytes, content_type: str, *, delay: float = 0.0
) -> Iterator[HttpsServer]:
    """An HTTPS server on 127.0.0.1 answering every request with ``body`` after ``delay``
    seconds (HTTP/1.1, kept alive), stopped on exit."""
    seen = HttpsServer()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def setup(self) -> None:
            with seen.lock:
                seen.accepted += 1
            handshake(self.request)
            with seen.lock:
                seen.connections += 1
            super().setup()

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            with seen.lock:
                seen.requests += 1
            time.sleep(delay)
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *_: object) -> None:
            pass

    server = TlsServer(("127.0.0.1", 0), Handler)
    server.tls = tls.server_context()
    with running(server) as url:
        seen.url = url
        yield seen


@dataclass
class Tunnels:
    """What a ``connect_proxy`` saw: the ``host:port`` of each CONNECT it tunnelled."""

    url: str = ""
    opened: list[str] = field(default_factory=list)


class _ConnectProxy:
    """The workings of ``connect_proxy``: every socket and thread it makes is kept, to be
    closed and ended when it stops."""

    def __init__(self, seen: Tunnels, context: ssl.SSLContext | None) -> None:
        self.seen = seen
        self.context = context
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.stopping = threading.Event()
        self.sockets: list[socket.socket] = []
        self.threads: list[threading.Thread] = []
        self.lock = threading.Lock()

    def start(self, target: Callable[..., None], *args: socket.socket) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self.lock:
            self.threads.append(thread)
        thread.start()

    def keep(self, end: socket.socket) -> socket.socket:
        with self.lock:
            self.sockets.append(end)
        return end

    @staticmethod
    def relay(one: socket.socket, other: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := one.recv(65536):
                other.sendall(data)
        with contextlib.suppress(OSError):
            other.shutdown(socket.SHUT_WR)

    def tunnel(self, client: socket.socket) -> None:
        try:
            if self.context is not None:
                client = self.keep(self.context.wrap_socket(client, server_side=True))
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = client.recv(4096)
                if not chunk:
                    return
                head += chunk
            host, port = head.split()[1].decode().rsplit(":", 1)
            upstream = self.keep(socket.create_connection((host, int(port)), timeout=10))
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            # The timeouts bound the CONNECT exchange only: a tunnel idle between two calls (a
            # second client being made, on a loaded machine) stays open until the proxy stops,
            # as a real proxy's would; it closed after a second, and urllib3 opened another.
            client.settimeout(None)
            upstream.settimeout(None)
        except OSError:  # a client that refused the certificate, or went away; no upstream
            return
        self.seen.opened.append(f"{host}:{port}")
        self.start(self.relay, upstream, client)
        self.relay(client, upstream)

    def serve(self) -> None:
        while not self.stopping.is_set():
            try:
                client, _ = self.listener.accept()
            except (TimeoutError, OSError):
                continue
            client.settimeout(1)
            self.start(self.tunnel, self.keep(client))

    def stop(self, server: threading.Thread) -> None:
        self.stopping.set()
        server.join(timeout=10)
        self.listener.close()
        with self.lock:
            opened, running = list(self.sockets), list(self.threads)
        for end in opened:
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()
        for thread in running:
            thread.join(timeout=10)


@contextlib.contextmanager
def connect_proxy(tls: LocalTls | None = None) -> Iterator[Tunnels]:
    """A forward proxy on 127.0.0.1 for HTTPS (CONNECT tunnels), itself reached over TLS with
    ``tls`` (an ``https://`` proxy) or plain (``http://``); stopped on exit, every socket it
    opened closed and every thread of it ended."""
    seen = Tunnels()
    proxy = _ConnectProxy(seen, tls.server_context() if tls is not None else None)
    server = threading.Thread(target=proxy.serve, daemon=True)
    server.start()
    scheme = "https" if tls is not None else "http"
    seen.url = f"{scheme}://127.0.0.1:{proxy.listener.getsockname()[1]}"
    try:
        yield seen
    finally:
        proxy.stop(server)
