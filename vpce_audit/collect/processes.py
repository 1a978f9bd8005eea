"""A collection split across processes (``--processes N``).

botocore spends milliseconds of CPU on every call (signing, XML parsing), and one Python process
runs that on one core at a time: an organisation scan is CPU-bound long before it is bound by
the network (docs/performance.md). N processes each collect shard K of N of the account-regions,
exactly as ``collect --shard K/N`` does, and this process merges their snapshots as
``vpce-audit merge`` does. Each process reaches every account it needs itself (its own
AssumeRole), so the account-wide calls are made once per process: a few calls per account.

The processes are started with ``spawn``: this process runs threads, which ``fork`` does not
copy safely. An interrupt, or an error one process raises, stops all of them and nothing is
merged; a process killed from outside costs its own shard (``ShardsCollected.lost``).

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
import signal
import threading
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from vpce_audit.collect.runner import account_collected, account_unreached, say_unreached
from vpce_audit.collect.tally import AccountFinished, Tally, TallyView
from vpce_audit.model import summarise_errors
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
        self._closed = False

    def send(self, message: object) -> None:
        with self._lock:
            if self._closed:  # a thread left running after the part ended: nobody listens
                return
            try:
                self._connection.send(message)
            except OSError:  # BrokenPipeError: the parent was killed; nobody will merge this
                os._exit(PARENT_GONE_EXIT)

    def close(self) -> None:
        """Closes the channel; later sends are dropped."""
        with self._lock:
            self._closed = True
            self._connection.close()

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
    """Every process collects every account it lists (its shard of the account's regions, and
    the account-wide facts): an account is done when every process is. Then it is counted once
    in ``tally`` and, when ``say`` is given, announced as one process announces it.

    The processes collect the accounts their parent listed; one may still never report an
    account (its process lost, or its AssumeRole refused there): ``finish_unheard`` names
    those after the processes end, with the shards that never reported them."""

    processes: int
    tally: Tally
    say: Callable[[str], None] | None = None
    _heard: dict[str, dict[int, AccountFinished]] = field(default_factory=dict)
    reached: set[str] = field(default_factory=set)
    """Accounts some process reached (its AssumeRole worked there)."""
    _counted: set[str] = field(default_factory=set)

    def finished(self, shard: int, report: AccountFinished) -> None:
        heard = self._heard.setdefault(report.account_id, {})
        complete = len(heard) == self.processes
        heard[shard] = report  # a repeated report replaces the shard's earlier one
        if not complete and len(heard) == self.processes:
            self._done(report.account_id)

    def finish_unheard(self, lost: Collection[int] = ()) -> dict[str, tuple[int, ...]]:
        """Accounts some process never reported, with the shards that did not; each is counted
        and announced now, as far as it was collected (merge records the error on it). Its
        line names the shards of ``lost`` (processes killed before they finished) among them.
        An account a lost process had reported before it died was announced with the regions
        that process collected, which its snapshot took with it: the warning about the lost
        process and the summary say so."""
        missing: dict[str, tuple[int, ...]] = {}
        for account_id, heard in self._heard.items():
            if len(heard) < self.processes and account_id not in self._counted:
                missing[account_id] = tuple(
                    shard for shard in range(1, self.processes + 1) if shard not in heard
                )
                self._done(account_id, tuple(s for s in missing[account_id] if s in lost))
        return missing

    def _done(self, account_id: str, lost: tuple[int, ...] = ()) -> None:
        self._counted.add(account_id)
        heard = self._heard[account_id].values()
        errors = tuple(dict.fromkeys(error for r in heard for error in r.account_errors))
        merged = AccountFinished(
            account_id,
            regions=sum(r.regions for r in heard),
            region_errors=sum(r.region_errors for r in heard),
            account_errors=errors,
            reached=any(r.reached for r in heard),
            denied=sum(r.denied for r in heard),
            seen=any(r.seen for r in heard if r.reached),
        )
        if merged.reached:
            self.reached.add(account_id)
        self.tally.account_done(merged)
        lost_line = (
            f"; shard {', '.join(map(str, lost))} of {self.processes} lost with its process"
            if lost
            else ""
        )
        if not merged.reached:
            # Refused where it was tried; a lost process may never have tried.
            line = account_unreached(account_id, merged.account_errors) + lost_line
            say_unreached(self.say, line)
            return
        line = account_collected(merged) + lost_line
        # Each process assumes the role itself: one may be refused (throttled) where the others
        # were not, and that shard's account-regions are then missing.
        missed = {shard: r for shard, r in self._heard[account_id].items() if not r.reached}
        if missed:
            why = summarise_errors(e for r in missed.values() for e in r.account_errors)
            line += (
                f"; not reached in shard {', '.join(map(str, sorted(missed)))} of "
                f"{self.processes}" + (f" ({why})" if why else "")
            )
            say_unreached(self.say, line)
        elif self.say is not None:
            self.say(line)


@dataclass
class ShownAsOne:
    """What the collection processes report, shown as one collection's: counts summed into
    the accounts' tally, each account announced once, log records handled by ``logger`` (a
    warning that every process gives, such as an account-wide failure, once), steps (``-v``)
    passed to ``steps`` with the number of the process that took them."""

    accounts: AccountsAcrossProcesses
    logger: logging.Logger
    steps: Callable[[str], None] | None = None
    _given: dict[tuple[int, str, str | None], dict[int, int]] = field(default_factory=dict)
    _shown: dict[tuple[int, str, str | None], int] = field(default_factory=dict)
    _planned: bool = False

    def __call__(self, shard: int, message: Heard) -> None:
        if isinstance(message, TallyView):
            self.accounts.tally.absorb(shard, message)
            if message.accounts and not self._planned and self.accounts.say is not None:
                # What one process says before it starts, once the first process knows.
                self._planned = True
                self.accounts.say(
                    f"{message.accounts} account(s) to scan, in {self.accounts.processes} processes"
                )
        elif isinstance(message, AccountFinished):
            self.accounts.finished(shard, message)
        elif isinstance(message, Logged):
            # The k-th time a process gives a record is shown unless another process's k-th
            # time of it was: an account-wide failure that every process meets is shown once
            # each time it happens, whichever process meets it first.
            key = (message.level, message.message, message.exc_text)
            given = self._given.setdefault(key, {})
            given[shard] = given.get(shard, 0) + 1
            if given[shard] > self._shown.get(key, 0):
                self._shown[key] = given[shard]
                relogged(self.logger, message)
        elif self.steps is not None:  # each process counts its own steps: say whose they are
            self.steps(f"process {shard}/{self.accounts.processes}: {message.message}")


Part = Callable[[int, int, Relay], SnapshotDocument]
"""Collects shard K of N (1-based) in the calling process, reporting through the relay; must
be picklable (a module-level function or a functools.partial of one), as the processes are
spawned."""


@dataclass(frozen=True)
class PartFailed:
    """What a process raised instead of collecting: re-raised here as ``error``."""

    error: BaseException


class ProcessFailed(Exception):
    """Every collection process ended without an answer (killed, or out of memory)."""


@dataclass(frozen=True)
class ShardsCollected:
    """What the collection processes gave: the snapshot of each shard that answered, in shard
    order, and how each process that did not ended (by shard)."""

    documents: list[SnapshotDocument]
    lost: dict[int, str]


def _how_it_ended(process: Any) -> str:
    """'killed by SIGKILL', 'exit code 1': how a process that sent no snapshot ended."""
    process.join(timeout=5)  # its exit code is known only once it is reaped
    code = process.exitcode
    if code is None:
        return "stopped answering"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


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
    relay.close()


def _picklable(error: BaseException) -> BaseException:
    import pickle

    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error


def collect_in_processes(
    part: Part, processes: int, heard: Callable[[int, Heard], None] | None = None
) -> ShardsCollected:
    """Every shard's snapshot, in shard order; ``heard`` gets what each process reports while
    it runs, with its shard number. A process killed from outside (the kernel's out-of-memory
    killer, a stray ``kill``) costs its shard, not the others': its shard is reported lost and
    the merge of the rest says which account-regions were not collected. Raises ProcessFailed
    when no process answered."""
    context = multiprocessing.get_context("spawn")
    with _started(context, part, processes) as children:
        answers: dict[int, SnapshotDocument] = {}
        lost: dict[int, str] = {}
        waiting = {connection: shard for shard, (_process, connection) in children.items()}
        while waiting:
            for ready in wait(list(waiting)):
                assert isinstance(ready, Connection)
                shard = waiting[ready]
                try:
                    message = ready.recv()
                except EOFError:
                    lost[shard] = _how_it_ended(children[shard][0])
                    del waiting[ready]
                    continue
                if isinstance(message, PartFailed):
                    raise message.error
                if isinstance(message, SnapshotDocument):
                    answers[shard] = message
                    del waiting[ready]
                elif heard is not None:
                    heard(shard, message)
    if not answers:
        ended = "; ".join(f"{shard}/{processes} {how}" for shard, how in sorted(lost.items()))
        raise ProcessFailed(f"every collection process ended without a snapshot ({ended})")
    return ShardsCollected([answers[shard] for shard in sorted(answers)], lost)


@contextlib.contextmanager
def _interrupts_ignored() -> Iterator[None]:
    """Children started in the block ignore Ctrl-C (they inherit SIG_IGN): the terminal sends
    it to every process, and a child interrupted while it imports prints a traceback. This
    process stops them on an interrupt; a child whose parent is gone ends by itself."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        # None: the handler was not set from Python (an embedding program's): leave it.
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


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
            with _interrupts_ignored():
                process.start()
                children[shard] = (process, ours)  # stopped in the end, whatever comes next
            theirs.close()
        yield children
    finally:
        for process, connection in children.values():
            connection.close()
            if process.is_alive():
                process.terminate()
        for process, _connection in children.values():
            process.join(timeout=5)
