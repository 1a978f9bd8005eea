"""What an endpoint's service name says: region, short name, IAM action prefix, default DNS name.

AWS service names come in three shapes
(https://docs.aws.amazon.com/vpc/latest/privatelink/aws-services-privatelink-support.html):

- regional: ``com.amazonaws.eu-west-1.ecr.dkr``
- global, without a region: ``com.amazonaws.iam``
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam_vpc_endpoint_create.html) and
  ``com.amazonaws.s3-global.accesspoint`` (S3 Multi-Region Access Points)
- SageMaker's console-facing names: ``aws.sagemaker.eu-west-1.notebook``

PrivateLink services of providers (``com.amazonaws.vpce.<region>.vpce-svc-...``) are not AWS
services and are not parsed here.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from vpce_audit.model import is_privatelink_service

REGION = re.compile(r"^[a-z]{2,3}(?:-[a-z]+)+-\d+$")
"""An AWS region name: eu-west-1, us-gov-west-1, cn-northwest-1, ap-southeast-5."""

# Endpoint names whose first label is not the IAM action prefix of the service. Action prefixes
# are from the Service Authorization Reference
# (https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html).
# Keys are the short name, or its first label.
_IAM_PREFIX = {
    "monitoring": "cloudwatch",
    "kinesis-streams": "kinesis",
    "kinesis-firehose": "firehose",
    "email-smtp": "ses",
    "email": "ses",
    "git-codecommit": "codecommit",
    "ecs-agent": "ecs",
    "ecs-telemetry": "ecs",
    "bedrock-runtime": "bedrock",
    "bedrock-agent": "bedrock",
    "bedrock-agent-runtime": "bedrock",
    "aps-workspaces": "aps",
    "elasticbeanstalk-health": "elasticbeanstalk",
    "appsync-api": "appsync",
    "grafana-workspace": "grafana",
    "servicecatalog-appregistry": "servicecatalog",
    "data-servicediscovery": "servicediscovery",
    "guardduty-data": "guardduty",
    "sync-states": "states",
    "transcribestreaming": "transcribe",
    "appmesh-envoy-management": "appmesh",
    "runtime-v2-lex": "lex",
    "models-v2-lex": "lex",
    "pinpoint": "mobiletargeting",
    "pinpoint-sms-voice-v2": "sms-voice",
    "cloudcontrolapi": "cloudformation",
    "appconfigdata": "appconfig",
    "rum-dataplane": "rum",
    "s3-global": "s3",
}
# Endpoint names that carry an identifier after the service (Aurora DSQL clusters' connection
# endpoints are com.amazonaws.<region>.dsql-<suffix>).
_IAM_PREFIX_BY_STEM = (("dsql-", "dsql"),)


@dataclass(frozen=True)
class AwsServiceName:
    region: str | None
    """None for global services (com.amazonaws.iam)."""
    short: str
    """What follows the region (or com.amazonaws. for global services): 'ecr.dkr', 'iam'."""
    sagemaker_console: bool = False


@functools.lru_cache(maxsize=4096)
def parse_aws_service(service_name: str) -> AwsServiceName | None:
    """The parts of an AWS service's endpoint name; None for other names (PrivateLink services of
    providers, VPC Lattice endpoints without a service name)."""
    if is_privatelink_service(service_name):
        return None
    parts = service_name.split(".")
    if parts[:2] == ["aws", "sagemaker"] and len(parts) > 3 and REGION.match(parts[2]):
        return AwsServiceName(parts[2], "sagemaker." + ".".join(parts[3:]), sagemaker_console=True)
    if parts[:2] != ["com", "amazonaws"] or len(parts) < 3:
        return None
    if len(parts) > 3 and REGION.match(parts[2]):
        return AwsServiceName(parts[2], ".".join(parts[3:]))
    return AwsServiceName(None, ".".join(parts[2:]))


def is_aws_service(service_name: str) -> bool:
    return parse_aws_service(service_name) is not None


def service_short_name(service_name: str) -> str:
    """``com.amazonaws.eu-west-1.ecr.dkr`` -> ``ecr.dkr``, ``com.amazonaws.iam`` -> ``iam``;
    other names unchanged."""
    parsed = parse_aws_service(service_name)
    return parsed.short if parsed else service_name


def iam_action_prefix(service_name: str) -> str:
    """The IAM action prefix of the service an endpoint reaches: ``ecr.dkr`` -> ``ecr``,
    ``monitoring`` -> ``cloudwatch``, ``com.amazonaws.iam`` -> ``iam``."""
    short = service_short_name(service_name)
    if short in _IAM_PREFIX:
        return _IAM_PREFIX[short]
    first = short.split(".", 1)[0].removesuffix("-fips")
    for stem, prefix in _IAM_PREFIX_BY_STEM:
        if first.startswith(stem):
            return prefix
    return _IAM_PREFIX.get(first, first)


def default_dns_name(service_name: str) -> str | None:
    """The name clients use for an AWS service when the snapshot does not list the service:
    ``<short>.<region>.amazonaws.com``, or ``<short>.amazonaws.com`` for a one-label global
    service (iam.amazonaws.com). None when there is no such rule for the name."""
    parsed = parse_aws_service(service_name)
    if parsed is None or parsed.sagemaker_console:
        return None
    if parsed.region is not None:
        return f"{parsed.short}.{parsed.region}.amazonaws.com"
    if "." not in parsed.short:
        return f"{parsed.short}.amazonaws.com"
    return None
