"""The configuration file and rule selection."""

from __future__ import annotations

import datetime
import io
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import document, endpoint, region, service
from vpce_audit.cli import main
from vpce_audit.config import (
    Config,
    ConfigError,
    RuleConfig,
    Suppression,
    SuppressionIndex,
    load_config,
    parse_config,
    parse_rule_selection,
)
from vpce_audit.findings import Finding, Severity
from vpce_audit.rules.registry import load_registry
from vpce_audit.scan import ExitCode, run_scan, select_rules, settings_from

KNOWN = frozenset(load_registry(include_plugins=False).ids)
RETIRED = frozenset({"VPCE205"})
FULL_CONFIG = """
trusted_org_ids: [o-abcdefghij]
trusted_account_ids: ["012345678901"]
on_premises_cidrs: [192.168.0.0/16, 10.200.0.1/16]
required_services: [ssm, ecr.api]
rules:
  VPCE504: {enabled: true}
  vpce302: {severity: medium}
suppressions:
  - rule: VPCE101
    resource: "vpce-legacy*"
    reason: replaced in Q1
    expires: 2027-03-31
"""


def test_a_full_configuration_parses(tmp_path: Path) -> None:
    path = tmp_path / "c.yml"
    path.write_text(FULL_CONFIG)
    config = load_config(path, KNOWN)
    assert config.trusted_org_ids == {"o-abcdefghij"}
    assert config.trusted_account_ids == {"012345678901"}
    assert config.on_premises_cidrs == ("192.168.0.0/16", "10.200.0.0/16")
    assert config.required_services == ("ssm", "ecr.api")
    assert config.rules["VPCE302"] == RuleConfig(severity=Severity.MEDIUM)
    assert config.suppressions == (
        Suppression("VPCE101", "vpce-legacy*", "replaced in Q1", datetime.date(2027, 3, 31)),
    )
    settings = settings_from(config)
    assert settings.severity_overrides == {"VPCE302": Severity.MEDIUM}
    assert settings.required_services == ("ssm", "ecr.api")
    assert settings.endpoint_services_required == ("ssm", "ecr.api")
    assert config.warnings == ()


def test_a_retired_rule_id_is_a_warning_not_an_error(tmp_path: Path) -> None:
    path = tmp_path / "c.yml"
    path.write_text(
        "rules:\n  VPCE205: {enabled: false}\n  VPCE302: {severity: medium}\n"
        "suppressions:\n  - {rule: vpce205, resource: 'pcx-*', reason: old noise}\n"
    )
    config = load_config(path, KNOWN, RETIRED)
    assert set(config.rules) == {"VPCE302"}
    assert config.suppressions == ()
    assert [w.split(": ", 2)[1] for w in config.warnings] == [
        "rules.VPCE205",
        "suppressions[0].rule",
    ]
    assert all("VPCE205 is retired" in w for w in config.warnings)
    # Without the retired list (a caller that does not know it) the id is simply unknown.
    with pytest.raises(ConfigError, match="unknown rule id"):
        load_config(path, KNOWN)


def test_profile_selects_security_hub_semantics_and_excludes_required_services(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.yml"
    path.write_text("profile: fsbp\n")
    settings = settings_from(load_config(path, KNOWN))
    assert settings.fsbp
    assert settings.endpoint_services_required == (
        "ec2",
        "ecr.api",
        "ecr.dkr",
        "ssm",
        "ssm-contacts",
        "ssm-incidents",
    )
    assert settings_from(load_config(None, KNOWN)).endpoint_services_required == (
        "ssm",
        "ssmmessages",
        "ec2messages",
        "sts",
        "logs",
    )
    path.write_text("profile: fsbp\nrequired_services: [ssm]\n")
    with pytest.raises(ConfigError, match="profile fsbp"):
        load_config(path, KNOWN)
    path.write_text("profile: cis\n")
    with pytest.raises(ConfigError, match="profile = 'cis' is not one of default, fsbp"):
        load_config(path, KNOWN)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("trusted_orgs: [o-abcdefghij]", "unknown key 'trusted_orgs'"),
        ("trusted_org_ids: o-abcdefghij", "trusted_org_ids must be a list"),
        ("trusted_org_ids: [acme]", "trusted_org_ids[0] = 'acme' is not an organization id"),
        ("trusted_account_ids: [123456789012]", "quote account ids"),
        ("trusted_account_ids: ['1234']", "is not a 12-digit account id"),
        ("on_premises_cidrs: [10.0.0.0]", "on_premises_cidrs[0] = '10.0.0.0' is not a CIDR"),
        ("rules: {VPCE999: {enabled: true}}", "rules.VPCE999: unknown rule id"),
        ("rules: {VPCE101: {enabled: yes-please}}", "rules.VPCE101.enabled must be true or false"),
        ("rules: {VPCE101: {severity: urgent}}", "unknown severity 'urgent'"),
        ("rules: {VPCE101: {mute: true}}", "rules.VPCE101: unknown key 'mute'"),
        ("suppressions: [{rule: VPCE101, resource: x}]", "suppressions[0].reason is required"),
        ("suppressions: [{rule: VPCE101, resource: x, reason: r, expires: soon}]", "is not a date"),
        ("suppressions: [{rule: VPCE000, resource: x, reason: r}]", "unknown rule id"),
        ("- just\n- a list", "must be a mapping"),
    ],
)
def test_invalid_configuration_names_the_key(text: str, message: str) -> None:
    import yaml

    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_config(yaml.safe_load(text), "cfg.yml", KNOWN)


def test_unreadable_and_invalid_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path / "missing.yml", KNOWN)
    bad = tmp_path / "bad.yml"
    bad.write_text("rules: [unclosed")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_config(bad, KNOWN)


def test_rule_selection_by_id_and_prefix() -> None:
    assert parse_rule_selection("VPCE40,vpce501", KNOWN, "--select") == {
        "VPCE401",
        "VPCE402",
        "VPCE403",
        "VPCE404",
        "VPCE405",
        "VPCE406",
        "VPCE501",
    }
    with pytest.raises(ConfigError, match="--ignore: 'VPCE9' matches no rule id"):
        parse_rule_selection("VPCE9", KNOWN, "--ignore")


def test_defaults_config_select_and_ignore_decide_which_rules_run() -> None:
    registry = load_registry(include_plugins=False)
    default = {r.rule_id for r in select_rules(registry, Config())}
    assert "VPCE504" not in default and "VPCE101" in default
    config = Config(
        rules={"VPCE504": RuleConfig(enabled=True), "VPCE101": RuleConfig(enabled=False)}
    )
    configured = {r.rule_id for r in select_rules(registry, config)}
    assert "VPCE504" in configured and "VPCE101" not in configured
    selected = select_rules(
        registry, config, frozenset({"VPCE101", "VPCE201"}), frozenset({"VPCE201"})
    )
    assert [r.rule_id for r in selected] == ["VPCE101"]


def test_suppressions_hide_matching_findings_until_they_expire() -> None:
    estate = region(
        endpoint_service_details=[service("s3", "Gateway")],
        vpc_endpoints=[
            endpoint("vpce-legacy1", "vpc-1", "s3", "Gateway"),
            endpoint("vpce-new", "vpc-1", "s3", "Gateway"),
        ],
    )
    rules = [r for r in load_registry(include_plugins=False) if r.rule_id == "VPCE101"]
    suppression = Suppression(
        "VPCE101", "vpce-legacy*", "replaced in Q1", datetime.date(2027, 3, 31)
    )
    before = run_scan(
        document(estate),
        rules,
        settings_from(Config()),
        [suppression],
        today=datetime.date(2027, 3, 31),
    )
    assert [f.resource_id for f in before.findings] == ["vpce-new"]
    assert [s.finding.resource_id for s in before.suppressed] == ["vpce-legacy1"]
    assert before.notices == ()
    after = run_scan(
        document(estate),
        rules,
        settings_from(Config()),
        [suppression],
        today=datetime.date(2027, 4, 1),
    )
    assert [f.resource_id for f in after.findings] == ["vpce-legacy1", "vpce-new"]
    assert "expired on 2027-03-31" in after.notices[0]


def test_arn_patterns_suppress_too() -> None:
    suppression = Suppression("VPCE101", "arn:aws:ec2:eu-west-1:111111111111:*", "sandbox")

    finding = Finding(
        "VPCE101",
        Severity.MEDIUM,
        "111111111111",
        "eu-west-1",
        "vpc-endpoint",
        "vpce-1",
        "arn:aws:ec2:eu-west-1:111111111111:vpc-endpoint/vpce-1",
        "m",
    )
    assert suppression.matches(finding)
    assert not Suppression("VPCE102", "*", "x").matches(finding)


ROOT = Path(__file__).resolve().parent.parent
ESTATE = ROOT / "fixtures" / "snapshots" / "golden-estate.json"


def _cli(*argv: str) -> tuple[int, dict[str, object]]:
    out = io.StringIO()
    code = main(list(argv), stdout=out)
    return code, json.loads(out.getvalue()) if out.getvalue().startswith("{") else {}


def test_cli_reads_dot_config_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".vpce-audit.yml").write_text("rules: {VPCE501: {enabled: false}}\n")
    monkeypatch.chdir(tmp_path)
    _, report = _cli("scan", "--snapshot", str(ESTATE), "--format", "json")
    assert "VPCE501" not in report["summary"]["rules"]  # type: ignore[index]
    _, report = _cli("scan", "--snapshot", str(ESTATE), "--format", "json", "--select", "VPCE5")
    assert report["summary"]["rules"] == [  # type: ignore[index]
        "VPCE501",
        "VPCE502",
        "VPCE503",
        "VPCE504",
        "VPCE505",
    ]


def test_cli_config_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cfg.yml"
    path.write_text("rules: {VPCE777: {enabled: true}}\n")
    code, _ = _cli("scan", "--snapshot", str(ESTATE), "--config", str(path))
    assert code == ExitCode.USAGE
    error = capsys.readouterr().err
    assert f"{path}: rules.VPCE777: unknown rule id" in error
    assert "Traceback" not in error
    code, _ = _cli("scan", "--snapshot", str(ESTATE), "--select", "VPCE9")
    assert code == ExitCode.USAGE


def test_a_suppression_names_a_resource_by_id_or_by_arn(tmp_path: Path) -> None:
    _, report = _cli("scan", "--snapshot", str(ESTATE), "--format", "json", "--fail-on", "never")
    findings = report["findings"]
    assert isinstance(findings, list)
    first = findings[0]
    for resource in (first["resource_id"], first["resource_arn"]):
        path = tmp_path / "cfg.yml"
        path.write_text(
            f"suppressions:\n  - {{rule: {first['rule_id']}, resource: '{resource}', reason: r}}\n"
        )
        _, suppressed = _cli("scan", "--snapshot", str(ESTATE), "--config", str(path),
                             "--format", "json", "--fail-on", "never")  # fmt: skip
        (only,) = suppressed["suppressed"]  # type: ignore[misc]
        assert only["fingerprint"] == first["fingerprint"], resource


def test_every_configuration_example_in_the_readme_is_valid() -> None:
    import re

    import yaml

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    examples = re.findall(r"```yaml\n(.*?)```", section, re.S)
    assert len(examples) >= 2
    for example in examples:
        config = parse_config(yaml.safe_load(example), "README", KNOWN, RETIRED)
        assert config.warnings == ()


_ids = st.sampled_from(["vpce-1", "vpce-12", "vpc-1", "a*", "[v]pce-1"])
_ARN = "arn:aws:ec2:eu-west-1:111111111111:vpc-endpoint/"
_patterns = _ids | st.sampled_from(
    ["*", "vpce-*", "vpce-?", "[v]pce-1", "vpce-[", "*:vpce-1", "*/vpce-1", f"{_ARN}vpce-1",
     f"{_ARN}vpce-12", f"{_ARN}a*", f"{_ARN}[v]pce-1"]
)  # fmt: skip
_rules = st.sampled_from(["VPCE101", "VPCE102"])


@given(
    st.lists(st.builds(Suppression, _rules, _patterns, st.integers(0, 99).map(str)), max_size=8),
    st.lists(st.tuples(_rules, _ids), max_size=6),
)
def test_the_suppression_index_finds_the_first_suppression_that_matches(
    suppressions: list[Suppression], keys: list[tuple[str, str]]
) -> None:
    # The index answers as trying each suppression in order would.
    index = SuppressionIndex(suppressions)
    for rule, resource in keys:
        arn = f"{_ARN}{resource}"
        finding = Finding(rule, Severity.LOW, "111111111111", "eu-west-1", "vpc-endpoint",
                          resource, arn, "m")  # fmt: skip
        expected = next((s for s in suppressions if s.matches(finding)), None)
        assert index.first_match(finding) is expected
