from __future__ import annotations

import json

import pytest

from vpce_audit.analysis.policy import (
    PolicyParseError,
    action_matches,
    covers_all_actions,
    is_full_access,
    parse_policy,
)


def test_missing_policy_is_the_default_full_access_policy() -> None:
    assert is_full_access(parse_policy(None), "s3")
    assert is_full_access(parse_policy("  "), "s3")


@pytest.mark.parametrize(
    ("pattern", "prefix", "expected"),
    [
        ("*", "s3", True),
        ("s3:*", "s3", True),
        ("S3:*", "s3", True),
        ("*:*", "s3", True),
        ("s*", "s3", True),
        ("s3:Get*", "s3", False),
        ("s3:?", "s3", False),
        ("ec2:*", "s3", False),
        ("s3:PutObject", "s3", False),
    ],
)
def test_covers_all_actions(pattern: str, prefix: str, expected: bool) -> None:
    assert covers_all_actions(pattern, prefix) is expected


def test_action_matching_is_case_insensitive_with_wildcards() -> None:
    assert action_matches("s3:get*", "s3:GetObject")
    assert action_matches("s3:?etObject", "s3:GetObject")
    assert not action_matches("s3:Get*", "s3:PutObject")


def test_principal_forms_are_normalised() -> None:
    policy = parse_policy(
        json.dumps(
            {
                "Statement": [
                    {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": ["*", "123456789012"]},
                        "Action": "*",
                        "Resource": "*",
                    },
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                        "Action": "*",
                        "Resource": "*",
                    },
                ]
            }
        )
    )
    assert [s.applies_to_everyone for s in policy.statements] == [True, True, False]


def test_single_statement_object_is_accepted() -> None:
    policy = parse_policy(
        '{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}}'
    )
    assert is_full_access(policy, "s3")


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ({"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}, True),
        ({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:*", "Resource": "*"}, True),
        (
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "*",
                "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": "true"}},
            },
            False,
        ),
        (
            {"Effect": "Allow", "Principal": "*", "NotAction": "s3:DeleteBucket", "Resource": "*"},
            False,
        ),
        (
            {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "arn:aws:s3:::b/*"},
            False,
        ),
        (
            {
                "Effect": "Allow",
                "Principal": {"AWS": "111111111111"},
                "Action": "*",
                "Resource": "*",
            },
            False,
        ),
        ({"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}, False),
    ],
)
def test_full_access_shapes(statement: dict[str, object], expected: bool) -> None:
    assert is_full_access(parse_policy(json.dumps({"Statement": [statement]})), "s3") is expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "not a JSON object"),
        ('{"Version": "2012-10-17"}', "no Statement"),
        ('{"Statement": [{"Effect": "Maybe"}]}', "Effect"),
        ('{"Statement": [{"Effect": "Allow", "Action": 3}]}', "Action"),
    ],
)
def test_invalid_policies_raise_with_a_reason(text: str, problem: str) -> None:
    with pytest.raises(PolicyParseError, match=problem):
        parse_policy(text)
