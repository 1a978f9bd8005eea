"""Hostile and broken snapshot files: each is refused with a SnapshotError of one short line.

A red team found files that scanned "clean" (a misspelt ``regions`` read as no regions, a repeated
key whose last value won, a collection error of an unknown kind that the engine ignored) and
files that crashed with a traceback (deep nesting, numbers of thousands of digits). Every case
here loaded or crashed before reading was made strict.
"""

from __future__ import annotations

import copy
import dataclasses
import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import (
    ACCOUNT,
    REGION,
    document,
    error,
    ingress,
    region,
    security_group,
    service_prefix_lists,
    subnet,
    table,
    vpc,
)
from vpce_audit.cli import main
from vpce_audit.model import (
    GLOBAL_REGION,
    AccountSnapshot,
    NetworkAcl,
    NetworkAclEntry,
    RegionSnapshot,
    Route,
)
from vpce_audit.scan import ExitCode
from vpce_audit.snapshot.document import SCHEMA_VERSION, SnapshotError, from_json, read, to_json

ROOT = Path(__file__).resolve().parent.parent
ESTATE = ROOT / "fixtures" / "snapshots" / "golden-estate.json"
ESTATE_V3 = ROOT / "fixtures" / "snapshots" / "golden-estate-v3.json"
"""The golden estate as schema version 3 wrote it (every endpoint service in its scope)."""
# The CLI prints the message on one line; a message quoting a whole hostile value would not fit.
MAX_MESSAGE = 300
HUGE = "x" * 200_000

Body = dict[str, Any]


def _body() -> Body:
    """A small valid snapshot as parsed JSON, with one of each checked kind of field."""
    return json.loads(
        to_json(
            document(
                region(
                    vpcs=[vpc("vpc-1", "10.0.0.0/16")],
                    subnets=[subnet("subnet-1", "vpc-1", cidr="10.0.1.0/24")],
                    route_tables=[
                        table("rtb-1", "vpc-1", Route(destination_ipv6_cidr="::/0", target_id="x"))
                    ],
                    security_groups=[security_group("sg-1", "vpc-1", ingress("10.0.0.0/8"))],
                    network_acls=[
                        NetworkAcl(
                            "acl-1",
                            "vpc-1",
                            True,
                            ("subnet-1",),
                            (NetworkAclEntry(100, False, "-1", "allow", cidr_ipv4="0.0.0.0/0"),),
                        )
                    ],
                    prefix_lists=service_prefix_lists(),
                    errors=[error("vpc_attributes", resource_id="vpc-1")],
                ),
                accounts=(
                    AccountSnapshot(
                        ACCOUNT,
                        "2026-11-26T00:00:00Z",
                        errors=(error("hosted_zones", where=GLOBAL_REGION),),
                    ),
                ),
            )
        )
    )


def _mutated(change: Callable[[Body], object]) -> str:
    body = _body()
    change(body)
    return json.dumps(body)


def _scope(body: Body) -> Body:
    scope: Body = body["regions"][0]
    return scope


def _error_in_scope(**fields: Any) -> Callable[[Body], object]:
    def change(body: Body) -> None:
        _scope(body)["errors"][0].update(fields)

    return change


def _duplicate_key(text: str, key: str) -> str:
    """The JSON text with ``"key": ...`` given a second time in the top-level object."""
    body = json.loads(text)
    return text.rstrip()[:-1] + f', "{key}": {json.dumps(body[key])}}}'


def _nested(depth: int) -> str:
    return '{"format": "vpce-audit-snapshot", "regions": ' + "[" * depth + "]" * depth + "}"


CASES: list[tuple[str, Callable[[], str], str]] = [
    # The top level: every key required, none other, the version an integer.
    ("regions missing", lambda: _mutated(lambda b: b.pop("regions")), "missing required key"),
    ("accounts missing", lambda: _mutated(lambda b: b.pop("accounts")), "'accounts'"),
    (
        "regions misspelt",
        lambda: _mutated(lambda b: b.update(Regions=b.pop("regions"))),
        "unknown key(s) Regions",
    ),
    ("unknown top-level key", lambda: _mutated(lambda b: b.update(notes="x")), "unknown key(s)"),
    (
        "thousands of long unknown keys",
        lambda: _mutated(lambda b: b.update({f"{i}{HUGE[:5000]}": 1 for i in range(2000)})),
        "and 1997 more",
    ),
    ("schema_version true", lambda: _mutated(lambda b: b.update(schema_version=True)), "boolean"),
    ("schema_version 2.0", lambda: _mutated(lambda b: b.update(schema_version=2.0)), "integer"),
    ("schema_version 1.0", lambda: _mutated(lambda b: b.update(schema_version=1.0)), "integer"),
    ("schema_version '2'", lambda: _mutated(lambda b: b.update(schema_version="2")), "string"),
    (
        "schema_version a long string",
        lambda: _mutated(lambda b: b.update(schema_version=HUGE)),
        "expected an integer",
    ),
    (
        "no account-region and no error",
        lambda: _mutated(lambda b: b.update(regions=[], accounts=[])),
        "holds no account-region to scan",
    ),
    (
        "accounts but no account-region and no error",
        lambda: _mutated(lambda b: (b.update(regions=[]), b["accounts"][0].update(errors=[]))),
        "holds no account-region to scan",
    ),
    # What Python's json accepts and JSON does not, or cannot be read at all.
    (
        "duplicate top-level key",
        lambda: _duplicate_key(_mutated(lambda b: None), "regions"),
        "the key 'regions' appears twice",
    ),
    (
        "duplicate nested key",
        lambda: _mutated(lambda b: None).replace(
            '"vpc_id": "vpc-1",', '"vpc_id": "vpc-1", "vpc_id": "vpc-evil",', 1
        ),
        "the key 'vpc_id' appears twice",
    ),
    ("deeply nested", lambda: _nested(200_000), "nested too deeply"),
    (
        "a 5,000-digit number",
        lambda: _mutated(lambda b: None).replace(
            f'"schema_version": {SCHEMA_VERSION}', '"schema_version": ' + "9" * 5000
        ),
        "a number of 5000 digits",
    ),
    (
        "a 5,000-digit port",
        lambda: _mutated(lambda b: None).replace('"from_port": 443', '"from_port": ' + "4" * 5000),
        "a number of 5000 digits",
    ),
    ("NaN", lambda: _mutated(lambda b: b.update(schema_version=float("nan"))), "NaN is not"),
    (
        "Infinity",
        lambda: _mutated(lambda b: None).replace('"from_port": 443', '"from_port": Infinity'),
        "Infinity is not a JSON number",
    ),
    # Values: CIDRs, addresses, account ids, regions, ports.
    (
        "an IPv4 CIDR that does not parse",
        lambda: _mutated(lambda b: _scope(b)["vpcs"][0].update(cidr_blocks=["10.0.0.0/33"])),
        "'10.0.0.0/33' is not an IPv4 CIDR",
    ),
    (
        "an IPv6 block among the IPv4 ones",
        lambda: _mutated(lambda b: _scope(b)["vpcs"][0].update(cidr_blocks=["2001:db8::/32"])),
        "is not an IPv4 CIDR",
    ),
    (
        "an IPv4 block as an IPv6 one",
        lambda: _mutated(
            lambda b: _scope(b)["route_tables"][0]["routes"][1].update(
                destination_ipv6_cidr="0.0.0.0/0"
            )
        ),
        "is not an IPv6 CIDR",
    ),
    (
        "a bare address as a CIDR",
        lambda: _mutated(lambda b: _scope(b)["subnets"][0].update(cidr_block="10.0.1.0")),
        "'10.0.1.0' is not an IPv4 CIDR",
    ),
    (
        "a security group rule's CIDR",
        lambda: _mutated(
            lambda b: _scope(b)["security_groups"][0]["ingress"][0].update(cidr_ipv4="anywhere")
        ),
        "ingress[0].cidr_ipv4: 'anywhere' is not an IPv4 CIDR",
    ),
    (
        "a network ACL entry's CIDR",
        lambda: _mutated(
            lambda b: _scope(b)["network_acls"][0]["entries"][0].update(cidr_ipv4="0/0")
        ),
        "entries[0].cidr_ipv4",
    ),
    (
        "a prefix list entry",
        lambda: _mutated(lambda b: _scope(b)["prefix_lists"][0]["cidrs"].append("s3")),
        "'s3' is not a CIDR",
    ),
    (
        "a CIDR of 200,000 characters",
        lambda: _mutated(lambda b: _scope(b)["vpcs"][0].update(cidr_blocks=[HUGE])),
        "is not an IPv4 CIDR",
    ),
    (
        "a scope's account id",
        lambda: _mutated(lambda b: _scope(b).update(account_id="1111")),
        "'1111' is not a 12-digit account id",
    ),
    (
        "an account's account id",
        lambda: _mutated(lambda b: b["accounts"][0].update(account_id="111111111111 ")),
        "is not a 12-digit account id",
    ),
    (
        "a security group's owner",
        lambda: _mutated(lambda b: _scope(b)["security_groups"][0].update(owner_id="me")),
        "owner_id: 'me' is not a 12-digit account id",
    ),
    (
        "a region name",
        lambda: _mutated(lambda b: _scope(b).update(region="EU (Ireland)")),
        "is not an AWS region name",
    ),
    (
        "global as a scope's region",
        lambda: _mutated(lambda b: _scope(b).update(region="global")),
        "is not an AWS region name",
    ),
    (
        "a port out of range",
        lambda: _mutated(
            lambda b: _scope(b)["security_groups"][0]["ingress"][0].update(to_port=70000)
        ),
        "70000 is not a port",
    ),
    # Collection errors the engine would ignore, running rules as if the data were complete.
    (
        "an unknown error kind",
        lambda: _mutated(_error_in_scope(resource_kind="vpc_endpoint")),
        "'vpc_endpoint' is not a resource kind",
    ),
    (
        "an account-wide kind in a scope",
        lambda: _mutated(_error_in_scope(resource_kind="hosted_zones")),
        "'hosted_zones' is not a kind of an account-region",
    ),
    (
        "a region kind in an account",
        lambda: _mutated(lambda b: b["accounts"][0]["errors"][0].update(resource_kind="vpcs")),
        "'vpcs' is not an account-wide kind",
    ),
    (
        "an error of another account",
        lambda: _mutated(_error_in_scope(account_id="222222222222")),
        "errors[0].account_id: 222222222222 is not 111111111111",
    ),
    (
        "an error of another region",
        lambda: _mutated(_error_in_scope(region="us-east-1")),
        "errors[0].region: 'us-east-1' is not 'eu-west-1'",
    ),
    (
        "an error kind of 200,000 characters",
        lambda: _mutated(_error_in_scope(resource_kind=HUGE)),
        "is not a resource kind",
    ),
    (
        "an error's region",
        lambda: _mutated(_error_in_scope(region="Global")),
        "is not an AWS region name or global",
    ),
]


@pytest.mark.parametrize(
    ("text", "phrase"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_bad_snapshots_are_refused_with_a_short_message(
    text: Callable[[], str], phrase: str
) -> None:
    with pytest.raises(SnapshotError) as raised:
        from_json(text(), source="bad.json")
    message = str(raised.value)
    assert phrase in message
    assert len(message) < MAX_MESSAGE, message
    assert "\n" not in message


def test_the_base_of_the_corpus_is_valid() -> None:
    """So each case fails for its one change."""
    assert from_json(json.dumps(_body())).regions[0].region == REGION


@pytest.mark.parametrize(
    ("content", "offset"),
    [
        (b'{"format": "vpce-audit-snapshot", "tool_version": "\xe9t\xe9"}', 51),
        (b"\xef\xbb\xbf\xc3\x28", 3),
    ],
    ids=["latin-1 text", "a byte-order mark, then an invalid sequence"],
)
def test_non_utf8_files_are_refused_naming_the_byte(
    tmp_path: Path, content: bytes, offset: int
) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(
        SnapshotError, match=rf"is not UTF-8 text \(an invalid byte at offset {offset}\)"
    ):
        read(path)


def test_a_snapshot_of_failed_collection_alone_loads_and_scans_incomplete(
    tmp_path: Path,
) -> None:
    """DescribeRegions failed: no account-region, but the error says why; the scan exits 3."""
    failed = AccountSnapshot(
        ACCOUNT,
        "2026-11-26T00:00:00Z",
        errors=(error("regions", "DescribeRegions", where=GLOBAL_REGION),),
    )
    path = tmp_path / "failed.json"
    path.write_text(to_json(document(accounts=(failed,))))
    assert read(path).accounts == (failed,)
    assert main(["scan", "--snapshot", str(path)], stdout=io.StringIO()) == ExitCode.INCOMPLETE


def test_the_golden_estate_still_loads_and_round_trips() -> None:
    golden = read(ESTATE)
    assert len(golden.regions) >= 2
    assert from_json(to_json(golden)) == golden
    assert to_json(golden) == ESTATE.read_text()


def _rules_unknown(regions: tuple[RegionSnapshot, ...]) -> tuple[RegionSnapshot, ...]:
    """The regions as a snapshot before schema 6 has them: Resolver rules not collected."""
    return tuple(dataclasses.replace(r, resolver_rules=None) for r in regions)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda b: b["regions"][0].pop("resolver_rules"),
            "$.regions[0]: missing required key 'resolver_rules'",
        ),
        (
            lambda b: b.update(schema_version=5),
            "$.regions[0]: unknown key(s) resolver_rules for schema version 5",
        ),
    ],
    ids=["version-6-without-rules", "version-5-with-rules"],
)
def test_resolver_rules_are_there_exactly_from_schema_6(change: Any, message: str) -> None:
    # A missing key would read as "unknown", an early one as "known": neither is what any
    # vpce-audit wrote.
    body = json.loads(ESTATE.read_text())
    change(body)
    with pytest.raises(SnapshotError, match=re.escape(message)):
        from_json(json.dumps(body))


def _with_attachment(subnet_ids: Any = ("subnet-0a",)) -> Body:
    body: Body = json.loads(ESTATE.read_text())
    attachment = {
        "attachment_id": "tgw-attach-0a",
        "transit_gateway_id": "tgw-0a",
        "transit_gateway_owner_id": body["regions"][0]["account_id"],
        "resource_type": "vpc",
        "resource_id": "vpc-0a",
        "resource_owner_id": body["regions"][0]["account_id"],
        "state": "available",
        "association_route_table_id": None,
        "subnet_ids": subnet_ids,
        "appliance_mode": True,
    }
    body["regions"][0]["transit_gateway_attachments"] = [attachment]
    return body


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda b: b["regions"][0]["transit_gateway_attachments"][0].pop("subnet_ids"),
            "$.regions[0].transit_gateway_attachments[0]: missing required key 'subnet_ids'",
        ),
        (
            lambda b: b["regions"][0]["transit_gateway_attachments"][0].pop("appliance_mode"),
            "$.regions[0].transit_gateway_attachments[0]: missing required key 'appliance_mode'",
        ),
        (
            lambda b: b.update(schema_version=6),
            "$.regions[0].transit_gateway_attachments[0]: unknown key(s) subnet_ids for schema "
            "version 6",
        ),
        (
            lambda b: (
                b.update(schema_version=6),
                b["regions"][0]["transit_gateway_attachments"][0].pop("subnet_ids"),
            ),
            "$.regions[0].transit_gateway_attachments[0]: unknown key(s) appliance_mode for "
            "schema version 6",
        ),
    ],
    ids=[
        "version-7-without-subnets",
        "version-7-without-appliance-mode",
        "version-6-with-subnets",
        "version-6-with-appliance-mode",
    ],
)
def test_attachment_subnets_are_there_exactly_from_schema_7(change: Any, message: str) -> None:
    body = _with_attachment()
    (attachment,) = from_json(json.dumps(body)).regions[0].transit_gateway_attachments
    assert (attachment.subnet_ids, attachment.appliance_mode) == (("subnet-0a",), True)
    change(body)
    with pytest.raises(SnapshotError, match=re.escape(message)):
        from_json(json.dumps(body))


def test_attachment_subnets_unknown_read_as_null_and_an_older_attachment_as_unknown() -> None:
    body = _with_attachment(None)
    (attachment,) = from_json(json.dumps(body)).regions[0].transit_gateway_attachments
    assert attachment.subnet_ids is None
    body = _with_attachment()
    del body["regions"][0]["transit_gateway_attachments"][0]["subnet_ids"]
    del body["regions"][0]["transit_gateway_attachments"][0]["appliance_mode"]
    _before_schema_8(body)
    body["schema_version"] = 6
    (attachment,) = from_json(json.dumps(body)).regions[0].transit_gateway_attachments
    assert (attachment.subnet_ids, attachment.appliance_mode) == (None, None)


def _before_schema_8(body: Body) -> None:
    """The body as schema 7 wrote it: without security groups' VPC associations and endpoints'
    address types."""
    for scope in body["regions"]:
        del scope["security_group_vpc_associations"]
        for endpoint in scope["vpc_endpoints"]:
            del endpoint["ip_address_type"]


def _with_resolver(protocols: Any = ("Do53", "DoH"), targets: Any = ("",)) -> Body:
    body: Body = json.loads(ESTATE.read_text())
    body["regions"][0]["resolver_endpoints"] = [
        {
            "resolver_endpoint_id": "rslvr-in-0a",
            "direction": "INBOUND",
            "vpc_id": "vpc-0a",
            "status": "OPERATIONAL",
            "ip_addresses": ["10.0.0.2"],
            "protocols": protocols,
        }
    ]
    body["regions"][0]["resolver_rules"] = [
        {
            "rule_id": "rslvr-rr-0a",
            "domain_name": "example.com",
            "rule_type": "FORWARD",
            "vpc_ids": ["vpc-0a"],
            "owner_id": None,
            "target_ips": ["10.0.0.2:53"],
            "target_protocols": targets,
            "name": None,
        }
    ]
    return body


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda b: b["regions"][0]["resolver_endpoints"][0].pop("protocols"),
            "$.regions[0].resolver_endpoints[0]: missing required key 'protocols'",
        ),
        (
            lambda b: b["regions"][0]["resolver_rules"][0].pop("target_protocols"),
            "$.regions[0].resolver_rules[0]: missing required key 'target_protocols'",
        ),
        (
            lambda b: (
                b.update(schema_version=7),
                b["regions"][0]["resolver_rules"][0].pop("target_protocols"),
            ),
            "$.regions[0].resolver_endpoints[0]: unknown key(s) protocols for schema version 7",
        ),
        (
            lambda b: (
                b.update(schema_version=7),
                b["regions"][0]["resolver_endpoints"][0].pop("protocols"),
            ),
            "$.regions[0].resolver_rules[0]: unknown key(s) target_protocols for schema version 7",
        ),
        (
            lambda b: b["regions"][0]["resolver_rules"][0].update(target_protocols=["", "DoH"]),
            "$.regions[0].resolver_rules[0].target_protocols: 2 protocols for 1 target addresses",
        ),
    ],
    ids=[
        "version-8-endpoint-without",
        "version-8-rule-without",
        "version-7-endpoint-with",
        "version-7-rule-with",
        "a-protocol-per-target",
    ],
)
def test_dns_protocols_are_there_exactly_from_schema_8(change: Any, message: str) -> None:
    body = _with_resolver()
    scope = from_json(json.dumps(body)).regions[0]
    assert scope.resolver_endpoints[0].protocols == ("Do53", "DoH")
    assert scope.resolver_rules is not None and scope.resolver_rules[0].target_protocols == ("",)
    change(body)
    with pytest.raises(SnapshotError, match=re.escape(message)):
        from_json(json.dumps(body))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda b: b["regions"][0].pop("security_group_vpc_associations"),
            "$.regions[0]: missing required key 'security_group_vpc_associations'",
        ),
        (
            lambda b: b.update(schema_version=7),
            "$.regions[0]: unknown key(s) security_group_vpc_associations for schema version 7",
        ),
        (
            lambda b: b["regions"][0]["security_group_vpc_associations"].append(
                b["regions"][0]["security_group_vpc_associations"][0]
            ),
            "$.regions[0].security_group_vpc_associations[1]: 'sg-0a' appears twice",
        ),
    ],
    ids=["version-8-without", "version-7-with", "one-pair-twice"],
)
def test_group_associations_are_there_exactly_from_schema_8(change: Any, message: str) -> None:
    body: Body = json.loads(ESTATE.read_text())
    association = {
        "group_id": "sg-0a",
        "vpc_id": "vpc-0b",
        "state": "associated",
        "vpc_owner_id": body["regions"][0]["account_id"],
    }
    body["regions"][0]["security_group_vpc_associations"] = [association]
    (found,) = from_json(json.dumps(body)).regions[0].security_group_vpc_associations or ()
    assert (found.group_id, found.vpc_id, found.state) == ("sg-0a", "vpc-0b", "associated")
    for scope in body["regions"][1:]:
        scope["security_group_vpc_associations"] = None  # unknown: read as null
    assert from_json(json.dumps(body)).regions[1].security_group_vpc_associations is None
    change(body)
    with pytest.raises(SnapshotError, match=re.escape(message)):
        from_json(json.dumps(body))


def test_dns_protocols_unknown_read_as_null_and_an_older_snapshot_as_unknown() -> None:
    scope = from_json(json.dumps(_with_resolver(None, None))).regions[0]
    assert scope.resolver_endpoints[0].protocols is None
    body = _with_resolver()
    del body["regions"][0]["resolver_endpoints"][0]["protocols"]
    del body["regions"][0]["resolver_rules"][0]["target_protocols"]
    _before_schema_8(body)
    body["schema_version"] = 7
    scope = from_json(json.dumps(body)).regions[0]
    assert scope.resolver_endpoints[0].protocols is None
    assert scope.resolver_rules is not None and scope.resolver_rules[0].target_protocols is None


def test_a_version_3_snapshot_reads_as_the_same_estate() -> None:
    old, new = read(ESTATE_V3), read(ESTATE)
    assert (old.schema_version, new.schema_version) == (3, SCHEMA_VERSION)
    # Written before Resolver rules were collected: unknown (None), not "none" (()).
    assert {r.resolver_rules for r in old.regions} == {None}
    assert {r.resolver_rules for r in new.regions} == {()}
    assert (old.accounts, old.regions) == (new.accounts, _rules_unknown(new.regions))


def test_a_demo_snapshot_still_loads(aws_credentials: None) -> None:
    """What `collect --demo` writes (moto's estate: prefix lists with IPv6 blocks, endpoint
    connections from another account, interface addresses) reads back unchanged."""
    from vpce_audit.collect.runner import ClientFactory, CollectionRequest, collect
    from vpce_audit.demo.estate import DEMO_REGIONS, demo_estate

    with demo_estate() as (session, _ids):
        collected = collect(ClientFactory(session), CollectionRequest(regions=DEMO_REGIONS))
    assert from_json(to_json(collected)) == collected


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        (lambda: _mutated(lambda b: b.update(Regions=b.pop("regions"))), "unknown key(s) Regions"),
        (lambda: _nested(200_000), "nested too deeply"),
        (
            lambda: _mutated(lambda b: None).replace(
                '"from_port": 443', '"from_port": ' + "4" * 5000
            ),
            "a number of 5000 digits",
        ),
        (lambda: _mutated(_error_in_scope(resource_kind="vpc_endpoint")), "not a resource kind"),
    ],
    ids=["misspelt regions", "deep nesting", "huge number", "unknown error kind"],
)
def test_the_cli_reports_a_bad_snapshot_on_one_line_and_exits_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    text: Callable[[], str],
    phrase: str,
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text())
    code = main(["scan", "--snapshot", str(path)], stdout=io.StringIO())
    error_output = capsys.readouterr().err
    assert code == ExitCode.USAGE
    assert error_output.startswith("vpce-audit: error: ")
    assert phrase in error_output
    assert error_output.count("\n") == 1
    assert "Traceback" not in error_output
    assert len(error_output) < MAX_MESSAGE + len(str(path))


def test_an_endless_snapshot_is_refused_at_the_size_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    from vpce_audit.snapshot import document as snapshot_document

    with pytest.raises(SnapshotError, match="it is a device, not a file"):
        snapshot_document.read(Path("/dev/zero"))
    monkeypatch.setattr(snapshot_document, "MAX_SNAPSHOT_BYTES", 1024)
    with pytest.raises(SnapshotError, match="larger than 1,024 bytes"):
        snapshot_document.read(ESTATE)


@pytest.mark.parametrize("collection", ["vpcs", "security_groups", "route_tables"])
def test_a_resource_listed_twice_is_refused(tmp_path: Path, collection: str) -> None:
    """A second copy would replace the first in the rules' indexes (a VPC listed again with DNS
    hostnames on would silence VPCE201)."""
    body = json.loads(ESTATE.read_text())
    scope = next(r for r in body["regions"] if r[collection])
    scope[collection].append(dict(scope[collection][0]))
    path = tmp_path / "twice.json"
    path.write_text(json.dumps(body))
    with pytest.raises(SnapshotError) as raised:
        read(path)
    index, listed = body["regions"].index(scope), len(scope[collection]) - 1
    first = next(iter(scope[collection][0].values()))
    assert str(raised.value).endswith(
        f"at $.regions[{index}].{collection}[{listed}]: {first!r} appears twice; each resource "
        "is listed once"
    )


def test_an_item_is_identified_by_all_its_identity_fields(tmp_path: Path) -> None:
    """One service has one connection per endpoint: two connections of one service to two
    endpoints are two items, the same pair twice is one listed twice."""
    body = json.loads(ESTATE.read_text())

    def connection(endpoint_id: str) -> dict[str, object]:
        return {
            "service_id": "vpce-svc-1",
            "endpoint_id": endpoint_id,
            "endpoint_owner": None,
            "state": "available",
        }

    body["regions"][0]["endpoint_connections"] = [connection("vpce-1"), connection("vpce-2")]
    path = tmp_path / "two.json"
    path.write_text(json.dumps(body))
    assert len(read(path).regions[0].endpoint_connections) == 2
    body["regions"][0]["endpoint_connections"].append(connection("vpce-1"))
    path.write_text(json.dumps(body))
    with pytest.raises(SnapshotError) as raised:
        read(path)
    assert str(raised.value).endswith(
        "at $.regions[0].endpoint_connections[2]: 'vpce-svc-1' appears twice; each resource "
        "is listed once"
    )


def test_a_version_2_snapshot_is_read_and_written_back_as_the_current_one(tmp_path: Path) -> None:
    old = tmp_path / "v2.json"
    old.write_text(ESTATE_V3.read_text().replace('"schema_version": 3,', '"schema_version": 2,'))
    document_ = read(old)
    assert document_.schema_version == 2
    written = to_json(document_)
    assert json.loads(written)["schema_version"] == SCHEMA_VERSION == 8
    # Written back as the current version, what it never held stays unknown (null).
    assert document_.regions == _rules_unknown(read(ESTATE).regions) == from_json(written).regions


def test_endpoint_address_types_are_there_exactly_from_schema_8() -> None:
    body: Body = json.loads(ESTATE.read_text())
    index, scope = next((i, r) for i, r in enumerate(body["regions"]) if r["vpc_endpoints"])
    assert "ip_address_type" in scope["vpc_endpoints"][0]
    missing = copy.deepcopy(body)
    del missing["regions"][index]["vpc_endpoints"][0]["ip_address_type"]
    with pytest.raises(
        SnapshotError,
        match=re.escape(
            f"$.regions[{index}].vpc_endpoints[0]: missing required key 'ip_address_type'"
        ),
    ):
        from_json(json.dumps(missing))
    early = copy.deepcopy(body)
    early["schema_version"] = 7
    for each in early["regions"]:
        del each["security_group_vpc_associations"]
    with pytest.raises(
        SnapshotError, match=re.escape("unknown key(s) ip_address_type for schema version 7")
    ):
        from_json(json.dumps(early))


def test_a_group_associated_with_two_vpcs_is_two_associations() -> None:
    """An association is a group and a VPC: one group may be associated with several VPCs."""
    body: Body = json.loads(ESTATE.read_text())
    owner = body["regions"][0]["account_id"]
    body["regions"][0]["security_group_vpc_associations"] = [
        {"group_id": "sg-0a", "vpc_id": vpc_id, "state": "associated", "vpc_owner_id": owner}
        for vpc_id in ("vpc-0b", "vpc-0c")
    ]
    found = from_json(json.dumps(body)).regions[0].security_group_vpc_associations or ()
    assert [(a.group_id, a.vpc_id) for a in found] == [("sg-0a", "vpc-0b"), ("sg-0a", "vpc-0c")]
