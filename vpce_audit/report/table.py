"""Human-readable report for terminals: findings grouped by severity, then what went wrong.

Every cell passes through ``safe_text.visible`` and the whole text through
``safe_text.terminal_text``: AWS-supplied text never reaches a terminal or a CI log raw.
"""

from __future__ import annotations

import re
import textwrap

from tabulate import tabulate

from vpce_audit.findings import Severity
from vpce_audit.safe_text import terminal_text, visible
from vpce_audit.scan import ScanResult

MESSAGE_WIDTH = 90
MAX_NAME = 30
"""Characters of a Name tag shown beside its resource's id."""


def _wrap(text: str, width: int = MESSAGE_WIDTH) -> str:
    # Not at hyphens: resource ids (sg-0abc, vpc-app) stay whole.
    return "\n".join(textwrap.wrap(visible(text), width, break_on_hyphens=False)) or visible(text)


def _cells(*values: str) -> list[str]:
    return [visible(value) for value in values]


def _name_tags(result: ScanResult) -> dict[str, str]:
    """Resource id -> Name tag, for the resources that carry one (VPCs, subnets, route tables,
    endpoints, security groups)."""
    names: dict[str, str] = {}
    for scope in result.snapshot.scopes:
        data = scope.data
        for resource_id, name in (
            *((v.vpc_id, v.name) for v in data.vpcs),
            *((s.subnet_id, s.name) for s in data.subnets),
            *((t.route_table_id, t.name) for t in data.route_tables),
            *((e.endpoint_id, e.name) for e in data.vpc_endpoints),
            *((g.group_id, g.name) for g in data.security_groups),
        ):
            if name:
                names[resource_id] = name
    return names


def _labelled(resource_id: str, names: dict[str, str]) -> str:
    name = names.get(resource_id)
    if not name:
        return resource_id
    return f"{resource_id} ({name if len(name) <= MAX_NAME else name[: MAX_NAME - 1] + '…'})"


def _table(rows: list[list[str]], headers: list[str], width: int | None) -> str:
    """A table; stacked when it would be wider than ``width``: each row's other cells on one
    line, its last cell (the message) wrapped and indented below them."""
    text = tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)
    if width is None or max(map(len, text.splitlines()), default=0) <= width:
        return text
    lines: list[str] = []
    for row in rows:
        *head, last = (" ".join(cell.split()) for cell in row)
        lines += textwrap.wrap(
            "  ".join(cell for cell in head if cell),
            width,
            subsequent_indent="  ",
            break_on_hyphens=False,
        ) or [""]
        lines += textwrap.wrap(
            last, width, initial_indent="    ", subsequent_indent="    ", break_on_hyphens=False
        )
    return "\n".join(lines)


SEVERITY_COLOURS = {
    Severity.CRITICAL: "\x1b[1;35m",
    Severity.HIGH: "\x1b[1;31m",
    Severity.MEDIUM: "\x1b[33m",
    Severity.LOW: "\x1b[34m",
    Severity.INFO: "\x1b[2m",
}
_RESET = "\x1b[0m"
_HEADING = re.compile(r"^(CRITICAL|HIGH|MEDIUM|LOW|INFO) \(\d+\)$", re.MULTILINE)


def _coloured(text: str) -> str:
    """Severity headings in colour. Applied to the sanitised text: every escape character in it
    is one of these (AWS-supplied ones were made visible), and a heading is a line of its own."""
    return _HEADING.sub(
        lambda m: f"{SEVERITY_COLOURS[Severity.parse(m.group(1))]}{m.group(0)}{_RESET}", text
    )


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


def render(result: ScanResult, *, width: int | None = None, colour: bool = False) -> str:
    """The report; ``width``: the terminal's columns (tables that would be wider are stacked);
    ``colour``: severity headings in colour (a terminal that wants it)."""
    sections: list[str] = []
    if not result.is_complete:
        # Before anything else: what follows is partial.
        sections.append(
            "INCOMPLETE SCAN: some resources could not be collected or judged; see COLLECTION "
            "ERRORS and SKIPPED below. Nothing they cover was found clean."
        )
    names = _name_tags(result)
    for severity, group in result.findings_by_severity():
        rows = [
            [
                *_cells(f.rule_id, _labelled(f.resource_id, names), f.account_id, f.region),
                _wrap(result.baseline_note(f) + f.message),
            ]
            for f in group
        ]
        sections.append(
            f"{severity.label.upper()} ({len(group)})\n"
            + _table(rows, ["Rule", "Resource", "Account", "Region", "Message"], width)
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
            + _table(rows, ["Account", "Region", "Call", "Error", "Affects", "Message"], width)
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
            + _table(rows, ["Account", "Region", "Resource", "Rules", "Reason"], width)
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
            + _table(rows, ["Control", "Status", "Rules", "Findings", "Why"], width)
        )
    if result.notices:
        sections.append("NOTICES\n" + "\n".join(f"- {_wrap(n, 100)}" for n in result.notices))
    sections.append(visible(summary_line(result)))
    text = terminal_text("\n\n".join(sections))
    if width is not None:  # tables fit already; long paragraphs (the summary) are wrapped
        text = "\n".join(
            wrapped
            for line in text.splitlines()
            for wrapped in (
                textwrap.wrap(line, width, subsequent_indent="  ", break_on_hyphens=False)
                if len(line) > width
                else [line]
            )
        )
    text += "\n"
    return _coloured(text) if colour else text
