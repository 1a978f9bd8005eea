"""VPCE104: named principals outside the trusted set, by what AWS says about them.

Organisation members come from ListAccounts, which only the management account or a delegated
administrator may call (https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAccounts.html);
AWS shows a deleted role or user in a policy as its unique id
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids).
"""

from __future__ import annotations

import json

from tests.helpers import ACCOUNT, endpoint, region, service, snapshot
from vpce_audit.findings import Severity
from vpce_audit.model import AccountSnapshot, IamPrincipal, RegionSnapshot
from vpce_audit.rules.base import Settings
from vpce_audit.rules.builtin.endpoint_policy import endpoint_policy_untrusted_principal as rule
from vpce_audit.rules.engine import EvaluationResult, evaluate

ORG = "o-trusted0001"
MEMBER = "333333333333"
STRANGER = "999999999999"


def policy(*principals: str) -> str:
    return json.dumps(
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": list(principals)},
                    "Action": "s3:*",
                    "Resource": "*",
                }
            ]
        }
    )


def estate(*principals: str) -> RegionSnapshot:
    return region(
        endpoint_service_details=[service("s3", "Gateway"), service("ssm")],
        vpc_endpoints=[
            endpoint("vpce-s3", "vpc-1", "s3", "Gateway", policy=policy(*principals)),
            endpoint("vpce-ssm", "vpc-1", "ssm", policy=policy(*principals).replace("s3:*", "*")),
        ],
    )


def run(
    *principals: str,
    members: tuple[str, ...] | None,
    iam: tuple[IamPrincipal, ...] | None = (),
) -> EvaluationResult:
    account = AccountSnapshot(
        ACCOUNT,
        "2026-11-26T00:00:00Z",
        organization_id=ORG,
        organization_member_ids=members,
        iam_principals=iam,
    )
    result = evaluate(snapshot(estate(*principals), accounts=(account,)), [rule], Settings())
    assert not result.rule_errors
    return result


def test_organisation_members_are_trusted_when_the_member_list_is_known() -> None:
    result = run(f"arn:aws:iam::{MEMBER}:role/app", members=(ACCOUNT, MEMBER))
    assert result.findings == ()


def test_outsiders_are_reported_at_the_ceiling_of_the_service() -> None:
    result = run(f"arn:aws:iam::{STRANGER}:role/app", members=(ACCOUNT, MEMBER))
    severities = {f.resource_id: f.severity for f in result.findings}
    assert severities == {"vpce-s3": Severity.HIGH, "vpce-ssm": Severity.MEDIUM}
    assert "outside the trusted accounts and organisations" in result.findings[0].message


def test_without_the_member_list_an_unknown_account_is_low_and_said_so() -> None:
    result = run(f"arn:aws:iam::{MEMBER}:role/app", members=None)
    assert {f.severity for f in result.findings} == {Severity.LOW}
    message = result.findings[0].message
    assert f"principals of {MEMBER}, whose membership of organisation {ORG} is unknown" in message
    assert "outside the trusted accounts" not in message


def test_unique_ids_are_resolved_for_scanned_accounts() -> None:
    role = IamPrincipal("AROAEXAMPLEROLEID0001", f"arn:aws:iam::{ACCOUNT}:role/app")
    resolved = run("AROAEXAMPLEROLEID0001", members=(ACCOUNT,), iam=(role,))
    assert resolved.findings == ()
    ghost = run("AROAEXAMPLEDELETED001", members=(ACCOUNT,), iam=(role,))
    assert {f.severity for f in ghost.findings} == {Severity.LOW}
    assert "unknown principal AROAEXAMPLEDELETED001" in ghost.findings[0].message
    assert "outside the trusted" not in ghost.findings[0].message


def test_unique_ids_are_skipped_when_roles_and_users_could_not_be_read() -> None:
    result = run("AROAEXAMPLEROLEID0001", members=(ACCOUNT,), iam=None)
    assert result.findings == ()
    assert {s.resource_id for s in result.skipped} == {"vpce-s3", "vpce-ssm"}
    assert "could not be read" in result.skipped[0].reason


def test_a_deny_perimeter_removes_named_outsiders() -> None:
    guarded = json.dumps(
        {
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": STRANGER}, "Action": "*", "Resource": "*"},
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": ORG}},
                },
            ]
        }
    )
    estate_ = region(
        endpoint_service_details=[service("ssm")],
        vpc_endpoints=[endpoint("vpce-ssm", "vpc-1", "ssm", policy=guarded)],
    )
    account = AccountSnapshot(ACCOUNT, "2026-11-26T00:00:00Z", ORG, (ACCOUNT,))
    result = evaluate(snapshot(estate_, accounts=(account,)), [rule], Settings())
    assert result.findings == ()


def _judge_all(
    statements: list[dict[str, object]], *, iam: tuple[IamPrincipal, ...] | None = ()
) -> EvaluationResult:
    from vpce_audit.rules.builtin.endpoint_policy import (
        endpoint_policy_full_access,
        endpoint_policy_no_principal_perimeter,
        endpoint_policy_no_resource_perimeter,
    )

    estate_ = region(
        endpoint_service_details=[service("s3", "Gateway")],
        vpc_endpoints=[
            endpoint("vpce-s3", "vpc-1", "s3", "Gateway", policy={"Statement": statements})
        ],
    )
    account = AccountSnapshot(ACCOUNT, "2026-11-26T00:00:00Z", ORG, (ACCOUNT,), iam_principals=iam)
    rules = [
        endpoint_policy_full_access,
        endpoint_policy_no_principal_perimeter,
        endpoint_policy_no_resource_perimeter,
        rule,
    ]
    result = evaluate(snapshot(estate_, accounts=(account,)), rules, Settings())
    assert not result.rule_errors
    return result


def test_a_deny_with_not_principal_leaves_the_listed_outsider_allowed() -> None:
    """IAM applies a Deny with NotPrincipal to everyone not listed: the listed foreign account
    keeps the Allow (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html)."""
    result = _judge_all(
        [
            {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
            {
                "Effect": "Deny",
                "NotPrincipal": {"AWS": f"arn:aws:iam::{STRANGER}:root"},
                "Action": "*",
                "Resource": "*",
            },
        ]
    )
    assert {(f.rule_id, f.severity) for f in result.findings} == {
        ("VPCE103", Severity.HIGH),  # the foreign account can write to any bucket
        ("VPCE104", Severity.HIGH),
    }


def test_a_deleted_principal_is_unknown_never_an_outsider_writing_anywhere() -> None:
    """A unique id that resolves to no role or user is a deleted principal
    (https://repost.aws/knowledge-center/iam-resource-policy-format): it signs nothing, so it is
    not VPCE103's "anyone can write", only VPCE104's low "unknown principal"."""
    statements: list[dict[str, object]] = [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "AROAEXAMPLEDELETED001"},
            "Action": "s3:*",
            "Resource": "*",
        }
    ]
    result = _judge_all(statements)
    assert [(f.rule_id, f.severity) for f in result.findings] == [("VPCE104", Severity.LOW)]
    # Roles and users unreadable: the id might be one of ours, so neither rule decides.
    unread = _judge_all(statements, iam=None)
    assert unread.findings == ()
    assert sorted(s.rule_id for s in unread.skipped) == ["VPCE103", "VPCE104"]
