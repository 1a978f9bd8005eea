"""Markdown report, e.g. for a CI job summary ($GITHUB_STEP_SUMMARY) or a pull-request comment.

Every value the report did not write itself goes through ``safe_text.markdown``: a tag or a
policy condition cannot end the table, add a heading, hide the rest of the report in an HTML
comment, or render an image or a link when GitHub shows the summary.

GitHub refuses a job summary over 1 MiB and a comment over 65,536 characters, so the report has
a size limit (``max_bytes``, UTF-8 bytes, which are never fewer than characters). When the rows
do not fit, each table keeps its first rows and says how many it leaves out; the headline counts
and every section heading stay, so the totals are always right.
"""

from __future__ import annotations

from dataclasses import dataclass

from vpce_audit.report.table import summary_line
from vpce_audit.safe_text import markdown as md
from vpce_audit.scan import ScanResult

JOB_SUMMARY_LIMIT = 1024 * 1024
COMMENT_LIMIT = 65_536
# Room kept for a section's "… N more rows not shown" line.
_OMISSION_NOTE_ROOM = 160


@dataclass(frozen=True)
class _Section:
    head: tuple[str, ...]
    rows: tuple[str, ...]


def _row(*cells: str) -> str:
    return "| " + " | ".join(md(cell) for cell in cells) + " |"


def _sections(result: ScanResult) -> list[_Section]:
    sections: list[_Section] = []
    if result.collection_errors:
        # First: a reader must know what was not seen before reading what was found.
        sections.append(
            _Section(
                head=(
                    f"## Collection errors ({len(result.collection_errors)})",
                    "",
                    "These resources were not seen; their rules are skipped, not passed.",
                    "",
                    "| Account | Region | Call | Error | Affects |",
                    "|---|---|---|---|---|",
                ),
                rows=tuple(
                    _row(
                        e.account_id,
                        e.region,
                        f"{e.service}:{e.operation}",
                        e.error_code,
                        e.resource_id or e.resource_kind,
                    )
                    for e in result.collection_errors
                ),
            )
        )
    for severity, group in result.findings_by_severity():
        sections.append(
            _Section(
                head=(
                    f"## {severity.label.capitalize()} ({len(group)})",
                    "",
                    "| Rule | Resource | Account | Region | Message |",
                    "|---|---|---|---|---|",
                ),
                rows=tuple(
                    _row(
                        f.rule_id,
                        f.resource_id,
                        f.account_id,
                        f.region,
                        result.baseline_note(f) + f.message,
                    )
                    for f in group
                ),
            )
        )
    if result.compliance is not None:
        framework = result.compliance[0].framework if result.compliance else ""
        sections.append(
            _Section(
                head=(
                    f"## Compliance: {md(framework)} ({len(result.compliance)} controls)",
                    "",
                    "| Control | Status | Rules | Findings | Why |",
                    "|---|---|---|---|---|",
                ),
                rows=tuple(
                    _row(
                        c.control,
                        c.status,
                        ", ".join(c.rules),
                        str(c.findings),
                        "; ".join(c.reasons),
                    )
                    for c in result.compliance
                ),
            )
        )
    if result.notices:
        sections.append(
            _Section(head=("## Notices", ""), rows=tuple(f"- {md(n)}" for n in result.notices))
        )
    return sections


def _size(lines: list[str]) -> int:
    return sum(len(line.encode("utf-8")) + 1 for line in lines)


def render(result: ScanResult, max_bytes: int = JOB_SUMMARY_LIMIT) -> str:
    top = ["# vpce-audit report", "", f"**{summary_line(result)}**", ""]
    sections = _sections(result)
    fixed = _size(top) + sum(_size([*s.head, ""]) + _OMISSION_NOTE_ROOM for s in sections)
    budget = max_bytes - fixed
    lines = list(top)
    for section in sections:
        lines += section.head
        shown = 0
        for row in section.rows:
            cost = len(row.encode("utf-8")) + 1
            if cost > budget:
                break
            budget -= cost
            lines.append(row)
            shown += 1
        if shown < len(section.rows):
            budget = 0  # later sections show no rows either: the order of importance holds
            lines += [
                "",
                f"*… {len(section.rows) - shown} more not shown: the report is limited to "
                f"{max_bytes:,} bytes. The JSON report (`--format json`) has every row.*",
            ]
        lines.append("")
    return "\n".join(lines)
