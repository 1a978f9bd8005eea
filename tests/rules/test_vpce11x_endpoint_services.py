from __future__ import annotations

from tests.helpers import ACCOUNT, endpoint, findings, flagged, region, skipped
from vpce_audit.findings import Severity
from vpce_audit.model import EndpointServiceConfiguration, EndpointServiceDetail, RegionSnapshot
from vpce_audit.rules.builtin.endpoint_services import (
    endpoint_service_auto_accept,
    endpoint_service_open_principals,
    endpoint_to_untrusted_service,
)


def configuration(
    service_id: str,
    *principals: str,
    acceptance: bool = True,
    state: str = "Available",
    known: bool = True,
) -> EndpointServiceConfiguration:
    return EndpointServiceConfiguration(
        service_id=service_id,
        service_name=f"com.amazonaws.vpce.eu-west-1.{service_id}",
        state=state,
        acceptance_required=acceptance,
        allowed_principals=tuple(principals) if known else None,
    )


def services() -> RegionSnapshot:
    return region(
        endpoint_service_configurations=[
            configuration("vpce-svc-open-auto", "*", acceptance=False),
            configuration("vpce-svc-open-reviewed", "arn:aws:iam::*:root"),
            configuration("vpce-svc-partner", "arn:aws:iam::999999999999:root"),
            configuration(
                "vpce-svc-internal",
                f"arn:aws:iam::{ACCOUNT}:root",
                f"arn:aws:iam::{ACCOUNT}:role/consumer",
            ),
            configuration(
                "vpce-svc-internal-auto", f"arn:aws:iam::{ACCOUNT}:root", acceptance=False
            ),
            configuration("vpce-svc-deleted", "*", acceptance=False, state="Deleted"),
            configuration("vpce-svc-unknown", known=False),
        ]
    )


def test_110_flags_live_services_without_acceptance() -> None:
    assert flagged(endpoint_service_auto_accept, services()) == {
        "vpce-svc-open-auto",
        "vpce-svc-internal-auto",
    }


def test_111_flags_open_and_untrusted_allow_lists() -> None:
    found = findings(endpoint_service_open_principals, services())
    assert set(found) == {"vpce-svc-open-auto", "vpce-svc-open-reviewed", "vpce-svc-partner"}
    assert found["vpce-svc-open-auto"].severity is Severity.CRITICAL
    assert found["vpce-svc-open-reviewed"].severity is Severity.HIGH
    assert "999999999999" in found["vpce-svc-partner"].message
    assert found["vpce-svc-open-auto"].resource_type == "vpc-endpoint-service"


def test_111_skips_services_whose_permissions_were_not_read() -> None:
    assert [s.resource_id for s in skipped(endpoint_service_open_principals, services())] == [
        "vpce-svc-unknown"
    ]


def detail(name: str, owner: str) -> EndpointServiceDetail:
    return EndpointServiceDetail(
        service_name=name,
        service_types=("Interface",),
        owner=owner,
        vpc_endpoint_policy_supported=False,
    )


def test_112_flags_interface_endpoints_to_untrusted_providers() -> None:
    vendor = "com.amazonaws.vpce.eu-west-1.vpce-svc-vendor"
    ours = "com.amazonaws.vpce.eu-west-1.vpce-svc-ours"
    estate = region(
        endpoint_service_details=[
            detail(vendor, "999999999999"),
            detail(ours, ACCOUNT),
            detail("com.amazonaws.eu-west-1.ssm", "amazon"),
        ],
        vpc_endpoints=[
            endpoint("vpce-vendor", "vpc-1", vendor),
            endpoint("vpce-ours", "vpc-1", ours),
            endpoint("vpce-aws", "vpc-1", "ssm"),
            endpoint("vpce-vendor-rejected-deleted", "vpc-1", vendor, state="deleted"),
            endpoint("vpce-unknown-owner", "vpc-1", "com.amazonaws.vpce.eu-west-1.vpce-svc-gone"),
        ],
    )
    assert flagged(endpoint_to_untrusted_service, estate) == {"vpce-vendor"}
    assert [s.resource_id for s in skipped(endpoint_to_untrusted_service, estate)] == [
        "vpce-unknown-owner"
    ]


def test_trusted_principal_forms() -> None:
    from vpce_audit.analysis.trust import TrustedSet, principal_is_trusted

    trusted = TrustedSet(frozenset({ACCOUNT}), frozenset({"o-abcdefghij"}))
    assert principal_is_trusted(f"arn:aws:iam::{ACCOUNT}:root", trusted)
    assert principal_is_trusted(f"arn:aws:iam::{ACCOUNT}:role/consumer", trusted)
    assert principal_is_trusted(
        "arn:aws:organizations::999999999999:organization/o-abcdefghij", trusted
    )
    assert principal_is_trusted(
        "arn:aws:organizations::999999999999:ou/o-abcdefghij/ou-ab12-34567890", trusted
    )
    assert not principal_is_trusted(
        "arn:aws:organizations::999999999999:ou/o-zzzzzzzzzz/ou-ab12-34567890", trusted
    )
    assert not principal_is_trusted("arn:aws:iam::*:root", trusted)
    assert not principal_is_trusted("arn:aws:iam::999999999999:root", trusted)
    assert not principal_is_trusted("*", trusted)
