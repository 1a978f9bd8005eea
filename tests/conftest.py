from __future__ import annotations

import ast
import os
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.moto_gaps import (
    Connections,
    answer_endpoint_connections,
    answer_group_associations,
    answer_profiles_in_process,
)
from vpce_audit.collect import connections
from vpce_audit.demo.moto_gaps import transit_gateway_routes_in_aws_shape

# CPython 3.11 can raise "SystemError: AST constructor recursion depth mismatch" when threads
# build AST objects at once (python/cpython#106905; seen here once, in a moto route53 call a
# collection thread made): moto renders answers with Jinja, whose lexer parses literals with
# ast.literal_eval, from every collection thread. The scanner itself parses nothing; in tests,
# ast.parse (which literal_eval calls) goes one thread at a time.
_ast_parse = ast.parse
_ast_lock = threading.Lock()


def _parse_one_at_a_time(*args: Any, **kwargs: Any) -> Any:
    with _ast_lock:
        return _ast_parse(*args, **kwargs)


ast.parse = _parse_one_at_a_time

# One collection process unless a test asks for more (--processes N): the processes are
# spawned, and a spawned process does not inherit an in-process moto mock, so under --org's
# default (auto: the machine's cores) it would call real AWS endpoints. Set before any test, so
# the CLI's subprocesses inherit it too.
os.environ["VPCE_AUDIT_PROCESSES"] = "1"

AWS_ENVIRONMENT = (
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_EC2",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
)


LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


class NetworkRefused(OSError):
    """A test tried to reach beyond 127.0.0.1."""


@pytest.fixture(autouse=True)
def _no_network_beyond_loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests never reach the network beyond 127.0.0.1: a name lookup or a connection anywhere
    else fails, as an OSError (what a call meets when the network is down), and fails the test
    at its end even where the code swallowed the error (a background thread, a best-effort
    step). Subprocesses are not covered."""
    refused: list[str] = []

    def refuse(what: str) -> NetworkRefused:
        refused.append(what)
        return NetworkRefused(f"a test tried {what}: tests stay on 127.0.0.1")

    def named(host: Any) -> Any:
        return host.decode() if isinstance(host, bytes) else host

    def guard_lookup(lookup: Any) -> Any:
        def local(host: Any, *args: Any, **kwargs: Any) -> Any:
            if named(host) is not None and named(host) not in LOOPBACK:
                raise refuse(f"to look up {named(host)!r}")
            return lookup(host, *args, **kwargs)

        return local

    def guard_connect(connect: Any) -> Any:
        def local(self: socket.socket, address: Any) -> Any:
            if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in LOOPBACK:
                raise refuse(f"to connect to {address!r}")
            return connect(self, address)

        return local

    for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex"):
        monkeypatch.setattr(socket, name, guard_lookup(getattr(socket, name)))
    for name in ("connect", "connect_ex"):
        monkeypatch.setattr(socket.socket, name, guard_connect(getattr(socket.socket, name)))
    yield
    assert not refused, f"the test tried to reach the network: {refused}"


@pytest.fixture(autouse=True)
def _connections_as_a_fresh_process_has_them() -> Iterator[None]:
    """Every test starts with no shared HTTP session and sharing unconfigured, as a new process
    would, whatever an earlier test's scan configured (``collect.connections``), and leaves no
    idle connection to a server it stopped."""
    connections.configure(None)
    yield
    connections.close_shared()
    connections.configure(None)


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: os.PathLike[str]) -> Iterator[None]:
    """Fake credentials and no way to reach real AWS configuration from the developer's machine."""
    for key in AWS_ENVIRONMENT:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    # A profile named on the command line does not take credentials from the environment, and
    # botocore then asks the instance metadata service: not from a test.
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.path.join(tmp_path, "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.path.join(tmp_path, "no-credentials"))
    yield


@pytest.fixture
def moto_gaps(monkeypatch: pytest.MonkeyPatch) -> Iterator[Connections]:
    """moto answers DescribeVpcEndpointConnections (empty unless the test adds connections) and
    DescribeSecurityGroupVpcAssociations (none),
    returns static transit-gateway routes with their targets, as AWS does, and in-process
    clients find no Route 53 Profile."""
    answer_profiles_in_process(monkeypatch)
    answer_group_associations(monkeypatch)
    with transit_gateway_routes_in_aws_shape():
        yield answer_endpoint_connections(monkeypatch)
