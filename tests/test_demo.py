"""The built-in demo estate: every implemented rule fires, beside clean look-alikes."""

from __future__ import annotations

import io

from vpce_audit.cli import main
from vpce_audit.collect.runner import ClientFactory, CollectionRequest, collect
from vpce_audit.demo.estate import DEMO_REGIONS, demo_estate
from vpce_audit.rules.base import Settings
from vpce_audit.rules.registry import load_registry
from vpce_audit.scan import ExitCode, run_scan


def test_demo_findings_are_exactly_the_planted_flaws(aws_credentials: None) -> None:
    with demo_estate() as (session, ids):
        document = collect(ClientFactory(session), CollectionRequest(regions=DEMO_REGIONS))
    result = run_scan(document, load_registry(include_plugins=False), Settings())
    assert result.is_complete
    found = {(f.rule_id, f.resource_id) for f in result.findings}
    expected = {
        ("VPCE101", ids["prod-s3"]),
        ("VPCE201", ids["legacy-sts"]),
        ("VPCE301", ids["prod-ecr-api"]),
        ("VPCE304", ids["prod-ecr-api"]),
        ("VPCE401", ids["analytics-private-rt"]),
        ("VPCE401", ids["legacy-main-rt"]),
        ("VPCE402", ids["prod-private-b-rt"]),
        ("VPCE402", ids["legacy-main-rt"]),
        ("VPCE501", ids["pcx-analytics-app"]),
    }
    assert found == expected
    every_rule = {rule.rule_id for rule in load_registry(include_plugins=False)}
    assert {rule_id for rule_id, _ in found} == every_rule


def test_demo_scan_from_the_command_line(aws_credentials: None) -> None:
    out = io.StringIO()
    assert main(["scan", "--demo"], stdout=out) == ExitCode.FINDINGS
    assert "9 finding(s) (3 high, 6 medium)" in out.getvalue()
    out = io.StringIO()
    assert main(["-q", "scan", "--demo", "--fail-on", "never"], stdout=out) == ExitCode.CLEAN
