"""The order of a collection's work: every account moves through its steps on its own.

An account's steps depend on each other only where one needs another's answer:

* ``regions``: which of its regions to collect (DescribeRegions when none were named);
* ``facts``: its account-wide calls (organisation, hosted zones), independent of the regions;
* ``region``: one account-region, in the pool shared by every account (``--workers``);
* follow-ups: what needs part of a region's answers (its VPCs' hosted zones), handed over by the
  region's job as soon as that part is in, run in a pool of their own so that the region's
  worker goes on meanwhile;
* ``finish``: what needs every region of the account (IAM principals named by policies).

There are no phases across accounts: an account's regions start as soon as its region list is
known, while its facts are still being fetched, and a region's follow-ups start as soon as what
they need is in (the zones of a VPC need only DescribeVpcs). A barrier per phase made every
account wait for the slowest account's facts and then for the slowest region before any zone
was listed (benchmarks/bench_org_latency.py measured the zone listings alone at half the wall
time of a one-account scan of 160 VPCs).

Bookkeeping (progress lines, counters) runs on the scheduling thread, so the steps need no lock
for it; the steps themselves run on pool threads.
"""

from __future__ import annotations

import contextlib
import queue
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, Protocol, TypeVar

from vpce_audit.collect.calls import CANCELLED

W = TypeVar("W")
"""One account's work."""
R = TypeVar("R")
"""One collected account-region."""
A = TypeVar("A")
"""One finished account."""
W_contra = TypeVar("W_contra", contravariant=True)
A_co = TypeVar("A_co", covariant=True)


FollowUp = Callable[[Callable[[], None]], None]
"""Hands the scheduler a job that needs part of a region's answers (its VPCs' zones): it runs
in the follow-up pool, and the account is finished only after it. Call it on the region job's
own thread, before the job returns: that is what puts the request ahead of the job's end."""


class Steps(Protocol[W_contra, R, A_co]):
    """What a collection does at each step; ``collected`` is told on the scheduling thread, the
    others run on pool threads."""

    def regions(self, work: W_contra) -> Sequence[str]: ...

    def facts(self, work: W_contra) -> None: ...

    def region(self, work: W_contra, region: str, follow_up: FollowUp) -> R: ...

    def collected(self, work: W_contra, collected: R) -> None: ...

    def finish(self, work: W_contra) -> A_co: ...


@contextlib.contextmanager
def interruptible_pool(workers: int, name: str) -> Iterator[ThreadPoolExecutor]:
    """A pool that, unlike ``with ThreadPoolExecutor``, does not wait for its workers when the
    body is interrupted: they stop at their next call (CANCELLED), and waiting here would keep
    a Ctrl-C waiting on every call in flight."""
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
    try:
        yield pool
    except BaseException:
        CANCELLED.set()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


@dataclass
class _Account:
    """Where one account stands."""

    regions_left: int | None = None
    """None until its region list is known."""
    follow_ups_left: int = 0
    facts_done: bool = False
    finishing: bool = False

    def ready(self) -> bool:
        return (
            self.facts_done
            and self.regions_left == 0
            and self.follow_ups_left == 0
            and not self.finishing
        )


class AccountPipeline(Generic[W, R, A]):
    """Runs ``steps`` over accounts with ``account_workers`` threads for the account-wide steps
    and ``workers`` threads for account-regions (and as many for their follow-ups)."""

    def __init__(self, steps: Steps[W, R, A], workers: int, account_workers: int) -> None:
        self._steps = steps
        self._workers = max(1, workers)
        self._account_workers = max(1, account_workers)

    def run(self, works: Sequence[W]) -> list[A]:
        """The finished accounts, in the order of ``works``."""
        if not works:
            return []
        with contextlib.ExitStack() as stack:
            run = _Run(
                self._steps,
                works,
                accounts=stack.enter_context(interruptible_pool(self._account_workers, "account")),
                regions=stack.enter_context(interruptible_pool(self._workers, "collect")),
                follow_ups=stack.enter_context(interruptible_pool(self._workers, "follow-up")),
            )
            return run.until_done()


class _Run(Generic[W, R, A]):
    """One pipeline run. Jobs run on the pools; what happens when one ends runs on the
    scheduling thread, in the order the ends arrive in ``_inbox``."""

    def __init__(
        self,
        steps: Steps[W, R, A],
        works: Sequence[W],
        *,
        accounts: ThreadPoolExecutor,
        regions: ThreadPoolExecutor,
        follow_ups: ThreadPoolExecutor,
    ) -> None:
        self._steps = steps
        self._works = works
        self._accounts, self._regions, self._follow_ups = accounts, regions, follow_ups
        self._states = [_Account() for _ in works]
        self._finished: dict[int, A] = {}
        self._inbox: queue.SimpleQueue[tuple[Callable[[Any], None], Any]] = queue.SimpleQueue()
        self._running = 0
        """Jobs submitted whose end has not been handled."""

    def until_done(self) -> list[A]:
        for index, work in enumerate(self._works):
            self._submit(
                self._accounts, partial(self._regions_known, index), self._steps.regions, work
            )
        while self._running:
            try:
                # With a timeout: a wait without one would not see Ctrl-C on every platform.
                then, value = self._inbox.get(timeout=0.5)
            except queue.Empty:
                continue
            then(value)
        return [self._finished[index] for index in range(len(self._works))]

    def _submit(
        self,
        pool: ThreadPoolExecutor,
        then: Callable[[Future[Any]], None],
        step: Callable[..., Any],
        *args: Any,
    ) -> None:
        self._running += 1
        future = pool.submit(step, *args)
        future.add_done_callback(lambda done: self._inbox.put((partial(self._ended, then), done)))

    def _ended(self, then: Callable[[Future[Any]], None], future: Future[Any]) -> None:
        self._running -= 1
        then(future)

    def _regions_known(self, index: int, future: Future[Sequence[str]]) -> None:
        chosen = list(future.result())
        work = self._works[index]
        self._states[index].regions_left = len(chosen)
        for region in chosen:
            self._submit(
                self._regions,
                partial(self._region_done, index),
                self._steps.region,
                work,
                region,
                partial(self._ask_follow_up, index),
            )
        # Queued behind the regions, which are the longer work.
        self._submit(self._accounts, partial(self._facts_done, index), self._steps.facts, work)

    def _ask_follow_up(self, index: int, job: Callable[[], None]) -> None:
        """Called by a region's job on its thread; handled here before that job's end, which
        it precedes in the inbox."""
        self._inbox.put((partial(self._start_follow_up, index), job))

    def _start_follow_up(self, index: int, job: Callable[[], None]) -> None:
        state = self._states[index]
        if state.finishing:
            raise RuntimeError("a follow-up was handed over after its region's job had ended")
        state.follow_ups_left += 1
        self._submit(self._follow_ups, partial(self._follow_up_done, index), job)

    def _facts_done(self, index: int, future: Future[None]) -> None:
        future.result()
        self._states[index].facts_done = True
        self._finish_when_ready(index)

    def _region_done(self, index: int, future: Future[R]) -> None:
        collected = future.result()
        state = self._states[index]
        assert state.regions_left is not None
        state.regions_left -= 1
        self._steps.collected(self._works[index], collected)
        self._finish_when_ready(index)

    def _follow_up_done(self, index: int, future: Future[None]) -> None:
        future.result()
        self._states[index].follow_ups_left -= 1
        self._finish_when_ready(index)

    def _finish_when_ready(self, index: int) -> None:
        state = self._states[index]
        if state.ready():
            state.finishing = True
            self._submit(
                self._accounts,
                partial(self._finished_one, index),
                self._steps.finish,
                self._works[index],
            )

    def _finished_one(self, index: int, future: Future[A]) -> None:
        self._finished[index] = future.result()
