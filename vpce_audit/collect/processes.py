"""A collection split across processes (``--processes N``).

botocore spends milliseconds of CPU on every call (signing, XML parsing), and one Python process
runs that on one core at a time: an organisation scan is CPU-bound long before it is bound by
the network (docs/performance.md). N processes each collect shard K of N of the account-regions,
exactly as ``collect --shard K/N`` does, and this process merges their snapshots as
``vpce-audit merge`` does. Each process reaches every account it needs itself (its own
AssumeRole), so the account-wide calls are made once per process: a few calls per account.

The processes are started with ``spawn``: this process runs threads, which ``fork`` does not
copy safely. An interrupt or a failure of one process stops all of them; nothing is merged.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from vpce_audit.snapshot.document import SnapshotDocument

Part = Callable[[int, int], SnapshotDocument]
"""Collects shard K of N (1-based) in the calling process; must be picklable (a module-level
function or a functools.partial of one), as the processes are spawned."""


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
    try:
        answer: SnapshotDocument | PartFailed = part(shard, shards)
    except BaseException as error:  # sent to the parent, which raises it
        answer = PartFailed(_picklable(error))
    connection.send(answer)
    connection.close()


def _picklable(error: BaseException) -> BaseException:
    import pickle

    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error


def collect_in_processes(
    part: Part, processes: int, say: Callable[[str], None] | None = None
) -> list[SnapshotDocument]:
    """Every shard's snapshot, in shard order; ``say`` hears of each process that finishes."""
    context = multiprocessing.get_context("spawn")
    started = time.monotonic()
    with _started(context, part, processes) as children:
        answers: dict[int, SnapshotDocument] = {}
        waiting = {connection: shard for shard, (_process, connection) in children.items()}
        while waiting:
            for ready in wait(list(waiting)):
                assert isinstance(ready, Connection)
                shard = waiting.pop(ready)
                try:
                    answer = ready.recv()
                except EOFError:
                    code = children[shard][0].exitcode
                    raise ProcessFailed(
                        f"collection process {shard}/{processes} ended without a snapshot"
                        f" (exit code {code})"
                    ) from None
                if isinstance(answer, PartFailed):
                    raise answer.error
                answers[shard] = answer
                if say is not None:
                    errors = sum(len(r.errors) for r in answer.regions) + sum(
                        len(a.errors) for a in answer.accounts
                    )
                    say(
                        f"process {shard}/{processes}: {len(answer.regions)} account-region(s)"
                        f" collected in {time.monotonic() - started:.0f} s"
                        + (f", {errors} collection error(s)" if errors else "")
                    )
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
