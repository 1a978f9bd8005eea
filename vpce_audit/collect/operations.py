"""The read-only guarantee, as data: every AWS operation vpce-audit may call.

The call boundary (``ScopeCalls``) refuses any operation that is not listed here, so a new
collector cannot call something by accident. Each entry names the IAM action it needs and that
action's access level in AWS's Service Authorization Reference; only the ``Read`` and ``List``
levels are allowed (a test checks it, and checks that a full collection calls exactly these
operations and that docs/iam-policy.json grants exactly these actions).

A name pattern ("Describe*, List*, Get*") is not the guarantee: ``SearchTransitGatewayRoutes`` is
read-only (access level List) and the only way to list transit-gateway routes.
"""

from __future__ import annotations

from dataclasses import dataclass

READ_ONLY_ACCESS_LEVELS = frozenset({"Read", "List"})

_EC2 = "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html"
_ROUTE53 = (
    "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonroute53.html"
)
_RESOLVER = (
    "https://docs.aws.amazon.com/service-authorization/latest/reference/"
    "list_amazonroute53resolver.html"
)
_PROFILES = (
    "https://docs.aws.amazon.com/service-authorization/latest/reference/"
    "list_amazonroute53profiles.html"
)
_ORGANIZATIONS = (
    "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsorganizations.html"
)
_IAM = (
    "https://docs.aws.amazon.com/service-authorization/latest/reference/"
    "list_awsidentityandaccessmanagementiam.html"
)
_STS = (
    "https://docs.aws.amazon.com/service-authorization/latest/reference/"
    "list_awssecuritytokenservice.html"
)


@dataclass(frozen=True)
class Operation:
    service: str
    """The boto3 service name (ec2, route53, route53resolver, route53profiles, organizations,
    iam, sts)."""
    name: str
    """The API operation, e.g. DescribeVpcs."""
    access_level: str
    """Its IAM action's access level in the Service Authorization Reference."""
    reference: str
    needs_permission: bool = True
    """False for sts:GetCallerIdentity, which every principal may call."""

    @property
    def iam_action(self) -> str:
        # IAM action prefixes are the services' signing names; they equal the boto3 names here.
        return f"{self.service}:{self.name}"


def _ec2(name: str, level: str = "List") -> Operation:
    return Operation("ec2", name, level, _EC2)


OPERATIONS: tuple[Operation, ...] = (
    _ec2("DescribeRegions"),
    _ec2("DescribeVpcs"),
    _ec2("DescribeVpcAttribute"),
    _ec2("DescribeSubnets"),
    _ec2("DescribeRouteTables"),
    _ec2("DescribeNatGateways"),
    _ec2("DescribeInternetGateways"),
    _ec2("DescribeVpcEndpoints"),
    _ec2("DescribeVpcEndpointServices"),
    _ec2("DescribeVpcEndpointServiceConfigurations"),
    _ec2("DescribeVpcEndpointServicePermissions"),
    _ec2("DescribeVpcEndpointConnections"),
    _ec2("DescribeSecurityGroups"),
    _ec2("DescribeSecurityGroupVpcAssociations"),
    _ec2("DescribeNetworkAcls"),
    _ec2("DescribeNetworkInterfaces"),
    _ec2("DescribeDhcpOptions"),
    _ec2("DescribeManagedPrefixLists"),
    _ec2("GetManagedPrefixListEntries", "Read"),
    _ec2("DescribeVpcPeeringConnections"),
    _ec2("DescribeTransitGateways"),
    _ec2("DescribeTransitGatewayAttachments"),
    _ec2("DescribeTransitGatewayVpcAttachments"),
    _ec2("DescribeTransitGatewayRouteTables"),
    _ec2("GetTransitGatewayRouteTableAssociations"),
    _ec2("GetTransitGatewayRouteTablePropagations"),
    _ec2("SearchTransitGatewayRoutes"),
    _ec2("DescribeVpnConnections", "Read"),
    _ec2("DescribeVpnGateways"),
    _ec2("DescribeCustomerGateways"),
    _ec2("DescribeFlowLogs"),
    Operation("route53", "ListHostedZones", "List", _ROUTE53),
    Operation("route53", "GetHostedZone", "List", _ROUTE53),
    Operation("route53", "ListResourceRecordSets", "List", _ROUTE53),
    Operation("route53", "ListHostedZonesByVPC", "List", _ROUTE53),
    Operation("route53profiles", "ListProfileAssociations", "List", _PROFILES),
    Operation("route53profiles", "ListProfileResourceAssociations", "List", _PROFILES),
    Operation("route53resolver", "ListResolverEndpoints", "List", _RESOLVER),
    Operation("route53resolver", "ListResolverEndpointIpAddresses", "List", _RESOLVER),
    Operation("route53resolver", "ListResolverRuleAssociations", "List", _RESOLVER),
    Operation("route53resolver", "ListResolverRules", "List", _RESOLVER),
    Operation("organizations", "DescribeOrganization", "Read", _ORGANIZATIONS),
    Operation("organizations", "ListAccounts", "List", _ORGANIZATIONS),
    Operation("iam", "ListRoles", "List", _IAM),
    Operation("iam", "ListUsers", "List", _IAM),
    Operation("sts", "GetCallerIdentity", "Read", _STS, needs_permission=False),
)

CREDENTIAL_OPERATIONS: tuple[Operation, ...] = (Operation("sts", "AssumeRole", "Write", _STS),)
"""Calls that obtain credentials for another account (--org, --role-arn): made by the scanning
identity, changing nothing in any estate. They never go through the call boundary; the
scanning account's policy grants them (docs/iam-policy-scanner.json), not the read-only one."""

_BY_KEY = {(operation.service, operation.name): operation for operation in OPERATIONS}


class NotReadOnlyError(ValueError):
    """A collector tried to call an operation outside the read-only allowlist."""


def allowed(service: str, name: str) -> Operation:
    """The allowlist entry for an operation; raises NotReadOnlyError for anything else."""
    operation = _BY_KEY.get((service, name))
    if operation is None or operation.access_level not in READ_ONLY_ACCESS_LEVELS:
        raise NotReadOnlyError(
            f"{service}:{name} is not a read-only operation on vpce-audit's allowlist"
        )
    return operation


def iam_actions() -> tuple[str, ...]:
    """The IAM actions a full collection needs, sorted (docs/iam-policy.json lists them)."""
    return tuple(sorted(op.iam_action for op in OPERATIONS if op.needs_permission))
