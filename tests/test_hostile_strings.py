"""Attacker-controlled text through every output format.

AWS data is written by whoever controls a resource: tag values, policy conditions, error
messages. Each catalogue entry is put in every text field a report prints (message, resource id,
ARN, related resources, collection-error fields, skip reasons, notices) and every format must
show it, whole and inert: no raw control or bidi character, no workflow command at a line start,
no raw HTML, link or image in the rendered Markdown, percent-encoded SARIF URIs.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from html.parser import HTMLParser
from typing import Any

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import ACCOUNT, OTHER_ACCOUNT, REGION, document, region
from tests.sarif_checks import assert_uploadable
from vpce_audit import console
from vpce_audit.findings import Finding, Severity, Skipped
from vpce_audit.model import CollectionError
from vpce_audit.report import json_report, markdown, sarif, table
from vpce_audit.rules.registry import load_registry
from vpce_audit.safe_text import markdown as md
from vpce_audit.safe_text import uri_component, visible
from vpce_audit.scan import ScanResult
from vpce_audit.snapshot.views import Snapshot

HOSTILE = (
    "\r\r## No findings\r\r<!--",
    "<img src=https://evil.example/pixel.png>",
    '<a href="https://evil.example/login">sign in</a>',
    "<details><summary>more</summary>hidden",
    "<script>alert(1)</script>",
    "&lt;b&gt;entity&lt;/b&gt; &amp; &#60;img&#62;",
    "[sign in](https://evil.example/login) ![pixel](https://evil.example/p.png)",
    "visit https://evil.example/login or www.evil.example or ftp://evil.example",
    "| a | table | row |\n|---|---|---|",
    "`code` *emphasis* _under_ ~~strike~~ $x^2$ \\ backslash",
    "\x1b]0;window title\x07",
    "\x1b[2J\x1b[Herased",
    "\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\",
    "nul\x00 del\x7f csi\x9b bell\x07 tab\t cr\r",
    "\u202eevil\u202c \u2066isolate\u2069 zero\u200bwidth tag\U000e0041chars \u2028sep\u2029",
    "::error::pwned",
    "\n::add-mask::secret",
    "  ::set-output name=x::y",
    "##[error]pwned",
    "text\n##[group]folded",
    "javascript+mailto:alert@evil.example xmpp:attacker@evil.example mailto:a@b.example@c.example",
    "ping @org/security-team and see #123 a@b.example",
    "../../etc/passwd",
    "a b#c?d%e/f",
)

HIDDEN = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co"}


def _hidden_characters(text: str, allowed: str = "\n") -> list[str]:
    return [c for c in text if c not in allowed and unicodedata.category(c) in HIDDEN]


def _finding(index: int, hostile: str, rule_id: str) -> Finding:
    return Finding(
        rule_id=rule_id,
        severity=Severity.HIGH,
        account_id=ACCOUNT,
        region=REGION,
        resource_type="vpc-endpoint",
        resource_id=f"vpce-{index}{hostile}",
        resource_arn=f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc-endpoint/vpce-{index}{hostile}",
        message=f"Finding {index}: {hostile}",
        related_resources=(hostile,),
    )


def _error(index: int, hostile: str) -> CollectionError:
    return CollectionError(
        account_id=OTHER_ACCOUNT,
        region=REGION,
        service="ec2",
        operation="DescribeVpcEndpoints",
        error_code=f"Code{index}{hostile}",
        message=f"Message {index}: {hostile}",
        resource_kind="vpc_endpoints",
        resource_id=f"vpce-e{index}{hostile}",
    )


@pytest.fixture(scope="module")
def hostile_result() -> ScanResult:
    rules = tuple(load_registry(include_plugins=False))
    rule_id = rules[0].rule_id
    snapshot = Snapshot(
        document(
            region(ACCOUNT),
            region(OTHER_ACCOUNT, errors=[_error(i, h) for i, h in enumerate(HOSTILE)]),
        )
    )
    return ScanResult(
        tool_version="test",
        snapshot=snapshot,
        rules=rules,
        findings=tuple(_finding(i, h, rule_id) for i, h in enumerate(HOSTILE)),
        skipped=tuple(
            Skipped(rule_id, ACCOUNT, REGION, f"reason {i}: {h}", f"rtb-{i}{h}")
            for i, h in enumerate(HOSTILE)
        ),
        notices=tuple(f"notice {i}: {h}" for i, h in enumerate(HOSTILE)),
    )


def _assert_no_workflow_command(text: str) -> None:
    for line in text.split("\n"):
        assert not re.match(r"\s*::", line), line
        assert "##[" not in line, line


def test_table_shows_every_value_visibly_and_runs_no_command(hostile_result: ScanResult) -> None:
    text = table.render(hostile_result)
    assert _hidden_characters(text) == []
    _assert_no_workflow_command(text)
    assert text.startswith("INCOMPLETE SCAN")
    for index in range(len(HOSTILE)):
        assert f"Finding {index}:" in text
        assert f"notice {index}:" in text
    # The escapes say what was there: ESC, BEL and the right-to-left override.
    assert "\\u001b]0;window title\\u0007" in text
    assert "\\u202eevil\\u202c" in text


def test_stderr_lines_and_log_records_are_made_safe(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logger = logging.getLogger("hostile-strings-test")
    logger.propagate = False
    handler = logging.StreamHandler()
    handler.setFormatter(console.SafeFormatter())
    logger.addHandler(handler)
    try:
        for hostile in HOSTILE:
            console.warn(f"warned {hostile}")
            console.error(f"failed {hostile}")
            logger.warning("logged %s", hostile)
    finally:
        logger.removeHandler(handler)
    err = capsys.readouterr().err
    assert _hidden_characters(err) == []
    _assert_no_workflow_command(err)
    assert err.count("vpce-audit: warning: warned") == len(HOSTILE)
    assert err.count("vpce-audit: WARNING: logged") == len(HOSTILE)


class _RenderedHtml(HTMLParser):
    """Tags, attributes, comments and table cells of rendered Markdown."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.comments: list[str] = []
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


def _render_gfm(text: str) -> _RenderedHtml:
    # UNSAFE keeps raw HTML in the output, so any that got through would show here; GitHub
    # sanitises some of it, but a report must not depend on that.
    html = cmarkgfm.github_flavored_markdown_to_html(text, options=Options.CMARK_OPT_UNSAFE)
    parsed = _RenderedHtml()
    parsed.feed(html)
    parsed.close()
    return parsed


ALLOWED_TAGS = {"h1", "h2", "p", "strong", "em", "code", "table", "thead", "tbody", "tr"}
ALLOWED_TAGS |= {"th", "td", "ul", "li"}


def test_markdown_renders_every_row_whole_and_nothing_else(hostile_result: ScanResult) -> None:
    text = markdown.render(hostile_result)
    assert _hidden_characters(text) == []
    rendered = _render_gfm(text)
    assert rendered.comments == []
    for tag, attributes in rendered.tags:
        assert tag in ALLOWED_TAGS, (tag, attributes)
    headings = [tag for tag, _ in rendered.tags if tag == "h2"]
    assert len(headings) == 3  # collection errors, high, notices: nothing added
    # Every finding and error is one row whose cells read exactly as the value, made visible.
    cells_by_first = {row[0]: row for row in rendered.rows if row}
    finding_rows = [
        row for row in rendered.rows if row and row[0] == hostile_result.rules[0].rule_id
    ]
    assert [row[4] for row in finding_rows] == [visible(f.message) for f in hostile_result.findings]
    assert [row[1] for row in finding_rows] == [
        visible(f.resource_id) for f in hostile_result.findings
    ]
    error_rows = [row for row in rendered.rows if row and row[0] == OTHER_ACCOUNT]
    assert [row[3] for row in error_rows] == [
        visible(e.error_code) for e in hostile_result.collection_errors
    ]
    assert "Rule" in cells_by_first


@pytest.mark.parametrize("hostile", HOSTILE)
def test_one_markdown_cell_reads_as_its_value(hostile: str) -> None:
    rendered = _render_gfm(f"| a |\n|---|\n| {md(hostile)} |\n")
    assert rendered.rows[1] == [visible(hostile).strip()]  # GFM trims a cell's blanks
    assert {tag for tag, _ in rendered.tags} <= ALLOWED_TAGS


def _json_documents(hostile_result: ScanResult) -> list[tuple[str, str]]:
    return [
        ("json", json_report.render(hostile_result)),
        ("sarif", sarif.render(hostile_result)),
    ]


def test_json_and_sarif_are_ascii_and_lose_nothing(hostile_result: ScanResult) -> None:
    for name, text in _json_documents(hostile_result):
        assert text.isascii(), name
        _assert_no_workflow_command(text)
    body = json.loads(json_report.render(hostile_result))
    assert [f["message"] for f in body["findings"]] == [f.message for f in hostile_result.findings]


def _uris(document: dict[str, Any]) -> list[str]:
    return [
        location["physicalLocation"]["artifactLocation"]["uri"]
        for run in document["runs"]
        for result in run["results"]
        for location in result["locations"]
    ]


def test_sarif_uris_are_percent_encoded_segments(hostile_result: ScanResult) -> None:
    document_ = assert_uploadable(sarif.render(hostile_result))
    uris = _uris(document_)
    assert len(uris) == len(HOSTILE)
    for uri in uris:
        segments = uri.split("/")
        assert segments[:4] == ["aws", ACCOUNT, REGION, "vpc-endpoint"]
        assert len(segments) == 5, uri
        assert re.fullmatch(r"[A-Za-z0-9%._~-]+", segments[4]), uri
        assert segments[4] not in (".", "..")


@pytest.mark.parametrize(
    ("segment", "encoded"),
    [("..", "%2E%2E"), (".", "%2E"), ("", "%20"), ("a b#c?d%e/f", "a%20b%23c%3Fd%25e%2Ff")],
)
def test_uri_component(segment: str, encoded: str) -> None:
    assert uri_component(segment) == encoded


def test_a_line_break_in_a_message_cannot_forge_a_stderr_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    console.warn("DescribeVpcs failed: AccessDenied\n::error::forged")
    with pytest.raises(SystemExit):
        from vpce_audit.cli import main

        main(["scan", "--snapshot", "x", "\n::error::pwned::" + "x" * 100_000])
    err = capsys.readouterr().err
    assert err.count("\n") == 2
    assert all(len(line) <= console.MAX_LINE for line in err.splitlines())
    _assert_no_workflow_command(err)


@given(st.text(st.characters(max_codepoint=0x7F)) | st.text())
def test_visible_escapes_exactly_the_characters_that_do_not_print(text: str) -> None:
    hidden = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co"}
    expected = "".join(
        (f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}")
        if unicodedata.category(c) in hidden
        else c
        for c in text
    )
    assert visible(text) == expected
