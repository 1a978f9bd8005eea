"""The table fits the terminal and colours severities only where a terminal wants colour."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from tests.test_reports import golden_result
from vpce_audit.cli import main
from vpce_audit.report import table

ESTATE = str(Path(__file__).resolve().parent.parent / "fixtures/snapshots/golden-estate.json")
ESCAPE = "\x1b"


@pytest.mark.parametrize("width", [80, 120, 200])
def test_every_line_fits_the_width(width: int) -> None:
    text = table.render(golden_result(), width=width)
    assert max(len(line) for line in text.splitlines()) <= width
    # Nothing is lost: every finding's resource and rule is still there.
    for finding in golden_result().findings:
        assert finding.rule_id in text and finding.resource_id in text


def test_a_wide_terminal_keeps_the_columns_and_a_narrow_one_stacks_them() -> None:
    wide = table.render(golden_result(), width=200)
    narrow = table.render(golden_result(), width=80)
    assert re.search(r"^Rule +Resource +Account +Region +Message", wide, re.MULTILINE)
    assert not re.search(r"^Rule +Resource", narrow, re.MULTILINE)
    assert "\n    Gateway endpoint vpce-s3" in narrow  # the message below its row


def test_colour_marks_only_the_severity_headings() -> None:
    text = table.render(golden_result(), colour=True)
    assert "\x1b[1;31mHIGH (2)\x1b[0m" in text
    assert text.count(ESCAPE) == 2 * len(golden_result().findings_by_severity())


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _scan(monkeypatch: pytest.MonkeyPatch, *extra: str, **env: str) -> str:
    for key in ("NO_COLOR", "COLUMNS"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    out = _Terminal()
    main(["-q", "scan", "--snapshot", ESTATE, "--fail-on", "never", *extra], stdout=out)
    return out.getvalue()


def test_a_terminal_gets_colour_unless_no_color_or_the_option_says_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert ESCAPE in _scan(monkeypatch, COLUMNS="100")
    assert ESCAPE not in _scan(monkeypatch, COLUMNS="100", NO_COLOR="1")
    assert ESCAPE not in _scan(monkeypatch, "--no-color", COLUMNS="100")
    text = _scan(monkeypatch, COLUMNS="80")
    assert max(len(re.sub(r"\x1b\[[0-9;]*m", "", line)) for line in text.splitlines()) <= 80


def test_a_file_or_a_pipe_gets_no_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    out = io.StringIO()
    main(["-q", "scan", "--snapshot", ESTATE, "--fail-on", "never"], stdout=out)
    assert ESCAPE not in out.getvalue()


def test_a_resource_is_shown_with_its_name_tag(aws_credentials: None) -> None:
    """Name tags are collected for VPCs, subnets, route tables, endpoints and security groups
    and shown beside the id; a hostile one stays inert."""
    import dataclasses

    from tests.helpers import document, endpoint, region, service
    from vpce_audit.rules.base import Settings
    from vpce_audit.rules.registry import load_registry
    from vpce_audit.scan import run_scan

    named = dataclasses.replace(endpoint("vpce-1", "vpc-1", "ssm"), name="prod\x1b[2Jssm")
    estate = region(endpoint_service_details=[service("ssm")], vpc_endpoints=[named])
    result = run_scan(document(estate), load_registry(include_plugins=False), Settings())
    text = table.render(result)
    assert "vpce-1 (prod\\u001b[2Jssm)" in text and ESCAPE not in text


def test_collection_keeps_the_name_tags(aws_credentials: None) -> None:
    from vpce_audit.collect import translate

    tags = {"Tags": [{"Key": "Name", "Value": "app"}]}
    assert translate.subnet({"SubnetId": "subnet-1", "VpcId": "vpc-1", "AvailabilityZone": "a",
                             **tags}).name == "app"  # fmt: skip
    assert translate.security_group({"GroupId": "sg-1", **tags}).name == "app"
