"""A scan: rules evaluated over a snapshot, plus what the reporters and the exit code need."""

from __future__ import annotations

import datetime
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from vpce_audit import __version__
from vpce_audit.cached import cached_property
from vpce_audit.config import Config, ConfigError, Suppression, SuppressionIndex
from vpce_audit.findings import Finding, Severity, Skipped
from vpce_audit.model import CollectionError
from vpce_audit.rules.base import Rule, Settings
from vpce_audit.rules.engine import evaluate
from vpce_audit.rules.metadata import builtin_metadata
from vpce_audit.rules.registry import RULE_ERROR_ID
from vpce_audit.snapshot.document import SnapshotDocument
from vpce_audit.snapshot.views import Snapshot
from vpce_audit.text import brief

if TYPE_CHECKING:
    from vpce_audit.baseline import Comparison
    from vpce_audit.compliance import ControlStatus


class ExitCode(enum.IntEnum):
    CLEAN = 0
    FINDINGS = 1
    USAGE = 2
    INCOMPLETE = 3


@dataclass(frozen=True)
class SuppressedFinding:
    finding: Finding
    reason: str
    expires: datetime.date | None


@dataclass(frozen=True)
class ScanResult:
    tool_version: str
    snapshot: Snapshot
    rules: tuple[Rule, ...]
    findings: tuple[Finding, ...]
    skipped: tuple[Skipped, ...]
    suppressed: tuple[SuppressedFinding, ...] = ()
    notices: tuple[str, ...] = ()
    """Things the user should know that are not findings (e.g. expired suppressions)."""
    severity_overrides: Mapping[str, Severity] = field(default_factory=dict)
    """Severities the configuration sets per rule (``rules: VPCE302: {severity: high}``)."""
    baseline: Comparison | None = None
    """The findings against an earlier scan's (``scan --baseline``)."""
    compliance: tuple[ControlStatus, ...] | None = None
    """Per control of one framework (``scan --compliance``)."""

    def baseline_note(self, finding: Finding) -> str:
        """ "[new] " or "[was low] " before a finding's message when there is a baseline."""
        if self.baseline is None:
            return ""
        if self.baseline.state_of(finding.fingerprint) == "new":
            return "[new] "
        before = self.baseline.earlier(finding.fingerprint)  # only a changed finding has one
        return "" if before is None else f"[was {before.severity.label}] "

    def configured_severity(self, rule_id: str) -> Severity:
        """The severity a rule's findings have unless the rule escalates one."""
        found = self._configured_severities.get(rule_id)
        if found is None:  # Severity.INFO is 0: compare with None, never truth-test
            found = self.severity_overrides.get(rule_id)
        if found is None:
            return builtin_metadata(rule_id).severity  # the rule-error pseudo-rule
        return found

    @cached_property
    def _configured_severities(self) -> dict[str, Severity]:
        # Asked for every SARIF result: a dict, not a walk over the rules each time.
        return {
            rule.rule_id: self.severity_overrides.get(rule.rule_id, rule.meta.severity)
            for rule in self.rules
        }

    @property
    def collection_errors(self) -> tuple[CollectionError, ...]:
        return self.snapshot.all_errors

    @cached_property  # asked by every SARIF file's status run, and by is_complete
    def rule_errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.rule_id == RULE_ERROR_ID)

    @property
    def is_complete(self) -> bool:
        return not self.collection_errors and not self.rule_errors

    @property
    def incomplete_accounts(self) -> frozenset[str]:
        """Accounts with at least one collection error: their results are partial."""
        return frozenset(error.account_id for error in self.collection_errors)

    def findings_by_severity(self) -> list[tuple[Severity, tuple[Finding, ...]]]:
        """Non-empty groups of findings, most severe first (findings keep their order)."""
        groups = [
            (severity, tuple(f for f in self.findings if f.severity == severity))
            for severity in sorted(Severity, reverse=True)
        ]
        return [(severity, group) for severity, group in groups if group]

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
            # With a baseline, only what is new can fail the run.
            judged = self.findings if self.baseline is None else self.baseline_new_findings()
            if any(f.severity >= threshold for f in judged):
                return ExitCode.FINDINGS
        return ExitCode.CLEAN

    def baseline_new_findings(self) -> tuple[Finding, ...]:
        assert self.baseline is not None
        return tuple(f for f in self.findings if self.baseline.state_of(f.fingerprint) == "new")


def settings_from(config: Config) -> Settings:
    return Settings(
        trusted_org_ids=config.trusted_org_ids,
        trusted_account_ids=config.trusted_account_ids,
        on_premises_cidrs=config.on_premises_cidrs,
        required_services=config.required_services,
        profile=config.profile,
        severity_overrides={
            rule_id: rule.severity
            for rule_id, rule in config.rules.items()
            if rule.severity is not None
        },
    )


def select_rules(
    rules: Iterable[Rule],
    config: Config,
    select: frozenset[str] | None = None,
    ignore: frozenset[str] = frozenset(),
) -> tuple[Rule, ...]:
    """Which rules run: --select (if given) decides, else metadata defaults as the config
    overrides them; --ignore removes rules either way. None left is a ConfigError: a scan that
    evaluates no rule would report clean."""
    chosen = []
    for rule in rules:
        if select is not None:
            enabled = rule.rule_id in select
        else:
            override = config.rules.get(rule.rule_id)
            enabled = rule.meta.enabled_by_default
            if override is not None and override.enabled is not None:
                enabled = override.enabled
        if enabled and rule.rule_id not in ignore:
            chosen.append(rule)
    if not chosen:
        raise ConfigError(f"no rule left to evaluate: {_why_no_rule(select, ignore)}")
    return tuple(chosen)


def _why_no_rule(select: frozenset[str] | None, ignore: frozenset[str]) -> str:
    if select is not None and not select:
        return "--select names only retired rules"
    if ignore:
        return f"--ignore removes every {'enabled' if select is None else 'selected'} rule"
    if select is not None:  # pragma: no cover - parse_rule_selection gives known ids only
        return "--select matches no rule"
    return "the configuration disables every rule"


def apply_suppressions(
    findings: Iterable[Finding], suppressions: Iterable[Suppression], today: datetime.date
) -> tuple[tuple[Finding, ...], tuple[SuppressedFinding, ...], tuple[str, ...]]:
    """Split findings into reported and suppressed. Rule errors are never suppressed; an expired
    suppression suppresses nothing and says so."""
    active = [s for s in suppressions if not s.expired(today)]
    notices = [
        f"suppression of {s.rule_id} for {brief(s.resource_pattern)} expired on {s.expires} "
        f"({brief(s.reason, 200)[1:-1]}); matching findings are reported again"
        for s in suppressions
        if s.expired(today)
    ]
    if not active:
        return tuple(findings), (), tuple(notices)  # an organisation's findings, untouched
    kept: list[Finding] = []
    suppressed: list[SuppressedFinding] = []
    index = SuppressionIndex(active)
    for finding in findings:
        match = index.first_match(finding)
        if match is None or finding.rule_id == RULE_ERROR_ID:
            kept.append(finding)
        else:
            suppressed.append(SuppressedFinding(finding, match.reason, match.expires))
    return tuple(kept), tuple(suppressed), tuple(notices)


SHOWN_SHARED_VPCS = 3


def _shared_vpc_notices(snapshot: Snapshot) -> tuple[str, ...]:
    """One notice per participant, region and owner for the VPCs shared by an owner that was
    not scanned (a participant may see hundreds of them)."""
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for scope, vpc in snapshot.unjudged_shared_vpcs:
        key = (scope.account_id, scope.region, vpc.owner_id)
        grouped.setdefault(key, []).append(vpc.vpc_id)
    notices = []
    for (participant, region, owner), vpc_ids in sorted(grouped.items()):
        named = ", ".join(vpc_ids[:SHOWN_SHARED_VPCS])
        more = len(vpc_ids) - SHOWN_SHARED_VPCS
        if more > 0:
            which = f"{named} and {more} more VPC{'s' if more > 1 else ''} are"
        else:
            which = f"{named} {'is' if len(vpc_ids) == 1 else 'are'}"
        owner_scope = snapshot.scope_by_place.get((owner, region))
        why = (
            "which was not scanned there"
            if owner_scope is None
            else "whose VPCs could not be listed there (a collection error)"
        )
        notices.append(
            f"{which} shared with account {participant} in {region} by account "
            f"{brief(owner, 40)[1:-1]}, {why}: a VPC's route tables, "
            "gateways, endpoints and flow logs are its owner's, so the checks of them were not "
            f"made for {'it' if len(vpc_ids) == 1 else 'them'}"
        )
    return tuple(notices)


def run_scan(
    document: SnapshotDocument,
    rules: Iterable[Rule],
    settings: Settings,
    suppressions: Iterable[Suppression] = (),
    today: datetime.date | None = None,
) -> ScanResult:
    snapshot = Snapshot(document)
    evaluation = evaluate(snapshot, rules, settings)
    findings, suppressed, notices = apply_suppressions(
        evaluation.findings, tuple(suppressions), today or datetime.date.today()
    )
    notices = (
        tuple(
            f"{region.account_id}/{region.region} is out of scope: a service control policy denies "
            f"it ({brief(region.out_of_scope, 200)[1:-1]}); it was not collected or judged"
            for region in snapshot.out_of_scope
        )
        + _shared_vpc_notices(snapshot)
        + notices
    )
    return ScanResult(
        tool_version=__version__,
        snapshot=snapshot,
        rules=evaluation.rules_run,
        findings=findings,
        skipped=evaluation.skipped,
        suppressed=suppressed,
        notices=notices,
        severity_overrides=dict(settings.severity_overrides),
    )
