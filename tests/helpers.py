"""Small builders so rule tests read like the AWS estate they describe."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from vpce_audit.findings import Finding, Skipped
from vpce_audit.model import (
    AccountSnapshot,
    CollectionError,
    EndpointServiceDetail,
    PeeringConnection,
    PeeringSide,
    PrefixList,
    RegionSnapshot,
    Route,
    RouteTable,
    SecurityGroup,
    SecurityGroupRule,
    Subnet,
    Vpc,
    VpcEndpoint,
)
from vpce_audit.rules.base import Rule, Settings
from vpce_audit.rules.engine import EvaluationResult, evaluate
from vpce_audit.snapshot.document import SnapshotDocument
from vpce_audit.snapshot.views import Snapshot

ACCOUNT = "111111111111"
OTHER_ACCOUNT = "222222222222"
REGION = "eu-west-1"
S3_PL = "pl-6da54004"
DDB_PL = "pl-6fa54006"
S3_CIDRS = ("3.5.64.0/21", "3.5.72.0/23", "52.218.0.0/17", "52.92.0.0/17")
DDB_CIDRS = ("52.94.24.0/23", "52.119.240.0/21")


def region(account: str = ACCOUNT, name: str = REGION, **collections: Any) -> RegionSnapshot:
    """An account-region as a collection writes it: Resolver rules collected (none, unless
    given; ``resolver_rules=None`` for a snapshot written before they were)."""
    collections.setdefault("resolver_rules", ())
    return RegionSnapshot(
        account_id=account,
        region=name,
        collected_at="2026-11-26T00:00:00Z",
        **{key: None if value is None else tuple(value) for key, value in collections.items()},
    )


def document(
    *regions: RegionSnapshot, accounts: tuple[AccountSnapshot, ...] | None = None
) -> SnapshotDocument:
    """A snapshot of the regions; each account gets (empty) account-wide facts unless given,
    as a collection would record them."""
    if accounts is None:
        accounts = tuple(
            AccountSnapshot(account_id, "2026-11-26T00:00:00Z")
            for account_id in sorted({r.account_id for r in regions})
        )
    return SnapshotDocument(
        tool_version="test", created_at="2026-11-26T00:00:00Z", accounts=accounts, regions=regions
    )


def scope_of(document: SnapshotDocument, account: str) -> RegionSnapshot:
    """The document's (only) account-region of ``account``."""
    return next(r for r in document.regions if r.account_id == account)


def with_scope(document: SnapshotDocument, scope: RegionSnapshot) -> SnapshotDocument:
    """The document with ``scope`` in place of the account-region of its account and region."""
    place = (scope.account_id, scope.region)
    regions = tuple(scope if (r.account_id, r.region) == place else r for r in document.regions)
    return dataclasses.replace(document, regions=regions)


def snapshot(
    *regions: RegionSnapshot, accounts: tuple[AccountSnapshot, ...] | None = None
) -> Snapshot:
    return Snapshot(document(*regions, accounts=accounts))


def run(rule: Rule, *regions: RegionSnapshot, settings: Settings | None = None) -> EvaluationResult:
    return evaluate(snapshot(*regions), [rule], settings or Settings())


def flagged(rule: Rule, *regions: RegionSnapshot) -> set[str]:
    """Resource ids a rule flags; fails the test if the rule crashed."""
    result = run(rule, *regions)
    assert not result.rule_errors, result.rule_errors
    return {f.resource_id for f in result.findings}


def findings(rule: Rule, *regions: RegionSnapshot) -> dict[str, Finding]:
    result = run(rule, *regions)
    assert not result.rule_errors, result.rule_errors
    return {f.resource_id: f for f in result.findings}


def skipped(rule: Rule, *regions: RegionSnapshot) -> list[Skipped]:
    return list(run(rule, *regions).skipped)


def vpc(
    vpc_id: str,
    *cidrs: str,
    dns: tuple[bool | None, bool | None] = (True, True),
    default: bool = False,
    owner: str = ACCOUNT,
) -> Vpc:
    return Vpc(
        vpc_id=vpc_id,
        owner_id=owner,
        cidr_blocks=cidrs or ("10.0.0.0/16",),
        is_default=default,
        enable_dns_support=dns[0],
        enable_dns_hostnames=dns[1],
    )


def subnet(subnet_id: str, vpc_id: str, zone: str = "a", cidr: str | None = None) -> Subnet:
    return Subnet(
        subnet_id=subnet_id, vpc_id=vpc_id, cidr_block=cidr, availability_zone=f"{REGION}{zone}"
    )


def route(destination: str, target: str, state: str = "active") -> Route:
    if destination.startswith("pl-"):
        return Route(destination_prefix_list_id=destination, target_id=target, state=state)
    return Route(destination_cidr=destination, target_id=target, state=state)


def table(
    table_id: str, vpc_id: str, *routes: Route, subnets: tuple[str, ...] = (), main: bool = False
) -> RouteTable:
    return RouteTable(
        route_table_id=table_id,
        vpc_id=vpc_id,
        is_main=main,
        subnet_ids=subnets,
        routes=(Route(destination_cidr="10.0.0.0/16", target_id="local"), *routes),
    )


def endpoint(
    endpoint_id: str,
    vpc_id: str,
    service: str,
    kind: str = "Interface",
    *,
    policy: str | dict[str, Any] | None = None,
    private_dns: bool = False,
    subnets: tuple[str, ...] = (),
    groups: tuple[str, ...] = (),
    tables: tuple[str, ...] = (),
    state: str = "available",
    region_name: str = REGION,
    **extra: Any,
) -> VpcEndpoint:
    # A full name as given; "" for a VPC Lattice endpoint, which has no service name.
    service_name = (
        service
        if service.startswith("com.") or not service
        else f"com.amazonaws.{region_name}.{service}"
    )
    return VpcEndpoint(
        endpoint_id=endpoint_id,
        vpc_id=vpc_id,
        service_name=service_name,
        endpoint_type=kind,
        state=state,
        owner_id=ACCOUNT,
        policy_document=json.dumps(policy) if isinstance(policy, dict) else policy,
        private_dns_enabled=private_dns,
        subnet_ids=subnets,
        route_table_ids=tables,
        security_group_ids=groups,
        **extra,
    )


def service(
    short: str,
    kind: str = "Interface",
    policies: bool = True,
    *,
    region_name: str = REGION,
    **extra: Any,
) -> EndpointServiceDetail:
    return EndpointServiceDetail(
        service_name=short if short.startswith("com.") else f"com.amazonaws.{region_name}.{short}",
        service_types=(kind,),
        owner="amazon",
        vpc_endpoint_policy_supported=policies,
        **extra,
    )


def security_group(group_id: str, vpc_id: str, *ingress: SecurityGroupRule) -> SecurityGroup:
    return SecurityGroup(
        group_id=group_id, vpc_id=vpc_id, owner_id=ACCOUNT, group_name=group_id, ingress=ingress
    )


def ingress(
    source: str, protocol: str = "tcp", ports: tuple[int, int] | None = (443, 443)
) -> SecurityGroupRule:
    from_port, to_port = ports if ports else (None, None)
    if source.startswith("pl-"):
        return SecurityGroupRule(protocol, from_port, to_port, prefix_list_id=source)
    if source.startswith("sg-"):
        return SecurityGroupRule(protocol, from_port, to_port, referenced_group_id=source)
    if ":" in source:
        return SecurityGroupRule(protocol, from_port, to_port, cidr_ipv6=source)
    return SecurityGroupRule(protocol, from_port, to_port, cidr_ipv4=source)


def service_prefix_lists() -> tuple[PrefixList, ...]:
    return (
        PrefixList(S3_PL, f"com.amazonaws.{REGION}.s3", "AWS", cidrs=S3_CIDRS),
        PrefixList(DDB_PL, f"com.amazonaws.{REGION}.dynamodb", "AWS", cidrs=DDB_CIDRS),
    )


def error(
    kind: str,
    operation: str = "DescribeSomething",
    *,
    code: str = "AccessDenied",
    resource_id: str | None = None,
    account: str = ACCOUNT,
    where: str = REGION,
) -> CollectionError:
    return CollectionError(
        account_id=account,
        region=where,
        service="ec2",
        operation=operation,
        error_code=code,
        message="denied",
        resource_kind=kind,
        resource_id=resource_id,
    )


def peering(
    pcx: str, requester_vpc: str, accepter_vpc: str, *accepter_blocks: str, owner: str = ACCOUNT
) -> PeeringConnection:
    """An active peering in REGION; the accepter (of ``owner``) lists ``accepter_blocks``."""
    return PeeringConnection(
        pcx,
        "active",
        PeeringSide(ACCOUNT, requester_vpc, REGION),
        PeeringSide(owner, accepter_vpc, REGION, accepter_blocks),
    )
