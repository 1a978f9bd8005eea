"""Hostile and broken configuration files, and rule selections that leave nothing to run.

Each is a ConfigError of one short line (exit 2), never a traceback, never a configuration that
loads with a value silently replaced, and never a scan that evaluates no rule and reports clean.
Every case here loaded, crashed or printed an unbounded message before.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from vpce_audit.cli import main
from vpce_audit.config import Config, ConfigError, RuleConfig, load_config, parse_rule_selection
from vpce_audit.rules.registry import load_registry
from vpce_audit.scan import ExitCode, select_rules

REGISTRY = load_registry(include_plugins=False)
KNOWN = frozenset(REGISTRY.ids)
RETIRED = frozenset({"VPCE205"})
ROOT = Path(__file__).resolve().parent.parent
ESTATE = ROOT / "fixtures" / "snapshots" / "golden-estate.json"
MAX_MESSAGE = 300
HUGE = "x" * 200_000

# The classic "billion laughs": nine lines that expand to 9**9 strings.
ALIAS_BOMB = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""

CASES: list[tuple[str, str, str]] = [
    ("alias bomb", ALIAS_BOMB, "YAML anchors and aliases (&name, *name) are not allowed at line 1"),
    (
        "an alias in a valid key",
        'ids: &ids ["111111111111"]\ntrusted_account_ids: *ids\n',
        "anchors and aliases",
    ),
    (
        "a bomb under a known key",
        "trusted_org_ids: &a [o-abcdefghij, o-abcdefghij]\nsuppressions: [*a, *a]\n",
        "at line 1",
    ),
    (
        "a merge key",
        "rules:\n  <<: {VPCE101: {enabled: false}}\n  VPCE102: {enabled: true}\n",
        "YAML merge keys (<<) are not allowed at line 2",
    ),
    (
        "a repeated top-level key",
        'trusted_account_ids: ["111111111111"]\nprofile: default\n'
        'trusted_account_ids: ["222222222222"]\n',
        "duplicate key 'trusted_account_ids' at line 3",
    ),
    (
        "a repeated nested key",
        "rules:\n  VPCE101:\n    enabled: true\n    enabled: false\n",
        "duplicate key 'enabled' at line 4",
    ),
    (
        "a repeated key in a suppression",
        "suppressions:\n  - {rule: VPCE101, resource: a, resource: '*', reason: r}\n",
        "duplicate key 'resource' at line 2",
    ),
    ("deep nesting", "rules: " + "[" * 50_000 + "]" * 50_000 + "\n", "nested too deeply"),
    (
        "a 5,000-digit integer",
        "trusted_account_ids: [" + "1" * 5000 + "]\n",
        "at line 1",
    ),
    (
        "an impossible date",
        "suppressions:\n  - rule: VPCE101\n    resource: x\n    reason: r\n"
        "    expires: 2027-02-30\n",
        "cannot read '2027-02-30' (day is out of range for month) at line 5",
    ),
    (
        "a date with a time",
        "suppressions:\n  - {rule: VPCE101, resource: x, reason: r,\n"
        "     expires: 2027-03-31 10:00:00}\n",
        "suppressions[0].expires = datetime.datetime(",
    ),
    ("a tab", "rules:\n\tVPCE101: {enabled: false}\n", "invalid YAML at line 2, column 1"),
    ("garbage", "rules: {VPCE101: [unclosed\n", "invalid YAML at line 2"),
    ("a control character", "profile: default\x07\n", "invalid YAML: unacceptable character"),
    (
        "a tag of 200,000 characters",
        f"profile: !{HUGE} default\n",
        "could not determine a constructor",
    ),
    # Values the file supplies are quoted, never whole.
    # Keys longer than 1,024 characters must be explicit ("? key").
    ("a long unknown key", f"? {HUGE}\n: 1\n", "unknown key 'xxx"),
    ("a long organization id", f"trusted_org_ids: [{HUGE}]\n", "is not an organization id"),
    ("a long CIDR", f"on_premises_cidrs: [{HUGE}]\n", "is not a CIDR"),
    (
        "a long key in a suppression",
        f"suppressions:\n  - rule: VPCE101\n    ? {HUGE}\n    : 1\n",
        "suppressions[0]: unknown key 'xxx",
    ),
    ("a long rule id", f"rules:\n  ? {HUGE}\n  : {{enabled: true}}\n", "unknown rule id"),
    ("a long severity", f"rules: {{VPCE101: {{severity: {HUGE}}}}}\n", "unknown severity 'xxx"),
    (
        "a long expiry",
        f"suppressions: [{{rule: VPCE101, resource: x, reason: r, expires: {HUGE}}}]\n",
        "is not a date",
    ),
    (
        "no region at all",
        "regions: []\n",
        "regions is empty; leave it out to scan every enabled region",
    ),
    (
        "a long list as an account id",
        "trusted_account_ids: [[" + ", ".join(["a"] * 50_000) + "]]\n",
        "trusted_account_ids[0] = ['a', 'a', 'a', 'a', ...] is not a 12-digit account id",
    ),
]


@pytest.mark.parametrize(
    ("text", "phrase"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_bad_configurations_are_refused_with_a_short_message(
    tmp_path: Path, text: str, phrase: str
) -> None:
    path = tmp_path / "cfg.yml"
    path.write_text(text)
    with pytest.raises(ConfigError) as raised:
        load_config(path, KNOWN, RETIRED)
    message = str(raised.value)
    assert message.startswith(f"{path}")
    assert phrase in message
    assert len(message) < MAX_MESSAGE + len(str(path)), message
    assert "\n" not in message


def test_a_region_named_twice_is_one_region(tmp_path: Path) -> None:
    """A scope collected twice would make the snapshot refuse itself after the whole
    collection: the configuration's regions are deduplicated as a repeated --region is."""
    path = tmp_path / "cfg.yml"
    path.write_text(
        "regions: [us-east-1, eu-west-1, us-east-1]\nexclude_regions: [ap-east-1, ap-east-1]\n"
    )
    config = load_config(path, KNOWN, RETIRED)
    assert config.regions == ("us-east-1", "eu-west-1")
    assert config.exclude_regions == ("ap-east-1",)


def test_non_utf8_configuration_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cfg.yml"
    path.write_bytes(b"profile: d\xe9faut\n")
    with pytest.raises(ConfigError, match=r"is not UTF-8 text \(an invalid byte at offset 10\)"):
        load_config(path, KNOWN)


@pytest.mark.parametrize("text", ["", ",", " , ", " ,, "])
@pytest.mark.parametrize("option", ["--select", "--ignore"])
def test_an_empty_rule_selection_is_an_error(text: str, option: str) -> None:
    with pytest.raises(ConfigError, match=f"^{option} names no rule$"):
        parse_rule_selection(text, KNOWN, option, RETIRED)


@pytest.mark.parametrize(
    ("config", "select", "ignore", "reason"),
    [
        (Config(), None, KNOWN, "--ignore removes every enabled rule"),
        (
            Config(),
            frozenset({"VPCE101"}),
            frozenset({"VPCE101"}),
            "--ignore removes every selected rule",
        ),
        (Config(), frozenset(), frozenset(), "--select names only retired rules"),
        (
            Config(rules={rule_id: RuleConfig(enabled=False) for rule_id in KNOWN}),
            None,
            frozenset(),
            "the configuration disables every rule",
        ),
    ],
    ids=["ignore all", "ignore the selection", "only retired selected", "all disabled"],
)
def test_a_selection_that_leaves_no_rule_is_an_error(
    config: Config, select: frozenset[str] | None, ignore: frozenset[str], reason: str
) -> None:
    with pytest.raises(ConfigError, match=f"^no rule left to evaluate: {reason}$"):
        select_rules(REGISTRY, config, select, ignore)


def _cli_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = main(["scan", "--snapshot", str(ESTATE), *argv], stdout=io.StringIO())
    error = capsys.readouterr().err
    assert code == ExitCode.USAGE, error
    assert "Traceback" not in error
    lines = error.splitlines()
    # A retired id may warn first; the error is the last line, and the only one.
    assert [line for line in lines if line.startswith("vpce-audit: error: ")] == lines[-1:]
    return lines[-1]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--ignore", "VPCE"], "no rule left to evaluate: --ignore removes every enabled rule"),
        (["--select", "VPCE101", "--ignore", "VPCE1"], "removes every selected rule"),
        (["--select", ""], "--select names no rule"),
        (["--select", " , "], "--select names no rule"),
        (["--ignore", ","], "--ignore names no rule"),
        (["--select", "VPCE205"], "--select names only retired rules"),
    ],
)
def test_the_cli_refuses_to_evaluate_no_rule(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert message in _cli_error(capsys, *argv)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (ALIAS_BOMB, "YAML anchors and aliases"),
        ("rules:\n  VPCE101: {enabled: false}\n  VPCE101: {enabled: true}\n", "duplicate key"),
        ("suppressions: [{rule: VPCE101, resource: x, reason: r, expires: 2027-02-30}]\n", "2027"),
        ("trusted_account_ids: [" + "1" * 5000 + "]\n", "cannot read"),
        ("rules: " + "[" * 50_000 + "]" * 50_000 + "\n", "nested too deeply"),
        ("rules:\n\tVPCE101: {}\n", "invalid YAML at line 2"),
    ],
    ids=["alias bomb", "duplicate key", "impossible date", "huge integer", "deep", "tab"],
)
def test_the_cli_reports_a_bad_configuration_on_one_line_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    path = tmp_path / "cfg.yml"
    path.write_text(text)
    line = _cli_error(capsys, "--config", str(path))
    assert message in line
    assert len(line) < MAX_MESSAGE + len(str(path))


def test_a_configuration_larger_than_a_megabyte_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.yml"
    path.write_text("# padding\n" * 120_000)
    with pytest.raises(ConfigError, match="larger than 1,048,576 bytes"):
        load_config(path, load_registry().ids)


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("rules:\n  VPCE101: {enabled: true}\n  vpce101: {enabled: false}\n", "configured twice"),
        ('trusted_account_ids: ["111122223333\\n"]\n', "12-digit account id"),
        ('trusted_account_ids: ["١١١١٢٢٢٢٣٣٣٣"]\n', "12-digit account id"),
        ('trusted_org_ids: ["o-abcdefghij\\n"]\n', "organization id"),
        ('required_services: ["ssm\\n"]\n', "service short name"),
        (
            'suppressions:\n  - {rule: VPCE101, resource: "*", reason: r, expires: "20270203"}\n',
            "is not a date (YYYY-MM-DD)",
        ),
    ],
)
def test_look_alike_values_are_refused(tmp_path: Path, text: str, phrase: str) -> None:
    path = tmp_path / "look-alike.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(phrase)):
        load_config(path, load_registry().ids)
