"""The command line under bad input and bugs: one line, the right exit code, never a traceback."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from vpce_audit import cli
from vpce_audit.cli import INTERNAL_ERROR, main
from vpce_audit.scan import ExitCode

ROOT = Path(__file__).resolve().parent.parent
ESTATE = str(ROOT / "fixtures" / "snapshots" / "golden-estate.json")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, list[str]]:
    out = io.StringIO()
    code = main(list(argv), stdout=out)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, out.getvalue(), err.strip().splitlines()


@pytest.mark.parametrize(
    "selection",
    [["--select", ""], ["--select", ","], ["--select", " , "], ["--ignore", "VPCE"]],
)
def test_a_selection_that_leaves_no_rule_is_an_error(
    capsys: pytest.CaptureFixture[str], selection: list[str]
) -> None:
    code, out, err = _run(capsys, "scan", "--snapshot", ESTATE, *selection)
    assert code == ExitCode.USAGE
    assert out == ""
    (line,) = err
    assert line.startswith("vpce-audit: error: ")


def test_an_unexpected_exception_is_one_line_and_its_own_exit_code(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("something no one planned for")

    monkeypatch.setattr(cli, "run_scan", broken)
    code, _, err = _run(capsys, "scan", "--snapshot", ESTATE)
    assert code == INTERNAL_ERROR and code not in tuple(ExitCode)
    (line,) = err
    assert line.startswith("vpce-audit: error: internal error: RuntimeError at test_cli_hardening")
    assert "something no one planned for" in line and "-v" in line


def test_argument_errors_are_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["scan", "--scope-timeout", "forever"], stdout=io.StringIO())
    assert stopped.value.code == ExitCode.USAGE
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not a number of seconds" in err[0]


def test_the_markdown_report_fits_its_size_limit_and_keeps_the_counts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, full, _ = _run(capsys, "scan", "--snapshot", ESTATE, "--format", "markdown")
    code, cut, _ = _run(
        capsys, "scan", "--snapshot", ESTATE, "--format", "markdown", "--max-size", "4096"
    )
    assert code == ExitCode.INCOMPLETE
    assert len(full.encode()) > 4096 >= len(cut.encode())
    assert cut.splitlines()[2] == full.splitlines()[2]  # the headline counts
    assert "more not shown: the report is limited to 4,096 bytes" in cut
    headings = [line for line in full.splitlines() if line.startswith("## ")]
    assert headings == [line for line in cut.splitlines() if line.startswith("## ")]


def test_output_dash_is_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "scan", "--snapshot", ESTATE, "--format", "json", "-o", "-")
    assert code == ExitCode.INCOMPLETE
    assert out.startswith("{")


def test_output_to_a_directory_is_refused_before_any_work(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = _run(capsys, "scan", "--snapshot", ESTATE, "-o", f"{tmp_path}/")
    assert code == ExitCode.USAGE
    assert err == [
        f"vpce-audit: error: cannot write {tmp_path}/: it names a directory; give a file name"
    ]


def test_an_interrupt_while_starting_is_exit_130_without_a_traceback() -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    environment = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    process = subprocess.Popen(
        [sys.executable, "-X", "importtime", "-m", "vpce_audit", "rules", "list"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )
    # Interrupt the CLI's imports: the launcher has set its handlers before they begin, and
    # -X importtime writes each finished import to stderr (vpce_audit.console is among the
    # CLI's first).
    assert process.stderr is not None
    seen = ""
    deadline = time.monotonic() + 30
    while "vpce_audit.console" not in seen and time.monotonic() < deadline:
        seen += process.stderr.readline()
    process.send_signal(signal.SIGINT)
    _, rest = process.communicate(timeout=30)
    assert process.returncode == 130
    assert "Traceback" not in seen + rest
    assert "vpce-audit: interrupted; nothing was written" in rest


def _golden_without(tmp_path: Path, change: str) -> str:
    import json

    body = json.loads(Path(ESTATE).read_text())
    if change == "no account facts":
        body["accounts"] = []
    else:  # an account with facts but no region and no error
        extra = dict(body["accounts"][0], account_id="333333333333", errors=[])
        body["accounts"].append(extra)
        for region in body["regions"]:
            region["errors"] = []
    path = tmp_path / "partial.json"
    path.write_text(json.dumps(body))
    return str(path)


@pytest.mark.parametrize("change", ["no account facts", "an account without regions"])
def test_a_document_with_gaps_is_incomplete_and_keeps_alerts_open(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, change: str
) -> None:
    import json

    snapshot = _golden_without(tmp_path, change)
    code, out, _ = _run(capsys, "scan", "--snapshot", snapshot, "--format", "json")
    assert code == ExitCode.INCOMPLETE
    report = json.loads(out)
    gaps = [e for e in report["collection_errors"] if e["error_code"] == "NotCollected"]
    assert gaps and report["summary"]["complete"] is False
    _, sarif_text, _ = _run(capsys, "scan", "--snapshot", snapshot, "--format", "sarif")
    uploaded = {
        run["automationDetails"]["id"]
        for run in json.loads(sarif_text)["runs"]
        if run["invocations"][0]["executionSuccessful"]
    }
    assert not {f"vpce-audit/aws/{gap['account_id']}/" for gap in gaps} & uploaded


def test_a_reader_that_leaves_early_does_not_turn_the_exit_code_clean() -> None:
    import subprocess
    import sys

    scan = subprocess.Popen(
        # SARIF: larger than a pipe buffer, so the write meets the closed pipe.
        [sys.executable, "-m", "vpce_audit", "scan", "--snapshot", ESTATE, "--format", "sarif"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert scan.stdout is not None
    scan.stdout.read(10)
    scan.stdout.close()  # the reader goes away, as `| head -c 10` would
    _, err = scan.communicate(timeout=60)
    assert scan.returncode == ExitCode.INCOMPLETE
    assert b"Traceback" not in err
