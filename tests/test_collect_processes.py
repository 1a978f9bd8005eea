"""--processes: what the collection processes report while they run, and how the parent shows
them as one collection (vpce_audit/collect/processes.py). The snapshots themselves are compared
end to end in tests/test_e2e_server.py."""

from __future__ import annotations

import logging
import multiprocessing
import time
from multiprocessing.connection import Connection

import pytest

from vpce_audit.collect.processes import (
    PARENT_GONE_EXIT,
    AccountsAcrossProcesses,
    Heard,
    Logged,
    Relay,
    RelayedLogs,
    Said,
    collect_in_processes,
    relogged,
)
from vpce_audit.collect.tally import AccountFinished, Tally, TallyView
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


def test_an_account_is_done_when_every_process_is_done_with_it() -> None:
    tally = Tally()
    said: list[str] = []
    accounts = AccountsAcrossProcesses(2, tally, said.append)
    accounts.finished(AccountFinished("111111111111", 1, region_errors=1, account_errors=2))
    accounts.finished(AccountFinished("222222222222", 0, 0, 1, reached=False))
    assert said == [] and tally.view().accounts_done == 0
    accounts.finished(AccountFinished("111111111111", 2, region_errors=0, account_errors=2))
    assert said == ["account 111111111111: 3 region(s) collected, 1 collection error(s)"]
    # Unreachable in every process: counted, with its error once, and not announced.
    accounts.finished(AccountFinished("222222222222", 0, 0, 1, reached=False))
    assert said == ["account 111111111111: 3 region(s) collected, 1 collection error(s)"]
    view = tally.view()
    assert (view.accounts_done, view.errors) == (2, 3)
    assert accounts.reached == {"111111111111"}


def _part(shard: int, shards: int, relay: Relay) -> SnapshotDocument:
    """A collection process's part, as tests/ spawn it: reports, then an empty snapshot."""
    relay.say(f"step of {shard}/{shards}")
    relay.send(AccountFinished("111111111111", shard, 0, 0))
    logging.getLogger("test").addHandler(RelayedLogs(relay))
    logging.getLogger("test").warning("process %d warns", shard)
    return SnapshotDocument(
        tool_version="t", created_at="2026-11-27T00:00:00Z", accounts=(), regions=()
    )


def test_every_process_report_reaches_the_parent_before_its_snapshot() -> None:
    heard: list[tuple[int, Heard]] = []
    documents = collect_in_processes(_part, 2, lambda shard, m: heard.append((shard, m)))
    assert len(documents) == 2
    for shard in (1, 2):
        assert [m for s, m in heard if s == shard] == [
            Said(f"step of {shard}/2"),
            AccountFinished("111111111111", shard, 0, 0),
            Logged(logging.WARNING, f"process {shard} warns"),
        ]


def test_a_relayed_log_record_is_handled_by_the_parent_as_its_own(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ours, theirs = multiprocessing.Pipe(duplex=False)
    relay = Relay(theirs)
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
    assert isinstance(logged, Logged)
    assert logged.message == "account 111111111111: denied"
    assert logged.exc_text is not None and "ValueError: boom" in logged.exc_text
    parent_log = logging.getLogger("vpce_audit.test_parent")
    with caplog.at_level(logging.WARNING, logger="vpce_audit.test_parent"):
        relogged(parent_log, logged)
    (record,) = caplog.records
    assert (record.levelno, record.getMessage()) == (logging.WARNING, logged.message)
    assert "ValueError: boom" in caplog.text


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
