"""Answers for the calls moto does not implement, in the shapes AWS documents, so that a
collection from moto can be complete.

moto raises NotImplementedError for DescribeVpcEndpointConnections
(https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeVpcEndpointConnections.html).
botocore lets a ``before-call`` handler return the response (as its Stubber does); clients
created from the session afterwards inherit the handler, so the collectors run unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

ConnectionsByRegion = Mapping[str, Sequence[Mapping[str, Any]]]
"""region -> VpcEndpointConnection items, as DescribeVpcEndpointConnections returns them."""


def answer_endpoint_connections(session: Any, connections: ConnectionsByRegion) -> None:
    from botocore.awsrequest import AWSResponse

    def describe_vpc_endpoint_connections(
        request_signer: Any, **_: Any
    ) -> tuple[AWSResponse, dict[str, Any]]:
        region = str(request_signer.region_name)
        body = {"VpcEndpointConnections": [dict(item) for item in connections.get(region, ())]}
        return AWSResponse("https://ec2.amazonaws.com/", 200, {}, None), body

    session.events.register(
        "before-call.ec2.DescribeVpcEndpointConnections", describe_vpc_endpoint_connections
    )
