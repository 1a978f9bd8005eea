"""Indexed, read-only views over a snapshot document: what the rules query.

Indexes are built lazily, once, so a rule that needs "the effective route table of every subnet"
costs one pass over the route tables, not one pass per subnet.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from vpce_audit.analysis.dns import canonical_address, normalise
from vpce_audit.analysis.routes import RouteIndex
from vpce_audit.analysis.trust import TrustedSet
from vpce_audit.cached import cached_property
from vpce_audit.model import (
    AccountSnapshot,
    CollectionError,
    DhcpOptions,
    EndpointServiceDetail,
    HostedZone,
    NetworkAcl,
    PeeringConnection,
    PrefixList,
    ProfileAssociation,
    RegionSnapshot,
    ResolverEndpoint,
    ResolverRule,
    RouteTable,
    SecurityGroup,
    Subnet,
    TransitGatewayAttachment,
    Vpc,
    VpcEndpoint,
    ZoneSummary,
    summarise_errors,
)
from vpce_audit.snapshot.document import SnapshotDocument


def partition_for_region(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if region.startswith("us-iso-"):
        return "aws-iso"
    if region.startswith("us-isob-"):
        return "aws-iso-b"
    return "aws"


@dataclass(frozen=True)
class ScopeView:
    """One account-region of the snapshot with its indexes."""

    data: RegionSnapshot

    # Cached, so that after the first read each is a plain attribute of the view: rules read a
    # scope's account and region about two million times in a 500 x 17 organisation.
    @cached_property
    def account_id(self) -> str:
        return self.data.account_id

    @cached_property
    def region(self) -> str:
        return self.data.region

    @property
    def partition(self) -> str:
        return partition_for_region(self.data.region)

    def arn(self, resource_type: str, resource_id: str) -> str:
        """ARN of an EC2 resource in this scope, e.g. arn(\"vpc-endpoint\", \"vpce-1\")."""
        return f"{self._arn_prefix}:{resource_type}/{resource_id}"

    @cached_property
    def _arn_prefix(self) -> str:
        # Every finding's ARN starts so: worked out once per scope, not once per finding.
        return f"arn:{self.partition}:ec2:{self.region}:{self.account_id}"

    # -- collection gaps ------------------------------------------------------------------

    @cached_property
    def failed_kinds(self) -> dict[str, tuple[CollectionError, ...]]:
        """Resource kinds whose collection failed for the whole scope."""
        failed: dict[str, list[CollectionError]] = defaultdict(list)
        for error in self.data.errors:
            if error.resource_id is None:
                failed[error.resource_kind].append(error)
        return {kind: tuple(errors) for kind, errors in failed.items()}

    @cached_property
    def resource_errors(self) -> dict[str, tuple[CollectionError, ...]]:
        """Errors that concern a single resource, by resource id."""
        by_resource: dict[str, list[CollectionError]] = defaultdict(list)
        for error in self.data.errors:
            if error.resource_id is not None:
                by_resource[error.resource_id].append(error)
        return {resource: tuple(errors) for resource, errors in by_resource.items()}

    # -- VPCs, subnets, route tables --------------------------------------------------------

    @cached_property
    def vpcs_by_id(self) -> dict[str, Vpc]:
        return {vpc.vpc_id: vpc for vpc in self.data.vpcs}

    def owns(self, vpc: Vpc) -> bool:
        """Whether this account owns ``vpc`` (an empty owner: a snapshot that did not say)."""
        return vpc.owner_id in ("", self.account_id)

    @cached_property
    def own_vpcs(self) -> tuple[Vpc, ...]:
        """The VPCs this account owns, by id: the ones its VPC-wide checks judge.

        A VPC another account shares with this one (VPC sharing through AWS RAM) appears in this
        account's DescribeVpcs too, but its route tables, gateways, endpoints, peerings and flow
        logs are the owner's, and a participant sees its endpoints, peerings and flow logs not
        at all (its route tables it sees, but does not own: ``own_route_tables``): judged here,
        the VPC would look unlogged and without endpoints. It is judged in its owner's scope, or
        named in a notice when the owner was not scanned (Snapshot.unjudged_shared_vpcs).
        https://docs.aws.amazon.com/vpc/latest/userguide/vpc-sharing.html"""
        return tuple(sorted((v for v in self.data.vpcs if self.owns(v)), key=lambda v: v.vpc_id))

    @cached_property
    def own_route_tables(self) -> tuple[RouteTable, ...]:
        """The route tables this account owns, by id: the ones its route-table checks judge.

        A participant in a shared VPC describes the owner's route tables too (AWS: participants
        can describe the VPC and its subnets, route tables, network ACLs, gateways and DHCP
        option sets), but only the owner can change them, and the participant does not see the
        owner's endpoints they route to: judged here, they would be reported again, under the
        participant's account, some falsely. A table without an owner (a snapshot that did not
        say) counts as owned unless its VPC is another account's.
        https://docs.aws.amazon.com/vpc/latest/userguide/vpc-sharing.html"""
        shared = {vpc.vpc_id for vpc in self.data.vpcs if not self.owns(vpc)}
        return tuple(
            sorted(
                (
                    table
                    for table in self.data.route_tables
                    if table.owner_id in (None, "", self.account_id) and table.vpc_id not in shared
                ),
                key=lambda t: t.route_table_id,
            )
        )

    @cached_property
    def subnets_by_id(self) -> dict[str, Subnet]:
        return {subnet.subnet_id: subnet for subnet in self.data.subnets}

    @cached_property
    def subnets_by_vpc(self) -> dict[str, tuple[Subnet, ...]]:
        grouped: dict[str, list[Subnet]] = defaultdict(list)
        for subnet in self.data.subnets:
            grouped[subnet.vpc_id].append(subnet)
        return {vpc_id: tuple(subnets) for vpc_id, subnets in grouped.items()}

    @cached_property
    def route_tables_by_id(self) -> dict[str, RouteTable]:
        return {table.route_table_id: table for table in self.data.route_tables}

    @cached_property
    def main_route_table_by_vpc(self) -> dict[str, RouteTable]:
        return {table.vpc_id: table for table in self.data.route_tables if table.is_main}

    @cached_property
    def route_table_by_subnet(self) -> dict[str, RouteTable]:
        """Each subnet's effective route table: its explicit association, else the main table."""
        effective: dict[str, RouteTable] = {}
        for table in self.data.route_tables:
            for subnet_id in table.subnet_ids:
                effective[subnet_id] = table
        for subnet in self.data.subnets:
            if subnet.subnet_id not in effective:
                main = self.main_route_table_by_vpc.get(subnet.vpc_id)
                if main is not None:
                    effective[subnet.subnet_id] = main
        return effective

    @cached_property
    def subnets_by_route_table(self) -> dict[str, tuple[str, ...]]:
        """Subnets whose traffic each route table decides (explicit and implicit), sorted."""
        grouped: dict[str, list[str]] = defaultdict(list)
        for subnet_id, table in self.route_table_by_subnet.items():
            grouped[table.route_table_id].append(subnet_id)
        return {table_id: tuple(sorted(ids)) for table_id, ids in grouped.items()}

    # -- endpoints and services ------------------------------------------------------------

    @cached_property
    def live_endpoints(self) -> tuple[VpcEndpoint, ...]:
        """Endpoints that are not deleted or being deleted, sorted by id."""
        return tuple(
            sorted(
                (endpoint for endpoint in self.data.vpc_endpoints if not endpoint.is_deleted),
                key=lambda endpoint: endpoint.endpoint_id,
            )
        )

    @cached_property
    def live_endpoints_by_vpc(self) -> dict[str, tuple[VpcEndpoint, ...]]:
        grouped: dict[str, list[VpcEndpoint]] = defaultdict(list)
        for endpoint in self.live_endpoints:
            grouped[endpoint.vpc_id].append(endpoint)
        return {vpc_id: tuple(endpoints) for vpc_id, endpoints in grouped.items()}

    @cached_property
    def _gateway_endpoints(self) -> dict[tuple[str, str], tuple[VpcEndpoint, ...]]:
        # Rules ask once per route table; a VPC may hold thousands of tables and of endpoints.
        grouped: dict[tuple[str, str], list[VpcEndpoint]] = defaultdict(list)
        for endpoint in self.live_endpoints:
            if endpoint.is_gateway:
                grouped[(endpoint.vpc_id, endpoint.service_name)].append(endpoint)
        return {key: tuple(found) for key, found in grouped.items()}

    def gateway_endpoints(self, vpc_id: str, service_name: str) -> list[VpcEndpoint]:
        """The VPC's live gateway endpoints for the service, sorted by id."""
        return list(self._gateway_endpoints.get((vpc_id, service_name), ()))

    @cached_property
    def service_details_by_name(self) -> dict[str, tuple[EndpointServiceDetail, ...]]:
        """AWS lists some services twice under one name (S3: Gateway and Interface)."""
        return _details_by_name(self.data.endpoint_service_details)

    def service_detail(self, endpoint: VpcEndpoint) -> EndpointServiceDetail | None:
        """The service an endpoint connects to, matched on name and endpoint type."""
        candidates = self.service_details_by_name.get(endpoint.service_name, ())
        for detail in candidates:
            if endpoint.endpoint_type in detail.service_types:
                return detail
        return candidates[0] if candidates else None

    @cached_property
    def security_groups_by_id(self) -> dict[str, SecurityGroup]:
        return {group.group_id: group for group in self.data.security_groups}

    @cached_property
    def group_vpc_associations(self) -> dict[tuple[str, str], str] | None:
        """The state of each association of the account's groups with other VPCs, by (group id,
        VPC id); None where they are unknown (not listed: a snapshot before schema 8, or the
        listing failed)."""
        listed = self.data.security_group_vpc_associations
        if listed is None or "security_group_vpc_associations" in self.failed_kinds:
            return None
        return {(a.group_id, a.vpc_id): a.state.lower() for a in listed}

    @cached_property
    def dhcp_options_by_id(self) -> dict[str, DhcpOptions]:
        return {options.dhcp_options_id: options for options in self.data.dhcp_options}

    @cached_property
    def prefix_lists_by_id(self) -> dict[str, PrefixList]:
        return {plist.prefix_list_id: plist for plist in self.data.prefix_lists}

    @cached_property
    def prefix_lists_by_name(self) -> dict[str, PrefixList]:
        return {plist.prefix_list_name: plist for plist in self.data.prefix_lists}

    @cached_property
    def _route_indexes(self) -> dict[str, RouteIndex]:
        return {}

    def route_index(self, table: RouteTable) -> RouteIndex:
        """The table's routes parsed once for every question the rules ask of it."""
        index = self._route_indexes.get(table.route_table_id)
        if index is None:
            index = RouteIndex(table, self.prefix_lists_by_id)
            self._route_indexes[table.route_table_id] = index
        return index

    def service_name(self, short_name: str) -> str:
        """The regional AWS service name, e.g. 's3' -> 'com.amazonaws.eu-west-1.s3'."""
        return f"com.amazonaws.{self.region}.{short_name}"

    @cached_property
    def network_acl_by_subnet(self) -> dict[str, NetworkAcl]:
        return {subnet_id: acl for acl in self.data.network_acls for subnet_id in acl.subnet_ids}

    @cached_property
    def resolver_endpoints_by_vpc(self) -> dict[str, tuple[ResolverEndpoint, ...]]:
        grouped: dict[str, list[ResolverEndpoint]] = defaultdict(list)
        for endpoint in self.data.resolver_endpoints:
            grouped[endpoint.vpc_id].append(endpoint)
        return {vpc_id: tuple(found) for vpc_id, found in grouped.items()}

    @cached_property
    def vpc_attachments_by_vpc(self) -> dict[str, tuple[TransitGatewayAttachment, ...]]:
        """Live transit-gateway VPC attachments of each VPC."""
        grouped: dict[str, list[TransitGatewayAttachment]] = defaultdict(list)
        for attachment in self.data.transit_gateway_attachments:
            if (
                attachment.resource_type == "vpc"
                and attachment.resource_id
                and attachment.state in LIVE_ATTACHMENT_STATES
            ):
                grouped[attachment.resource_id].append(attachment)
        return {vpc_id: tuple(found) for vpc_id, found in grouped.items()}

    @cached_property
    def route_tables_with_subnets_by_vpc(self) -> dict[str, tuple[RouteTable, ...]]:
        """Route tables that decide some subnet's traffic, per VPC, sorted by id."""
        grouped: dict[str, list[RouteTable]] = defaultdict(list)
        for table in sorted(self.data.route_tables, key=lambda t: t.route_table_id):
            if self.subnets_by_route_table.get(table.route_table_id):
                grouped[table.vpc_id].append(table)
        return {vpc_id: tuple(tables) for vpc_id, tables in grouped.items()}


DetailIndex = dict[str, tuple[EndpointServiceDetail, ...]]
_DETAIL_INDEXES: dict[int, tuple[tuple[EndpointServiceDetail, ...], DetailIndex]] = {}
_DETAIL_INDEXES_KEPT = 256


def _details_by_name(details: tuple[EndpointServiceDetail, ...]) -> DetailIndex:
    """The index of a region's services, one per catalogue: the account-regions that saw one
    catalogue share its tuple (snapshot/catalogue.py), and an organisation has thousands. The
    cache holds the tuple it indexed, so an id is never taken for another tuple's."""
    known = _DETAIL_INDEXES.get(id(details))
    if known is not None and known[0] is details:
        return known[1]
    grouped: dict[str, list[EndpointServiceDetail]] = defaultdict(list)
    for detail in details:
        grouped[detail.service_name].append(detail)
    index = {name: tuple(found) for name, found in grouped.items()}
    if len(_DETAIL_INDEXES) >= _DETAIL_INDEXES_KEPT:
        del _DETAIL_INDEXES[next(iter(_DETAIL_INDEXES))]
    _DETAIL_INDEXES[id(details)] = (details, index)
    return index


def answered(region: RegionSnapshot) -> bool:
    """Whether the account answered in this region: no service control policy refused it and
    its DescribeVpcs did not fail. An account that answered nowhere was not seen at all, and
    the regions an SCP refused it are then gaps, not regions left out (``denied_everywhere``)."""
    return region.out_of_scope is None and not any(
        error.resource_kind == "vpcs" and error.resource_id is None for error in region.errors
    )


LIVE_ATTACHMENT_STATES = frozenset({"available", "modifying", "pendingAcceptance", "pending"})
CARRYING_ATTACHMENT_STATES = frozenset({"available", "modifying"})
"""Of the live states, those in which an attachment carries traffic (pending and
pendingAcceptance ones do not yet)."""


DEAD_PROFILE_STATES = frozenset({"DELETING", "DELETED", "FAILED"})
HOSTED_ZONE_RESOURCE = "AWS::Route53::HostedZone"


@dataclass(frozen=True)
class Snapshot:
    """The whole snapshot as the rules see it."""

    document: SnapshotDocument

    @cached_property
    def scopes(self) -> tuple[ScopeView, ...]:
        """The account-regions to judge; those a service control policy keeps out are not."""
        ordered = sorted(self.document.regions, key=lambda r: (r.account_id, r.region))
        return tuple(ScopeView(region) for region in ordered if region.out_of_scope is None)

    @cached_property
    def _security_groups_by_vpc(self) -> dict[tuple[str, str | None], dict[str, SecurityGroup]]:
        found: dict[tuple[str, str | None], dict[str, SecurityGroup]] = defaultdict(dict)
        for scope in self.scopes:
            for group in scope.data.security_groups:
                found[(scope.region, group.vpc_id)][group.group_id] = group
        return dict(found)

    def security_groups_of(self, region: str, vpc_id: str) -> dict[str, SecurityGroup]:
        """The groups of a VPC that every scanned account lists, by id: in a shared VPC, each
        participant's groups are its own account's
        (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-sharing.html). Only the VPC's:
        whether a reference to a group of another VPC admits anything depends on how the VPCs
        are connected (a peering; a transit gateway with referencing on, not read)."""
        return self._security_groups_by_vpc.get((region, vpc_id), {})

    @cached_property
    def scope_by_place(self) -> dict[tuple[str, str], ScopeView]:
        """Each scope of ``scopes`` by (account id, region)."""
        return {(scope.account_id, scope.region): scope for scope in self.scopes}

    @cached_property
    def out_of_scope(self) -> tuple[RegionSnapshot, ...]:
        """Regions a service control policy keeps out of the organisation: denied where the
        same account was let in elsewhere (see ``denied_everywhere``)."""
        return tuple(r for r in self._denied if r.account_id in self._reached_accounts)

    @cached_property
    def denied_everywhere(self) -> tuple[RegionSnapshot, ...]:
        """Regions refused by an SCP in an account that no scanned region let in.

        AWS's message says that an SCP denied the call, not why: a region deny (Control Tower's)
        and a policy that denies the scanner's role everywhere read the same. Only the first
        keeps a region out of scope; told apart by whether the account answered DescribeVpcs
        in some other region. Where it answered nowhere, nothing of the account was seen, and
        these regions are collection gaps (``coverage_gaps``), so the scan is incomplete rather
        than clean. A scan of one region that an SCP denies is such a gap too: leave the
        region out with --exclude-region when that is intended."""
        return tuple(r for r in self._denied if r.account_id not in self._reached_accounts)

    @cached_property
    def _denied(self) -> tuple[RegionSnapshot, ...]:
        denied = (region for region in self.document.regions if region.out_of_scope is not None)
        return tuple(sorted(denied, key=lambda r: (r.account_id, r.region)))

    @cached_property
    def _reached_accounts(self) -> frozenset[str]:
        """Accounts with a region whose DescribeVpcs answered."""
        return frozenset(region.account_id for region in self.document.regions if answered(region))

    @cached_property
    def accounts_by_id(self) -> dict[str, AccountSnapshot]:
        return {account.account_id: account for account in self.document.accounts}

    @cached_property
    def account_ids(self) -> tuple[str, ...]:
        ids = {account.account_id for account in self.document.accounts}
        ids.update(region.account_id for region in self.document.regions)
        return tuple(sorted(ids))

    @cached_property
    def all_errors(self) -> tuple[CollectionError, ...]:
        """Every recorded collection error, and the gaps of the document itself."""
        errors: list[CollectionError] = []
        for account in sorted(self.document.accounts, key=lambda a: a.account_id):
            errors.extend(account.errors)
        for scope in self.scopes:
            errors.extend(scope.data.errors)
        return tuple(errors) + self.coverage_gaps

    @cached_property
    def coverage_gaps(self) -> tuple[CollectionError, ...]:
        """What a hand-made or partial document lacks, as errors, so that the scan is incomplete
        and the account's SARIF alerts stay open: an account-region without its account's
        account-wide facts, an account with neither a region nor a recorded error, and a region
        an SCP denied in an account that no region let in (``denied_everywhere``)."""
        scoped = {region.account_id for region in self.document.regions}
        gaps = [
            _gap(account_id, "organization", "the snapshot has no account-wide facts for it")
            for account_id in sorted(scoped - set(self.accounts_by_id))
        ]
        shards = self.document.shards
        # In a part of a split, an account without a region here is named by the missing
        # shards' gap below: one gap, not two.
        gaps += [
            _gap(account.account_id, "regions", "the snapshot has no region of it")
            for account in sorted(self.document.accounts, key=lambda a: a.account_id)
            if account.account_id not in scoped and not account.errors and shards is None
        ]
        gaps += self.shard_gaps
        gaps += [
            CollectionError(
                account_id=region.account_id,
                region=region.region,
                service="ec2",
                operation="DescribeVpcs",
                error_code="DeniedEverywhere",
                message=(
                    "a service control policy denied the scanner here and in every other region "
                    f"of account {region.account_id} that was scanned, so this is not a region "
                    f"the organisation leaves out: nothing here was judged ({region.out_of_scope})"
                ),
                resource_kind="vpcs",
            )
            for region in self.denied_everywhere
        ]
        return tuple(gaps)

    @cached_property
    def shard_gaps(self) -> tuple[CollectionError, ...]:
        """In a part of a split (a shard, or shards not all merged), a gap per account: any
        account may have account-regions in the shards that are not here."""
        shards = self.document.shards
        if shards is None:
            return ()
        missing = shards.describe_missing()
        return tuple(
            _gap(
                account_id,
                "regions",
                f"{missing} {'were' if len(shards.missing) > 1 else 'was'} not merged in, "
                "and its account-regions there were not collected",
            )
            for account_id in self.account_ids
        )

    def peering_connections(
        self, scopes: Iterable[ScopeView] | None = None
    ) -> Iterator[tuple[ScopeView, PeeringConnection]]:
        """Each peering connection once, from the scope that best describes it.

        A cross-account or cross-region connection shows up in both sides' scopes. The
        requester's scope is preferred so the reported ARN is stable whichever side was scanned.
        """
        chosen: dict[str, tuple[ScopeView, PeeringConnection]] = {}
        for scope in self.scopes if scopes is None else scopes:
            for connection in scope.data.peering_connections:
                current = chosen.get(connection.peering_connection_id)
                is_requester_scope = (
                    connection.requester.owner_id == scope.account_id
                    and (connection.requester.region or scope.region) == scope.region
                )
                if current is None or is_requester_scope:
                    chosen[connection.peering_connection_id] = (scope, connection)
        for connection_id in sorted(chosen):
            yield chosen[connection_id]

    @cached_property
    def vpcs_by_id(self) -> dict[str, tuple[ScopeView, Vpc]]:
        """Every VPC of every scope, as its owner's scope has it when the owner was scanned (a
        participant of a shared VPC sees it too, without its attributes' context). VPC ids are
        unique across accounts and regions."""
        found: dict[str, tuple[ScopeView, Vpc]] = {}
        for scope in self.scopes:
            for vpc in scope.data.vpcs:
                if vpc.vpc_id not in found or scope.owns(vpc):
                    found[vpc.vpc_id] = (scope, vpc)
        return found

    @cached_property
    def unjudged_shared_vpcs(self) -> tuple[tuple[ScopeView, Vpc], ...]:
        """VPCs shared with a scanned account by an owner whose account-region was not scanned:
        no scope judges them (ScopeView.own_vpcs), so the scan says so. Each once, in the
        first participant's scope."""
        judged = {vpc.vpc_id for scope in self.scopes for vpc in scope.own_vpcs}
        unjudged: dict[str, tuple[ScopeView, Vpc]] = {}
        for scope in self.scopes:
            for vpc in scope.data.vpcs:
                if vpc.vpc_id not in judged and vpc.vpc_id not in unjudged:
                    unjudged[vpc.vpc_id] = (scope, vpc)
        return tuple(unjudged[vpc_id] for vpc_id in sorted(unjudged))

    @cached_property
    def service_providers(self) -> dict[str, str]:
        """Endpoint service name -> the scanned account that provides it
        (DescribeVpcEndpointServiceConfigurations in the provider's own scope): a consumer's
        catalogue may no longer list a service its endpoint still connects to."""
        return {
            service.service_name: scope.account_id
            for scope in self.scopes
            for service in scope.data.endpoint_service_configurations
        }

    @cached_property
    def endpoints_by_id(self) -> dict[str, tuple[ScopeView, VpcEndpoint]]:
        """Every endpoint of every scope, deleted ones included (they say a record dangles)."""
        return {
            endpoint.endpoint_id: (scope, endpoint)
            for scope in self.scopes
            for endpoint in scope.data.vpc_endpoints
        }

    @cached_property
    def private_zones_by_vpc(self) -> dict[tuple[str, str], tuple[HostedZone, ...]]:
        """Private hosted zones of every scanned account, by the (region, VPC) they serve."""
        grouped: dict[tuple[str, str], list[HostedZone]] = defaultdict(list)
        for account in sorted(self.document.accounts, key=lambda a: a.account_id):
            for zone in account.hosted_zones:
                if zone.private:
                    for association in zone.vpcs or ():
                        grouped[(association.region, association.vpc_id)].append(zone)
        return {key: tuple(zones) for key, zones in grouped.items()}

    @cached_property
    def zones_with_unknown_associations(self) -> tuple[HostedZone, ...]:
        return tuple(
            zone
            for account in self.document.accounts
            for zone in account.hosted_zones
            if zone.private and zone.vpcs is None
        )

    @cached_property
    def zones_by_id(self) -> dict[str, HostedZone]:
        return {
            zone.hosted_zone_id: zone
            for account in self.document.accounts
            for zone in account.hosted_zones
        }

    @cached_property
    def listed_zones_by_vpc(self) -> dict[tuple[str, str], tuple[ZoneSummary, ...] | None]:
        """ListHostedZonesByVPC's answers, by (region, VPC); None where it failed. Where two
        accounts answered for one VPC (a shared VPC), an answer beats a failure, whatever the
        order the accounts were read in."""
        found: dict[tuple[str, str], tuple[ZoneSummary, ...] | None] = {}
        for account in sorted(self.document.accounts, key=lambda a: a.account_id):
            for listed in account.vpc_zones:
                key = (listed.region, listed.vpc_id)
                if found.get(key) is None:
                    found[key] = listed.zones
                elif listed.zones is not None:
                    earlier = found[key] or ()
                    merged = {z.hosted_zone_id: z for z in (*earlier, *listed.zones)}
                    found[key] = tuple(merged[i] for i in sorted(merged))
        return found

    def zones_for(self, scope: ScopeView, vpc_id: str) -> tuple[HostedZone, ...]:
        """The private hosted zones that answer in the VPC: scanned zones associated with it,
        directly or through a Route 53 Profile, and zones ListHostedZonesByVPC names that no
        scanned account holds (owned by another account or an AWS service), whose associations
        and records are unknown."""
        return self._zones_by_vpc.get((scope.region, vpc_id), ())

    @cached_property
    def _zones_by_vpc(self) -> dict[tuple[str, str], tuple[HostedZone, ...]]:
        # Rules ask for a VPC's zones once per name they resolve: gathered once.
        found: dict[tuple[str, str], tuple[HostedZone, ...]] = {}
        keys = {*self.private_zones_by_vpc, *self.listed_zones_by_vpc, *self._profile_zone_ids}
        for key in keys:
            own = list(self.private_zones_by_vpc.get(key, ()))
            known = {zone.hosted_zone_id for zone in own}
            for zone_id in self._profile_zone_ids.get(key) or ():
                if zone_id not in known:
                    own.append(self.zones_by_id[zone_id])
                    known.add(zone_id)
            foreign = [
                self.zones_by_id.get(summary.hosted_zone_id)
                or HostedZone(summary.hosted_zone_id, summary.name, True, None, None)
                for summary in self.listed_zones_by_vpc.get(key) or ()
                if summary.hosted_zone_id not in known
            ]
            found[key] = (*own, *foreign)
        return found

    def zone_list_known(self, scope: ScopeView, vpc_id: str) -> bool:
        """Whether every private zone that may answer in the VPC is known. False when
        ListHostedZonesByVPC failed for it, or when a Route 53 Profile associated with it carries
        resources the snapshot cannot place (an unreadable profile, another account's zone,
        an endpoint or a Resolver rule). A snapshot that lacks ListHostedZonesByVPC altogether
        describes the scanned accounts' own zones only."""
        key = (scope.region, vpc_id)
        listed = key not in self.listed_zones_by_vpc or self.listed_zones_by_vpc[key] is not None
        return listed and self._profile_zone_ids.get(key, ()) is not None

    @cached_property
    def _resolver_rules_by_vpc(self) -> dict[str, tuple[ResolverRule, ...]]:
        grouped: dict[str, list[ResolverRule]] = defaultdict(list)
        for scope in self.scopes:
            for rule in scope.data.resolver_rules or ():
                for vpc_id in rule.vpc_ids:
                    grouped[vpc_id].append(rule)
        return {
            vpc_id: tuple(sorted(rules, key=lambda r: r.rule_id))
            for vpc_id, rules in grouped.items()
        }

    def resolver_rules(self, vpc_id: str) -> tuple[ResolverRule, ...]:
        """The Route 53 Resolver rules associated with the VPC, by id
        (``resolver_rules_unknown`` says whether that is all of them)."""
        return self._resolver_rules_by_vpc.get(vpc_id, ())

    @cached_property
    def _resolver_rules_by_domain(self) -> dict[str, dict[str | None, tuple[ResolverRule, ...]]]:
        indexed: dict[str, dict[str | None, tuple[ResolverRule, ...]]] = {}
        for vpc_id, rules in self._resolver_rules_by_vpc.items():
            by_domain: dict[str | None, list[ResolverRule]] = defaultdict(list)
            for rule in rules:
                domain = None if rule.domain_name is None else normalise(rule.domain_name)
                by_domain[domain].append(rule)
            indexed[vpc_id] = {domain: tuple(found) for domain, found in by_domain.items()}
        return indexed

    def resolver_rules_by_domain(self, vpc_id: str) -> dict[str | None, tuple[ResolverRule, ...]]:
        """The VPC's rules by normalised domain ("" for the root; None for a rule whose domain
        is unknown): a name's rules are found by walking its suffixes, not every rule."""
        return self._resolver_rules_by_domain.get(vpc_id, {})

    @cached_property
    def _resolver_rules_unknown(self) -> dict[tuple[str, str, str], str | None]:
        return {}

    def resolver_rules_unknown(self, scope: ScopeView, vpc_id: str) -> str | None:
        """Why the Resolver rules associated with the VPC are not known, or None when they
        are. Only a VPC's owner associates rules with it: its owner's account-region tells (the
        asking scope, for a VPC the snapshot does not list)."""
        key = (scope.account_id, scope.region, vpc_id)
        cache = self._resolver_rules_unknown
        if key not in cache:
            cache[key] = self._why_rules_unknown(scope, vpc_id)
        return cache[key]

    def _why_rules_unknown(self, asking: ScopeView, vpc_id: str) -> str | None:
        scope: ScopeView | None = asking
        found = self.vpcs_by_id.get(vpc_id)
        if found is not None and not found[0].owns(found[1]):
            # Seen only by an account it is shared with: its owner's account-region tells, if
            # it was scanned (its VPC listing may have failed there).
            owner = found[1].owner_id
            scope = self.scope_by_place.get((owner, found[0].region))
            if scope is None:
                return (
                    f"{vpc_id} belongs to account {owner}, whose {found[0].region} was not "
                    "scanned, and only its owner associates rules with it"
                )
        elif found is not None:
            scope = found[0]
        # (A VPC the snapshot does not list at all: the asking scope, where its endpoints are.)
        assert scope is not None
        errors = scope.failed_kinds.get("resolver_rules")
        if errors:
            return (
                f"they could not be listed in {scope.account_id}/{scope.region} "
                f"({summarise_errors(errors)})"
            )
        if scope.data.resolver_rules is None:
            return "the snapshot was written before Resolver rules were collected (schema 6)"
        return None

    @cached_property
    def _profile_zone_ids(self) -> dict[tuple[str, str], tuple[str, ...] | None]:
        """By (region, VPC) with live Route 53 Profile associations: the ids of the scanned
        hosted zones its profiles carry; None when a profile carries anything else, or its
        resources could not be read."""
        grouped: dict[tuple[str, str], list[ProfileAssociation]] = defaultdict(list)
        for scope in self.scopes:
            for association in scope.data.profile_associations:
                if association.status.upper() not in DEAD_PROFILE_STATES:
                    grouped[(scope.region, association.vpc_id)].append(association)
        return {key: self._placeable_zone_ids(found) for key, found in grouped.items()}

    def _placeable_zone_ids(
        self, associations: Iterable[ProfileAssociation]
    ) -> tuple[str, ...] | None:
        found: list[str] = []
        for association in associations:
            if association.resources is None:
                return None
            for resource in association.resources:
                zone_id = resource.resource_arn.rsplit("/", 1)[-1]
                placeable = resource.resource_type == HOSTED_ZONE_RESOURCE
                if not placeable or zone_id not in self.zones_by_id:
                    return None
                found.append(zone_id)
        return tuple(found)

    def endpoint_by_address(self, region: str) -> dict[str, str]:
        """Private addresses of interface endpoints' network interfaces -> endpoint id, as a VPC
        of ``region`` reaches them: an address held in the region by interfaces of several
        endpoints (VPCs with overlapping blocks, in other accounts) is left out
        (``endpoints_holding`` names them); one held in no interface of the region by its
        holder elsewhere (a remote region's endpoint, through inter-region peering)."""
        if region not in self._by_address:
            self._by_address[region] = {
                address: holders[0]
                for address in self._endpoint_addresses
                for holders in [self.endpoints_holding(region, address)]
                if len(holders) == 1
            }
        return self._by_address[region]

    def endpoints_holding(self, region: str, address: str) -> tuple[str, ...]:
        """The endpoints whose interfaces hold ``address`` (canonical), those of ``region``
        first: where some are, only those."""
        held = self._endpoint_addresses.get(address, ())
        local = tuple(dict.fromkeys(e for r, e, _ in held if r == region))
        return local or tuple(dict.fromkeys(e for _, e, _ in held))

    def interface_subnet(self, address: str, endpoint_id: str) -> str | None:
        """The subnet of ``endpoint_id``'s interface that holds ``address`` (canonical)."""
        for _, endpoint, subnet in self._endpoint_addresses.get(address, ()):
            if endpoint == endpoint_id:
                return subnet
        return None

    @cached_property
    def _by_address(self) -> dict[str, dict[str, str]]:
        return {}

    @cached_property
    def _endpoint_addresses(self) -> dict[str, tuple[tuple[str, str, str | None], ...]]:
        """Address -> (region, endpoint, subnet) of each interface that holds it."""
        found: dict[str, list[tuple[str, str, str | None]]] = defaultdict(list)
        for scope in self.scopes:
            interfaces = {i.network_interface_id: i for i in scope.data.endpoint_interfaces}
            for endpoint in scope.data.vpc_endpoints:
                for interface_id in endpoint.network_interface_ids:
                    interface = interfaces.get(interface_id)
                    if interface is None:
                        continue
                    for address in interface.addresses:
                        found[canonical_address(address)].append(
                            (scope.region, endpoint.endpoint_id, interface.subnet_id)
                        )
        return {address: tuple(dict.fromkeys(held)) for address, held in found.items()}

    @cached_property
    def subnets_by_id(self) -> dict[str, tuple[ScopeView, Subnet]]:
        return {
            subnet.subnet_id: (scope, subnet)
            for scope in self.scopes
            for subnet in scope.data.subnets
        }

    # -- trust -------------------------------------------------------------------------------

    @cached_property
    def organization_members(self) -> frozenset[str]:
        """Every member account listed by any scanned account's ListAccounts."""
        return frozenset(
            member
            for account in self.document.accounts
            for member in account.organization_member_ids or ()
        )

    @cached_property
    def orgs_with_unknown_members(self) -> frozenset[str]:
        """Scanned organisations whose member list no scanned account could read."""
        listed = {
            account.organization_id
            for account in self.document.accounts
            if account.organization_member_ids is not None
        }
        return frozenset(
            account.organization_id
            for account in self.document.accounts
            if account.organization_id and account.organization_id not in listed
        )

    @cached_property
    def principal_accounts(self) -> dict[str, str]:
        """IAM unique id -> account, for the roles and users read from scanned accounts."""
        found: dict[str, str] = {}
        for account in self.document.accounts:
            for principal in account.iam_principals or ():
                found[principal.unique_id] = account.account_id
        return found

    @cached_property
    def principals_known(self) -> bool:
        """Whether the roles and users of every scanned account were read."""
        return all(account.iam_principals is not None for account in self.document.accounts)

    def trusted_set(
        self, configured_accounts: frozenset[str], configured_orgs: frozenset[str]
    ) -> TrustedSet:
        return TrustedSet.build(
            scanned_accounts=self.account_ids,
            scanned_org_ids=(a.organization_id for a in self.document.accounts),
            configured_accounts=configured_accounts,
            configured_orgs=configured_orgs,
            member_accounts=self.organization_members,
            orgs_with_unknown_members=self.orgs_with_unknown_members,
            principal_accounts=self.principal_accounts,
        )


def _gap(account_id: str, kind: str, what: str) -> CollectionError:
    return CollectionError(
        account_id=account_id,
        region="global",
        service="vpce-audit",
        operation="snapshot",
        error_code="NotCollected",
        message=f"account {account_id}: {what}; what depends on it was not judged",
        resource_kind=kind,
    )
