"""The open-files limit a collection raises for itself (vpce_audit.collect.limits)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from vpce_audit import cli
from vpce_audit.collect import connections, limits
from vpce_audit.collect.limits import ensure_open_files, open_files_needed


@pytest.fixture
def soft_limit() -> Iterator[int]:
    """This process's soft limit, restored afterwards (the hard limit is never touched)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    yield soft
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_low_soft_limit_is_raised_to_what_the_workers_need(soft_limit: int) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 400:
        pytest.skip(f"the hard limit ({hard}) is too low to raise the soft one to 400")
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))  # macOS's default
    assert ensure_open_files(400) is None
    assert resource.getrlimit(resource.RLIMIT_NOFILE) == (400, hard)
    assert ensure_open_files(300) is None  # enough already: left as it is
    assert resource.getrlimit(resource.RLIMIT_NOFILE) == (400, hard)


class FakeLimits:
    """A stand-in for the resource module, so that no test lowers the real hard limit."""

    RLIMIT_NOFILE = resource.RLIMIT_NOFILE
    RLIM_INFINITY = resource.RLIM_INFINITY

    def __init__(self, soft: int, hard: int, most: int) -> None:
        self.limits = (soft, hard)
        self.most = most

    def getrlimit(self, _which: int) -> tuple[int, int]:
        return self.limits

    def setrlimit(self, _which: int, limits: tuple[int, int]) -> None:
        if limits[0] > self.most:  # as macOS refuses a soft limit above OPEN_MAX
            raise ValueError("not allowed")
        self.limits = limits


INFINITE = resource.RLIM_INFINITY


@pytest.mark.parametrize(
    ("before", "most", "needed", "outcome"),
    [
        ((256, 300), 10**6, 448, (300, (300, 300))),  # raised as far as the hard limit allows
        ((256, INFINITE), 10**6, 448, (None, (448, INFINITE))),
        ((256, 10_000), 0, 448, (256, (256, 10_000))),  # the platform refuses: said, not raised
        ((1024, 10_000), 0, 448, (None, (1024, 10_000))),  # enough already
        # macOS: an infinite hard limit, but no soft one above OPEN_MAX (--workers 512)
        ((256, INFINITE), 10_240, 24_640, (10_240, (10_240, INFINITE))),
    ],
)
def test_what_the_hard_limit_does_not_allow_is_said(
    monkeypatch: pytest.MonkeyPatch,
    before: tuple[int, int],
    most: int,
    needed: int,
    outcome: tuple[int | None, tuple[int, int]],
) -> None:
    """``outcome``: what ensure_open_files returns (the limit it stays at, if short of
    ``needed``), and the limits it leaves."""
    fake = FakeLimits(*before, most=most)
    monkeypatch.setitem(sys.modules, "resource", fake)
    assert (ensure_open_files(needed), fake.limits) == outcome


def test_a_collection_warns_when_its_workers_may_exceed_the_limit(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asked: list[int] = []

    def stays_at_256(needed: int) -> int:
        asked.append(needed)
        return 256

    monkeypatch.setattr(cli, "ensure_open_files", stays_at_256)
    cli._open_files_for(8, None, raise_limit=True)
    needed = open_files_needed(8 * (32 + 16))
    assert needed == 8 * 48 + limits.SPARE
    # What it asks for counts the idle connections shared across accounts besides
    # (tests/test_collect_connections.py); it warns about the calls in flight alone.
    pools = connections.Pools(busy=8 * 48, other=connections.other_pool(8))
    assert asked == [needed + connections.retained_at_most(connections.REGIONS_AT_MOST, pools)]
    assert capsys.readouterr().err.strip() == (
        f"vpce-audit: warning: the open-files limit is 256, below the {needed} that --workers 8 "
        "may need: calls past it fail and are recorded as collection errors; lower --workers or "
        "raise the limit (ulimit -n)"
    )


def test_no_warning_when_the_limit_was_raised(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "ensure_open_files", lambda _needed: None)
    cli._open_files_for(8, None, raise_limit=True)
    assert capsys.readouterr().err == ""


def _collect_with_a_low_hard_limit(*options: str) -> subprocess.CompletedProcess[str]:
    """``vpce-audit collect`` in a process whose open-files limit is 200 and may not be raised,
    its AWS endpoint a closed port of 127.0.0.1 (refused at once: nothing leaves the host)."""

    def low_limit() -> None:  # in the child only
        resource.setrlimit(resource.RLIMIT_NOFILE, (200, 200))

    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    return subprocess.run(
        [sys.executable, "-m", "vpce_audit", "collect", "--region", "eu-west-1", *options],
        env=environment,
        preexec_fn=low_limit,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


WARNING = "vpce-audit: warning: the open-files limit is 200, below the 448"


@pytest.mark.parametrize("processes", ["1", "3"])
def test_the_limit_is_said_once_whatever_the_processes(tmp_path: Path, processes: str) -> None:
    done = _collect_with_a_low_hard_limit("--processes", processes, "-o", str(tmp_path / "s.json"))
    assert done.returncode == 2  # the endpoint refused: no identity
    assert done.stderr.count(WARNING) == 1, done.stderr


def test_a_usage_error_comes_without_the_warning(tmp_path: Path) -> None:
    done = _collect_with_a_low_hard_limit(
        "--profile", "a", "--profile", "b", "--org", "-o", str(tmp_path / "s.json")
    )
    assert done.returncode == 2
    assert WARNING not in done.stderr
    assert "several --profile options name the accounts" in done.stderr
