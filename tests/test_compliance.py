"""Compliance mappings in the rules' metadata, and a scan's status per control."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest

from tests.helpers import (
    ACCOUNT,
    document,
    endpoint,
    error,
    region,
    route,
    subnet,
    table,
    vpc,
)
from vpce_audit.compliance import (
    FRAMEWORKS,
    SARIF_MAX_TAGS,
    UnknownFrameworkError,
    control_view,
    controls_for,
    missing_services,
    rules_for,
    sarif_tags,
    tags,
)
from vpce_audit.config import Suppression
from vpce_audit.model import FlowLog, TransitGateway
from vpce_audit.rules.base import Rule, Settings
from vpce_audit.rules.metadata import (
    COMPLIANCE_CONTROL_PATTERNS,
    MetadataError,
    builtin_metadata,
    metadata_file_ids,
    parse_metadata,
)
from vpce_audit.rules.registry import builtin_rules
from vpce_audit.scan import ScanResult, run_scan

SECURITY_HUB = "https://docs.aws.amazon.com/securityhub/latest/userguide/"
# Owners of the frameworks' texts; Security Hub's pages state its own mappings to them.
ALLOWED_HOSTS = {
    "docs.aws.amazon.com",
    "csrc.nist.gov",
    "www.cisecurity.org",
    "www.pcisecuritystandards.org",
}
FSBP_LABELS = {"fsbp", "nist-800-53", "cis-aws", "pci-dss"}

ALL_METAS = [builtin_metadata(rule_id) for rule_id in metadata_file_ids()]
MAPPED = [(meta, m) for meta in ALL_METAS for m in meta.compliance_mappings]


def test_frameworks_are_the_command_line_names() -> None:
    assert set(FRAMEWORKS) == FSBP_LABELS == set(COMPLIANCE_CONTROL_PATTERNS)


@pytest.mark.parametrize(
    ("meta", "mapping"), MAPPED, ids=[f"{meta.rule_id}-{m.label}" for meta, m in MAPPED]
)
def test_every_mapping_names_a_framework_control_and_its_source(meta: Any, mapping: Any) -> None:
    assert mapping.framework in FRAMEWORKS
    assert COMPLIANCE_CONTROL_PATTERNS[mapping.framework].match(mapping.control)
    url = urlparse(mapping.source)
    assert url.scheme == "https"
    assert url.hostname in ALLOWED_HOSTS
    assert mapping.quote.strip()
    if mapping.source.startswith(SECURITY_HUB + "ec2-controls.html#ec2-"):
        # The quote is from the control the anchor names ("[EC2.10] ...").
        control = "EC2." + mapping.source.rsplit("#ec2-", 1)[1]
        assert mapping.quote.startswith(f"[{control}]")
        if mapping.framework == "fsbp":
            assert mapping.control == control
        elif mapping.framework == "nist-800-53":
            assert f"NIST.800-53.r5 {mapping.control}" in mapping.quote
        elif mapping.framework == "cis-aws":
            assert f"CIS AWS Foundations Benchmark {mapping.control}" in mapping.quote
    # A retired rule checks nothing: it cannot satisfy a control.
    assert not meta.retired


def test_rules_mapping_fsbp_carry_the_fsbp_tag() -> None:
    for meta in rules_for("fsbp", ALL_METAS):
        assert "fsbp" in meta.tags, meta.rule_id


def test_vpce601_maps_security_hubs_endpoint_controls() -> None:
    meta = builtin_metadata("VPCE601")
    fsbp = {m.control: m for m in meta.compliance_mappings if m.framework == "fsbp"}
    assert set(fsbp) == {"EC2.10", "EC2.55", "EC2.56", "EC2.57", "EC2.58", "EC2.60"}
    assert {c: m.services for c, m in fsbp.items()} == {
        "EC2.10": ("ec2",),
        "EC2.55": ("ecr.api",),
        "EC2.56": ("ecr.dkr",),
        "EC2.57": ("ssm",),
        "EC2.58": ("ssm-contacts",),
        "EC2.60": ("ssm-incidents",),
    }
    # Exactly Security Hub's list only with profile fsbp (base.FSBP_REQUIRED_SERVICES).
    assert {m.profile for m in meta.compliance_mappings} == {"fsbp"}
    assert fsbp["EC2.10"].source.endswith("ec2-controls.html#ec2-10")
    nist = {m.control for m in meta.compliance_mappings if m.framework == "nist-800-53"}
    assert {"AC-21", "AC-4", "SC-7", "SC-7(4)"} <= nist
    # NIST ids come from EC2.10's related requirements only; they apply to the ec2 endpoint.
    assert all(
        m.services == ("ec2",) for m in meta.compliance_mappings if m.framework == "nist-800-53"
    )
    # The display form report.rule_docs renders is unchanged.
    assert meta.compliance == tuple(f"AWS FSBP {c}" for c in fsbp)


def test_other_mapped_rules() -> None:
    labels = {meta.rule_id: set(tags(meta)) for meta in ALL_METAS if meta.compliance_mappings}
    assert set(labels) == {"VPCE505", "VPCE601", "VPCE602"}
    assert {"fsbp:EC2.23", "nist-800-53:AC-4(21)", "nist-800-53:CM-2"} <= labels["VPCE505"]
    assert {"fsbp:EC2.6", "nist-800-53:AU-12", "cis-aws:v1.4.0/3.9"} <= labels["VPCE602"]


def test_rules_for_filters_exactly() -> None:
    ids = lambda framework: [m.rule_id for m in rules_for(framework, ALL_METAS)]  # noqa: E731
    assert ids("fsbp") == ["VPCE505", "VPCE601", "VPCE602"]
    assert ids("nist-800-53") == ["VPCE505", "VPCE601", "VPCE602"]
    assert ids("cis-aws") == ["VPCE602"]
    assert ids("pci-dss") == []
    with pytest.raises(UnknownFrameworkError):
        rules_for("hipaa", ALL_METAS)


def test_controls_sort_naturally() -> None:
    assert controls_for("fsbp", ALL_METAS) == [
        "EC2.6",
        "EC2.10",
        "EC2.23",
        "EC2.55",
        "EC2.56",
        "EC2.57",
        "EC2.58",
        "EC2.60",
    ]
    nist = controls_for("nist-800-53", ALL_METAS)
    assert nist.index("AC-4") < nist.index("AC-4(21)") < nist.index("AC-4(26)") < nist.index("AC-6")


def test_tags_and_the_sarif_cap() -> None:
    meta = builtin_metadata("VPCE601")
    assert tags(meta)[:2] == ["fsbp:EC2.10", "fsbp:EC2.55"]
    assert tags(meta, ["cis-aws"]) == []
    capped = sarif_tags(meta)
    assert len(capped) <= SARIF_MAX_TAGS and capped[0] == "security"
    assert capped == ["security", "coverage", "fsbp", *tags(meta, ["fsbp"])][:SARIF_MAX_TAGS]
    nist = sarif_tags(meta, ["nist-800-53"])
    assert len(nist) == SARIF_MAX_TAGS and nist[3] == "nist-800-53:AC-21"
    for each in ALL_METAS:
        assert len(sarif_tags(each)) <= SARIF_MAX_TAGS


BASE: dict[str, Any] = {
    "id": "VPCE999",
    "name": "x",
    "title": "x",
    "severity": "low",
    "description": "x",
    "rationale": "x",
    "remediation": "x",
}
GOOD = {
    "framework": "fsbp",
    "control": "EC2.10",
    "source": SECURITY_HUB + "ec2-controls.html#ec2-10",
    "quote": "[EC2.10] ...",
}


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        ({**GOOD, "framework": "hipaa"}, "unknown framework 'hipaa'"),
        ({**GOOD, "control": "SC-7"}, "is not a fsbp control id"),
        ({**GOOD, "framework": "cis-aws", "control": "5.3"}, "is not a cis-aws control id"),
        ({**GOOD, "source": "http://docs.aws.amazon.com/x"}, "https"),
        ({k: v for k, v in GOOD.items() if k != "quote"}, "missing quote"),
        ({**GOOD, "note": "x"}, "unknown key(s) note"),
        ({**GOOD, "profile": "strict"}, "unknown profile"),
        ("AWS FSBP EC2.10", "expected a mapping"),
    ],
)
def test_compliance_metadata_is_strict(entry: Any, complaint: str) -> None:
    with pytest.raises(MetadataError, match=complaint.replace("(", r"\(").replace(")", r"\)")):
        parse_metadata({**BASE, "compliance": [entry]}, "rules/VPCE999.yaml")


def test_a_control_is_mapped_once_per_rule() -> None:
    with pytest.raises(MetadataError, match="mapped twice"):
        parse_metadata({**BASE, "compliance": [GOOD, GOOD]}, "rules/VPCE999.yaml")


# --- control_view on small scans ---------------------------------------------------------------


def _rules(*rule_ids: str) -> list[Rule]:
    by_id = {rule.rule_id: rule for rule in builtin_rules()}
    return [by_id[rule_id] for rule_id in rule_ids]


def _estate(**extra: Any) -> Any:
    """One isolated VPC with an ec2 endpoint only, a flow log that records everything, and a
    transit gateway that accepts shared attachments automatically."""
    collections: dict[str, Any] = {
        "vpcs": [vpc("vpc-a")],
        "subnets": [subnet("subnet-a", "vpc-a")],
        "route_tables": [table("rtb-a", "vpc-a", main=True)],
        "vpc_endpoints": [endpoint("vpce-ec2", "vpc-a", "ec2")],
        "flow_logs": [FlowLog("fl-a", "vpc-a", "ACTIVE", "SUCCESS", "ALL")],
        "transit_gateways": [TransitGateway("tgw-auto", ACCOUNT, "available", True)],
    }
    collections.update(extra)
    return region(**collections)


def _scan(*rule_ids: str, profile: str = "fsbp", estate: Any = None, **kw: Any) -> ScanResult:
    return run_scan(
        document(estate if estate is not None else _estate()),
        _rules(*rule_ids),
        Settings(profile=profile),
        **kw,
    )


def _status(view: list[Any]) -> dict[str, str]:
    return {c.control: c.status for c in view}


def test_fail_for_a_flagged_control_pass_for_a_clean_one() -> None:
    result = _scan("VPCE505", "VPCE601", "VPCE602")
    assert {f.rule_id for f in result.findings} == {"VPCE505", "VPCE601"}
    view = control_view("fsbp", result, profile="fsbp")
    assert _status(view) == {
        "EC2.6": "pass",  # the flow log records rejected traffic
        "EC2.10": "pass",  # the VPC has an ec2 endpoint: VPCE601's finding is not about it
        "EC2.23": "fail",
        "EC2.55": "fail",
        "EC2.56": "fail",
        "EC2.57": "fail",
        "EC2.58": "fail",
        "EC2.60": "fail",
    }
    ec2_55 = next(c for c in view if c.control == "EC2.55")
    assert ec2_55.findings == 1 and ec2_55.rules == ("VPCE601",)
    assert ec2_55.sources == (SECURITY_HUB + "ec2-controls.html#ec2-55",)


def test_nist_controls_aggregate_their_rules() -> None:
    result = _scan("VPCE505", "VPCE601", "VPCE602")
    view = {c.control: c for c in control_view("nist-800-53", result, profile="fsbp")}
    # AC-4(21): VPCE601 (EC2.10, passes) and VPCE505 (EC2.23, fails).
    assert view["AC-4(21)"].rules == ("VPCE505", "VPCE601")
    assert view["AC-4(21)"].status == "fail" and view["AC-4(21)"].findings == 1
    assert view["SC-7"].status == "pass"  # EC2.10 only
    assert view["AU-12"].status == "pass"  # EC2.6 only
    assert view["CM-2"].status == "fail"  # EC2.23 only


def test_unknown_when_a_rule_skipped_something() -> None:
    undecided = _estate(transit_gateways=[TransitGateway("tgw-?", ACCOUNT, "available", None)])
    result = _scan("VPCE505", estate=undecided)
    assert [s.rule_id for s in result.skipped] == ["VPCE505"]
    view = {c.control: c for c in control_view("fsbp", result, profile="fsbp")}
    assert view["EC2.23"].status == "unknown"
    assert "VPCE505 skipped 1" in view["EC2.23"].reasons[0]


def test_unknown_when_data_was_not_collected_but_a_finding_still_fails() -> None:
    broken = region(vpcs=[vpc("vpc-a")], errors=[error("flow_logs", "DescribeFlowLogs")])
    result = _scan("VPCE602", estate=broken)
    assert _status(control_view("fsbp", result, profile="fsbp"))["EC2.6"] == "unknown"
    # A finding fails the control even when the same rule skipped another resource.
    mixed = _estate(
        transit_gateways=[
            TransitGateway("tgw-auto", ACCOUNT, "available", True),
            TransitGateway("tgw-?", ACCOUNT, "available", None),
        ]
    )
    result = _scan("VPCE505", estate=mixed)
    assert result.skipped and result.findings
    assert _status(control_view("fsbp", result, profile="fsbp"))["EC2.23"] == "fail"


def test_profile_mismatch_makes_a_clean_run_unknown_but_keeps_failures() -> None:
    result = _scan("VPCE601", "VPCE602", profile="default")
    view = {c.control: c for c in control_view("fsbp", result, profile="default")}
    # Default profile: VPCE601 checks ssm, ssmmessages, ec2messages, sts and logs.
    assert view["EC2.10"].status == "unknown"
    assert "only with profile fsbp" in view["EC2.10"].reasons[0]
    assert view["EC2.57"].status == "fail"  # ssm is missing: a failure under any profile
    assert view["EC2.55"].status == "unknown"
    assert view["EC2.6"].status == "unknown"


def test_not_applicable_when_no_mapped_rule_ran() -> None:
    result = _scan("VPCE602")
    view = {c.control: c for c in control_view("fsbp", result, profile="fsbp")}
    assert view["EC2.6"].status == "pass"
    assert view["EC2.23"].status == "not applicable"
    assert view["EC2.23"].not_run == ("VPCE505",)
    assert control_view("pci-dss", result, profile="fsbp") == []


def test_suppressed_findings_do_not_fail_a_control() -> None:
    suppression = Suppression(rule_id="VPCE505", resource_pattern="tgw-auto", reason="reviewed")
    result = _scan("VPCE505", suppressions=[suppression])
    assert not result.findings and len(result.suppressed) == 1
    view = {c.control: c for c in control_view("fsbp", result, profile="fsbp")}
    assert view["EC2.23"].status == "pass" and view["EC2.23"].suppressed == 1


def test_missing_services_reads_vpce601_messages() -> None:
    result = _scan("VPCE601")
    (finding,) = result.findings
    assert missing_services(finding) == (
        "ecr.api",
        "ecr.dkr",
        "ssm",
        "ssm-contacts",
        "ssm-incidents",
    )
    default = _scan("VPCE601", profile="default")
    assert missing_services(default.findings[0]) == (
        "ssm",
        "ssmmessages",
        "ec2messages",
        "sts",
        "logs",
    )


def test_a_public_route_does_not_hide_the_vpc_with_profile_fsbp() -> None:
    public = _estate(route_tables=[table("rtb-a", "vpc-a", route("0.0.0.0/0", "igw-1"), main=True)])
    result = _scan("VPCE601", estate=public)
    assert _status(control_view("fsbp", result, profile="fsbp"))["EC2.55"] == "fail"
