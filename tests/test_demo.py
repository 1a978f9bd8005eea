"""The built-in demo estate: every rule that moto can build fires, beside clean look-alikes."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest
import yaml

from tests.sarif_checks import assert_uploadable
from vpce_audit.cli import main
from vpce_audit.collect.runner import ClientFactory, CollectionRequest, collect
from vpce_audit.demo.estate import DEMO_CONFIG, DEMO_REGIONS, demo_estate
from vpce_audit.findings import Severity
from vpce_audit.rules.registry import load_registry
from vpce_audit.scan import ExitCode, run_scan, select_rules, settings_from

# Written from the estate's design (see vpce_audit/demo/estate.py), by resource Name.
EXPECTED = {
    ("VPCE101", "prod-s3"),  # moto's default policy: full access (high: an S3 endpoint)
    ("VPCE102", "prod-kms"),  # aws:SourceVpc is no identity perimeter
    ("VPCE103", "analytics-s3"),  # the organisation may write to any bucket
    ("VPCE104", "prod-sts"),  # names a foreign account
    ("VPCE105", "prod-logs"),  # Allow with NotAction
    ("VPCE110", "svc-open"),  # auto-accept with "*" allowed (medium)
    ("VPCE111", "svc-open"),  # "*" and auto-accept: critical
    ("VPCE113", "svc-open"),  # a foreign account's endpoint is connected
    ("VPCE201", "legacy-sts"),  # private DNS, enableDnsHostnames off
    ("VPCE202", "prod-monitoring"),  # no private DNS, nothing answers its name
    ("VPCE203", "legacy"),  # DHCP servers are domain controllers, not the Amazon resolver
    ("VPCE204", "prod"),  # two ssm endpoints
    ("VPCE206", "hub"),  # a private zone named amazonaws.com
    ("VPCE207", "spoke-broken"),  # not admitted by the hub's group; kms zone to a deleted endpoint
    ("VPCE301", "prod-ecr-api"),  # 0.0.0.0/0 (low: nothing outside the organisation routes in)
    ("VPCE302", "prod-ecr-dkr"),  # all traffic
    ("VPCE303", "prod-ssm-incidents"),  # 443 only from 192.168.0.0/16
    ("VPCE304", "prod-ecr-api"),  # one zone of two
    ("VPCE305", "prod-ecr-api"),
    ("VPCE307", "app-logs"),  # its subnet's ACL lets no replies out
    ("VPCE401", "prod-private-b-rt"),
    ("VPCE401", "analytics-private-rt"),
    ("VPCE401", "legacy-main-rt"),
    ("VPCE402", "prod-private-b-rt"),
    ("VPCE402", "legacy-main-rt"),
    ("VPCE403", "spoke-a-main-rt"),
    ("VPCE404", "prod-private-a-rt"),
    ("VPCE405", "prod-private-b-rt"),
    ("VPCE406", "spoke-a-main-rt"),  # a subnet in zone b, where its attachment has none
    ("VPCE501", "spoke-a"),  # tgw-main routes spoke-b's block, which lies inside spoke-a's own
    ("VPCE502", "spoke-a"),  # both propagate into tgw-main's route table
    ("VPCE502", "spoke-b"),
    ("VPCE503", "legacy"),  # 10.2.128.0/17 on premises lies inside 10.2.0.0/16
    ("VPCE504", "partner-a"),
    ("VPCE504", "partner-b"),
    ("VPCE504", "spoke-a"),
    ("VPCE504", "spoke-b"),
    ("VPCE505", "tgw-main"),  # auto-accepts shared attachments; tgw-quiet does not
    # Missing ssm / ssmmessages / ec2messages / sts / logs endpoints (prod has them all; the
    # spokes of the hub resolve ssm and sts centrally, but not the rest).
    *(
        ("VPCE601", name)
        for name in (
            "analytics",
            "legacy",
            "app",
            "spoke-a",
            "spoke-b",
            "hub",
            "spoke-ok",
            "spoke-broken",
        )
    ),
    # Every other VPC has a flow log.
    *(("VPCE602", name) for name in ("analytics", "legacy", "spoke-a", "spoke-b")),
}
# moto cannot build a third-party provider's service or an endpoint that is not available.
NOT_IN_DEMO = {"VPCE112", "VPCE306"}
# A PrivateLink endpoint's ports are its provider's: listed as skipped, not judged.
EXPECTED_SKIPS = {
    ("VPCE303", "analytics-internal-service"),
    ("VPCE307", "analytics-internal-service"),
}


def test_demo_findings_are_exactly_the_planted_flaws(aws_credentials: None) -> None:
    with demo_estate() as (session, ids):
        document = collect(ClientFactory(session), CollectionRequest(regions=DEMO_REGIONS))
    rules = select_rules(load_registry(include_plugins=False), DEMO_CONFIG)
    result = run_scan(document, rules, settings_from(DEMO_CONFIG))
    assert result.is_complete, result.collection_errors
    names = {resource_id: name for name, resource_id in ids.items()}
    assert {(s.rule_id, names.get(s.resource_id or "", s.resource_id)) for s in result.skipped} == (
        EXPECTED_SKIPS
    )
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
    run, status = body["runs"]
    assert status["automationDetails"]["id"] == "vpce-audit/aws/scan-status/1/"
    assert status["invocations"][0]["properties"]["complete"] is True
    assert len(run["results"]) == len(EXPECTED)
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    # VPCE111 (high) escalates the demo's open endpoint to critical: GitHub is shown critical
    # through a descriptor made for that severity.
    assert levels["VPCE111/critical"] == "error" and levels["VPCE504"] == "note"
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    assert rules["VPCE111/critical"]["properties"]["security-severity"] == "9.5"
    assert rules["VPCE111/critical"]["properties"]["baseRule"] == "VPCE111"
    assert rules["VPCE111"]["properties"]["security-severity"] == "8.0"
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


def test_the_demo_is_the_same_bytes_on_every_run(aws_credentials: None) -> None:
    reports = []
    for _ in range(2):
        out = io.StringIO()
        main(["-q", "scan", "--demo", "--format", "json", "--fail-on", "never"], stdout=out)
        reports.append(out.getvalue())
    assert reports[0] == reports[1]
    assert '"created_at": "2026-01-01T00:00:00Z"' in reports[0]


def test_collect_then_scan_with_the_demo_config_is_scan_demo(
    aws_credentials: None, tmp_path: Path
) -> None:
    from vpce_audit.config import parse_config
    from vpce_audit.demo.estate import DEMO_CONFIG, DEMO_CONFIG_YAML
    from vpce_audit.rules.registry import load_registry

    config_file = tmp_path / "demo.yml"
    out = io.StringIO()
    assert main(["demo", "config"], stdout=out) == ExitCode.CLEAN
    assert out.getvalue() == DEMO_CONFIG_YAML
    config_file.write_text(out.getvalue())
    parsed = parse_config(yaml.safe_load(DEMO_CONFIG_YAML), "demo", load_registry().ids)
    assert dataclasses.replace(parsed, source=DEMO_CONFIG.source) == DEMO_CONFIG
    snapshot = tmp_path / "demo.json"
    assert main(["-q", "collect", "--demo", "-o", str(snapshot)]) == ExitCode.CLEAN
    direct, offline = io.StringIO(), io.StringIO()
    argv = ["-q", "scan", "--format", "json", "--fail-on", "never"]
    main([*argv, "--demo"], stdout=direct)
    main([*argv, "--snapshot", str(snapshot), "--config", str(config_file)], stdout=offline)
    assert offline.getvalue() == direct.getvalue()
