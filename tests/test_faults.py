"""Injected faults through a real HTTP boundary: the CLI against a fault proxy in front of moto.

Each case asserts the exit code, the recorded collection error, what the rules skipped, and that
nothing was reported clean that was not seen; none may end in a traceback.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.fault_proxy import (
    CAPTIVE_PORTAL,
    HANG,
    TRICKLE,
    FaultProxy,
    Reply,
    always,
    ec2_answer,
    ec2_error,
    fault_proxy,
    first,
)
from tests.moto_estates import _nat, _subnet, _table, _vpc
from tests.test_e2e_server import _free_port, _reset
from vpce_audit.cli import main
from vpce_audit.collect import calls

pytestmark = pytest.mark.server
REGION = "us-west-2"
ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def estate(
    moto_endpoint: str, aws_credentials: None, moto_gaps: object
) -> Iterator[dict[str, str]]:
    """One VPC whose private subnet reaches S3 and DynamoDB through a NAT gateway."""
    _reset(moto_endpoint)
    ec2 = boto3.client("ec2", region_name=REGION, endpoint_url=moto_endpoint)
    vpc = _vpc(ec2, "app", "10.0.0.0/16")
    public = _subnet(ec2, vpc, "10.0.0.0/24", f"{REGION}a")
    private = _subnet(ec2, vpc, "10.0.1.0/24", f"{REGION}a")
    nat = _nat(ec2, public)
    table = _table(ec2, vpc, [private], nat)
    yield {"vpc": vpc, "table": table, "nat": nat, "endpoint": moto_endpoint}
    _reset(moto_endpoint)


@pytest.fixture
def proxy(estate: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    with fault_proxy(estate["endpoint"]) as running:
        monkeypatch.setenv("AWS_ENDPOINT_URL", running.url)
        yield running


def _scan(
    capsys: pytest.CaptureFixture[str], *extra: str, regions: tuple[str, ...] = (REGION,)
) -> tuple[int, dict[str, Any], str]:
    out = io.StringIO()
    argv = ["scan", "--format", "json", "--fail-on", "never", *extra]
    for region in regions:
        argv += ["--region", region]
    code = main(argv, stdout=out)
    err = capsys.readouterr().err
    assert "Traceback" not in err, err[err.find("Traceback") - 200 :][:3000]
    report = json.loads(out.getvalue()) if out.getvalue() else {}
    return code, report, err


def _errors(report: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {
        (e["operation"], e["error_code"], e["resource_kind"]) for e in report["collection_errors"]
    }


def _error_of(report: dict[str, Any], operation: str) -> dict[str, Any]:
    """The one collection error of ``operation``."""
    (error,) = [e for e in report["collection_errors"] if e["operation"] == operation]
    return error


def _flagged(report: dict[str, Any], rule_id: str) -> set[str]:
    return {f["resource_id"] for f in report["findings"] if f["rule_id"] == rule_id}


def _skipped(report: dict[str, Any], rule_id: str) -> list[dict[str, Any]]:
    return [s for s in report["skipped"] if s["rule_id"] == rule_id]


def test_without_faults_the_estate_is_complete_and_flagged(
    proxy: FaultProxy, estate: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, report, _ = _scan(capsys)
    assert code == 0
    assert report["summary"]["complete"] is True
    assert _flagged(report, "VPCE401") == {estate["table"]}
    assert _flagged(report, "VPCE402") == {estate["table"]}


def test_a_captive_portal_page_is_not_an_empty_answer(
    proxy: FaultProxy, estate: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    proxy.faults["DescribeVpcEndpoints"] = always(Reply(200, CAPTIVE_PORTAL.encode(), "text/html"))
    code, report, _ = _scan(capsys)
    assert code == 3
    assert ("DescribeVpcEndpoints", "MalformedResponse", "vpc_endpoints") in _errors(report)
    assert _flagged(report, "VPCE401") == set()
    (skip,) = _skipped(report, "VPCE401")
    assert skip["resource_id"] is None and "vpc_endpoints not collected" in skip["reason"]


def test_an_answer_without_its_result_element_is_a_collection_error(
    proxy: FaultProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    proxy.faults["DescribeRouteTables"] = always(ec2_answer("DescribeRouteTables"))
    code, report, _ = _scan(capsys)
    assert code == 3
    assert ("DescribeRouteTables", "MalformedResponse", "route_tables") in _errors(report)
    assert _flagged(report, "VPCE401") == set()
    assert len(_skipped(report, "VPCE401")) == 1


def test_an_empty_body_is_retried_then_recorded(
    proxy: FaultProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    proxy.faults["DescribeSubnets"] = always(Reply(200, b""))
    code, report, _ = _scan(capsys)
    assert code == 3
    assert proxy.calls["DescribeSubnets"] == calls.PARSE_ATTEMPTS
    assert _error_of(report, "DescribeSubnets")["resource_kind"] == "subnets"


def test_a_truncated_body_is_retried_like_a_transient_fault(
    proxy: FaultProxy, estate: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    cut = ec2_answer("DescribeRouteTables", "<routeTableSet><item><routeTableId>rtb-")
    proxy.faults["DescribeRouteTables"] = first(
        1, Reply(200, cut.body, declared_length=len(cut.body) + 500)
    )
    code, report, _ = _scan(capsys)
    assert proxy.calls["DescribeRouteTables"] >= 2
    assert code == 0 and report["summary"]["complete"] is True
    assert _flagged(report, "VPCE401") == {estate["table"]}


def test_a_pagination_token_that_never_ends_is_cut_and_recorded(
    proxy: FaultProxy, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(calls, "MAX_PAGES", 5)
    proxy.faults["DescribeRouteTables"] = lambda count: ec2_answer(
        "DescribeRouteTables", f"<routeTableSet/><nextToken>token-{count}</nextToken>"
    )
    code, report, _ = _scan(capsys)
    assert code == 3
    # Five pages, the sixth that goes over, and at most one fetched ahead of the reader.
    assert proxy.calls["DescribeRouteTables"] in (6, 7)
    assert ("DescribeRouteTables", "PaginationLimitExceeded", "route_tables") in _errors(report)
    assert _flagged(report, "VPCE401") == set()


def test_a_denied_prefix_list_read_skips_the_route_tables_it_decides(
    proxy: FaultProxy, estate: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    proxy.faults["GetManagedPrefixListEntries"] = always(ec2_error("UnauthorizedOperation"))
    code, report, _ = _scan(capsys)
    assert code == 3
    assert {e[:2] for e in _errors(report)} == {
        ("GetManagedPrefixListEntries", "UnauthorizedOperation")
    }
    for rule_id in ("VPCE401", "VPCE402"):
        assert _flagged(report, rule_id) == set(), rule_id
        skips = _skipped(report, rule_id)
        assert skips, rule_id
        assert all("UnauthorizedOperation" in s["reason"] for s in skips), skips


@pytest.mark.parametrize(
    ("reply", "attempts", "code"),
    [
        # Four attempts of one second each, with backoff; nowhere near botocore's 7 x 60 s.
        (HANG, None, "ReadTimeoutError"),
        # botocore's read timeout restarts with every byte: only the call's wall-clock budget
        # (attempts x timeouts + backoff; one attempt here, to keep the test short) ends it.
        (TRICKLE, 1, "CallTimeout"),
    ],
    ids=["never answers", "drips forever"],
)
def test_a_call_that_does_not_finish_is_bounded(
    proxy: FaultProxy,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *,
    reply: Reply,
    attempts: int | None,
    code: str,
) -> None:
    from vpce_audit.collect import runner

    if attempts is not None:
        monkeypatch.setattr(runner, "CALL_ATTEMPTS", attempts)
    proxy.faults["DescribeNatGateways"] = always(reply)
    started = time.monotonic()
    exit_code, report, _ = _scan(capsys, "--call-timeout", "1")
    elapsed = time.monotonic() - started
    assert exit_code == 3
    assert _error_of(report, "DescribeNatGateways")["error_code"] == code
    assert elapsed < 60


def test_the_scope_deadline_records_what_was_not_attempted(
    proxy: FaultProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    for operation in ("DescribeVpcs", "DescribeSubnets", "DescribeRouteTables"):
        proxy.faults[operation] = always(HANG)
    code, report, _ = _scan(capsys, "--scope-timeout", "1", "--call-timeout", "1")
    assert code == 3
    codes = {e["error_code"] for e in report["collection_errors"]}
    assert calls.TIMEOUT_CODE in codes
    assert report["findings"] == [] or all(
        f["rule_id"] not in ("VPCE401", "VPCE402") for f in report["findings"]
    )


def test_describe_regions_without_a_list_is_incomplete_not_clean(
    proxy: FaultProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    proxy.faults["DescribeRegions"] = always(ec2_answer("DescribeRegions"))
    code, report, _ = _scan(capsys, regions=())
    assert code == 3
    assert ("DescribeRegions", "MalformedResponse", "regions") in _errors(report)
    assert report["summary"]["complete"] is False


def test_describe_regions_with_an_invalid_name_is_a_collection_error(
    proxy: FaultProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = (
        "<regionInfo><item><regionName>../../evil</regionName>"
        "<regionEndpoint>x</regionEndpoint></item></regionInfo>"
    )
    proxy.faults["DescribeRegions"] = always(ec2_answer("DescribeRegions", bad))
    code, report, _ = _scan(capsys, regions=())
    assert code == 3
    assert ("DescribeRegions", "MalformedResponse", "regions") in _errors(report)
    assert report["snapshot"]["scopes"] == []


def test_an_identity_without_an_account_is_one_line_and_exit_2(
    proxy: FaultProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    body = (
        '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        "<GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/x</Arn>"
        "</GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId>"
        "</ResponseMetadata></GetCallerIdentityResponse>"
    )
    proxy.faults["GetCallerIdentity"] = always(Reply(200, body.encode()))
    code, report, err = _scan(capsys)
    assert code == 2
    assert report == {}
    assert err.strip().splitlines() == [
        "vpce-audit: error: cannot establish AWS identity: GetCallerIdentity answered without "
        "an account id"
    ]


def test_an_organisation_without_an_id_is_not_trusted_as_none(
    proxy: FaultProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    body = json.dumps({"Organization": {"Arn": "arn:aws:organizations::1:organization/x"}})
    proxy.faults["DescribeOrganization"] = always(
        Reply(200, body.encode(), "application/x-amz-json-1.1")
    )
    code, report, _ = _scan(capsys)
    assert code == 3
    assert ("DescribeOrganization", "MalformedResponse", "organization") in _errors(report)


def test_a_hosted_zone_without_an_id_is_a_collection_error(
    proxy: FaultProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    body = (
        '<ListHostedZonesResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">'
        "<HostedZones><HostedZone><Name>corp.internal.</Name><CallerReference>r"
        "</CallerReference><Config><PrivateZone>true</PrivateZone></Config></HostedZone>"
        "</HostedZones><IsTruncated>false</IsTruncated><MaxItems>100</MaxItems>"
        "</ListHostedZonesResponse>"
    )
    proxy.faults["ListHostedZones"] = always(Reply(200, body.encode()))
    code, report, _ = _scan(capsys)
    assert code == 3
    assert ("ListHostedZones", "MalformedResponse", "hosted_zones") in _errors(report)


def _cli_process(proxy: FaultProxy, *argv: str, own_group: bool = False) -> subprocess.Popen[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    environment.update(
        AWS_ENDPOINT_URL=proxy.url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    return subprocess.Popen(
        [sys.executable, "-m", "vpce_audit", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
        start_new_session=own_group,
    )


@pytest.mark.parametrize(
    ("signal_number", "exit_code", "word"),
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")],
)
def test_a_signal_stops_a_hung_scan_at_once_and_writes_nothing(
    proxy: FaultProxy,
    tmp_path: Path,
    signal_number: signal.Signals,
    exit_code: int,
    word: str,
) -> None:
    for operation in ("DescribeVpcs", "DescribeSubnets", "DescribeRouteTables"):
        proxy.faults[operation] = always(HANG)
    report = tmp_path / "report.json"
    process = _cli_process(proxy, "scan", "--region", REGION, "--format", "json", "-o", str(report))
    try:
        deadline = time.monotonic() + 60
        while proxy.calls["DescribeVpcs"] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proxy.calls["DescribeVpcs"] > 0, "the scan never reached the hanging call"
        sent = time.monotonic()
        process.send_signal(signal_number)
        _, err = process.communicate(timeout=20)
        stopped_after = time.monotonic() - sent
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == exit_code, err
    assert stopped_after < 10
    assert f"vpce-audit: {word}; nothing was written" in err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_stops_every_collection_process_of_processes_without_a_traceback(
    proxy: FaultProxy, tmp_path: Path
) -> None:
    """A terminal's Ctrl-C reaches every process of the foreground group: the parent stops
    them all, and nothing prints a traceback (the collection processes ignore it:
    tests/test_collect_processes.py)."""
    for operation in ("DescribeVpcs", "DescribeSubnets", "DescribeRouteTables"):
        proxy.faults[operation] = always(HANG)
    snapshot = tmp_path / "snapshot.json"
    process = _cli_process(
        proxy,
        *("collect", "--region", REGION, "--region", "eu-west-1", "--processes", "2"),
        *("-o", str(snapshot)),
        own_group=True,
    )
    try:
        deadline = time.monotonic() + 60
        while proxy.calls["DescribeVpcs"] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proxy.calls["DescribeVpcs"] > 0, "the collection never reached its call"
        os.killpg(process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=30)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("a collection process outlived the interrupted parent")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        if process.poll() is None:
            process.communicate()
    assert process.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert "vpce-audit: interrupted; nothing was written" in err
    assert not snapshot.exists()


SCP_DENIAL = (
    "You are not authorized to perform this operation. User: arn:aws:sts::123456789012:"
    "assumed-role/audit/x is not authorized to perform: ec2:DescribeVpcs with an explicit deny "
    "in a service control policy"
)


def test_a_region_denied_by_a_service_control_policy_is_out_of_scope_once(
    proxy: FaultProxy, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Control Tower's region deny: reported once as out of scope, not as a failure of every
    call, and not an incomplete scan (https://docs.aws.amazon.com/IAM/latest/UserGuide/
    troubleshoot_access-denied.html words SCP denials this way). The account answered in
    another region, which is what makes the denial a region's."""
    denied = "eu-central-1"
    proxy.faults[f"DescribeVpcs@{denied}"] = always(
        ec2_error("UnauthorizedOperation", 403, SCP_DENIAL)
    )
    snapshot = tmp_path / "snapshot.json"
    argv = ["collect", "--region", REGION, "--region", denied, "-o", str(snapshot)]
    assert main(argv, stdout=io.StringIO()) == 0
    assert proxy.calls["DescribeSubnets"] == 1  # only the other region is asked for more
    # Nor a warning while collecting: an organisation would print one per account.
    assert "failed" not in capsys.readouterr().err
    code, report, err = _scan(capsys, "--snapshot", str(snapshot), regions=())
    assert code == 0
    assert report["collection_errors"] == []
    assert [(s["account_id"], s["region"]) for s in report["snapshot"]["scopes"]] == [
        (ACCOUNT, REGION)
    ]
    (notice,) = report["notices"]
    assert notice.startswith(f"{ACCOUNT}/{denied} is out of scope: a service control policy")
    assert err.count("out of scope") == 1


def test_a_service_control_policy_that_denies_the_scanner_everywhere_is_a_failure(
    proxy: FaultProxy, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """AWS's words name the kind of policy, not a region: an SCP that denies the scanner's
    role ec2:Describe* in every region reads like a region deny in each. With no region of the
    account let in, nothing was seen, and the scan must not come back clean."""
    proxy.faults["DescribeVpcs"] = always(ec2_error("UnauthorizedOperation", 403, SCP_DENIAL))
    snapshot = tmp_path / "snapshot.json"
    argv = ["collect", "--region", REGION, "--region", "eu-central-1", "-o", str(snapshot)]
    assert main(argv, stdout=io.StringIO()) == 3
    assert proxy.calls["DescribeSubnets"] == 0
    code, report, _ = _scan(capsys, "--snapshot", str(snapshot), regions=())
    assert code == 3
    assert report["notices"] == [] and report["snapshot"]["scopes"] == []
    assert sorted((e["region"], e["error_code"]) for e in report["collection_errors"]) == [
        ("eu-central-1", "DeniedEverywhere"),
        (REGION, "DeniedEverywhere"),
    ]
    assert SCP_DENIAL in report["collection_errors"][0]["message"]


def test_an_access_denial_that_is_not_a_policy_boundary_stays_a_failure(
    proxy: FaultProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    proxy.faults["DescribeVpcs"] = always(ec2_error("UnauthorizedOperation"))
    code, report, _ = _scan(capsys)
    assert code == 3
    assert ("DescribeVpcs", "UnauthorizedOperation", "vpcs") in _errors(report)
    assert report["notices"] == []
