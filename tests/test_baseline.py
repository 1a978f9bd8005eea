"""Baselines (scan --baseline) and diffs (vpce-audit diff): findings matched by fingerprint."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import document, endpoint, region, service, vpc
from vpce_audit.cli import main
from vpce_audit.model import RegionSnapshot
from vpce_audit.scan import ExitCode
from vpce_audit.snapshot.document import to_json

EU, US = "eu-west-1", "us-east-1"


def _scope(name: str, *endpoint_ids: str, account: str = "111111111111") -> RegionSnapshot:
    """Endpoints with the default full-access policy: VPCE101 (medium for SSM) on each."""
    return region(
        account,
        name,
        vpcs=[vpc("vpc-1", "10.0.0.0/16")],
        endpoint_service_details=[service("ssm", region_name=name)],
        vpc_endpoints=[endpoint(e, "vpc-1", "ssm", region_name=name) for e in endpoint_ids],
    )


def _write(tmp_path: Path, name: str, *scopes: RegionSnapshot) -> Path:
    path = tmp_path / name
    path.write_text(to_json(document(*scopes)))
    return path


def _run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["-q", *argv], stdout=out)
    return code, out.getvalue()


def _report(tmp_path: Path, snapshot: Path, name: str, *extra: str) -> Path:
    path = tmp_path / name
    code, _ = _run("scan", "--snapshot", str(snapshot), "--format", "json", "-o", str(path),
                   "--fail-on", "never", *extra)  # fmt: skip
    assert code == ExitCode.CLEAN
    return path


def _vpce101(body: dict[str, Any], key: str = "findings") -> dict[str, str]:
    return {f["resource_id"]: f.get("baseline", "") for f in body[key] if f["rule_id"] == "VPCE101"}


def test_fingerprints_do_not_change_when_an_unrelated_resource_is_added(tmp_path: Path) -> None:
    before = _report(tmp_path, _write(tmp_path, "a.json", _scope(EU, "vpce-a")), "before.json")
    after = _report(
        tmp_path,
        _write(tmp_path, "b.json", _scope(EU, "vpce-a", "vpce-b"), _scope(US, "vpce-c")),
        "after.json",
    )
    first = {f["fingerprint"]: f["resource_id"] for f in json.loads(before.read_text())["findings"]}
    second = {f["fingerprint"]: f["resource_id"] for f in json.loads(after.read_text())["findings"]}
    assert first.items() <= second.items()
    rescanned = _report(tmp_path, _write(tmp_path, "a2.json", _scope(EU, "vpce-a")), "again.json")
    assert (
        json.loads(rescanned.read_text())["findings"] == json.loads(before.read_text())["findings"]
    )


def test_a_baseline_marks_findings_and_fails_only_on_new_ones(tmp_path: Path) -> None:
    baseline = _report(
        tmp_path, _write(tmp_path, "a.json", _scope(EU, "vpce-a", "vpce-gone")), "base.json"
    )
    now = _write(tmp_path, "b.json", _scope(EU, "vpce-a", "vpce-b"))
    code, text = _run("scan", "--snapshot", str(now), "--baseline", str(baseline),
                      "--format", "json", "--fail-on", "medium")  # fmt: skip
    assert code == ExitCode.FINDINGS  # vpce-b is new and medium
    body = json.loads(text)
    assert _vpce101(body) == {"vpce-a": "unchanged", "vpce-b": "new"}
    assert [f["resource_id"] for f in body["baseline"]["fixed"]] == ["vpce-gone"]
    assert body["baseline"]["counts"]["new"] >= 1 and body["baseline"]["not_seen"] == []
    # The same estate as the baseline: nothing new, so nothing fails, though findings remain.
    same = _write(tmp_path, "c.json", _scope(EU, "vpce-a", "vpce-gone"))
    code, table = _run(
        "scan", "--snapshot", str(same), "--baseline", str(baseline), "--fail-on", "low"
    )
    assert code == ExitCode.CLEAN
    assert "VPCE101" in table and "since the baseline: 0 new" in table
    code, table = _run(
        "scan", "--snapshot", str(now), "--baseline", str(baseline), "--fail-on", "never"
    )
    assert "[new] " in table and "1 fixed" in table


def test_what_the_new_scan_did_not_look_at_is_not_fixed(tmp_path: Path) -> None:
    baseline = _report(
        tmp_path,
        _write(tmp_path, "a.json", _scope(EU, "vpce-eu"), _scope(US, "vpce-us")),
        "base.json",
    )
    # us-east-1 not in the new snapshot; VPCE101 ignored: neither is "fixed".
    only_eu = _write(tmp_path, "b.json", _scope(EU, "vpce-eu"))
    code, text = _run("scan", "--snapshot", str(only_eu), "--baseline", str(baseline),
                      "--format", "json", "--fail-on", "never")  # fmt: skip
    assert code == ExitCode.CLEAN
    body = json.loads(text)
    assert body["baseline"]["fixed"] == []
    assert _vpce101(body["baseline"], "not_seen") == {"vpce-us": ""}
    _, text = _run("scan", "--snapshot", str(only_eu), "--baseline", str(baseline), "--ignore",
                   "VPCE101", "--format", "json", "--fail-on", "never")  # fmt: skip
    assert set(_vpce101(json.loads(text)["baseline"], "not_seen")) == {"vpce-eu", "vpce-us"}


def test_a_severity_change_is_its_own_state(tmp_path: Path) -> None:
    snapshot = _write(tmp_path, "a.json", _scope(EU, "vpce-a"))
    baseline = _report(tmp_path, snapshot, "base.json")
    config = tmp_path / "c.yml"
    config.write_text("rules:\n  VPCE101: {severity: critical}\n")
    code, text = _run("scan", "--snapshot", str(snapshot), "--baseline", str(baseline),
                      "--config", str(config), "--format", "json", "--fail-on", "low")  # fmt: skip
    assert code == ExitCode.CLEAN  # changed, not new: only new findings fail a run
    body = json.loads(text)
    assert _vpce101(body) == {"vpce-a": "changed"}
    (changed,) = [c for c in body["baseline"]["changed"] if c["severity_now"] == "critical"]
    assert changed["severity_before"] == "medium"
    _, table = _run("scan", "--snapshot", str(snapshot), "--baseline", str(baseline),
                    "--config", str(config), "--fail-on", "never")  # fmt: skip
    assert "[was medium] " in table and "[new] " not in table


def test_diff_of_two_reports_and_of_two_snapshots(tmp_path: Path) -> None:
    old = _write(tmp_path, "old.json", _scope(EU, "vpce-a", "vpce-gone"))
    new = _write(tmp_path, "new.json", _scope(EU, "vpce-a", "vpce-b"))
    old_report, new_report = _report(tmp_path, old, "o.json"), _report(tmp_path, new, "n.json")
    for pair in ((old_report, new_report), (old, new), (old_report, new)):
        code, text = _run("diff", str(pair[0]), str(pair[1]), "--format", "json")
        assert code == ExitCode.FINDINGS
        body = json.loads(text)
        assert _vpce101(body, "new") == {"vpce-b": ""}
        assert _vpce101(body, "fixed") == {"vpce-gone": ""}
    code, table = _run("diff", str(old_report), str(new_report), "--fail-on", "critical")
    assert code == ExitCode.CLEAN
    assert "NEW (" in table and "vpce-b" in table and "FIXED (" in table
    code, markdown = _run("diff", str(old_report), str(new_report), "--format", "markdown")
    assert markdown.startswith("# vpce-audit diff") and "## New (" in markdown
    code, _ = _run("diff", str(new_report), str(new_report))
    assert code == ExitCode.CLEAN


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "neither a JSON report nor a snapshot"),
        ('{"report_format_version": 1}', "not a complete vpce-audit JSON report"),
        ('{"report_format_version": 99}', "not a vpce-audit JSON report"),
    ],
)
def test_a_bad_baseline_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    snapshot = _write(tmp_path, "a.json", _scope(EU, "vpce-a"))
    code, _ = _run("diff", str(bad), str(snapshot))
    assert code == ExitCode.USAGE
    assert message in capsys.readouterr().err
    if content != "not json":
        code, _ = _run("scan", "--snapshot", str(snapshot), "--baseline", str(bad))
        assert code == ExitCode.USAGE
        (line,) = capsys.readouterr().err.strip().splitlines()
        assert message in line


def test_the_diff_table_prints_number_like_text_as_it_is(tmp_path: Path) -> None:
    old = _report(tmp_path, _write(tmp_path, "old.json", _scope(EU, "vpce-a")), "o.json")
    body = json.loads(old.read_text())
    (finding,) = [f for f in body["findings"] if f["rule_id"] == "VPCE101"]
    finding.update(resource_id="1e5", fingerprint="f" * 32)  # gone from the new scan
    old.write_text(json.dumps(body))
    new = _report(tmp_path, _write(tmp_path, "new.json", _scope(EU, "vpce-b")), "n.json")
    _, table = _run("diff", str(old), str(new))
    assert any(line.split()[:2] == ["VPCE101", "1e5"] for line in table.splitlines()), table
