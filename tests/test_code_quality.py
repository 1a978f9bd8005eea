"""ruff and mypy are part of the test suite, so CI enforces them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def test_ruff_lint_and_format() -> None:
    lint = _run("ruff", "check", "vpce_audit", "tests", "benchmarks", "fixtures")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = _run("ruff", "format", "--check", "vpce_audit", "tests", "benchmarks", "fixtures")
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_mypy_strict() -> None:
    checked = _run("mypy")
    assert checked.returncode == 0, checked.stdout + checked.stderr
