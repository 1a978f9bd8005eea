"""11x: endpoint services this account provides, who may and who does connect to them, and
third-party services it consumes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from vpce_audit.analysis.trust import Trust, TrustedSet, principal_trust
from vpce_audit.findings import Severity
from vpce_audit.model import EndpointServiceConfiguration, is_privatelink_service
from vpce_audit.rules.base import CheckResult, RuleContext, builtin_rule

EVERYONE = frozenset({"*", "arn:aws:iam::*:root"})
# States in which a consumer's endpoint is connected, or provisioning after acceptance.
CONNECTED_STATES = frozenset({"available", "pending", "partial"})
PENDING_ACCEPTANCE = "pendingacceptance"


def _live(configuration: EndpointServiceConfiguration) -> bool:
    return configuration.state.lower() not in {"deleted", "deleting", "failed"}


@dataclass(frozen=True)
class _AllowList:
    """An endpoint service's allowed principals by trust."""

    everyone: list[str]
    """"*" and "arn:aws:iam::*:root": every AWS account."""
    untrusted: list[str]
    unknown: list[str]
    """Principals of accounts whose organisation membership is unknown."""


def _allow_list(principals: Iterable[str], trusted: TrustedSet) -> _AllowList:
    trust = {p: principal_trust(p, trusted) for p in principals if p not in EVERYONE}
    return _AllowList(
        everyone=sorted(p for p in principals if p in EVERYONE),
        untrusted=sorted(p for p, t in trust.items() if t is Trust.UNTRUSTED),
        unknown=sorted(p for p, t in trust.items() if t is Trust.UNKNOWN),
    )


@builtin_rule(
    "VPCE110",
    requires=("endpoint_service_configurations", "endpoint_service_permissions", "organization"),
)
def endpoint_service_auto_accept(ctx: RuleContext) -> CheckResult:
    """Auto-accept matters only when someone may connect: with an empty allow list nobody can
    (https://docs.aws.amazon.com/vpc/latest/privatelink/configure-endpoint-service.html)."""
    for scope in ctx.scopes():
        for service in scope.data.endpoint_service_configurations:
            if not _live(service) or service.acceptance_required:
                continue
            if service.allowed_principals is None:
                yield ctx.skip(scope, service.service_id, "allowed principals were not collected")
                continue
            if not service.allowed_principals:
                continue
            allowed = _allow_list(service.allowed_principals, ctx.trusted)
            outside = sorted((*allowed.everyone, *allowed.untrusted))
            if outside:
                who = f"including {', '.join(outside)} from outside the trusted set"
            elif allowed.unknown:
                who = (
                    f"including {', '.join(allowed.unknown)}, whose organisation membership is "
                    "unknown"
                )
            else:
                who = "all of them trusted"
            yield ctx.finding(
                scope,
                service.service_id,
                f"Endpoint service {service.service_id} ({service.service_name}) accepts "
                "connection requests automatically (AcceptanceRequired = false): every allowed "
                f"principal ({len(service.allowed_principals)}, {who}) is connected without "
                "review.",
                severity=ctx.severity_for(Severity.MEDIUM if outside else Severity.LOW),
            )


@builtin_rule(
    "VPCE111",
    requires=("endpoint_service_configurations", "endpoint_service_permissions", "organization"),
)
def endpoint_service_open_principals(ctx: RuleContext) -> CheckResult:
    for scope in ctx.scopes():
        for service in scope.data.endpoint_service_configurations:
            if not _live(service):
                continue
            if service.allowed_principals is None:
                yield ctx.skip(scope, service.service_id, "allowed principals were not collected")
                continue
            allowed = _allow_list(service.allowed_principals, ctx.trusted)
            open_to_all, untrusted, unknown = allowed.everyone, allowed.untrusted, allowed.unknown
            if not open_to_all and not untrusted and not unknown:
                continue
            parts = []
            if open_to_all:
                parts.append(f"every AWS account ({', '.join(open_to_all)})")
            if untrusted:
                parts.append(f"untrusted principals {', '.join(untrusted)}")
            if unknown:
                parts.append(
                    f"principals {', '.join(unknown)} whose organisation membership is unknown "
                    "(organizations:ListAccounts is not permitted for the scanning account)"
                )
            auto = not service.acceptance_required
            if open_to_all or untrusted:
                severity = Severity.CRITICAL if auto else Severity.HIGH
            else:
                severity = Severity.LOW
            yield ctx.finding(
                scope,
                service.service_id,
                f"Endpoint service {service.service_id} ({service.service_name}) allows "
                f"{' and '.join(parts)} to create endpoints to it"
                + (", and accepts their connections automatically." if auto else "."),
                severity=ctx.severity_for(severity),
            )


@builtin_rule("VPCE112", requires=("vpc_endpoints", "endpoint_service_details", "organization"))
def endpoint_to_untrusted_service(ctx: RuleContext) -> CheckResult:
    """Endpoints connected to the service, and those whose request awaits the provider's
    acceptance; one the provider rejected, or that expired or failed, carries nothing
    (https://docs.aws.amazon.com/vpc/latest/privatelink/create-interface-endpoint.html: "it's
    available to use when it's accepted by the service provider")."""
    for scope in ctx.scopes():
        for endpoint in scope.live_endpoints:
            if not is_privatelink_service(endpoint.service_name):
                continue
            if not endpoint.is_interface:
                continue
            state = endpoint.state.lower()
            requested = state == PENDING_ACCEPTANCE
            if not requested and state not in CONNECTED_STATES:
                continue
            detail = scope.service_detail(endpoint)
            owner = (
                detail.owner
                if detail is not None
                else ctx.snapshot.service_providers.get(endpoint.service_name)
            )
            if owner is None:
                yield ctx.skip(
                    scope,
                    endpoint.endpoint_id,
                    f"the owner of {endpoint.target} is unknown (not listed by "
                    "DescribeVpcEndpointServices, and provided by no scanned account)",
                )
                continue
            if owner.lower() == "amazon":
                continue
            trust = ctx.trusted.account_trust(owner)
            if trust is Trust.TRUSTED:
                continue
            note = (
                " (its membership of your organisation could not be read)"
                if trust is Trust.UNKNOWN
                else ", which is outside the trusted accounts"
            )
            yield ctx.finding(
                scope,
                endpoint.endpoint_id,
                f"Interface endpoint {endpoint.endpoint_id} in {endpoint.vpc_id} "
                f"{'asks to connect' if requested else 'connects'} to {endpoint.target}, "
                f"provided by account {owner}{note}: third-party PrivateLink, listed for review"
                + (
                    " (pendingAcceptance: the provider has not accepted it yet)."
                    if requested
                    else "."
                ),
                related=(endpoint.vpc_id,),
            )


@builtin_rule(
    "VPCE113",
    requires=("endpoint_service_configurations", "endpoint_connections", "organization"),
)
def endpoint_service_untrusted_consumer(ctx: RuleContext) -> CheckResult:
    """Who is actually connected, whatever the allow list says today
    (https://docs.aws.amazon.com/vpc/latest/privatelink/configure-endpoint-service.html#accept-reject-connection-requests)."""
    for scope in ctx.scopes():
        by_service: dict[str, list[str]] = {}
        unknown_by_service: dict[str, list[str]] = {}
        for connection in scope.data.endpoint_connections:
            if connection.state.lower() not in CONNECTED_STATES:
                continue
            owner = connection.endpoint_owner or ""
            trust = ctx.trusted.account_trust(owner) if owner else Trust.UNTRUSTED
            if trust is Trust.TRUSTED:
                continue
            target = by_service if trust is Trust.UNTRUSTED else unknown_by_service
            target.setdefault(connection.service_id, []).append(
                f"{connection.endpoint_id} of account {owner or 'unknown'} ({connection.state})"
            )
        names = {s.service_id: s.service_name for s in scope.data.endpoint_service_configurations}
        for service_id in sorted(set(by_service) | set(unknown_by_service)):
            parts = []
            if service_id in by_service:
                parts.append(
                    f"endpoints of accounts outside the trusted set: "
                    f"{', '.join(sorted(by_service[service_id]))}"
                )
            if service_id in unknown_by_service:
                parts.append(
                    "endpoints of accounts whose organisation membership is unknown: "
                    f"{', '.join(sorted(unknown_by_service[service_id]))}"
                )
            severity = Severity.HIGH if service_id in by_service else Severity.LOW
            yield ctx.finding(
                scope,
                service_id,
                f"Endpoint service {service_id} ({names.get(service_id, 'unknown name')}) is "
                f"connected to {'; '.join(parts)}. They reach the service's load balancer from "
                "their own VPCs.",
                severity=ctx.severity_for(severity),
            )
