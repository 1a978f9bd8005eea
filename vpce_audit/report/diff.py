"""``vpce-audit diff``: what changed between two scans, as a table, Markdown or JSON."""

from __future__ import annotations

from typing import Any

from tabulate import tabulate

from vpce_audit.baseline import CHANGED, FIXED, NEW, UNSEEN, Comparison, Reported
from vpce_audit.safe_text import json_dumps, terminal_text, visible
from vpce_audit.safe_text import markdown as md

_EXPLAINED = {
    NEW: "in the new scan only",
    CHANGED: "the same finding at another severity",
    FIXED: "gone, where the new scan looked",
    UNSEEN: "not seen: the new scan did not look there (region, account or rule left out, or "
    "collection failed); not fixed",
}


def _groups(comparison: Comparison) -> list[tuple[str, list[tuple[Reported, str]]]]:
    return [
        (NEW, [(f, f.severity.label) for f in comparison.new]),
        (
            CHANGED,
            [
                (now, f"{before.severity.label} -> {now.severity.label}")
                for before, now in comparison.changed
            ],
        ),
        (FIXED, [(f, f.severity.label) for f in comparison.fixed]),
        (UNSEEN, [(f, f.severity.label) for f in comparison.unseen]),
    ]


def render_table(comparison: Comparison) -> str:
    sections = []
    for state, rows in _groups(comparison):
        if not rows:
            continue
        table = tabulate(
            [
                [
                    visible(f.rule_id),
                    visible(f.resource_id),
                    f.account_id,
                    visible(f.region),
                    severity,
                    visible(f.message)[:120],
                ]
                for f, severity in rows
            ],
            headers=["Rule", "Resource", "Account", "Region", "Severity", "Message"],
            tablefmt="simple",
            disable_numparse=True,  # text from a report: "1e5" is not 100000
        )
        sections.append(f"{state.upper()} ({len(rows)}): {_EXPLAINED[state]}\n{table}")
    if not sections:
        sections.append("Nothing new, changed or gone.")
    sections.append(_summary(comparison))
    return terminal_text("\n\n".join(sections)) + "\n"


def render_markdown(comparison: Comparison) -> str:
    lines = ["# vpce-audit diff", "", f"**{md(_summary(comparison))}**", ""]
    for state, rows in _groups(comparison):
        if not rows:
            continue
        lines += [
            f"## {state.capitalize()} ({len(rows)})",
            "",
            md(_EXPLAINED[state]),
            "",
            "| Rule | Resource | Account | Region | Severity | Message |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            "| "
            + " | ".join(
                md(cell)
                for cell in (f.rule_id, f.resource_id, f.account_id, f.region, severity, f.message)
            )
            + " |"
            for f, severity in rows
        ]
        lines.append("")
    return "\n".join(lines) + "\n"


def render_json(comparison: Comparison) -> str:
    body: dict[str, Any] = {
        "counts": comparison.counts(),
        "new": [dict(f.body) for f in comparison.new],
        "changed": [
            {**dict(now.body), "severity_before": before.severity.label}
            for before, now in comparison.changed
        ],
        "fixed": [dict(f.body) for f in comparison.fixed],
        "not_seen": [dict(f.body) for f in comparison.unseen],
    }
    return json_dumps(body) + "\n"


def _summary(comparison: Comparison) -> str:
    counts = comparison.counts()
    return ", ".join(f"{n} {state}" for state, n in counts.items() if state != "unchanged") + (
        f"; {counts['unchanged']} unchanged"
    )


RENDERERS = {"table": render_table, "markdown": render_markdown, "json": render_json}
