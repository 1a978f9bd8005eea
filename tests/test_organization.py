"""Scanning an organisation: ListAccounts in the management account, sts:AssumeRole into each
member (never MOTO_ACCOUNT_ID), every account-region in one run, failures contained."""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from moto import mock_aws

from tests.moto_estates import _nat, _subnet, _table, _vpc, member_session
from vpce_audit.cli import main
from vpce_audit.collect import account as account_module
from vpce_audit.collect import accounts as accounts_module
from vpce_audit.collect.operations import CREDENTIAL_OPERATIONS, OPERATIONS
from vpce_audit.collect.runner import CredentialsError
from vpce_audit.collect.tally import TallyView
from vpce_audit.progress import describe

REGION = "us-east-1"
MANAGEMENT = "123456789012"
OUTSIDER = "999988887777"


def _policy(*accounts: str) -> str:
    return json.dumps(
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": [f"arn:aws:iam::{a}:root" for a in accounts]},
                    "Action": "s3:PutObject",
                    "Resource": "arn:aws:s3:::shared-artifacts/*",
                }
            ]
        }
    )


@pytest.fixture
def organisation(aws_credentials: None, moto_gaps: object) -> Iterator[dict[str, str]]:
    """A management account and two members. Each member has a VPC whose private subnet sends
    S3 traffic through a NAT gateway (VPCE401 in that member's account) and an S3 gateway
    endpoint whose policy names accounts: member A names its sibling B (trusted: a member), B
    names an outsider (VPCE104 in B's account)."""
    with mock_aws():
        org = boto3.client("organizations", region_name=REGION)
        org.create_organization(FeatureSet="ALL")
        ids: dict[str, str] = {}
        for name in ("a", "b"):
            status = org.create_account(Email=f"{name}@example.com", AccountName=name)
            ids[name] = status["CreateAccountStatus"]["AccountId"]
        for name, named in (("a", ids["b"]), ("b", OUTSIDER)):
            ec2 = member_session(ids[name]).client("ec2")
            vpc = _vpc(ec2, f"vpc-{name}", "10.0.0.0/16")
            public = _subnet(ec2, vpc, "10.0.0.0/24", f"{REGION}a")
            private = _subnet(ec2, vpc, "10.0.1.0/24", f"{REGION}a")
            ids[f"table-{name}"] = _table(ec2, vpc, [private], _nat(ec2, public))
            main_table = ec2.describe_route_tables(
                Filters=[
                    {"Name": "vpc-id", "Values": [vpc]},
                    {"Name": "association.main", "Values": ["true"]},
                ]
            )["RouteTables"][0]["RouteTableId"]
            ids[f"endpoint-{name}"] = ec2.create_vpc_endpoint(
                VpcId=vpc,
                ServiceName=f"com.amazonaws.{REGION}.s3",
                VpcEndpointType="Gateway",
                RouteTableIds=[main_table],
                PolicyDocument=_policy(named),
            )["VpcEndpoint"]["VpcEndpointId"]
        yield ids


def _scan(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict[str, Any], str]:
    out = io.StringIO()
    code = main(
        ["scan", "--org", "--region", REGION, "--format", "json", "--fail-on", "never", *extra],
        stdout=out,
    )
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, json.loads(out.getvalue()), err


def _flagged(report: dict[str, Any], rule_id: str) -> set[tuple[str, str]]:
    return {
        (f["account_id"], f["resource_id"]) for f in report["findings"] if f["rule_id"] == rule_id
    }


def test_an_organisation_is_scanned_in_one_run_with_findings_in_their_accounts(
    organisation: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, report, _ = _scan(capsys)
    assert code == 0 and report["summary"]["complete"] is True
    a, b = organisation["a"], organisation["b"]
    assert report["snapshot"]["accounts"] == sorted([MANAGEMENT, a, b])
    assert {(s["account_id"], s["region"]) for s in report["snapshot"]["scopes"]} == {
        (MANAGEMENT, REGION),
        (a, REGION),
        (b, REGION),
    }
    assert _flagged(report, "VPCE401") == {
        (a, organisation["table-a"]),
        (b, organisation["table-b"]),
    }
    # A names its sibling (a member, so trusted); B names an account outside the organisation.
    assert _flagged(report, "VPCE104") == {(b, organisation["endpoint-b"])}


def test_accounts_can_be_narrowed(
    organisation: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, report, _ = _scan(capsys, "--exclude-accounts", organisation["b"])
    assert code == 0
    assert report["snapshot"]["accounts"] == sorted([MANAGEMENT, organisation["a"]])
    assert _flagged(report, "VPCE401") == {(organisation["a"], organisation["table-a"])}


def test_a_role_that_cannot_be_assumed_is_recorded_and_the_rest_is_intact(
    organisation: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = accounts_module.assumed_clients
    refused = f"arn:aws:iam::{organisation['b']}:role/OrganizationAccountAccessRole"

    def assume(base: Any, home: str, role_arn: str, selection: Any) -> Any:
        if role_arn == refused:
            raise accounts_module.AssumeRoleError("AccessDenied", "not authorized to assume")
        return real(base, home, role_arn, selection)

    monkeypatch.setattr(accounts_module, "assumed_clients", assume)
    code, report, err = _scan(capsys)
    assert code == 3
    # stderr names it, as it names each account collected (a CI log's only view of it).
    assert f"vpce-audit: account {organisation['b']}: not reached (AssumeRole: AccessDenied)" in (
        err.splitlines()
    )
    (error,) = report["collection_errors"]
    assert (error["account_id"], error["operation"], error["error_code"]) == (
        organisation["b"],
        "AssumeRole",
        "AccessDenied",
    )
    assert _flagged(report, "VPCE401") == {(organisation["a"], organisation["table-a"])}


def test_an_organisation_scan_calls_only_read_operations_and_assume_role(
    organisation: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from botocore.client import BaseClient

    called: list[tuple[str, str]] = []
    real = BaseClient._make_api_call

    def record(client: BaseClient, operation: str, params: Any) -> Any:
        called.append((client.meta.service_model.service_name, operation))
        return real(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", record)
    _scan(capsys)
    allowed = {(op.service, op.name) for op in OPERATIONS + CREDENTIAL_OPERATIONS}
    assert set(called) <= allowed, set(called) - allowed
    assert called.count(("sts", "AssumeRole")) == 2  # one per member, none for the scanner


def test_the_stackset_template_grants_exactly_the_read_only_allowlist() -> None:
    from pathlib import Path

    import yaml

    from vpce_audit.collect.operations import iam_actions

    class CloudFormationLoader(yaml.SafeLoader):
        """Reads CloudFormation's short-form tags (!Ref, !Sub, ...) as plain values."""

    def plain(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return loader.construct_scalar(node)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node)
        return loader.construct_mapping(node)  # type: ignore[arg-type]

    CloudFormationLoader.add_multi_constructor("!", lambda loader, _tag, node: plain(loader, node))
    path = Path(__file__).resolve().parent.parent / "examples" / "read-only-role-stackset.yaml"
    template = yaml.load(path.read_text(), Loader=CloudFormationLoader)
    role = template["Resources"]["VpceAuditReadOnlyRole"]["Properties"]
    (statement,) = role["Policies"][0]["PolicyDocument"]["Statement"]
    assert tuple(sorted(statement["Action"])) == iam_actions()
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Action"] == "sts:AssumeRole"


def test_regions_and_exclusions_come_from_the_configuration_too(
    organisation: dict[str, str], capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    config = tmp_path / "regions.yml"
    config.write_text("regions: [us-east-1, us-west-2]\nexclude_regions: [us-west-2]\n")
    out = io.StringIO()
    code = main(
        [
            "scan",
            "--org",
            "--config",
            str(config),
            "--format",
            "json",
            "--exclude-region",
            "us-east-1",
            "--fail-on",
            "never",
        ],
        stdout=out,
    )
    assert code == 2  # every configured region excluded: refused before any call
    assert "nothing would be scanned" in capsys.readouterr().err
    config.write_text("regions: [us-east-1, us-west-2]\nexclude_regions: [us-west-2]\n")
    out = io.StringIO()
    code = main(
        ["scan", "--org", "--config", str(config), "--format", "json", "--fail-on", "never"],
        stdout=out,
    )
    assert code == 0
    scopes = {s["region"] for s in json.loads(out.getvalue())["snapshot"]["scopes"]}
    assert scopes == {"us-east-1"}


def _shell_lines(document: Any) -> list[str]:
    """Every shell command in a workflow (``run``) or a pod spec (``args``)."""
    found: list[str] = []
    if isinstance(document, dict):
        for key, value in document.items():
            if key == "run" and isinstance(value, str):
                found.append(value)
            elif key == "args" and isinstance(value, list):
                found += [item for item in value if isinstance(item, str)]
            else:
                found += _shell_lines(value)
    elif isinstance(document, list):
        for item in document:
            found += _shell_lines(item)
    return found


def _commands(text: str, substitutions: dict[str, str]) -> list[list[str]]:
    """Every vpce-audit invocation in an example, variables substituted, split into argv."""
    import re
    import shlex

    import yaml

    commands = []
    for raw in _shell_lines(yaml.safe_load(text)):
        line = raw
        for variable, value in substitutions.items():
            line = line.replace(variable, value)
        for part in re.split(r"&&|\|\||;", line):
            words = shlex.split(part)
            if words[:1] == ["vpce-audit"]:
                commands.append(words[1:])
    return commands


@pytest.mark.parametrize(
    ("example", "substitutions", "expected"),
    [
        ("github-actions-sharded.yml", {"${{ matrix.shard }}": "2"}, 4),
        ("kubernetes-indexed-job.yaml", {"$((JOB_COMPLETION_INDEX + 1))": "3"}, 1),
    ],
)
def test_the_sharding_recipes_use_valid_commands(
    example: str, substitutions: dict[str, str], expected: int
) -> None:
    from pathlib import Path

    from vpce_audit.cli import build_parser

    path = Path(__file__).resolve().parent.parent / "examples" / example
    commands = _commands(path.read_text(), substitutions)
    assert len(commands) == expected, commands
    for argv in commands:
        build_parser().parse_args(argv)  # exits 2 on any unknown option
    collects = [argv for argv in commands if argv[0] == "collect"]
    assert collects and all("--shard" in argv for argv in collects)
    # collect, merge and scan each exit 3 when a scope is incomplete, having written their
    # output: a recipe that stops there would lose the report of everything that was seen.
    import yaml

    for line in _shell_lines(yaml.safe_load(path.read_text())):
        for command in re.split(r"&&|;", line):
            if command.split()[:2] in (
                ["vpce-audit", verb] for verb in ("collect", "merge", "scan")
            ):
                assert command.rstrip().endswith("|| test $? -eq 3"), command


def test_an_organisation_scan_says_one_line_per_account_and_a_summary(
    organisation: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _, _, err = _scan(capsys)
    lines = err.strip().splitlines()
    for account in (MANAGEMENT, organisation["a"], organisation["b"]):
        assert f"vpce-audit: account {account}: 1 region(s) collected" in lines
    assert any(
        line.startswith("vpce-audit: collected 3 account(s), 3 account-region(s) in ")
        for line in lines
    )
    _, _, quiet = _scan(capsys, "-q")
    assert "collected" not in quiet


class _Terminal(io.StringIO):
    """stderr as a terminal: the live line is drawn (at tqdm's fallback size of 80 x 24)."""

    def isatty(self) -> bool:
        return True


def test_on_a_terminal_a_live_line_counts_regions_accounts_calls_and_errors(
    organisation: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    out = io.StringIO()
    argv = ["scan", "--org", "--region", REGION, "--format", "json", "--fail-on", "never"]
    assert main(argv, stdout=out) == 0
    drawn = terminal.getvalue()
    frames = [frame.strip() for frame in drawn.split("\r") if "regions" in frame]
    # The last frame: every account-region and account done, the calls counted.
    last = frames[-1]
    assert re.search(r"3/3 regions · 3/3 accounts · [1-9][0-9,]* calls · 0 errors · 00:\d\d$", last)
    assert any("0/3 regions" in frame or "listing regions" in frame for frame in frames)
    # Lines that stay are printed above the live line, which is cleared at the end.
    for account in (MANAGEMENT, organisation["a"], organisation["b"]):
        assert f"vpce-audit: account {account}: 1 region(s) collected\n" in drawn
    assert drawn.endswith("\r") and drawn.split("\r")[-2].strip() == ""  # cleared
    calls = int(re.search(r"([0-9,]+) calls", last).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert calls >= 3 * 25  # at least every account-region's listings


def test_the_live_line_names_no_aws_text() -> None:
    view = TallyView(
        accounts=1, accounts_done=0, scopes=0, scopes_done=0, calls=1234, errors=1, elapsed=75
    )
    assert describe(view) == "listing regions · 1,234 calls · 1 error · 01:15"


def test_members_stay_trusted_when_the_listing_account_is_not_scanned(
    organisation: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ListAccounts answers only in the management account or a delegated administrator
    (https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAccounts.html); moto
    answers every member, so a member's listing is refused here as AWS refuses it. With the
    management account excluded, the member list --org read is what tells B's outsider from
    A's sibling."""

    def refused(organizations: Any, calls: Any) -> None:
        return None  # what organization_members answers when ListAccounts is not permitted

    def judged(report: dict[str, Any]) -> list[tuple[str, str, str]]:
        found = [f for f in report["findings"] if f["rule_id"] == "VPCE104"]
        return [(f["account_id"], f["resource_id"], f["severity"]) for f in found]

    _, everyone, _ = _scan(capsys)
    monkeypatch.setattr(account_module, "organization_members", refused)
    code, report, _ = _scan(capsys, "--exclude-accounts", MANAGEMENT)
    assert code == 0 and report["summary"]["complete"] is True
    a, b = organisation["a"], organisation["b"]
    assert report["snapshot"]["accounts"] == sorted([a, b])
    # As when the management account is scanned: A's sibling is trusted, B's outsider is not.
    assert judged(report) == judged(everyone)
    assert [account for account, _, _ in judged(report)] == [b]


def test_the_organisations_member_list_is_stored_once(
    organisation: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every member keeps the listing --org made when it cannot list the organisation itself;
    stored on each, a snapshot of N accounts held N x N ids. It is kept once, by the first
    account by id, and members are still trusted (the test above)."""

    def refused(organizations: Any, calls: Any) -> None:
        return None

    monkeypatch.setattr(account_module, "organization_members", refused)
    path = tmp_path / "org.json"
    argv = ["collect", "--org", "--region", REGION, "--exclude-accounts", MANAGEMENT, "-o"]
    assert main([*argv, str(path)], stdout=io.StringIO()) == 0
    stored = {
        account["account_id"]: account["organization_member_ids"]
        for account in json.loads(path.read_text())["accounts"]
    }
    a, b = sorted([organisation["a"], organisation["b"]])
    assert stored[b] is None
    assert stored[a] is not None and {MANAGEMENT, a, b} <= set(stored[a])


class _Organizations:
    """An Organizations client whose ListAccounts fails with ``error``."""

    call_budget = None  # as ClientFactory's: no bound

    def __init__(self, error: Exception) -> None:
        self.error = error

    def client(self, service: str, region: str) -> _Organizations:
        return self

    def get_paginator(self, name: str) -> Any:
        raise self.error


def test_listing_the_organisation_says_whether_it_was_refused_or_unreachable() -> None:
    refused = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "List")
    with pytest.raises(CredentialsError, match="--org needs organizations:ListAccounts"):
        accounts_module.organization_accounts(_Organizations(refused), REGION)  # type: ignore[arg-type]
    down = EndpointConnectionError(endpoint_url="https://organizations.us-east-1.amazonaws.com")
    with pytest.raises(CredentialsError) as raised:
        accounts_module.organization_accounts(_Organizations(down), REGION)  # type: ignore[arg-type]
    assert str(raised.value).startswith("--org could not list the organisation's accounts")
    assert "EndpointConnectionError" in str(raised.value)


class _Listing:
    """An Organizations client whose ListAccounts answers ``accounts`` in one page."""

    call_budget = None  # as ClientFactory's: no bound

    def __init__(self, accounts: list[dict[str, Any]]) -> None:
        self.accounts = accounts

    def client(self, service: str, region: str) -> _Listing:
        return self

    def get_paginator(self, name: str) -> Any:
        return self

    def paginate(self) -> list[dict[str, Any]]:
        return [{"Accounts": self.accounts}]


@pytest.mark.parametrize("bad_id", ["12345678901\x1b", "1234567890123", 123456789012, None, ""])
def test_a_listing_with_a_malformed_account_id_is_refused_before_any_role_is_assumed(
    bad_id: object,
) -> None:
    """A snapshot holding such an id would be refused when read back (by scan and merge), after
    the whole collection: the listing is refused instead, with the id escaped and cut."""
    good = {"Id": "111111111111", "State": "ACTIVE"}
    listing = _Listing([good, {"Id": bad_id, "State": "ACTIVE"}])
    with pytest.raises(CredentialsError) as raised:
        accounts_module.organization_accounts(listing, REGION)  # type: ignore[arg-type]
    message = str(raised.value)
    assert "1 account id(s) that are not 12 digits" in message
    assert "\x1b" not in message
    assert accounts_module.organization_accounts(_Listing([good]), REGION) == (
        ("111111111111",),
        ("111111111111",),
    )


def test_an_account_asked_for_that_is_not_in_the_organisation_is_an_error(
    organisation: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    out = io.StringIO()
    argv = ["scan", "--org", "--region", REGION, "--accounts", f"{MANAGEMENT},{OUTSIDER}"]
    assert main(argv, stdout=out) == 2
    err = capsys.readouterr().err
    assert f"--accounts names {OUTSIDER}, which is not an ACTIVE account of the organisation" in err
    assert out.getvalue() == ""


def test_an_exclusion_that_names_no_account_to_scan_is_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    members = (MANAGEMENT, "222222222222")
    monkeypatch.setattr(
        accounts_module, "organization_accounts", lambda base, home: (members, members)
    )
    selection = accounts_module.AccountSelection(
        org=True, exclude_accounts=frozenset({"222222222222", "999999999999"})
    )
    # The CLI stops vpce-audit's records at its own logger (an earlier test may have run it).
    monkeypatch.setattr(logging.getLogger("vpce_audit"), "propagate", True)
    with caplog.at_level("WARNING"):
        chosen = accounts_module.targets(None, REGION, MANAGEMENT, selection)  # type: ignore[arg-type]
    assert [t.account_id for t in chosen] == [MANAGEMENT]
    assert {r.getMessage() for r in caplog.records if r.name == accounts_module.log.name} == {
        "--exclude-accounts names 999999999999, which is not among the accounts to scan; "
        "nothing is excluded for it"
    }


def test_a_member_also_named_by_role_arn_keeps_the_organisations_member_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    members = (MANAGEMENT, "222222222222", "333333333333")
    monkeypatch.setattr(
        accounts_module, "organization_accounts", lambda base, home: (members[:2], members)
    )
    selection = accounts_module.AccountSelection(
        org=True, role_arns=("arn:aws:iam::222222222222:role/audit",)
    )
    chosen = accounts_module.targets(None, REGION, MANAGEMENT, selection)  # type: ignore[arg-type]
    assert [(t.account_id, t.role_arn, t.organization_members) for t in chosen] == [
        (MANAGEMENT, None, members),
        ("222222222222", "arn:aws:iam::222222222222:role/audit", members),
    ]
