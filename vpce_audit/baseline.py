"""Findings compared with an earlier scan: new, unchanged, changed, fixed, or not seen.

Findings are matched by fingerprint (a hash of rule id and resource ARN, ``findings.fingerprint``):
the same problem on the same resource is the same finding in every scan, whatever else changed
in the estate. A finding of the earlier scan that is missing now is *fixed* only where this scan
looked: its rule ran and its account-region was collected without error. Otherwise it is *not
seen* (a region left out, a failed collection, a rule not selected), never reported as fixed.

An earlier scan is a JSON report (``--format json``, docs/json-report.md); ``vpce-audit diff``
also takes snapshots, which it scans first.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vpce_audit.cached import cached_property
from vpce_audit.findings import Severity
from vpce_audit.report.json_report import REPORT_FORMAT_VERSION, finding_to_dict
from vpce_audit.scan import ScanResult
from vpce_audit.text import TooLarge, brief, read_bounded

MAX_REPORT_BYTES = 2 * 1024**3

NEW, UNCHANGED, CHANGED, FIXED, UNSEEN = "new", "unchanged", "changed", "fixed", "not seen"


class BaselineError(Exception):
    """The earlier report cannot be used; the message is fit for the user."""


@dataclass(frozen=True)
class Reported:
    """A finding as a JSON report holds it."""

    fingerprint: str
    rule_id: str
    severity: Severity
    account_id: str
    region: str
    resource_id: str
    message: str
    body: Mapping[str, Any]
    """The report's dict of the finding, written back as it was."""


@dataclass(frozen=True)
class ScanView:
    """What a scan found, and where it looked."""

    findings: Mapping[str, Reported]
    scopes: frozenset[tuple[str, str]]
    incomplete_accounts: frozenset[str]
    rules: frozenset[str]
    complete: bool

    def looked_at(self, finding: Reported) -> bool:
        return (
            finding.rule_id in self.rules
            and (finding.account_id, finding.region) in self.scopes
            and finding.account_id not in self.incomplete_accounts
        )


@dataclass(frozen=True)
class Comparison:
    new: tuple[Reported, ...]
    unchanged: tuple[Reported, ...]
    changed: tuple[tuple[Reported, Reported], ...]
    """(earlier, now): the same finding at another severity."""
    fixed: tuple[Reported, ...]
    unseen: tuple[Reported, ...]
    """Earlier findings where this scan did not look."""

    def state_of(self, fingerprint: str) -> str:
        """NEW, CHANGED or UNCHANGED: a finding of this scan against the baseline."""
        return self._states.get(fingerprint, UNCHANGED)

    def earlier(self, fingerprint: str) -> Reported | None:
        """The baseline's finding that a CHANGED finding of this scan was (its old severity);
        None for any other."""
        return self._earlier.get(fingerprint)

    @cached_property
    def _states(self) -> dict[str, str]:
        # Asked once per finding by every report: a walk over ``new`` each time made a scan of
        # 44,000 findings against a baseline take 218 s instead of 5.
        states = dict.fromkeys((f.fingerprint for f in self.new), NEW)
        states.update((now.fingerprint, CHANGED) for _, now in self.changed)
        return states

    @cached_property
    def _earlier(self) -> dict[str, Reported]:
        return {now.fingerprint: before for before, now in self.changed}

    def counts(self) -> dict[str, int]:
        return {
            NEW: len(self.new),
            UNCHANGED: len(self.unchanged),
            CHANGED: len(self.changed),
            FIXED: len(self.fixed),
            UNSEEN: len(self.unseen),
        }

    def summary(self) -> str:
        counts = self.counts()
        return "since the baseline: " + ", ".join(f"{n} {state}" for state, n in counts.items())


def compare(earlier: ScanView, now: ScanView) -> Comparison:
    new: list[Reported] = []
    unchanged: list[Reported] = []
    changed: list[tuple[Reported, Reported]] = []
    for fingerprint, finding in now.findings.items():
        before = earlier.findings.get(fingerprint)
        if before is None:
            new.append(finding)
        elif before.severity != finding.severity:
            changed.append((before, finding))
        else:
            unchanged.append(finding)
    fixed: list[Reported] = []
    unseen: list[Reported] = []
    for fingerprint, before in earlier.findings.items():
        if fingerprint in now.findings:
            continue
        (fixed if now.looked_at(before) else unseen).append(before)
    return Comparison(
        tuple(_ordered(new)),
        tuple(_ordered(unchanged)),
        tuple(sorted(changed, key=lambda pair: _key(pair[1]))),
        tuple(_ordered(fixed)),
        tuple(_ordered(unseen)),
    )


def _key(finding: Reported) -> tuple[int, str, str, str, str]:
    return (
        -finding.severity,
        finding.rule_id,
        finding.account_id,
        finding.region,
        finding.resource_id,
    )


def _ordered(findings: list[Reported]) -> list[Reported]:
    return sorted(findings, key=_key)


def view_of(result: ScanResult) -> ScanView:
    findings = {}
    for finding in result.findings:
        body = finding_to_dict(finding)
        findings[finding.fingerprint] = _reported(body, "the scan")
    return ScanView(
        findings=findings,
        scopes=frozenset((s.account_id, s.region) for s in result.snapshot.scopes),
        incomplete_accounts=result.incomplete_accounts,
        rules=frozenset(rule.rule_id for rule in result.rules),
        complete=result.is_complete,
    )


def load_report(path: Path) -> ScanView:
    """A JSON report written by ``scan --format json``."""
    try:
        text = read_bounded(path, MAX_REPORT_BYTES)
    except (OSError, TooLarge, UnicodeDecodeError) as error:
        raise BaselineError(
            f"cannot read {path}: {getattr(error, 'strerror', None) or error}"
        ) from None
    try:
        body = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise BaselineError(f"{path} is not JSON") from None
    return view_of_report(body, str(path))


def is_report(body: Any) -> bool:
    return isinstance(body, dict) and "report_format_version" in body


def view_of_report(body: Any, source: str) -> ScanView:
    if not is_report(body) or body.get("report_format_version") != REPORT_FORMAT_VERSION:
        raise BaselineError(
            f"{source} is not a vpce-audit JSON report (format version {REPORT_FORMAT_VERSION}); "
            "write one with --format json"
        )
    try:
        findings = {}
        for item in body["findings"]:
            finding = _reported(item, source)
            findings[finding.fingerprint] = finding
        scopes = frozenset(
            (_text(s["account_id"]), _text(s["region"])) for s in body["snapshot"]["scopes"]
        )
        incomplete = frozenset(_text(e["account_id"]) for e in body["collection_errors"])
        rules = frozenset(_text(rule) for rule in body["summary"]["rules"])
        complete = body["summary"]["complete"] is True
    except (KeyError, TypeError) as error:
        raise BaselineError(
            f"{source} is not a complete vpce-audit JSON report ({brief(str(error))} missing)"
        ) from None
    return ScanView(findings, scopes, incomplete, rules, complete)


def _reported(item: Any, source: str) -> Reported:
    try:
        severity = Severity.parse(_text(item["severity"]))
        return Reported(
            fingerprint=_text(item["fingerprint"]),
            rule_id=_text(item["rule_id"]),
            severity=severity,
            account_id=_text(item["account_id"]),
            region=_text(item["region"]),
            resource_id=_text(item["resource_id"]),
            message=_text(item["message"]),
            body=item,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise BaselineError(
            f"{source} holds a finding that is not one ({brief(str(error))})"
        ) from None


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{brief(value)} is not a string")
    return value
