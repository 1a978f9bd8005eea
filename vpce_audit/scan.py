"""A scan: rules evaluated over a snapshot, plus what the reporters and the exit code need."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from vpce_audit import __version__
from vpce_audit.findings import Finding, Severity, Skipped
from vpce_audit.model import CollectionError
from vpce_audit.rules.base import Rule, Settings
from vpce_audit.rules.engine import evaluate
from vpce_audit.rules.registry import RULE_ERROR_ID
from vpce_audit.snapshot.document import SnapshotDocument
from vpce_audit.snapshot.views import Snapshot


class ExitCode(enum.IntEnum):
    CLEAN = 0
    FINDINGS = 1
    USAGE = 2
    INCOMPLETE = 3


@dataclass(frozen=True)
class ScanResult:
    tool_version: str
    snapshot: Snapshot
    rules: tuple[Rule, ...]
    findings: tuple[Finding, ...]
    skipped: tuple[Skipped, ...]

    @property
    def collection_errors(self) -> tuple[CollectionError, ...]:
        return self.snapshot.all_errors

    @property
    def rule_errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.rule_id == RULE_ERROR_ID)

    @property
    def is_complete(self) -> bool:
        return not self.collection_errors and not self.rule_errors

    @property
    def incomplete_accounts(self) -> frozenset[str]:
        """Accounts with at least one collection error: their results are partial."""
        return frozenset(error.account_id for error in self.collection_errors)

    def counts_by_severity(self) -> dict[Severity, int]:
        counts = dict.fromkeys(Severity, 0)
        for finding in self.findings:
            counts[finding.severity] += 1
        return counts

    def exit_code(self, fail_on: Severity | None) -> ExitCode:
        """3 when incomplete, else 1 when a finding reaches ``fail_on``, else 0.

        Info findings never fail a run; ``fail_on=None`` ("never") only reports.
        """
        if not self.is_complete:
            return ExitCode.INCOMPLETE
        if fail_on is not None:
            threshold = max(fail_on, Severity.LOW)
            if any(f.severity >= threshold for f in self.findings):
                return ExitCode.FINDINGS
        return ExitCode.CLEAN


def run_scan(document: SnapshotDocument, rules: Iterable[Rule], settings: Settings) -> ScanResult:
    snapshot = Snapshot(document)
    evaluation = evaluate(snapshot, rules, settings)
    return ScanResult(
        tool_version=__version__,
        snapshot=snapshot,
        rules=evaluation.rules_run,
        findings=evaluation.findings,
        skipped=evaluation.skipped,
    )
