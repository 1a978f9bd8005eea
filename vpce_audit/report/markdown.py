"""Markdown report, e.g. for a CI job summary ($GITHUB_STEP_SUMMARY) or a pull-request comment."""

from __future__ import annotations

from vpce_audit.report.table import summary_line
from vpce_audit.scan import ScanResult


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(result: ScanResult) -> str:
    lines = ["# vpce-audit report", "", f"**{_cell(summary_line(result))}**", ""]
    for severity, group in result.findings_by_severity():
        lines += [
            f"## {severity.label.capitalize()} ({len(group)})",
            "",
            "| Rule | Resource | Account | Region | Message |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {f.rule_id} | `{f.resource_id}` | {f.account_id} | {f.region} "
            f"| {_cell(f.message)} |"
            for f in group
        ]
        lines.append("")
    if result.collection_errors:
        lines += [
            f"## Collection errors ({len(result.collection_errors)})",
            "",
            "These resources were not seen; their rules are skipped, not passed.",
            "",
            "| Account | Region | Call | Error | Affects |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {e.account_id} | {e.region} | {e.service}:{e.operation} | {e.error_code} "
            f"| {_cell(e.resource_id or e.resource_kind)} |"
            for e in result.collection_errors
        ]
        lines.append("")
    if result.notices:
        lines += ["## Notices", ""] + [f"- {_cell(n)}" for n in result.notices] + [""]
    return "\n".join(lines)
