"""Endpoint-policy analysis, table-driven: each case is a policy and exactly the 1xx rules that
must flag it. Trusted: the scanned account 111111111111 and its organisation o-trusted0001."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.helpers import ACCOUNT, endpoint, region, service, snapshot
from vpce_audit.model import AccountSnapshot
from vpce_audit.rules.base import Settings
from vpce_audit.rules.builtin.endpoint_policy import (
    endpoint_policy_full_access,
    endpoint_policy_no_principal_perimeter,
    endpoint_policy_no_resource_perimeter,
    endpoint_policy_unsafe_construct,
    endpoint_policy_untrusted_principal,
)
from vpce_audit.rules.engine import evaluate

ORG = "o-trusted0001"
RULES = [
    endpoint_policy_full_access,
    endpoint_policy_no_principal_perimeter,
    endpoint_policy_no_resource_perimeter,
    endpoint_policy_untrusted_principal,
    endpoint_policy_unsafe_construct,
]


def allow(
    action: Any = "*", resource: Any = "*", principal: Any = "*", **extra: Any
) -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Principal": principal,
        "Action": action,
        "Resource": resource,
        **extra,
    }


def deny(action: Any = "*", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Principal": "*", "Action": action, "Resource": resource, **extra}


def cond(operator: str, key: str, value: Any) -> dict[str, Any]:
    return {"Condition": {operator: {key: value}}}


ORG_ONLY = cond("StringEquals", "aws:PrincipalOrgID", ORG)
BOTH_PERIMETERS = {
    "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG, "aws:ResourceOrgID": ORG}}
}
OUTSIDE_ORG_DENIED = deny(**cond("StringNotEquals", "aws:PrincipalOrgID", ORG))
OUTSIDE_ORG_RESOURCES_DENIED = deny(**cond("StringNotEquals", "aws:ResourceOrgID", ORG))

AWS_SERVICES = cond("Bool", "aws:PrincipalIsAWSService", "true")
AWS_OWNED_BUCKETS = [
    "arn:aws:s3:::prod-eu-west-1-starport-layer-bucket/*",
    "arn:aws:s3:::amazonlinux-2-repos-eu-west-1/*",
]
RESOURCE_PERIMETER_DENY = {
    # AWS's reference shape: Deny everything outside the organisation's resources, except the
    # named AWS-owned buckets.
    "Effect": "Deny",
    "Principal": "*",
    "Action": "*",
    "NotResource": AWS_OWNED_BUCKETS,
    "Condition": {"StringNotEquals": {"aws:ResourceOrgID": ORG}},
}

CASES: list[tuple[str, str, Any, set[str]]] = [
    # -- rules v2 ------------------------------------------------------------------------
    # Bool aws:PrincipalIsAWSService = true admits AWS service principals only.
    ("aws-service-principals-only", "s3", [allow(**AWS_SERVICES)], set()),
    (
        "aws-service-name-positive",
        "ssm",
        [allow(**cond("StringEquals", "aws:PrincipalServiceName", "cloudtrail.amazonaws.com"))],
        set(),
    ),
    (
        "aws-service-bool-false-is-no-perimeter",
        "ssm",
        [allow(**cond("Bool", "aws:PrincipalIsAWSService", "false"))],
        {"VPCE102"},
    ),
    # Read-only on named resources (AWS-owned buckets) is the documented exception.
    ("read-only-named-aws-buckets", "s3", [allow("s3:GetObject", AWS_OWNED_BUCKETS)], set()),
    (
        "read-only-wildcard-bucket-is-not-named",
        "s3",
        [allow("s3:GetObject", "arn:aws:s3:::amazonlinux-*/*")],
        {"VPCE102"},
    ),
    (
        "write-to-named-bucket-by-anyone",
        "s3",
        [allow("s3:PutObject", "arn:aws:s3:::corp-data/*")],
        {"VPCE102"},
    ),
    # A bucket name ending in a wildcard reaches buckets anyone can create.
    (
        "bucket-prefix-wildcard-is-any-bucket",
        "s3",
        [allow("s3:PutObject", "arn:aws:s3:::corp-data*/*", **ORG_ONLY)],
        {"VPCE103"},
    ),
    (
        "deny-not-resource-resource-perimeter",
        "s3",
        [allow("s3:*", **ORG_ONLY), RESOURCE_PERIMETER_DENY],
        set(),
    ),
    (
        "deny-not-resource-untrusted-org",
        "s3",
        [
            allow("s3:*", **ORG_ONLY),
            {
                **RESOURCE_PERIMETER_DENY,
                "Condition": {"StringNotEquals": {"aws:ResourceOrgID": "o-stranger999"}},
            },
        ],
        {"VPCE103"},
    ),
    (
        "tagged-insiders-exception",
        "s3",
        [
            allow(**BOTH_PERIMETERS),
            allow(
                **{
                    "Condition": {
                        "StringEquals": {
                            "aws:PrincipalOrgID": ORG,
                            "aws:PrincipalTag/resource-perimeter-exception": "true",
                        }
                    }
                }
            ),
        ],
        set(),
    ),
    # Any tag value at all is no exception: every tagged principal of the organisation matches.
    (
        "tagged-insiders-any-value-is-no-exception",
        "s3",
        [
            allow(
                **{
                    "Condition": {
                        "StringEquals": {"aws:PrincipalOrgID": ORG},
                        "StringLike": {"aws:PrincipalTag/team": "*"},
                    }
                }
            )
        ],
        {"VPCE103"},
    ),
    # Policy variables: "the resource is the caller's own account" is a resource perimeter for
    # the organisation's principals (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html).
    (
        "resource-in-the-callers-own-account",
        "s3",
        [
            allow(
                **{
                    "Condition": {
                        "StringEquals": {
                            "aws:PrincipalOrgID": ORG,
                            "aws:ResourceAccount": "${aws:PrincipalAccount}",
                        }
                    }
                }
            )
        ],
        set(),
    ),
    (
        "resource-in-the-callers-own-account-but-anyone-calls",
        "s3",
        [allow(**cond("StringEquals", "aws:ResourceAccount", "${aws:PrincipalAccount}"))],
        {"VPCE102", "VPCE103"},  # an outsider writes to buckets of its own account
    ),
    (
        "principal-tag-alone-is-no-perimeter",
        "s3",
        [allow(**cond("StringEquals", "aws:PrincipalTag/team", "data"))],
        {"VPCE102", "VPCE103"},
    ),
    # Statements for other services never pass through the endpoint.
    ("other-service-statement", "s3", [allow("ec2:*")], {"VPCE105"}),
    (
        "other-service-beside-perimeter",
        "ssm",
        [allow(**ORG_ONLY), allow("kms:*")],
        {"VPCE105"},
    ),
    # Missing and invalid principals.
    (
        "missing-principal",
        "ssm",
        [{"Effect": "Allow", "Action": "*", "Resource": "*", **ORG_ONLY}],
        {"VPCE105"},
    ),
    (
        "invalid-principal-is-not-104",
        "ssm",
        [allow(principal={"AWS": "arn:aws:iam::*:role/admin"})],
        {"VPCE105"},
    ),
    # A typo in a global key: AWS never sets it.
    (
        "typo-in-allow-never-matches",
        "ssm",
        [allow(**cond("StringEquals", "aws:PrincpalOrgID", ORG))],
        {"VPCE105"},
    ),
    (
        "typo-in-deny-applies-to-everything",
        "ssm",
        [allow(), deny(**cond("StringNotEquals", "aws:PrincpalOrgID", ORG))],
        {"VPCE105"},
    ),
    # aws:SourceIp split by operator.
    (
        "not-ip-address-is-unconditional",
        "s3",
        [allow(**cond("NotIpAddress", "aws:SourceIp", "203.0.113.0/24"))],
        {"VPCE101", "VPCE105"},
    ),
    (
        "not-ip-address-deny-blocks-everything",
        "ssm",
        [allow(), deny(**cond("NotIpAddress", "aws:SourceIp", "10.0.0.0/8"))],
        {"VPCE105"},
    ),
    # ...IfExists on an absent key is true: this Deny, too, blocks everything.
    (
        "ip-address-if-exists-deny-blocks-everything",
        "ssm",
        [allow(), deny(**cond("IpAddressIfExists", "aws:SourceIp", "10.0.0.0/8"))],
        {"VPCE105"},
    ),
    # Anonymous callers carry aws:PrincipalAccount = "anonymous"; IfExists on it still holds.
    (
        "principal-account-ifexists",
        "ssm",
        [allow(**cond("StringEqualsIfExists", "aws:PrincipalAccount", ACCOUNT))],
        set(),
    ),
    (
        "principal-arn-ifexists-admits-anonymous",
        "s3",
        [
            allow(
                "s3:GetObject",
                **cond("ArnLikeIfExists", "aws:PrincipalArn", f"arn:aws:iam::{ACCOUNT}:*"),
            )
        ],
        {"VPCE102"},
    ),
    (
        "deny-not-principal-perimeter",
        "ssm",
        [
            allow(),
            {
                "Effect": "Deny",
                "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "*",
                "Resource": "*",
            },
        ],
        set(),
    ),
    (
        "deny-escapable-by-caller-tag",
        "ssm",
        [
            allow(),
            deny(
                **{
                    "Condition": {
                        "StringNotEquals": {"aws:PrincipalOrgID": ORG},
                        "StringNotEqualsIfExists": {"aws:PrincipalTag/exempt": "yes"},
                    }
                }
            ),
        ],
        {"VPCE102"},
    ),
    # -- v1 cases, unchanged -----------------------------------------------------------------
    # id, service, policy (None = no policy, str = raw text), expected rules
    ("no-policy-default", "s3", None, {"VPCE101"}),
    ("explicit-default", "s3", [allow()], {"VPCE101"}),
    ("aws-star-principal", "ssm", [allow(principal={"AWS": "*"})], {"VPCE101"}),
    ("service-wildcard-action", "s3", [allow("s3:*")], {"VPCE101"}),
    ("action-list-with-star", "ssm", [allow(["ssm:GetParameter", "*"])], {"VPCE101"}),
    ("org-id-trusted", "ssm", [allow(**ORG_ONLY)], set()),
    (
        "org-id-untrusted",
        "ssm",
        [allow(**cond("StringEquals", "aws:PrincipalOrgID", "o-stranger999"))],
        {"VPCE102"},
    ),
    (
        "org-id-list-one-untrusted",
        "ssm",
        [allow(**cond("StringEquals", "aws:PrincipalOrgID", [ORG, "o-stranger999"]))],
        {"VPCE102"},
    ),
    (
        "org-id-ifexists-is-no-perimeter",
        "ssm",
        [allow(**cond("StringEqualsIfExists", "aws:PrincipalOrgID", ORG))],
        {"VPCE102"},
    ),
    (
        "org-id-stringlike-exact",
        "ssm",
        [allow(**cond("StringLike", "aws:PrincipalOrgID", ORG))],
        set(),
    ),
    (
        "org-id-stringlike-wildcard",
        "ssm",
        [allow(**cond("StringLike", "aws:PrincipalOrgID", "o-*"))],
        {"VPCE102"},
    ),
    (
        "org-paths-trusted",
        "ssm",
        [allow(**cond("ForAnyValue:StringLike", "aws:PrincipalOrgPaths", f"{ORG}/r-ab12/*"))],
        set(),
    ),
    (
        "org-paths-untrusted",
        "ssm",
        [allow(**cond("ForAnyValue:StringLike", "aws:PrincipalOrgPaths", "o-other00001/*"))],
        {"VPCE102"},
    ),
    (
        "forallvalues-is-no-perimeter",
        "ssm",
        [allow(**cond("ForAllValues:StringEquals", "aws:PrincipalOrgID", ORG))],
        # true when the key is absent; and a set operator on a single-valued key (hygiene)
        {"VPCE102", "VPCE105"},
    ),
    (
        "foranyvalue-single-valued-key",
        "ssm",
        [allow(**cond("ForAnyValue:StringEquals", "aws:PrincipalOrgID", ORG))],
        set(),
    ),
    (
        "principal-account-trusted",
        "ssm",
        [allow(**cond("StringEquals", "aws:PrincipalAccount", [ACCOUNT]))],
        set(),
    ),
    (
        "principal-account-mixed",
        "ssm",
        [allow(**cond("StringEquals", "aws:PrincipalAccount", [ACCOUNT, "999999999999"]))],
        {"VPCE102"},
    ),
    (
        "principal-arn-trusted",
        "ssm",
        [allow(**cond("ArnLike", "aws:PrincipalArn", f"arn:aws:iam::{ACCOUNT}:role/app-*"))],
        set(),
    ),
    (
        "principal-arn-any-account",
        "ssm",
        [allow(**cond("ArnLike", "aws:PrincipalArn", "arn:aws:iam::*:role/app"))],
        {"VPCE102"},
    ),
    (
        "condition-key-case-insensitive",
        "ssm",
        [allow(**cond("StringEquals", "AWS:PRINCIPALORGID", ORG))],
        set(),
    ),
    (
        "source-vpc-is-no-identity-perimeter",
        "ssm",
        [allow(**cond("StringEquals", "aws:SourceVpc", "vpc-1"))],
        {"VPCE102"},
    ),
    (
        # aws:SourceIp is absent through an endpoint: the Allow never matches (it blocks
        # everything, a reliability defect), so it lets no outsider in.
        "source-ip-only",
        "ssm",
        [allow(**cond("IpAddress", "aws:SourceIp", "10.0.0.0/8"))],
        {"VPCE105"},
    ),
    (
        "negated-operator-in-allow",
        "ssm",
        [allow(**cond("StringNotEquals", "aws:PrincipalOrgID", "o-stranger999"))],
        {"VPCE102"},
    ),
    ("deny-carves-out-outside-org", "ssm", [allow(), OUTSIDE_ORG_DENIED], set()),
    (
        "deny-with-service-exemption",
        "ssm",
        [
            allow(),
            deny(
                **{
                    "Condition": {
                        "StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG},
                        "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
                    }
                }
            ),
        ],
        set(),
    ),
    (
        "deny-naming-untrusted-org",
        "ssm",
        [allow(), deny(**cond("StringNotEquals", "aws:PrincipalOrgID", "o-stranger999"))],
        {"VPCE102"},
    ),
    (
        "deny-one-action-only",
        "ssm",
        [
            allow(),
            deny("ssm:DeleteParameter", **cond("StringNotEquals", "aws:PrincipalOrgID", ORG)),
        ],
        {"VPCE102"},
    ),
    (
        "deny-with-unrelated-condition",
        "ssm",
        [
            allow(),
            deny(
                **{
                    "Condition": {
                        "StringNotEquals": {"aws:PrincipalOrgID": ORG},
                        "IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
                    }
                }
            ),
        ],
        # The Deny never applies through an endpoint (IpAddress on an absent aws:SourceIp).
        {"VPCE102", "VPCE105"},
    ),
    ("bare-account-principal-trusted", "ssm", [allow(principal={"AWS": ACCOUNT})], set()),
    (
        "bare-account-principal-untrusted",
        "ssm",
        [allow(principal={"AWS": "999999999999"})],
        {"VPCE104"},
    ),
    (
        "role-arn-untrusted",
        "ssm",
        [
            allow(
                principal={
                    "AWS": ["arn:aws:iam::999999999999:role/x", f"arn:aws:iam::{ACCOUNT}:root"]
                }
            )
        ],
        {"VPCE104"},
    ),
    (
        "assumed-role-trusted",
        "ssm",
        [allow(principal={"AWS": f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s"})],
        set(),
    ),
    (
        "service-principal-ignored",
        "ssm",
        [allow(principal={"Service": "ssm.amazonaws.com"})],
        set(),
    ),
    (
        "not-action-allow",
        "ssm",
        [
            {
                "Effect": "Allow",
                "Principal": "*",
                "NotAction": "ssm:Delete*",
                "Resource": "*",
                **ORG_ONLY,
            }
        ],
        {"VPCE105"},
    ),
    (
        "not-resource-allow",
        "ssm",
        [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "*",
                "NotResource": "arn:aws:ssm:*:*:parameter/secret",
                **ORG_ONLY,
            }
        ],
        {"VPCE105"},
    ),
    (
        # Everyone but the account's principals: outsiders included.
        "not-principal-allow",
        "ssm",
        [{"Effect": "Allow", "NotPrincipal": {"AWS": ACCOUNT}, "Action": "*", "Resource": "*"}],
        {"VPCE102", "VPCE105"},
    ),
    ("invalid-json", "ssm", '{"Statement": [', {"VPCE105"}),
    ("not-a-policy", "ssm", "[1, 2]", {"VPCE105"}),
    ("bad-effect", "ssm", json.dumps({"Statement": [{"Effect": "Permit"}]}), {"VPCE105"}),
    ("s3-get-only-any-bucket", "s3", [allow("s3:Get*", **ORG_ONLY)], set()),
    (
        "s3-put-star-on-any-bucket",
        "s3",
        [allow("s3:Put*", "arn:aws:s3:::*", **ORG_ONLY)],
        {"VPCE103"},
    ),
    (
        "s3-put-object-any-object",
        "s3",
        [allow("s3:PutObject", "arn:aws:s3:::*/*", **ORG_ONLY)],
        {"VPCE103"},
    ),
    (
        "s3-put-own-bucket",
        "s3",
        [allow("s3:PutObject", "arn:aws:s3:::corp-data/*", **ORG_ONLY)],
        set(),
    ),
    ("s3-all-with-resource-org", "s3", [allow("s3:*", **BOTH_PERIMETERS)], set()),
    (
        "s3-resource-account",
        "s3",
        [
            allow(
                "s3:*",
                **{
                    "Condition": {
                        "StringEquals": {"aws:PrincipalOrgID": ORG, "s3:ResourceAccount": ACCOUNT}
                    }
                },
            )
        ],
        set(),
    ),
    (
        "s3-resource-account-untrusted",
        "s3",
        [
            allow(
                "s3:*",
                **{
                    "Condition": {
                        "StringEquals": {
                            "aws:PrincipalOrgID": ORG,
                            "aws:ResourceAccount": "999999999999",
                        }
                    }
                },
            )
        ],
        {"VPCE103"},
    ),
    (
        "s3-deny-outside-resources",
        "s3",
        [allow("s3:*", **ORG_ONLY), OUTSIDE_ORG_RESOURCES_DENIED],
        set(),
    ),
    (
        "s3-not-action-covers-writes",
        "s3",
        [
            {
                "Effect": "Allow",
                "Principal": "*",
                "NotAction": "s3:DeleteBucket",
                "Resource": "*",
                **ORG_ONLY,
            }
        ],
        {"VPCE103", "VPCE105"},
    ),
    (
        "dynamodb-write-any-table",
        "dynamodb",
        [
            allow(
                ["dynamodb:PutItem", "dynamodb:GetItem"], "arn:aws:dynamodb:*:*:table/*", **ORG_ONLY
            )
        ],
        {"VPCE103"},
    ),
    (
        "dynamodb-own-tables",
        "dynamodb",
        [allow("dynamodb:*", f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/*", **ORG_ONLY)],
        set(),
    ),
    (
        "dynamodb-read-only",
        "dynamodb",
        [allow(["dynamodb:GetItem", "dynamodb:Query"], **ORG_ONLY)],
        set(),
    ),
    ("ssm-writes-are-not-vpce103", "ssm", [allow("ssm:PutParameter", **ORG_ONLY)], set()),
    (
        "full-policy-with-deny-statement",
        "s3",
        [allow(), deny("s3:DeleteBucket")],
        {"VPCE102", "VPCE103"},
    ),
    (
        "secure-transport-only",
        "s3",
        [allow(**cond("Bool", "aws:SecureTransport", "true"))],
        {"VPCE102", "VPCE103"},
    ),
    # aws:SourceAccount, SourceArn, SourceOrgID are set only on calls an AWS service principal
    # makes for a resource owner
    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html):
    # a caller's own request through the endpoint lacks them and fails a positive test.
    (
        "source-account-admits-no-direct-caller",
        "s3",
        [allow(**cond("StringEquals", "aws:SourceAccount", "999999999999"))],
        set(),
    ),
    (
        "source-arn-admits-no-direct-caller",
        "s3",
        [allow(**cond("ArnLike", "aws:SourceArn", f"arn:aws:*:*:{ACCOUNT}:*"))],
        set(),
    ),
    (
        "source-org-admits-no-direct-caller",
        "ssm",
        [allow(**cond("StringEquals", "aws:SourceOrgID", ORG))],
        set(),
    ),
    (
        # A negated test on a key the request lacks is true: every direct caller passes.
        "source-account-negated-admits-everyone",
        "s3",
        [allow(**cond("StringNotEquals", "aws:SourceAccount", "999999999999"))],
        {"VPCE102", "VPCE103"},
    ),
    # AWS's STS reference policy lets federated callers (who carry no principal org) assume the
    # organisation's roles; a wildcard naming exactly those actions is the same statement.
    (
        "sts-federation-by-wildcard",
        "sts",
        [
            allow(**ORG_ONLY),
            allow("sts:AssumeRoleWith*", **cond("StringEquals", "aws:ResourceOrgID", ORG)),
        ],
        set(),
    ),
    (
        "sts-wildcard-wider-than-federation",
        "sts",
        [
            allow(**ORG_ONLY),
            allow("sts:Assume*", **cond("StringEquals", "aws:ResourceOrgID", ORG)),
        ],
        {"VPCE102"},
    ),
]


@pytest.mark.parametrize(("case", "short", "policy", "expected"), CASES, ids=[c[0] for c in CASES])
def test_policy_case(case: str, short: str, policy: Any, expected: set[str]) -> None:
    text = (
        policy
        if isinstance(policy, str) or policy is None
        else json.dumps({"Version": "2012-10-17", "Statement": policy})
    )
    kind = "Gateway" if short in {"s3", "dynamodb"} else "Interface"
    estate = region(
        endpoint_service_details=[service(short, kind)],
        vpc_endpoints=[endpoint("vpce-case", "vpc-1", short, kind, policy=text)],
    )
    account = AccountSnapshot(ACCOUNT, "2026-11-26T00:00:00Z", organization_id=ORG)
    result = evaluate(snapshot(estate, accounts=(account,)), RULES, Settings())
    assert not result.rule_errors, result.rule_errors
    assert {f.rule_id for f in result.findings} == expected


def test_the_table_is_large_enough() -> None:
    assert len(CASES) >= 40


def test_configured_trust_extends_the_scanned_organisation() -> None:
    policy = json.dumps(
        {"Statement": [allow(**cond("StringEquals", "aws:PrincipalOrgID", "o-partner0001"))]}
    )
    estate = region(
        endpoint_service_details=[service("ssm")],
        vpc_endpoints=[endpoint("vpce-1", "vpc-1", "ssm", policy=policy)],
    )
    account = AccountSnapshot(ACCOUNT, "2026-11-26T00:00:00Z", organization_id=ORG)
    untrusted = evaluate(snapshot(estate, accounts=(account,)), [RULES[1]], Settings())
    assert [f.rule_id for f in untrusted.findings] == ["VPCE102"]
    assert "o-partner0001" in untrusted.findings[0].message
    trusted = evaluate(
        snapshot(estate, accounts=(account,)),
        [RULES[1]],
        Settings(trusted_org_ids=frozenset({"o-partner0001"})),
    )
    assert trusted.findings == ()


def test_vpce102_and_103_speak_for_full_access_when_vpce101_is_not_running() -> None:
    estate = region(
        endpoint_service_details=[service("s3", "Gateway")],
        vpc_endpoints=[endpoint("vpce-default", "vpc-1", "s3", "Gateway")],
    )
    account = AccountSnapshot(ACCOUNT, "2026-11-26T00:00:00Z", organization_id=ORG)
    with_101 = evaluate(snapshot(estate, accounts=(account,)), RULES, Settings())
    assert [f.rule_id for f in with_101.findings] == ["VPCE101"]
    without_101 = evaluate(snapshot(estate, accounts=(account,)), RULES[1:3], Settings())
    assert sorted(f.rule_id for f in without_101.findings) == ["VPCE102", "VPCE103"]


def _messages(policy: dict[str, Any], short: str = "ssm") -> dict[str, str]:
    kind = "Gateway" if short in {"s3", "dynamodb"} else "Interface"
    estate = region(
        endpoint_service_details=[service(short, kind)],
        vpc_endpoints=[endpoint("vpce-case", "vpc-1", short, kind, policy=policy)],
    )
    account = AccountSnapshot(ACCOUNT, "2026-11-26T00:00:00Z", ORG, (ACCOUNT,))
    result = evaluate(snapshot(estate, accounts=(account,)), RULES, Settings())
    return {f.rule_id: f.message for f in result.findings}


def test_variables_are_literal_text_in_version_2008_policies() -> None:
    """IAM resolves policy variables only in policies of version 2012-10-17."""
    statement = allow(
        **{
            "Condition": {
                "StringEquals": {
                    "aws:PrincipalOrgID": ORG,
                    "aws:ResourceAccount": "${aws:PrincipalAccount}",
                }
            }
        }
    )
    found = _messages({"Version": "2008-10-17", "Statement": [statement]}, "s3")
    assert set(found) == {"VPCE103"}
    assert "limited to ${aws:PrincipalAccount}, outside the trusted set" in found["VPCE103"]
    assert _messages({"Version": "2012-10-17", "Statement": [statement]}, "s3") == {}


def test_a_deny_that_tests_only_presence_is_explained_as_such() -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [allow(), deny(**cond("Null", "aws:PrincipalOrgID", "true"))],
    }
    message = _messages(policy)["VPCE102"]
    assert "tests only whether aws:PrincipalOrgID is present" in message
    assert "admits true" not in message
