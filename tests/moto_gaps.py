"""Answers for the calls moto does not implement, in the shapes AWS documents.

moto raises NotImplementedError for DescribeVpcEndpointConnections
(https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeVpcEndpointConnections.html).
Tests that collect from moto (in-process or through its server, which runs in the test process)
install this answer so that a collection can be complete; each test says which connections exist.
"""

from __future__ import annotations

from typing import Any

import pytest
from moto.core.responses import ActionResult
from moto.ec2.responses import EC2Response

Connections = dict[tuple[str, str], list[dict[str, Any]]]
"""(account id, region) -> VpcEndpointConnection items."""


def answer_endpoint_connections(
    monkeypatch: pytest.MonkeyPatch, connections: Connections | None = None
) -> Connections:
    """Makes moto answer DescribeVpcEndpointConnections from ``connections`` (empty by default);
    returns the dict, which the test may fill later."""
    table: Connections = connections if connections is not None else {}

    def describe_vpc_endpoint_connections(self: Any) -> ActionResult:
        items = table.get((self.current_account, self.region), [])
        return ActionResult({"VpcEndpointConnections": list(items)})

    monkeypatch.setattr(
        EC2Response,
        "describe_vpc_endpoint_connections",
        describe_vpc_endpoint_connections,
        raising=False,
    )
    return table
