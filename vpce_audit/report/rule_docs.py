"""Rule documentation as Markdown: `vpce-audit rules show`, `rules list` and docs/rules.md."""

from __future__ import annotations

from collections.abc import Iterable

from tabulate import tabulate

from vpce_audit.rules.metadata import RuleMeta

DOCS_HEADER = """# vpce-audit rules

<!-- Generated: python -m vpce_audit.report.rule_docs > docs/rules.md (a test fails when stale) -->

Rule ids are stable: suppressions and GitHub alerts depend on them. Severities are defaults.

"""


def _status(meta: RuleMeta) -> str:
    if meta.retired:
        return "retired"
    return "on" if meta.enabled_by_default else "off"


def render_rule_list(metas: Iterable[RuleMeta]) -> str:
    rows = [[m.rule_id, m.severity.label, _status(m), m.name, m.title] for m in metas]
    headers = ["Id", "Severity", "Default", "Name", "Title"]
    return tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True) + "\n"


def render_rule(meta: RuleMeta) -> str:
    lines = [
        f"## {meta.rule_id} {meta.name}",
        "",
        f"**{meta.title}**",
        "",
    ]
    if meta.retired:
        lines += [f"**Retired.** {meta.retired}", ""]
    lines += [
        f"- Severity: {meta.severity.label}",
        f"- Reports on: {meta.resource_type or 'n/a'}",
    ]
    if meta.tags:
        lines.append(f"- Tags: {', '.join(meta.tags)}")
    if meta.compliance:
        lines.append(f"- Compliance: {', '.join(meta.compliance)}")
    if not meta.enabled_by_default:
        lines.append("- Disabled by default")
    lines += [
        "",
        "### What it flags",
        "",
        meta.description,
        "",
        "### Why it matters",
        "",
        meta.rationale,
        "",
        "### Remediation",
        "",
        meta.remediation.summary,
    ]
    if meta.remediation.console:
        lines += ["", f"Console: {meta.remediation.console}"]
    if meta.remediation.cli:
        lines += ["", "AWS CLI:", "", "```sh", meta.remediation.cli, "```"]
    if meta.remediation.terraform:
        lines += ["", "Terraform:", "", "```hcl", meta.remediation.terraform, "```"]
    if meta.references:
        lines += ["", "### References", ""] + [f"- {ref}" for ref in meta.references]
    return "\n".join(lines) + "\n"


def render_rules_document(metas: Iterable[RuleMeta]) -> str:
    ordered = sorted(metas, key=lambda m: m.rule_id)
    index = "\n".join(
        f"| [{m.rule_id}](#{m.rule_id.lower()}-{m.name}) | "
        f"{'retired' if m.retired else m.severity.label} | {m.title} |"
        for m in ordered
    )
    body = "\n".join(render_rule(m) for m in ordered)
    return f"{DOCS_HEADER}| Id | Severity | Title |\n|---|---|---|\n{index}\n\n{body}"


def main() -> None:  # pragma: no cover - exercised through the docs staleness test
    from vpce_audit.rules.metadata import builtin_metadata, retired_metadata
    from vpce_audit.rules.registry import RULE_ERROR_ID, load_registry

    metas = [rule.meta for rule in load_registry(include_plugins=False)]
    metas.append(builtin_metadata(RULE_ERROR_ID))
    metas += retired_metadata()
    print(render_rules_document(metas), end="")


if __name__ == "__main__":  # pragma: no cover
    main()
