"""The one rate budget every stream shares, and who gets the next free call.

A full sync ends no sooner than its longest cursor chain (one page after another, each waiting for
the last) and no sooner than its requests divided by the rate. With the CDK's budget alone, every
request that finds the window full sleeps and tries again, and whoever wakes first takes the free
call: a long chain's next page then waits behind short work of other streams on every page, and
the chain, not the budget, sets the sync's length (bench/RESULTS.md, "chain floor").

`ChainFirstBudget` keeps the CDK's budget (its moving-window policy decides when a call is free) and
adds one rule: while a request waits for a call, no request of a shorter chain takes one. A
request's chain length is the pages its listing has read before it, set by the stream that sends it
(`next_request_follows`); a first page or an unpaged list counts 0. The chain that has gone on
longest is likely the longest, and its pages leave at the rate its latency allows while other
streams' requests fill the calls in between.
"""

import threading
import time
from collections import Counter
from typing import Any, Optional

from airbyte_cdk.sources.streams.call_rate import AbstractCallRatePolicy, CallRateLimitHit, HttpAPIBudget

_next_request = threading.local()


def next_request_follows(pages_read: int) -> None:
    """Say that the next request this thread sends follows `pages_read` pages of its listing."""
    _next_request.pages_read = pages_read


def take_pages_read() -> int:
    """The chain length of this thread's next request, once: a request that was not announced counts 0."""
    pages_read = getattr(_next_request, "pages_read", 0)
    _next_request.pages_read = 0
    return pages_read


class ChainFirstBudget(HttpAPIBudget):
    """The CDK's `HttpAPIBudget`; a call goes to the waiting request of the longest chain first."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._turn = threading.Condition()
        self._waiting: Counter = Counter()  # chain length -> requests waiting for a call

    def _do_acquire(self, request: Any, policy: AbstractCallRatePolicy, block: bool, timeout: Optional[float]) -> None:
        length = take_pages_read()
        with self._turn:
            self._waiting[length] += 1
        try:
            while True:
                with self._turn:
                    self._turn.wait_for(lambda: max(self._waiting) <= length)
                    try:
                        policy.try_acquire(request, weight=1)
                        return
                    except CallRateLimitHit as hit:
                        if not block:
                            raise
                        wait = max(hit.time_to_wait.total_seconds(), 0.0)
                time.sleep(wait)  # outside the lock: others of the same length try meanwhile
        finally:
            with self._turn:
                self._waiting[length] -= 1
                if not self._waiting[length]:
                    del self._waiting[length]
                self._turn.notify_all()
