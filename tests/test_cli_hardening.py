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
