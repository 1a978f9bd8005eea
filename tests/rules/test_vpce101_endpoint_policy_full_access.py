from __future__ import annotations

from tests.helpers import endpoint, findings, flagged, region, service, skipped
from vpce_audit.rules.builtin.endpoint_policy import endpoint_policy_full_access as rule

ORG_ONLY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "*",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}},
        }
    ],
}
FULL = {
    "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "ssm:*", "Resource": "*"}
    ]
}
FULL_WITH_DENY = {
    "Statement": [
        FULL["Statement"][0],
        {"Effect": "Deny", "Principal": "*", "Action": "ssm:DeleteParameter", "Resource": "*"},
    ]
}
SERVICES = [
    service("s3", "Gateway"),
    service("ssm"),
    service("ec2"),
    service("nopolicy", policies=False),
]


def test_flags_exactly_the_full_access_endpoints() -> None:
    estate = region(
        endpoint_service_details=SERVICES,
        vpc_endpoints=[
            endpoint("vpce-s3-default", "vpc-1", "s3", "Gateway", policy=None),
            endpoint("vpce-s3-org", "vpc-1", "s3", "Gateway", policy=ORG_ONLY),
            endpoint("vpce-ssm-full", "vpc-1", "ssm", policy=FULL),
            endpoint("vpce-ssm-deny", "vpc-1", "ssm", policy=FULL_WITH_DENY),
            endpoint(
                "vpce-ssm-list",
                "vpc-1",
                "ssm",
                policy={
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": "*",
                            "Action": ["ssm:GetParameter", "*"],
                            "Resource": ["*"],
                        }
                    ]
                },
            ),
            endpoint(
                "vpce-wrong-service-wildcard",
                "vpc-1",
                "ssm",
                policy={
                    "Statement": [
                        {"Effect": "Allow", "Principal": "*", "Action": "ec2:*", "Resource": "*"}
                    ]
                },
            ),
            endpoint(
                "vpce-bucket-wildcard",
                "vpc-1",
                "s3",
                "Gateway",
                policy={
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": "arn:aws:s3:::*",
                        }
                    ]
                },
            ),
            endpoint("vpce-no-policy-support", "vpc-1", "nopolicy", policy=None),
            endpoint(
                "vpce-privatelink",
                "vpc-1",
                "com.amazonaws.vpce.eu-west-1.vpce-svc-0abc",
                policy=None,
            ),
            endpoint("vpce-deleted", "vpc-1", "s3", "Gateway", policy=None, state="deleted"),
            endpoint("vpce-invalid-json", "vpc-1", "ssm", policy="{not json"),
        ],
    )
    assert flagged(rule, estate) == {"vpce-s3-default", "vpce-ssm-full", "vpce-ssm-list"}


def test_message_says_the_default_policy_applies() -> None:
    estate = region(
        endpoint_service_details=SERVICES,
        vpc_endpoints=[endpoint("vpce-1", "vpc-9", "s3", "Gateway", policy=None)],
    )
    finding = findings(rule, estate)["vpce-1"]
    assert "default full-access policy" in finding.message
    assert finding.resource_arn == "arn:aws:ec2:eu-west-1:111111111111:vpc-endpoint/vpce-1"
    # S3 and DynamoDB: high, at least as severe as the VPCE102 / VPCE103 findings it silences.
    assert finding.severity.label == "high"


def test_severity_is_medium_for_services_other_than_s3_and_dynamodb() -> None:
    estate = region(
        endpoint_service_details=SERVICES,
        vpc_endpoints=[endpoint("vpce-ssm", "vpc-9", "ssm", policy=None)],
    )
    assert findings(rule, estate)["vpce-ssm"].severity.label == "medium"


def test_a_not_ip_address_condition_does_not_take_the_policy_out() -> None:
    """aws:SourceIp is absent through an endpoint: NotIpAddress is always true
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html)."""
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "*",
                "Resource": "*",
                "Condition": {"NotIpAddress": {"aws:SourceIp": "198.51.100.0/24"}},
            }
        ]
    }
    estate = region(
        endpoint_service_details=SERVICES,
        vpc_endpoints=[endpoint("vpce-nip", "vpc-9", "s3", "Gateway", policy=policy)],
    )
    assert set(findings(rule, estate)) == {"vpce-nip"}


def test_unknown_service_is_skipped_not_passed() -> None:
    estate = region(
        endpoint_service_details=SERVICES,
        vpc_endpoints=[endpoint("vpce-x", "vpc-1", "mystery", policy=None)],
    )
    assert flagged(rule, estate) == set()
    assert [(s.resource_id, s.rule_id) for s in skipped(rule, estate)] == [("vpce-x", "VPCE101")]
