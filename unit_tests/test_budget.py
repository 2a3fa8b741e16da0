"""The shared budget (source_customerio.budget): the CDK's moving window decides when a call is free;
the waiting request of the longest chain takes it first."""

import threading
import time
from datetime import timedelta
from typing import List

import requests
from airbyte_cdk.sources.streams.call_rate import MovingWindowCallRatePolicy, Rate

from source_customerio.budget import ChainFirstBudget, next_request_follows, take_pages_read
from source_customerio.errors import build_api_budget

REQUEST = requests.Request("GET", "https://api.customer.io/v1/activities").prepare()


def calls_per(calls: int, seconds: float) -> ChainFirstBudget:
    rate = Rate(limit=calls, interval=timedelta(seconds=seconds))
    policies = [MovingWindowCallRatePolicy(rates=[rate], matchers=[])]
    return ChainFirstBudget(calls=calls, seconds=seconds, policies=policies)


def one_call_per(seconds: float) -> ChainFirstBudget:
    return calls_per(1, seconds)


def ask(budget: ChainFirstBudget, pages_read: int, name: str, served: List[str]) -> threading.Thread:
    def send() -> None:
        next_request_follows(pages_read)
        budget.acquire_call(REQUEST)
        served.append(name)

    thread = threading.Thread(target=send)
    thread.start()
    return thread


def test_given_a_full_window_when_first_pages_wait_and_a_chain_comes_later_then_the_chain_takes_the_next_call():
    budget = one_call_per(0.3)
    budget.acquire_call(REQUEST)  # the window is full for 0.3 s
    served: List[str] = []
    waiting = [ask(budget, 0, f"first page {n}", served) for n in range(3)]
    time.sleep(0.05)  # the first pages wait already
    waiting.append(ask(budget, 40, "page 41 of a chain", served))

    for thread in waiting:
        thread.join(timeout=5)

    assert served[0] == "page 41 of a chain" and len(served) == 4


def test_given_chains_waiting_when_a_longer_one_comes_later_then_the_longer_goes_first():
    budget = one_call_per(0.3)
    budget.acquire_call(REQUEST)
    served: List[str] = []
    waiting = [ask(budget, 3, f"page 4 of chain {n}", served) for n in range(3)]
    time.sleep(0.05)
    waiting.append(ask(budget, 9, "page 10", served))

    for thread in waiting:
        thread.join(timeout=5)

    assert served[0] == "page 10" and len(served) == 4


def waited_for_a_first_page(budget: ChainFirstBudget) -> float:
    started = time.monotonic()
    next_request_follows(0)
    budget.acquire_call(REQUEST)
    return time.monotonic() - started


def test_given_a_long_chain_going_then_a_first_page_leaves_a_call_free_for_its_next_page():
    budget = calls_per(2, 0.4)
    ask(budget, 40, "page 41 of a chain", []).join()  # on its own thread: one call of two used, it goes on

    # One call is free, but kept for the chain's next page: the first page waits for the window.
    assert waited_for_a_first_page(budget) >= 0.3


def test_given_two_longer_chains_going_then_a_first_page_keeps_one_call_free_not_two():
    budget = calls_per(4, 0.4)
    done = threading.Event()

    def chain(pages_read: int, asked: threading.Event) -> None:
        next_request_follows(pages_read)
        budget.acquire_call(REQUEST)
        asked.set()
        done.wait(5)  # the thread lives on, as a chain's does between pages

    for pages_read in (40, 9):  # two calls of four used; both chains go on
        asked = threading.Event()
        threading.Thread(target=chain, args=(pages_read, asked)).start()
        asked.wait(5)

    # Only one call is kept free (not one per chain), so the third is this first page's at once.
    try:
        assert waited_for_a_first_page(budget) < 0.1
    finally:
        done.set()


def test_given_a_chain_that_ended_then_a_first_page_keeps_no_call_free_for_it():
    budget = calls_per(2, 0.4)

    def last_page() -> None:
        next_request_follows(40)
        budget.acquire_call(REQUEST)
        budget.chain_ended()  # that page had no `next`

    thread = threading.Thread(target=last_page)
    thread.start()
    thread.join()

    assert waited_for_a_first_page(budget) < 0.1


def test_given_no_chain_going_then_a_first_page_takes_a_free_call_at_once():
    budget = calls_per(2, 0.4)
    next_request_follows(0)
    budget.acquire_call(REQUEST)

    assert waited_for_a_first_page(budget) < 0.1


def test_an_announced_chain_length_holds_for_the_next_request_only():
    next_request_follows(7)

    assert (take_pages_read(), take_pages_read()) == (7, 0)


def test_the_connectors_budget_serves_the_longest_chain_first():
    assert isinstance(build_api_budget(10), ChainFirstBudget)


def chain_asks(budget: ChainFirstBudget, pace: float) -> float:
    """On its own thread, a chain's pages 41 and 42, the second `pace` seconds after the first's call;
    when the first got its call."""
    granted: List[float] = []

    def pages() -> None:
        for pages_read in (40, 41):
            next_request_follows(pages_read)
            budget.acquire_call(REQUEST)
            granted.append(time.monotonic())
            time.sleep(pace if pages_read == 40 else 0)

    thread = threading.Thread(target=pages)
    thread.start()
    thread.join(timeout=5)
    return granted[0]


def test_given_a_chain_whose_next_page_is_due_after_a_call_comes_free_then_a_first_page_takes_the_kept_call():
    budget = calls_per(3, 1.0)
    chain_asks(budget, pace=0.6)  # two calls of three used; its next page is due 0.6 s after the second

    # The free call is taken now (not 0.4 s later): the chain's first call leaves the window 1 s after
    # it was made, before the chain's next page asks for one at 1.2 s.
    assert waited_for_a_first_page(budget) < 0.2


def test_given_a_chain_whose_next_page_is_due_before_a_call_comes_free_then_a_first_page_leaves_it():
    budget = calls_per(3, 0.4)
    first_call = chain_asks(budget, pace=0.02)  # its next page is due before any call leaves the window

    next_request_follows(0)
    budget.acquire_call(REQUEST)

    assert time.monotonic() - first_call >= 0.39  # only once the chain's first call left the window


def answered_429() -> requests.Response:
    response = requests.Response()
    response.status_code, response.request = 429, REQUEST
    return response


def test_given_a_lone_429_then_the_other_calls_of_the_window_still_leave():
    budget = build_api_budget(10)
    budget.acquire_call(REQUEST)
    budget.update_from_response(REQUEST, answered_429())

    assert waited_for_a_first_page(budget) < 0.1


def test_given_a_429_soon_after_another_then_the_budget_stalls_for_a_window():
    budget = build_api_budget(10)
    budget.acquire_call(REQUEST)
    budget.update_from_response(REQUEST, answered_429())
    budget.update_from_response(REQUEST, answered_429())  # another client is taking the budget

    assert waited_for_a_first_page(budget) > 0.9
