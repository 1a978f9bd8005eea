"""The GitHub Action (action.yml, vpce_audit/github_action.py) and its workflow recipe
(examples/github/scheduled-scan.yml). Offline: the GitHub API is a fake on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import AWS_ENVIRONMENT
from tests.sarif_checks import assert_uploadable
from vpce_audit import github_action
from vpce_audit.github_action import (
    COMMENT_PREFIX,
    MAX_COMMENT,
    SARIF_FILE,
    SUMMARY_LIMIT,
    SUMMARY_MARGIN,
    TRUNCATION_NOTE,
    RunInputs,
    append_summary,
    command_dismiss,
    command_run,
    main,
    write_outputs,
)

ROOT = Path(__file__).resolve().parent.parent
ACTION = ROOT / "action.yml"
EXAMPLE = ROOT / "examples" / "github" / "scheduled-scan.yml"
TOKEN = "ghs_not-a-real-token-0123456789"
SEVERITIES = ("critical", "high", "medium", "low", "info")


def _load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict)
    return document


def _triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the key `on` as the boolean True.
    triggers = workflow.get("on", workflow.get(True))
    assert isinstance(triggers, dict)
    return triggers


def _steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def _is_this_action(step: dict[str, Any]) -> bool:
    uses = step.get("uses", "")
    return uses == "./" or uses.startswith("vpce-audit/vpce-audit@")


def read_outputs(path: Path) -> dict[str, str]:
    """$GITHUB_OUTPUT as the runner reads it: name=value and name<<DELIMITER blocks."""
    outputs: dict[str, str] = {}
    lines = iter(path.read_text(encoding="utf-8").splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            value: list[str] = []
            for part in lines:
                if part == delimiter:
                    break
                value.append(part)
            else:
                raise AssertionError(f"delimiter of {name} never closed")
            outputs[name] = "\n".join(value)
        else:
            name, value_text = line.split("=", 1)
            outputs[name] = value_text
    return outputs


# -- action.yml and the recipe -----------------------------------------------------------------


def test_the_action_and_the_recipe_parse_and_agree() -> None:
    action = _load(ACTION)
    workflow = _load(EXAMPLE)
    assert action["runs"]["using"] == "composite"
    inputs, outputs = set(action["inputs"]), set(action["outputs"])
    for name, spec in {**action["inputs"], **action["outputs"]}.items():
        assert spec.get("description"), f"{name} is not documented"

    triggers = _triggers(workflow)
    assert triggers["schedule"][0]["cron"] and "workflow_dispatch" in triggers
    assert workflow["permissions"] == {
        "id-token": "write",
        "security-events": "write",
        "contents": "read",
        "actions": "read",  # upload-sarif in a private repository
    }
    steps = _steps(workflow)
    (credentials,) = [s for s in steps if "configure-aws-credentials" in s.get("uses", "")]
    assert {"role-to-assume", "aws-region"} <= set(credentials["with"])

    ours = [s for s in steps if _is_this_action(s)]
    assert len(ours) == 2  # the scan and the dismiss step
    for step in ours:
        assert set(step.get("with", {})) <= inputs, step
    (scan,) = [s for s in ours if s.get("id") == "scan"]
    assert scan["continue-on-error"] is True
    referenced = set(re.findall(r"steps\.scan\.outputs\.([\w-]+)", EXAMPLE.read_text()))
    assert referenced and referenced <= outputs

    # One upload per file, each a file of the scan's directory, none with a category: every
    # run carries its own automationDetails.id.
    uploads = [s for s in steps if "codeql-action/upload-sarif" in s.get("uses", "")]
    assert uploads
    for number, step in enumerate(uploads, start=1):
        assert "category" not in step["with"]
        directory, name = step["with"]["sarif_file"].rsplit("/", 1)
        assert directory == scan["with"]["sarif-dir"]
        match = SARIF_FILE.fullmatch(name)
        assert match and int(match.group(1)) == number


def test_the_recipe_scan_arguments_are_valid_scan_options() -> None:
    from vpce_audit.cli import build_parser

    (scan,) = [s for s in _steps(_load(EXAMPLE)) if s.get("id") == "scan"]
    args = build_parser().parse_args(["scan", *shlex.split(scan["with"]["args"])])
    assert args.org and args.role_name == "vpce-audit-read-only"


def _evaluate(condition: str, code: str, count: int, report: str = "vpce-audit.json") -> bool:
    """A step's `if`, for the few expressions the recipe uses, with the scan's outputs set."""
    text = condition.strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    for name, value in (
        ("steps.scan.outputs.exit-code", repr(code)),
        ("steps.scan.outputs.sarif-count", str(count)),
        ("steps.scan.outputs.json-report", repr(report)),
        ("!cancelled()", "True"),
        ("&&", " and "),
        ("||", " or "),
    ):
        text = text.replace(name, value)
    words = set(re.findall(r"[A-Za-z_][\w.-]*", re.sub(r"'[^']*'", "''", text)))
    assert words <= {"and", "or", "True"}, f"cannot evaluate {condition!r}"
    return bool(eval(text, {"__builtins__": {}}, {}))


@pytest.mark.parametrize("code", ["0", "1", "2", "3", "4", "130", ""])
@pytest.mark.parametrize("count", [0, 1, 2, 5, 6])
def test_the_recipe_uploads_for_0_1_and_3_only_and_fails_the_job_unless_clean(
    code: str, count: int
) -> None:
    steps = _steps(_load(EXAMPLE))
    uploadable = code in ("0", "1", "3")
    uploads = [s for s in steps if "codeql-action/upload-sarif" in s.get("uses", "")]
    for number, step in enumerate(uploads, start=1):
        assert _evaluate(step["if"], code, count) == (uploadable and count >= number), step
    (dismiss,) = [s for s in steps if s.get("with", {}).get("command") == "dismiss"]
    assert _evaluate(dismiss["if"], code, count) == uploadable
    (guard,) = [s for s in steps if s.get("name") == "Every SARIF file has an upload step"]
    assert _evaluate(guard["if"], code, count) == (count > len(uploads))
    final = steps[-1]
    assert "exit 1" in final["run"]
    assert _evaluate(final["if"], code, count) == (code != "0")


def test_the_action_passes_inputs_as_environment_and_outputs_from_its_step() -> None:
    action = _load(ACTION)
    steps = action["runs"]["steps"]
    for step in steps:
        # An input pasted into a script could inject shell; they go through env only.
        assert "inputs." not in step.get("run", ""), step
    (run,) = [s for s in steps if s.get("id") == "run"]
    env = run["env"]
    for name in set(action["inputs"]) - {"command", "python-version"}:
        key = "INPUT_" + name.upper().replace("-", "_")
        assert f"inputs.{name}" in env[key], key
    for name, spec in action["outputs"].items():
        assert spec["value"] == f"${{{{ steps.run.outputs.{name} }}}}"
    # The module reads the names action.yml sets.
    sample = {
        "INPUT_ARGS": "--org --region 'eu-west-1'",
        "INPUT_CONFIG": "audit.yml",
        "INPUT_FAIL_ON": "medium",
        "INPUT_SARIF_DIR": "out",
        "INPUT_CATEGORY": "nightly",
        "INPUT_JSON_REPORT": "report.json",
        "INPUT_DEMO": "true",
    }
    assert set(sample) <= set(env)
    assert RunInputs.from_env(sample) == RunInputs(
        args=("--org", "--region", "eu-west-1"),
        config="audit.yml",
        fail_on="medium",
        sarif_dir=Path("out"),
        category="nightly",
        json_report=Path("report.json"),
        demo=True,
    )
    defaults = RunInputs.from_env({"INPUT_FAIL-ON": "", "INPUT_DEMO": "False"})
    assert (defaults.fail_on, defaults.demo) == ("high", False)
    assert (defaults.sarif_dir, defaults.json_report) == (
        Path(action["inputs"]["sarif-dir"]["default"]),
        Path(action["inputs"]["json-report"]["default"]),
    )


# -- run -------------------------------------------------------------------------------------


def _value(argv: list[str], option: str) -> list[str]:
    return [argv[i + 1] for i, word in enumerate(argv[:-1]) if word == option]


def _fake_report(counts: dict[str, int], complete: bool = True) -> dict[str, Any]:
    return {
        "summary": {
            "complete": complete,
            "findings": sum(counts.values()),
            "by_severity": counts,
            "suppressed": 2,
        }
    }


def test_run_writes_the_outputs_summary_and_passes_the_exit_code_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    counts = {"critical": 1, "high": 2, "medium": 3, "low": 4, "info": 5}
    seen: dict[str, Any] = {}

    def fake_scan(argv: list[str], env: dict[str, str]) -> int:
        seen["argv"], seen["env"] = argv, env
        assert not Path("vpce-audit.json").exists()  # the earlier run's report is gone
        assert not (Path("sarif") / "vpce-audit-3.sarif").exists()
        targets = dict(value.split("=", 1) for value in _value(argv, "--output"))
        Path(targets["json"]).write_text(json.dumps(_fake_report(counts)))
        Path(targets["markdown"]).write_text("# vpce-audit report\n\n| a | b |\n")
        (directory,) = _value(argv, "--output-dir")
        for number in (1, 2, 10):
            (Path(directory) / f"vpce-audit-{number}.sarif").write_text("{}")
        return 1

    monkeypatch.setattr(github_action, "_run_scan", fake_scan)
    Path("vpce-audit.json").write_text("stale")
    Path("sarif").mkdir()
    (Path("sarif") / "vpce-audit-3.sarif").write_text("stale")
    (Path("sarif") / "notes.sarif").write_text("not ours")
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    env = {
        "INPUT_ARGS": "--org --role-name 'audit role'",
        "INPUT_SARIF_DIR": "sarif",
        "INPUT_CATEGORY": "nightly",
        "INPUT_CONFIG": "audit.yml",
        "INPUT_TOKEN": TOKEN,
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(summary),
        "RUNNER_TEMP": str(tmp_path),
        "AWS_REGION": "eu-west-1",
    }
    assert command_run(env) == 1

    argv = seen["argv"]
    assert argv[:4] == ["scan", "--org", "--role-name", "audit role"]
    assert _value(argv, "--fail-on") == ["high"]
    assert _value(argv, "--config") == ["audit.yml"]
    assert _value(argv, "--sarif-category") == ["nightly"]
    assert _value(argv, "--output-dir") == ["sarif"]
    assert "--demo" not in argv
    formats = [value.split("=", 1)[0] for value in _value(argv, "--output")]
    assert sorted(formats) == ["json", "markdown", "table"]
    assert int(_value(argv, "--max-size")[0]) == SUMMARY_LIMIT - SUMMARY_MARGIN - len(
        "earlier step\n"
    )
    # The scan gets AWS's environment, not the GitHub token.
    assert "AWS_REGION" in seen["env"]
    assert TOKEN not in json.dumps(seen["env"])

    outputs = read_outputs(tmp_path / "output")
    assert outputs == {
        "exit-code": "1",
        "complete": "true",
        "findings": "15",
        **{severity: str(count) for severity, count in counts.items()},
        "suppressed": "2",
        "json-report": "vpce-audit.json",
        "sarif-dir": "sarif",
        "sarif-files": json.dumps(
            ["sarif/vpce-audit-1.sarif", "sarif/vpce-audit-2.sarif", "sarif/vpce-audit-10.sarif"]
        ),
        "sarif-count": "3",
    }
    assert set(outputs) <= set(_load(ACTION)["outputs"])
    assert summary.read_text() == "earlier step\n# vpce-audit report\n\n| a | b |\n"
    assert not list(tmp_path.glob("vpce-audit-*/summary.md"))  # the temporary file is gone


def test_the_demo_flag_and_a_report_that_says_incomplete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    def fake_scan(argv: list[str], env: dict[str, str]) -> int:
        assert "--demo" in argv
        Path("vpce-audit.json").write_text(json.dumps(_fake_report({"high": 1}, complete=False)))
        return 3

    monkeypatch.setattr(github_action, "_run_scan", fake_scan)
    env = {"INPUT_DEMO": "true", "GITHUB_OUTPUT": str(tmp_path / "output")}
    assert command_run(env) == 3
    outputs = read_outputs(tmp_path / "output")
    assert (outputs["exit-code"], outputs["complete"], outputs["high"]) == ("3", "false", "1")
    assert outputs["critical"] == "0"


def test_a_bad_flag_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {"INPUT_DEMO": "yes", "GITHUB_OUTPUT": str(tmp_path / "output")}
    assert main(["run"], env) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "demo must be true or false" in err


def _github_env(tmp_path: Path) -> dict[str, str]:
    """The process environment for the action as a runner would give it, with fake AWS
    credentials that can reach nothing."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in AWS_ENVIRONMENT and not key.startswith(("GITHUB_", "INPUT_", "RUNNER_"))
    }
    env |= {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "RUNNER_TEMP": str(tmp_path),
    }
    return env


def _action(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vpce_audit.github_action", "run"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def test_a_scan_that_cannot_start_reports_exit_2_and_no_stale_files(tmp_path: Path) -> None:
    stale = tmp_path / "vpce-audit-sarif" / "vpce-audit-1.sarif"
    stale.parent.mkdir()
    stale.write_text("{}")
    env = _github_env(tmp_path) | {"INPUT_ARGS": "--no-such-option", "INPUT_DEMO": "true"}
    completed = _action(tmp_path, env)
    assert completed.returncode == 2, completed.stderr
    assert "Traceback" not in completed.stderr
    outputs = read_outputs(tmp_path / "output")
    assert outputs["exit-code"] == "2" and outputs["complete"] == "false"
    assert outputs["sarif-files"] == "[]" and outputs["sarif-count"] == "0"
    assert "findings" not in outputs
    assert not stale.exists()
    assert "exited with code 2" in (tmp_path / "summary.md").read_text()


DEMO_SUPPRESSIONS = """\
suppressions:
  - rule: VPCE111
    resource: "vpce-svc-*"
    reason: "public SaaS listing; consumers are billed through Marketplace"
  - rule: VPCE401
    resource: "rtb-*"
    reason: "NAT egress accepted until the gateway endpoints land"
"""


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, str]:
    """The action's run command on the built-in demo estate (no AWS), with a configuration
    that suppresses some findings, once for the module."""
    tmp_path = tmp_path_factory.mktemp("action-demo")
    (tmp_path / "audit.yml").write_text(DEMO_SUPPRESSIONS)
    inputs = {"INPUT_DEMO": "true", "INPUT_CONFIG": "audit.yml"}
    completed = _action(tmp_path, _github_env(tmp_path) | inputs)
    return tmp_path, completed.returncode, completed.stdout + completed.stderr


def test_the_action_runs_the_demo_and_its_outputs_are_the_reports_counts(
    demo_run: tuple[Path, int, str],
) -> None:
    tmp_path, code, log = demo_run
    assert "Traceback" not in log
    # The demo has critical and high findings: exit 1 with the default fail-on high.
    assert code == 1, log
    report = json.loads((tmp_path / "vpce-audit.json").read_text())
    summary = report["summary"]
    outputs = read_outputs(tmp_path / "output")
    assert outputs["exit-code"] == "1"
    assert outputs["complete"] == "true" and summary["complete"] is True
    assert outputs["findings"] == str(summary["findings"]) != "0"
    for severity in SEVERITIES:
        assert outputs[severity] == str(summary["by_severity"][severity])
    assert outputs["json-report"] == "vpce-audit.json"
    files = json.loads(outputs["sarif-files"])
    assert files == ["vpce-audit-sarif/vpce-audit-1.sarif"] and outputs["sarif-count"] == "1"
    document = assert_uploadable((tmp_path / files[0]).read_text())
    results = [r for run in document["runs"] for r in run["results"]]
    assert outputs["suppressed"] == str(summary["suppressed"]) != "0"
    assert len(results) == summary["findings"] + summary["suppressed"]
    assert (tmp_path / "summary.md").read_text().startswith("# vpce-audit report")
    assert f"{summary['findings']} finding(s)" in log  # the table, in the step's log


# -- step summary and outputs ------------------------------------------------------------------


def test_a_summary_that_would_pass_the_limit_is_cut_at_a_line_with_a_note(
    tmp_path: Path,
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("x" * 1000 + "\n")
    rows = "".join(f"| row {n} | é |\n" for n in range(100_000))
    assert len(rows.encode()) > SUMMARY_LIMIT
    assert append_summary(summary, rows) is False
    written = summary.read_bytes()
    assert len(written) <= SUMMARY_LIMIT - SUMMARY_MARGIN
    text = written.decode("utf-8")
    assert text.endswith(TRUNCATION_NOTE)
    kept = text[1001 : -len(TRUNCATION_NOTE)]
    assert kept.endswith(" |\n") and all(line.startswith("| row ") for line in kept.splitlines())
    # A report that fits is appended whole.
    small = tmp_path / "small.md"
    assert append_summary(small, "# report") is True
    assert small.read_text() == "# report\n"


def test_an_output_with_a_line_break_uses_a_random_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "output"
    write_outputs(path, {"plain": "1", "lines": "a\nb=c\nd<<e"})
    write_outputs(path, {"again": "x"})
    text = path.read_text()
    delimiter = re.search(r"^lines<<(\S+)$", text, re.MULTILINE)
    assert delimiter and delimiter.group(1).startswith("ghadelimiter_")
    assert read_outputs(path) == {"plain": "1", "lines": "a\nb=c\nd<<e", "again": "x"}


# -- dismiss against a fake GitHub API -----------------------------------------------------------

REPO = "acme/aws-audit"
REF = "refs/heads/main"
SUPPRESSED_PATH = "aws/111111111111/eu-west-1/vpc-endpoint/vpce-0aaa"
OPEN_PATH = "aws/111111111111/eu-west-1/route-table/rtb-0bbb"
HUMAN_PATH = "aws/111111111111/eu-west-1/vpc/vpc-0ccc"
PENDING_PATH = "aws/222222222222/us-east-1/vpc-endpoint/vpce-0ddd"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    authorization: str


@dataclass
class FakeGitHub:
    alerts: dict[str, list[dict[str, Any]]]
    per_page: int = 1
    requests: list[Request] = field(default_factory=list)
    queued: list[tuple[int, dict[str, str], dict[str, Any]]] = field(default_factory=list)
    """Answers given before any other (status, headers, body)."""
    always: tuple[int, dict[str, Any]] | None = None
    base: str = ""


def _handler(fake: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True  # no delayed-ACK wait between the headers and the body

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _record(self) -> Request:
            parts = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            request = Request(
                self.command,
                parts.path,
                dict(urllib.parse.parse_qsl(parts.query)),
                json.loads(raw) if raw else None,
                self.headers.get("Authorization", ""),
            )
            fake.requests.append(request)
            return request

        def _answer_queued(self) -> bool:
            if fake.always is not None:
                self._send(*fake.always)
                return True
            if fake.queued:
                status, headers, body = fake.queued.pop(0)
                self._send(status, body, headers)
                return True
            return False

        def do_GET(self) -> None:
            request = self._record()
            if self._answer_queued():
                return
            assert request.path == f"/repos/{REPO}/code-scanning/alerts"
            page = int(request.query.get("page", "1"))
            alerts = fake.alerts.get(request.query["state"], [])
            start = (page - 1) * fake.per_page
            headers = {}
            if start + fake.per_page < len(alerts):
                query = urllib.parse.urlencode({**request.query, "page": page + 1})
                headers["Link"] = f'<{fake.base}{request.path}?{query}>; rel="next"'
            self._send(200, alerts[start : start + fake.per_page], headers)

        def do_PATCH(self) -> None:
            request = self._record()
            if self._answer_queued():
                return
            number = int(request.path.rsplit("/", 1)[1])
            self._send(200, {"number": number, **request.body})

    return Handler


@pytest.fixture
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")


@pytest.fixture
def github(no_proxy: None) -> Iterator[FakeGitHub]:
    fake = FakeGitHub(alerts={})
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _result(rule: str, path: str, reason: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": rule,
        "level": "error",
        "message": {"text": "..."},
        "locations": [
            {"physicalLocation": {"artifactLocation": {"uri": path}, "region": {"startLine": 1}}}
        ],
    }
    if reason is not None:
        result["suppressions"] = [
            {"kind": "external", "status": "accepted", "justification": reason}
        ]
    return result


def _sarif(directory: Path, results: list[dict[str, Any]]) -> Path:
    directory.mkdir(exist_ok=True)
    document = {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "vpce-audit", "rules": []}},
                "automationDetails": {"id": "vpce-audit/aws/111111111111/"},
                "results": results,
            },
            {
                "tool": {"driver": {"name": "vpce-audit", "rules": []}},
                "automationDetails": {"id": "vpce-audit/aws/scan-status/1/"},
                "results": [],
            },
        ],
    }
    (directory / "vpce-audit-1.sarif").write_text(json.dumps(document))
    return directory


def _alert(number: int, rule: str, path: str, state: str, comment: str | None = None) -> dict:
    return {
        "number": number,
        "state": state,
        "rule": {"id": rule},
        "tool": {"name": "vpce-audit"},
        "dismissed_reason": "won't fix" if state == "dismissed" else None,
        "dismissed_comment": comment,
        "most_recent_instance": {"ref": REF, "location": {"path": path, "start_line": 1}},
    }


def _dismiss_env(fake: FakeGitHub, sarif: Path, tmp_path: Path) -> dict[str, str]:
    return {
        "GITHUB_API_URL": fake.base,
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_REF": REF,
        "INPUT_TOKEN": TOKEN,
        "INPUT_SARIF_DIR": str(sarif),
        "GITHUB_OUTPUT": str(tmp_path / "output"),
    }


def _scenario(github: FakeGitHub, tmp_path: Path) -> Path:
    sarif = _sarif(
        tmp_path / "sarif",
        [
            _result("VPCE101", SUPPRESSED_PATH, "legacy endpoint, replaced in Q1"),
            _result("VPCE401", OPEN_PATH),
            _result("VPCE111/critical", HUMAN_PATH),
            _result("VPCE102", PENDING_PATH, "partner access, ticket SEC-42"),
        ],
    )
    github.alerts = {
        "open": [
            _alert(1, "VPCE101", SUPPRESSED_PATH, "open"),
            _alert(4, "VPCE999", "aws/333333333333/eu-west-1/vpc/vpc-0eee", "open"),
        ],
        "dismissed": [
            _alert(3, "VPCE111/critical", HUMAN_PATH, "dismissed", "false positive: test VPC"),
            _alert(2, "VPCE401", OPEN_PATH, "dismissed", f"{COMMENT_PREFIX} an old reason"),
        ],
    }
    return sarif


def test_dismiss_dismisses_suppressed_and_reopens_what_it_dismissed_and_nothing_else(
    github: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sarif = _scenario(github, tmp_path)
    assert main(["dismiss"], _dismiss_env(github, sarif, tmp_path)) == 0

    patches = [(r.path, r.body) for r in github.requests if r.method == "PATCH"]
    assert patches == [
        (
            f"/repos/{REPO}/code-scanning/alerts/1",
            {
                "state": "dismissed",
                "dismissed_reason": "won't fix",
                "dismissed_comment": "vpce-audit suppression: legacy endpoint, replaced in Q1",
            },
        ),
        (f"/repos/{REPO}/code-scanning/alerts/2", {"state": "open"}),
    ]
    listings = [r for r in github.requests if r.method == "GET"]
    # One alert per page: both pages of each listing were read, through the Link headers.
    assert [(r.query["state"], r.query.get("page", "1")) for r in listings] == [
        ("open", "1"),
        ("open", "2"),
        ("dismissed", "1"),
        ("dismissed", "2"),
    ]
    for request in listings:
        assert request.query["tool_name"] == "vpce-audit" and request.query["ref"] == REF
        assert request.query["per_page"] == "100"
    assert {r.authorization for r in github.requests} == {f"Bearer {TOKEN}"}

    out = capsys.readouterr().out
    assert f"dismissed alert #1 VPCE101 {SUPPRESSED_PATH}" in out
    assert f"re-opened alert #2 VPCE401 {OPEN_PATH}" in out
    assert f"not yet visible: VPCE102 {PENDING_PATH}" in out  # reported, not an error
    assert "#3" not in out and "#4" not in out
    assert TOKEN not in out
    assert read_outputs(tmp_path / "output") == {"dismissed": "1", "reopened": "1", "pending": "1"}


def test_dismiss_retries_a_server_error_and_a_secondary_rate_limit(
    github: FakeGitHub, tmp_path: Path
) -> None:
    sarif = _scenario(github, tmp_path)
    github.queued = [
        (500, {}, {"message": "Server Error"}),
        (403, {"Retry-After": "3"}, {"message": "You have exceeded a secondary rate limit"}),
    ]
    waits: list[float] = []
    assert command_dismiss(_dismiss_env(github, sarif, tmp_path), sleep=waits.append) == 0
    assert waits == [1.0, 3.0]
    assert [r.method for r in github.requests[:3]] == ["GET", "GET", "GET"]
    assert github.requests[0].query == github.requests[2].query  # the same page, asked again
    assert len([r for r in github.requests if r.method == "PATCH"]) == 2


def test_dismiss_gives_up_after_a_few_server_errors(
    github: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sarif = _scenario(github, tmp_path)
    github.always = (502, {"message": "Bad Gateway"})
    waits: list[float] = []
    assert command_dismiss(_dismiss_env(github, sarif, tmp_path), sleep=waits.append) == 1
    assert waits == [1.0, 2.0, 4.0]
    assert len(github.requests) == 4
    assert "HTTP 502: Bad Gateway" in capsys.readouterr().err


def test_dismiss_on_401_is_one_line_exit_1_without_the_token(
    github: FakeGitHub, tmp_path: Path
) -> None:
    sarif = _scenario(github, tmp_path)
    github.always = (401, {"message": f"Bad credentials for {TOKEN}"})
    env = _github_env(tmp_path) | _dismiss_env(github, sarif, tmp_path)
    env["NO_PROXY"] = "127.0.0.1"
    completed = subprocess.run(
        [sys.executable, "-m", "vpce_audit.github_action", "dismiss"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert completed.returncode == 1
    assert completed.stdout == ""
    assert completed.stderr.count("\n") == 1, completed.stderr
    assert "HTTP 401" in completed.stderr and "Traceback" not in completed.stderr
    assert TOKEN not in completed.stderr
    assert [r.method for r in github.requests] == ["GET"]  # no retry of a refusal
    assert not (tmp_path / "output").exists()


def test_dismiss_before_any_analysis_reports_everything_pending(
    github: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sarif = _scenario(github, tmp_path)
    github.always = (404, {"message": "no analysis found"})
    assert main(["dismiss"], _dismiss_env(github, sarif, tmp_path)) == 0
    out = capsys.readouterr().out
    assert out.count("not yet visible") == 2
    assert not [r for r in github.requests if r.method == "PATCH"]


def test_the_dismissal_comment_is_cut_to_githubs_limit(github: FakeGitHub, tmp_path: Path) -> None:
    reason = "because " * 100
    sarif = _sarif(tmp_path / "sarif", [_result("VPCE101", SUPPRESSED_PATH, reason)])
    github.alerts = {"open": [_alert(7, "VPCE101", SUPPRESSED_PATH, "open")]}
    assert command_dismiss(_dismiss_env(github, sarif, tmp_path), sleep=lambda _: None) == 0
    (patch,) = [r for r in github.requests if r.method == "PATCH"]
    comment = patch.body["dismissed_comment"]
    assert len(comment) == MAX_COMMENT and comment.startswith(f"{COMMENT_PREFIX} because")


def test_dismiss_without_a_token_or_sarif_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {"GITHUB_REPOSITORY": REPO, "GITHUB_REF": REF, "INPUT_SARIF_DIR": str(tmp_path)}
    assert main(["dismiss"], env) == 2
    assert "no token" in capsys.readouterr().err
    assert main(["dismiss"], env | {"GITHUB_TOKEN": TOKEN}) == 2
    err = capsys.readouterr().err
    assert "no SARIF file" in err and TOKEN not in err


def test_dismiss_after_the_demo_upload_dismisses_exactly_its_suppressed_findings(
    demo_run: tuple[Path, int, str], github: FakeGitHub, tmp_path: Path
) -> None:
    """Every result of the demo's SARIF as an open alert (as GitHub shows an upload that
    ignored the suppressions): dismiss closes exactly the suppressed ones, with their reason."""
    demo, _, _ = demo_run
    sarif = demo / "vpce-audit-sarif"
    document = json.loads((sarif / "vpce-audit-1.sarif").read_text())
    results = [r for run in document["runs"] for r in run["results"]]
    github.per_page = 10
    github.alerts["open"] = [
        _alert(number, r["ruleId"], path, "open")
        for number, r in enumerate(results, start=1)
        if (path := r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
    ]
    assert len(github.alerts["open"]) > github.per_page  # several pages
    expected = {
        number: f"{COMMENT_PREFIX} {r['suppressions'][0]['justification']}"
        for number, r in enumerate(results, start=1)
        if r.get("suppressions")
    }
    assert any(r["ruleId"].startswith("VPCE111/") for r in results if r.get("suppressions"))
    assert command_dismiss(_dismiss_env(github, sarif, tmp_path), sleep=lambda _: None) == 0
    patches = {
        int(r.path.rsplit("/", 1)[1]): r.body["dismissed_comment"]
        for r in github.requests
        if r.method == "PATCH"
    }
    assert patches == expected
    outputs = read_outputs(tmp_path / "output")
    assert outputs == {"dismissed": str(len(expected)), "reopened": "0", "pending": "0"}
