"""A collection split across processes (``--processes N``).

botocore spends milliseconds of CPU on every call (signing, XML parsing), and one Python process
runs that on one core at a time: an organisation scan is CPU-bound long before it is bound by
the network (docs/performance.md). N processes each collect shard K of N of the account-regions,
exactly as ``collect --shard K/N`` does, and this process merges their snapshots as
``vpce-audit merge`` does. Each process reaches every account it needs itself (its own
AssumeRole), so the account-wide calls are made once per process: a few calls per account.

The processes are started with ``spawn``: this process runs threads, which ``fork`` does not
copy safely. An interrupt or a failure of one process stops all of them; nothing is merged.

While they run, each process reports to this one through a ``Relay``: its counts (a
``TallyView``, a few times a second), each account it has finished (``AccountFinished``), its
log records (``Logged``) and, with ``-v``, its steps (``Said``). This process shows them as one
collection: one live line, one line per account once every process is done with it
(``AccountsAcrossProcesses``), one summary. A process whose parent has gone (killed) finds out
at its next report and ends at once: nobody is left to merge its part.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from vpce_audit.collect.tally import AccountFinished, Tally, TallyView
from vpce_audit.snapshot.document import SnapshotDocument

REPORT_SECONDS = 0.25
"""How often a process sends its counts (the live line is redrawn as often)."""

PARENT_GONE_EXIT = 70
"""A collection process's exit code when its parent is gone (EX_SOFTWARE)."""


@dataclass(frozen=True)
class Logged:
    """A log record of a collection process, to be handled by this process's logger."""

    level: int
    message: str
    exc_text: str | None = None


@dataclass(frozen=True)
class Said:
    """A step of a collection process (``-v``)."""

    message: str


Heard = TallyView | AccountFinished | Logged | Said
"""What a collection process reports while it runs."""


class Relay:
    """A collection process's channel to its parent. Threads of the process send through it at
    once, so sends are serialised; a send that finds the parent gone ends the process."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._lock = threading.Lock()

    def send(self, message: object) -> None:
        with self._lock:
            try:
                self._connection.send(message)
            except OSError:  # BrokenPipeError: the parent was killed; nobody will merge this
                os._exit(PARENT_GONE_EXIT)

    def say(self, message: str) -> None:
        self.send(Said(message))

    @contextlib.contextmanager
    def counting(self, tally: Tally) -> Iterator[None]:
        """Sends ``tally``'s counts every REPORT_SECONDS while the block runs, and once at
        its end."""
        stop = threading.Event()

        def report() -> None:
            while not stop.wait(REPORT_SECONDS):
                self.send(tally.view())

        thread = threading.Thread(target=report, name="relay", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
            self.send(tally.view())


class RelayedLogs(logging.Handler):
    """A collection process's log records, handed to its parent's logger (which formats and
    prints them where its display wants them) instead of written to stderr here."""

    def __init__(self, relay: Relay) -> None:
        super().__init__()
        self._relay = relay
        self._exceptions = logging.Formatter()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            exc_text = (
                self._exceptions.formatException(record.exc_info) if record.exc_info else None
            )
            self._relay.send(Logged(record.levelno, record.getMessage(), exc_text))
        except Exception:
            self.handleError(record)


def relogged(logger: logging.Logger, logged: Logged) -> None:
    """A collection process's log record, handled by ``logger`` as its own."""
    record = logger.makeRecord(logger.name, logged.level, "(process)", 0, logged.message, (), None)
    record.exc_text = logged.exc_text
    logger.handle(record)


@dataclass
class AccountsAcrossProcesses:
    """Every process collects every account (its shard of the account's regions, and the
    account-wide facts): an account is done when all of them are. Then it is counted once in
    ``tally`` and, when ``say`` is given, announced as one process announces it."""

    processes: int
    tally: Tally
    say: Callable[[str], None] | None = None
    _heard: dict[str, list[AccountFinished]] = field(default_factory=dict)
    reached: set[str] = field(default_factory=set)
    """Accounts every process has finished and reached."""

    def finished(self, report: AccountFinished) -> None:
        heard = self._heard.setdefault(report.account_id, [])
        heard.append(report)
        if len(heard) < self.processes:
            return
        merged = AccountFinished(
            report.account_id,
            regions=sum(r.regions for r in heard),
            region_errors=sum(r.region_errors for r in heard),
            # The account-wide facts are collected by every process: the first one's count.
            account_errors=heard[0].account_errors,
            reached=all(r.reached for r in heard),
        )
        if merged.reached:
            self.reached.add(merged.account_id)
        self.tally.account_done(merged)
        if self.say is not None and merged.reached:
            self.say(
                f"account {merged.account_id}: {merged.regions} region(s) collected"
                + (f", {merged.region_errors} collection error(s)" if merged.region_errors else "")
            )


Part = Callable[[int, int, Relay], SnapshotDocument]
"""Collects shard K of N (1-based) in the calling process, reporting through the relay; must
be picklable (a module-level function or a functools.partial of one), as the processes are
spawned."""


@dataclass(frozen=True)
class PartFailed:
    """What a process raised instead of collecting: re-raised here as ``error``."""

    error: BaseException


class ProcessFailed(Exception):
    """A collection process ended without an answer (killed, or out of memory)."""


def _run_part(connection: Connection, part: Part, shard: int, shards: int) -> None:
    import gc

    from vpce_audit.launch import GC_THRESHOLDS

    gc.set_threshold(*GC_THRESHOLDS)
    relay = Relay(connection)
    try:
        answer: SnapshotDocument | PartFailed = part(shard, shards, relay)
    except BaseException as error:  # sent to the parent, which raises it
        answer = PartFailed(_picklable(error))
    relay.send(answer)
    connection.close()


def _picklable(error: BaseException) -> BaseException:
    import pickle

    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error


def collect_in_processes(
    part: Part, processes: int, heard: Callable[[int, Heard], None] | None = None
) -> list[SnapshotDocument]:
    """Every shard's snapshot, in shard order; ``heard`` gets what each process reports while
    it runs, with its shard number."""
    context = multiprocessing.get_context("spawn")
    with _started(context, part, processes) as children:
        answers: dict[int, SnapshotDocument] = {}
        waiting = {connection: shard for shard, (_process, connection) in children.items()}
        while waiting:
            for ready in wait(list(waiting)):
                assert isinstance(ready, Connection)
                shard = waiting[ready]
                try:
                    message = ready.recv()
                except EOFError:
                    code = children[shard][0].exitcode
                    raise ProcessFailed(
                        f"collection process {shard}/{processes} ended without a snapshot"
                        f" (exit code {code})"
                    ) from None
                if isinstance(message, PartFailed):
                    raise message.error
                if isinstance(message, SnapshotDocument):
                    answers[shard] = message
                    del waiting[ready]
                elif heard is not None:
                    heard(shard, message)
    return [answers[shard] for shard in sorted(answers)]


@contextlib.contextmanager
def _started(
    context: Any, part: Part, processes: int
) -> Iterator[dict[int, tuple[Any, Connection]]]:
    children: dict[int, tuple[Any, Connection]] = {}
    try:
        for shard in range(1, processes + 1):
            ours, theirs = context.Pipe(duplex=False)
            process = context.Process(
                target=_run_part, args=(theirs, part, shard, processes), daemon=True
            )
            process.start()
            theirs.close()
            children[shard] = (process, ours)
        yield children
    finally:
        for process, connection in children.values():
            connection.close()
            if process.is_alive():
                process.terminate()
        for process, _connection in children.values():
            process.join(timeout=5)
