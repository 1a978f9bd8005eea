"""Human-readable report for terminals: findings grouped by severity, then what went wrong.

Every cell passes through ``safe_text.visible`` and the whole text through
``safe_text.terminal_text``: AWS-supplied text never reaches a terminal or a CI log raw.
"""

from __future__ import annotations

import textwrap

from tabulate import tabulate

from vpce_audit.findings import Severity
from vpce_audit.safe_text import terminal_text, visible
from vpce_audit.scan import ScanResult

MESSAGE_WIDTH = 90


def _wrap(text: str, width: int = MESSAGE_WIDTH) -> str:
    return "\n".join(textwrap.wrap(visible(text), width)) or visible(text)


def _cells(*values: str) -> list[str]:
    return [visible(value) for value in values]


def summary_line(result: ScanResult) -> str:
    counts = result.counts_by_severity()
    by_severity = ", ".join(
        f"{counts[s]} {s.label}" for s in sorted(Severity, reverse=True) if counts[s]
    )
    accounts = len(result.snapshot.account_ids)
    regions = len({scope.region for scope in result.snapshot.scopes})
    parts = [
        f"{len(result.findings)} finding(s)" + (f" ({by_severity})" if by_severity else ""),
        f"{len(result.rules)} rule(s)",
        f"{accounts} account(s), {regions} region(s)",
    ]
    if result.collection_errors:
        parts.append(f"{len(result.collection_errors)} collection error(s)")
    if result.skipped:
        parts.append(f"{len(result.skipped)} skipped")
    if result.suppressed:
        parts.append(f"{len(result.suppressed)} suppressed")
    if result.baseline is not None:
        parts.append(result.baseline.summary())
    verdict = "" if result.is_complete else "INCOMPLETE SCAN: "
    return verdict + "; ".join(parts)


def render(result: ScanResult) -> str:
    sections: list[str] = []
    if not result.is_complete:
        # Before anything else: what follows is partial.
        sections.append(
            "INCOMPLETE SCAN: some resources could not be collected or judged; see COLLECTION "
            "ERRORS and SKIPPED below. Nothing they cover was found clean."
        )
    for severity, group in result.findings_by_severity():
        rows = [
            [
                *_cells(f.rule_id, f.resource_id, f.account_id, f.region),
                _wrap(result.baseline_note(f) + f.message),
            ]
            for f in group
        ]
        sections.append(
            f"{severity.label.upper()} ({len(group)})\n"
            + tabulate(
                rows,
                headers=["Rule", "Resource", "Account", "Region", "Message"],
                tablefmt="simple",
            )
        )
    if not result.findings:
        sections.append("No findings." if result.is_complete else "No findings in what was seen.")
    if result.collection_errors:
        rows = [
            [
                *_cells(
                    e.account_id,
                    e.region,
                    f"{e.service}:{e.operation}",
                    e.error_code,
                    e.resource_id or e.resource_kind,
                ),
                _wrap(e.message, 60),
            ]
            for e in result.collection_errors
        ]
        sections.append(
            f"COLLECTION ERRORS ({len(rows)}): these resources were not seen; "
            "their rules are skipped, not passed\n"
            + tabulate(
                rows,
                headers=["Account", "Region", "Call", "Error", "Affects", "Message"],
                tablefmt="simple",
            )
        )
    if result.skipped:
        # One row per thing not judged; a failed call usually makes several rules skip it.
        rules_by_subject: dict[tuple[str, str, str, str], list[str]] = {}
        for skip in result.skipped:
            subject = (skip.account_id, skip.region, skip.resource_id or "", skip.reason)
            rules_by_subject.setdefault(subject, []).append(skip.rule_id)
        rows = [
            [
                *_cells(account, region, resource or "(whole region)"),
                _wrap(", ".join(rules), 24),
                _wrap(reason, 60),
            ]
            for (account, region, resource, reason), rules in sorted(rules_by_subject.items())
        ]
        sections.append(
            f"SKIPPED ({len(result.skipped)} rule evaluations): not judged, so not passed\n"
            + tabulate(
                rows,
                headers=["Account", "Region", "Resource", "Rules", "Reason"],
                tablefmt="simple",
            )
        )
    if result.compliance is not None:
        rows = [
            [
                *_cells(c.control, c.status, ", ".join(c.rules)),
                str(c.findings),
                _wrap("; ".join(c.reasons), 60),
            ]
            for c in result.compliance
        ]
        framework = result.compliance[0].framework if result.compliance else ""
        sections.append(
            f"COMPLIANCE {framework.upper()} ({len(rows)} controls)\n"
            + tabulate(
                rows, headers=["Control", "Status", "Rules", "Findings", "Why"], tablefmt="simple"
            )
        )
    if result.notices:
        sections.append("NOTICES\n" + "\n".join(f"- {_wrap(n, 100)}" for n in result.notices))
    sections.append(visible(summary_line(result)))
    return terminal_text("\n\n".join(sections)) + "\n"
