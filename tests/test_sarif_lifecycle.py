"""SARIF that keeps GitHub code scanning right over months (README "Continuous integration"),
and several reports from one scan."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import document, endpoint, region, service
from tests.sarif_checks import assert_uploadable
from vpce_audit.cli import main
from vpce_audit.scan import ExitCode
from vpce_audit.snapshot.document import to_json

ACCOUNTS = [f"{100000000000 + n:012d}" for n in range(25)]


def _estate(tmp_path: Path, accounts: list[str] = ACCOUNTS[:2]) -> Path:
    """One endpoint with the default full-access policy per account (VPCE101, high)."""
    regions = [
        region(
            account,
            endpoint_service_details=[service("ssm")],
            vpc_endpoints=[endpoint(f"vpce-{account}", "vpc-1", "ssm")],
        )
        for account in accounts
    ]
    path = tmp_path / "snapshot.json"
    path.write_text(to_json(document(*regions)))
    return path


def _scan(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        code = main(["-q", "scan", "--fail-on", "never", *argv], stdout=out)
    except SystemExit as exit_:  # argparse's own refusals
        code = int(exit_.code or 0)
    return code, out.getvalue()


def _config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.yml"
    path.write_text(text)
    return str(path)


def test_one_scan_writes_several_reports(tmp_path: Path) -> None:
    snapshot = _estate(tmp_path)
    report, sarif_file = tmp_path / "scan.json", tmp_path / "scan.sarif"
    code, stdout = _scan(
        "--snapshot", str(snapshot),
        "--output", f"json={report}", "--output", f"sarif={sarif_file}", "--output", "table=-",
    )  # fmt: skip
    assert code == ExitCode.CLEAN
    findings = json.loads(report.read_text())["findings"]
    assert {(f["rule_id"], f["resource_id"]) for f in findings} >= {
        ("VPCE101", f"vpce-{ACCOUNTS[0]}"),
        ("VPCE101", f"vpce-{ACCOUNTS[1]}"),
    }
    body = assert_uploadable(sarif_file.read_text())
    assert sum(len(run["results"]) for run in body["runs"]) == len(findings)
    assert f"vpce-{ACCOUNTS[0]}" in stdout and "VPCE101" in stdout


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--format", "json", "--format", "table"], "--format is given twice"),
        (["--output", "json=a.json", "--output", "json=b.json"], "json report is asked for twice"),
        (["--output", "json=-", "--output", "sarif=-"], "would both go to stdout"),
        (["--output", "json=same", "--output", "sarif=same"], "is named for two reports"),
        (["-o", "a.txt", "-o", "b.txt"], "-o / --output names 2 files"),
        (["--format", "json", "--output", "table=-"], "would both go to stdout"),
    ],
)
def test_contradicting_report_options_are_refused_before_any_work(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, stdout = _scan("--snapshot", str(_estate(tmp_path)), *argv)
    assert code == ExitCode.USAGE and stdout == ""
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert message in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snapshot.json"]


@pytest.mark.parametrize(
    ("argv", "config", "reason"),
    [
        (["--select", "VPCE1"], "", "rules VPCE201"),
        (["--ignore", "VPCE101"], "", "rules VPCE101 not evaluated"),
        ([], "rules:\n  VPCE301: {enabled: false}\n", "rules VPCE301 not evaluated"),
        ([], "regions: [eu-west-1]\n", "regions chosen"),
        ([], "profile: fsbp\n", "profile fsbp"),
    ],
)
def test_a_narrowed_scan_needs_a_category_of_its_own_for_sarif(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    config: str,
    reason: str,
) -> None:
    snapshot = str(_estate(tmp_path))
    options = ["--snapshot", snapshot, "--config", _config(tmp_path, config), *argv]
    code, _ = _scan(*options, "--format", "sarif")
    assert code == ExitCode.USAGE
    error = capsys.readouterr().err
    assert reason in error and "--sarif-category" in error
    # JSON is not uploaded to code scanning: no category needed.
    assert _scan(*options, "--format", "json")[0] == ExitCode.CLEAN
    code, text = _scan(*options, "--format", "sarif", "--sarif-category", "nightly-vpce1")
    assert code == ExitCode.CLEAN
    categories = [run["automationDetails"]["id"] for run in assert_uploadable(text)["runs"]]
    assert categories == [
        f"vpce-audit/aws/nightly-vpce1/{ACCOUNTS[0]}/",
        f"vpce-audit/aws/nightly-vpce1/{ACCOUNTS[1]}/",
        "vpce-audit/aws/nightly-vpce1/scan-status/1/",
    ]


def test_a_full_scan_keeps_the_default_categories(tmp_path: Path) -> None:
    code, text = _scan("--snapshot", str(_estate(tmp_path)), "--format", "sarif")
    assert code == ExitCode.CLEAN
    categories = [run["automationDetails"]["id"] for run in assert_uploadable(text)["runs"]]
    assert categories == [
        f"vpce-audit/aws/{ACCOUNTS[0]}/",
        f"vpce-audit/aws/{ACCOUNTS[1]}/",
        "vpce-audit/aws/scan-status/1/",
    ]


def _result(body: dict[str, Any], resource_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    for run in body["runs"]:
        for result in run["results"]:
            if result["properties"]["resource_arn"].endswith(resource_id):
                return result, run["tool"]["driver"]["rules"][result["ruleIndex"]]
    raise AssertionError(f"no result for {resource_id}")


def test_github_is_shown_the_configured_severity(tmp_path: Path) -> None:
    config = _config(tmp_path, "rules:\n  VPCE101: {severity: critical}\n")
    code, text = _scan("--snapshot", str(_estate(tmp_path)), "--config", config, "-o", "-",
                       "--format", "sarif")  # fmt: skip
    assert code == ExitCode.CLEAN
    result, rule = _result(assert_uploadable(text), f"vpce-{ACCOUNTS[0]}")
    assert result["ruleId"] == rule["id"] == "VPCE101"
    assert rule["properties"]["security-severity"] == "9.5" and result["level"] == "error"


def test_suppressed_findings_stay_in_the_upload_marked_with_their_reason(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        "suppressions:\n"
        f"  - rule: VPCE101\n    resource: vpce-{ACCOUNTS[0]}\n"
        "    reason: replaced in Q1\n    expires: 2099-03-31\n",
    )
    code, text = _scan("--snapshot", str(_estate(tmp_path)), "--config", config,
                       "--format", "sarif")  # fmt: skip
    assert code == ExitCode.CLEAN
    body = assert_uploadable(text)
    suppressed, _ = _result(body, f"vpce-{ACCOUNTS[0]}")
    assert suppressed["suppressions"] == [
        {
            "kind": "external",
            "status": "accepted",
            "justification": "replaced in Q1",
            "properties": {"expires": "2099-03-31"},
        }
    ]
    open_one, _ = _result(body, f"vpce-{ACCOUNTS[1]}")
    assert "suppressions" not in open_one


def test_an_organisation_is_written_as_files_of_nineteen_accounts(tmp_path: Path) -> None:
    snapshot = _estate(tmp_path, ACCOUNTS)
    out = tmp_path / "sarif"
    out.mkdir()
    (out / "vpce-audit-3.sarif").write_text("stale")  # an earlier scan's third file
    (out / "notes.sarif").write_text("not ours")
    code, _ = _scan("--snapshot", str(snapshot), "--output-dir", str(out))
    assert code == ExitCode.CLEAN
    assert sorted(p.name for p in out.iterdir()) == [
        "notes.sarif",
        "vpce-audit-1.sarif",
        "vpce-audit-2.sarif",
    ]
    seen: list[str] = []
    for number, expected in ((1, ACCOUNTS[:19]), (2, ACCOUNTS[19:])):
        body = assert_uploadable((out / f"vpce-audit-{number}.sarif").read_text())
        categories = [run["automationDetails"]["id"] for run in body["runs"]]
        assert categories == [
            *(f"vpce-audit/aws/{a}/" for a in expected),
            f"vpce-audit/aws/scan-status/{number}/",
        ]
        assert body["runs"][-1]["invocations"][0]["properties"]["accounts"] == expected
        seen += categories
    assert len(seen) == len(set(seen))  # every file uploadable beside the others
    # One file cannot hold them: the error says what to do.
    code, _ = _scan("--snapshot", str(snapshot), "--format", "sarif")
    assert code == ExitCode.USAGE


def test_severity_filters_what_is_reported_not_what_is_evaluated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshot = str(_estate(tmp_path))
    # The two VPCE101 findings are medium (SSM is not a data service).
    code, text = _scan("--snapshot", snapshot, "--format", "json", "--severity", "high,critical")
    body = json.loads(text)
    assert code == ExitCode.CLEAN and body["findings"] == []
    assert body["notices"] == ["2 finding(s) of other severities are not reported (--severity)"]
    assert "VPCE101" in body["summary"]["rules"]  # still evaluated
    code, text = _scan("--snapshot", snapshot, "--format", "json", "--severity", "medium")
    assert {f["resource_id"] for f in json.loads(text)["findings"]} == {
        f"vpce-{ACCOUNTS[0]}",
        f"vpce-{ACCOUNTS[1]}",
    }
    # A filtered SARIF would close the alerts of the other severities.
    code, _ = _scan("--snapshot", snapshot, "--format", "sarif", "--severity", "medium")
    assert code == ExitCode.USAGE and "severities filtered" in capsys.readouterr().err
    code, _ = _scan("--snapshot", snapshot, "--severity", "urgent")
    assert code == ExitCode.USAGE


def test_rules_list_filters_by_severity_and_tag() -> None:
    out = io.StringIO()
    assert main(["rules", "list", "--format", "json", "--severity", "high"], stdout=out) == 0
    high = json.loads(out.getvalue())
    assert {rule["severity"] for rule in high} == {"high"} and "VPCE201" in {r["id"] for r in high}
    out = io.StringIO()
    assert main(["rules", "list", "--format", "json", "--tag", "dns"], stdout=out) == 0
    tagged = {rule["id"] for rule in json.loads(out.getvalue())}
    assert {"VPCE201", "VPCE206", "VPCE207"} <= tagged and "VPCE101" not in tagged


def test_compliance_selects_the_mapped_rules_and_reports_per_control(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = io.StringIO()
    assert main(["rules", "list", "--format", "json", "--compliance", "fsbp"], stdout=out) == 0
    assert {rule["id"] for rule in json.loads(out.getvalue())} == {"VPCE505", "VPCE601", "VPCE602"}
    snapshot = str(_estate(tmp_path))
    code, text = _scan("--snapshot", snapshot, "--format", "json", "--compliance", "fsbp")
    assert code == ExitCode.CLEAN
    body = json.loads(text)
    assert set(body["summary"]["rules"]) <= {"VPCE505", "VPCE601", "VPCE602"}
    controls = {c["control"]: c for c in body["compliance"]}
    assert {"EC2.6", "EC2.10", "EC2.23"} <= set(controls)
    assert all(c["framework"] == "fsbp" for c in controls.values())
    assert controls["EC2.23"]["status"] == "pass"  # no transit gateway auto-accepts
    # Only some rules evaluated: SARIF needs categories of its own.
    code, _ = _scan("--snapshot", snapshot, "--format", "sarif", "--compliance", "fsbp")
    assert code == ExitCode.USAGE and "not evaluated" in capsys.readouterr().err
    code, table = _scan("--snapshot", snapshot, "--compliance", "fsbp")
    assert "COMPLIANCE FSBP" in table and "EC2.23" in table


def test_compliance_mappings_are_tags_in_json_and_sarif(tmp_path: Path) -> None:
    golden = str(Path(__file__).resolve().parent.parent / "fixtures/snapshots/golden-estate.json")
    _, text = _scan("--snapshot", golden, "--format", "json")
    by_rule = {f["rule_id"]: f["compliance"] for f in json.loads(text)["findings"]}
    assert "fsbp:EC2.6" in by_rule["VPCE602"] and "fsbp:EC2.10" in by_rule["VPCE601"]
    assert all(tags == [] for rule, tags in by_rule.items() if rule not in {"VPCE601", "VPCE602"})
    _, text = _scan("--snapshot", golden, "--format", "sarif")
    (descriptor,) = [
        rule
        for rule in assert_uploadable(text)["runs"][0]["tool"]["driver"]["rules"]
        if rule["id"] == "VPCE601"
    ]
    properties = descriptor["properties"]
    assert len(properties["tags"]) <= 10 and "fsbp:EC2.10" in properties["tags"]
    assert "nist-800-53:SC-7" in properties["compliance"]
    assert len(properties["compliance"]) > len(properties["tags"]) - 3
