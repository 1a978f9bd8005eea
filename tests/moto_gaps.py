"""Answers for the calls moto does not implement, in the shapes AWS documents.

moto raises NotImplementedError for DescribeVpcEndpointConnections and
DescribeSecurityGroupVpcAssociations, and has no Route 53 Profiles
(https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeVpcEndpointConnections.html).
Tests that collect from moto (in-process or through its server, which runs in the test process)
install this answer so that a collection can be complete; each test says which connections exist.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from moto.core.responses import ActionResult
from moto.ec2.responses import EC2Response

ItemsByScope = dict[tuple[str, str], list[dict[str, Any]]]
"""(account id, region) -> the items an EC2 listing returns there."""
Connections = ItemsByScope
"""VpcEndpointConnection items."""
Associations = ItemsByScope
"""SecurityGroupVpcAssociation items."""


def _answer_listing(
    monkeypatch: pytest.MonkeyPatch, method: str, result_key: str, table: ItemsByScope
) -> ItemsByScope:
    """Makes moto's EC2 answer the listing ``method`` (which it lacks) with the items ``table``
    holds for the caller's account and region, in AWS's shape; returns ``table``, which the test
    may fill later."""

    def listing(self: Any) -> ActionResult:
        items = table.get((self.current_account, self.region), [])
        return ActionResult({result_key: list(items)})

    monkeypatch.setattr(EC2Response, method, listing, raising=False)
    return table


def answer_endpoint_connections(
    monkeypatch: pytest.MonkeyPatch, connections: Connections | None = None
) -> Connections:
    """DescribeVpcEndpointConnections from ``connections`` (none by default)."""
    return _answer_listing(
        monkeypatch,
        "describe_vpc_endpoint_connections",
        "VpcEndpointConnections",
        connections if connections is not None else {},
    )


def answer_group_associations(
    monkeypatch: pytest.MonkeyPatch, associations: Associations | None = None
) -> Associations:
    """DescribeSecurityGroupVpcAssociations from ``associations`` (none by default)
    (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSecurityGroupVpcAssociations.html)."""
    return _answer_listing(
        monkeypatch,
        "describe_security_group_vpc_associations",
        "SecurityGroupVpcAssociations",
        associations if associations is not None else {},
    )


ProfileAnswers = dict[str, dict[str, Any]]
"""route53profiles operation -> the response a test wants (ListProfileAssociations, ...)."""


def answer_profiles_in_process(
    monkeypatch: pytest.MonkeyPatch, answers: ProfileAnswers | None = None
) -> ProfileAnswers:
    """Makes in-process clients answer route53profiles calls from ``answers`` (no profile by
    default): moto has no Route 53 Profiles, and a call to it must not leave the process."""
    table: ProfileAnswers = answers if answers is not None else {}
    original = BaseClient._make_api_call

    def make_api_call(self: Any, operation_name: str, api_params: Any) -> Any:
        if self.meta.service_model.service_name != "route53profiles":
            return original(self, operation_name, api_params)
        try:
            # A test's own before-call answer wins; moto itself answers 404.
            return original(self, operation_name, api_params)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "404":
                raise
        default: dict[str, dict[str, Any]] = {
            "ListProfileAssociations": {"ProfileAssociations": []},
            "ListProfileResourceAssociations": {"ProfileResourceAssociations": []},
        }
        return table.get(operation_name, default.get(operation_name, {}))

    monkeypatch.setattr(BaseClient, "_make_api_call", make_api_call)
    return table
