"""Reporters: golden output, JSON contract, SARIF that GitHub accepts, determinism."""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import document, endpoint, region, service
from tests.sarif_checks import assert_uploadable, github_violations, schema_errors
from vpce_audit.baseline import Comparison, Reported
from vpce_audit.compliance import tags
from vpce_audit.config import Config
from vpce_audit.findings import Finding, Severity
from vpce_audit.report import json_report, markdown, sarif, table
from vpce_audit.rules.base import Settings
from vpce_audit.rules.registry import load_registry
from vpce_audit.safe_text import json_dumps
from vpce_audit.scan import ScanResult, run_scan, select_rules
from vpce_audit.snapshot.document import read

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "golden"
ESTATE = ROOT / "fixtures" / "snapshots" / "golden-estate.json"


def golden_result() -> ScanResult:
    rules = select_rules(load_registry(include_plugins=False), Config())
    return run_scan(read(ESTATE), rules, Settings())


@pytest.mark.parametrize(
    ("name", "render"),
    [
        ("report.md", markdown.render),
        ("table.txt", table.render),
        ("report.json", json_report.render),
        ("report.sarif", sarif.render),
    ],
)
def test_golden_output(name: str, render: Any) -> None:
    text = render(golden_result())
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"{name} changed; rerun with UPDATE_GOLDEN=1 if intended"


cached_golden_result = functools.cache(golden_result)
# Any character (but lone surrogates, which the snapshot reader refuses), "##[" (which the
# report escapes for CI logs) and JSON's own escapes.
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=8) | st.sampled_from(
    ["", "##[error]", '"\\', "\u2028"]
)
findings = st.builds(
    Finding,
    rule_id=st.sampled_from(["VPCE101", "VPCE301", "VPCE000", "X" * 3]) | texts,
    severity=st.sampled_from(Severity),
    account_id=texts,
    region=texts,
    resource_type=texts,
    resource_id=texts,
    resource_arn=texts,
    message=texts,
    related_resources=st.lists(texts, max_size=3).map(tuple),
)


def _reported(finding: Finding, severity: Severity) -> Reported:
    return Reported(
        finding.fingerprint, finding.rule_id, severity, finding.account_id, finding.region,
        finding.resource_id, finding.message, {},
    )  # fmt: skip


@given(st.lists(findings, max_size=6), st.booleans())
def test_the_json_reports_findings_template_writes_what_the_encoder_would(
    found: list[Finding], with_baseline: bool
) -> None:
    # The findings are written from a template (json_report._findings_text), not walked by the
    # encoder: the same dicts, byte for byte as json.dumps(indent=2, ensure_ascii=True) writes.
    baseline = None
    if with_baseline and found:
        first, *rest = found
        changed = tuple((_reported(f, Severity.INFO), _reported(f, f.severity)) for f in rest[:1])
        baseline = Comparison((_reported(first, first.severity),), (), changed, (), ())
    result = dataclasses.replace(cached_golden_result(), findings=tuple(found), baseline=baseline)
    text = json_report.render(result)
    body = json.loads(text)
    compliance = {rule.rule_id: tags(rule.meta) for rule in result.rules}
    assert body["findings"] == [json_report._finding_body(result, f, compliance) for f in found]
    assert text == json_dumps(body) + "\n"


def test_json_report_carries_the_contract_fields() -> None:
    body = json.loads(json_report.render(golden_result()))
    assert body["tool"]["name"] == "vpce-audit"
    assert body["summary"]["complete"] is False
    assert body["collection_errors"][0]["operation"] == "DescribeVpcEndpoints"
    required = {
        "rule_id",
        "severity",
        "account_id",
        "region",
        "resource_type",
        "resource_id",
        "resource_arn",
        "message",
        "fingerprint",
    }
    assert all(required <= set(finding) for finding in body["findings"])
    assert {f["rule_id"] for f in body["findings"]} == {
        "VPCE101",
        "VPCE201",
        "VPCE301",
        "VPCE303",
        "VPCE304",
        "VPCE305",
        "VPCE401",
        "VPCE402",
        "VPCE601",
        "VPCE602",
    }


def test_sarif_is_valid_and_uploadable() -> None:
    assert_uploadable(sarif.render(golden_result()))


def test_sarif_leaves_out_accounts_whose_collection_failed() -> None:
    body = json.loads(sarif.render(golden_result()))
    categories = [run["automationDetails"]["id"] for run in body["runs"]]
    assert categories == ["vpce-audit/aws/111111111111/", "vpce-audit/aws/scan-status/1/"]
    status = body["runs"][1]
    assert status["results"] == []
    invocation = status["invocations"][0]
    # Successful: a run marked failed makes the upload action reject the complete accounts too.
    assert invocation["executionSuccessful"] is True
    assert invocation["properties"] == {
        "complete": False,
        "accounts": ["111111111111"],
        "left_out": ["222222222222"],
    }
    assert "222222222222" in invocation["toolExecutionNotifications"][0]["message"]["text"]


def test_sarif_results_point_at_stable_synthetic_paths() -> None:
    body = json.loads(sarif.render(golden_result()))
    results = body["runs"][0]["results"]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert "aws/111111111111/eu-west-1/vpc-endpoint/vpce-s3" in uris
    assert "aws/111111111111/eu-west-1/route-table/rtb-old" in uris
    first = results[0]
    arn = first["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
    assert arn.startswith("arn:aws:ec2:") and arn in first["message"]["text"]


def test_sarif_descriptors_carry_the_configured_severity() -> None:
    """GitHub shows the descriptor's security-severity, not the result's: an override of the
    rule's severity is written into the run's descriptor."""
    registry = load_registry(include_plugins=False)
    from vpce_audit.findings import Severity

    estate = region(
        endpoint_service_details=[service("ssm")],
        vpc_endpoints=[endpoint("vpce-1", "vpc-1", "ssm")],
    )
    result = run_scan(
        document(estate), registry, Settings(severity_overrides={"VPCE101": Severity.LOW})
    )
    run = json.loads(sarif.render(result))["runs"][0]
    (only,) = run["results"]
    assert only["level"] == "note" and only["ruleId"] == "VPCE101"
    rule = run["tool"]["driver"]["rules"][only["ruleIndex"]]
    assert rule["defaultConfiguration"]["level"] == "note"
    assert rule["properties"]["security-severity"] == "3.0"


def test_a_rule_crash_uploads_no_account() -> None:
    from dataclasses import replace

    registry = list(load_registry(include_plugins=False))

    def crash(ctx: Any) -> Any:
        raise RuntimeError("bug")

    registry[0] = replace(registry[0], check=crash)
    result = run_scan(read(ESTATE), registry, Settings())
    body = assert_uploadable(sarif.render(result))
    assert [run["automationDetails"]["id"] for run in body["runs"]] == [
        "vpce-audit/aws/scan-status/1/"
    ]


def test_the_constraint_checker_catches_what_the_schema_lets_through() -> None:
    bad = json.loads(sarif.render(golden_result()))
    location = bad["runs"][0]["results"][0]["locations"][0]
    location["physicalLocation"]["artifactLocation"]["uri"] = "arn:aws:ec2:eu-west-1:1:vpc/vpc-1"
    bad["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["security-severity"] = "high"
    assert schema_errors(bad) == []
    problems = github_violations(bad)
    assert any("non-file scheme" in p for p in problems)
    assert any("is not a number" in p for p in problems)


def test_same_snapshot_same_bytes() -> None:
    assert sarif.render(golden_result()) == sarif.render(golden_result())
    assert json_report.render(golden_result()) == json_report.render(golden_result())


def test_the_table_prints_number_like_text_as_it_is() -> None:
    # tabulate reads cells as numbers unless told not to: "1e5" became "100000".
    finding = Finding(
        "VPCE101", Severity.HIGH, "012345678901", "eu-west-1", "vpc", "1e5", "", "0x1f"
    )
    text = table.render(dataclasses.replace(cached_golden_result(), findings=(finding,)))
    (row,) = [line for line in text.splitlines() if line.startswith("VPCE101")]
    assert row.split() == ["VPCE101", "1e5", "012345678901", "eu-west-1", "0x1f"]


def test_a_finding_field_the_template_does_not_take_is_written_by_the_encoder() -> None:
    # A plugin may build a Finding without an ARN (None): the template takes text only, and the
    # report is then written from the findings' dicts, as before the template.
    finding = Finding("VPCE101", Severity.LOW, "111111111111", "eu-west-1", "vpc", "vpc-1",
                      None, "m")  # type: ignore[arg-type]  # fmt: skip
    result = dataclasses.replace(cached_golden_result(), findings=(finding,))
    text = json_report.render(result)
    (written,) = json.loads(text)["findings"]
    assert written["resource_arn"] is None and written["resource_id"] == "vpc-1"
    assert text == json_dumps(json.loads(text)) + "\n"


def test_an_info_finding_of_a_rule_configured_higher_has_an_info_descriptor() -> None:
    # Severity.INFO is 0: the descriptor of "VPCE101/info" was made at the configured severity.
    arn = "arn:aws:ec2:eu-west-1:111111111111:vpc-endpoint/vpce-1"
    finding = Finding("VPCE101", Severity.INFO, "111111111111", "eu-west-1", "vpc-endpoint",
                      "vpce-1", arn, "m")  # fmt: skip
    result = dataclasses.replace(cached_golden_result(), findings=(finding,))
    run = json.loads(sarif.render(result))["runs"][0]
    (only,) = run["results"]
    assert only["ruleId"] == "VPCE101/info" and only["level"] == "note"
    descriptor = run["tool"]["driver"]["rules"][only["ruleIndex"]]
    assert descriptor["id"] == "VPCE101/info"
    assert descriptor["properties"]["severity"] == "info"
    assert "security-severity" not in descriptor["properties"]
