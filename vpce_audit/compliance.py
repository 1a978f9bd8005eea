"""Compliance frameworks: which rules check which controls, and a scan's result per control.

The mappings live in the rules' metadata (``compliance:`` in rules/VPCExxx.yaml, loaded as
``RuleMeta.compliance_mappings``); each cites the page that states it. AWS Foundational Security
Best Practices (``fsbp``) controls map where a rule checks what the Security Hub control checks;
NIST SP 800-53 rev. 5 and CIS AWS Foundations Benchmark controls map only as Security Hub relates
them to those FSBP controls ("Related requirements"). CIS and PCI DSS control ids carry the
version Security Hub names (``v1.4.0/3.9``); no PCI DSS v4 mapping is confirmed yet, so
``pci-dss`` selects no rule.

Status of a control in a scan (``control_view``), over the mappings of that framework and
control, each a (rule, mapping) pair:

* A mapping *ran* when its rule is among the rules the scan evaluated (``result.rules``).
* A finding of the rule *counts against* the mapping unless the mapping lists ``services``
  (VPCE601: one finding per VPC names every missing endpoint service) and the finding does not
  name one of them as missing. Suppressed findings never count, as Security Hub does not fail a
  control on suppressed findings; they are reported in ``suppressed``.
* A mapping ran *conclusively* when its rule crashed for no part of the scan (no VPCE000
  finding names it), skipped nothing (``result.skipped``: data not collected, a resource it
  could not judge), and the scan ran with the profile the mapping requires, if any
  (``profile: fsbp``: with the default profile VPCE601 checks another service list and
  VPCE602 leaves default VPCs out, so a clean run says nothing about the control).

Then, in this order:

``not applicable``  no mapping of the control ran (its rules were not selected, are disabled,
                    or the framework has no mapping for it in this scan).
``fail``            a finding counts against some mapping that ran. A finding is a failure
                    whatever the profile and however incomplete the rest of the scan.
``unknown``         some mapping that ran did not run conclusively.
``pass``            every mapping that ran ran conclusively with no finding counting against it.

A rule that ran but found no resource of its kind passes (vpce-audit does not record which
resources a rule looked at); a rule not run leaves the control ``not applicable`` only when no
other rule of the control ran, and is listed in ``not_run``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from vpce_audit.findings import Finding
from vpce_audit.rules.metadata import COMPLIANCE_CONTROL_PATTERNS, ComplianceMapping, RuleMeta
from vpce_audit.rules.registry import RULE_ERROR_ID
from vpce_audit.scan import ScanResult

FRAMEWORKS: dict[str, str] = {
    "fsbp": "AWS Foundational Security Best Practices",
    "nist-800-53": "NIST SP 800-53 rev. 5",
    "cis-aws": "CIS AWS Foundations Benchmark",
    "pci-dss": "PCI DSS v4.0",
}
assert set(FRAMEWORKS) == set(COMPLIANCE_CONTROL_PATTERNS)

STATUSES = ("fail", "unknown", "pass", "not applicable")

SARIF_MAX_TAGS = 10
"""GitHub code scanning reads at most 10 tags per rule (``security`` included)."""

# VPCE601's message: "<vpc> has no endpoint for ssm, ecr.api (AWS Security Hub ...): ..."
_MISSING_SERVICES = re.compile(r" has no endpoint for (?P<services>[^:(]+?)(?: \(|:)")


class UnknownFrameworkError(ValueError):
    """A framework name that is not a key of FRAMEWORKS."""


def check_framework(framework: str) -> str:
    if framework not in FRAMEWORKS:
        raise UnknownFrameworkError(
            f"unknown compliance framework {framework!r}; choose from {', '.join(FRAMEWORKS)}"
        )
    return framework


@dataclass(frozen=True)
class ControlStatus:
    framework: str
    control: str
    rules: tuple[str, ...]
    """Every rule that maps to the control, whether it ran or not."""
    status: str
    """One of STATUSES."""
    findings: int = 0
    """Findings that count against the control."""
    suppressed: int = 0
    """Suppressed findings that would otherwise count against it."""
    not_run: tuple[str, ...] = ()
    """Mapped rules this scan did not evaluate."""
    reasons: tuple[str, ...] = ()
    """Why the status is unknown (one line per inconclusive rule)."""
    sources: tuple[str, ...] = ()
    """The pages that state the mappings."""


def mappings_for(framework: str, meta: RuleMeta) -> tuple[ComplianceMapping, ...]:
    return tuple(m for m in meta.compliance_mappings if m.framework == framework)


def rules_for(framework: str, metas: Iterable[RuleMeta]) -> list[RuleMeta]:
    """The rules that map to at least one control of ``framework``, in the order given."""
    check_framework(framework)
    return [meta for meta in metas if mappings_for(framework, meta)]


def controls_for(framework: str, metas: Iterable[RuleMeta]) -> list[str]:
    """The framework's controls that some rule maps to, sorted by control id."""
    check_framework(framework)
    controls = {m.control for meta in metas for m in mappings_for(framework, meta)}
    return sorted(controls, key=_control_sort_key)


def tags(meta: RuleMeta, frameworks: Sequence[str] | None = None) -> list[str]:
    """``framework:control`` tags for JSON and SARIF (fsbp:EC2.10, nist-800-53:SC-7, ...), in
    metadata order; only ``frameworks``' when given (the order of ``frameworks`` first)."""
    if frameworks is None:
        return [m.label for m in meta.compliance_mappings]
    for framework in frameworks:
        check_framework(framework)
    return [m.label for framework in frameworks for m in mappings_for(framework, meta)]


def sarif_tags(
    meta: RuleMeta, frameworks: Sequence[str] | None = None, limit: int = SARIF_MAX_TAGS
) -> list[str]:
    """The rule's SARIF ``properties.tags``: ``security``, its own tags, then compliance tags
    (the requested frameworks', else FSBP's, which identify Security Hub controls), cut at
    ``limit``. The full list belongs in a property of its own (e.g. ``properties.compliance``),
    which GitHub does not limit."""
    own = ["security", *(t for t in meta.tags if t != "security")]
    extra = tags(meta, frameworks if frameworks is not None else ("fsbp",))
    return [*own, *(t for t in extra if t not in own)][:limit]


def control_view(
    framework: str, result: ScanResult, profile: str = "default"
) -> list[ControlStatus]:
    """Each control of ``framework`` that a rule of the scan's registry maps to, with its status
    in ``result`` (see the module docstring); ``profile`` is the profile the scan ran with."""
    check_framework(framework)
    ran = {rule.rule_id: rule.meta for rule in result.rules}
    metas = _all_metas(result)
    crashed = {f.resource_id for f in result.findings if f.rule_id == RULE_ERROR_ID}
    skipped_rules: dict[str, int] = {}
    for skip in result.skipped:
        skipped_rules[skip.rule_id] = skipped_rules.get(skip.rule_id, 0) + 1
    findings_by_rule: dict[str, list[Finding]] = {}
    for finding in result.findings:
        findings_by_rule.setdefault(finding.rule_id, []).append(finding)
    suppressed_by_rule: dict[str, list[Finding]] = {}
    for item in result.suppressed:
        suppressed_by_rule.setdefault(item.finding.rule_id, []).append(item.finding)

    views: list[ControlStatus] = []
    for control in controls_for(framework, metas):
        pairs = [
            (meta, m)
            for meta in metas
            for m in mappings_for(framework, meta)
            if m.control == control
        ]
        rules = tuple(dict.fromkeys(meta.rule_id for meta, _ in pairs))
        not_run = tuple(rule_id for rule_id in rules if rule_id not in ran)
        counted = suppressed = 0
        reasons: list[str] = []
        any_ran = False
        for meta, mapping in pairs:
            if meta.rule_id not in ran:
                continue
            any_ran = True
            counted += sum(_counts(mapping, f) for f in findings_by_rule.get(meta.rule_id, ()))
            suppressed += sum(_counts(mapping, f) for f in suppressed_by_rule.get(meta.rule_id, ()))
            if meta.rule_id in crashed:
                reasons.append(f"{meta.rule_id} failed (VPCE000)")
            if skipped_rules.get(meta.rule_id):
                reasons.append(
                    f"{meta.rule_id} skipped {skipped_rules[meta.rule_id]} scope(s) or resource(s)"
                )
            if mapping.profile is not None and mapping.profile != profile:
                reasons.append(
                    f"{meta.rule_id} checks {framework}:{control} exactly only with profile "
                    f"{mapping.profile} (this scan: {profile})"
                )
        if not any_ran:
            status = "not applicable"
        elif counted:
            status = "fail"
        elif reasons:
            status = "unknown"
        else:
            status = "pass"
        views.append(
            ControlStatus(
                framework=framework,
                control=control,
                rules=rules,
                status=status,
                findings=counted,
                suppressed=suppressed,
                not_run=not_run,
                reasons=tuple(dict.fromkeys(reasons)) if status == "unknown" else (),
                sources=tuple(dict.fromkeys(m.source for _, m in pairs)),
            )
        )
    return views


def missing_services(finding: Finding) -> tuple[str, ...] | None:
    """The endpoint services a VPCE601 finding names as missing; None when the message is not of
    that form (the finding then counts against every control of the rule)."""
    match = _MISSING_SERVICES.search(finding.message)
    if match is None:
        return None
    return tuple(s.strip() for s in match.group("services").split(","))


def _counts(mapping: ComplianceMapping, finding: Finding) -> bool:
    if not mapping.services:
        return True
    missing = missing_services(finding)
    return missing is None or any(service in missing for service in mapping.services)


def _all_metas(result: ScanResult) -> list[RuleMeta]:
    """The metadata of every rule that could map a control: the scan's rules, then the built-in
    ones it did not run (so a control whose rules were not selected is listed, not applicable)."""
    from vpce_audit.rules.registry import builtin_rules

    metas = {rule.rule_id: rule.meta for rule in result.rules}
    for rule in builtin_rules():
        metas.setdefault(rule.rule_id, rule.meta)
    return [metas[rule_id] for rule_id in sorted(metas)]


def _control_sort_key(control: str) -> tuple[object, ...]:
    """EC2.6 before EC2.10, AC-4 before AC-4(21) before AC-21, v1.2.0/2.9 before v1.4.0/3.9."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in re.split(r"(\d+)", control)
        if part
    )
