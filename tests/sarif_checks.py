"""What GitHub code scanning requires of an upload beyond the SARIF schema.

Schema validation accepts ARN URIs and logical-only locations; GitHub rejects them. These checks
follow GitHub's "SARIF support for code scanning" reference and sarif-sdk's GitHub ingestion
rules (GH1001 to GH1007).
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA_PATH = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


@functools.cache
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    validator_class = jsonschema.validators.validator_for(schema)
    return validator_class(schema)  # type: ignore[no-any-return]


def schema_errors(document: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(str(p) for p in error.absolute_path)}: {error.message}"
        for error in _validator().iter_errors(document)
    ]


def github_violations(document: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    if document.get("version") != "2.1.0" or "$schema" not in document:
        problems.append("version must be 2.1.0 and $schema present")
    runs = document.get("runs")
    if not isinstance(runs, list):
        return [*problems, "runs must be an array"]
    if len(runs) > 20:
        problems.append(f"{len(runs)} runs (GitHub accepts 20)")
    categories = [run.get("automationDetails", {}).get("id") for run in runs]
    if len(categories) != len(set(categories)):
        problems.append(f"duplicate run categories {categories}")
    for r, run in enumerate(runs):
        driver = run.get("tool", {}).get("driver", {})
        if not driver.get("name"):
            problems.append(f"run {r}: tool.driver.name missing")
        rules = driver.get("rules")
        if not isinstance(rules, list):
            problems.append(f"run {r}: tool.driver.rules missing")
            rules = []
        for rule in rules:
            problems += _rule_violations(r, rule)
        results = run.get("results")
        if not isinstance(results, list):
            problems.append(f"run {r}: results must be an array")
            continue
        if len(results) > 25_000:
            problems.append(f"run {r}: {len(results)} results (GitHub accepts 25,000)")
        for i, result in enumerate(results):
            problems += [f"run {r} result {i}: {p}" for p in _result_violations(result, rules)]
    return problems


def _rule_violations(run: int, rule: dict[str, Any]) -> list[str]:
    where = f"run {run} rule {rule.get('id')}"
    problems = []
    for key in ("id", "name"):
        if not rule.get(key):
            problems.append(f"{where}: {key} missing")
    for key in ("shortDescription", "fullDescription"):
        text = rule.get(key, {}).get("text", "")
        if not text or len(text) > 1024:
            problems.append(f"{where}: {key}.text empty or over 1024 characters")
    help_ = rule.get("help", {})
    if not help_.get("text") or not help_.get("markdown"):
        problems.append(f"{where}: help.text and help.markdown required")
    if rule.get("defaultConfiguration", {}).get("level") not in {"error", "warning", "note"}:
        problems.append(f"{where}: defaultConfiguration.level missing")
    properties = rule.get("properties", {})
    tags = properties.get("tags", [])
    if "security" not in tags or len(tags) > 10:
        problems.append(f"{where}: tags must include security and number at most 10")
    severity = properties.get("security-severity")
    if severity is not None:
        try:
            float(severity)
        except (TypeError, ValueError):
            problems.append(f"{where}: security-severity {severity!r} is not a number")
        if not isinstance(severity, str):
            problems.append(f"{where}: security-severity must be a string")
    return problems


def _result_violations(result: dict[str, Any], rules: list[dict[str, Any]]) -> list[str]:
    problems = []
    if not result.get("message", {}).get("text"):
        problems.append("message.text missing")
    if result.get("level") not in {"error", "warning", "note"}:
        problems.append("level must be stated")
    index = result.get("ruleIndex")
    if (
        not isinstance(index, int)
        or index >= len(rules)
        or rules[index]["id"] != result.get("ruleId")
    ):
        problems.append("ruleIndex does not point at ruleId")
    locations = result.get("locations")
    if not isinstance(locations, list) or len(locations) != 1:
        return [*problems, "exactly one location required"]
    physical = locations[0].get("physicalLocation")
    if not physical:
        return [*problems, "location has no physicalLocation"]
    uri = physical.get("artifactLocation", {}).get("uri", "")
    if not uri:
        problems.append("artifactLocation.uri empty")
    elif URI_SCHEME.match(uri) and not uri.startswith("file:"):
        problems.append(f"artifactLocation.uri {uri!r} has a non-file scheme")
    if physical.get("region", {}).get("startLine", 0) < 1:
        problems.append("region.startLine must be >= 1")
    if not result.get("partialFingerprints", {}).get("primaryLocationLineHash"):
        problems.append("partialFingerprints.primaryLocationLineHash missing")
    return problems


SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
STATUS_MARK = "/scan-status/"


def lifecycle_violations(document: dict[str, Any]) -> list[str]:
    """What would make GitHub keep the wrong alerts over time (the README's "Continuous
    integration"): a run marked unsuccessful (the upload action fails the whole file), a file
    without exactly one status run, a status run holding results, a result whose descriptor
    shows GitHub another severity than vpce-audit reports, a suppression without its reason."""
    problems: list[str] = []
    runs = document.get("runs", [])
    statuses = [r for r in runs if STATUS_MARK in r.get("automationDetails", {}).get("id", "")]
    if len(statuses) != 1:
        problems.append(f"{len(statuses)} status runs (one per file expected)")
    for r, run in enumerate(runs):
        for invocation in run.get("invocations", []):
            if invocation.get("executionSuccessful") is not True:
                problems.append(f"run {r}: executionSuccessful is not true")
        if run in statuses and run.get("results"):
            problems.append(f"run {r}: the status run holds results")
        rules = run.get("tool", {}).get("driver", {}).get("rules", [])
        for i, result in enumerate(run.get("results", [])):
            where = f"run {r} result {i}"
            rule = rules[result["ruleIndex"]]
            shown = rule.get("properties", {}).get("security-severity")
            reported = result.get("properties", {}).get("severity")
            if shown != SECURITY_SEVERITY.get(reported):
                problems.append(f"{where}: GitHub shows {shown}, vpce-audit reports {reported}")
            for suppression in result.get("suppressions", []):
                if suppression.get("kind") != "external" or not suppression.get("justification"):
                    problems.append(f"{where}: a suppression without kind external and reason")
    return problems


def assert_uploadable(text: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(text)
    assert schema_errors(document) == []
    assert github_violations(document) == []
    assert lifecycle_violations(document) == []
    return document
