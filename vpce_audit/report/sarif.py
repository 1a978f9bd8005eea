"""SARIF 2.1.0 for GitHub code scanning, written as plain dicts.

Plain dicts rather than sarif-om: its serializer drops fields equal to their defaults (a result's
explicit ``level`` among them), and GitHub needs every field this module writes.

Decisions (see shared/sarif-github.md for the reasons behind each):

* one run per AWS account, category ``vpce-audit/aws/<account>/``, so accounts uploaded
  separately never close each other's alerts;
* a live resource has no file, so each result points at a synthetic, stable path
  ``aws/<account>/<region>/<resource-type>/<resource-id>`` with ``startLine: 1``; the ARN goes
  in the message and in ``logicalLocations``;
* GitHub closes every alert missing from the newest upload of a category. An account whose
  collection failed anywhere is therefore left out (its alerts stay as they were), and a rule
  crash leaves every account out. The failures go to ``toolExecutionNotifications`` of a
  separate ``vpce-audit/aws/scan-status/`` run that never holds results;
* no timestamps and stable ordering: the same scan gives the same bytes.
"""

from __future__ import annotations

from typing import Any

from vpce_audit.findings import Finding, Severity
from vpce_audit.report.rule_docs import render_rule
from vpce_audit.rules.metadata import RuleMeta
from vpce_audit.safe_text import json_dumps, uri_component
from vpce_audit.scan import ScanResult

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
INFORMATION_URI = "https://github.com/vpce-audit/vpce-audit"
STATUS_CATEGORY = "vpce-audit/aws/scan-status/"
MAX_RUNS = 20
MAX_RESULTS_PER_RUN = 25_000
MAX_DESCRIPTION = 1024
MAX_TAGS = 10

SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
}
LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}


class SarifLimitError(Exception):
    """The scan does not fit in one SARIF file GitHub accepts."""


def category(account_id: str) -> str:
    return f"vpce-audit/aws/{account_id}/"


def artifact_uri(finding: Finding) -> str:
    """A relative URI, each segment percent-encoded: ids from a hand-made snapshot may hold
    '..', spaces, '#', '?' or '%'."""
    segments = (finding.account_id, finding.region, finding.resource_type, finding.resource_id)
    return "aws/" + "/".join(uri_component(segment) for segment in segments)


def _truncate(text: str, limit: int = MAX_DESCRIPTION) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _help_text(meta: RuleMeta) -> str:
    parts = [meta.description, "", f"Remediation: {meta.remediation.summary}"]
    if meta.remediation.cli:
        parts += ["", meta.remediation.cli]
    if meta.references:
        parts += ["", "References:"] + [f"  {ref}" for ref in meta.references]
    return "\n".join(parts)


def rule_descriptor(meta: RuleMeta) -> dict[str, Any]:
    tags = ["security", *(t for t in meta.tags if t != "security")][:MAX_TAGS]
    properties: dict[str, Any] = {"tags": tags, "precision": "high"}
    if meta.severity in SECURITY_SEVERITY:
        properties["security-severity"] = SECURITY_SEVERITY[meta.severity]
    descriptor: dict[str, Any] = {
        "id": meta.rule_id,
        "name": meta.pascal_name,
        "shortDescription": {"text": _truncate(meta.title)},
        "fullDescription": {"text": _truncate(meta.description)},
        "help": {"text": _help_text(meta), "markdown": render_rule(meta)},
        "defaultConfiguration": {"level": LEVEL[meta.severity]},
        "properties": properties,
    }
    if meta.references:
        descriptor["helpUri"] = meta.references[0]
    return descriptor


def result_object(finding: Finding, rule_index: int) -> dict[str, Any]:
    return {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": LEVEL[finding.severity],
        "message": {
            "text": (
                f"{finding.message}\nResource: {finding.resource_arn} "
                f"(account {finding.account_id}, region {finding.region})"
            )
        },
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": artifact_uri(finding)},
                    "region": {"startLine": 1},
                },
                "logicalLocations": [
                    {
                        "name": finding.resource_id,
                        "fullyQualifiedName": finding.resource_arn,
                        "kind": "resource",
                    }
                ],
            }
        ],
        "partialFingerprints": {"primaryLocationLineHash": finding.fingerprint},
        "properties": {
            "severity": finding.severity.label,
            "account_id": finding.account_id,
            "region": finding.region,
            "resource_type": finding.resource_type,
            "resource_arn": finding.resource_arn,
            "related_resources": list(finding.related_resources),
        },
    }


def _driver(rules: list[RuleMeta], version: str) -> dict[str, Any]:
    return {
        "name": "vpce-audit",
        "version": version,
        "semanticVersion": version,
        "informationUri": INFORMATION_URI,
        "rules": [rule_descriptor(meta) for meta in rules],
    }


def _notifications(result: ScanResult) -> list[dict[str, Any]]:
    notes: list[dict[str, Any]] = []
    for error in result.collection_errors:
        where = f"{error.account_id}/{error.region}"
        subject = f" for {error.resource_id}" if error.resource_id else ""
        notes.append(
            {
                "level": "error",
                "message": {
                    "text": (
                        f"Collection failed in {where}: {error.service}:{error.operation}{subject} "
                        f"returned {error.error_code}: {error.message}. Account {error.account_id} "
                        "is left out of this upload so its alerts are not closed."
                    )
                },
                "properties": {"account_id": error.account_id, "region": error.region},
            }
        )
    for finding in result.rule_errors:
        notes.append(
            {
                "level": "error",
                "message": {"text": f"{finding.message} Every account is left out of this upload."},
                "properties": {"rule_id": finding.resource_id},
            }
        )
    return notes


def render(result: ScanResult) -> str:
    metas = sorted((rule.meta for rule in result.rules), key=lambda m: m.rule_id)
    index = {meta.rule_id: i for i, meta in enumerate(metas)}
    uploadable = (
        []
        if result.rule_errors
        else [a for a in result.snapshot.account_ids if a not in result.incomplete_accounts]
    )
    runs: list[dict[str, Any]] = []
    for account_id in uploadable:
        findings = [f for f in result.findings if f.account_id == account_id]
        if len(findings) > MAX_RESULTS_PER_RUN:
            raise SarifLimitError(
                f"account {account_id} has {len(findings)} findings; GitHub accepts at most "
                f"{MAX_RESULTS_PER_RUN} per run. Narrow the scan with --region or rule selection."
            )
        runs.append(
            {
                "tool": {"driver": _driver(metas, result.tool_version)},
                "automationDetails": {"id": category(account_id)},
                "invocations": [{"executionSuccessful": True}],
                "results": [result_object(f, index[f.rule_id]) for f in findings],
            }
        )
    if not result.is_complete:
        runs.append(
            {
                "tool": {"driver": _driver([], result.tool_version)},
                "automationDetails": {"id": STATUS_CATEGORY},
                "invocations": [
                    {
                        "executionSuccessful": False,
                        "toolExecutionNotifications": _notifications(result),
                    }
                ],
                "results": [],
            }
        )
    if len(runs) > MAX_RUNS:
        raise SarifLimitError(
            f"the scan covers {len(runs)} runs (one per account); GitHub accepts at most "
            f"{MAX_RUNS} per file. Scan fewer accounts per SARIF file."
        )
    document = {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": runs}
    # ASCII only: a bidi override or an escape sequence in a message stays an escape even when
    # the file is printed to a terminal.
    return json_dumps(document) + "\n"
