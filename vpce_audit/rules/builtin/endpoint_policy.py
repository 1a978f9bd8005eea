"""1xx: endpoint policies, judged by what they allow (vpce_audit.analysis.policy), not by text.

Severity is monotonic in what a policy allows: a policy that allows less never gets a more severe
permission finding (VPCE101-104) than one that allows more. The ceiling is HIGH for S3 and
DynamoDB endpoints (data leaves to any account's buckets and tables) and MEDIUM for other
services; VPCE101, which silences VPCE102 and VPCE103, reports at that ceiling too. Findings that
hold only if an account of unknown organisation membership is outside the organisation are LOW.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from vpce_audit.analysis.policy import (
    ABSENT,
    ANONYMOUS,
    DATA_SERVICES,
    IDENTITY_KEYS,
    INSIDER,
    OUTSIDER,
    RESOURCE_KEYS,
    WRITE_ACTIONS,
    Caller,
    CallerKind,
    Condition,
    Owner,
    Policy,
    PolicyEvaluator,
    PolicyParseError,
    Prefixes,
    Request,
    Statement,
    Truth,
    Verdict,
    action_matches,
    always_true_through_endpoint,
    condition_truth,
    instantiated_pattern,
    is_known_global_key,
    is_multivalued_global_key,
    is_read_only_action,
    named_accounts,
    never_true_through_endpoint,
    parse_policy,
    policy_text_is_full_access,
    prefixes_for_service,
    restricts_in_allow,
    spelled_key,
)
from vpce_audit.analysis.trust import (
    UNIQUE_PRINCIPAL_ID,
    Trust,
    TrustView,
    is_valid_aws_principal,
    principal_account,
)
from vpce_audit.cached import cached_property
from vpce_audit.findings import Finding, Severity, Skipped
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

    @cached_property
    def prefixes(self) -> Prefixes:
        return prefixes_for_service(self.endpoint.service_name)

    @property
    def action_prefix(self) -> str:
        return self.prefixes.primary

    @property
    def is_data_service(self) -> bool:
        return self.action_prefix in DATA_SERVICES

    @property
    def ceiling(self) -> Severity:
        """The severity of a permission finding that certainly holds (see the module doc)."""
        return Severity.HIGH if self.is_data_service else Severity.MEDIUM

    @property
    def full_access(self) -> bool:
        return self.policy is not None and policy_text_is_full_access(
            self.endpoint.policy_document, self.action_prefix
        )

    def evaluator(self, trust: TrustView) -> PolicyEvaluator:
        assert self.policy is not None
        return PolicyEvaluator(
            self.policy,
            self.prefixes,
            trust,
            partition=self.scope.partition,
            region=self.endpoint.service_region or self.scope.region,
        )

    def describe(self) -> str:
        return (
            f"{self.endpoint.endpoint_type} endpoint {self.endpoint.endpoint_id} to "
            f"{self.endpoint.target} in {self.endpoint.vpc_id}"
        )


def _policy_supported(scope: ScopeView, endpoint: VpcEndpoint) -> bool | None:
    """Whether the endpoint's service takes endpoint policies; None when the snapshot cannot say.

    VPC Lattice endpoints (to a service network or a resource configuration) take no endpoint
    policy (https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html).
    """
    if endpoint.is_lattice or is_privatelink_service(endpoint.service_name):
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
                where = (
                    f" (a service of {endpoint.service_region})"
                    if endpoint.service_region and endpoint.service_region != scope.region
                    else ""
                )
                yield ctx.skip(
                    scope,
                    endpoint.endpoint_id,
                    f"service {endpoint.target}{where} is not listed by "
                    "DescribeVpcEndpointServices, so whether it takes endpoint policies is unknown",
                    because_of=(endpoint.service_region or "",),
                )
                continue
            if not supported:
                continue
            try:
                policy, problem = parse_policy(endpoint.policy_document), None
            except PolicyParseError as error:
                policy, problem = None, str(error)
            yield PolicyTarget(scope, endpoint, policy, problem)


def _report(ctx: RuleContext, target: PolicyTarget, message: str, severity: Severity) -> Finding:
    return ctx.finding(
        target.scope,
        target.endpoint.endpoint_id,
        message,
        related=(target.endpoint.vpc_id,),
        severity=ctx.severity_for(severity),
    )


def _listing(values: Iterable[str], limit: int = 5) -> str:
    ordered = sorted(set(values))
    shown = ", ".join(ordered[:limit])
    return shown + (f" and {len(ordered) - limit} more" if len(ordered) > limit else "")


# -- VPCE101 -----------------------------------------------------------------------------------


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
            reach = (
                "any principal, including other accounts' credentials and anonymous callers, can "
                f"read and write {'buckets' if target.action_prefix == 's3' else 'tables'} of any "
                "account through it"
                if target.is_data_service
                else "credentials of any account can be used through it"
            )
            yield _report(
                ctx,
                target,
                f"{target.describe()} {origin}, with no condition and no Deny: it has neither an "
                f"identity nor a resource perimeter; {reach}.",
                target.ceiling,
            )


def _said_by_vpce101(ctx: RuleContext, target: PolicyTarget) -> bool:
    """When VPCE101 flags an endpoint, its message already says the policy has neither
    perimeter: VPCE102 and VPCE103 stay silent then (but speak when VPCE101 is not running)."""
    return "VPCE101" in ctx.rules_running and target.full_access


# -- shared: two readings of trust ---------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What a check found, and how sure it is."""

    verdicts: tuple[Verdict, ...]
    certain: bool
    """True when the finding holds even if every account of unknown membership is a member."""
    unknown_accounts: tuple[str, ...] = ()

    @cached_property
    def allowing_statements(self) -> tuple[tuple[Statement, tuple[str, ...]], ...]:
        """Each statement that allows a verdict's request, in policy order, with the actions
        it allows among them. Worked out once per judgement: thousands of endpoints share
        one (Judge), and a judgement holds hundreds of verdicts."""
        found: dict[int, tuple[Statement, set[str]]] = {}
        for verdict in self.verdicts:
            for statement in verdict.allowing:
                found.setdefault(statement.index, (statement, set()))[1].add(verdict.request.action)
        return tuple((found[i][0], tuple(sorted(found[i][1]))) for i in sorted(found))

    @cached_property
    def caller_kinds(self) -> frozenset[CallerKind]:
        return frozenset(verdict.request.caller.kind for verdict in self.verdicts)


Finder = Callable[[PolicyEvaluator], list[Verdict]]


class Judge:
    """Judges endpoints' policies for one rule; endpoints with the same policy text, service and
    region share one judgement (estates reuse a handful of policies across thousands)."""

    def __init__(self, ctx: RuleContext, find: Finder) -> None:
        self.ctx = ctx
        self.find = find
        self._outcomes: dict[tuple[str | None, str, str, str], Outcome | None] = {}

    def __call__(self, target: PolicyTarget) -> Outcome | None:
        key = (
            target.endpoint.policy_document,
            target.endpoint.service_name,
            target.endpoint.service_region or target.scope.region,
            target.scope.partition,
        )
        if key not in self._outcomes:
            self._outcomes[key] = self._judge(target)
        return self._outcomes[key]

    def _judge(self, target: PolicyTarget) -> Outcome | None:
        trusted = self.ctx.trusted
        lenient = self.find(target.evaluator(trusted.assuming_unknown_trusted()))
        if lenient:
            return Outcome(tuple(lenient), certain=True)
        if trusted.membership_known:
            return None
        strict = self.find(target.evaluator(trusted.assuming_unknown_untrusted()))
        if not strict:
            return None
        unknown = _unknown_accounts(target, strict, self.ctx)
        return Outcome(tuple(strict), certain=False, unknown_accounts=unknown)


def _unknown_accounts(
    target: PolicyTarget, verdicts: Sequence[Verdict], ctx: RuleContext
) -> tuple[str, ...]:
    found: set[str] = set()
    for verdict in verdicts:
        if verdict.request.caller.kind is CallerKind.ACCOUNT and verdict.request.caller.account:
            found.add(verdict.request.caller.account)
        for statement in verdict.allowing:
            for condition in statement.conditions:
                for value in condition.values:
                    account = principal_account(value) or (
                        value if value.isdigit() and len(value) == 12 else None
                    )
                    if account and ctx.trusted.account_trust(account) is Trust.UNKNOWN:
                        found.add(account)
    return tuple(sorted(a for a in found if ctx.trusted.account_trust(a) is Trust.UNKNOWN))


def _membership_note(ctx: RuleContext, outcome: Outcome) -> str:
    orgs = ", ".join(sorted(ctx.trusted.orgs_with_unknown_members))
    accounts = _listing(outcome.unknown_accounts) or "the accounts it names"
    return (
        f" This holds only if {accounts} {'is' if len(outcome.unknown_accounts) == 1 else 'are'} "
        f"outside organisation {orgs}, whose member list could not be read "
        "(organizations:ListAccounts is permitted only in the management account or a delegated "
        "administrator); add them to trusted_account_ids if they are yours."
    )


def _severity(target: PolicyTarget, outcome: Outcome) -> Severity:
    return target.ceiling if outcome.certain else Severity.LOW


# -- VPCE102 -----------------------------------------------------------------------------------


# Web-identity and SAML federation: callers are unauthenticated until they assume a role, so no
# identity perimeter can hold; AWS's reference STS endpoint policy lets them assume the
# organisation's roles (a resource perimeter), and so does vpce-audit.
FEDERATION_ACTIONS = frozenset({"sts:assumerolewithwebidentity", "sts:assumerolewithsaml"})


STS_ACTIONS = (
    "sts:assumerole",
    "sts:assumerolewithsaml",
    "sts:assumerolewithwebidentity",
    "sts:assumeroot",
    "sts:decodeauthorizationmessage",
    "sts:getaccesskeyinfo",
    "sts:getcalleridentity",
    "sts:getdelegatedaccesstoken",
    "sts:getfederationtoken",
    "sts:getservicebearertoken",
    "sts:getsessiontoken",
    "sts:getwebidentitytoken",
    "sts:setcontext",
    "sts:setsourceidentity",
    "sts:tagsession",
)
"""AWS STS's actions (Service Authorization Reference), for what a wildcard action stands
for."""


def _federation(action: str) -> bool:
    """Whether the action is a federation action, or a wildcard (``sts:AssumeRoleWith*``, as a
    candidate action writes it) that matches STS's federation actions and no other."""
    action = action.lower()
    pattern = instantiated_pattern(action)
    if pattern is None:
        return action in FEDERATION_ACTIONS
    matched = {name for name in STS_ACTIONS if action_matches(pattern, name)}
    return bool(matched) and matched <= FEDERATION_ACTIONS


def _documented_exception(request: Request) -> bool:
    """Reads of named resources (AWS-owned buckets, a partner's named objects), and federation
    into your own roles."""
    if is_read_only_action(request.action) and request.target.named:
        return True
    return _federation(request.action) and request.target.owner is Owner.TRUSTED


def _outsider_access(evaluator: PolicyEvaluator) -> list[Verdict]:
    """Requests by outsiders or anonymous callers that the policy allows, except the documented
    exceptions."""
    return [
        verdict
        for verdict in evaluator.allowed(evaluator.requests((OUTSIDER, ANONYMOUS)))
        if not _documented_exception(verdict.request)
    ]


def _untrusted_values(conditions: Iterable[Condition], trust: TrustView) -> list[str]:
    """Values an Allow's restricting conditions admit that the trusted set does not hold."""
    return sorted(
        {
            value
            for c in conditions
            if restricts_in_allow(c)
            for value in c.values
            if not _value_trusted(c.key, value, trust)
        }
    )


def _identity_reason(statement: Statement, trust: TrustView) -> str:
    identity = [c for c in statement.conditions if c.key in IDENTITY_KEYS and not c.uses_variables]
    untrusted = _untrusted_values(identity, trust)
    if untrusted:
        return f"limits principals to {_listing(untrusted)}, outside the trusted set"
    loose = [c for c in identity if not restricts_in_allow(c)]
    if loose:
        condition = loose[0]
        return (
            f"has only {condition.operator} on {condition.key}, which is true for callers "
            "without the key (anonymous, or in no organisation) or with any other value"
        )
    return "allows any principal with no identity perimeter"


def _value_trusted(key: str, value: str, trust: TrustView) -> bool:
    if "*" in value or "?" in value.split("/", 1)[0]:
        return False
    if key in {"aws:principalorgid", "aws:resourceorgid"}:
        return trust.trusts_org(value)
    if key in {"aws:principalorgpaths", "aws:resourceorgpaths"}:
        return trust.trusts_org(value.split("/", 1)[0])
    if key == "aws:principalarn":
        account = principal_account(value)
        return account is not None and trust.trusts_account(account)
    if key == "aws:userid":
        account = trust.account_of_unique_id(value.split(":", 1)[0])
        return account is not None and trust.trusts_account(account)
    return trust.trusts_account(value)


def _deny_note(policy: Policy, keys: frozenset[str], trust: TrustView) -> str:
    """Why the policy's perimeter Deny statements, if any, did not stop the requests."""
    notes = []
    for statement in policy.denies:
        relevant = [c for c in statement.conditions if c.key in keys]
        if not relevant:
            continue
        compared = [c for c in relevant if c.parts.base != "null" and not c.uses_variables]
        admitted = sorted(
            {v for c in compared for v in c.values if not _value_trusted(c.key, v, trust)}
        )
        presence = [c for c in relevant if c.parts.base == "null"]
        if admitted:
            why = f"its perimeter admits {_listing(admitted)}"
        elif presence:
            tested = " / ".join(sorted({spelled_key(c.key) for c in presence}))
            why = (
                f"it tests only whether {tested} is present, and callers from other accounts "
                "and organisations have one"
            )
        else:
            why = (
                "a caller can avoid its other conditions, or it does not cover every action "
                "and resource"
            )
        notes.append(f"{statement.label} (Deny) does not stop them: {why}")
    return ("; " + "; ".join(notes)) if notes else ""


@builtin_rule("VPCE102", requires=TRUST_REQUIREMENTS)
def endpoint_policy_no_principal_perimeter(ctx: RuleContext) -> CheckResult:
    judge = Judge(ctx, _outsider_access)
    for target in policy_targets(ctx):
        if isinstance(target, Skipped):
            yield target
            continue
        if target.policy is None or _said_by_vpce101(ctx, target):
            continue  # VPCE105 reports unparseable policies; VPCE101 already says it all
        outcome = judge(target)
        if outcome is None:
            continue
        trust = (
            ctx.trusted.assuming_unknown_trusted()
            if outcome.certain
            else ctx.trusted.assuming_unknown_untrusted()
        )
        problems = [
            f"{s.label} {_identity_reason(s, trust)}" for s, _ in outcome.allowing_statements
        ]
        anonymous = CallerKind.ANONYMOUS in outcome.caller_kinds
        message = (
            f"{target.describe()}: {'; '.join(problems)}"
            f"{_deny_note(target.policy, IDENTITY_KEYS, trust)}. Credentials of other accounts"
            + (" and anonymous callers" if anonymous else "")
            + " can use this endpoint (aws:SourceVpc, aws:SourceVpce and aws:SourceIp do not "
            "limit who the caller is)."
        )
        if not outcome.certain:
            message += _membership_note(ctx, outcome)
        yield _report(ctx, target, message, _severity(target, outcome))


# -- VPCE103 -----------------------------------------------------------------------------------


def _exfiltration(evaluator: PolicyEvaluator) -> list[Verdict]:
    """Writes to resources an attacker can create, by anyone: outsiders, anonymous callers,
    ordinary insiders, or the accounts the policy names. A unique id that resolves to no
    principal is left out: it is how IAM shows a deleted principal, which can sign nothing
    (VPCE104 reports it as unknown); were it a live principal of a scanned account, the INSIDER
    caller stands for it."""
    named = [
        caller
        for caller in named_accounts(evaluator.policy, evaluator.trust)
        if not UNIQUE_PRINCIPAL_ID.match(caller.account or "")
    ]
    callers = (OUTSIDER, ANONYMOUS, INSIDER, *named)
    writes = WRITE_ACTIONS[evaluator.service]
    arbitrary = [t for t in evaluator.targets if t.arbitrary]
    return evaluator.allowed(evaluator.requests(callers, writes, arbitrary))


def _resource_reason(statement: Statement, trust: TrustView) -> str:
    perimeter = [c for c in statement.conditions if c.key in RESOURCE_KEYS and not c.uses_variables]
    untrusted = _untrusted_values(perimeter, trust)
    if untrusted:
        return f"limited to {_listing(untrusted)}, outside the trusted set"
    if any(c.uses_variables for c in statement.conditions if c.key in RESOURCE_KEYS):
        return (
            "limited only to resources of the caller's own account or organisation (a policy "
            "variable), which another account's principals satisfy with their own"
        )
    return "with no aws:ResourceOrgID / aws:ResourceAccount condition"


@builtin_rule("VPCE103", requires=TRUST_REQUIREMENTS)
def endpoint_policy_no_resource_perimeter(ctx: RuleContext) -> CheckResult:
    judge = Judge(ctx, _exfiltration)
    for target in policy_targets(ctx):
        if isinstance(target, Skipped):
            yield target
            continue
        if not target.is_data_service or target.policy is None:
            continue
        if _said_by_vpce101(ctx, target):
            continue
        outcome = judge(target)
        if outcome is None:
            if not ctx.snapshot.principals_known:
                # An unresolved id may be a live principal of ours that IAM could not list.
                ids = [
                    c
                    for c in named_accounts(target.policy, ctx.trusted.assuming_unknown_trusted())
                    if UNIQUE_PRINCIPAL_ID.match(c.account or "")
                ]
                if ids:
                    yield _unresolvable_ids(ctx, target, ids)
            continue
        trust = (
            ctx.trusted.assuming_unknown_trusted()
            if outcome.certain
            else ctx.trusted.assuming_unknown_untrusted()
        )
        kind = "bucket" if target.action_prefix == "s3" else "table"
        problems = []
        for statement, writes in outcome.allowing_statements:
            shown = ", ".join(writes[:3]) + (
                f" and {len(writes) - 3} more" if len(writes) > 3 else ""
            )
            problems.append(
                f"{statement.label} allows {shown} on any {kind} "
                f"{_resource_reason(statement, trust)}"
            )
        insiders_only = outcome.caller_kinds <= {CallerKind.INSIDER}
        who = "Your own principals" if insiders_only else "Anyone with credentials"
        message = (
            f"{target.describe()}: {'; '.join(problems)}"
            f"{_deny_note(target.policy, RESOURCE_KEYS, trust)}. {who} can write data through "
            f"this endpoint to {kind}s in accounts you do not own."
        )
        if not outcome.certain:
            message += _membership_note(ctx, outcome)
        yield _report(ctx, target, message, _severity(target, outcome))


# -- VPCE104 -----------------------------------------------------------------------------------


def _unresolvable_ids(ctx: RuleContext, target: PolicyTarget, ids: Iterable[Caller]) -> Skipped:
    return ctx.skip(
        target.scope,
        target.endpoint.endpoint_id,
        f"the policy names IAM unique ids ({_listing(c.account or '' for c in ids)}) and the "
        "roles and users of the scanned accounts could not be read to resolve them",
        because_of=("iam_principals",),
    )


@builtin_rule("VPCE104", requires=TRUST_REQUIREMENTS)
def endpoint_policy_untrusted_principal(ctx: RuleContext) -> CheckResult:
    for target in policy_targets(ctx):
        if isinstance(target, Skipped):
            yield target
            continue
        if target.policy is None:
            continue
        trusted = ctx.trusted
        strict = target.evaluator(trusted.assuming_unknown_untrusted())
        outside = list(named_accounts(target.policy, strict.trust))
        unresolved = [c for c in outside if UNIQUE_PRINCIPAL_ID.match(c.account or "")]
        if unresolved and not ctx.snapshot.principals_known:
            yield _unresolvable_ids(ctx, target, unresolved)
            continue
        # The same documented exceptions as VPCE102: a named principal reading named resources.
        allowed = [
            c
            for c in outside
            if any(
                not _documented_exception(v.request) for v in strict.allowed(strict.requests((c,)))
            )
        ]
        if not allowed:
            continue
        untrusted = [
            c.account or ""
            for c in allowed
            if c not in unresolved and trusted.account_trust(c.account or "") is Trust.UNTRUSTED
        ]
        unknown = [
            c.account or ""
            for c in allowed
            if c not in unresolved and trusted.account_trust(c.account or "") is Trust.UNKNOWN
        ]
        ghosts = [c.account or "" for c in allowed if c in unresolved]
        parts = []
        if untrusted:
            parts.append(
                f"principals of {_listing(untrusted)}, outside the trusted accounts and "
                "organisations"
            )
        if unknown:
            parts.append(
                f"principals of {_listing(unknown)}, whose membership of organisation "
                f"{', '.join(sorted(trusted.orgs_with_unknown_members))} is unknown "
                "(organizations:ListAccounts is not permitted for the scanning account)"
            )
        if ghosts:
            parts.append(
                f"unknown principal {_listing(ghosts)}: an IAM unique id that matches no role or "
                "user of the scanned accounts (AWS shows a deleted principal this way)"
            )
        severity = target.ceiling if untrusted else Severity.LOW
        yield _report(
            ctx,
            target,
            f"{target.describe()} allows {'; '.join(parts)}.",
            severity,
        )


# -- VPCE105 -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Construct:
    text: str
    severity: Severity


def _statement_constructs(statement: Statement, prefixes: Prefixes) -> list[Construct]:
    found: list[Construct] = []
    label = statement.label
    if statement.is_allow and statement.not_principals is not None:
        found.append(
            Construct(
                f"{label} is an Allow with NotPrincipal, which allows every principal not listed",
                Severity.MEDIUM,
            )
        )
    for element, value in (
        ("NotAction", statement.not_actions),
        ("NotResource", statement.not_resources),
    ):
        if statement.is_allow and value is not None:
            found.append(Construct(f"{label} is an Allow with {element}", Severity.LOW))
    if statement.principals is None and statement.not_principals is None:
        found.append(
            Construct(
                f"{label} has no Principal, which endpoint policies require (vpce-audit reads it "
                "as every principal)",
                Severity.MEDIUM,
            )
        )
    invalid = [
        p.value
        for p in (*(statement.principals or ()), *(statement.not_principals or ()))
        if p.kind == "AWS" and not is_valid_aws_principal(p.value)
    ]
    if invalid:
        found.append(
            Construct(
                f"{label} names {_listing(invalid)}, which is not an account id, an IAM or STS "
                "principal ARN without wildcards, or *",
                Severity.MEDIUM,
            )
        )
    if statement.actions is not None and not any(prefixes.applies(a) for a in statement.actions):
        found.append(
            Construct(
                f"{label} names only actions of other services ({_listing(statement.actions)}), "
                f"which never pass through a {prefixes.short_name} endpoint: it does not apply",
                Severity.LOW,
            )
        )
    found += [
        c for condition in statement.conditions for c in _condition_constructs(statement, condition)
    ]
    return found


def _condition_constructs(statement: Statement, condition: Condition) -> list[Construct]:
    label, key = statement.label, condition.key
    found: list[Construct] = []
    if key.startswith("aws:") and not is_known_global_key(key):
        holds = condition_truth(condition, ABSENT)
        effect = "is always true" if holds is Truth.ALWAYS else "is never true"
        consequence = (
            "the statement allows nothing"
            if statement.is_allow and holds is Truth.NEVER
            else "the Deny applies whatever the request carries"
            if statement.is_deny and holds is Truth.ALWAYS
            else "the Deny never applies"
            if statement.is_deny
            else "the condition restricts nothing"
        )
        found.append(
            Construct(
                f"{label} tests {key}, which is not an AWS global condition key (a typo?): AWS "
                f"never sets it, so {condition.operator} {effect} and {consequence}",
                Severity.MEDIUM,
            )
        )
    if (
        condition.parts.qualifier == "forallvalues"
        and key.startswith("aws:")
        and is_known_global_key(key)
        and not is_multivalued_global_key(key)
    ):
        found.append(
            Construct(
                f"{label} uses ForAllValues with single-valued {key} (it is also true when the "
                "key is absent; use the operator without a set qualifier)",
                Severity.LOW,
            )
        )
    if key == "aws:sourceip":
        if never_true_through_endpoint(condition):
            found.append(
                Construct(
                    f"{label} requires aws:SourceIp ({condition.operator}), which requests through "
                    "a VPC endpoint never carry: "
                    + (
                        "the statement never matches, so what it was meant to allow is denied "
                        "(use aws:VpcSourceIp)"
                        if statement.is_allow
                        else "the Deny never applies (use aws:VpcSourceIp)"
                    ),
                    Severity.MEDIUM if statement.is_allow else Severity.LOW,
                )
            )
        elif always_true_through_endpoint(condition):  # NotIpAddress, or any ...IfExists
            found.append(
                Construct(
                    f"{label} uses {condition.operator} on aws:SourceIp, which requests through a "
                    "VPC endpoint never carry: the condition is always true"
                    + (
                        ", so the Deny blocks every request it matches"
                        if statement.is_deny
                        else " and restricts nothing (use aws:VpcSourceIp)"
                    ),
                    Severity.MEDIUM if statement.is_deny else Severity.LOW,
                )
            )
    return found


@builtin_rule("VPCE105", requires=POLICY_REQUIREMENTS)
def endpoint_policy_unsafe_construct(ctx: RuleContext) -> CheckResult:
    for target in policy_targets(ctx):
        if isinstance(target, Skipped):
            yield target
            continue
        if target.policy is None:
            constructs = [
                Construct(
                    f"the policy is not a valid policy: {target.parse_error}", Severity.MEDIUM
                )
            ]
        else:
            constructs = [
                construct
                for statement in target.policy.statements
                for construct in _statement_constructs(statement, target.prefixes)
            ]
        if constructs:
            yield _report(
                ctx,
                target,
                f"{target.describe()}: {'; '.join(c.text for c in constructs)}.",
                max(c.severity for c in constructs),
            )
