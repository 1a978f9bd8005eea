from __future__ import annotations

from tests.helpers import ACCOUNT, endpoint, findings, flagged, region, skipped, snapshot
from vpce_audit.findings import Severity
from vpce_audit.model import (
    AccountSnapshot,
    EndpointConnection,
    EndpointServiceConfiguration,
    EndpointServiceDetail,
    RegionSnapshot,
)
from vpce_audit.rules.base import Settings
from vpce_audit.rules.builtin.endpoint_services import (
    endpoint_service_auto_accept,
    endpoint_service_open_principals,
    endpoint_service_untrusted_consumer,
    endpoint_to_untrusted_service,
)
from vpce_audit.rules.engine import evaluate


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


def test_110_flags_auto_accept_only_where_someone_may_connect() -> None:
    """With an empty allow list nobody can connect; trusted-only auto-accept is low, medium when
    an allowed principal is outside the trusted set
    (https://docs.aws.amazon.com/vpc/latest/privatelink/configure-endpoint-service.html)."""
    estate = region(
        endpoint_service_configurations=[
            *services().endpoint_service_configurations,
            configuration("vpce-svc-empty-auto", acceptance=False),
            configuration("vpce-svc-unknown-auto", acceptance=False, known=False),
        ]
    )
    found = findings(endpoint_service_auto_accept, estate)
    assert set(found) == {"vpce-svc-open-auto", "vpce-svc-internal-auto"}
    assert found["vpce-svc-open-auto"].severity is Severity.MEDIUM
    assert found["vpce-svc-internal-auto"].severity is Severity.LOW
    assert "all of them trusted" in found["vpce-svc-internal-auto"].message
    assert [s.resource_id for s in skipped(endpoint_service_auto_accept, estate)] == [
        "vpce-svc-unknown-auto"
    ]


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


def test_112_passes_endpoints_the_provider_never_connected() -> None:
    """An endpoint is usable once the provider accepts it
    (https://docs.aws.amazon.com/vpc/latest/privatelink/create-interface-endpoint.html): one
    rejected, expired or failed carries nothing; one awaiting acceptance is listed as a request."""
    vendor = "com.amazonaws.vpce.eu-west-1.vpce-svc-vendor"
    states = ("available", "pending", "partial", "pendingAcceptance")
    estate = region(
        endpoint_service_details=[detail(vendor, "999999999999")],
        vpc_endpoints=[
            endpoint(f"vpce-{state}", "vpc-1", vendor, state=state)
            for state in (*states, "rejected", "expired", "failed", "Rejected")
        ],
    )
    result = findings(endpoint_to_untrusted_service, estate)
    assert set(result) == {f"vpce-{state}" for state in states}
    request = result.pop("vpce-pendingAcceptance")
    assert " asks to connect to " in request.message
    assert request.message.endswith("(pendingAcceptance: the provider has not accepted it yet).")
    assert all(" connects to " in f.message for f in result.values())


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


def _connections_estate() -> RegionSnapshot:
    return region(
        endpoint_service_configurations=[
            configuration("vpce-svc-a", "*"),
            configuration("vpce-svc-b", f"arn:aws:iam::{ACCOUNT}:root"),
        ],
        endpoint_connections=[
            EndpointConnection("vpce-svc-a", "vpce-0f1", "999999999999", "available"),
            EndpointConnection("vpce-svc-a", "vpce-0f2", "888888888888", "pendingAcceptance"),
            EndpointConnection("vpce-svc-a", "vpce-0f3", "777777777777", "rejected"),
            EndpointConnection("vpce-svc-b", "vpce-0f4", ACCOUNT, "available"),
            EndpointConnection("vpce-svc-b", "vpce-0f5", "222222222222", "available"),
        ],
    )


def test_113_flags_services_connected_to_untrusted_consumers() -> None:
    """DescribeVpcEndpointConnections: who is connected, whatever the allow list says
    (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeVpcEndpointConnections.html)."""
    known = AccountSnapshot(
        ACCOUNT, "2026-11-26T00:00:00Z", "o-trusted0001", ("222222222222", ACCOUNT)
    )
    result = evaluate(
        snapshot(_connections_estate(), accounts=(known,)),
        [endpoint_service_untrusted_consumer],
        Settings(),
    )
    assert [f.resource_id for f in result.findings] == ["vpce-svc-a"]
    message = result.findings[0].message
    assert "vpce-0f1 of account 999999999999 (available)" in message
    assert "888888888888" not in message and "777777777777" not in message
    assert result.findings[0].severity is Severity.HIGH


def test_113_consumers_of_unknown_membership_are_low() -> None:
    unknown = AccountSnapshot(ACCOUNT, "2026-11-26T00:00:00Z", "o-trusted0001", None)
    result = evaluate(
        snapshot(_connections_estate(), accounts=(unknown,)),
        [endpoint_service_untrusted_consumer],
        Settings(),
    )
    found = {f.resource_id: f for f in result.findings}
    assert found["vpce-svc-a"].severity is Severity.LOW
    assert "membership is unknown" in found["vpce-svc-b"].message


def test_110_auto_accept_for_accounts_of_unknown_membership_is_low_and_said_so() -> None:
    """Without the organisation's member list, another account may be a member: it is not
    called "outside the trusted set"."""
    estate = region(
        endpoint_service_configurations=[
            configuration("vpce-svc-member", "arn:aws:iam::333333333333:root", acceptance=False)
        ]
    )
    unknown = AccountSnapshot(ACCOUNT, "2026-11-26T00:00:00Z", "o-trusted0001", None)
    result = evaluate(
        snapshot(estate, accounts=(unknown,)), [endpoint_service_auto_accept], Settings()
    )
    (finding,) = result.findings
    assert finding.severity is Severity.LOW
    assert "whose organisation membership is unknown" in finding.message
    assert "outside the trusted set" not in finding.message


def test_112_knows_a_provider_that_was_scanned_when_the_catalogue_does_not_list_it() -> None:
    """The consumer's DescribeVpcEndpointServices no longer lists the service (its allow list
    changed, say), but the provider's account was scanned and describes it as its own."""
    consumer = "222222222222"
    provided = configuration("vpce-svc-internal", f"arn:aws:iam::{consumer}:root")
    estate = (
        region(endpoint_service_configurations=[provided]),
        region(
            consumer,
            vpc_endpoints=[
                endpoint("vpce-to-ours", "vpc-2", provided.service_name),
                endpoint("vpce-to-nobody", "vpc-2", "com.amazonaws.vpce.eu-west-1.vpce-svc-x"),
            ],
        ),
    )
    assert flagged(endpoint_to_untrusted_service, *estate) == set()  # a scanned account: trusted
    assert [s.resource_id for s in skipped(endpoint_to_untrusted_service, *estate)] == [
        "vpce-to-nobody"
    ]
