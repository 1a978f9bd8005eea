from __future__ import annotations

import dataclasses

from tests.helpers import (
    ACCOUNT,
    OTHER_ACCOUNT,
    REGION,
    endpoint,
    error,
    findings,
    flagged,
    ingress,
    region,
    security_group,
    skipped,
    subnet,
    vpc,
)
from vpce_audit.findings import Severity
from vpce_audit.model import (
    EndpointServiceDetail,
    NetworkAcl,
    NetworkAclEntry,
    PrefixList,
    RegionSnapshot,
    SecurityGroupVpcAssociation,
)
from vpce_audit.rules.builtin.placement import endpoint_az_coverage_gap, endpoint_not_available
from vpce_audit.rules.builtin.security_groups import (
    endpoint_nacl_blocks_vpc,
    endpoint_sg_all_traffic,
    endpoint_sg_blocks_vpc,
)


def groups_estate() -> RegionSnapshot:
    return region(
        vpcs=[vpc("vpc-1", "10.0.0.0/16", "10.1.0.0/16")],
        prefix_lists=[
            PrefixList("pl-corp", "corp", "111111111111", cidrs=("10.1.4.0/24",)),
            PrefixList("pl-other", "other", "111111111111", cidrs=("192.168.0.0/16",)),
            PrefixList("pl-unread", "unread", "111111111111", cidrs=None),
        ],
        security_groups=[
            security_group("sg-https-vpc", "vpc-1", ingress("10.0.0.0/16")),
            security_group("sg-all", "vpc-1", ingress("10.0.0.0/16", "-1", None)),
            security_group("sg-range", "vpc-1", ingress("10.0.0.0/8", ports=(0, 1024))),
            security_group("sg-udp", "vpc-1", ingress("10.0.5.0/24", "udp", (443, 443))),
            security_group("sg-icmp", "vpc-1", ingress("10.0.0.0/16", "icmp", (-1, -1))),
            security_group("sg-subnet-only", "vpc-1", ingress("10.0.3.0/24")),
            security_group("sg-supernet", "vpc-1", ingress("10.0.0.0/8")),
            security_group("sg-elsewhere", "vpc-1", ingress("192.168.0.0/16")),
            security_group("sg-wrong-port", "vpc-1", ingress("10.0.0.0/16", ports=(8443, 8443))),
            security_group("sg-pl", "vpc-1", ingress("pl-corp")),
            security_group("sg-pl-other", "vpc-1", ingress("pl-other")),
            security_group("sg-pl-unread", "vpc-1", ingress("pl-unread")),
            security_group("sg-ref", "vpc-1", ingress("sg-https-vpc")),
            security_group("sg-ref-other-vpc", "vpc-1", ingress("sg-foreign")),
            security_group("sg-foreign", "vpc-9", ingress("172.16.0.0/12")),
            security_group("sg-smtp", "vpc-1", ingress("10.0.0.0/16", ports=(587, 587))),
        ],
        vpc_endpoints=[
            endpoint(f"vpce-{name}", "vpc-1", "ssm", groups=(f"sg-{name}",))
            for name in (
                "https-vpc",
                "all",
                "range",
                "udp",
                "icmp",
                "subnet-only",
                "supernet",
                "elsewhere",
                "wrong-port",
                "pl",
                "pl-other",
                "pl-unread",
                "ref",
                "ref-other-vpc",
            )
        ]
        + [
            endpoint("vpce-smtp", "vpc-1", "email-smtp", groups=("sg-smtp",)),
            endpoint(
                "vpce-vendor",
                "vpc-1",
                "com.amazonaws.vpce.eu-west-1.vpce-svc-1",
                groups=("sg-wrong-port",),
            ),
            endpoint(
                "vpce-vendor-all",
                "vpc-1",
                "com.amazonaws.vpce.eu-west-1.vpce-svc-1",
                groups=("sg-all",),
            ),
        ],
    )


def test_302_flags_groups_wider_than_the_service_needs() -> None:
    found = findings(endpoint_sg_all_traffic, groups_estate())
    assert set(found) == {
        "vpce-all",
        "vpce-range",
        "vpce-udp",
        "vpce-wrong-port",
        "vpce-vendor-all",
    }
    assert "sg-range allows tcp 0-1024 from 10.0.0.0/8" in found["vpce-range"].message
    assert "all protocols" in found["vpce-all"].message


def test_303_flags_endpoints_unreachable_on_443_from_their_vpc() -> None:
    estate = groups_estate()
    assert flagged(endpoint_sg_blocks_vpc, estate) == {
        "vpce-udp",
        "vpce-icmp",
        "vpce-elsewhere",
        "vpce-wrong-port",
        "vpce-pl-other",
    }
    reasons = {s.resource_id: s.reason for s in skipped(endpoint_sg_blocks_vpc, estate)}
    # sg-foreign, of vpc-9, may be associated with vpc-1 (below).
    assert set(reasons) == {
        "vpce-pl-unread",
        "vpce-vendor",
        "vpce-vendor-all",
        "vpce-ref-other-vpc",
    }
    assert "known only to its provider" in reasons["vpce-vendor"]


def test_303_finds_a_group_of_its_vpc_that_another_account_lists() -> None:
    """In a shared VPC each participant's groups are its own account's
    (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-sharing.html): a rule referencing one
    is judged by it when that account was scanned. A group of another VPC, or of another
    region, is not looked up: whether a reference to it admits anything depends on how the VPCs
    are connected (and a group may be associated with several VPCs), so it stays unresolved."""
    owner = region(
        vpcs=[vpc("vpc-1", "10.0.0.0/16")],
        security_groups=[
            security_group("sg-endpoint", "vpc-1", ingress("sg-participant")),
            security_group("sg-endpoint-2", "vpc-1", ingress("sg-far")),
            security_group("sg-endpoint-3", "vpc-1", ingress("sg-unscanned")),
            security_group("sg-endpoint-4", "vpc-1", ingress("sg-other-region")),
        ],
        vpc_endpoints=[
            endpoint("vpce-participant", "vpc-1", "ssm", groups=("sg-endpoint",)),
            endpoint("vpce-far", "vpc-1", "ssm", groups=("sg-endpoint-2",)),
            endpoint("vpce-unscanned", "vpc-1", "ssm", groups=("sg-endpoint-3",)),
            endpoint("vpce-other-region", "vpc-1", "ssm", groups=("sg-endpoint-4",)),
        ],
    )
    participant = region(
        "222222222222",
        security_groups=[
            security_group("sg-participant", "vpc-1", ingress("10.0.0.0/16")),
            security_group("sg-far", "vpc-9", ingress("10.9.0.0/16")),
        ],
    )
    elsewhere = region(
        "222222222222", "us-east-1", security_groups=[security_group("sg-other-region", "vpc-1")]
    )
    unresolved = {"vpce-far", "vpce-unscanned", "vpce-other-region"}
    estate = (owner, participant, elsewhere)
    assert flagged(endpoint_sg_blocks_vpc, *estate) == set()
    assert {s.resource_id for s in skipped(endpoint_sg_blocks_vpc, *estate)} == unresolved
    # The participant not scanned: its group is unknown too, as before.
    assert {s.resource_id for s in skipped(endpoint_sg_blocks_vpc, owner)} == {
        "vpce-participant",
        *unresolved,
    }


def test_302_and_303_use_the_ports_aws_documents_for_each_service() -> None:
    """Keyspaces serves 9142 (https://docs.aws.amazon.com/keyspaces/latest/devguide/vpc-endpoints.html),
    IoT data 443, 8443 and 8883 (https://docs.aws.amazon.com/iot/latest/developerguide/protocols.html)."""
    estate = region(
        vpcs=[vpc("vpc-1", "10.0.0.0/16")],
        security_groups=[
            security_group("sg-9142", "vpc-1", ingress("10.0.0.0/16", ports=(9142, 9142))),
            security_group("sg-443", "vpc-1", ingress("10.0.0.0/16")),
            security_group("sg-mqtt", "vpc-1", ingress("10.0.0.0/16", ports=(8883, 8883))),
        ],
        vpc_endpoints=[
            endpoint("vpce-keyspaces", "vpc-1", "cassandra", groups=("sg-9142",)),
            endpoint("vpce-keyspaces-443", "vpc-1", "cassandra", groups=("sg-443",)),
            endpoint("vpce-iot", "vpc-1", "iot.data", groups=("sg-mqtt",)),
            endpoint("vpce-ssm-9142", "vpc-1", "ssm", groups=("sg-9142",)),
        ],
    )
    assert flagged(endpoint_sg_blocks_vpc, estate) == {"vpce-keyspaces-443", "vpce-ssm-9142"}
    excess = findings(endpoint_sg_all_traffic, estate)
    assert set(excess) == {"vpce-keyspaces-443", "vpce-ssm-9142"}
    assert "needs only tcp 9142" in excess["vpce-keyspaces-443"].message


def test_30x_skip_endpoints_aws_manages() -> None:
    estate = region(
        vpcs=[vpc("vpc-1", "10.0.0.0/16")],
        subnets=[subnet("subnet-a", "vpc-1", "a"), subnet("subnet-b", "vpc-1", "b")],
        security_groups=[security_group("sg-all", "vpc-1", ingress("0.0.0.0/0", "-1", None))],
        vpc_endpoints=[
            endpoint(
                "vpce-guardduty",
                "vpc-1",
                "guardduty-data",
                groups=("sg-all",),
                subnets=("subnet-a",),
                requester_managed=True,
            )
        ],
    )
    for rule in (endpoint_sg_all_traffic, endpoint_sg_blocks_vpc, endpoint_az_coverage_gap):
        result = findings(rule, estate)
        assert result == {}
        assert [s.resource_id for s in skipped(rule, estate)] == ["vpce-guardduty"]


def test_305_lists_the_zones_without_an_endpoint_interface() -> None:
    offered = EndpointServiceDetail(
        "com.amazonaws.eu-west-1.kms",
        ("Interface",),
        "amazon",
        True,
        availability_zones=("eu-west-1a", "eu-west-1b"),
    )
    estate = region(
        subnets=[
            subnet("subnet-a", "vpc-1", "a"),
            subnet("subnet-b", "vpc-1", "b"),
            subnet("subnet-c", "vpc-1", "c"),
            subnet("subnet-x", "vpc-2", "a"),
        ],
        endpoint_service_details=[offered],
        vpc_endpoints=[
            endpoint("vpce-ab", "vpc-1", "ssm", subnets=("subnet-a", "subnet-b")),
            endpoint("vpce-abc", "vpc-1", "ssm", subnets=("subnet-a", "subnet-b", "subnet-c")),
            endpoint("vpce-kms-ab", "vpc-1", "kms", subnets=("subnet-a", "subnet-b")),
            endpoint("vpce-alone", "vpc-2", "ssm", subnets=("subnet-x",)),
        ],
    )
    found = findings(endpoint_az_coverage_gap, estate)
    assert set(found) == {"vpce-ab"}
    assert "eu-west-1c" in found["vpce-ab"].message
    # Resilience, not cross-AZ cost: private DNS answers with every zone's addresses.
    assert "resilience" in found["vpce-ab"].message


def test_302_and_303_for_aurora_dsql_and_a_lattice_endpoint() -> None:
    """Aurora DSQL connection endpoints carry PostgreSQL on 5432
    (https://docs.aws.amazon.com/aurora-dsql/latest/userguide/accessing.html); a VPC Lattice
    endpoint has no service name, and the message names its service network instead."""
    network = "arn:aws:vpc-lattice:eu-west-1:111111111111:servicenetwork/sn-0a1b"
    estate = region(
        vpcs=[vpc("vpc-1", "10.0.0.0/16")],
        security_groups=[
            security_group("sg-5432", "vpc-1", ingress("10.0.0.0/16", ports=(5432, 5432))),
            security_group("sg-all", "vpc-1", ingress("10.0.0.0/16", "-1", None)),
        ],
        vpc_endpoints=[
            endpoint("vpce-dsql", "vpc-1", "dsql-fnh4", groups=("sg-5432",)),
            endpoint("vpce-dsql-api", "vpc-1", "dsql", groups=("sg-5432",)),
            endpoint(
                "vpce-lattice",
                "vpc-1",
                "",
                "ServiceNetwork",
                groups=("sg-all",),
                service_network_arn=network,
            ),
        ],
    )
    assert flagged(endpoint_sg_blocks_vpc, estate) == {"vpce-dsql-api"}
    excess = findings(endpoint_sg_all_traffic, estate)
    assert set(excess) == {"vpce-dsql-api", "vpce-lattice"}
    assert f"to {network} needs only its service's ports" in excess["vpce-lattice"].message


def test_306_flags_endpoints_that_carry_no_traffic() -> None:
    states = [
        "available",
        "pendingAcceptance",
        "pending",
        "failed",
        "rejected",
        "expired",
        "partial",
        "deleted",
        "deleting",
    ]
    estate = region(vpc_endpoints=[endpoint(f"vpce-{s}", "vpc-1", "ssm", state=s) for s in states])
    found = findings(endpoint_not_available, estate)
    assert set(found) == {
        "vpce-pendingAcceptance",
        "vpce-pending",
        "vpce-failed",
        "vpce-rejected",
        "vpce-expired",
        "vpce-partial",
    }
    assert found["vpce-failed"].severity is Severity.HIGH
    assert found["vpce-rejected"].severity is Severity.HIGH
    assert found["vpce-pending"].severity is Severity.MEDIUM


def test_306_gives_a_connection_request_a_day_before_judging_it() -> None:
    """pendingAcceptance is a normal wait for the provider's review, and pending a normal step of
    creation (https://docs.aws.amazon.com/vpc/latest/privatelink/concepts.html#concepts-endpoint-states);
    the region helper's snapshot is collected at 2026-11-26T00:00:00Z."""
    estate = region(
        vpc_endpoints=[
            endpoint(
                "vpce-new",
                "vpc-1",
                "ssm",
                state="pendingAcceptance",
                created_at="2026-11-25T12:00:00Z",
            ),
            endpoint(
                "vpce-old",
                "vpc-1",
                "ssm",
                state="pendingAcceptance",
                created_at="2026-11-20T00:00:00Z",
            ),
            endpoint(
                "vpce-creating", "vpc-1", "kms", state="pending", created_at="2026-11-25T23:59:00Z"
            ),
            # Failure is not a wait: judged however recent.
            endpoint(
                "vpce-failed", "vpc-1", "sts", state="failed", created_at="2026-11-25T23:59:00Z"
            ),
            endpoint("vpce-unknown-age", "vpc-1", "logs", state="pending"),
        ]
    )
    found = findings(endpoint_not_available, estate)
    assert set(found) == {"vpce-old", "vpce-failed", "vpce-unknown-age"}
    assert "6 days before collection" in found["vpce-old"].message
    assert sorted(s.resource_id or "" for s in skipped(endpoint_not_available, estate)) == [
        "vpce-creating",
        "vpce-new",
    ]


def _nacl_estate(*entries: NetworkAclEntry) -> RegionSnapshot:
    return region(
        vpcs=[vpc("vpc-1", "10.0.0.0/16", "10.1.0.0/16")],
        subnets=[subnet("subnet-a", "vpc-1", "a"), subnet("subnet-b", "vpc-1", "b")],
        network_acls=[
            NetworkAcl("acl-custom", "vpc-1", False, ("subnet-a",), entries),
            NetworkAcl(
                "acl-default",
                "vpc-1",
                True,
                ("subnet-b",),
                (
                    NetworkAclEntry(100, False, "-1", "allow", "0.0.0.0/0"),
                    NetworkAclEntry(100, True, "-1", "allow", "0.0.0.0/0"),
                    NetworkAclEntry(32767, False, "-1", "deny", "0.0.0.0/0"),
                    NetworkAclEntry(32767, True, "-1", "deny", "0.0.0.0/0"),
                ),
            ),
        ],
        vpc_endpoints=[
            endpoint("vpce-a", "vpc-1", "ssm", subnets=("subnet-a",)),
            endpoint("vpce-b", "vpc-1", "ssm", subnets=("subnet-b",)),
            endpoint("vpce-unknown-acl", "vpc-1", "ssm", subnets=("subnet-z",)),
        ],
    )


def _entry(
    number: int, egress: bool, action: str, cidr: str, ports: tuple[int, int] | None
) -> NetworkAclEntry:
    low, high = ports if ports else (None, None)
    return NetworkAclEntry(number, egress, "6" if ports else "-1", action, cidr, None, low, high)


def test_307_evaluates_rules_in_number_order_and_checks_return_traffic() -> None:
    """First match wins, lowest number first; ACLs are stateless
    (https://docs.aws.amazon.com/vpc/latest/userguide/nacl-rules.html)."""
    allows_all = (
        _entry(100, False, "allow", "10.0.0.0/8", (443, 443)),
        _entry(100, True, "allow", "10.0.0.0/8", (1024, 65535)),
    )
    assert flagged(endpoint_nacl_blocks_vpc, _nacl_estate(*allows_all)) == set()
    deny_first = (
        _entry(90, False, "deny", "10.1.0.0/16", (443, 443)),
        *allows_all,
    )
    found = findings(endpoint_nacl_blocks_vpc, _nacl_estate(*deny_first))
    assert set(found) == {"vpce-a"}
    assert "denies inbound 10.1.0.0/16 on tcp 443 (rule 90)" in found["vpce-a"].message
    deny_after = (*allows_all, _entry(200, False, "deny", "10.1.0.0/16", (443, 443)))
    assert flagged(endpoint_nacl_blocks_vpc, _nacl_estate(*deny_after)) == set()
    https_only_out = (
        _entry(100, False, "allow", "10.0.0.0/8", (443, 443)),
        _entry(100, True, "allow", "10.0.0.0/8", (443, 443)),
    )
    message = findings(endpoint_nacl_blocks_vpc, _nacl_estate(*https_only_out))["vpce-a"].message
    assert "denies return traffic to 10.0.0.0/16 on tcp 1024-65535 (the final * rule)" in message
    windows_only = (
        _entry(100, False, "allow", "10.0.0.0/8", (443, 443)),
        _entry(100, True, "allow", "10.0.0.0/8", (49152, 65535)),
    )
    windows = findings(endpoint_nacl_blocks_vpc, _nacl_estate(*windows_only))["vpce-a"]
    assert "tcp 1024-49151" in windows.message
    assert windows.severity is Severity.MEDIUM


def test_307_return_ports_below_32768_matter_to_lambda_not_to_instances() -> None:
    """NAT gateways, ELB and Lambda pick source ports from 1024-65535; Linux from 32768-60999,
    Windows from 49152-65535 (https://docs.aws.amazon.com/vpc/latest/userguide/nacl-ephemeral-ports.html)."""
    linux_range = (
        _entry(100, False, "allow", "10.0.0.0/8", (443, 443)),
        _entry(100, True, "allow", "10.0.0.0/8", (32768, 65535)),
    )
    found = findings(endpoint_nacl_blocks_vpc, _nacl_estate(*linux_range))["vpce-a"]
    assert found.severity is Severity.LOW
    assert "tcp 1024-32767" in found.message and "Lambda" in found.message


def test_307_skips_subnets_whose_acl_is_unknown() -> None:
    result = skipped(endpoint_nacl_blocks_vpc, _nacl_estate())
    assert [s.resource_id for s in result] == ["vpce-unknown-acl"]


def test_302_an_athena_group_open_on_444_as_athena_documents_is_not_too_wide() -> None:
    """Athena's JDBC driver streams results on 444 through the endpoint
    (https://docs.aws.amazon.com/athena/latest/ug/jdbc-v2.html); 445 is more than it needs."""
    estate = region(
        vpcs=[vpc("vpc-1", "10.0.0.0/16")],
        security_groups=[
            security_group(
                "sg-athena",
                "vpc-1",
                ingress("10.0.0.0/16"),
                ingress("10.0.0.0/16", ports=(444, 444)),
            ),
            security_group("sg-wider", "vpc-1", ingress("10.0.0.0/16", ports=(443, 445))),
        ],
        vpc_endpoints=[
            endpoint("vpce-athena", "vpc-1", "athena", groups=("sg-athena",)),
            endpoint("vpce-wider", "vpc-1", "athena", groups=("sg-wider",)),
        ],
    )
    found = findings(endpoint_sg_all_traffic, estate)
    assert set(found) == {"vpce-wider"}
    assert "needs only tcp 443, 444, but sg-wider allows tcp 443-445" in found["vpce-wider"].message


def test_303_a_group_of_another_vpc_may_have_members_in_the_endpoints_vpc() -> None:
    """A security group VPC association lets a group's members sit in another VPC of the region
    (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AssociateSecurityGroupVpc.html):
    a rule referencing the group then admits them. Judged by the owner's
    DescribeSecurityGroupVpcAssociations; where that is unknown, only what AWS refuses (a default
    group, the default VPC, another account's VPC not shared with the group's owner) settles it,
    and otherwise the endpoint is skipped, not flagged."""

    def judged(
        associations: tuple[SecurityGroupVpcAssociation, ...] | None = None,
        *,
        group_name: str = "clients",
        owner: str = ACCOUNT,
        default_vpc: bool = False,
        failed: bool = False,
    ) -> tuple[set[str], list[str]]:
        clients = dataclasses.replace(
            security_group("sg-clients", "vpc-9", ingress("172.16.0.0/12")),
            group_name=group_name,
            owner_id=owner,
        )
        estate = region(
            vpcs=[dataclasses.replace(vpc("vpc-1", "10.0.0.0/16"), is_default=default_vpc)],
            security_groups=[
                security_group("sg-endpoint", "vpc-1", ingress("sg-clients")),
                clients,
            ],
            vpc_endpoints=[endpoint("vpce-1", "vpc-1", "ssm", groups=("sg-endpoint",))],
            security_group_vpc_associations=associations,
            errors=[error("security_group_vpc_associations")] if failed else [],
        )
        reasons = [s.reason for s in skipped(endpoint_sg_blocks_vpc, estate)]
        return flagged(endpoint_sg_blocks_vpc, estate), reasons

    def associated(state: str, group: str = "sg-clients") -> tuple[SecurityGroupVpcAssociation]:
        return (SecurityGroupVpcAssociation(group, "vpc-1", state, vpc_owner_id=ACCOUNT),)

    unread = (
        "a rule for the service's ports admits a security group of another VPC that may have "
        f"members in vpc-1: sg-clients (of vpc-9) may be associated with vpc-1: {ACCOUNT}'s "
        f"security group VPC associations in {REGION} were not read"
    )
    assert judged() == (set(), [unread])  # a snapshot before schema 8
    assert judged((), failed=True) == (set(), [unread])
    # Known: associated, the group admits vpc-1's members; not associated, nothing does.
    assert judged(associated("associated")) == (set(), [])
    assert judged(associated("disassociation-failed")) == (set(), [])
    assert judged(()) == ({"vpce-1"}, [])
    assert judged(associated("associated", group="sg-endpoint")) == ({"vpce-1"}, [])
    assert judged(associated("association-failed")) == ({"vpce-1"}, [])
    assert judged(associated("disassociated")) == ({"vpce-1"}, [])
    assert judged(associated("associating")) == (
        set(),
        [
            "a rule for the service's ports admits a security group of another VPC that may "
            "have members in vpc-1: sg-clients's association with vpc-1 is associating"
        ],
    )
    # Unknown, but AWS refuses to associate these: flagged.
    assert judged(group_name="default") == ({"vpce-1"}, [])
    assert judged(default_vpc=True) == ({"vpce-1"}, [])
    # Another account's group: its owner's VPC list and associations were not scanned, and
    # vpc-1 may be shared with it.
    assert judged(owner=OTHER_ACCOUNT) == (
        set(),
        [unread.replace(f"{ACCOUNT}'s", f"{OTHER_ACCOUNT}'s")],
    )


def _participant_estate(**changes: object) -> RegionSnapshot:
    """ACCOUNT, a participant of OTHER_ACCOUNT's vpc-1 (its DescribeVpcs lists it), whose own
    group sg-clients of vpc-9 the endpoint's group references."""
    clients = security_group("sg-clients", "vpc-9", ingress("172.16.0.0/12"))
    base = region(
        vpcs=[vpc("vpc-1", "10.0.0.0/16", owner=OTHER_ACCOUNT), vpc("vpc-9", "172.16.0.0/12")],
        security_groups=[security_group("sg-endpoint", "vpc-1", ingress("sg-clients")), clients],
        vpc_endpoints=[endpoint("vpce-1", "vpc-1", "ssm", groups=("sg-endpoint",))],
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_303_a_vpc_shared_with_the_groups_owner_may_hold_its_members() -> None:
    """ "You can associate the security group with another VPC if your account owns the VPC or
    if the VPC was shared with you"
    (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AssociateSecurityGroupVpc.html):
    with the owner's associations unread, a VPC its DescribeVpcs lists may hold its members
    (skipped); one it does not list is another account's, not shared with it (flagged)."""
    unread = _participant_estate(
        security_group_vpc_associations=(),
        errors=(error("security_group_vpc_associations"),),
    )
    assert flagged(endpoint_sg_blocks_vpc, unread) == set()
    assert [s.resource_id for s in skipped(endpoint_sg_blocks_vpc, unread)] == ["vpce-1"]
    # Listed by the group's owner: the association decides, whoever owns the VPC.
    listed = _participant_estate(
        security_group_vpc_associations=(
            SecurityGroupVpcAssociation("sg-clients", "vpc-1", "associated", OTHER_ACCOUNT),
        )
    )
    assert (flagged(endpoint_sg_blocks_vpc, listed), skipped(endpoint_sg_blocks_vpc, listed)) == (
        set(),
        [],
    )


def test_303_the_groups_owner_lists_its_associations_not_the_vpcs_owner() -> None:
    """The group's owner lists its associations (it must own the group to make one): here the
    participant ACCOUNT, whose group of vpc-9 is associated with vpc-1, which OTHER_ACCOUNT owns
    and shares; the VPC owner's listing holds none of it."""
    mine = _participant_estate(
        security_group_vpc_associations=(
            SecurityGroupVpcAssociation("sg-clients", "vpc-1", "associated", OTHER_ACCOUNT),
        )
    )
    theirs = region(
        account=OTHER_ACCOUNT,
        vpcs=[vpc("vpc-1", "10.0.0.0/16", owner=OTHER_ACCOUNT)],
        security_group_vpc_associations=(),
    )
    assert flagged(endpoint_sg_blocks_vpc, mine, theirs) == set()
    assert skipped(endpoint_sg_blocks_vpc, mine, theirs) == []


def test_303_one_associated_group_of_several_is_enough() -> None:
    groups = [
        security_group("sg-endpoint", "vpc-1", ingress("sg-a"), ingress("sg-b")),
        security_group("sg-a", "vpc-8", ingress("172.16.0.0/12")),
        security_group("sg-b", "vpc-9", ingress("172.17.0.0/16")),
    ]

    def judged(*associated: str) -> set[str]:
        return flagged(
            endpoint_sg_blocks_vpc,
            region(
                vpcs=[vpc("vpc-1", "10.0.0.0/16")],
                security_groups=groups,
                vpc_endpoints=[endpoint("vpce-1", "vpc-1", "ssm", groups=("sg-endpoint",))],
                security_group_vpc_associations=tuple(
                    SecurityGroupVpcAssociation(g, "vpc-1", "associated", ACCOUNT)
                    for g in associated
                ),
            ),
        )

    assert judged("sg-b") == set()
    assert judged("sg-a", "sg-b") == set()
    assert judged() == {"vpce-1"}


def test_303_an_association_state_aws_adds_later_is_unknown() -> None:
    estate = region(
        vpcs=[vpc("vpc-1", "10.0.0.0/16")],
        security_groups=[
            security_group("sg-endpoint", "vpc-1", ingress("sg-clients")),
            security_group("sg-clients", "vpc-9", ingress("172.16.0.0/12")),
        ],
        vpc_endpoints=[endpoint("vpce-1", "vpc-1", "ssm", groups=("sg-endpoint",))],
        security_group_vpc_associations=(
            SecurityGroupVpcAssociation("sg-clients", "vpc-1", "pending-review", ACCOUNT),
        ),
    )
    assert flagged(endpoint_sg_blocks_vpc, estate) == set()
    assert [s.reason for s in skipped(endpoint_sg_blocks_vpc, estate)] == [
        "a rule for the service's ports admits a security group of another VPC that may have "
        "members in vpc-1: sg-clients's association with vpc-1 is pending-review"
    ]
