"""1xx: endpoint policies."""

from __future__ import annotations

from vpce_audit.analysis.policy import (
    PolicyParseError,
    action_prefix_for_service,
    is_full_access,
    parse_policy,
)
from vpce_audit.model import VpcEndpoint
from vpce_audit.rules.base import CheckResult, RuleContext, builtin_rule
from vpce_audit.snapshot.views import ScopeView

PRIVATELINK_SERVICE_PREFIX = "com.amazonaws.vpce."


def _policy_supported(scope: ScopeView, endpoint: VpcEndpoint) -> bool | None:
    """Whether the endpoint's service takes endpoint policies; None when the snapshot cannot say."""
    if endpoint.service_name.startswith(PRIVATELINK_SERVICE_PREFIX):
        return False
    detail = scope.service_detail(endpoint)
    if detail is None:
        return None
    return detail.vpc_endpoint_policy_supported


@builtin_rule("VPCE101", requires=("vpc_endpoints", "endpoint_service_details"))
def endpoint_policy_full_access(ctx: RuleContext) -> CheckResult:
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
                policy = parse_policy(endpoint.policy_document)
            except PolicyParseError:
                continue  # VPCE105 reports unparseable policies; there is no "full access" to see.
            if is_full_access(policy, action_prefix_for_service(endpoint.service_name)):
                origin = (
                    "has no policy, so the AWS default full-access policy applies"
                    if endpoint.policy_document is None
                    else "has a policy that allows every principal every action on every resource"
                )
                yield ctx.finding(
                    scope,
                    endpoint.endpoint_id,
                    f"{endpoint.endpoint_type} endpoint {endpoint.endpoint_id} to "
                    f"{endpoint.service_name} in {endpoint.vpc_id} {origin}, with no condition "
                    "and no Deny: it has neither an identity nor a resource perimeter.",
                    related=(endpoint.vpc_id,),
                )
