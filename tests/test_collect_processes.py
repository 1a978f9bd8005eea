"""--processes: what the collection processes report while they run, and how the parent shows
them as one collection (vpce_audit/collect/processes.py). The snapshots themselves are compared
end to end in tests/test_e2e_server.py."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import multiprocessing
import os
import signal
import time
from multiprocessing.connection import Connection

import pytest

from vpce_audit.collect.processes import (
    PARENT_GONE_EXIT,
    AccountsAcrossProcesses,
    Heard,
    Logged,
    ProcessFailed,
    Relay,
    RelayedLogs,
    Said,
    ShownAsOne,
    collect_in_processes,
    relogged,
)
from vpce_audit.collect.tally import AccountFinished, Tally, TallyView
from vpce_audit.model import CollectionError
from vpce_audit.snapshot.document import SnapshotDocument


def _view(scopes: int, done: int, calls: int, scope_errors: int, accounts: int = 3) -> TallyView:
    return TallyView(
        accounts=accounts,
        accounts_done=0,
        scopes=scopes,
        scopes_done=done,
        calls=calls,
        errors=scope_errors + 5,  # account-wide errors: every process has its own count
        elapsed=1.0,
        scope_errors=scope_errors,
    )


def test_the_parent_adds_up_each_process_latest_counts() -> None:
    tally = Tally()
    tally.absorb(1, _view(scopes=4, done=1, calls=100, scope_errors=0))
    tally.absorb(2, _view(scopes=6, done=2, calls=150, scope_errors=1))
    tally.absorb(1, _view(scopes=4, done=3, calls=180, scope_errors=2))  # replaces the first
    view = tally.view()
    assert (view.scopes, view.scopes_done, view.calls) == (10, 5, 330)
    assert (view.errors, view.scope_errors) == (3, 3)  # account-wide errors come per account
    assert (view.accounts, view.accounts_done) == (3, 0)


def _error(account: str, operation: str) -> CollectionError:
    return CollectionError(
        account_id=account,
        region="global",
        service="route53",
        operation=operation,
        error_code="AccessDenied",
        message="denied",
        resource_kind="vpc_zones",
    )


ONE, TWO = "111111111111", "222222222222"
ZONES, FACTS = _error(ONE, "ListHostedZonesByVPC"), _error(ONE, "ListHostedZones")
REFUSED = _error(TWO, "AssumeRole")


def test_an_account_is_done_when_every_process_is_done_with_it() -> None:
    tally = Tally()
    said: list[str] = []
    accounts = AccountsAcrossProcesses(2, tally, said.append)
    accounts.finished(1, AccountFinished(ONE, 1, region_errors=1, account_errors=(FACTS,)))
    accounts.finished(1, AccountFinished(TWO, 0, 0, (REFUSED,), reached=False))
    accounts.finished(1, AccountFinished(ONE, 1, region_errors=1, account_errors=(FACTS,)))
    assert said == [] and tally.view().accounts_done == 0  # one process, twice, is not two
    # Each process records the account-wide errors it met: the same one once, others added.
    accounts.finished(2, AccountFinished(ONE, 2, region_errors=0, account_errors=(FACTS, ZONES)))
    # Its line counts the errors as the report does: its regions' and the union of the
    # account-wide ones.
    assert said == [f"account {ONE}: 3 region(s) collected, 3 collection error(s)"]
    accounts.finished(2, AccountFinished(ONE, 2, region_errors=0, account_errors=()))
    # Unreachable in every process: counted, with its error once, and said with why.
    accounts.finished(2, AccountFinished(TWO, 0, 0, (REFUSED,), reached=False))
    assert said == [
        f"account {ONE}: 3 region(s) collected, 3 collection error(s)",
        f"account {TWO}: not reached (AssumeRole: AccessDenied)",
    ]
    view = tally.view()
    assert (view.accounts_done, view.errors) == (2, 3)  # FACTS, ZONES, REFUSED
    assert accounts.reached == {ONE}
    assert accounts.finish_unheard() == {}


def test_an_account_no_process_saw_answer_is_said_as_unseen_like_the_report_says() -> None:
    """One process could not assume the role, the other saw an SCP refuse both its regions:
    nothing of the account was seen, so the refusals are gaps (Snapshot.denied_everywhere),
    counted as errors; a process that saw a region answer makes them out of scope instead."""
    tally = Tally()
    said: list[str] = []
    accounts = AccountsAcrossProcesses(2, tally, said.append)
    refused = AccountFinished(ONE, 2, 0, (), denied=2, seen=False)
    # (seen left at its default: a process that never reached the account saw nothing of it)
    accounts.finished(1, AccountFinished(ONE, 0, 0, (REFUSED,), reached=False))
    accounts.finished(2, refused)
    assert said == [
        f"account {ONE}: none of its 2 region(s) answered (2 refused by a service control "
        f"policy): nothing of it was seen, 3 collection error(s); not reached in shard 1 of 2 "
        "(AssumeRole: AccessDenied)"
    ]
    said.clear()
    accounts = AccountsAcrossProcesses(2, Tally(), said.append)
    accounts.finished(1, AccountFinished(ONE, 1, 0, ()))
    accounts.finished(2, refused)
    assert said == [
        f"account {ONE}: 1 region(s) collected, 2 out of scope (refused by a service control "
        "policy)"
    ]


def test_an_account_some_processes_never_listed_is_counted_at_the_end_and_marked() -> None:
    tally = Tally()
    said: list[str] = []
    accounts = AccountsAcrossProcesses(3, tally, said.append)
    accounts.finished(2, AccountFinished(ONE, 2, 0, ()))
    assert accounts.finish_unheard() == {ONE: (1, 3)}
    assert said == [f"account {ONE}: 2 region(s) collected"]
    assert tally.view().accounts_done == 1
    assert accounts.finish_unheard() == {}  # counted once
    assert tally.view().accounts_done == 1


def test_an_account_a_lost_process_never_reported_names_the_lost_shard() -> None:
    tally = Tally()
    said: list[str] = []
    accounts = AccountsAcrossProcesses(3, tally, said.append)
    accounts.finished(1, AccountFinished(ONE, 2, 0, ()))
    accounts.finished(2, AccountFinished(ONE, 1, 0, ()))
    accounts.finished(1, AccountFinished(TWO, 1, 0, ()))
    assert accounts.finish_unheard(lost={3}) == {ONE: (3,), TWO: (2, 3)}
    assert said == [
        f"account {ONE}: 3 region(s) collected; shard 3 of 3 lost with its process",
        f"account {TWO}: 1 region(s) collected; shard 3 of 3 lost with its process",
    ]


def test_a_warning_every_process_gives_is_shown_once() -> None:
    tally = Tally()
    shown: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            shown.append(record.getMessage())

    logger = logging.getLogger("vpce_audit.test_shown_once")
    logger.handlers[:] = [Capture()]
    logger.propagate = False
    steps: list[str] = []
    said: list[str] = []
    heard = ShownAsOne(AccountsAcrossProcesses(2, tally, said.append), logger, steps.append)
    denied = Logged(logging.WARNING, f"account {ONE}: ListHostedZones denied")
    crashed = Logged(logging.DEBUG, "collector crashed", exc_text="Traceback: A")
    for shard, message in [
        (1, denied),
        (2, denied),  # the same account-wide failure, met by the other process
        (1, denied),  # met again by the same process: a second failure, shown
        (2, denied),  # the other process's second time: the second time was shown
        (2, denied),  # its third time: nobody's third time was shown yet
        (2, Logged(logging.WARNING, "us-west-2: DescribeVpcs throttled")),
        (1, crashed),
        (2, Logged(logging.DEBUG, "collector crashed", exc_text="Traceback: B")),  # another
        (2, Said("step")),
        (1, _view(scopes=2, done=1, calls=10, scope_errors=0)),
        (2, _view(scopes=2, done=2, calls=10, scope_errors=0)),
    ]:
        heard(shard, message)
    logger.handlers[:] = []
    assert shown == [denied.message] * 3 + [
        "us-west-2: DescribeVpcs throttled",
        "collector crashed",
        "collector crashed",
    ]
    assert steps == ["process 2/2: step"]
    assert said == ["3 account(s) to scan, in 2 processes"]  # once, when first known
    assert tally.view().scopes_done == 3  # 1 in process 1, 2 in process 2


def _part(shard: int, shards: int, relay: Relay) -> SnapshotDocument:
    """A collection process's part, as tests/ spawn it: reports, then an empty snapshot."""
    relay.say(f"step of {shard}/{shards}")
    relay.send(AccountFinished("111111111111", shard, 0, ()))
    logging.getLogger("test").addHandler(RelayedLogs(relay))
    logging.getLogger("test").warning("process %d warns", shard)
    return SnapshotDocument(
        tool_version="t", created_at="2026-11-27T00:00:00Z", accounts=(), regions=()
    )


def test_every_process_report_reaches_the_parent_before_its_snapshot() -> None:
    heard: list[tuple[int, Heard]] = []
    collected = collect_in_processes(_part, 2, lambda shard, m: heard.append((shard, m)))
    assert len(collected.documents) == 2 and collected.lost == {}
    for shard in (1, 2):
        assert [m for s, m in heard if s == shard] == [
            Said(f"step of {shard}/2"),
            AccountFinished("111111111111", shard, 0, ()),
            Logged(logging.WARNING, f"process {shard} warns"),
        ]


def _killed_in_shard_2(shard: int, shards: int, relay: Relay) -> SnapshotDocument:
    """Shard 2's process is killed from outside (as the out-of-memory killer does)."""
    if shard == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    return _part(shard, shards, relay)


def _killed(shard: int, shards: int, relay: Relay) -> SnapshotDocument:
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("not reached")


def test_a_killed_process_costs_its_shard_and_says_how_it_ended() -> None:
    """The other shards are kept (the merge names the lost one's account-regions as not
    collected); only when no process answers is there nothing to merge."""
    collected = collect_in_processes(_killed_in_shard_2, 3)
    assert collected.lost == {2: "killed by SIGKILL"}
    assert len(collected.documents) == 2
    with pytest.raises(ProcessFailed) as raised:
        collect_in_processes(_killed, 2)
    assert str(raised.value) == (
        "every collection process ended without a snapshot"
        " (1/2 killed by SIGKILL; 2/2 killed by SIGKILL)"
    )


def _report_interrupt_handling(shard: int, shards: int, relay: Relay) -> SnapshotDocument:
    relay.say(repr(signal.getsignal(signal.SIGINT)))
    return SnapshotDocument(
        tool_version="t", created_at="2026-11-27T00:00:00Z", accounts=(), regions=()
    )


def test_collection_processes_ignore_ctrl_c_and_the_parent_keeps_its_handler() -> None:
    """A terminal's Ctrl-C reaches every process of the group; a collection process
    interrupted while it imported printed a traceback. They ignore it; the parent stops them."""
    before = signal.getsignal(signal.SIGINT)
    heard: list[Heard] = []
    collect_in_processes(_report_interrupt_handling, 2, lambda _shard, m: heard.append(m))
    assert heard == [Said(repr(signal.SIG_IGN))] * 2
    assert signal.getsignal(signal.SIGINT) is before


def test_a_relayed_log_record_is_handled_by_the_parent_as_its_own(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ours, theirs = multiprocessing.Pipe(duplex=False)
    relay = Relay(theirs)
    close = contextlib.ExitStack()
    close.callback(ours.close)
    close.callback(relay.close)
    child_log = logging.getLogger("vpce_audit.test_child")
    child_log.handlers[:] = [RelayedLogs(relay)]
    child_log.propagate = False
    try:
        raise ValueError("boom")
    except ValueError:
        child_log.warning("account %s: %s", "111111111111", "denied", exc_info=True)
    finally:
        child_log.handlers[:] = []
    logged = ours.recv()
    relay.close()
    relay.send(Said("after the end"))  # dropped: a thread left running must not raise
    close.close()
    assert isinstance(logged, Logged)
    assert logged.message == "account 111111111111: denied"
    assert logged.exc_text is not None and "ValueError: boom" in logged.exc_text
    parent_log = logging.getLogger("vpce_audit.test_parent")
    with caplog.at_level(logging.WARNING, logger="vpce_audit.test_parent"):
        relogged(parent_log, logged)
    (record,) = caplog.records
    assert (record.levelno, record.getMessage()) == (logging.WARNING, logged.message)
    assert "ValueError: boom" in caplog.text


def test_a_relayed_record_of_hostile_aws_text_is_printed_as_safely_as_a_local_one() -> None:
    """AWS error text in a collection process's warning reaches the terminal only through the
    parent's sanitising formatter: no terminal escapes, forged lines or workflow commands."""
    import io

    from vpce_audit.console import SafeFormatter

    hostile = "denied\x1b[2J\r\n::error file=x::forged\u202e"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(SafeFormatter())
    parent_log = logging.getLogger("vpce_audit.test_hostile")
    parent_log.handlers[:] = [handler]
    parent_log.propagate = False
    try:
        relogged(parent_log, Logged(logging.WARNING, f"account {ONE}: {hostile}"))
    finally:
        parent_log.handlers[:] = []
    (printed,) = stream.getvalue().splitlines()
    assert printed.startswith(f"vpce-audit: WARNING: account {ONE}: denied")
    assert "\x1b" not in printed and "\u202e" not in printed and "\r" not in printed
    # The line break is shown, not obeyed: the workflow command is not at a line's start.
    assert "\\u000d\\u000a::error file=x::forged" in printed


def _send_until_gone(connection: Connection) -> None:
    relay = Relay(connection)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        relay.send(Said("still here"))
        time.sleep(0.01)


def test_a_process_whose_parent_is_gone_ends_at_its_next_report() -> None:
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe(duplex=False)
    process = context.Process(target=_send_until_gone, args=(theirs,), daemon=True)
    process.start()
    theirs.close()
    assert ours.recv() == Said("still here")
    ours.close()  # what the parent's death does to its end of the pipe
    process.join(timeout=20)
    assert process.exitcode == PARENT_GONE_EXIT


@pytest.mark.parametrize("quiet", [False, True])
def test_an_account_one_process_could_not_reach_says_which_shard(
    quiet: bool, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Each process assumes the role itself: one refused (throttled) there loses that shard's
    # account-regions, which the account's line says, and -q turns into a warning.
    monkeypatch.setattr(logging.getLogger("vpce_audit"), "propagate", True)
    said: list[str] = []
    accounts = AccountsAcrossProcesses(2, Tally(), None if quiet else said.append)
    throttled = dataclasses.replace(REFUSED, account_id=ONE, error_code="Throttling")
    accounts.finished(1, AccountFinished(ONE, 3, 0, ()))
    with caplog.at_level("WARNING", logger="vpce_audit"):
        accounts.finished(2, AccountFinished(ONE, 0, 0, (throttled,), reached=False))
    line = (
        f"account {ONE}: 3 region(s) collected, 1 collection error(s); not reached in shard 2 of 2 "
        "(AssumeRole: Throttling)"
    )
    warned = {r.getMessage() for r in caplog.records if r.levelname == "WARNING"}
    assert (said, warned) == (([], {line}) if quiet else ([line], set()))


def test_an_account_refused_in_one_process_and_lost_with_another_says_both() -> None:
    said: list[str] = []
    accounts = AccountsAcrossProcesses(2, Tally(), said.append)
    throttled = dataclasses.replace(REFUSED, account_id=ONE, error_code="Throttling")
    accounts.finished(1, AccountFinished(ONE, 0, 0, (throttled,), reached=False))
    assert accounts.finish_unheard(lost={2}) == {ONE: (2,)}
    assert said == [
        f"account {ONE}: not reached (AssumeRole: Throttling); shard 2 of 2 lost with its process"
    ]
