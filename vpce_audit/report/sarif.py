"""SARIF 2.1.0 for GitHub code scanning, written as plain dicts.

Plain dicts rather than sarif-om: its serializer drops fields equal to their defaults (a result's
explicit ``level`` among them), and GitHub needs every field this module writes.

Decisions (see shared/sarif-github.md and the README's "Continuous integration" for the reasons):

* one run per AWS account, category ``vpce-audit/aws/<account>/`` (``vpce-audit/aws/<name>/
  <account>/`` for a scan given ``--sarif-category name``), so accounts uploaded separately never
  close each other's alerts, and a narrowed scan never closes the alerts of a full one;
* a live resource has no file, so each result points at a synthetic, stable path
  ``aws/<account>/<region>/<resource-type>/<resource-id>`` with ``startLine: 1``; the ARN goes
  in the message and in ``logicalLocations``;
* GitHub closes every alert missing from the newest upload of a category. An account whose
  collection failed anywhere is therefore left out (its alerts stay as they were), and a rule
  crash leaves every account out. Every file also holds one status run (category
  ``<base>/scan-status/<file>/``), always ``executionSuccessful: true`` and without results,
  whose ``toolExecutionNotifications`` name what failed: a run marked unsuccessful would make
  the upload action treat the whole file as a failed analysis;
* GitHub shows the ``security-severity`` of the rule a result points at, never the result's own.
  Each run's rule descriptors carry the configured severity (``rules: VPCE302: {severity:
  high}``), and a result whose severity differs from it (an escalation such as VPCE111
  critical) points at a descriptor ``<rule>/<severity>`` made for that severity;
* suppressed findings are results with ``suppressions`` (kind ``external``, status
  ``accepted``, the reason as justification). GitHub ignores ``suppressions``: the Action's
  ``dismiss`` step dismisses their alerts through the API (``vpce_audit/github_action.py``);
* at most 20 runs per file: ``render_files`` splits an organisation into files of 19 accounts;
* no timestamps and stable ordering: the same scan gives the same bytes.
"""

from __future__ import annotations

from typing import Any

from vpce_audit.compliance import sarif_tags
from vpce_audit.compliance import tags as compliance_tags
from vpce_audit.findings import Finding, Severity
from vpce_audit.json_text import Preformatted, shared
from vpce_audit.report.rule_docs import render_rule
from vpce_audit.rules.metadata import RuleMeta
from vpce_audit.safe_text import json_dumps, uri_component
from vpce_audit.scan import ScanResult, SuppressedFinding

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
INFORMATION_URI = "https://github.com/vpce-audit/vpce-audit"
CATEGORY_BASE = "vpce-audit/aws"
MAX_RUNS = 20
ACCOUNTS_PER_FILE = MAX_RUNS - 1
"""Account runs in one file: the status run takes the twentieth place."""
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


def category(account_id: str, name: str | None = None) -> str:
    return f"{_base(name)}/{account_id}/"


def status_category(name: str | None = None, part: int = 1) -> str:
    return f"{_base(name)}/scan-status/{part}/"


def _base(name: str | None) -> str:
    return CATEGORY_BASE if name is None else f"{CATEGORY_BASE}/{name}"


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


def descriptor_id(rule_id: str, severity: Severity, configured: Severity) -> str:
    """The descriptor a result points at: the rule's own at its configured severity, else the
    rule's descriptor for that severity (GitHub reads severity from descriptors only)."""
    return rule_id if severity == configured else f"{rule_id}/{severity.label}"


def rule_descriptor(meta: RuleMeta, severity: Severity | None = None) -> dict[str, Any]:
    """``meta``'s descriptor at ``severity`` (default: the documented one)."""
    severity = meta.severity if severity is None else severity
    # GitHub takes 10 tags: the rule's own first, then Security Hub control ids; every mapping
    # in "compliance", which it does not limit.
    properties: dict[str, Any] = {"tags": sarif_tags(meta, limit=MAX_TAGS), "precision": "high"}
    if meta.compliance_mappings:
        properties["compliance"] = compliance_tags(meta)
    if severity in SECURITY_SEVERITY:
        properties["security-severity"] = SECURITY_SEVERITY[severity]
    properties["severity"] = severity.label
    descriptor: dict[str, Any] = {
        "id": meta.rule_id,
        "name": meta.pascal_name,
        "shortDescription": {"text": _truncate(meta.title)},
        "fullDescription": {"text": _truncate(meta.description)},
        "help": {"text": _help_text(meta), "markdown": render_rule(meta)},
        "defaultConfiguration": {"level": LEVEL[severity]},
        "properties": properties,
    }
    if meta.references:
        descriptor["helpUri"] = meta.references[0]
    return descriptor


def result_object(finding: Finding, rule_index: int, rule_id: str | None = None) -> dict[str, Any]:
    return {
        "ruleId": rule_id or finding.rule_id,
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


def _driver(descriptors: list[Any], version: str) -> dict[str, Any]:
    return {
        "name": "vpce-audit",
        "version": version,
        "semanticVersion": version,
        "informationUri": INFORMATION_URI,
        "rules": descriptors,
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


class _Rules:
    """The rule descriptors of each run of a render: each rule at its configured severity, and
    a descriptor per other severity its results take, in a stable order. A descriptor is made
    once per render and shared by every run (and file) that lists it, its text written once
    (``json_text.shared``)."""

    def __init__(self, result: ScanResult) -> None:
        self._result = result
        self._metas = {rule.rule_id: rule.meta for rule in result.rules}
        # Each descriptor is made once per render and shared by the runs that list it (an
        # organisation's upload has a run per account, each listing every rule).
        self._made: dict[str, Preformatted] = {}

    def descriptors_for(self, findings: list[Finding]) -> tuple[list[Preformatted], dict[str, int]]:
        ids: dict[str, tuple[str, Severity | None]] = {
            rule_id: (rule_id, None) for rule_id in self._metas
        }
        for finding in findings:
            configured = self._result.configured_severity(finding.rule_id)
            chosen = descriptor_id(finding.rule_id, finding.severity, configured)
            if chosen != finding.rule_id:
                ids[chosen] = (finding.rule_id, finding.severity)
        ordered = sorted(ids)
        descriptors = [self._descriptor(chosen, *ids[chosen]) for chosen in ordered]
        return descriptors, {chosen: i for i, chosen in enumerate(ordered)}

    def _descriptor(self, chosen: str, rule_id: str, severity: Severity | None) -> Preformatted:
        # ``chosen`` names the rule and the severity (descriptor_id): one descriptor per id.
        made = self._made.get(chosen)
        if made is None:
            meta = self._metas[rule_id]
            # Severity.INFO is 0: compare with None, never truth-test.
            descriptor = rule_descriptor(
                meta, self._result.configured_severity(rule_id) if severity is None else severity
            )
            if severity is not None:
                descriptor["id"] = chosen
                descriptor["properties"]["baseRule"] = rule_id
            made = self._made[chosen] = shared(descriptor)
        return made


def _suppressed_result(
    suppressed: SuppressedFinding, rules: dict[str, int], result: ScanResult
) -> dict[str, Any]:
    finding = suppressed.finding
    chosen = descriptor_id(
        finding.rule_id, finding.severity, result.configured_severity(finding.rule_id)
    )
    body = result_object(finding, rules[chosen], chosen)
    suppression: dict[str, Any] = {
        "kind": "external",
        "status": "accepted",
        "justification": suppressed.reason,
    }
    if suppressed.expires is not None:
        suppression["properties"] = {"expires": suppressed.expires.isoformat()}
    body["suppressions"] = [suppression]
    return body


def _account_run(
    result: ScanResult,
    account_id: str,
    name: str | None,
    found: _Found,
    rules: _Rules,
) -> dict[str, Any]:
    findings, suppressed = found
    if len(findings) + len(suppressed) > MAX_RESULTS_PER_RUN:
        raise SarifLimitError(
            f"account {account_id} has {len(findings) + len(suppressed)} findings; GitHub "
            f"accepts at most {MAX_RESULTS_PER_RUN} per run. Narrow the scan with --region or "
            "rule selection (and --sarif-category)."
        )
    descriptors, index = rules.descriptors_for(findings + [s.finding for s in suppressed])
    results = []
    for finding in findings:
        chosen = descriptor_id(
            finding.rule_id, finding.severity, result.configured_severity(finding.rule_id)
        )
        results.append(result_object(finding, index[chosen], chosen))
    results += [_suppressed_result(s, index, result) for s in suppressed]
    return {
        "tool": {"driver": _driver(descriptors, result.tool_version)},
        "automationDetails": {"id": category(account_id, name)},
        "invocations": [{"executionSuccessful": True}],
        "results": results,
    }


def _status_run(
    result: ScanResult, name: str | None, part: int, accounts: list[str]
) -> dict[str, Any]:
    """The file's status: which accounts it holds, and (as notifications) what failed. Always
    successful and without results, so it never closes an alert nor fails the upload."""
    invocation: dict[str, Any] = {
        "executionSuccessful": True,
        "properties": {
            "complete": result.is_complete,
            "accounts": accounts,
            "left_out": sorted(_left_out(result)),
        },
    }
    notifications = _notifications(result)
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return {
        "tool": {"driver": _driver([], result.tool_version)},
        "automationDetails": {"id": status_category(name, part)},
        "invocations": [invocation],
        "results": [],
    }


def _left_out(result: ScanResult) -> frozenset[str]:
    if result.rule_errors:
        return frozenset(result.snapshot.account_ids)
    return result.incomplete_accounts


def _uploadable(result: ScanResult) -> list[str]:
    left_out = _left_out(result)
    return [a for a in result.snapshot.account_ids if a not in left_out]


_Found = tuple[list[Finding], list[SuppressedFinding]]
"""An account's findings and suppressed findings, in the scan's order."""


def _by_account(result: ScanResult) -> dict[str, _Found]:
    # One pass: a run per account, each filtering every finding, grew with findings x accounts.
    found: dict[str, _Found] = {}
    for finding in result.findings:
        found.setdefault(finding.account_id, ([], []))[0].append(finding)
    for suppressed in result.suppressed:
        found.setdefault(suppressed.finding.account_id, ([], []))[1].append(suppressed)
    return found


def render_files(result: ScanResult, *, category_name: str | None = None) -> list[str]:
    """The scan as SARIF files of at most 20 runs each: 19 accounts and a status run."""
    accounts = _uploadable(result)
    chunks = [
        accounts[start : start + ACCOUNTS_PER_FILE]
        for start in range(0, len(accounts), ACCOUNTS_PER_FILE)
    ] or [[]]
    found = _by_account(result)
    rules = _Rules(result)
    return [
        _document(
            [
                _account_run(result, account, category_name, found.get(account, ([], [])), rules)
                for account in chunk
            ]
            + [_status_run(result, category_name, part, chunk)]
        )
        for part, chunk in enumerate(chunks, start=1)
    ]


def render(result: ScanResult, *, category_name: str | None = None) -> str:
    """The scan as one SARIF file; more than 19 accounts need ``render_files``."""
    accounts = _uploadable(result)
    if len(accounts) > ACCOUNTS_PER_FILE:
        raise SarifLimitError(
            f"the scan covers {len(accounts)} accounts, one run each, and GitHub accepts at "
            f"most {MAX_RUNS} runs per file (one of them the status run); write one file per "
            f"{ACCOUNTS_PER_FILE} accounts with --output-dir DIR"
        )
    return render_files(result, category_name=category_name)[0]


def _document(runs: list[dict[str, Any]]) -> str:
    document = {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": runs}
    # ASCII only: a bidi override or an escape sequence in a message stays an escape even when
    # the file is printed to a terminal.
    return json_dumps(document) + "\n"
