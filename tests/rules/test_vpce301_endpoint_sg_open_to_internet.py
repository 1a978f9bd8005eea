from __future__ import annotations

from tests.helpers import endpoint, findings, flagged, ingress, region, security_group, skipped
from vpce_audit.model import RegionSnapshot
from vpce_audit.rules.builtin.security_groups import endpoint_sg_open_to_internet as rule


def estate() -> RegionSnapshot:
    return region(
        security_groups=[
            security_group("sg-open4", "vpc-1", ingress("0.0.0.0/0")),
            security_group("sg-open6", "vpc-1", ingress("::/0", "-1", None)),
            security_group("sg-tight", "vpc-1", ingress("10.0.0.0/16"), ingress("sg-clients")),
            security_group("sg-almost", "vpc-1", ingress("0.0.0.0/1"), ingress("10.0.0.0/8")),
        ],
        vpc_endpoints=[
            endpoint("vpce-mixed", "vpc-1", "ssm", groups=("sg-open4", "sg-tight")),
            endpoint("vpce-tight", "vpc-1", "ssm", groups=("sg-tight",)),
            endpoint("vpce-v6", "vpc-1", "kms", groups=("sg-open6",)),
            endpoint("vpce-almost", "vpc-1", "kms", groups=("sg-almost",)),
            endpoint("vpce-deleted", "vpc-1", "kms", groups=("sg-open4",), state="deleted"),
            endpoint("vpce-missing-sg", "vpc-1", "kms", groups=("sg-gone",)),
            endpoint("vpce-gateway", "vpc-1", "s3", "Gateway"),
        ],
    )


def test_flags_endpoints_with_an_internet_open_group() -> None:
    assert flagged(rule, estate()) == {"vpce-mixed", "vpce-v6"}


def test_message_names_only_the_open_group() -> None:
    finding = findings(rule, estate())["vpce-mixed"]
    assert "sg-open4" in finding.message
    assert "sg-tight" not in finding.message
    assert "0.0.0.0/0" in finding.message


def test_unknown_group_is_skipped() -> None:
    assert [s.resource_id for s in skipped(rule, estate())] == ["vpce-missing-sg"]
