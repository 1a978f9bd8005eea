from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers import endpoint, error, region, service, snapshot
from vpce_audit.findings import Finding, Skipped
from vpce_audit.model import AccountSnapshot
from vpce_audit.rules.base import Rule, RuleContext, Settings
from vpce_audit.rules.engine import evaluate
from vpce_audit.rules.metadata import builtin_metadata
from vpce_audit.rules.registry import RegistryError, RuleRegistry, _as_rules, load_registry


def _rule(rule_id: str, check: Any, requires: tuple[str, ...] = ("vpc_endpoints",)) -> Rule:
    meta = builtin_metadata("VPCE303")  # medium: sorts after VPCE000 (high)
    from dataclasses import replace

    return Rule(meta=replace(meta, rule_id=rule_id), check=check, requires=frozenset(requires))


def _flag_every_endpoint(ctx: RuleContext) -> Iterator[Finding]:
    for scope in ctx.scopes():
        for ep in scope.live_endpoints:
            yield ctx.finding(scope, ep.endpoint_id, "flagged")


def test_a_crashing_rule_becomes_vpce000_and_other_rules_still_run() -> None:
    def crash(ctx: RuleContext) -> Iterator[Finding]:
        raise KeyError("boom")
        yield  # pragma: no cover

    estate = region(vpc_endpoints=[endpoint("vpce-1", "vpc-1", "ssm")])
    result = evaluate(
        snapshot(estate),
        [_rule("TEST001", crash), _rule("TEST002", _flag_every_endpoint)],
        Settings(),
    )
    assert [(f.rule_id, f.resource_id) for f in result.findings] == [
        ("VPCE000", "TEST001"),
        ("TEST002", "vpce-1"),
    ]
    assert "KeyError" in result.rule_errors[0].message


def test_two_findings_for_one_resource_break_the_contract() -> None:
    def twice(ctx: RuleContext) -> Iterator[Finding]:
        yield from _flag_every_endpoint(ctx)
        yield from _flag_every_endpoint(ctx)

    estate = region(vpc_endpoints=[endpoint("vpce-1", "vpc-1", "ssm")])
    result = evaluate(snapshot(estate), [_rule("TEST003", twice)], Settings())
    assert [(f.rule_id, f.resource_id) for f in result.findings] == [
        ("VPCE000", "TEST003"),
        ("TEST003", "vpce-1"),
    ]
    assert "more than once" in result.findings[0].message


def test_scopes_with_failed_required_kinds_are_skipped_not_evaluated() -> None:
    healthy = region(name="eu-west-1", vpc_endpoints=[endpoint("vpce-ok", "vpc-1", "ssm")])
    broken = region(
        name="us-east-1",
        vpc_endpoints=[endpoint("vpce-hidden", "vpc-2", "ssm")],
        errors=[
            error(
                "vpc_endpoints",
                "DescribeVpcEndpoints",
                code="UnauthorizedOperation",
                where="us-east-1",
            )
        ],
    )
    result = evaluate(
        snapshot(healthy, broken), [_rule("TEST004", _flag_every_endpoint)], Settings()
    )
    assert [f.resource_id for f in result.findings] == ["vpce-ok"]
    assert result.skipped == (
        Skipped(
            rule_id="TEST004",
            account_id="111111111111",
            region="us-east-1",
            reason="vpc_endpoints not collected (DescribeVpcEndpoints: UnauthorizedOperation)",
        ),
    )


def test_errors_of_kinds_a_rule_does_not_read_do_not_skip_it() -> None:
    estate = region(
        vpc_endpoints=[endpoint("vpce-1", "vpc-1", "ssm")],
        errors=[error("flow_logs", "DescribeFlowLogs")],
    )
    result = evaluate(snapshot(estate), [_rule("TEST005", _flag_every_endpoint)], Settings())
    assert [f.resource_id for f in result.findings] == ["vpce-1"]
    assert result.skipped == ()


def test_duplicate_rule_ids_are_a_hard_error() -> None:
    rule = _rule("TEST006", _flag_every_endpoint)
    with pytest.raises(RegistryError, match="duplicate rule id TEST006"):
        RuleRegistry((rule, rule))
    with pytest.raises(RegistryError, match="duplicate rule id VPCE000"):
        RuleRegistry((_rule("VPCE000", _flag_every_endpoint),))


def test_plugins_arrive_through_the_entry_point_group(monkeypatch: pytest.MonkeyPatch) -> None:
    plugin = _rule("EXT100", _flag_every_endpoint)

    class FakeEntryPoint:
        name = "example"
        value = "example.rules:RULES"

        def load(self) -> object:
            return [plugin]

    def entry_points(group: str) -> list[FakeEntryPoint]:
        assert group == "vpce_audit.rules"
        return [FakeEntryPoint()]

    monkeypatch.setattr("vpce_audit.rules.registry.metadata.entry_points", entry_points)
    registry = load_registry()
    assert "EXT100" in registry.ids
    assert "VPCE101" in registry.ids


def test_a_plugin_reusing_a_builtin_id_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    class Clash:
        name = "clash"
        value = "clash:RULE"

        def load(self) -> object:
            return _rule("VPCE101", _flag_every_endpoint)

    monkeypatch.setattr("vpce_audit.rules.registry.metadata.entry_points", lambda group: [Clash()])
    with pytest.raises(RegistryError, match="duplicate rule id VPCE101"):
        load_registry()


def test_a_plugin_that_is_not_a_rule_is_refused() -> None:
    with pytest.raises(RegistryError, match="not a Rule"):
        _as_rules(object(), "junk")


def test_rule_context_severity_override() -> None:
    from vpce_audit.findings import Severity

    estate = region(
        endpoint_service_details=[service("ssm")],
        vpc_endpoints=[endpoint("vpce-1", "vpc-1", "ssm")],
    )
    result = evaluate(
        snapshot(estate),
        [_rule("TEST007", _flag_every_endpoint)],
        Settings(severity_overrides={"TEST007": Severity.CRITICAL}),
    )
    assert [f.severity for f in result.findings] == [Severity.CRITICAL]


def test_rules_needing_account_facts_skip_accounts_the_snapshot_lacks() -> None:
    estate = region(vpc_endpoints=[endpoint("vpce-1", "vpc-1", "ssm")])
    needs_org = _rule("TEST008", _flag_every_endpoint, ("vpc_endpoints", "organization"))
    result = evaluate(snapshot(estate, accounts=()), [needs_org], Settings())
    assert result.findings == ()
    assert [s.reason for s in result.skipped] == [
        "organization not collected (the snapshot has no account-wide facts for 111111111111)"
    ]
    failed_org = AccountSnapshot(
        "111111111111",
        "2026-11-26T00:00:00Z",
        errors=(error("organization", "DescribeOrganization", where="global"),),
    )
    result = evaluate(snapshot(estate, accounts=(failed_org,)), [needs_org], Settings())
    assert [s.reason for s in result.skipped] == [
        "organization not collected (DescribeOrganization: AccessDenied)"
    ]
