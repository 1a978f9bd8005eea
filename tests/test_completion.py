"""Shell completion (argcomplete): what a shell gets when it asks vpce-audit to complete."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vpce_audit.cli import main


def _complete(tmp_path: Path, line: str) -> list[str]:
    answer = tmp_path / "completions"
    env = {
        **os.environ,
        "_ARGCOMPLETE": "1",
        "COMP_LINE": line,
        "COMP_POINT": str(len(line)),
        "_ARGCOMPLETE_STDOUT_FILENAME": str(answer),
    }
    subprocess.run(
        [sys.executable, "-m", "vpce_audit"], env=env, check=False, capture_output=True, timeout=60
    )
    return sorted(answer.read_text().replace("\x0b", " ").split())


def test_commands_options_and_their_values_complete(tmp_path: Path) -> None:
    assert _complete(tmp_path, "vpce-audit sc") == ["scan"]
    assert _complete(tmp_path, "vpce-audit scan --form") == ["--format"]
    assert _complete(tmp_path, "vpce-audit scan --format ") == [
        "html", "json", "markdown", "sarif", "table",
    ]  # fmt: skip
    assert _complete(tmp_path, "vpce-audit scan --compliance ") == [
        "cis-aws", "fsbp", "nist-800-53", "pci-dss",
    ]  # fmt: skip


@pytest.mark.parametrize(("shell", "marker"), [("bash", "complete "), ("zsh", "#compdef"),
                                               ("fish", "complete ")])  # fmt: skip
def test_the_shell_code_names_the_command(shell: str, marker: str) -> None:
    out = io.StringIO()
    assert main(["completion", shell], stdout=out) == 0
    assert "vpce-audit" in out.getvalue() and marker in out.getvalue()
