"""HTML report: well-formed, self-contained, inert for hostile strings, deterministic, pictured.

The page is parsed with html5lib when it is installed (a strict HTML5 parser that reports parse
errors), else with a strict subclass of the standard library's ``html.parser`` that records
unbalanced tags, unknown entities and raw control characters.
"""

from __future__ import annotations

import datetime
import html
import re
from collections import Counter
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest

from tests.helpers import ACCOUNT, OTHER_ACCOUNT, REGION, document, region, route, subnet, table
from tests.test_hostile_strings import HOSTILE, _error, _finding
from tests.test_reports import golden_result
from vpce_audit.collect.runner import ClientFactory, CollectionRequest, collect
from vpce_audit.demo.estate import DEMO_CONFIG, DEMO_REGIONS, demo_estate
from vpce_audit.findings import Finding, Severity, Skipped
from vpce_audit.model import Vpc
from vpce_audit.report import html as html_report
from vpce_audit.report.pictures import has_pictures, picture_for
from vpce_audit.rules.registry import load_registry
from vpce_audit.safe_text import visible
from vpce_audit.scan import ScanResult, SuppressedFinding, run_scan, select_rules, settings_from
from vpce_audit.snapshot.views import Snapshot

VOID = {
    "meta",
    "input",
    "br",
    "hr",
    "img",
    "link",
    "area",
    "base",
    "col",
    "embed",
    "source",
    "track",
    "wbr",
}
SVG_SELF_CLOSING = {"rect", "line", "polygon", "path", "circle"}
PICTURED_FAMILIES = ("VPCE30", "VPCE4", "VPCE5")


class StrictHtml(HTMLParser):
    """Elements, attributes, scripts and styles of a page, and anything malformed in it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.errors: list[str] = []
        self.stack: list[str] = []
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.text: list[str] = []
        self.doctype = False

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl.lower() == "doctype html"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = [name for name, _ in attrs]
        if len(names) != len(set(names)):
            self.errors.append(f"duplicate attribute in <{tag}>")
        self.elements.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        if tag not in VOID and tag not in SVG_SELF_CLOSING:
            self.errors.append(f"self-closed <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] == "script":
            self.scripts.append(data)
        elif self.stack and self.stack[-1] == "style":
            self.styles.append(data)
        else:
            self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.errors.append(f"comment <!--{data[:40]}-->")

    def unknown_decl(self, data: str) -> None:
        self.errors.append(f"unknown declaration {data[:40]}")


def parse(page: str) -> StrictHtml:
    try:
        import html5lib  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        pass
    else:
        parser = html5lib.HTMLParser(strict=True)
        parser.parse(page)  # raises ParseError on the first parse error
    hidden = [c for c in page if c not in "\n" and (ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0)]
    assert hidden == [], hidden[:5]
    # Outside the (one, final) script, an ampersand starts a reference the page wrote itself.
    markup = page.rsplit("<script>", 1)[0]
    assert not re.search(r"&(?!(?:amp|lt|gt|quot|#x27|#\d+);)", markup), "unescaped &"
    parsed = StrictHtml()
    parsed.feed(page)
    parsed.close()
    assert parsed.doctype
    assert parsed.errors == []
    assert parsed.stack == []
    return parsed


EXTERNAL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:|//|\\\\)", re.IGNORECASE)


def assert_self_contained(page: str, parsed: StrictHtml) -> None:
    ids = {a["id"] for _, a in parsed.elements if a.get("id")}
    for tag, attributes in parsed.elements:
        assert tag not in {"link", "img", "iframe", "object", "embed", "base", "image", "use"}, tag
        for name, value in attributes.items():
            assert not name.startswith("on"), (tag, name)  # no inline event handler
            if tag == "a" and name == "href" and value and value.startswith("#"):
                # Within the page only: a fragment that names one of its elements.
                assert value[1:] in ids, value
                continue
            if name in {
                "src",
                "href",
                "xlink:href",
                "action",
                "formaction",
                "srcset",
                "data",
                "poster",
                "background",
            }:
                pytest.fail(f"<{tag} {name}={value!r}> would load or link")
            if name == "style" or (value and "url(" in value.lower()):
                pytest.fail(f"<{tag} {name}={value!r}>")
    for style in parsed.styles:
        assert "@import" not in style and "url(" not in style.lower()
    for script in parsed.scripts:
        for banned in ("fetch(", "XMLHttpRequest", "import(", "innerHTML", "eval(", "src", "http"):
            assert banned not in script, banned
    assert "http://" not in "".join(parsed.scripts + parsed.styles)
    meta = [a for t, a in parsed.elements if t == "meta" and a.get("http-equiv")]
    assert meta and "default-src 'none'" in (meta[0].get("content") or "")
    # Inside tags (escaped text has no "<"): no src or href to an http(s) or protocol-relative URL.
    # Attribute values are double-quoted with every quote inside escaped: dropped, what is left
    # is the attribute names, where a src or href would show.
    for tag_text in re.findall(r"<[^>]*>", page.rsplit("<script>", 1)[0]):
        # An <a> of the page's own links to its own fragments, '<a href="#...">', is allowed.
        own_link = re.fullmatch(r'<a href="#[^"]*">', tag_text)
        names = re.sub(r'"[^"]*"', '""', tag_text)
        assert own_link or not re.search(
            r"\s(?:src|href|srcset|action)\s*=", names, re.IGNORECASE
        ), tag_text


def resources_of(svg: str) -> set[str]:
    """The data-resource values of one picture, unescaped."""
    parsed = StrictHtml()
    parsed.feed(svg)
    parsed.close()
    return {a["data-resource"] or "" for _, a in parsed.elements if "data-resource" in a}


def pictures_in(parsed: StrictHtml) -> int:
    return sum(1 for tag, _ in parsed.elements if tag == "svg" and "picture" in str(_.get("class")))


# -- the golden estate ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def golden() -> ScanResult:
    return golden_result()


def test_golden_report_parses_and_loads_nothing(golden: ScanResult) -> None:
    page = html_report.render(golden)
    parsed = parse(page)
    assert_self_contained(page, parsed)
    articles = [a for t, a in parsed.elements if t == "article"]
    assert len(articles) == len(golden.findings)
    assert {a["data-rule"] for a in articles} == {f.rule_id for f in golden.findings}
    assert "INCOMPLETE SCAN" in page  # the golden estate has a collection error
    assert "DescribeVpcEndpoints" in page


def test_the_report_is_deterministic(golden: ScanResult) -> None:
    assert html_report.render(golden) == html_report.render(golden_result())


def _assert_pictured(result: ScanResult) -> int:
    pictured = 0
    for finding in result.findings:
        if not finding.rule_id.startswith(PICTURED_FAMILIES):
            continue
        svg = picture_for(result.snapshot, finding)
        assert svg is not None, (finding.rule_id, finding.resource_id)
        drawn = resources_of(svg)
        assert visible(finding.resource_id) in drawn, (finding.rule_id, drawn)
        pictured += 1
    return pictured


def test_golden_pictures_hold_the_resources_they_picture(golden: ScanResult) -> None:
    assert _assert_pictured(golden) >= 6
    for finding in golden.findings:
        svg = picture_for(golden.snapshot, finding)
        if finding.rule_id.startswith("VPCE4") and svg:
            drawn = resources_of(svg)
            # The routing picture draws the subnets and the targets the finding names.
            named = {r for r in finding.related_resources if r.startswith(("subnet-", "nat-"))}
            assert named <= drawn, (finding.rule_id, named - drawn)


# -- the demo ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo() -> Iterator[ScanResult]:
    with pytest.MonkeyPatch.context() as patch:
        for key in ("AWS_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
            patch.delenv(key, raising=False)
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            patch.setenv(key, "testing")
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        patch.setenv("AWS_CONFIG_FILE", "/nonexistent/vpce-audit-test-config")
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/vpce-audit-test-credentials")
        with demo_estate() as (session, _):
            snapshot = collect(ClientFactory(session), CollectionRequest(regions=DEMO_REGIONS))
    rules = select_rules(load_registry(include_plugins=False), DEMO_CONFIG)
    yield run_scan(snapshot, rules, settings_from(DEMO_CONFIG))


def test_demo_report_parses_loads_nothing_and_pictures_every_family(demo: ScanResult) -> None:
    page = html_report.render(demo)
    parsed = parse(page)
    assert_self_contained(page, parsed)
    assert len([t for t, _ in parsed.elements if t == "article"]) == len(demo.findings)
    # Routing, address space and placement: every finding pictured, with its own resource.
    assert _assert_pictured(demo) >= 20
    # DNS pictures where the snapshot has the VPC.
    dns = [f for f in demo.findings if f.rule_id.startswith("VPCE2")]
    assert dns
    for finding in dns:
        svg = picture_for(demo.snapshot, finding)
        assert svg is not None and visible(finding.resource_id) in resources_of(svg)
    assert pictures_in(parsed) >= _assert_pictured(demo) + len(dns)
    assert html_report.render(demo) == page


def test_routing_picture_marks_the_winning_route_and_the_beaten_prefix_list_route(
    demo: ScanResult,
) -> None:
    # VPCE401: the NAT route wins; the endpoint the table is not associated with has no route.
    finding = next(
        f
        for f in demo.findings
        if f.rule_id == "VPCE401" and any(r.startswith("vpce-") for r in f.related_resources)
    )
    svg = picture_for(demo.snapshot, finding)
    assert svg is not None
    nat = next(r for r in finding.related_resources if r.startswith("nat-"))
    endpoint = next(r for r in finding.related_resources if r.startswith("vpce-"))
    assert f'class="node target win" data-resource="{nat}"' in svg
    assert f'class="node target missing" data-resource="{endpoint}"' in svg
    # VPCE404: a more specific route wins over the gateway endpoint's prefix-list route.
    finding = next(f for f in demo.findings if f.rule_id == "VPCE404")
    svg = picture_for(demo.snapshot, finding)
    assert svg is not None
    assert 'class="edge win"' in svg and 'class="edge lost"' in svg


def test_address_picture_draws_both_overlapping_vpcs(demo: ScanResult) -> None:
    finding = next(f for f in demo.findings if f.rule_id == "VPCE502")
    svg = picture_for(demo.snapshot, finding)
    assert svg is not None
    assert {finding.resource_id, *finding.related_resources} <= resources_of(svg)
    assert 'class="overlap"' in svg


def test_placement_picture_flags_the_zone_without_an_interface(demo: ScanResult) -> None:
    finding = next(f for f in demo.findings if f.rule_id == "VPCE305")
    svg = picture_for(demo.snapshot, finding)
    assert svg is not None and 'class="zone empty"' in svg


# -- hostile strings --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_result() -> ScanResult:
    """The catalogue in every text field: messages, resource ids, related resources, a VPC's
    Name tag and id, route-table ids, collection errors, skip reasons, notices, suppressions."""
    rules = tuple(load_registry(include_plugins=False))
    rule_id = rules[0].rule_id
    vpcs = [
        Vpc(vpc_id=f"vpc-{i}{h}", owner_id=ACCOUNT, cidr_blocks=("10.0.0.0/16",), name=h)
        for i, h in enumerate(HOSTILE)
    ]
    tables = [
        table(
            f"rtb-{i}{h}",
            f"vpc-{i}{h}",
            route("0.0.0.0/0", f"nat-{i}{h}"),
            subnets=(f"subnet-{i}{h}",),
        )
        for i, h in enumerate(HOSTILE)
    ]
    subnets = [subnet(f"subnet-{i}{h}", f"vpc-{i}{h}") for i, h in enumerate(HOSTILE)]
    snapshot = Snapshot(
        document(
            region(ACCOUNT, vpcs=vpcs, route_tables=tables, subnets=subnets),
            region(OTHER_ACCOUNT, errors=[_error(i, h) for i, h in enumerate(HOSTILE)]),
        )
    )
    routing = tuple(
        Finding(
            rule_id="VPCE401",
            severity=Severity.MEDIUM,
            account_id=ACCOUNT,
            region=REGION,
            resource_type="route-table",
            resource_id=f"rtb-{i}{h}",
            resource_arn=f"arn:aws:ec2:{REGION}:{ACCOUNT}:route-table/rtb-{i}{h}",
            message=f"Routing {i}: {h}",
            related_resources=(f"nat-{i}{h}", f"subnet-{i}{h}"),
        )
        for i, h in enumerate(HOSTILE)
    )
    address = tuple(
        Finding(
            rule_id="VPCE504",
            severity=Severity.INFO,
            account_id=ACCOUNT,
            region=REGION,
            resource_type="vpc",
            resource_id=f"vpc-{i}{h}",
            resource_arn=f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/vpc-{i}{h}",
            message=f"Address {i}: {h} 10.0.0.0/8",
        )
        for i, h in enumerate(HOSTILE)
    )
    return ScanResult(
        tool_version="test",
        snapshot=snapshot,
        rules=rules,
        findings=tuple(_finding(i, h, rule_id) for i, h in enumerate(HOSTILE)) + routing + address,
        skipped=tuple(
            Skipped(rule_id, ACCOUNT, REGION, f"reason {i}: {h}", f"rtb-{i}{h}")
            for i, h in enumerate(HOSTILE)
        ),
        suppressed=tuple(
            SuppressedFinding(
                _finding(100 + i, h, rule_id), f"because {i}: {h}", datetime.date(2030, 1, 1)
            )
            for i, h in enumerate(HOSTILE)
        ),
        notices=tuple(f"notice {i}: {h}" for i, h in enumerate(HOSTILE)),
    )


def test_every_hostile_string_is_shown_as_text(hostile_result: ScanResult) -> None:
    page = html_report.render(hostile_result)
    parsed = parse(page)
    assert_self_contained(page, parsed)
    lowered = page.lower()
    assert lowered.count("<script") == 1  # the report's own, at the end
    assert lowered.rsplit("<script", 1)[1].startswith(">\n(function(){")
    assert "javascript:" not in lowered.replace("javascript+mailto:", "")
    for banned in ("<img", "<details><summary>more", "<!--", "\x1b", "\u202e"):
        assert banned not in page, banned
    # The one kind of link the report writes: each finding's to its rule's remediation.
    links = [a for tag, a in parsed.elements if tag == "a"]
    assert lowered.count("<a ") == len(links) == len(hostile_result.findings)
    assert {a["href"] for a in links} == {f"#rule-{f.rule_id}" for f in hostile_result.findings}
    # Every element is one the report writes; no hostile string added one.
    allowed = {
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "h1",
        "h2",
        "h3",
        "h4",
        "p",
        "strong",
        "div",
        "section",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "details",
        "summary",
        "ul",
        "li",
        "code",
        "pre",
        "span",
        "form",
        "label",
        "select",
        "option",
        "input",
        "article",
        "a",
        "header",
        "script",
        "svg",
        "g",
        "rect",
        "text",
        "line",
        "polygon",
    }
    assert {tag for tag, _ in parsed.elements} <= allowed
    text = "".join(parsed.text)
    for index, hostile in enumerate(HOSTILE):
        shown = visible(hostile)
        assert f"Finding {index}: {shown}" in text
        assert f"Routing {index}: {shown}" in text
        assert f"because {index}: {shown}" in text
        assert f"notice {index}: {shown}" in text
        assert f"reason {index}: {shown}" in text
        assert f"Message {index}: {shown}" in text


def test_hostile_ids_reach_the_pictures_whole_and_inert(hostile_result: ScanResult) -> None:
    for finding in hostile_result.findings:
        if not finding.rule_id.startswith(PICTURED_FAMILIES):
            continue
        svg = picture_for(hostile_result.snapshot, finding)
        assert svg is not None, finding.resource_id
        assert "<script" not in svg.lower() and "<a" not in svg
        drawn = resources_of(svg)
        assert visible(finding.resource_id) in drawn
        assert {visible(r) for r in finding.related_resources} <= drawn


def test_remediation_snippets_keep_their_line_breaks(golden: ScanResult) -> None:
    # Each line escaped on its own: the whole snippet through visible() read as one line with
    # "\u000a" between its lines.
    page = html_report.render(golden)
    shown = {html.unescape(text) for text in re.findall(r"<pre>(.*?)</pre>", page, re.DOTALL)}
    found = {f.rule_id for f in golden.findings}
    remedies = [rule.meta.remediation for rule in golden.rules if rule.rule_id in found]
    snippets = {text for r in remedies for text in (r.console, r.cli, r.terraform) if text}
    assert any("\n" in text for text in snippets)
    assert snippets <= shown
    assert "\\u000a" not in page


def _articles(page: str) -> list[tuple[str, str]]:
    """(rule id, markup) of each finding's article, in page order."""
    article = r'(<article class="finding"[^>]*data-rule="([^"]*)".*?</article>)'
    found = re.findall(article, page, re.S)
    return [(rule, article) for article, rule in found]


def test_each_rules_remediation_is_written_once_and_every_finding_links_to_it(
    demo: ScanResult,
) -> None:
    page = html_report.render(demo)
    parse(page)
    found = {f.rule_id for f in demo.findings}
    assert len(demo.findings) > len(found)  # some rule has several findings
    sections = re.findall(r'<section class="rule" id="rule-([^"]*)">', page)
    assert sorted(sections) == sorted(found)
    assert page.count("<h4>Remediation</h4>") == len(found)
    for rule_id, article in _articles(page):
        assert f'<a href="#rule-{rule_id}">{rule_id}</a>' in article
        assert "<pre>" not in article  # the snippets are the rule's, not the finding's


def test_pictures_stop_at_the_cap_per_rule_and_the_page_counts_the_rest(
    demo: ScanResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(html_report, "PICTURES_PER_RULE", 1)
    page = html_report.render(demo)
    parse(page)
    per_rule = Counter(f.rule_id for f in demo.findings)
    pictured = Counter(rule for rule, article in _articles(page) if 'class="picture' in article)
    # The first finding of each rule that has a picture keeps it; no rule has two.
    first = {rule: _first(demo, rule) for rule in per_rule}
    assert pictured == {
        rule: 1 for rule, finding in first.items() if picture_for(demo.snapshot, finding)
    }
    assert sum(pictured.values()) >= 5
    over = {
        rule: count - 1
        for rule, count in sorted(per_rule.items())
        if count > 1 and rule.startswith((*PICTURED_FAMILIES, "VPCE2"))
    }
    assert any(count > 1 and not has_pictures(rule) for rule, count in per_rule.items())
    assert over
    listed = ", ".join(f"{count} of {rule}" for rule, count in over.items())
    assert f"the first 1 findings of each rule; {listed} have none" in page
    assert len(_articles(page)) == len(demo.findings)  # every finding is still there


def _first(result: ScanResult, rule_id: str) -> Finding:
    ordered = [f for _, group in result.findings_by_severity() for f in group]
    return next(f for f in ordered if f.rule_id == rule_id)


def test_a_chart_of_many_account_regions_keeps_the_largest_and_sums_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(html_report, "CHART_ROWS", 3)
    counts = Counter({"a / r": 5, "b / r": 1, "c / r": 7, "d / r": 2, "e / r": 2})
    assert html_report._largest(counts, "account-regions") == [
        ("c / r", 7),
        ("a / r", 5),
        ("3 other account-regions", 5),
    ]
    few = Counter({"b": 1, "a": 2})
    assert html_report._largest(few, "rules") == [("a", 2), ("b", 1)]
