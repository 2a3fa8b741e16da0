"""The one rate budget every stream shares, and who gets the next free call.

A full sync ends no sooner than its longest cursor chain (one page after another, each waiting for
the last) and no sooner than its requests divided by the rate. With the CDK's budget alone, other
streams' requests fill the moving window in bursts, and a long chain's next page then waits for a
call to come free, page after page: measured beside the core streams at 150 ms latency, the
activity log's 256 pages waited 12.4 s in all for calls, and the sync took 53 s against floors of
42 s (budget) and 39 s (chain).

`ChainFirstBudget` keeps the CDK's budget (its moving-window policy still decides whether a call may
leave) and adds two rules, by each request's chain length (the pages its listing has read before
it, announced by the stream that sends it with `next_request_follows`; a first page or an unpaged
list counts 0):
- while a request waits for a call, no request of a shorter chain takes one;
- a request leaves one call of the window free while a longer chain is still going (one that asked
  in the last `ACTIVE_CHAIN_SECONDS` and has not ended: `chain_ended`), so the longest chain's next
  page finds its call free.
The chain that has gone on longest is likely the longest; its pages leave as fast as its latency
allows, and the other requests fill the calls around them.
"""

import threading
import time
from collections import Counter, deque
from datetime import timedelta
from typing import Any, Deque, Dict, Optional, Tuple

from airbyte_cdk.sources.streams.call_rate import AbstractCallRatePolicy, CallRateLimitHit, HttpAPIBudget

# A chain that asked for a call this recently is still going: its next page is on its way (live
# latency is 0.3–0.6 s a page, and the chain's thread handles the page in between).
ACTIVE_CHAIN_SECONDS = 2.0
SHORTEST_WAIT_SECONDS = 0.005

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
    """The CDK's `HttpAPIBudget`, `calls` per `seconds`; longer chains first, and a call kept free for
    each longer chain still going."""

    def __init__(self, calls: int, seconds: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._calls = calls
        self._seconds = seconds
        self._turn = threading.Condition()
        self._waiting: Counter = Counter()  # chain length -> requests waiting for a call
        self._granted: Deque[float] = deque()  # when the calls of the current window were granted
        self._chains: Dict[int, Tuple[int, float]] = {}  # thread -> its chain length, when it last asked

    def chain_ended(self) -> None:
        """The calling thread's listing has no more pages: keep no call free for it any longer."""
        with self._turn:
            self._chains.pop(threading.get_ident(), None)

    def _do_acquire(self, request: Any, policy: AbstractCallRatePolicy, block: bool, timeout: Optional[float]) -> None:
        length = take_pages_read()
        thread = threading.get_ident()
        with self._turn:
            self._waiting[length] += 1
            self._chains[thread] = (length, time.monotonic())
        try:
            while True:
                with self._turn:
                    self._turn.wait_for(lambda: max(self._waiting) <= length)
                    now = time.monotonic()
                    wait = self._wait_for_a_free_call(now, self._calls_kept_free(thread, length, now))
                    if wait == 0:
                        try:
                            policy.try_acquire(request, weight=1)
                            self._granted.append(now)
                            return
                        except CallRateLimitHit as hit:
                            wait = hit.time_to_wait.total_seconds()
                    if not block:
                        raise CallRateLimitHit(
                            error="no call free",
                            item=request,
                            weight=1,
                            rate=str(self._calls),
                            time_to_wait=timedelta(seconds=wait),
                        )
                time.sleep(max(wait, SHORTEST_WAIT_SECONDS))  # outside the lock: others try meanwhile
        finally:
            with self._turn:
                self._waiting[length] -= 1
                if not self._waiting[length]:
                    del self._waiting[length]
                self._turn.notify_all()

    def _calls_kept_free(self, thread: int, length: int, now: float) -> int:
        """One call while a longer chain is still going, but never the whole window. One, not one per
        longer chain: each call kept free idles until its chain's next page asks, and beside the core
        streams at 150 ms latency one per chain cost the budget half a call a second (bench: 9.1
        calls a second of 9.5) while the longest chain, which comes first whenever it waits, needs
        only one."""
        going = any(
            other != thread and other_length > length and now - asked < ACTIVE_CHAIN_SECONDS
            for other, (other_length, asked) in self._chains.items()
        )
        return min(int(going), self._calls - 1)

    def _wait_for_a_free_call(self, now: float, kept_free: int) -> float:
        """0 when a call is free beyond the `kept_free` ones, else how long until one comes free."""
        while self._granted and now - self._granted[0] >= self._seconds:
            self._granted.popleft()
        used = len(self._granted)
        if used + kept_free < self._calls:
            return 0.0
        # Enough calls are free once the (used + kept_free - calls + 1)th oldest has left the window.
        leaving = self._granted[used + kept_free - self._calls]
        return leaving + self._seconds - now
