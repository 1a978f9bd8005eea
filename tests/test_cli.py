"""The command line: exit codes, errors without tracebacks, files, collect/scan equivalence."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.helpers import document, region
from tests.moto_estates import build_two_region_estate, expected_two_region_findings
from tests.sarif_checks import assert_uploadable
from vpce_audit.cli import main
from vpce_audit.findings import Finding, Severity
from vpce_audit.scan import ExitCode, ScanResult
from vpce_audit.snapshot.document import read, to_json
from vpce_audit.snapshot.views import Snapshot

ROOT = Path(__file__).resolve().parent.parent
ESTATE = ROOT / "fixtures" / "snapshots" / "golden-estate.json"


def cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), stdout=out)
    return code, out.getvalue()


@pytest.fixture
def complete_snapshot(tmp_path: Path) -> Path:
    """The golden estate without the account whose collection failed."""
    full = read(ESTATE)
    path = tmp_path / "complete.json"
    path.write_text(
        to_json(
            document(
                *(r for r in full.regions if not r.errors),
                accounts=tuple(a for a in full.accounts if a.account_id == "111111111111"),
            )
        )
    )
    return path


@pytest.mark.parametrize(
    ("fail_on", "expected"),
    [
        ("low", ExitCode.FINDINGS),
        ("high", ExitCode.FINDINGS),
        ("critical", ExitCode.CLEAN),
        ("never", ExitCode.CLEAN),
    ],
)
def test_fail_on_threshold(complete_snapshot: Path, fail_on: str, expected: ExitCode) -> None:
    code, _ = cli("scan", "--snapshot", str(complete_snapshot), "--fail-on", fail_on)
    assert code == expected


def test_default_fail_on_is_low(complete_snapshot: Path) -> None:
    assert cli("scan", "--snapshot", str(complete_snapshot))[0] == ExitCode.FINDINGS


def test_incomplete_scan_exits_3_even_when_told_never_to_fail() -> None:
    code, output = cli("scan", "--snapshot", str(ESTATE), "--fail-on", "never")
    assert code == ExitCode.INCOMPLETE
    assert "INCOMPLETE SCAN" in output


def test_info_findings_never_fail_a_run() -> None:
    info = Finding("X001", Severity.INFO, "1", "r", "vpc", "vpc-1", "arn", "m")
    result = ScanResult("t", Snapshot(document(region())), (), (info,), ())
    assert result.exit_code(Severity.INFO) == ExitCode.CLEAN
    low = Finding("X001", Severity.LOW, "1", "r", "vpc", "vpc-2", "arn2", "m")
    result = ScanResult("t", Snapshot(document(region())), (), (info, low), ())
    assert result.exit_code(Severity.INFO) == ExitCode.FINDINGS


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["scan", "--snapshot", "/nonexistent/snap.json"], "cannot read snapshot"),
        (["scan", "--snapshot", str(ESTATE), "--demo"], "cannot be combined"),
        (["rules", "show", "VPCE999"], "unknown rule id 'VPCE999'"),
        (["scan", "--snapshot", str(ESTATE), "-o", "/nonexistent/dir/out.json"], "does not exist"),
        (["scan", "--demo", "--region", "us-east-1"], "takes no --region"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = cli(*argv)
    error = capsys.readouterr().err
    assert code == ExitCode.USAGE
    assert message in error
    assert "Traceback" not in error
    assert error.count("\n") == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["scan", "--format", "xml"],
        ["scan", "--fail-on", "extreme"],
        ["scan", "--region", "EU 1"],
        ["frobnicate"],
        [],
    ],
)
def test_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == ExitCode.USAGE
    assert "Traceback" not in capsys.readouterr().err


def test_malformed_snapshot_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.json"
    body = json.loads(ESTATE.read_text())
    body["regions"][0]["vpcs"][0]["cidr_blocks"] = "10.0.0.0/16"
    broken.write_text(json.dumps(body))
    code, _ = cli("scan", "--snapshot", str(broken))
    assert code == ExitCode.USAGE
    assert "$.regions[0].vpcs[0].cidr_blocks: expected an array" in capsys.readouterr().err


def test_output_file_is_written_whole_and_stdout_stays_empty(tmp_path: Path) -> None:
    target = tmp_path / "report.sarif"
    target.write_text("old content")
    code, stdout = cli("scan", "--snapshot", str(ESTATE), "--format", "sarif", "-o", str(target))
    assert code == ExitCode.INCOMPLETE
    assert stdout == ""
    assert_uploadable(target.read_text())
    assert [p.name for p in tmp_path.iterdir()] == ["report.sarif"]  # no temporary left behind


def test_rules_list_and_show() -> None:
    code, listing = cli("rules", "list")
    assert code == 0
    for rule_id in (
        "VPCE000",
        "VPCE101",
        "VPCE201",
        "VPCE301",
        "VPCE304",
        "VPCE401",
        "VPCE402",
        "VPCE501",
    ):
        assert rule_id in listing
    code, shown = cli("rules", "show", "vpce401")
    assert code == 0
    assert shown.startswith("## VPCE401 s3-traffic-via-nat")
    assert "aws ec2 modify-vpc-endpoint" in shown
    code, as_json = cli("rules", "list", "--format", "json")
    assert {
        "id": "VPCE501",
        "name": "connected-networks-conflict",
        "severity": "high",
        "enabled_by_default": True,
        "title": "A VPC connects to networks whose address space conflicts",
        "retired": None,
    } in json.loads(as_json)


def test_retired_rules_are_listed_as_retired_and_explain_why() -> None:
    _, listing = cli("rules", "list")
    (line,) = [row for row in listing.splitlines() if row.startswith("VPCE205")]
    assert "retired" in line
    code, shown = cli("rules", "show", "VPCE205")
    assert code == 0
    assert "**Retired.**" in shown and "AllowDnsResolutionFromRemoteVpc" in shown
    _, as_json = cli("rules", "list", "--format", "json")
    (entry,) = [e for e in json.loads(as_json) if e["id"] == "VPCE205"]
    assert entry["enabled_by_default"] is False and "premise was wrong" in entry["retired"]


def test_selecting_a_retired_rule_warns_and_runs_the_rest(
    capsys: pytest.CaptureFixture[str],
) -> None:
    snapshot = str(Path(__file__).resolve().parent.parent / "fixtures/snapshots/golden-estate.json")
    code, report = cli(
        "scan", "--snapshot", snapshot, "--format", "json", "--select", "VPCE205,VPCE2"
    )
    assert code in {ExitCode.FINDINGS, ExitCode.INCOMPLETE}
    assert "VPCE205" not in json.loads(report)["summary"]["rules"]
    assert "--select: rule VPCE205 is retired and is not run" in capsys.readouterr().err


def test_module_entry_point_runs() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "vpce_audit", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0
    assert completed.stdout.startswith("vpce-audit ")


@pytest.fixture
def moto_estate(aws_credentials: None, moto_gaps: object) -> Iterator[dict[str, str]]:
    with mock_aws():
        yield build_two_region_estate(
            boto3.client("ec2", region_name="us-west-2"),
            boto3.client("ec2", region_name="ap-southeast-2"),
            boto3.client("elbv2", region_name="ap-southeast-2"),
        )


def _findings(report: str) -> list[dict[str, Any]]:
    findings: list[dict[str, Any]] = json.loads(report)["findings"]
    return findings


def test_collect_then_scan_snapshot_gives_the_live_findings(
    moto_estate: dict[str, str], tmp_path: Path
) -> None:
    regions = ["--region", "us-west-2", "--region", "ap-southeast-2"]
    live_code, live = cli("scan", *regions, "--format", "json")
    snapshot_file = tmp_path / "snapshot.json"
    assert cli("collect", *regions, "-o", str(snapshot_file))[0] == ExitCode.CLEAN
    offline_code, offline = cli("scan", "--snapshot", str(snapshot_file), "--format", "json")
    assert live_code == offline_code == ExitCode.FINDINGS
    assert _findings(live) == _findings(offline)
    assert {(f["rule_id"], f["resource_id"]) for f in _findings(live)} == (
        expected_two_region_findings(moto_estate)
    )


def test_missing_profile_is_a_usage_error(
    aws_credentials: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = cli("scan", "--profile", "no-such-profile", "--region", "eu-west-1")
    assert code == ExitCode.USAGE
    assert "no-such-profile" in capsys.readouterr().err


def test_shards_merged_give_the_bytes_of_one_collection(
    moto_estate: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """collect --shard K/N on N machines, then merge (or several --snapshot): the same report,
    byte for byte, as one collection (timestamps fixed with SOURCE_DATE_EPOCH)."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795651200")
    regions = ["--region", "us-west-2", "--region", "ap-southeast-2"]
    whole = tmp_path / "whole.json"
    assert cli("collect", *regions, "-o", str(whole))[0] == ExitCode.CLEAN
    parts = [tmp_path / f"part-{k}.json" for k in (1, 2, 3)]
    for k, part in enumerate(parts, start=1):
        assert cli("collect", *regions, "--shard", f"{k}/3", "-o", str(part))[0] == 0
    # Each account-region is in exactly one shard; a shard may hold none.
    scopes = [len(json.loads(part.read_text())["regions"]) for part in parts]
    assert sorted(scopes) == [0, 1, 1]
    # A shard that holds no account-region is still part of a split: alone, or merged with some
    # of the others, it is an incomplete whole that names what is missing, not "nothing".
    empty = parts[scopes.index(0)]
    code, out = cli("scan", "--snapshot", str(empty), "--format", "json")
    assert code == ExitCode.INCOMPLETE
    gaps = json.loads(out)["collection_errors"]
    assert {gap["error_code"] for gap in gaps} == {"NotCollected"}
    assert any("shards 1, 3 of 3 were not merged in" in gap["message"] for gap in gaps)
    with_one = [str(empty), str(parts[scopes.index(1)])]
    assert cli("merge", *with_one, "-o", str(tmp_path / "two.json"))[0] == ExitCode.INCOMPLETE
    merged = tmp_path / "merged.json"
    assert cli("merge", *map(str, parts), "-o", str(merged))[0] == ExitCode.CLEAN
    assert merged.read_text() == whole.read_text()
    one = cli("scan", "--snapshot", str(whole), "--format", "json")
    several = cli("scan", *(f"--snapshot={part}" for part in parts), "--format", "json")
    assert one == several
    assert one[0] == ExitCode.FINDINGS
    # A shard left out is a gap, however complete the others are: its account-regions were
    # never collected, and nothing in the others says which they are.
    partial = tmp_path / "partial.json"
    # merge says so as collect does: exit 3.
    assert cli("merge", *map(str, parts[:2]), "-o", str(partial))[0] == ExitCode.INCOMPLETE
    shards = json.loads(partial.read_text())["shards"]
    assert (shards["of"], shards["collected"], len(shards["plan"])) == (3, [1, 2], 16)
    for argv in (["--snapshot", str(partial)], [f"--snapshot={part}" for part in parts[1:]]):
        code, out = cli("scan", *argv, "--format", "json")
        assert code == ExitCode.INCOMPLETE
        gaps = json.loads(out)["collection_errors"]
        assert gaps and all("of 3 was not merged in" in gap["message"] for gap in gaps)
    # The rest completes it.
    completed = tmp_path / "completed.json"
    assert cli("merge", str(partial), str(parts[2]), "-o", str(completed))[0] == ExitCode.CLEAN
    assert completed.read_text() == whole.read_text()


def test_merge_refuses_shards_that_make_no_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = json.loads(ESTATE.read_text())
    empty = {**document, "accounts": [], "regions": [], "service_catalogues": []}
    files = {}
    for name, shards in (
        ("one-of-2", {"of": 2, "collected": [1]}),
        ("two-of-3", {"of": 3, "collected": [2]}),
        ("also-one-of-2", {"of": 2, "collected": [1]}),
        ("two-of-2-elsewhere", {"of": 2, "collected": [2], "plan": "0123456789abcdef"}),
        ("whole", None),
    ):
        body = empty if shards else document
        files[name] = tmp_path / f"{name}.json"
        files[name].write_text(json.dumps({**body, **({"shards": shards} if shards else {})}))
    for pair, problem in (
        (("one-of-2", "two-of-3"), "different splits (of 2 and of 3)"),
        (("one-of-2", "also-one-of-2"), "shard 1 of 2 is in two snapshots"),
        (("one-of-2", "whole"), "cannot be merged with a snapshot that was not split"),
        (("one-of-2", "two-of-2-elsewhere"), "collected with different regions, accounts"),
    ):
        code, _ = cli("merge", *(str(files[name]) for name in pair), "-o", str(tmp_path / "m"))
        assert code == ExitCode.USAGE
        assert problem in capsys.readouterr().err


def test_merge_refuses_an_account_region_in_two_snapshots(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = cli("merge", str(ESTATE), str(ESTATE), "-o", str(tmp_path / "x.json"))
    assert code == ExitCode.USAGE
    assert "the same snapshot is given twice" in capsys.readouterr().err
    copy = tmp_path / "copy.json"
    copy.write_text(ESTATE.read_text())
    code, _ = cli("merge", str(ESTATE), str(copy), "-o", str(tmp_path / "x.json"))
    assert code == ExitCode.USAGE
    assert "is in two snapshots" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("shards", "problem"),
    [
        ({"of": 2, "collected": [1, 2]}, "it names every shard"),
        ({"of": 2, "collected": [3]}, "are not distinct shards of 2"),
        ({"of": 1, "collected": [1]}, "is not a number of shards"),
    ],
)
def test_a_snapshot_whose_shards_mean_nothing_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], shards: dict[str, Any], problem: str
) -> None:
    path = tmp_path / "odd.json"
    path.write_text(json.dumps({**json.loads(ESTATE.read_text()), "shards": shards}))
    assert cli("scan", "--snapshot", str(path))[0] == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "is malformed at $.shards" in err and problem in err


def test_the_cycle_collector_is_off_while_a_snapshot_is_read_and_judged_and_back_after(
    complete_snapshot: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Decoding, rules and reports make no reference cycles, so `scan` runs them without the
    cyclic collector (docs/performance.md); the process's setting comes back afterwards, also
    when the scan fails."""
    import gc

    import vpce_audit.cli as cli_module

    seen: list[bool] = []
    real_read, real_run = cli_module._read_snapshots, cli_module.run_scan

    def reading(*args: Any) -> Any:
        seen.append(gc.isenabled())
        return real_read(*args)

    def running(*args: Any) -> Any:
        seen.append(gc.isenabled())
        return real_run(*args)

    monkeypatch.setattr(cli_module, "_read_snapshots", reading)
    monkeypatch.setattr(cli_module, "run_scan", running)
    assert gc.isenabled()
    code, _ = cli("scan", "--snapshot", str(complete_snapshot), "--format", "json", "-q")
    assert code == ExitCode.FINDINGS
    assert seen == [False, False]
    assert gc.isenabled()

    def failing(*args: Any) -> Any:
        raise RuntimeError("a rule engine that breaks")

    monkeypatch.setattr(cli_module, "run_scan", failing)
    code, _ = cli("scan", "--snapshot", str(complete_snapshot), "--format", "json", "-q")
    assert code == 4  # an internal error, reported in one line
    assert gc.isenabled()
