"""Endpoint service names: region, short name, IAM action prefix and default DNS name."""

from __future__ import annotations

import pytest

from tests.helpers import endpoint, findings, region, service
from vpce_audit.analysis.service_names import (
    AwsServiceName,
    default_dns_name,
    iam_action_prefix,
    parse_aws_service,
)
from vpce_audit.findings import Severity
from vpce_audit.rules.builtin.endpoint_policy import (
    endpoint_policy_full_access,
    endpoint_policy_unsafe_construct,
)


@pytest.mark.parametrize(
    ("name", "parsed"),
    [
        ("com.amazonaws.eu-west-1.ecr.dkr", AwsServiceName("eu-west-1", "ecr.dkr")),
        ("com.amazonaws.us-gov-west-1.s3", AwsServiceName("us-gov-west-1", "s3")),
        ("com.amazonaws.cn-northwest-1.sts", AwsServiceName("cn-northwest-1", "sts")),
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam_vpc_endpoint_create.html
        ("com.amazonaws.iam", AwsServiceName(None, "iam")),
        ("com.amazonaws.s3-global.accesspoint", AwsServiceName(None, "s3-global.accesspoint")),
        (
            "aws.sagemaker.eu-west-1.notebook",
            AwsServiceName("eu-west-1", "sagemaker.notebook", sagemaker_console=True),
        ),
        ("com.amazonaws.vpce.eu-west-1.vpce-svc-0123456789abcdef0", None),
        ("", None),
    ],
)
def test_service_names_parse(name: str, parsed: AwsServiceName | None) -> None:
    assert parse_aws_service(name) == parsed


@pytest.mark.parametrize(
    ("name", "prefix"),
    [
        ("com.amazonaws.eu-west-1.s3", "s3"),
        ("com.amazonaws.eu-west-1.ecr.dkr", "ecr"),
        ("com.amazonaws.us-east-1.monitoring", "cloudwatch"),
        ("com.amazonaws.us-east-1.execute-api", "execute-api"),
        ("com.amazonaws.iam", "iam"),
        ("com.amazonaws.eu-west-1.kms-fips", "kms"),
        ("com.amazonaws.eu-west-1.appsync-api", "appsync"),
        ("com.amazonaws.eu-west-1.grafana-workspace", "grafana"),
        ("com.amazonaws.eu-west-1.servicecatalog-appregistry", "servicecatalog"),
        ("com.amazonaws.eu-west-1.guardduty-data", "guardduty"),
        ("com.amazonaws.eu-west-1.dsql-fnh4", "dsql"),
        ("com.amazonaws.s3-global.accesspoint", "s3"),
        ("com.amazonaws.eu-west-1.appconfigdata", "appconfig"),
        ("com.amazonaws.eu-west-1.rum-dataplane", "rum"),
    ],
)
def test_iam_action_prefixes(name: str, prefix: str) -> None:
    assert iam_action_prefix(name) == prefix


def test_default_dns_names() -> None:
    assert default_dns_name("com.amazonaws.eu-west-1.ssm") == "ssm.eu-west-1.amazonaws.com"
    assert default_dns_name("com.amazonaws.iam") == "iam.amazonaws.com"
    assert default_dns_name("com.amazonaws.s3-global.accesspoint") is None
    assert default_dns_name("aws.sagemaker.eu-west-1.notebook") is None


def test_the_global_iam_endpoint_is_judged_under_the_iam_prefix() -> None:
    """The review's repro: ``iam:*`` was read as not applying to com.amazonaws.iam."""
    full = {
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "iam:*", "Resource": "*"}]
    }
    estate = region(
        name="us-east-1",
        endpoint_service_details=[service("com.amazonaws.iam")],
        vpc_endpoints=[endpoint("vpce-iam", "vpc-1", "com.amazonaws.iam", policy=full)],
    )
    assert {k: f.severity for k, f in findings(endpoint_policy_full_access, estate).items()} == {
        "vpce-iam": Severity.MEDIUM
    }
    assert findings(endpoint_policy_unsafe_construct, estate) == {}
