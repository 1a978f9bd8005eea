"""An organisation scan's setup (its identity, the organisation's listing, each role) under
hostile conditions: bounded in time like every other call, refused when it says too little,
and reported where a user (or a CI log) looks, whatever the verbosity."""

from __future__ import annotations

import argparse
import io
import logging
import threading
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber
from moto import mock_aws

from tests.test_organization import REGION, _scan, organisation  # noqa: F401  (a fixture)
from vpce_audit import cli
from vpce_audit.cli import main
from vpce_audit.collect import accounts as accounts_module
from vpce_audit.collect.account import enabled_regions_from
from vpce_audit.collect.calls import ScopeCalls
from vpce_audit.collect.runner import ClientFactory, CredentialsError, IdentityError, caller_account

MANAGEMENT = "123456789012"
SCP = (
    "User: arn:aws:sts::123456789012:assumed-role/audit/s is not authorized to perform: "
    "ec2:DescribeRegions with an explicit deny in a service control policy"
)


class _Dripping:
    """A botocore ``before-call`` handler that holds the call until released: an endpoint that
    answers one byte at a time, as far as the caller can tell. Released (the test is over, its
    moto mock gone), the call the scanner abandoned is answered with an error here, so that it
    never goes on to the real endpoint."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def __call__(self, **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        self.release.wait(30)
        answer = {"Error": {"Code": "TestOver", "Message": "the test has ended"}}
        return AWSResponse("https://127.0.0.1/", 500, {}, None), answer


@pytest.fixture
def dripping(aws_credentials: None) -> Any:
    drip = _Dripping()
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        clients = ClientFactory(session)
        clients.call_budget = 0.2  # instead of the default minutes
        yield session, clients, drip
    drip.release.set()


def test_the_scanners_identity_check_is_bounded_like_any_call(dripping: Any) -> None:
    session, clients, drip = dripping
    session.events.register("before-call.sts.GetCallerIdentity", drip)
    with pytest.raises(IdentityError) as raised:
        caller_account(clients, REGION)
    assert raised.value.code == "CallTimeout"


def test_an_assume_role_that_never_answers_is_that_accounts_error(dripping: Any) -> None:
    session, clients, drip = dripping
    session.events.register("before-call.sts.AssumeRole", drip)
    selection = accounts_module.AccountSelection(org=True)
    role = "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"
    with pytest.raises(accounts_module.AssumeRoleError) as raised:
        accounts_module.assumed_clients(clients, REGION, role, selection)
    assert raised.value.code == "CallTimeout"


def test_a_listing_of_the_organisation_that_never_answers_stops_the_scan(dripping: Any) -> None:
    session, clients, drip = dripping
    boto3.client("organizations", region_name=REGION).create_organization(FeatureSet="ALL")
    session.events.register("before-call.organizations.ListAccounts", drip)
    with pytest.raises(CredentialsError) as raised:
        accounts_module.organization_accounts(clients, REGION)
    assert str(raised.value).startswith(
        "--org could not list the organisation's accounts (CallTimeout:"
    )


@pytest.mark.parametrize(
    ("listed", "members"),
    [((), ()), (("222222222222",), ("222222222222",))],
    ids=["no-account", "without-the-caller"],
)
def test_a_listing_without_the_scanning_account_is_refused(
    monkeypatch: pytest.MonkeyPatch, listed: tuple[str, ...], members: tuple[str, ...]
) -> None:
    # The caller (management account or delegated administrator) is always a member: a
    # listing without it says nothing reliable about the organisation's scope. Before, an
    # empty one gave a complete, clean scan of the caller's account alone.
    monkeypatch.setattr(
        accounts_module, "organization_accounts", lambda base, home: (listed, members)
    )
    selection = accounts_module.AccountSelection(org=True)
    with pytest.raises(CredentialsError) as raised:
        accounts_module.targets(None, REGION, MANAGEMENT, selection)  # type: ignore[arg-type]
    assert str(raised.value) == (
        "--org could not list the organisation's accounts: ListAccounts answered "
        f"{len(members)} account(s), and not the scanning account {MANAGEMENT} itself"
    )


def test_two_roles_for_one_account_are_a_usage_error() -> None:
    selection = accounts_module.AccountSelection(
        role_arns=(
            "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole",
            "arn:aws:iam::222222222222:role/SomethingElse",
        )
    )
    with pytest.raises(CredentialsError, match="--role-arn names account 222222222222 twice"):
        accounts_module.targets(None, REGION, MANAGEMENT, selection)  # type: ignore[arg-type]


def test_a_failed_identity_check_after_assume_role_is_named_as_such(
    organisation: dict[str, str],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = accounts_module.caller_account
    member = organisation["b"]

    def identity(clients: Any, home: str) -> str:
        account = real(clients, home)
        if account == member:
            raise IdentityError("Throttling", "cannot establish AWS identity (Throttling): slow")
        return account

    monkeypatch.setattr(accounts_module, "caller_account", identity)
    code, report, err = _scan(capsys, "-q")
    assert code == 3
    (error,) = report["collection_errors"]
    assert (error["account_id"], error["operation"], error["error_code"]) == (
        member,
        "GetCallerIdentity",
        "Throttling",
    )
    assert error["message"].startswith(f"assumed arn:aws:iam::{member}:role/")
    # -q silences progress, not an account's loss.
    assert err.splitlines() == [
        f"vpce-audit: WARNING: account {member}: not reached (GetCallerIdentity: Throttling)"
    ]


def _processes_args(**given: Any) -> argparse.Namespace:
    values = {"processes": None, "demo": False, "shard": None, "org": True, "accounts": None}
    values.update(given)
    return argparse.Namespace(**values)


def test_a_machines_default_processes_leave_the_demo_and_a_shard_in_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(cli.PROCESSES_VARIABLE, "4")
    assert cli._processes_for(_processes_args()) == 4
    assert cli._processes_for(_processes_args(shard=(1, 3))) == 1
    assert cli._processes_for(_processes_args(demo=True, org=False)) == 1
    # Asked for on the command line, the conflict is the user's to resolve (a usage error).
    assert cli._processes_for(_processes_args(processes=4, shard=(1, 3))) == 4


def test_the_demo_runs_with_a_machines_default_processes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(cli.PROCESSES_VARIABLE, "4")
    out = io.StringIO()
    assert main(["-q", "scan", "--demo", "--format", "json", "--fail-on", "never"], out) == 0
    assert '"complete": true' in out.getvalue()


def test_regions_that_are_all_excluded_are_refused_before_any_call(
    aws_credentials: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_credentials(*_: Any, **__: Any) -> Any:
        raise AssertionError("credentials were asked for")

    monkeypatch.setattr(ClientFactory, "from_profile", no_credentials)
    for command in ("scan", "collect"):
        argv = [command, "--region", "eu-west-1", "--exclude-region", "eu-west-1", "-o", "x"]
        assert main(argv, io.StringIO()) == 2
        err = capsys.readouterr().err
        assert err.strip().endswith(
            "every region to scan (eu-west-1) is excluded by --exclude-region / "
            "exclude_regions: nothing would be scanned"
        ), err


def _ec2_answering(error: str | None) -> Any:
    client = boto3.client("ec2", region_name=REGION)
    stub = Stubber(client)
    if error is None:
        stub.add_response(
            "describe_regions",
            {"Regions": [{"RegionName": "eu-west-1"}, {"RegionName": "us-east-1"}]},
        )
    else:
        stub.add_client_error("describe_regions", "UnauthorizedOperation", error)
    stub.activate()
    return client


def test_regions_are_listed_elsewhere_when_an_scp_denies_the_home_region(
    aws_credentials: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # The CLI stops vpce-audit's records at its own logger (an earlier test may have run it).
    monkeypatch.setattr(logging.getLogger("vpce_audit"), "propagate", True)
    asked: list[str] = []

    def ec2_in(answers: dict[str, str | None]) -> Any:
        def client(region: str) -> Any:
            asked.append(region)
            return _ec2_answering(answers[region])

        return client

    calls = ScopeCalls(MANAGEMENT, "global")
    found = enabled_regions_from(
        ec2_in({"eu-west-3": SCP, "us-east-1": None}), "eu-west-3", "aws", calls
    )
    assert found == ("eu-west-1", "us-east-1")
    assert (asked, calls.errors) == (["eu-west-3", "us-east-1"], ())
    # Another refusal is not a region deny: asked once, recorded.
    asked.clear()
    refused = ec2_in({"eu-west-3": "not authorized", "us-east-1": None})
    assert enabled_regions_from(refused, "eu-west-3", "aws", calls) is None
    assert asked == ["eu-west-3"]
    assert [e.error_code for e in calls.errors] == ["UnauthorizedOperation"]
    # Denied everywhere it is asked: every refusal is recorded, each fallback naming its region,
    # and the account's loss is a warning (each denial alone was logged quietly).
    asked.clear()
    everywhere = ScopeCalls(MANAGEMENT, "global")
    denied = {region: SCP for region in ("eu-west-3", *accounts_fallbacks())}
    caplog.clear()
    with caplog.at_level("WARNING", logger="vpce_audit"):
        assert enabled_regions_from(ec2_in(denied), "eu-west-3", "aws", everywhere) is None
    assert asked == ["eu-west-3", *accounts_fallbacks()]
    assert [e.message for e in everywhere.errors] == [
        SCP if region == "eu-west-3" else f"asked in {region}: {SCP}" for region in asked
    ]
    assert {e.resource_id for e in everywhere.errors} == {None}  # an account-wide failure
    warned = sorted({r.getMessage() for r in caplog.records if r.levelname == "WARNING"})
    assert warned == [
        f"account {MANAGEMENT}: DescribeRegions failed in every region asked "
        f"({', '.join(asked)}): no region of it is collected"
    ]
    # A fallback that fails otherwise (throttled) is recorded as itself, naming its region.
    asked.clear()
    throttled = ScopeCalls(MANAGEMENT, "global")
    fails = {"eu-west-3": SCP, "us-east-1": "Rate exceeded"}
    assert enabled_regions_from(ec2_in(fails), "eu-west-3", "aws", throttled) is None
    assert [e.message for e in throttled.errors] == [SCP, "asked in us-east-1: Rate exceeded"]
    # A partition without fallback regions: the denial is still the account's loss, said aloud.
    caplog.clear()
    isolated = ScopeCalls(MANAGEMENT, "global")
    with caplog.at_level("WARNING", logger="vpce_audit"):
        assert (
            enabled_regions_from(
                ec2_in({"us-iso-east-1": SCP}), "us-iso-east-1", "aws-iso", isolated
            )
            is None
        )
    warned = sorted({r.getMessage() for r in caplog.records if r.levelname == "WARNING"})
    assert warned == [
        f"account {MANAGEMENT}: DescribeRegions failed in every region asked (us-iso-east-1): "
        "no region of it is collected"
    ]


def accounts_fallbacks() -> tuple[str, ...]:
    from vpce_audit.collect.account import FALLBACK_REGIONS

    return FALLBACK_REGIONS["aws"]


def test_an_interrupt_inside_a_finaliser_prints_nothing() -> None:
    seen: list[Any] = []
    hook = cli._unraisable(seen.append)

    class Unraisable:
        def __init__(self, error: BaseException) -> None:
            self.exc_value = error

    hook(Unraisable(cli.Terminated()))
    hook(Unraisable(KeyboardInterrupt()))
    assert seen == []
    other = Unraisable(ValueError("a real problem"))
    hook(other)
    assert seen == [other]


def test_a_shards_summary_counts_its_own_errors_not_the_other_shards() -> None:
    from pathlib import Path

    from vpce_audit.collect.runner import collection_summary
    from vpce_audit.snapshot import document as snapshot_document

    estate = Path(__file__).resolve().parent.parent / "fixtures/snapshots/golden-estate.json"
    whole = snapshot_document.read(estate)
    shard = snapshot_document.SnapshotDocument(
        tool_version=whole.tool_version,
        created_at=whole.created_at,
        accounts=whole.accounts,
        regions=whole.regions,
        shards=snapshot_document.ShardSet(of=2, collected=(1,), plan="0" * 16),
    )
    own = sum(len(r.errors) for r in whole.regions) + sum(len(a.errors) for a in whole.accounts)
    assert collection_summary(shard.accounts, shard, 0, 2.0, shard_run=True) == (
        f"collected {len(shard.accounts)} account(s), {len(shard.regions)} account-region(s) in "
        f"2 s; {own} collection error(s) (this shard's part of the account-regions)"
    )
    # The same document as the merge of --processes with a process lost: the lost shard's
    # account-regions are gaps, counted as the report counts them.
    gaps = len(shard.accounts)
    assert collection_summary(shard.accounts, shard, 0, 2.0) == (
        f"collected {len(shard.accounts)} account(s), {len(shard.regions)} account-region(s) in "
        f"2 s; {own + gaps} collection error(s)"
    )


class _Clients:
    def close(self, *_: Any) -> None:
        pass


def _error(region: str, kind: str = "subnets") -> Any:
    from vpce_audit.model import CollectionError

    operation = "DescribeVpcs" if kind == "vpcs" else "DescribeSubnets"
    return CollectionError(MANAGEMENT, region, "ec2", operation, "Throttling", "slow", kind)


def _account_line(
    regions: dict[str, str | None],
    *,
    account_errors: int = 0,
    failed: dict[str, str] | None = None,
    shard: tuple[int, int] | None = None,
) -> list[str]:
    """What an account's collection says of it: its regions (name: why an SCP refused it, or
    None), errors of its own, and ``failed`` regions (name: the resource kind that failed)."""
    from vpce_audit.collect.runner import AccountWork, CollectionRequest, _CollectionSteps
    from vpce_audit.collect.tally import Tally
    from vpce_audit.model import AccountSnapshot, RegionSnapshot

    said: list[str] = []
    request = CollectionRequest(regions=tuple(regions) or ("eu-west-1",), shard=shard)
    steps = _CollectionSteps(request, lambda _line: None, said.append, Tally())
    work = AccountWork(MANAGEMENT, _Clients(), ScopeCalls(MANAGEMENT, "global"), REGION)  # type: ignore[arg-type]
    steps.regions(work)
    work.regions = tuple(regions)
    work.account = AccountSnapshot(MANAGEMENT, "2026-11-27T00:00:00Z")
    work.calls.adopt(_error("global", "vpc_zones") for _ in range(account_errors))
    assert said == []  # said once the account is done, its facts' errors counted
    for name, refused in regions.items():
        kind = (failed or {}).get(name)
        errors = (_error(name, kind),) if kind else ()
        snapshot = RegionSnapshot(
            MANAGEMENT, name, "2026-11-27T00:00:00Z", errors=errors, out_of_scope=refused
        )
        steps.collected(work, snapshot)
    steps.finish(work)
    return said


def test_an_account_with_no_region_to_collect_still_gets_its_line_with_its_errors() -> None:
    # Every region is another shard's here (or DescribeRegions failed): no region finishes to
    # say it. Before, such an account had no line at all with one process, then one said before
    # its account-wide facts, without their errors.
    from vpce_audit.collect.runner import in_shard

    other_shard = next(k for k in (1, 2) if not in_shard(MANAGEMENT, "eu-west-1", k, 2))
    assert _account_line({}, account_errors=2, shard=(other_shard, 2)) == [
        f"account {MANAGEMENT}: 0 region(s) collected, 2 collection error(s)"
    ]


def test_an_accounts_line_counts_errors_and_refused_regions_as_the_report_does() -> None:
    """Account-wide errors count beside its regions'; a region a service control policy refused
    is out of scope where another region answered, and otherwise a gap, counted as an error
    (Snapshot.denied_everywhere): nothing of the account was seen."""
    both = {"eu-west-1": None, "us-east-1": None}
    assert _account_line(both, account_errors=2, failed={"us-east-1": "subnets"}) == [
        f"account {MANAGEMENT}: 2 region(s) collected, 3 collection error(s)"
    ]
    one_refused = {"eu-west-1": None, "eu-central-1": "SCP"}
    assert _account_line(one_refused) == [
        f"account {MANAGEMENT}: 1 region(s) collected, 1 out of scope (refused by a service "
        "control policy)"
    ]
    # The region left answered no DescribeVpcs: the account was seen nowhere.
    assert _account_line(one_refused, failed={"eu-west-1": "vpcs"}) == [
        f"account {MANAGEMENT}: none of its 2 region(s) answered (1 refused by a service "
        "control policy): nothing of it was seen, 2 collection error(s)"
    ]
    all_refused = {"eu-west-1": "SCP", "eu-central-1": "SCP"}
    assert _account_line(all_refused, account_errors=1) == [
        f"account {MANAGEMENT}: none of its 2 region(s) answered (2 refused by a service "
        "control policy): nothing of it was seen, 3 collection error(s)"
    ]
    # No SCP, but DescribeVpcs failed everywhere: nothing seen either, the errors are the gaps.
    assert _account_line(both, failed={"eu-west-1": "vpcs", "us-east-1": "vpcs"}) == [
        f"account {MANAGEMENT}: none of its 2 region(s) answered: nothing of it was seen, "
        "2 collection error(s)"
    ]
    # One shard of a split sees only its regions: others may answer in another shard.
    assert _account_line(all_refused, shard=(1, 1)) == _account_line(all_refused)
    (split,) = _account_line(all_refused, shard=(2, 2))
    assert "none of its 2 region(s) answered in this shard (2 refused" in split


@pytest.mark.parametrize("in_a_process", [False, True])
def test_an_account_not_reached_is_said_once_whatever_the_processes(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, in_a_process: bool
) -> None:
    """-q (one process): a warning. A process of --processes: nothing, since the parent says
    each account's line once for all its processes (each process warning too repeated it)."""
    from vpce_audit.collect.accounts import Target, _unreachable

    member = "222222222222"
    target = Target(member, f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole")
    refused = _unreachable(target, "AccessDenied", "not authorized")
    monkeypatch.setattr(
        cli, "_targets_of", lambda *a, **k: (object(), REGION, MANAGEMENT, (target,))
    )
    monkeypatch.setattr(cli, "prepare", lambda *a, **k: ([], [refused]))
    monkeypatch.setattr(logging.getLogger("vpce_audit"), "propagate", True)
    argv = ["-q", "collect", "--org", "--region", "eu-west-1", "--processes", "1", "-o", "x"]
    args = cli.build_parser().parse_args(argv)
    args.collection_process = in_a_process
    with caplog.at_level("WARNING", logger="vpce_audit"):
        cli._collect(args, None)
    # Each record once (caplog may hold one record twice, through two of its handlers).
    records = {id(r): r for r in caplog.records}.values()
    warned = [r.getMessage() for r in records if "not reached" in r.getMessage()]
    assert warned == (
        [] if in_a_process else [f"account {member}: not reached (AssumeRole: AccessDenied)"]
    )


def test_a_shard_runs_summary_leaves_the_other_shards_out() -> None:
    # `collect --shard K/N` says its own part; the other shards' account-regions are missing
    # by design (the report of the merged whole counts what is missing then).
    from vpce_audit.collect.runner import CollectionRequest, collect_accounts

    said: list[str] = []
    request = CollectionRequest(regions=("eu-west-1",), shard=(1, 2))
    document = collect_accounts([], [], request, account_progress=said.append)
    assert document.shards is not None
    assert said[-1].startswith("collected 0 account(s), 0 account-region(s) in ")
    assert said[-1].endswith(" s; 0 collection error(s) (this shard's part of the account-regions)")
