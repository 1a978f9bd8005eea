from __future__ import annotations

import os
from collections.abc import Iterator

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
