"""11x: endpoint services this account provides, and third-party services it consumes."""

from __future__ import annotations

from vpce_audit.analysis.trust import principal_is_trusted
from vpce_audit.findings import Severity
from vpce_audit.model import EndpointServiceConfiguration, is_privatelink_service
from vpce_audit.rules.base import CheckResult, RuleContext, builtin_rule

EVERYONE = frozenset({"*", "arn:aws:iam::*:root"})


def _live(configuration: EndpointServiceConfiguration) -> bool:
    return configuration.state.lower() not in {"deleted", "deleting", "failed"}


@builtin_rule("VPCE110", requires=("endpoint_service_configurations",))
def endpoint_service_auto_accept(ctx: RuleContext) -> CheckResult:
    for scope in ctx.scopes():
        for service in scope.data.endpoint_service_configurations:
            if _live(service) and not service.acceptance_required:
                yield ctx.finding(
                    scope,
                    service.service_id,
                    f"Endpoint service {service.service_id} ({service.service_name}) accepts "
                    "connection requests automatically (AcceptanceRequired = false): any allowed "
                    "principal is connected without review.",
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
            open_to_all = sorted(p for p in service.allowed_principals if p in EVERYONE)
            untrusted = sorted(
                p
                for p in service.allowed_principals
                if p not in EVERYONE and not principal_is_trusted(p, ctx.trusted)
            )
            if not open_to_all and not untrusted:
                continue
            parts = []
            if open_to_all:
                parts.append(f"every AWS account ({', '.join(open_to_all)})")
            if untrusted:
                parts.append(f"untrusted principals {', '.join(untrusted)}")
            auto = not service.acceptance_required
            yield ctx.finding(
                scope,
                service.service_id,
                f"Endpoint service {service.service_id} ({service.service_name}) allows "
                f"{' and '.join(parts)} to create endpoints to it"
                + (", and accepts their connections automatically." if auto else "."),
                severity=Severity.CRITICAL if auto else None,
            )


@builtin_rule("VPCE112", requires=("vpc_endpoints", "endpoint_service_details", "organization"))
def endpoint_to_untrusted_service(ctx: RuleContext) -> CheckResult:
    for scope in ctx.scopes():
        for endpoint in scope.live_endpoints:
            if not is_privatelink_service(endpoint.service_name):
                continue
            if not endpoint.is_interface:
                continue
            detail = scope.service_detail(endpoint)
            if detail is None:
                yield ctx.skip(
                    scope,
                    endpoint.endpoint_id,
                    f"the owner of {endpoint.service_name} is unknown (not listed by "
                    "DescribeVpcEndpointServices)",
                )
                continue
            owner = detail.owner
            if owner.lower() == "amazon" or ctx.trusted.trusts_account(owner):
                continue
            yield ctx.finding(
                scope,
                endpoint.endpoint_id,
                f"Interface endpoint {endpoint.endpoint_id} in {endpoint.vpc_id} "
                f"connects to {endpoint.service_name}, provided by account {owner}, which is "
                "outside the trusted accounts: third-party PrivateLink, listed for review.",
                related=(endpoint.vpc_id,),
            )
