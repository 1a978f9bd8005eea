"""The command line under bad input and bugs: one line, the right exit code, never a traceback."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import pytest

from vpce_audit import cli
from vpce_audit.cli import INTERNAL_ERROR, main
from vpce_audit.report.html import _e
from vpce_audit.scan import ExitCode
from vpce_audit.snapshot.views import Snapshot

ROOT = Path(__file__).resolve().parent.parent
ESTATE = str(ROOT / "fixtures" / "snapshots" / "golden-estate.json")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, list[str]]:
    out = io.StringIO()
    code = main(list(argv), stdout=out)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, out.getvalue(), err.strip().splitlines()


@pytest.mark.parametrize(
    "selection",
    [["--select", ""], ["--select", ","], ["--select", " , "], ["--ignore", "VPCE"]],
)
def test_a_selection_that_leaves_no_rule_is_an_error(
    capsys: pytest.CaptureFixture[str], selection: list[str]
) -> None:
    code, out, err = _run(capsys, "scan", "--snapshot", ESTATE, *selection)
    assert code == ExitCode.USAGE
    assert out == ""
    (line,) = err
    assert line.startswith("vpce-audit: error: ")


def test_an_unexpected_exception_is_one_line_and_its_own_exit_code(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("something no one planned for")

    monkeypatch.setattr(cli, "run_scan", broken)
    code, _, err = _run(capsys, "scan", "--snapshot", ESTATE)
    assert code == INTERNAL_ERROR and code not in tuple(ExitCode)
    (line,) = err
    assert line.startswith("vpce-audit: error: internal error: RuntimeError at test_cli_hardening")
    assert "something no one planned for" in line and "-v" in line


def test_argument_errors_are_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["scan", "--scope-timeout", "forever"], stdout=io.StringIO())
    assert stopped.value.code == ExitCode.USAGE
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not a number of seconds" in err[0]


def test_the_markdown_report_fits_its_size_limit_and_keeps_the_counts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, full, _ = _run(capsys, "scan", "--snapshot", ESTATE, "--format", "markdown")
    code, cut, _ = _run(
        capsys, "scan", "--snapshot", ESTATE, "--format", "markdown", "--max-size", "4096"
    )
    assert code == ExitCode.INCOMPLETE
    assert len(full.encode()) > 4096 >= len(cut.encode())
    assert cut.splitlines()[2] == full.splitlines()[2]  # the headline counts
    assert "more not shown: the report is limited to 4,096 bytes" in cut
    headings = [line for line in full.splitlines() if line.startswith("## ")]
    assert headings == [line for line in cut.splitlines() if line.startswith("## ")]


def test_output_dash_is_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "scan", "--snapshot", ESTATE, "--format", "json", "-o", "-")
    assert code == ExitCode.INCOMPLETE
    assert out.startswith("{")


def test_output_to_a_directory_is_refused_before_any_work(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = _run(capsys, "scan", "--snapshot", ESTATE, "-o", f"{tmp_path}/")
    assert code == ExitCode.USAGE
    assert err == [
        f"vpce-audit: error: cannot write {tmp_path}/: it names a directory; give a file name"
    ]


def test_an_interrupt_while_starting_is_exit_130_without_a_traceback() -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    environment = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    process = subprocess.Popen(
        [sys.executable, "-X", "importtime", "-m", "vpce_audit", "rules", "list"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )
    # Interrupt the CLI's imports: the launcher has set its handlers before they begin, and
    # -X importtime writes each finished import to stderr (vpce_audit.console is among the
    # CLI's first).
    assert process.stderr is not None
    seen = ""
    deadline = time.monotonic() + 30
    while "vpce_audit.console" not in seen and time.monotonic() < deadline:
        seen += process.stderr.readline()
    process.send_signal(signal.SIGINT)
    _, rest = process.communicate(timeout=30)
    assert process.returncode == 130
    assert "Traceback" not in seen + rest
    assert "vpce-audit: interrupted; nothing was written" in rest


def _golden_without(tmp_path: Path, change: str) -> str:
    import json

    body = json.loads(Path(ESTATE).read_text())
    if change == "no account facts":
        body["accounts"] = []
    else:  # an account with facts but no region and no error
        extra = dict(body["accounts"][0], account_id="333333333333", errors=[])
        body["accounts"].append(extra)
        for region in body["regions"]:
            region["errors"] = []
    path = tmp_path / "partial.json"
    path.write_text(json.dumps(body))
    return str(path)


@pytest.mark.parametrize("change", ["no account facts", "an account without regions"])
def test_a_document_with_gaps_is_incomplete_and_keeps_alerts_open(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, change: str
) -> None:
    import json

    snapshot = _golden_without(tmp_path, change)
    code, out, _ = _run(capsys, "scan", "--snapshot", snapshot, "--format", "json")
    assert code == ExitCode.INCOMPLETE
    report = json.loads(out)
    gaps = [e for e in report["collection_errors"] if e["error_code"] == "NotCollected"]
    assert gaps and report["summary"]["complete"] is False
    _, sarif_text, _ = _run(capsys, "scan", "--snapshot", snapshot, "--format", "sarif")
    uploaded = {
        run["automationDetails"]["id"]
        for run in json.loads(sarif_text)["runs"]
        if run["invocations"][0]["executionSuccessful"]
    }
    assert not {f"vpce-audit/aws/{gap['account_id']}/" for gap in gaps} & uploaded


def test_a_reader_that_leaves_early_does_not_turn_the_exit_code_clean() -> None:
    import subprocess
    import sys

    scan = subprocess.Popen(
        # SARIF: larger than a pipe buffer, so the write meets the closed pipe.
        [sys.executable, "-m", "vpce_audit", "scan", "--snapshot", ESTATE, "--format", "sarif"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert scan.stdout is not None
    scan.stdout.read(10)
    scan.stdout.close()  # the reader goes away, as `| head -c 10` would
    _, err = scan.communicate(timeout=60)
    assert scan.returncode == ExitCode.INCOMPLETE
    assert b"Traceback" not in err


# -- options of the organisation surface (a red-team sweep, 2026-11-27) ----------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["collect", "--demo", "--shard", "1/2", "--shard", "2/2", "-o", "x"],
            "--shard is given twice",
        ),
        (["collect", "--demo", "-o", "a.json", "-o", "b.json"], "-o is given twice"),
        (["merge", ESTATE, ESTATE, "-o", "a.json", "-o", "b.json"], "-o is given twice"),
        (["scan", "--region", "useast1"], "'useast1' is not an AWS region name"),
        (["scan", "--region", "global"], "'global' is not an AWS region name"),
        (["scan", "--org", "--role-session-name", "x"], "'x' is not a role session name"),
        (["scan", "--org", "--role-session-name", "has space"], "is not a role session name"),
        (["scan", "--org", "--external-id", "x"], "'x' is not an ExternalId"),
        (["scan", "--org", "--role-name", ""], "'' is not an IAM role name"),
        (["scan", "--org", "--role-name", "a" * 65], "is not an IAM role name"),
        (["collect", "--demo", "--shard", "1/100001", "-o", "x"], "N must be at most 100,000"),
        (["collect", "--demo", "--shard", "1/1000000", "-o", "x"], "N must be at most 100,000"),
        *(
            (["collect", "--demo", f"--shard={value}", "-o", "x"], "is not K/N, e.g. 2/8")
            for value in (" 1 / 2 ", "1_0/2_0", "+1/+2", "\u0661/\u0662", "1/2/3", "1/10000000")
        ),
    ],
)
def test_bad_organisation_options_are_usage_errors(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(argv, stdout=io.StringIO())
    assert stopped.value.code == ExitCode.USAGE
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err


@pytest.mark.parametrize(
    ("role", "accepted"),
    [
        ("vpce-audit-read-only", True),
        ("audit/ci/" + "a" * 64, True),
        ("a" * 65, False),
        ("audit/" + "a" * 65, False),
        ("r\u00e9le", False),
        ("", False),
    ],
)
def test_a_role_arn_names_a_role_as_iam_allows_it(role: str, accepted: bool) -> None:
    """The role name, after its path, has at most 64 characters of IAM's set, as --role-name."""
    from vpce_audit.collect.accounts import role_account

    arn = f"arn:aws:iam::123456789012:role/{role}"
    if accepted:
        assert role_account(arn) == "123456789012"
    else:
        with pytest.raises(ValueError, match="is not an IAM role ARN"):
            role_account(arn)


def test_a_role_under_a_path_and_aws_limits_are_accepted() -> None:
    parsed = cli.build_parser().parse_args(
        [
            "scan",
            "--role-name",
            "audit/vpce-audit-read-only",
            "--role-session-name",
            "ci.run@2026-11-27",
            "--external-id",
            "o-abc:1234/x",
        ]
    )
    assert parsed.role_name == "audit/vpce-audit-read-only"


def test_repeated_account_options_add_up() -> None:
    parsed = cli.build_parser().parse_args(
        [
            "scan",
            "--accounts",
            "111111111111",
            "--accounts",
            "222222222222,333333333333",
            "--exclude-accounts",
            "444444444444",
            "--exclude-accounts",
            "555555555555",
        ]
    )
    assert parsed.accounts == {"111111111111", "222222222222", "333333333333"}
    assert parsed.exclude_accounts == {"444444444444", "555555555555"}


@pytest.mark.parametrize(
    "option",
    [
        ["--org"],
        ["--accounts", "123456789012"],
        ["--exclude-accounts", "123456789012"],
        ["--exclude-region", "us-east-1"],
        ["--role-arn", "arn:aws:iam::123456789012:role/x"],
        ["--external-id", "abc"],
        ["--workers", "4"],
        ["--processes", "2"],
        ["--processes", "auto"],
        ["--call-timeout", "5"],
    ],
)
def test_a_snapshot_scan_refuses_what_only_a_collection_reads(
    capsys: pytest.CaptureFixture[str], option: list[str]
) -> None:
    """Ignored, they would report what the user asked to leave out, as if left out."""
    code, out, err = _run(capsys, "scan", "--snapshot", ESTATE, *option)
    assert code == ExitCode.USAGE and out == ""
    assert f"cannot be combined with {option[0]}," in err[-1]


@pytest.mark.parametrize(
    ("option", "needs"),
    [
        (["--role-name", "audit"], "--org"),
        (["--exclude-accounts", "123456789012"], "--org or --role-arn"),
        (["--external-id", "abc"], "--org or --role-arn"),
        (["--role-session-name", "ci"], "--org or --role-arn"),
    ],
)
@pytest.mark.parametrize("command", ["scan", "collect"])
def test_options_that_shape_how_accounts_are_reached_need_org_or_a_role(
    capsys: pytest.CaptureFixture[str], option: list[str], needs: str, command: str
) -> None:
    """Without --org (or --role-arn) they would be ignored, and a user who forgot --org would
    get a clean scan of one account. Refused before any call to AWS."""
    code, out, err = _run(capsys, command, "--region", "us-east-1", *option, "-o", "-")
    assert code == ExitCode.USAGE and out == ""
    assert err[-1].endswith(
        f"{option[0]} applies only with {needs}; without, only the credentials' own account is "
        "scanned"
    )
    code, _, err = _run(capsys, command, "--demo", *option, "-o", "-")
    assert code == ExitCode.USAGE and f"it takes no {option[0]}" in err[-1]


@pytest.mark.parametrize(
    "value",
    ["99999999999999", "253402300800", "abc", "-1", "1e9", " 1", "\u0661\u0662", "9" * 5000],
)
def test_a_malformed_source_date_epoch_is_a_usage_error_before_any_work(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """The reproducible-builds convention asks a malformed value to stop the run; a value past
    the year 9999 raised inside the merge (exit 4), others were ignored for the clock."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    code, out, err = _run(capsys, "scan", "--snapshot", ESTATE, "--format", "json")
    assert code == ExitCode.USAGE and out == ""
    assert len(err) == 1 and "not a whole number of seconds since 1970-01-01" in err[0]
    assert len(err[0]) < 200


def test_a_command_that_writes_no_timestamp_ignores_source_date_epoch(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "abc")
    code, out, _ = _run(capsys, "rules", "list")
    assert code == ExitCode.CLEAN and "VPCE101" in out


@pytest.mark.parametrize(
    ("value", "written"),
    [("0", "1970-01-01T00:00:00Z"), ("0001700000000", "2023-11-14T22:13:20Z"), ("", None)],
)
def test_a_well_formed_or_empty_source_date_epoch_is_used(
    monkeypatch: pytest.MonkeyPatch, value: str, written: str | None
) -> None:
    from vpce_audit.clock import utc_now

    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    assert utc_now() == written if written else utc_now().endswith("Z")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--org", "--profile", "a", "--profile", "b"], "several --profile options name the"),
        (["--role-arn", "arn:aws:iam::123456789012:user/x"], "--role-arn: 'arn:aws:iam::"),
    ],
)
def test_account_usage_errors_come_before_any_collection_process_starts(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    message: str,
) -> None:
    def started(*_args: object) -> None:
        raise AssertionError("a collection process was started")

    monkeypatch.setattr(cli, "collect_in_processes", started)
    code, _, err = _run(capsys, "collect", *argv, "--processes", "2", "-o", "-")
    assert code == ExitCode.USAGE and len(err) == 1 and message in err[0]


def test_the_parent_of_the_processes_lists_the_accounts_once_for_all_of_them(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each process listing the organisation itself made N chances for a throttled ListAccounts
    to stop the whole scan (exit 2 after collecting), and let an account that joined meanwhile
    be collected by some shards only. The processes get the parent's listing and list
    nothing."""
    from vpce_audit.collect.accounts import Target
    from vpce_audit.collect.processes import ShardsCollected
    from vpce_audit.snapshot import document as snapshot_document

    chosen = (Target("111111111111", None), Target("222222222222", "arn:aws:iam::2:role/r"))
    listings: list[str | None] = []

    def listing(profile: str | None, *args: object, listed: object = None, **kw: object) -> object:
        assert listed is None
        listings.append(profile)
        return object(), "us-east-1", "111111111111", chosen

    handed: list[object] = []

    def processes(part: Any, count: int, heard: object) -> ShardsCollected:
        handed.append(part.args[0].listed)
        whole = snapshot_document.read(Path(ESTATE))
        shard = dataclasses.replace(
            whole, shards=snapshot_document.ShardSet(of=2, collected=(1,), plan="0" * 16)
        )
        return ShardsCollected([shard], {})

    monkeypatch.setattr(cli, "_targets_of", listing)
    monkeypatch.setattr(cli, "collect_in_processes", processes)
    _run(capsys, "collect", "--org", "--processes", "2", "-o", str(tmp_path / "s.json"))
    assert listings == [None]
    assert handed == [{None: ("us-east-1", "111111111111", chosen)}]


def test_a_process_given_the_listing_makes_only_its_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from vpce_audit.collect.accounts import AccountSelection, Target
    from vpce_audit.collect.runner import ClientFactory, CollectionRequest

    def no_call(*_args: object) -> str:
        raise AssertionError("a process listed again")

    monkeypatch.setattr(cli, "caller_account", no_call)
    monkeypatch.setattr(cli, "targets", no_call)
    monkeypatch.setattr(ClientFactory, "from_profile", classmethod(lambda cls, p, t: "clients"))
    chosen = (Target("111111111111", None),)
    args = cli.build_parser().parse_args(["collect", "--org", "-o", "x"])
    found = cli._targets_of(
        None,
        args,
        CollectionRequest(),
        AccountSelection(org=True),
        named=False,
        listed=("eu-west-1", "111111111111", chosen),
    )
    assert found == ("clients", "eu-west-1", "111111111111", chosen)


def test_a_role_name_with_a_role_arn_says_the_arn_names_its_role(
    capsys: pytest.CaptureFixture[str],
) -> None:
    role = "arn:aws:iam::123456789012:role/audit"
    code, _, err = _run(capsys, "scan", "--role-arn", role, "--role-name", "other", "-o", "-")
    assert code == ExitCode.USAGE
    assert err[-1].endswith(
        "--role-name names the role --org assumes in each member; a --role-arn names its role "
        "itself"
    )


def test_collect_of_one_shard_of_one_counts_the_gaps_of_a_whole_snapshot(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--shard 1/1 collects a whole snapshot (no shard set): an account with neither a region
    nor an error is a gap there, and the collection is incomplete, as without --shard."""
    from vpce_audit.model import AccountSnapshot
    from vpce_audit.snapshot import document as snapshot_document

    whole = snapshot_document.read(Path(ESTATE))
    extra = AccountSnapshot("999999999999", whole.accounts[0].collected_at)
    with_gap = dataclasses.replace(whole, accounts=(*whole.accounts, extra))
    gaps = len(Snapshot(with_gap).all_errors)
    assert gaps == len(Snapshot(whole).all_errors) + 1
    monkeypatch.setattr(cli, "_collect", lambda args, config: with_gap)
    for shard in (["--shard", "1/1"], []):
        code, _, err = _run(capsys, "collect", "--region", "us-east-1", *shard, "-o", "-")
        assert code == ExitCode.INCOMPLETE, shard
        assert err[-1].endswith(f"; {gaps} collection error(s)")


def _listed_by_the_parent(monkeypatch: pytest.MonkeyPatch) -> None:
    """The parent of --processes lists the accounts before any process starts: one account."""
    from vpce_audit.collect.accounts import Target

    def listing(profile: str | None, *args: object, **kw: object) -> object:
        return object(), "us-east-1", "111111111111", (Target("111111111111", None),)

    monkeypatch.setattr(cli, "_targets_of", listing)


def test_the_collection_summary_counts_errors_as_the_report_does() -> None:
    """Its gaps too (here an account with neither a region nor an error): the CI log said
    '0 collection error(s)' of a scan whose report held errors and exited 3."""
    from vpce_audit.collect.runner import collection_summary
    from vpce_audit.model import AccountSnapshot
    from vpce_audit.snapshot import document as snapshot_document

    whole = snapshot_document.read(Path(ESTATE))
    extra = AccountSnapshot("999999999999", whole.accounts[0].collected_at)
    with_gap = dataclasses.replace(whole, accounts=(*whole.accounts, extra))
    counted = len(Snapshot(with_gap).all_errors)
    assert counted > sum(len(r.errors) for r in with_gap.regions) + sum(
        len(a.errors) for a in with_gap.accounts
    )
    line = collection_summary(with_gap.accounts, with_gap, 0, 3.0)
    assert line == (
        f"collected {len(with_gap.accounts)} account(s), {len(with_gap.regions)} "
        f"account-region(s) in 3 s; {counted} collection error(s)"
    )


def test_every_collection_process_killed_is_exit_4_and_nothing_written(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not 3, which promises that the output was written (recipes go on after it)."""
    from vpce_audit.collect.processes import ProcessFailed

    def all_killed(part: object, processes: int, heard: object) -> None:
        raise ProcessFailed("every collection process ended without a snapshot (...)")

    monkeypatch.setattr(cli, "collect_in_processes", all_killed)
    _listed_by_the_parent(monkeypatch)
    path = tmp_path / "s.json"
    code, _, err = _run(
        capsys, "collect", "--region", "us-east-1", "--processes", "2", "-o", str(path)
    )
    assert code == INTERNAL_ERROR == 4
    assert err[-1].endswith("(...); nothing was written")
    assert not path.exists()


def test_a_collection_process_killed_from_outside_costs_its_shard_not_the_scan(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--processes 2, process 2 killed (out of memory): the other's shard is written, every
    account names the lost shard as not collected, stderr says how the process ended, and the
    exit code is 3, not 4 (a bug of ours)."""
    from vpce_audit.collect.processes import ShardsCollected
    from vpce_audit.snapshot import document as snapshot_document

    shard_1 = dataclasses.replace(
        snapshot_document.read(Path(ESTATE)),
        shards=snapshot_document.ShardSet(of=2, collected=(1,), plan="0123456789abcdef"),
    )
    lost = ShardsCollected([shard_1], {2: "killed by SIGKILL"})
    monkeypatch.setattr(cli, "collect_in_processes", lambda part, processes, heard: lost)
    _listed_by_the_parent(monkeypatch)
    path = tmp_path / "s.json"
    code, _, err = _run(
        capsys, "collect", "--region", "us-east-1", "--processes", "2", "-o", str(path)
    )
    assert code == ExitCode.INCOMPLETE
    assert "collection process 2/2 killed by SIGKILL (out of memory?) before it finished" in err[0]
    gaps = Snapshot(snapshot_document.read(path)).coverage_gaps
    assert gaps and all("shard 2 of 2 was not merged in" in gap.message for gap in gaps)


@pytest.mark.parametrize(
    ("argv", "environment", "cpus", "expected"),
    [
        (["--org"], None, 4, 4),  # several accounts: the usable cores
        (["--org"], None, 32, 8),  # ... at most 8
        (["--org"], None, 1, 1),
        (["--role-arn", "arn:aws:iam::123456789012:role/r"], None, 4, 4),
        (["--profile", "a", "--profile", "b"], None, 4, 4),
        (["--region", "us-east-1"], None, 4, 1),  # one account
        (["--org", "--shard", "1/2"], None, 4, 1),  # a shard is one process
        (["--org", "--accounts", "123456789012"], None, 4, 1),  # one account of several
        (["--org", "--accounts", "123456789012,210987654321"], None, 4, 4),
        (["--demo"], None, 4, 1),
        (["--org"], "3", 4, 3),  # the environment's default
        (["--region", "us-east-1"], "2", 4, 2),
        (["--org"], "auto", 6, 6),
        (["--org", "--processes", "2"], "5", 4, 2),  # the option wins
        (["--org", "--processes", "auto"], "1", 4, 4),
    ],
)
def test_processes_default_to_the_cores_for_several_accounts(
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    environment: str | None,
    cpus: int,
    expected: int,
) -> None:
    if environment is None:
        monkeypatch.delenv("VPCE_AUDIT_PROCESSES", raising=False)
    else:
        monkeypatch.setenv("VPCE_AUDIT_PROCESSES", environment)
    monkeypatch.setattr(cli, "_usable_cpus", lambda: cpus)
    args = cli.build_parser().parse_args(["collect", *argv, "-o", "x"])
    assert cli._processes_for(args) == expected


@pytest.mark.parametrize("environment", ["0", "65", "many", "-1"])
def test_a_bad_processes_variable_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, environment: str
) -> None:
    monkeypatch.setenv("VPCE_AUDIT_PROCESSES", environment)
    code, _, err = _run(capsys, "collect", "--org", "-o", "-")
    assert code == ExitCode.USAGE
    assert err[-1].endswith(
        "VPCE_AUDIT_PROCESSES must be between 1 and 64"
        if environment.isdigit()
        else f"VPCE_AUDIT_PROCESSES: '{environment}' is not a number of processes or auto"
    )


@pytest.mark.parametrize(("option", "value"), [("--processes", "65"), ("--workers", "0")])
def test_processes_and_workers_are_bounded(
    capsys: pytest.CaptureFixture[str], option: str, value: str
) -> None:
    code, _, err = _run(capsys, "scan", "--demo", option, value)
    assert code == ExitCode.USAGE
    assert f"{option} must be between 1 and" in err[-1]


def test_merge_refuses_one_file_under_two_names_and_a_merge_of_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    link = tmp_path / "link.json"
    link.symlink_to(ESTATE)
    code, _, err = _run(capsys, "merge", ESTATE, str(link), "-o", str(tmp_path / "m.json"))
    assert code == ExitCode.USAGE and "the same snapshot is given twice" in err[-1]
    empty = json.loads(Path(ESTATE).read_text())
    empty["regions"] = []
    empty["accounts"] = []
    empty["service_catalogues"] = []
    for name in ("a.json", "b.json"):
        (tmp_path / name).write_text(json.dumps(empty))
    merged = tmp_path / "merged.json"
    code, _, err = _run(
        capsys, "merge", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "-o", str(merged)
    )
    assert code == ExitCode.USAGE and "nothing was scanned" in err[-1]
    assert not merged.exists()


@pytest.mark.parametrize(
    "value",
    [
        "zzzz not a time",
        "2026-11-27T02:40:00",  # no zone
        "2026-11-27T02:40:00.5Z",  # Python 3.11 reads it, 3.10 does not
        "20261127T024000Z",
        "2026-W48-5T02:40:00Z",
    ],
)
def test_a_snapshot_time_that_is_not_a_time_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, value: str
) -> None:
    """merge keeps the newer of two accounts' facts: a string compared as text would let
    "zzzz" win over every real time. One form only, the same on every Python."""
    document = json.loads(Path(ESTATE).read_text())
    document["accounts"][0]["collected_at"] = value
    path = tmp_path / "bad-time.json"
    path.write_text(json.dumps(document))
    code, _, err = _run(capsys, "scan", "--snapshot", str(path))
    assert code == ExitCode.USAGE
    assert f"accounts[0].collected_at: {value!r} is not a time with its zone" in err[-1]


def test_with_several_profiles_an_identity_failure_names_its_profile(
    capsys: pytest.CaptureFixture[str],
    aws_credentials: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = tmp_path / "config"
    config.write_text(
        "[profile closed]\nendpoint_url = http://127.0.0.1:1\nregion = us-east-1\n"
        "[profile other]\nregion = us-east-1\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    code, _, err = _run(
        capsys, "scan", "--region", "us-east-1", "--profile", "closed", "--profile", "other"
    )
    assert code == ExitCode.USAGE
    assert err[-1].startswith("vpce-audit: error: profile closed: cannot establish AWS identity")


def test_the_html_report_breaks_up_github_log_commands() -> None:
    # Shown unchanged by a browser, inert in a CI log that prints the file.
    assert _e("x ##[group]g") == "x #&#35;[group]g"
    assert _e("::error file=a.py::pwned") == "&#58;:error file=a.py::pwned"
