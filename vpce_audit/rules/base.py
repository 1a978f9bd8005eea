"""The rule contract: a rule is metadata plus a pure function over the snapshot.

A check receives a RuleContext and yields Findings (and Skipped for resources it cannot judge).
It never calls AWS; a test enforces that no module under vpce_audit.rules imports boto3.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from vpce_audit.analysis.trust import TrustedSet
from vpce_audit.cached import cached_property
from vpce_audit.findings import Finding, Severity, Skipped
from vpce_audit.model import (
    ACCOUNT_RESOURCE_KINDS,
    RESOURCE_KINDS,
    summarise_errors,
)
from vpce_audit.rules.metadata import RuleMeta, builtin_metadata
from vpce_audit.snapshot.views import ScopeView, Snapshot

# What workloads in private subnets call through a NAT gateway when these endpoints are missing:
# Systems Manager (and Session Manager's channels), STS for role credentials, CloudWatch Logs.
DEFAULT_REQUIRED_SERVICES = ("ssm", "ssmmessages", "ec2messages", "sts", "logs")
# AWS Foundational Security Best Practices EC2.10, EC2.55, EC2.56, EC2.57, EC2.58, EC2.60.
FSBP_REQUIRED_SERVICES = ("ec2", "ecr.api", "ecr.dkr", "ssm", "ssm-contacts", "ssm-incidents")
PROFILES = ("default", "fsbp")


@dataclass(frozen=True)
class Settings:
    """What configuration tells the rules. Defaults are the documented behaviour."""

    trusted_org_ids: frozenset[str] = frozenset()
    trusted_account_ids: frozenset[str] = frozenset()
    on_premises_cidrs: tuple[str, ...] = ()
    required_services: tuple[str, ...] | None = None
    """VPCE601's list; None means the profile's list."""
    severity_overrides: dict[str, Severity] = field(default_factory=dict)
    profile: str = "default"
    """'fsbp' applies AWS Security Hub's controls exactly where a rule maps one (VPCE601,
    VPCE602: every VPC, Security Hub's service list and severity)."""

    @property
    def fsbp(self) -> bool:
        return self.profile == "fsbp"

    @property
    def endpoint_services_required(self) -> tuple[str, ...]:
        if self.required_services is not None:
            return self.required_services
        return FSBP_REQUIRED_SERVICES if self.fsbp else DEFAULT_REQUIRED_SERVICES


CheckResult = Iterable[Finding | Skipped]


@dataclass(frozen=True)
class RuleContext:
    """What a check may look at, plus helpers that keep findings uniform."""

    rule: Rule
    snapshot: Snapshot
    settings: Settings
    eligible_scopes: tuple[ScopeView, ...]
    rules_running: frozenset[str] = frozenset()
    """Ids of every rule in this run, so a rule can defer to another ("one fact, one finding")."""

    @cached_property
    def trusted(self) -> TrustedSet:
        """The scanned accounts, their organisations and members, plus the configured extras."""
        return self.snapshot.trusted_set(
            self.settings.trusted_account_ids, self.settings.trusted_org_ids
        )

    @property
    def severity(self) -> Severity:
        return self.settings.severity_overrides.get(self.rule.rule_id, self.rule.meta.severity)

    def severity_for(self, default: Severity) -> Severity:
        """The severity of one finding: the configured one when the configuration sets the rule's
        severity (it then applies to every finding of the rule), else ``default``."""
        return self.settings.severity_overrides.get(self.rule.rule_id, default)

    def scopes(self) -> tuple[ScopeView, ...]:
        """Scopes whose required data was collected. The engine reports the others as skipped."""
        return self.eligible_scopes

    def finding(
        self,
        scope: ScopeView,
        resource_id: str,
        message: str,
        *,
        resource_type: str | None = None,
        related: Iterable[str] = (),
        severity: Severity | None = None,
        owner: str | None = None,
    ) -> Finding:
        """A finding of this rule; ``severity`` (already resolved with ``severity_for``) defaults
        to the rule's configured or documented severity. ``owner``: the account that owns the
        resource, where it is not the scope's (a VPC shared with the scope's account, whose
        owner was not scanned): the ARN is the owner's, as the resource is, so the fingerprint
        stays when the owner is scanned later; the finding stays the scanned account's, where
        every report, baseline and per-account SARIF run finds it."""
        kind = resource_type or self.rule.meta.resource_type
        arn = scope.arn(kind, resource_id)
        if owner and owner != scope.account_id:
            arn = f"arn:{scope.partition}:ec2:{scope.region}:{owner}:{kind}/{resource_id}"
        return Finding(
            rule_id=self.rule.rule_id,
            severity=self.severity if severity is None else severity,
            account_id=scope.account_id,
            region=scope.region,
            resource_type=kind,
            resource_id=resource_id,
            resource_arn=arn,
            message=message,
            related_resources=tuple(sorted(set(related))) if related else (),
        )

    def skip(
        self, scope: ScopeView, resource_id: str, reason: str, *, because_of: Iterable[str] = ()
    ) -> Skipped:
        """A resource the rule cannot judge. The collection errors recorded for it, or for the
        resources named in ``because_of``, are added to the reason."""
        errors = [
            error
            for subject in (resource_id, *because_of)
            for error in scope.resource_errors.get(subject, ())
        ]
        return Skipped(
            rule_id=self.rule.rule_id,
            account_id=scope.account_id,
            region=scope.region,
            resource_id=resource_id,
            reason=f"{reason} ({summarise_errors(errors)})" if errors else reason,
        )


CheckFunction = Callable[[RuleContext], CheckResult]


@dataclass(frozen=True)
class Rule:
    meta: RuleMeta
    check: CheckFunction
    requires: frozenset[str]
    """Resource kinds (see vpce_audit.model.RESOURCE_KINDS) the check reads."""

    def __post_init__(self) -> None:
        unknown = self.requires - set(RESOURCE_KINDS)
        if unknown:
            raise ValueError(f"{self.meta.rule_id} requires unknown kinds {sorted(unknown)}")

    @property
    def rule_id(self) -> str:
        return self.meta.rule_id

    @property
    def region_requirements(self) -> frozenset[str]:
        return self.requires - set(ACCOUNT_RESOURCE_KINDS)

    @property
    def account_requirements(self) -> frozenset[str]:
        return self.requires & set(ACCOUNT_RESOURCE_KINDS)


def builtin_rule(rule_id: str, *, requires: Iterable[str]) -> Callable[[CheckFunction], Rule]:
    """Decorator for built-in checks: binds a function to its rules/<id>.yaml metadata."""

    def wrap(check: CheckFunction) -> Rule:
        return Rule(meta=builtin_metadata(rule_id), check=check, requires=frozenset(requires))

    return wrap
