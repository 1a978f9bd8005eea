from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from tests.moto_gaps import Connections, answer_endpoint_connections, answer_profiles_in_process
from vpce_audit.collect import connections
from vpce_audit.demo.moto_gaps import transit_gateway_routes_in_aws_shape

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
def _no_network_beyond_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never reach the network beyond 127.0.0.1: a name lookup or a connection anywhere
    else fails, as an OSError (what a call meets when the network is down), so code that would
    have reached AWS shows up as a failing test, not as traffic. Subprocesses are not covered."""
    lookup, connect = socket.getaddrinfo, socket.socket.connect

    def local_lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name is not None and name not in LOOPBACK:
            raise NetworkRefused(f"a test looked up {name!r}: tests stay on 127.0.0.1")
        return lookup(host, *args, **kwargs)

    def local_connect(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in LOOPBACK:
            raise NetworkRefused(f"a test connected to {address!r}: tests stay on 127.0.0.1")
        return connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", local_lookup)
    monkeypatch.setattr(socket.socket, "connect", local_connect)


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
    monkeypatch.setenv("AWS_CONFIG_FILE", os.path.join(tmp_path, "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.path.join(tmp_path, "no-credentials"))
    yield


@pytest.fixture
def moto_gaps(monkeypatch: pytest.MonkeyPatch) -> Iterator[Connections]:
    """moto answers DescribeVpcEndpointConnections (empty unless the test adds connections),
    returns static transit-gateway routes with their targets, as AWS does, and in-process
    clients find no Route 53 Profile."""
    answer_profiles_in_process(monkeypatch)
    with transit_gateway_routes_in_aws_shape():
        yield answer_endpoint_connections(monkeypatch)
