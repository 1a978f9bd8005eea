"""A large centralised-endpoint estate for benchmarks/bench_central_dns.py.

One hub VPC serves S interface endpoints (each with interfaces in three zones) to N spoke VPCs
of their own accounts on one transit gateway; each service has a private hosted zone of the hub,
apex and wildcard records aliased to the endpoint's regional name, associated with every spoke.
Built after tests/test_topology_hops.py's estate; it also runs against trees whose model lacks
TransitGatewayAttachment.subnet_ids / appliance_mode (snapshot schema 7), for A/B runs with
``--source``-style PYTHONPATH switching.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from vpce_audit.model import (
    AccountSnapshot,
    EndpointInterface,
    EndpointServiceDetail,
    HostedZone,
    HostedZoneVpc,
    NetworkAcl,
    NetworkAclEntry,
    PrefixList,
    RegionSnapshot,
    ResourceRecordSet,
    Route,
    RouteTable,
    SecurityGroup,
    SecurityGroupRule,
    Subnet,
    TransitGateway,
    TransitGatewayAttachment,
    TransitGatewayRoute,
    TransitGatewayRouteTable,
    TransitGatewayRouteTarget,
    Vpc,
    VpcEndpoint,
    VpcZones,
    ZoneSummary,
)
from vpce_audit.snapshot.document import SnapshotDocument

REGION = "eu-west-1"
HUB, NET = "111111111111", "333333333333"
TGW = "tgw-0net"
A_HUB = "tgw-attach-0hub"
HUB_BLOCK = "10.10.0.0/16"
HUB_VPC = "vpc-0hub"
TGW_RTB = "tgw-rtb-spokes"
AT = "2026-11-26T00:00:00Z"
ORG = "o-exampleorg1"
ZONES = "abc"

SERVICES = (
    "s3",
    "dynamodb",
    "ssm",
    "ssmmessages",
    "ec2messages",
    "sts",
    "logs",
    "ec2",
    "kms",
    "secretsmanager",
    "monitoring",
    "sns",
    "sqs",
    "events",
    "lambda",
    "ecs",
    "ecs-agent",
    "ecs-telemetry",
    "elasticloadbalancing",
    "autoscaling",
    "cloudformation",
    "kinesis-streams",
    "execute-api",
    "states",
    "ssm-contacts",
    "athena",
    "glue",
    "codebuild",
    "ebs",
    "elasticfilesystem",
    "rds",
    "servicecatalog",
    "codepipeline",
    "xray",
    "synthetics",
    "application-autoscaling",
    "kinesis-firehose",
    "backup",
    "airflow.api",
    "appmesh-envoy-management",
)

ALLOW_ALL = (
    NetworkAclEntry(100, False, "-1", "allow", cidr_ipv4="0.0.0.0/0"),
    NetworkAclEntry(100, True, "-1", "allow", cidr_ipv4="0.0.0.0/0"),
    NetworkAclEntry(32767, False, "-1", "deny", cidr_ipv4="0.0.0.0/0"),
    NetworkAclEntry(32767, True, "-1", "deny", cidr_ipv4="0.0.0.0/0"),
)

S3_PL, DDB_PL = "pl-6da54004", "pl-6fa54006"

_ATT_FIELDS = {f.name for f in dataclasses.fields(TransitGatewayAttachment)}
HAS_SUBNET_IDS = "subnet_ids" in _ATT_FIELDS


# -- helpers (tests/helpers.py) ----------------------------------------------------------------


def region(account: str, name: str = REGION, **collections: Any) -> RegionSnapshot:
    collections.setdefault("resolver_rules", ())
    return RegionSnapshot(
        account_id=account,
        region=name,
        collected_at=AT,
        **{key: None if value is None else tuple(value) for key, value in collections.items()},
    )


def make_vpc(vpc_id: str, *cidrs: str, owner: str) -> Vpc:
    return Vpc(
        vpc_id=vpc_id,
        owner_id=owner,
        cidr_blocks=cidrs,
        is_default=False,
        enable_dns_support=True,
        enable_dns_hostnames=True,
    )


def subnet(subnet_id: str, vpc_id: str, zone: str, cidr: str) -> Subnet:
    return Subnet(
        subnet_id=subnet_id, vpc_id=vpc_id, cidr_block=cidr, availability_zone=f"{REGION}{zone}"
    )


def endpoint(endpoint_id: str, vpc_id: str, service: str, owner: str, **extra: Any) -> VpcEndpoint:
    return VpcEndpoint(
        endpoint_id=endpoint_id,
        vpc_id=vpc_id,
        service_name=f"com.amazonaws.{REGION}.{service}",
        endpoint_type="Interface",
        state="available",
        owner_id=owner,
        policy_document=None,
        private_dns_enabled=False,
        **extra,
    )


def service_detail(short: str) -> EndpointServiceDetail:
    zone = f"{short}.{REGION}.amazonaws.com"
    return EndpointServiceDetail(
        service_name=f"com.amazonaws.{REGION}.{short}",
        service_types=("Interface",),
        owner="amazon",
        vpc_endpoint_policy_supported=True,
        private_dns_names=(zone, f"*.{zone}"),
    )


def ingress(source: str) -> SecurityGroupRule:
    return SecurityGroupRule("tcp", 443, 443, cidr_ipv4=source)


# -- tests/test_topology_hops.py ---------------------------------------------------------------


def _attachment(
    attachment_id: str, vpc_id: str, owner: str, table: str | None, subnets: tuple[str, ...]
) -> TransitGatewayAttachment:
    extra: dict[str, Any] = {}
    if HAS_SUBNET_IDS:
        extra = {"subnet_ids": subnets, "appliance_mode": False}
    return TransitGatewayAttachment(
        attachment_id, TGW, NET, "vpc", vpc_id, owner, "available", table, **extra
    )


def _to(cidr: str, attachment_id: str, vpc_id: str) -> TransitGatewayRoute:
    target = TransitGatewayRouteTarget(attachment_id, "vpc", vpc_id)
    return TransitGatewayRoute(cidr, (target,), "static", "active")


def _one_vpc(
    account: str,
    short: str,
    block: str,
    subnets: list[tuple[str, str]],
    exit_route: Route,
    **more: Any,
) -> RegionSnapshot:
    """One VPC (vpc-0<short>), its subnets (zone, block) and one route table for them all: the
    VPC's own block, then ``exit_route``."""
    vpc_id = f"vpc-0{short}"
    subnet_list = [subnet(f"subnet-{short}{z}", vpc_id, z, cidr) for z, cidr in subnets]
    more.setdefault(
        "network_acls",
        [
            NetworkAcl(
                f"acl-{short}", vpc_id, True, tuple(s.subnet_id for s in subnet_list), ALLOW_ALL
            )
        ],
    )
    return region(
        account,
        REGION,
        vpcs=[make_vpc(vpc_id, block, owner=account)],
        subnets=subnet_list,
        route_tables=[
            RouteTable(
                route_table_id=f"rtb-{short}",
                vpc_id=vpc_id,
                is_main=True,
                subnet_ids=tuple(s.subnet_id for s in subnet_list),
                routes=(Route(destination_cidr=block, target_id="local"), exit_route),
            )
        ],
        **more,
    )


def spoke_account(i: int) -> str:
    return f"{400000000000 + i:012d}"


def spoke_block(i: int) -> str:
    return f"10.{100 + i // 256}.{i % 256}.0/24"


def build(spokes: int, services: int = 30) -> SnapshotDocument:
    shorts = SERVICES[:services]
    catalogue = tuple(service_detail(s) for s in shorts)  # one tuple shared by every scope
    plists = (
        PrefixList(S3_PL, f"com.amazonaws.{REGION}.s3", "AWS", cidrs=("3.5.64.0/21",)),
        PrefixList(DDB_PL, f"com.amazonaws.{REGION}.dynamodb", "AWS", cidrs=("52.94.24.0/23",)),
    )
    hub_subnets = [(z, f"10.10.{k + 1}.0/24") for k, z in enumerate(ZONES)]
    hub_subnet_ids = tuple(f"subnet-hub{z}" for z in ZONES)
    endpoints, interfaces, zones = [], [], []
    for n, short in enumerate(shorts):
        eid = f"vpce-0{n:016x}"
        enis = tuple(f"eni-{n:04d}{z}" for z in ZONES)
        regional = f"{eid}-4f2a9c1e.{short}.{REGION}.vpce.amazonaws.com"
        zonal = tuple(
            f"{eid}-4f2a9c1e-{REGION}{z}.{short}.{REGION}.vpce.amazonaws.com" for z in ZONES
        )
        endpoints.append(
            endpoint(
                eid,
                HUB_VPC,
                short,
                HUB,
                subnet_ids=hub_subnet_ids,
                security_group_ids=("sg-ep",),
                network_interface_ids=enis,
                dns_names=(regional, *zonal),
            )
        )
        for k, z in enumerate(ZONES):
            interfaces.append(
                EndpointInterface(enis[k], HUB_VPC, f"subnet-hub{z}", (f"10.10.{k + 1}.{10 + n}",))
            )
        zone_name = f"{short}.{REGION}.amazonaws.com"
        zones.append(
            HostedZone(
                f"ZHUB{n:04d}",
                zone_name,
                True,
                vpcs=tuple(HostedZoneVpc(f"vpc-0spoke{i:05d}", REGION) for i in range(spokes)),
                records=(
                    ResourceRecordSet(zone_name, "A", alias_target=regional),
                    ResourceRecordSet(f"*.{zone_name}", "A", alias_target=regional),
                ),
            )
        )
    summaries = tuple(ZoneSummary(z.hosted_zone_id, z.name, HUB) for z in zones)

    spoke_attachments = [
        _attachment(
            f"tgw-attach-0s{i:05d}",
            f"vpc-0spoke{i:05d}",
            spoke_account(i),
            TGW_RTB,
            (f"subnet-spoke{i:05d}a",),
        )
        for i in range(spokes)
    ]
    hub_attachment = _attachment(A_HUB, HUB_VPC, HUB, TGW_RTB, hub_subnet_ids)
    all_ids = (A_HUB, *(a.attachment_id for a in spoke_attachments))
    tgw_routes = (
        _to(HUB_BLOCK, A_HUB, HUB_VPC),
        *(
            _to(spoke_block(i), a.attachment_id, a.resource_id)
            for i, a in enumerate(spoke_attachments)
        ),
    )
    network = region(
        NET,
        transit_gateways=[TransitGateway(TGW, NET, "available", False)],
        transit_gateway_attachments=[hub_attachment, *spoke_attachments],
        transit_gateway_route_tables=[
            TransitGatewayRouteTable(TGW_RTB, TGW, all_ids, (), tgw_routes)
        ],
        endpoint_service_details=catalogue,
        prefix_lists=plists,
    )
    hub = _one_vpc(
        HUB,
        "hub",
        HUB_BLOCK,
        hub_subnets,
        Route(destination_cidr="0.0.0.0/0", target_id=TGW),
        vpc_endpoints=endpoints,
        endpoint_interfaces=interfaces,
        security_groups=[
            SecurityGroup(
                group_id="sg-ep",
                vpc_id=HUB_VPC,
                owner_id=HUB,
                group_name="sg-ep",
                ingress=(ingress("10.0.0.0/8"),),
            )
        ],
        endpoint_service_details=catalogue,
        prefix_lists=plists,
        transit_gateways=[TransitGateway(TGW, NET, "available", None)],
        transit_gateway_attachments=[_attachment(A_HUB, HUB_VPC, HUB, None, hub_subnet_ids)],
    )
    regions = [hub, network]
    members = (HUB, NET, *(spoke_account(i) for i in range(spokes)))
    accounts = [
        AccountSnapshot(
            HUB,
            AT,
            ORG,
            members,
            hosted_zones=tuple(zones),
            vpc_zones=(VpcZones(HUB_VPC, REGION, ()),),
        ),
        AccountSnapshot(NET, AT, ORG, members),
    ]
    for i, att in enumerate(spoke_attachments):
        account = spoke_account(i)
        short = f"spoke{i:05d}"
        block = spoke_block(i)
        sub = block.replace(".0/24", ".0/26")
        regions.append(
            _one_vpc(
                account,
                short,
                block,
                [("a", sub)],
                Route(destination_cidr="0.0.0.0/0", target_id=TGW),
                endpoint_service_details=catalogue,
                prefix_lists=plists,
                transit_gateways=[TransitGateway(TGW, NET, "available", None)],
                transit_gateway_attachments=[
                    _attachment(
                        att.attachment_id,
                        att.resource_id,
                        account,
                        None,
                        att.subnet_ids if HAS_SUBNET_IDS else (f"subnet-{short}a",),
                    )
                ],
            )
        )
        accounts.append(
            AccountSnapshot(
                account,
                AT,
                ORG,
                members,
                vpc_zones=(VpcZones(f"vpc-0{short}", REGION, summaries),),
            )
        )
    return SnapshotDocument(
        tool_version="perf", created_at=AT, accounts=tuple(accounts), regions=tuple(regions)
    )
