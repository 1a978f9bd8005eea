"""End to end through a real HTTP boundary: a moto server on 127.0.0.1, the CLI in a subprocess
pointed at it with AWS_ENDPOINT_URL."""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.local_tls import TlsServer, running
from tests.moto_estates import build_two_region_estate, expected_two_region_findings
from tests.sarif_checks import assert_uploadable

pytestmark = pytest.mark.server


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def moto_server(aws_credentials: None, moto_gaps: object) -> Iterator[str]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    # The server keeps moto's backends in this process: start each test from an empty estate.
    _reset(endpoint)
    try:
        with _no_profiles() as profiles:
            PROFILES_ENDPOINT["url"] = profiles
            yield endpoint
    finally:
        _reset(endpoint)
        server.stop()


PROFILES_ENDPOINT: dict[str, str] = {}


class _NoProfiles(BaseHTTPRequestHandler):
    """Route 53 Profiles, which moto lacks: no profile is associated with any VPC."""

    disable_nagle_algorithm = True  # no delayed-ACK wait between the headers and the body

    def do_GET(self) -> None:
        body = json.dumps({"ProfileAssociations": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@contextlib.contextmanager
def _no_profiles() -> Iterator[str]:
    with running(TlsServer(("127.0.0.1", 0), _NoProfiles)) as url:  # plain HTTP: no tls
        yield url


def _reset(endpoint: str) -> None:
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def _environment(endpoint: str) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    environment.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ENDPOINT_URL_ROUTE53PROFILES=PROFILES_ENDPOINT["url"],
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-west-2",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    return environment


def _cli(endpoint: str, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vpce_audit", *argv],
        capture_output=True,
        text=True,
        env=_environment(endpoint),
        timeout=300,
        check=False,
    )


def _cli_on_a_terminal(endpoint: str, *argv: str) -> tuple[int, str]:
    """The CLI's exit code and what it drew, with stderr on a pseudo-terminal."""
    import pty

    reader, writer = pty.openpty()
    drawn: list[bytes] = []

    def drain() -> None:  # a full terminal buffer would block the CLI
        while True:
            try:
                chunk = os.read(reader, 65536)
            except OSError:  # the writing end is closed (EIO)
                return
            if not chunk:
                return
            drawn.append(chunk)

    draining = threading.Thread(target=drain, daemon=True)
    draining.start()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "vpce_audit", *argv],
            stdout=subprocess.DEVNULL,
            stderr=writer,
            env=_environment(endpoint),
            timeout=300,
            check=False,
        )
    finally:
        os.close(writer)
        draining.join(timeout=10)
    # Every process that held the terminal has ended: the reading end can go.
    assert not draining.is_alive()
    os.close(reader)
    return done.returncode, b"".join(drawn).decode("utf-8", "replace")


def test_scan_through_a_moto_server_produces_uploadable_sarif(
    moto_server: str, tmp_path: Path
) -> None:
    def client(service: str, region: str) -> object:
        return boto3.client(service, region_name=region, endpoint_url=moto_server)

    ids = build_two_region_estate(
        client("ec2", "us-west-2"),
        client("ec2", "ap-southeast-2"),
        client("elbv2", "ap-southeast-2"),
    )
    sarif_file = tmp_path / "vpce.sarif"
    completed = _cli(
        moto_server,
        "scan",
        "--region",
        "us-west-2",
        "--region",
        "ap-southeast-2",
        "--format",
        "sarif",
        "-o",
        str(sarif_file),
        # Two regions chosen: a narrowed scan, uploaded under categories of its own.
        "--sarif-category",
        "two-regions",
    )
    assert completed.returncode == 1, completed.stderr
    assert "Traceback" not in completed.stderr
    body = assert_uploadable(sarif_file.read_text())
    run, status = body["runs"]
    assert run["automationDetails"]["id"] == "vpce-audit/aws/two-regions/123456789012/"
    assert status["automationDetails"]["id"] == "vpce-audit/aws/two-regions/scan-status/1/"
    flagged = {
        (r["ruleId"].split("/")[0], r["locations"][0]["logicalLocations"][0]["name"])
        for r in run["results"]
    }
    assert flagged == expected_two_region_findings(ids)


def test_clean_estate_through_the_server_is_complete_and_clean(
    moto_server: str,
) -> None:
    completed = _cli(
        moto_server, "scan", "--region", "us-west-2", "--format", "json", "--fail-on", "never"
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    assert report["summary"]["complete"] is True
    assert report["findings"] == []


def test_processes_collect_what_one_process_collects(moto_server: str, tmp_path: Path) -> None:
    """--processes 3: three processes each collect a shard, merged as `merge` does; the report
    and the snapshot equal one process's (collection times fixed with SOURCE_DATE_EPOCH)."""
    ids = build_two_region_estate(
        boto3.client("ec2", region_name="us-west-2", endpoint_url=moto_server),
        boto3.client("ec2", region_name="ap-southeast-2", endpoint_url=moto_server),
        boto3.client("elbv2", region_name="ap-southeast-2", endpoint_url=moto_server),
    )
    regions = ("--region", "us-west-2", "--region", "ap-southeast-2")
    os.environ["SOURCE_DATE_EPOCH"] = "1795651200"
    try:
        snapshots = {n: tmp_path / f"{n}.json" for n in (1, 3)}
        for n, path in snapshots.items():
            done = _cli(moto_server, "collect", *regions, "--processes", str(n), "-o", str(path))
            assert done.returncode == 0, done.stderr
        several = _cli(moto_server, "scan", *regions, "--processes", "3", "--format", "json")
        steps = _cli(moto_server, "collect", *regions, "--processes", "2", "-v", "-o", "-")
    finally:
        del os.environ["SOURCE_DATE_EPOCH"]
    assert snapshots[3].read_text() == snapshots[1].read_text()
    assert several.returncode == 1, several.stderr
    assert "Traceback" not in several.stderr
    # One account and no terminal: three processes print what one does, nothing.
    assert several.stderr == ""
    # -v: each process's steps, named by process; every region collected once.
    collected = [line for line in steps.stderr.splitlines() if line.endswith(" collected")]
    assert len(collected) == 2, steps.stderr
    assert all(re.match(r"vpce-audit: process [12]/2: \[[12]/[12]\] ", line) for line in collected)
    assert {line.rsplit("/", 1)[-1] for line in collected} == {
        "us-west-2 collected",
        "ap-southeast-2 collected",
    }
    report = json.loads(several.stdout)
    assert report["summary"]["complete"] is True
    flagged = {(f["rule_id"], f["resource_id"]) for f in report["findings"]}
    assert flagged == expected_two_region_findings(ids)


def test_processes_refuse_a_shard_and_the_demo(moto_server: str) -> None:
    shard = _cli(
        moto_server,
        "collect",
        "--processes",
        "2",
        "--shard",
        "1/2",
        "--region",
        "us-west-2",
        "-o",
        "-",
    )
    demo = _cli(moto_server, "scan", "--demo", "--processes", "2")
    zero = _cli(moto_server, "scan", "--processes", "0", "--region", "us-west-2")
    offline = _cli(moto_server, "scan", "--snapshot", "estate.json", "--processes", "2")
    assert [shard.returncode, demo.returncode, zero.returncode, offline.returncode] == [2] * 4
    assert "cannot be combined with --processes, which chooses" in offline.stderr
    assert "give either --shard or --processes" in shard.stderr
    assert "the demo is collected in one process" in demo.stderr
    assert "--processes must be between 1 and 64" in zero.stderr


def test_processes_scan_an_organisation_as_one_process_does(
    moto_server: str, tmp_path: Path
) -> None:
    """An organisation reached through sts:AssumeRole, collected by one process and by two:
    the same snapshot, byte for byte (each process assumes the roles it needs itself)."""

    def client(service: str, region: str = "us-west-2", **credentials: str) -> Any:
        return boto3.client(service, region_name=region, endpoint_url=moto_server, **credentials)

    organizations = client("organizations", "us-east-1")
    organizations.create_organization(FeatureSet="ALL")
    members = [
        organizations.create_account(Email=f"m{i}@example.com", AccountName=f"m{i}")[
            "CreateAccountStatus"
        ]["AccountId"]
        for i in (1, 2)
    ]
    ids = build_two_region_estate(
        client("ec2"), client("ec2", "ap-southeast-2"), client("elbv2", "ap-southeast-2")
    )
    member_vpcs = []
    for number, account in enumerate(members, start=1):
        issued = client("sts", "us-east-1").assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
            RoleSessionName="estate-builder",
        )["Credentials"]
        member_ec2 = client(
            "ec2",
            aws_access_key_id=issued["AccessKeyId"],
            aws_secret_access_key=issued["SecretAccessKey"],
            aws_session_token=issued["SessionToken"],
        )
        member_vpcs.append(member_ec2.create_vpc(CidrBlock=f"10.{100 + number}.0.0/16")["Vpc"])
    regions = ("--region", "us-west-2", "--region", "ap-southeast-2")
    os.environ["SOURCE_DATE_EPOCH"] = "1795651200"
    printed: dict[int, list[str]] = {}
    try:
        snapshots = {n: tmp_path / f"{n}.json" for n in (1, 2)}
        for n, path in snapshots.items():
            done = _cli(
                moto_server, "collect", "--org", *regions, "--processes", str(n), "-o", str(path)
            )
            assert done.returncode == 0, done.stderr
            printed[n] = done.stderr.splitlines()
    finally:
        del os.environ["SOURCE_DATE_EPOCH"]
    assert snapshots[2].read_text() == snapshots[1].read_text()
    # Without a terminal (a CI log): a line per account, once every process is done with it,
    # and the summary, as one process prints them.
    accounts = sorted(["123456789012", *members])
    assert printed[1][0] == "vpce-audit: 3 account(s) to scan from 123456789012"
    assert printed[2][0] == "vpce-audit: 3 account(s) to scan, in 2 processes"
    for n in (1, 2):
        assert sorted(line for line in printed[n] if ": 2 region(s) collected" in line) == [
            f"vpce-audit: account {account}: 2 region(s) collected" for account in accounts
        ], printed[n]
        assert re.fullmatch(
            r"vpce-audit: collected 3 account\(s\), 6 account-region\(s\) in \d+ s; "
            r"0 collection error\(s\)",
            printed[n][-2],
        ), printed[n]
        assert printed[n][-1].startswith("vpce-audit: snapshot of 3 account(s), 6 region(s)")
    # On a terminal: one live line for both processes, the per-account lines above it.
    code, drawn = _cli_on_a_terminal(
        moto_server, "collect", "--org", *regions, "--processes", "2", "-o", str(tmp_path / "t")
    )
    assert code == 0, drawn
    frames = [frame.strip() for frame in drawn.split("\r") if "regions" in frame]
    assert re.search(r"6/6 regions · 3/3 accounts · [1-9][0-9,]* calls · 0 errors", frames[-1])
    for account in accounts:
        assert f"vpce-audit: account {account}: 2 region(s) collected" in drawn
    snapshot = json.loads(snapshots[2].read_text())
    assert [a["account_id"] for a in snapshot["accounts"]] == sorted(["123456789012", *members])
    assert len(snapshot["regions"]) == 6  # three accounts, two regions each
    report = _cli(moto_server, "scan", "--snapshot", str(snapshots[2]), "--format", "json")
    findings = json.loads(report.stdout)["findings"]
    flagged = {(f["rule_id"], f["resource_id"]) for f in findings}
    # The members' VPCs have no flow logs; each finding carries its own account.
    assert flagged == expected_two_region_findings(ids) | {
        ("VPCE602", vpc["VpcId"]) for vpc in member_vpcs
    }
    assert {f["account_id"] for f in findings if f["resource_id"] in ids.values()} == {
        "123456789012"
    }
    assert {f["account_id"] for f in findings if f["rule_id"] == "VPCE602"} >= set(members)
