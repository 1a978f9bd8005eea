from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import (
    ACCOUNT,
    OTHER_ACCOUNT,
    REGION,
    document,
    endpoint,
    error,
    region,
    route,
    service_prefix_lists,
    subnet,
    table,
    vpc,
)
from vpce_audit.model import AccountSnapshot, HostedZone, HostedZoneVpc, RegionSnapshot
from vpce_audit.snapshot.document import (
    ShardSet,
    SnapshotDocument,
    SnapshotError,
    from_json,
    merge,
    read,
    to_json,
)
from vpce_audit.snapshot.views import Snapshot


def sample() -> SnapshotDocument:
    return document(
        region(
            vpcs=[vpc("vpc-1", "10.0.0.0/16", "10.1.0.0/16", dns=(True, None))],
            subnets=[subnet("subnet-1", "vpc-1"), subnet("subnet-2", "vpc-1", "b")],
            route_tables=[
                table("rtb-main", "vpc-1", route("0.0.0.0/0", "nat-1"), main=True),
                table("rtb-1", "vpc-1", subnets=("subnet-1",)),
            ],
            prefix_lists=service_prefix_lists(),
            vpc_endpoints=[endpoint("vpce-1", "vpc-1", "s3", "Gateway", tables=("rtb-1",))],
            errors=[error("vpc_attributes", "DescribeVpcAttribute", resource_id="vpc-1")],
        ),
        accounts=(
            AccountSnapshot(
                account_id="111111111111",
                collected_at="2026-11-26T00:00:00Z",
                organization_id="o-abc",
                hosted_zones=(
                    HostedZone(
                        "Z1", "example.internal.", True, (HostedZoneVpc("vpc-1", "eu-west-1"),)
                    ),
                ),
            ),
        ),
    )


def test_round_trip_is_lossless_and_stable() -> None:
    original = sample()
    text = to_json(original)
    assert from_json(text) == original
    assert to_json(from_json(text)) == text


def test_indexes_resolve_effective_route_tables() -> None:
    snap = Snapshot(sample())
    (scope,) = snap.scopes
    assert scope.route_table_by_subnet["subnet-1"].route_table_id == "rtb-1"
    assert scope.route_table_by_subnet["subnet-2"].route_table_id == "rtb-main"
    assert scope.subnets_by_route_table == {"rtb-1": ("subnet-1",), "rtb-main": ("subnet-2",)}
    assert scope.prefix_lists_by_name["com.amazonaws.eu-west-1.s3"].prefix_list_id == "pl-6da54004"
    assert [e.endpoint_id for e in scope.live_endpoints_by_vpc["vpc-1"]] == ["vpce-1"]
    assert scope.resource_errors["vpc-1"][0].operation == "DescribeVpcAttribute"
    assert scope.failed_kinds == {}


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (lambda d: d.update(format="other"), "not a vpce-audit snapshot"),
        (lambda d: d.update(schema_version=99), "schema version 99"),
        (lambda d: d["regions"][0].update(colour="blue"), r"unknown key\(s\) colour"),
        (lambda d: d["regions"][0]["vpcs"][0].pop("vpc_id"), "missing required key 'vpc_id'"),
        (lambda d: d["regions"][0]["vpcs"][0].update(is_default="yes"), "expected true or false"),
        (lambda d: d["regions"][0].update(vpcs={}), r"regions\[0\].vpcs: expected an array"),
        (lambda d: d.update(regions=[d["regions"][0], d["regions"][0]]), "appears twice"),
    ],
)
def test_malformed_documents_are_rejected_with_the_path(mutate: object, problem: str) -> None:
    body = json.loads(to_json(sample()))
    mutate(body)  # type: ignore[operator]
    with pytest.raises(SnapshotError, match=problem):
        from_json(json.dumps(body))


def test_unreadable_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="cannot read snapshot"):
        read(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(SnapshotError, match="not valid JSON"):
        read(broken)
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(SnapshotError, match="not UTF-8"):
        read(binary)


def test_shards_merge_and_refuse_overlapping_scopes() -> None:
    east = document(region(name="us-east-1"))
    west = document(region(name="eu-west-1"))
    merged = merge([east, west], tool_version="t", created_at="now")
    assert [r.region for r in merged.regions] == ["us-east-1", "eu-west-1"]
    assert [a.account_id for a in merged.accounts] == ["111111111111"]
    with pytest.raises(SnapshotError, match="is in two snapshots"):
        merge([east, east], tool_version="t", created_at="now")


def test_an_account_in_several_shards_takes_the_newest_facts_and_keeps_every_error() -> None:
    from tests.helpers import error
    from vpce_audit.model import VpcZones

    older = document(
        region(name="ap-south-1"),
        accounts=(
            AccountSnapshot(
                "111111111111",
                "2026-11-26T00:00:00Z",
                "o-older0000",
                vpc_zones=(VpcZones("vpc-1", "ap-south-1", ()),),
                errors=(error("hosted_zones", "ListHostedZones", where="global"),),
            ),
        ),
    )
    newer = document(
        region(name="eu-west-1"),
        accounts=(
            AccountSnapshot(
                "111111111111",
                "2026-11-26T00:05:00Z",
                "o-newer0000",
                vpc_zones=(VpcZones("vpc-2", "eu-west-1", ()),),
            ),
        ),
    )
    (account,) = merge([older, newer], tool_version="t", created_at="now").accounts
    assert account.organization_id == "o-newer0000"
    assert [(z.vpc_id, z.region) for z in account.vpc_zones] == [
        ("vpc-1", "ap-south-1"),
        ("vpc-2", "eu-west-1"),
    ]
    assert len(account.errors) == 1


def _fields_reachable_from(cls: type) -> set[str]:
    """Every dataclass field name in the snapshot's object graph below ``cls``."""
    import dataclasses
    import typing

    names: set[str] = set()
    pending: list[type] = [cls]
    seen: set[type] = set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        for item in dataclasses.fields(current):
            names.add(item.name)
            stack = [typing.get_type_hints(current)[item.name]]
            while stack:
                hint = stack.pop()
                stack.extend(typing.get_args(hint))
                if dataclasses.is_dataclass(hint) and isinstance(hint, type):
                    pending.append(hint)
    return names


def test_the_format_document_names_every_field_and_kind() -> None:
    """docs/snapshot-format.md is the contract for people who convert or hand-write snapshots."""
    import re

    from vpce_audit.model import RESOURCE_KINDS, RegionSnapshot
    from vpce_audit.snapshot.document import SCHEMA_VERSION

    doc = (Path(__file__).parent.parent / "docs" / "snapshot-format.md").read_text()
    assert f"schema version {SCHEMA_VERSION})" in doc
    expected = (
        _fields_reachable_from(RegionSnapshot)
        | _fields_reachable_from(AccountSnapshot)
        | set(RESOURCE_KINDS)
    )
    missing = sorted(name for name in expected if not re.search(rf"\b{name}\b", doc))
    assert missing == []


SCP_WORDS = (
    "not authorized to perform: ec2:DescribeVpcs with an explicit deny in a service control policy"
)


@pytest.mark.parametrize(
    ("other", "out_of_scope"),
    [
        (region(ACCOUNT, "us-east-1"), True),  # answered elsewhere: a region deny
        (
            region(ACCOUNT, "us-east-1", errors=[error("vpcs", "DescribeVpcs", where="us-east-1")]),
            False,
        ),
        (region(OTHER_ACCOUNT, "us-east-1"), False),  # another account's answer says nothing
        (None, False),  # the only region scanned
    ],
)
def test_an_scp_denial_is_a_region_deny_only_where_the_account_answered_elsewhere(
    other: RegionSnapshot | None, out_of_scope: bool
) -> None:
    denied = RegionSnapshot(ACCOUNT, REGION, "2026-11-27T00:00:00Z", out_of_scope=SCP_WORDS)
    snapshot = Snapshot(document(denied, *([other] if other else [])))
    assert snapshot.out_of_scope == ((denied,) if out_of_scope else ())
    assert snapshot.denied_everywhere == (() if out_of_scope else (denied,))
    assert [(s.account_id, s.region) for s in snapshot.scopes] == (
        [(other.account_id, other.region)] if other else []
    )
    gaps = [
        (e.region, e.error_code) for e in snapshot.coverage_gaps if e.error_code != "NotCollected"
    ]
    assert gaps == ([] if out_of_scope else [(REGION, "DeniedEverywhere")])


def test_an_account_some_shards_did_not_list_is_marked_when_they_are_merged() -> None:
    """ONE joined the organisation after shard 1 listed it: shard 2 describes it, shard 1 does
    not, so its account-regions of shard 1 were never collected. The merge must say so."""

    def shard(k: int, *accounts: str) -> SnapshotDocument:
        return SnapshotDocument(
            tool_version="t",
            created_at="2026-11-27T00:00:00Z",
            accounts=tuple(AccountSnapshot(a, "2026-11-27T00:00:00Z") for a in accounts),
            regions=(),
            shards=ShardSet(3, (k,)),
        )

    merged = merge(
        [shard(1, OTHER_ACCOUNT), shard(2, ACCOUNT, OTHER_ACCOUNT), shard(3, OTHER_ACCOUNT)],
        tool_version="t",
        created_at="2026-11-27T00:00:00Z",
    )
    assert merged.shards is None
    by_id = {account.account_id: account for account in merged.accounts}
    assert by_id[OTHER_ACCOUNT].errors == ()
    (error,) = by_id[ACCOUNT].errors
    assert (error.operation, error.error_code, error.resource_kind) == (
        "ListAccounts",
        "ListedBySomeShards",
        "regions",
    )
    assert error.message.startswith("shard(s) 1, 3 of 3 did not list this account")
    assert error in Snapshot(merged).all_errors  # the scan is incomplete


@pytest.mark.parametrize(
    "escape",
    [
        "\\ud800",
        "\\uDFFF",
        "\\ude00\\ud83d",  # a pair in the wrong order
        "\\ud800\\ud83d\\ude00",  # a high one, then a pair
        "\\ud83d\\\\\\ude00",  # a high one, an escaped backslash, then a low one
        "\\\\\\ud800",  # an escaped backslash, then a high one
    ],
)
def test_a_lone_surrogate_is_refused_and_a_pair_is_read(escape: str) -> None:
    # "\ud800" is valid JSON but no character: it reached the fingerprint's UTF-8 encoding and
    # ended the scan with an internal error (exit 4). A pair is one character (an emoji).
    text = to_json(sample())
    vpc_id = sample().regions[0].vpcs[0].vpc_id
    assert text.count(f'"{vpc_id}"') > 0
    with pytest.raises(SnapshotError, match=r"lone surrogate \('\\ud"):
        from_json(text.replace(f'"{vpc_id}"', f'"{vpc_id}{escape}"'))
    paired = from_json(text.replace(f'"{vpc_id}"', f'"{vpc_id}\\ud83d\\ude00"'))
    assert paired.regions[0].vpcs[0].vpc_id == vpc_id + "\U0001f600"
    # An escaped backslash before "ud800" is text, not an escape.
    literal = from_json(text.replace(f'"{vpc_id}"', f'"{vpc_id}\\\\ud800"'))
    assert literal.regions[0].vpcs[0].vpc_id == vpc_id + "\\ud800"


def test_a_member_list_that_one_shard_left_to_another_account_survives_the_merge() -> None:
    """Each collection stores an organisation's member list on one account
    (runner.members_listed_once); shards of one split whose first account differs leave it on
    different accounts, and their merge keeps the list either part holds for the same
    organisation. Separate collections keep the newer description: a list refused since, or an
    account now in another organisation, must not borrow the old list."""
    from vpce_audit.collect.runner import members_listed_once

    members = ("111111111111", "222222222222")

    def account(
        account_id: str, listed: tuple[str, ...] | None, at: str, org: str = "o-1"
    ) -> AccountSnapshot:
        return AccountSnapshot(account_id, at, org, organization_member_ids=listed)

    kept = members_listed_once(
        [
            account("111111111111", members, "2026-11-26T00:00:00Z"),
            account("222222222222", members, "2026-11-26T00:00:00Z"),
            account("333333333333", ("333333333333",), "2026-11-26T00:00:00Z"),
            account("444444444444", None, "2026-11-26T00:00:00Z"),
        ]
    )
    assert [a.organization_member_ids for a in kept] == [members, None, ("333333333333",), None]

    def part(name: str, facts: AccountSnapshot, shard: int | None) -> SnapshotDocument:
        return dataclasses.replace(
            document(region(name=name), accounts=(facts,)),
            shards=None if shard is None else ShardSet(2, (shard,)),
        )

    older = account("111111111111", members, "2026-11-26T00:00:00Z")
    newer = account("111111111111", None, "2026-11-26T01:00:00Z")
    moved = account("111111111111", None, "2026-11-26T01:00:00Z", org="o-2")

    def merged_members(one: SnapshotDocument, other: SnapshotDocument) -> list[Any]:
        return [
            a.organization_member_ids
            for a in merge([one, other], tool_version="t", created_at="now").accounts
        ]

    for one, other in ((1, 2), (2, 1)):
        shards = part("us-east-1", older, one), part("eu-west-1", newer, other)
        assert merged_members(*shards) == [members]
        assert merged_members(*reversed(shards)) == [members]
        moved_shards = part("us-east-1", older, one), part("eu-west-1", moved, other)
        assert merged_members(*moved_shards) == [None]
    separate = part("us-east-1", older, None), part("eu-west-1", newer, None)
    assert merged_members(*separate) == [None]
