"""The open-files limit a collection raises for itself (vpce_audit.collect.limits)."""

from __future__ import annotations

import resource
import sys
from collections.abc import Iterator

import pytest

from vpce_audit import cli
from vpce_audit.collect import limits
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

    def __init__(self, soft: int, hard: int, refuse: bool = False) -> None:
        self.limits = (soft, hard)
        self.refuse = refuse

    def getrlimit(self, _which: int) -> tuple[int, int]:
        return self.limits

    def setrlimit(self, _which: int, limits: tuple[int, int]) -> None:
        if self.refuse:
            raise ValueError("not allowed")
        self.limits = limits


@pytest.mark.parametrize(
    ("before", "refuse", "left_at", "limits_after"),
    [
        ((256, 300), False, 300, (300, 300)),  # raised as far as the hard limit allows
        ((256, resource.RLIM_INFINITY), False, None, (448, resource.RLIM_INFINITY)),
        ((256, 10_000), True, 256, (256, 10_000)),  # the platform refuses: said, not raised
        ((1024, 10_000), False, None, (1024, 10_000)),  # enough already
    ],
)
def test_what_the_hard_limit_does_not_allow_is_said(
    monkeypatch: pytest.MonkeyPatch,
    before: tuple[int, int],
    refuse: bool,
    left_at: int | None,
    limits_after: tuple[int, int],
) -> None:
    fake = FakeLimits(*before, refuse=refuse)
    monkeypatch.setitem(sys.modules, "resource", fake)
    assert ensure_open_files(448) == left_at
    assert fake.limits == limits_after


def test_a_collection_warns_when_its_workers_may_exceed_the_limit(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asked: list[int] = []

    def stays_at_256(needed: int) -> int:
        asked.append(needed)
        return 256

    monkeypatch.setattr(cli, "ensure_open_files", stays_at_256)
    cli._open_files_for(8)
    needed = open_files_needed(8 * (32 + 16))
    assert asked == [needed] == [8 * 48 + limits.SPARE]
    assert capsys.readouterr().err.strip() == (
        f"vpce-audit: warning: the open-files limit is 256, below the {needed} that --workers 8 "
        "may need: calls past it fail and are recorded as collection errors; lower --workers or "
        "raise the limit (ulimit -n)"
    )


def test_no_warning_when_the_limit_was_raised(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "ensure_open_files", lambda _needed: None)
    cli._open_files_for(8)
    assert capsys.readouterr().err == ""
