"""The built-in demo estate: every rule that moto can build fires, beside clean look-alikes."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.sarif_checks import assert_uploadable
from vpce_audit.cli import main
from vpce_audit.collect.runner import ClientFactory, CollectionRequest, collect
from vpce_audit.demo.estate import DEMO_CONFIG, DEMO_REGIONS, demo_estate
from vpce_audit.findings import Severity
from vpce_audit.rules.registry import load_registry
from vpce_audit.scan import ExitCode, run_scan, select_rules, settings_from

# Written from the estate's design (see vpce_audit/demo/estate.py), by resource Name.
EXPECTED = {
    ("VPCE101", "prod-s3"),
    ("VPCE102", "prod-kms"),
    ("VPCE103", "analytics-s3"),
    ("VPCE104", "prod-sts"),
    ("VPCE105", "prod-logs"),
    ("VPCE110", "svc-open"),
    ("VPCE111", "svc-open"),
    ("VPCE201", "legacy-sts"),
    ("VPCE202", "prod-ssm-second"),
    ("VPCE203", "legacy"),
    ("VPCE204", "prod"),
    ("VPCE205", "pcx-legacy-analytics"),
    ("VPCE301", "prod-ecr-api"),
    ("VPCE302", "prod-ecr-dkr"),
    ("VPCE303", "prod-ssm-incidents"),
    ("VPCE304", "prod-ecr-api"),
    ("VPCE305", "prod-ecr-api"),
    ("VPCE401", "prod-private-b-rt"),
    ("VPCE401", "analytics-private-rt"),
    ("VPCE401", "legacy-main-rt"),
    ("VPCE402", "prod-private-b-rt"),
    ("VPCE402", "legacy-main-rt"),
    ("VPCE403", "spoke-a-main-rt"),
    ("VPCE404", "prod-private-a-rt"),
    ("VPCE405", "prod-private-b-rt"),
    ("VPCE501", "pcx-analytics-app"),
    ("VPCE502", "spoke-a"),
    ("VPCE502", "spoke-b"),
    ("VPCE503", "legacy"),
    ("VPCE504", "analytics"),
    ("VPCE504", "app"),
    ("VPCE504", "spoke-a"),
    ("VPCE504", "spoke-b"),
    # prod has every FSBP endpoint; the others do not.
    *(("VPCE601", name) for name in ("analytics", "legacy", "app", "spoke-a", "spoke-b")),
    # prod and app have flow logs.
    *(("VPCE602", name) for name in ("analytics", "legacy", "spoke-a", "spoke-b")),
}
# moto cannot build a third-party provider's service or an endpoint that is not available.
NOT_IN_DEMO = {"VPCE112", "VPCE306"}


def test_demo_findings_are_exactly_the_planted_flaws(aws_credentials: None) -> None:
    with demo_estate() as (session, ids):
        document = collect(ClientFactory(session), CollectionRequest(regions=DEMO_REGIONS))
    rules = select_rules(load_registry(include_plugins=False), DEMO_CONFIG)
    result = run_scan(document, rules, settings_from(DEMO_CONFIG))
    assert result.is_complete
    assert result.skipped == ()
    names = {resource_id: name for name, resource_id in ids.items()}
    found = {(f.rule_id, names.get(f.resource_id, f.resource_id)) for f in result.findings}
    assert found == EXPECTED
    every_rule = {rule.rule_id for rule in rules}
    assert {rule_id for rule_id, _ in found} == every_rule - NOT_IN_DEMO
    critical = [f for f in result.findings if f.severity is Severity.CRITICAL]
    assert [(f.rule_id, names[f.resource_id]) for f in critical] == [("VPCE111", "svc-open")]


def test_demo_scan_from_the_command_line(aws_credentials: None) -> None:
    out = io.StringIO()
    assert main(["scan", "--demo"], stdout=out) == ExitCode.FINDINGS
    assert f"{len(EXPECTED)} finding(s) (1 critical" in out.getvalue()
    out = io.StringIO()
    assert main(["-q", "scan", "--demo", "--fail-on", "never"], stdout=out) == ExitCode.CLEAN


def test_demo_sarif_uploads_and_every_format_renders(aws_credentials: None, tmp_path: Path) -> None:
    target = tmp_path / "demo.sarif"
    assert main(["-q", "scan", "--demo", "--format", "sarif", "-o", str(target)]) == (
        ExitCode.FINDINGS
    )
    body = assert_uploadable(target.read_text())
    (run,) = body["runs"]
    assert len(run["results"]) == len(EXPECTED)
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels["VPCE111"] == "error" and levels["VPCE504"] == "note"
    out = io.StringIO()
    assert main(["-q", "scan", "--demo", "--format", "markdown"], stdout=out) == ExitCode.FINDINGS
    assert out.getvalue().startswith("# vpce-audit report")


def test_verbose_collection_reports_progress_per_region(
    aws_credentials: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "snapshot.json"
    assert main(["-v", "collect", "--demo", "-o", str(target)]) == ExitCode.CLEAN
    err = capsys.readouterr().err
    assert "collecting account-wide facts" in err
    assert "[1/2]" in err and "[2/2]" in err
    assert f"2 region(s) written to {target}" in err
    assert main(["-q", "scan", "--snapshot", str(target), "--fail-on", "never"]) == ExitCode.CLEAN
