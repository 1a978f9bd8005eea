"""HTML report (``--format html``): one self-contained file, readable offline or as a CI artifact.

The page has inline CSS, a small inline script that only filters finding rows (it reads
``data-*`` attributes and ``textContent``; it writes no markup), and inline SVG: charts of the
counts and, for the first ``PICTURES_PER_RULE`` findings of each rule, a picture drawn from the
snapshot (``report/pictures.py``). Each rule's remediation and references are written once,
after the findings, which link to them within the page. Nothing is fetched: no stylesheet,
script, font or image is referenced, reference URLs are printed as text, and a
Content-Security-Policy ``default-src 'none'`` keeps a browser from loading anything even if
something slipped through.

Every value the report did not write itself goes through ``_e`` (``safe_text.visible``, then
``html.escape`` with quotes): a tag, a name, a policy condition or an error message is shown as
text, never parsed as markup. The output is a pure function of the result: the same result
gives the same bytes.
"""

from __future__ import annotations

import html
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from vpce_audit.findings import Finding, Severity
from vpce_audit.report.pictures import has_pictures, picture_for
from vpce_audit.report.table import summary_line
from vpce_audit.rules.metadata import MetadataError, RuleMeta, builtin_metadata
from vpce_audit.safe_text import neutralise_commands, visible
from vpce_audit.scan import ScanResult

_SEVERITY_COLOURS = {
    Severity.CRITICAL: "#7b1fa2",
    Severity.HIGH: "#c62828",
    Severity.MEDIUM: "#ef6c00",
    Severity.LOW: "#1565c0",
    Severity.INFO: "#607d8b",
}

_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "img-src 'none'; base-uri 'none'; form-action 'none'"
)

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1200px;
padding:1rem 2rem;color:#1b1b1b;background:#fff;line-height:1.4}
h1{font-size:1.6rem}h2{font-size:1.25rem;border-bottom:1px solid #ddd;padding-bottom:.2rem;
margin-top:2rem}
code,pre,.mono{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;font-size:.85rem}
pre{background:#f6f8fa;padding:.6rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ddd;padding:.25rem .5rem;
text-align:left;vertical-align:top}th{background:#f6f8fa}
.verdict{padding:.6rem 1rem;border-radius:4px;font-weight:600}
.verdict.incomplete{background:#fff3e0;border:1px solid #ef6c00}
.verdict.complete{background:#e8f5e9;border:1px solid #2e7d32}
.charts{display:flex;flex-wrap:wrap;gap:2rem}.chart text{font-size:12px}
.sev{display:inline-block;color:#fff;border-radius:3px;padding:0 .4rem;font-size:.8rem;
font-weight:600;text-transform:uppercase}
.sev-critical{background:#7b1fa2}.sev-high{background:#c62828}.sev-medium{background:#ef6c00}
.sev-low{background:#1565c0}.sev-info{background:#607d8b}
.filters{position:sticky;top:0;background:#fff;padding:.5rem 0;border-bottom:1px solid #ddd;
display:flex;flex-wrap:wrap;gap:.6rem;align-items:center;z-index:1}
.finding,.rule{border:1px solid #ddd;border-radius:6px;margin:.8rem 0;padding:.6rem 1rem}
.finding>header{display:flex;gap:.6rem;align-items:baseline;flex-wrap:wrap}
.finding h3,.rule h3{font-size:1rem;margin:0}.message{margin:.4rem 0}
.meta{color:#555;font-size:.85rem}
details{margin:.3rem 0}summary{cursor:pointer;font-weight:600}
.picture{display:block;max-width:100%;height:auto;margin:.5rem 0;font-family:ui-monospace,Menlo,
Consolas,monospace;font-size:12px}
.picture .heading{font-weight:600;fill:#555}
.picture .node rect{fill:#f6f8fa;stroke:#888}
.picture .node.table rect,.picture .node.endpoint rect{fill:#e3f2fd;stroke:#1565c0}
.picture .node.vpc>rect{fill:none;stroke:#bbb;stroke-dasharray:4 3}
.picture .node.win rect,.picture .edge.win line{stroke:#c62828;stroke-width:2}
.picture .edge.win polygon,.picture .legend.win rect{fill:#c62828}
.picture .node.lost rect,.picture .edge.lost line{stroke:#2e7d32;stroke-dasharray:5 3}
.picture .edge.lost polygon,.picture .legend.lost rect{fill:#2e7d32}
.picture .node.missing rect,.picture .node.broken rect,.picture .node.flagged rect{
stroke:#c62828;stroke-width:2;stroke-dasharray:5 3;fill:#ffebee}
.picture .legend.missing rect,.picture .legend.broken rect{fill:#ffebee;stroke:#c62828}
.picture .edge line{stroke:#666}.picture .edge polygon{fill:#666}
.picture .edge.broken line{stroke:#c62828;stroke-dasharray:4 3}
.picture .edge.broken polygon{fill:#c62828}
.picture .edge text,.picture .note{fill:#555;font-size:11px}
.picture .block rect{fill:#90caf9;stroke:#1565c0}
.picture .block.external rect{fill:#ffe082;stroke:#ef6c00}
.picture .overlap,.picture .legend.overlap rect{fill:#ffcdd2;stroke:#c62828}
.picture .axis{stroke:#555}
.picture .zone>rect{fill:#fafafa;stroke:#888}
.picture .zone.empty>rect{fill:#ffebee;stroke:#c62828;stroke-dasharray:5 3}
.picture .warn{fill:#c62828;font-weight:600}
.picture .node.interface rect,.picture .legend.interface rect{fill:#c8e6c9;stroke:#2e7d32}
.picture .legend.empty rect{fill:#ffebee;stroke:#c62828}
.hidden{display:none}
@media print{.filters{display:none}details{display:block}}
"""

# Filters only: reads data-* attributes and textContent, writes only classes and one count.
_SCRIPT = """
(function(){
"use strict";
var form=document.getElementById("filters");
if(!form){return;}
var rows=document.querySelectorAll("article.finding");
var shown=document.getElementById("shown-count");
function apply(){
  var sev=form.elements["severity"].value, rule=form.elements["rule"].value,
      acct=form.elements["account"].value, reg=form.elements["region"].value,
      text=form.elements["text"].value.toLowerCase(), n=0;
  for(var i=0;i<rows.length;i++){
    var r=rows[i], d=r.dataset;
    var ok=(!sev||d.severity===sev)&&(!rule||d.rule===rule)&&(!acct||d.account===acct)&&
           (!reg||d.region===reg)&&(!text||r.textContent.toLowerCase().indexOf(text)>=0);
    r.classList.toggle("hidden",!ok); if(ok){n++;}
  }
  shown.textContent=String(n);
}
form.addEventListener("input",apply);form.addEventListener("change",apply);
form.addEventListener("submit",function(e){e.preventDefault();});
apply();
})();
"""


def _lines(text: str) -> str:
    """A text of several lines for a ``<pre>``: ``_e`` of each line, the line breaks kept (as
    ``_e`` alone, a snippet of Terraform read as one line with "\\u000a" between its lines)."""
    return "\n".join(_e(line) for line in text.split("\n"))


def _e(value: object) -> str:
    """Any value, every character visible, every markup character escaped, and GitHub's log
    commands broken up by a character reference (a browser shows the text unchanged; a CI log
    that prints the file runs none of them)."""
    return neutralise_commands(
        html.escape(visible(str(value)), quote=True), colon="&#58;", hash_="&#35;"
    )


def _meta_by_rule(result: ScanResult) -> dict[str, RuleMeta]:
    metas = {rule.rule_id: rule.meta for rule in result.rules}
    for finding in (*result.findings, *(s.finding for s in result.suppressed)):
        if finding.rule_id not in metas:
            try:
                metas[finding.rule_id] = builtin_metadata(finding.rule_id)
            except MetadataError:
                continue
    return metas


# -- charts -----------------------------------------------------------------------------------


def _bar_chart(title: str, rows: Sequence[tuple[str, int, str]]) -> str:
    """A horizontal bar chart; rows are (label, count, colour)."""
    if not rows:
        return ""
    label_w = max(80, max(len(label) for label, _, _ in rows) * 7 + 10)
    bar_w = 220
    top = max(count for _, count, _ in rows) or 1
    height = 24 + len(rows) * 20
    parts = [
        f'<svg class="chart" role="img" width="{label_w + bar_w + 50}" height="{height}"'
        f' viewBox="0 0 {label_w + bar_w + 50} {height}"><title>{_e(title)}</title>',
        f'<text x="0" y="14" font-weight="600">{_e(title)}</text>',
    ]
    for index, (label, count, colour) in enumerate(rows):
        y = 22 + index * 20
        width = count * bar_w // top
        parts.append(
            f'<g><text x="0" y="{y + 12}">{_e(label)}</text>'
            f'<rect x="{label_w}" y="{y + 2}" width="{max(width, 1)}" height="14"'
            f' fill="{colour}"/>'
            f'<text x="{label_w + width + 6}" y="{y + 13}">{count}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


CHART_ROWS = 30
"""Bars of one chart at most: an organisation has thousands of account-regions, and a bar each
made a picture taller than any screen. The rest are summed into one bar, named as such."""


def _largest(counts: Counter[str], what: str) -> list[tuple[str, int]]:
    """Rows of a chart by label; past CHART_ROWS, the largest counts and one row for the rest."""
    if len(counts) <= CHART_ROWS:
        return sorted(counts.items())
    kept = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[: CHART_ROWS - 1]
    rest = len(counts) - len(kept)
    others = sum(counts.values()) - sum(count for _, count in kept)
    return [*kept, (f"{rest} other {what}", others)]


def _charts(result: ScanResult) -> str:
    counts = result.counts_by_severity()
    by_severity = [
        (s.label, counts[s], _SEVERITY_COLOURS[s]) for s in sorted(Severity, reverse=True)
    ]
    by_rule = _largest(Counter(f.rule_id for f in result.findings), "rules")
    by_scope = _largest(
        Counter(f"{f.account_id} / {f.region}" for f in result.findings), "account-regions"
    )
    return (
        '<div class="charts">'
        + _bar_chart("Findings by severity", by_severity)
        + _bar_chart("Findings by rule", [(k, v, "#546e7a") for k, v in by_rule])
        + _bar_chart("Findings by account / region", [(k, v, "#546e7a") for k, v in by_scope])
        + "</div>"
    )


# -- sections ---------------------------------------------------------------------------------


def _table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _scope_section(result: ScanResult) -> str:
    document = result.snapshot.document
    rows = [
        (s.account_id, s.region, s.data.collected_at, len(s.data.vpcs), len(s.data.vpc_endpoints))
        for s in result.snapshot.scopes
    ]
    out_of_scope = [
        (r.account_id, r.region, r.out_of_scope or "") for r in result.snapshot.out_of_scope
    ]
    parts = [
        '<section id="scope"><h2>Scan scope</h2>',
        f"<p>Snapshot created {_e(document.created_at)} by vpce-audit "
        f"{_e(document.tool_version)}; report by vpce-audit {_e(result.tool_version)}. "
        f"{len(result.snapshot.account_ids)} account(s), {len(result.rules)} rule(s): "
        f'<span class="mono">{_e(", ".join(r.rule_id for r in result.rules))}</span>.</p>',
        _table(("Account", "Region", "Collected at", "VPCs", "Endpoints"), rows),
    ]
    if out_of_scope:
        parts.append("<p>Out of scope (not collected or judged):</p>")
        parts.append(_table(("Account", "Region", "Why"), out_of_scope))
    parts.append("</section>")
    return "".join(parts)


def _completeness_section(result: ScanResult) -> str:
    parts = ['<section id="completeness"><h2>Completeness</h2>']
    if result.is_complete and not result.skipped:
        parts.append("<p>Every resource was collected and judged.</p>")
    if result.collection_errors:
        causes: dict[tuple[str, str], list[str]] = defaultdict(list)
        for error in result.collection_errors:
            key = (error.error_code, f"{error.service}:{error.operation}")
            causes[key].append(
                f"{error.account_id}/{error.region} "
                f"{error.resource_id or error.resource_kind}: {error.message}"
            )
        parts.append(
            f"<h3>Collection errors ({len(result.collection_errors)})</h3>"
            "<p>These resources were not seen; their rules are skipped, not passed.</p>"
        )
        for (code, call), items in sorted(causes.items()):
            parts.append(
                f"<details open><summary><code>{_e(code)}</code> from <code>{_e(call)}</code>"
                f" ({len(items)})</summary><ul>"
                + "".join(f"<li>{_e(item)}</li>" for item in items)
                + "</ul></details>"
            )
    if result.skipped:
        reasons: dict[str, list[str]] = defaultdict(list)
        for skip in sorted(result.skipped, key=lambda s: s.sort_key):
            reasons[skip.reason].append(
                f"{skip.rule_id} {skip.account_id}/{skip.region} "
                f"{skip.resource_id or '(whole region)'}"
            )
        parts.append(
            f"<h3>Skipped ({len(result.skipped)} rule evaluations)</h3>"
            "<p>Not judged, so not passed.</p>"
        )
        for reason, items in sorted(reasons.items()):
            parts.append(
                f"<details><summary>{_e(reason)} ({len(items)})</summary><ul>"
                + "".join(f"<li>{_e(item)}</li>" for item in items)
                + "</ul></details>"
            )
    if result.rule_errors:
        parts.append(
            f"<p>{len(result.rule_errors)} rule error(s) are listed with the findings.</p>"
        )
    parts.append("</section>")
    return "".join(parts)


def _suppressions_section(result: ScanResult) -> str:
    if not result.suppressed:
        return '<section id="suppressions"><h2>Suppressions</h2><p>None.</p></section>'
    rows = [
        (
            s.finding.rule_id,
            s.finding.resource_id,
            f"{s.finding.account_id}/{s.finding.region}",
            s.reason,
            s.expires.isoformat() if s.expires else "never",
        )
        for s in result.suppressed
    ]
    return (
        f'<section id="suppressions"><h2>Suppressions ({len(rows)})</h2>'
        + _table(("Rule", "Resource", "Scope", "Reason", "Expires"), rows)
        + "</section>"
    )


def _notices_section(result: ScanResult) -> str:
    if not result.notices:
        return ""
    return (
        '<section id="notices"><h2>Notices</h2><ul>'
        + "".join(f"<li>{_e(n)}</li>" for n in result.notices)
        + "</ul></section>"
    )


def _options(name: str, label: str, values: Iterable[str]) -> str:
    options = "".join(f'<option value="{_e(v)}">{_e(v)}</option>' for v in values)
    return (
        f'<label>{_e(label)} <select name="{name}"><option value="">all</option>'
        f"{options}</select></label>"
    )


def _filters(result: ScanResult) -> str:
    findings = result.findings
    severities = [s.label for s in sorted(Severity, reverse=True)]
    return (
        '<form id="filters" class="filters" autocomplete="off">'
        + _options("severity", "Severity", severities)
        + _options("rule", "Rule", sorted({f.rule_id for f in findings}))
        + _options("account", "Account", sorted({f.account_id for f in findings}))
        + _options("region", "Region", sorted({f.region for f in findings}))
        + '<label>Text <input type="search" name="text"></label>'
        + f'<span><span id="shown-count">{len(findings)}</span> of {len(findings)} shown</span>'
        + "</form>"
    )


PICTURES_PER_RULE = 100
"""Findings of one rule drawn as a picture at most (the first, in the report's order). A
picture is 2 KB of SVG: at a picture per finding, an organisation's 177,000 findings made a page
of 216 MB of pictures alone, which no browser opens. The findings past it are all listed, with
their messages and resources; the section says how many have no picture."""


def _rule_anchor(rule_id: str) -> str:
    return f"rule-{_e(rule_id)}"


def _rule_article(rule_id: str, meta: RuleMeta) -> str:
    """A rule's remediation and references, once per report: every finding of the rule links
    here (they were repeated in each finding, 3 KB apiece)."""
    remedy = meta.remediation
    parts = [
        f'<section class="rule" id="{_rule_anchor(rule_id)}"><h3>{_e(rule_id)}: '
        f"{_e(meta.title)}</h3><h4>Remediation</h4><p>{_e(remedy.summary)}</p>"
    ]
    for label, text in (
        ("Console", remedy.console),
        ("CLI", remedy.cli),
        ("Terraform", remedy.terraform),
    ):
        if text:
            parts.append(f"<h4>{label}</h4><pre>{_lines(text)}</pre>")
    if meta.references:
        # Printed, not linked: the report loads nothing and links nowhere outside itself.
        parts.append(
            "<h4>References</h4><ul>"
            + "".join(f"<li><code>{_e(ref)}</code></li>" for ref in meta.references)
            + "</ul>"
        )
    parts.append("</section>")
    return "".join(parts)


def _rules_section(result: ScanResult, metas: dict[str, RuleMeta]) -> str:
    found = sorted({f.rule_id for f in result.findings} & metas.keys())
    if not found:
        return ""
    return (
        '<section id="rules"><h2>Remediation and references</h2>'
        + "".join(_rule_article(rule_id, metas[rule_id]) for rule_id in found)
        + "</section>"
    )


def _finding(
    result: ScanResult, finding: Finding, meta: RuleMeta | None, pictured: bool, index: int
) -> str:
    severity = finding.severity.label
    title = meta.title if meta else finding.rule_id
    related = (
        '<p class="meta">Related: '
        + ", ".join(f"<code>{_e(r)}</code>" for r in finding.related_resources)
        + "</p>"
        if finding.related_resources
        else ""
    )
    picture = (picture_for(result.snapshot, finding) or "") if pictured else ""
    remedy = (
        f'<p class="meta">Remediation and references: <a href="#{_rule_anchor(finding.rule_id)}">'
        f"{_e(finding.rule_id)}</a></p>"
        if meta
        else ""
    )
    return (
        f'<article class="finding" id="finding-{index}" data-severity="{_e(severity)}"'
        f' data-rule="{_e(finding.rule_id)}" data-account="{_e(finding.account_id)}"'
        f' data-region="{_e(finding.region)}" data-fingerprint="{_e(finding.fingerprint)}">'
        f'<header><span class="sev sev-{_e(severity)}">{_e(severity)}</span>'
        f"<h3>{_e(finding.rule_id)}: {_e(title)}</h3></header>"
        f'<p class="message">{_e(result.baseline_note(finding) + finding.message)}</p>'
        f'<p class="meta">{_e(finding.resource_type)} <code>{_e(finding.resource_id)}</code>'
        f" in {_e(finding.account_id)} / {_e(finding.region)}"
        + (f" · <code>{_e(finding.resource_arn)}</code>" if finding.resource_arn else "")
        + "</p>"
        + related
        + picture
        + remedy
        + "</article>"
    )


def _findings_section(result: ScanResult, metas: dict[str, RuleMeta]) -> str:
    if not result.findings:
        verdict = "No findings." if result.is_complete else "No findings in what was seen."
        return f'<section id="findings"><h2>Findings</h2><p>{verdict}</p></section>'
    ordered = [f for _, group in result.findings_by_severity() for f in group]
    drawn: Counter[str] = Counter()
    articles = []
    for index, finding in enumerate(ordered):
        pictured = has_pictures(finding.rule_id)
        if pictured:
            drawn[finding.rule_id] += 1
            pictured = drawn[finding.rule_id] <= PICTURES_PER_RULE
        articles.append(_finding(result, finding, metas.get(finding.rule_id), pictured, index))
    beyond = {
        rule: count - PICTURES_PER_RULE
        for rule, count in sorted(drawn.items())
        if count > PICTURES_PER_RULE
    }
    note = (
        f"<p>Pictures are drawn for the first {PICTURES_PER_RULE:,} findings of each rule; "
        + ", ".join(f"{count:,} of {_e(rule)}" for rule, count in beyond.items())
        + " have none (each is listed in full below, and in every other format).</p>"
        if beyond
        else ""
    )
    return (
        f'<section id="findings"><h2>Findings ({len(ordered)})</h2>'
        + note
        + _filters(result)
        + "".join(articles)
        + "</section>"
    )


def render(result: ScanResult) -> str:
    metas = _meta_by_rule(result)
    complete = result.is_complete
    verdict_class = "complete" if complete else "incomplete"
    verdict = (
        "Complete scan."
        if complete
        else "INCOMPLETE SCAN: some resources could not be collected or judged; see "
        "Completeness. Nothing they cover was found clean."
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        "<title>vpce-audit report</title>"
        f"<style>{_CSS}</style></head><body>"
        "<h1>vpce-audit report</h1>"
        f'<p class="verdict {verdict_class}">{_e(verdict)}</p>'
        f"<p><strong>{_e(summary_line(result))}</strong></p>"
        + _charts(result)
        + _scope_section(result)
        + _completeness_section(result)
        + _suppressions_section(result)
        + _notices_section(result)
        + _findings_section(result, metas)
        + _rules_section(result, metas)
        + f"<script>{_SCRIPT}</script>"
        "</body></html>\n"
    )
