"""Where moto falls short of AWS, answers in the shapes AWS documents, so that a collection
from moto can be complete and true.

moto raises NotImplementedError for DescribeVpcEndpointConnections
(https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeVpcEndpointConnections.html)
and DescribeSecurityGroupVpcAssociations, and does not implement Route 53 Profiles at all.
botocore lets a ``before-call`` handler return the response (as its Stubber does); clients
created from the session afterwards inherit the handler, so the collectors run unchanged.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
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


@contextlib.contextmanager
def transit_gateway_routes_in_aws_shape() -> Iterator[None]:
    """moto stores a static transit-gateway route's target as one object where AWS returns a
    list (TransitGatewayRoute.TransitGatewayAttachments,
    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_TransitGatewayRoute.html), so the
    target is lost on the wire. Inside this context moto stores the list AWS returns."""
    from unittest import mock

    from moto.ec2.models.transit_gateway_route_tables import TransitGatewayRouteTableBackend

    original = TransitGatewayRouteTableBackend.create_transit_gateway_route

    def create_transit_gateway_route(self: Any, *args: Any, **kwargs: Any) -> Any:
        route = original(self, *args, **kwargs)
        target = route.get("transitGatewayAttachments")
        if isinstance(target, dict):
            route["transitGatewayAttachments"] = [target]
        return route

    with mock.patch.object(
        TransitGatewayRouteTableBackend,
        "create_transit_gateway_route",
        create_transit_gateway_route,
    ):
        yield


def answer_group_associations(session: Any) -> None:
    """No security group is associated with another VPC: moto does not implement
    DescribeSecurityGroupVpcAssociations
    (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSecurityGroupVpcAssociations.html)."""
    from botocore.awsrequest import AWSResponse

    def no_associations(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse("https://ec2.amazonaws.com/", 200, {}, None), {
            "SecurityGroupVpcAssociations": []
        }

    session.events.register("before-call.ec2.DescribeSecurityGroupVpcAssociations", no_associations)


def answer_profiles(session: Any) -> None:
    """No Route 53 Profile is associated with any VPC (moto has no route53profiles)."""
    from botocore.awsrequest import AWSResponse

    def no_profiles(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse("https://route53profiles.amazonaws.com/", 200, {}, None), {
            "ProfileAssociations": []
        }

    session.events.register("before-call.route53profiles.ListProfileAssociations", no_profiles)
