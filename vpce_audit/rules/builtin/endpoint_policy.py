"""1xx: endpoint policies, judged by meaning (vpce_audit.analysis.policy), not by text."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from vpce_audit.analysis.policy import (
    DYNAMODB_WRITE_ACTIONS,
    IDENTITY_KEYS,
    RESOURCE_KEYS,
    S3_WRITE_ACTIONS,
    Policy,
    PolicyParseError,
    action_prefix_for_service,
    allowed_writes,
    arbitrary_resource_arns,
    deny_perimeter,
    is_full_access,
    parse_policy,
    reaches_any,
    statement_perimeter,
)
from vpce_audit.analysis.trust import principal_account
from vpce_audit.findings import Finding, Skipped
from vpce_audit.model import VpcEndpoint, is_privatelink_service
from vpce_audit.rules.base import CheckResult, RuleContext, builtin_rule
from vpce_audit.snapshot.views import ScopeView

POLICY_REQUIREMENTS = ("vpc_endpoints", "endpoint_service_details")
TRUST_REQUIREMENTS = (*POLICY_REQUIREMENTS, "organization")


@dataclass(frozen=True)
class PolicyTarget:
    """An endpoint whose policy matters, with its policy parsed (or why it could not be)."""

    scope: ScopeView
    endpoint: VpcEndpoint
    policy: Policy | None
    parse_error: str | None

    @property
    def action_prefix(self) -> str:
        return action_prefix_for_service(self.endpoint.service_name)

    @property
    def short_service(self) -> str:
        return self.endpoint.service_name.rsplit(".", 1)[-1]

    @property
    def full_access(self) -> bool:
        return self.policy is not None and is_full_access(self.policy, self.action_prefix)

    def describe(self) -> str:
        return (
            f"{self.endpoint.endpoint_type} endpoint {self.endpoint.endpoint_id} to "
            f"{self.endpoint.service_name} in {self.endpoint.vpc_id}"
        )


def _policy_supported(scope: ScopeView, endpoint: VpcEndpoint) -> bool | None:
    """Whether the endpoint's service takes endpoint policies; None when the snapshot cannot say."""
    if is_privatelink_service(endpoint.service_name):
        return False
    detail = scope.service_detail(endpoint)
    if detail is None:
        return None
    return detail.vpc_endpoint_policy_supported


def policy_targets(ctx: RuleContext) -> Iterator[PolicyTarget | Skipped]:
    """Live endpoints whose service supports endpoint policies; unknown services are skipped."""
    for scope in ctx.scopes():
        for endpoint in scope.live_endpoints:
            supported = _policy_supported(scope, endpoint)
            if supported is None:
                yield ctx.skip(
                    scope,
                    endpoint.endpoint_id,
                    f"service {endpoint.service_name} is not listed by "
                    "DescribeVpcEndpointServices, so whether it takes endpoint policies is unknown",
                )
                continue
            if not supported:
                continue
            try:
                policy, problem = parse_policy(endpoint.policy_document), None
            except PolicyParseError as error:
                policy, problem = None, str(error)
            yield PolicyTarget(scope, endpoint, policy, problem)


def _report(ctx: RuleContext, target: PolicyTarget, message: str) -> Finding:
    return ctx.finding(
        target.scope, target.endpoint.endpoint_id, message, related=(target.endpoint.vpc_id,)
    )


@builtin_rule("VPCE101", requires=POLICY_REQUIREMENTS)
def endpoint_policy_full_access(ctx: RuleContext) -> CheckResult:
    for target in policy_targets(ctx):
        if isinstance(target, Skipped):
            yield target
            continue
        if target.full_access:
            origin = (
                "has no policy, so the AWS default full-access policy applies"
                if target.endpoint.policy_document is None
                else "has a policy that allows every principal every action on every resource"
            )
            yield _report(
                ctx,
                target,
                f"{target.describe()} {origin}, with no condition and no Deny: it has neither an "
                "identity nor a resource perimeter.",
            )


def _said_by_vpce101(ctx: RuleContext, target: PolicyTarget) -> bool:
    """When VPCE101 flags an endpoint, its message already says the policy has neither
    perimeter: VPCE102 and VPCE103 stay silent then (but speak when VPCE101 is not running)."""
    return "VPCE101" in ctx.rules_running and target.full_access


def _statement_label(index: int, sid: str | None) -> str:
    return f"statement {index + 1}" + (f" ({sid})" if sid else "")


@builtin_rule("VPCE102", requires=TRUST_REQUIREMENTS)
def endpoint_policy_no_principal_perimeter(ctx: RuleContext) -> CheckResult:
    for target in policy_targets(ctx):
        if isinstance(target, Skipped):
            yield target
            continue
        if target.policy is None or _said_by_vpce101(ctx, target):
            continue  # VPCE105 reports unparseable policies; VPCE101 already says it all
        denial = deny_perimeter(target.policy, IDENTITY_KEYS, target.action_prefix, ctx.trusted)
        problems: list[str] = []
        for index, statement in enumerate(target.policy.statements):
            if not (statement.is_allow and statement.applies_to_everyone):
                continue
            own = statement_perimeter(statement, IDENTITY_KEYS, ctx.trusted)
            label = _statement_label(index, statement.sid)
            if own.present and own.untrusted_values:
                problems.append(
                    f"{label} limits principals to untrusted {', '.join(own.untrusted_values)}"
                )
            elif not own.present and not denial.present:
                problems.append(f"{label} allows any principal with no identity perimeter")
            elif not own.present and denial.untrusted_values:
                problems.append(
                    f"{label} relies on a Deny whose perimeter admits untrusted "
                    f"{', '.join(denial.untrusted_values)}"
                )
        if problems:
            yield _report(
                ctx,
                target,
                f"{target.describe()}: {'; '.join(problems)}. Credentials from any account can "
                "be used through this endpoint (aws:SourceVpc, aws:SourceVpce and aws:SourceIp "
                "do not limit who the caller is).",
            )


@builtin_rule("VPCE103", requires=TRUST_REQUIREMENTS)
def endpoint_policy_no_resource_perimeter(ctx: RuleContext) -> CheckResult:
    for target in policy_targets(ctx):
        if isinstance(target, Skipped):
            yield target
            continue
        service = target.short_service
        if service not in {"s3", "dynamodb"} or target.policy is None:
            continue
        if _said_by_vpce101(ctx, target):
            continue
        writes = S3_WRITE_ACTIONS if service == "s3" else DYNAMODB_WRITE_ACTIONS
        samples = arbitrary_resource_arns(service, target.scope.partition, target.scope.region)
        denial = deny_perimeter(target.policy, RESOURCE_KEYS, target.action_prefix, ctx.trusted)
        problems: list[str] = []
        for index, statement in enumerate(target.policy.statements):
            if not statement.is_allow:
                continue
            allowed = allowed_writes(statement, writes)
            if not allowed or not reaches_any(statement, samples):
                continue
            own = statement_perimeter(statement, RESOURCE_KEYS, ctx.trusted)
            if own.holds or (not own.present and denial.holds):
                continue
            shown = ", ".join(allowed[:3]) + (
                f" and {len(allowed) - 3} more" if len(allowed) > 3 else ""
            )
            kind = "bucket" if service == "s3" else "table"
            reason = (
                f"limited to untrusted {', '.join(own.untrusted_values or denial.untrusted_values)}"
                if own.present or denial.present
                else "with no aws:ResourceOrgID / aws:ResourceAccount condition"
            )
            problems.append(
                f"{_statement_label(index, statement.sid)} allows {shown} on any {kind} {reason}"
            )
        if problems:
            yield _report(
                ctx,
                target,
                f"{target.describe()}: {'; '.join(problems)}. Data can be written through this "
                "endpoint to resources in accounts you do not own.",
            )


@builtin_rule("VPCE104", requires=TRUST_REQUIREMENTS)
def endpoint_policy_untrusted_principal(ctx: RuleContext) -> CheckResult:
    for target in policy_targets(ctx):
        if isinstance(target, Skipped):
            yield target
            continue
        if target.policy is None:
            continue
        untrusted: set[str] = set()
        for statement in target.policy.allows:
            for principal in statement.principals or ():
                if principal.kind != "AWS" or principal.is_everyone:
                    continue
                account = principal_account(principal.value)
                if account is None or not ctx.trusted.trusts_account(account):
                    untrusted.add(principal.value)
        if untrusted:
            yield _report(
                ctx,
                target,
                f"{target.describe()} allows principals outside the trusted accounts and "
                f"organisations: {', '.join(sorted(untrusted))}.",
            )


@builtin_rule("VPCE105", requires=POLICY_REQUIREMENTS)
def endpoint_policy_unsafe_construct(ctx: RuleContext) -> CheckResult:
    for target in policy_targets(ctx):
        if isinstance(target, Skipped):
            yield target
            continue
        constructs: list[str] = []
        if target.policy is None:
            constructs.append(f"the policy is not a valid policy: {target.parse_error}")
        else:
            for index, statement in enumerate(target.policy.statements):
                if not statement.is_allow:
                    continue
                label = _statement_label(index, statement.sid)
                for element, value in (
                    ("NotPrincipal", statement.not_principals),
                    ("NotAction", statement.not_actions),
                    ("NotResource", statement.not_resources),
                ):
                    if value is not None:
                        constructs.append(f"{label} is an Allow with {element}")
                keys = {condition.key for condition in statement.conditions}
                if statement.applies_to_everyone and keys == {"aws:sourceip"}:
                    constructs.append(
                        f"{label} allows any principal with aws:SourceIp as its only condition "
                        "(requests through a VPC endpoint carry no aws:SourceIp, so it does not "
                        "limit them as intended; use aws:VpcSourceIp)"
                    )
        if constructs:
            yield _report(
                ctx,
                target,
                f"{target.describe()}: {'; '.join(constructs)}.",
            )
