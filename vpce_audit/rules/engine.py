"""Runs rules over a snapshot.

The engine owns three guarantees so that individual rules need not:

* a rule never sees a scope where data it needs failed to collect; that scope is reported as
  skipped for the rule (never as clean);
* a rule that raises becomes a VPCE000 finding and the other rules still run (as cfn-lint's
  E0002);
* a rule yields at most one finding per resource.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable
from dataclasses import dataclass

from vpce_audit.findings import Finding, Skipped
from vpce_audit.model import CollectionError, summarise_errors
from vpce_audit.rules.base import Rule, RuleContext, Settings
from vpce_audit.rules.metadata import builtin_metadata
from vpce_audit.rules.registry import RULE_ERROR_ID
from vpce_audit.snapshot.views import ScopeView, Snapshot

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvaluationResult:
    findings: tuple[Finding, ...]
    skipped: tuple[Skipped, ...]
    rules_run: tuple[Rule, ...]

    @property
    def rule_errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.rule_id == RULE_ERROR_ID)


class RuleContractError(Exception):
    """A rule broke the engine's contract (e.g. two findings for one resource)."""


def evaluate(snapshot: Snapshot, rules: Iterable[Rule], settings: Settings) -> EvaluationResult:
    findings: list[Finding] = []
    skipped: list[Skipped] = []
    rules_run = tuple(rules)
    running = frozenset(rule.rule_id for rule in rules_run)
    lost_nothing = _lost_nothing(snapshot)
    for rule in rules_run:
        rule_skips: list[Skipped] = []
        if lost_nothing[bool(rule.account_requirements)]:
            eligible = snapshot.scopes
        else:
            eligible, rule_skips = _split_scopes(snapshot, rule)
        skipped.extend(rule_skips)
        context = RuleContext(
            rule=rule,
            snapshot=snapshot,
            settings=settings,
            eligible_scopes=eligible,
            rules_running=running,
        )
        produced: list[Finding] = []
        try:
            for item in rule.check(context):
                if isinstance(item, Skipped):
                    skipped.append(item)
                else:
                    produced.append(item)
            _check_one_finding_per_resource(rule, produced)
        except Exception as error:
            log.debug("rule %s crashed", rule.rule_id, exc_info=True)
            findings.append(_rule_error(rule, error))
            # What a crashed rule had produced is still true, but the engine cannot know it is
            # complete; the VPCE000 finding marks the scan incomplete.
        findings.extend(_first_per_resource(produced))
    findings.sort(key=lambda f: f.sort_key)
    skipped.sort(key=lambda s: s.sort_key)
    return EvaluationResult(findings=tuple(findings), skipped=tuple(skipped), rules_run=rules_run)


def _lost_nothing(snapshot: Snapshot) -> tuple[bool, bool]:
    """Whether every scope is eligible for every rule: (for rules that need region facts only,
    for rules that also need account-wide facts). Nearly every organisation scan lost nothing,
    and then no rule needs to ask each of its thousands of scopes."""
    regions = not any(scope.failed_kinds for scope in snapshot.scopes)
    accounts = snapshot.accounts_by_id
    with_accounts = regions and all(
        (account := accounts.get(scope.account_id)) is not None and not account.errors
        for scope in snapshot.scopes
    )
    return regions, with_accounts


def _split_scopes(snapshot: Snapshot, rule: Rule) -> tuple[tuple[ScopeView, ...], list[Skipped]]:
    eligible: list[ScopeView] = []
    skips: list[Skipped] = []
    region_kinds, account_kinds = rule.region_requirements, rule.account_requirements
    accounts = snapshot.accounts_by_id
    for scope in snapshot.scopes:
        failed = scope.failed_kinds
        account = accounts.get(scope.account_id)
        # Nearly every scope lost nothing: it is eligible without a reason to look for (an
        # organisation has thousands of scopes, and every rule asks about each).
        if not failed and (not account_kinds or (account is not None and not account.errors)):
            eligible.append(scope)
            continue
        reasons = [
            _describe(kind, errors)
            for kind, errors in sorted(failed.items())
            if kind in region_kinds
        ]
        if account_kinds and account is None:
            reasons.append(
                f"{', '.join(sorted(account_kinds))} not collected (the snapshot has "
                f"no account-wide facts for {scope.account_id})"
            )
        elif account is not None and account_kinds:
            for error in account.errors:
                if error.resource_kind in account_kinds and error.resource_id is None:
                    reasons.append(_describe(error.resource_kind, (error,)))
        if reasons:
            skips.append(
                Skipped(
                    rule_id=rule.rule_id,
                    account_id=scope.account_id,
                    region=scope.region,
                    reason="; ".join(reasons),
                )
            )
        else:
            eligible.append(scope)
    return tuple(eligible), skips


def _describe(kind: str, errors: Iterable[CollectionError]) -> str:
    return f"{kind} not collected ({summarise_errors(errors)})"


def _check_one_finding_per_resource(rule: Rule, produced: list[Finding]) -> None:
    seen: set[str] = set()
    for finding in produced:
        if finding.resource_arn in seen:
            raise RuleContractError(f"{rule.rule_id} reported {finding.resource_id} more than once")
        seen.add(finding.resource_arn)


def _first_per_resource(produced: list[Finding]) -> list[Finding]:
    kept: dict[str, Finding] = {}
    for finding in produced:
        kept.setdefault(finding.resource_arn, finding)
    return list(kept.values())


def _rule_error(rule: Rule, error: Exception) -> Finding:
    meta = builtin_metadata(RULE_ERROR_ID)
    where = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
    location = f" at {where.filename.rsplit('/', 1)[-1]}:{where.lineno}" if where else ""
    return Finding(
        rule_id=RULE_ERROR_ID,
        severity=meta.severity,
        account_id="",
        region="",
        resource_type="rule",
        resource_id=rule.rule_id,
        resource_arn="",
        message=(
            f"Rule {rule.rule_id} ({rule.meta.name}) failed: {type(error).__name__}: {error}"
            f"{location}. Its results are incomplete; please report this."
        ),
    )
