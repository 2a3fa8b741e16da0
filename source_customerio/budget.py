"""The one rate budget every stream shares, and who gets the next free call.

A full sync ends no sooner than its longest cursor chain (one page after another, each waiting for
the last) and no sooner than its requests divided by the rate. With the CDK's budget alone, other
streams' requests fill the moving window in bursts, and a long chain's next page then waits for a
call to come free, page after page: measured beside the core streams at 150 ms latency, the
activity log's 256 pages waited 12.4 s in all for calls, and the sync took 53 s against floors of
42 s (budget) and 39 s (chain).

`ChainFirstBudget` keeps the CDK's budget (its moving-window policy still decides whether a call may
leave, and a 429 that follows another stalls it) and adds these rules, by each request's chain
length (the pages its listing has read before it, announced by the stream that sends it with
`next_request_follows`; a first page or an unpaged list counts 0):
- while a request waits for a call, no request of a shorter chain takes one;
- a request leaves one call of the window free while a longer chain is still going (one that asked
  in the last `ACTIVE_CHAIN_SECONDS` and has not ended: `chain_ended`), so the longest chain's next
  page finds its call free;
- but it takes that call when another comes free before the chain's next page is due (by the
  chain's pace: the time from a page's call to its next page's ask, the shortest of its last few),
  so the kept call idles only while the chain actually needs it.
The chain that has gone on longest is likely the longest; its pages leave as fast as its latency
allows, and the other requests fill the calls around them. A lone 429 does not stall the budget
(`update_from_response`).
"""

import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Deque, Dict, Optional

import requests
from airbyte_cdk.sources.streams.call_rate import AbstractCallRatePolicy, CallRateLimitHit, HttpAPIBudget

# A chain that asked for a call this recently is still going: its next page is on its way (live
# latency is 0.3–0.6 s a page, and the chain's thread handles the page in between).
ACTIVE_CHAIN_SECONDS = 2.0
# A 429 this long after the last one is taken for jitter (see `ChainFirstBudget.update_from_response`).
LONE_429_QUIET_SECONDS = 10.0
# A chain's pace is the shortest of its last few pages: a page that came sooner than the one before is
# not waited for much, and one slow page (a retry) does not make its chain look slow.
PACE_PAGES = 4
# A call is lent only when it comes free again this long before the chain's next page is due: a page a
# little sooner than its pace, or a request a little late to the API, must not cost the chain a wait.
LEND_MARGIN_SECONDS = 0.03
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


@dataclass
class Chain:
    """A thread's listing as the budget sees it: its length, and when its next page is due."""

    length: int
    asked: float  # when its last page asked for a call
    granted: Optional[float] = None  # when that page got it
    paces: Deque[float] = field(default_factory=lambda: deque(maxlen=PACE_PAGES))  # call → next ask, seconds

    def next_page_due(self) -> float:
        """When the chain's next page will ask, at its pace; now (`asked`) while it waits or has no pace yet."""
        if self.granted is None or not self.paces:
            return self.asked
        return self.granted + min(self.paces)


class ChainFirstBudget(HttpAPIBudget):
    """The CDK's `HttpAPIBudget`, `calls` per `seconds`; longer chains first, and a call kept free for
    the longer chains still going while their next page needs it."""

    def __init__(self, calls: int, seconds: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._calls = calls
        self._seconds = seconds
        self._turn = threading.Condition()
        self._waiting: Counter = Counter()  # chain length -> requests waiting for a call
        self._granted: Deque[float] = deque()  # when the calls of the current window were granted
        self._chains: Dict[int, Chain] = {}  # thread -> its listing
        self._last_429 = -LONE_429_QUIET_SECONDS  # monotonic time of the last 429 answered

    def update_from_response(self, request: Any, response: Any) -> None:
        """On a 429 the CDK's budget takes every call of the window (no request leaves for a second);
        a lone 429 (none in the last `LONE_429_QUIET_SECONDS`) does not. A lone one is jitter: calls that
        left the budget in time reached Customer.io closer together (RATE_WINDOW_MARGIN); the request
        waits and is sent again, and each other call is still within the budget. Beside the core streams
        at 150 ms latency, two or three such 429s a sync each cost a second of the budget: 3-5% of the
        sync. When another client takes the workspace's budget, 429s come one after another and stall it."""
        if isinstance(response, requests.Response) and response.status_code == 429:
            now = time.monotonic()
            with self._turn:
                lone, self._last_429 = now - self._last_429 >= LONE_429_QUIET_SECONDS, now
            if lone:
                return
        super().update_from_response(request, response)

    def chain_ended(self) -> None:
        """The calling thread's listing has no more pages: keep no call free for it any longer."""
        with self._turn:
            self._chains.pop(threading.get_ident(), None)

    def _do_acquire(self, request: Any, policy: AbstractCallRatePolicy, block: bool, timeout: Optional[float]) -> None:
        length = take_pages_read()
        thread = threading.get_ident()
        with self._turn:
            self._waiting[length] += 1
            self._chains[thread] = self._asking(thread, length, time.monotonic())
        try:
            while True:
                with self._turn:
                    self._turn.wait_for(lambda: max(self._waiting) <= length)
                    now = time.monotonic()
                    self._forget_calls_before(now)
                    wait = self._wait_for_a_free_call(now, self._calls_kept_free(thread, length, now))
                    if wait == 0:
                        try:
                            policy.try_acquire(request, weight=1)
                            self._granted.append(now)
                            self._chains[thread].granted = now
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

    def _asking(self, thread: int, length: int, now: float) -> Chain:
        """The thread's listing as it asks for the call of a page `length`: its pace kept when this
        page follows the one it last asked for."""
        last = self._chains.get(thread)
        chain = Chain(length, now)
        if last is not None and last.length == length - 1 and last.granted is not None:
            chain.paces.extend(last.paces)
            chain.paces.append(now - last.granted)
        return chain

    def _calls_kept_free(self, thread: int, length: int, now: float) -> int:
        """With the calls that left the window by `now` already forgotten: one call while a longer
        chain is still going, but never the whole window; none when, taken, another call comes free
        before that chain's next page is due. One, not one per longer chain:
        each call kept free idles until its chain's next page asks, and beside the core streams at
        150 ms latency one per chain cost the budget half a call a second (bench: 9.1 calls a second
        of 9.5) while the longest chain, which comes first whenever it waits, needs only one."""
        dues = [
            chain.next_page_due()
            for other, chain in self._chains.items()
            if other != thread and chain.length > length and now - chain.asked < ACTIVE_CHAIN_SECONDS
        ]
        if not dues or self._calls == 1:
            return 0
        # With one call free, taking it fills the window until its oldest call leaves it.
        comes_free_again = self._granted[0] + self._seconds if self._granted else now
        return 0 if comes_free_again <= min(dues) - LEND_MARGIN_SECONDS else 1

    def _forget_calls_before(self, now: float) -> None:
        """Drop the calls that have left the moving window."""
        while self._granted and now - self._granted[0] >= self._seconds:
            self._granted.popleft()

    def _wait_for_a_free_call(self, now: float, kept_free: int) -> float:
        """With the calls that left the window by `now` already forgotten: 0 when a call is free beyond
        the `kept_free` ones, else how long until one comes free."""
        used = len(self._granted)
        if used + kept_free < self._calls:
            return 0.0
        # Enough calls are free once the (used + kept_free - calls + 1)th oldest has left the window.
        leaving = self._granted[used + kept_free - self._calls]
        return leaving + self._seconds - now
