"""Client-side request rates: vpce-audit never spends more than part of an account's API quota.

AWS throttles with token buckets, per account:

* EC2, per account, region and API action: a non-mutating action (every Describe) has a bucket
  of 100 requests refilled at 20 per second
  (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html);
* Route 53, per account, every action together: a bucket of 50 refilled at 10 per second
  (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/throttling-api-requests.html;
  formerly a flat 5 per second).

A large account makes more calls than that (two DescribeVpcAttribute and one
ListHostedZonesByVPC per VPC): unpaced, the calls past the bucket are throttled, retried with
backoff, and some fail after the last attempt, leaving attributes unknown. The buckets are also
shared with everything else the account runs (deployments, the console), which the throttling
would hit as well. So every request (each page and each retry) first takes a token from a bucket
of ``SHARE`` of AWS's: the scan is as fast as the quota allows and leaves the rest to others.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vpce_audit.collect.calls import CANCELLED, Cancelled


@dataclass(frozen=True)
class Quota:
    burst: float
    """Requests at once from a full bucket."""
    per_second: float
    """Requests per second once it is empty."""

    def share(self, fraction: float) -> Quota:
        return Quota(self.burst * fraction, self.per_second * fraction)


SHARE = 0.8
"""Of each AWS quota, what a scan may use."""
EC2_PER_ACTION = Quota(burst=100, per_second=20).share(SHARE)
ROUTE53_PER_ACCOUNT = Quota(burst=50, per_second=10).share(SHARE)
PACED = frozenset({"ec2", "route53"})
"""The services with many calls per account; the others make a few calls per scope."""


@dataclass
class _AccountWide:
    processes: int = 1


_ACCOUNT_WIDE = _AccountWide()


def share_account_quotas(processes: int) -> None:
    """This process is one of ``processes`` scanning the same accounts (``--processes``): each
    account-wide bucket (Route 53's) gets 1/``processes`` of the share. EC2's buckets are per
    account-region, and each account-region is collected by one process only."""
    _ACCOUNT_WIDE.processes = max(1, processes)


class TokenBucket:
    """A token bucket that hands out reservations: a caller takes a token now and waits until
    it is due, so callers are served in order and none spins."""

    def __init__(self, quota: Quota, clock: Callable[[], float] = time.monotonic) -> None:
        self._quota = quota
        self._clock = clock
        self._tokens = quota.burst
        self._updated = clock()
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Takes a token; returns the seconds to wait before using it."""
        with self._lock:
            now = self._clock()
            refilled = (now - self._updated) * self._quota.per_second
            self._tokens = min(self._quota.burst, self._tokens + refilled) - 1
            self._updated = now
            return 0.0 if self._tokens >= 0 else -self._tokens / self._quota.per_second


def wait(seconds: float, sleep: Callable[[float], None] = time.sleep) -> None:
    """Sleeps ``seconds`` in short steps, so that an interrupted scan stops waiting."""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        if CANCELLED.is_set():
            raise Cancelled()
        sleep(min(left, 0.25))


class AccountRates:
    """The buckets of one account's credentials, shared by all its clients and threads."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[tuple[str, ...], TokenBucket] = {}
        self._lock = threading.Lock()

    def bucket(self, service: str, region: str, operation: str) -> TokenBucket:
        """The bucket a request of ``operation`` draws from (a service of ``PACED``)."""
        if service == "ec2":
            key: tuple[str, ...] = (service, region, operation)
            quota = EC2_PER_ACTION
        else:
            key = (service,)
            quota = ROUTE53_PER_ACCOUNT.share(1 / _ACCOUNT_WIDE.processes)
        with self._lock:
            if key not in self._buckets:
                self._buckets[key] = TokenBucket(quota, self._clock)
            return self._buckets[key]

    def pace(self, client: Any, service: str, region: str) -> None:
        """Make every request of ``client`` (each attempt) wait for its token."""
        if service not in PACED:
            return

        def before_send(event_name: str, **_details: Any) -> None:
            # The event is before-send.<service>.<Operation>; this client's only.
            wait(self.bucket(service, region, event_name.rsplit(".", 1)[-1]).reserve())

        # First: a handler that answers the request (a stub, moto) must not skip the wait.
        client.meta.events.register_first("before-send", before_send)
