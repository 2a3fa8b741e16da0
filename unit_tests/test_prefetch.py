"""OrderedPrefetcher: slices read ahead on worker threads, records handed over exactly as a sequential read."""

import itertools
import threading
from typing import Any, Callable, Dict, Iterable, Iterator, List

import pytest

from source_customerio import prefetch
from source_customerio.prefetch import OrderedPrefetcher

WAIT_SECONDS = 5


@pytest.fixture(autouse=True)
def small_batches(monkeypatch):
    """Batches of 2 records and a short put poll keep the buffering numbers small and the tests fast."""
    monkeypatch.setattr(prefetch, "_BATCH_SIZE", 2)
    monkeypatch.setattr(prefetch, "_PUT_TIMEOUT_SECONDS", 0.01)


def records_of(stream_slice: Dict[str, int]) -> List[Dict[str, int]]:
    """A slice's records: how many depends on the slice, so slices differ in length (0 to 6)."""
    return [{"slice": stream_slice["n"], "i": i} for i in range(stream_slice["n"] * 5 % 7)]


def read_like_the_cdk(
    prefetcher: OrderedPrefetcher, slices: Iterable[Any], read_slice: Callable[[Any], Iterable[Any]]
) -> Iterator[Any]:
    """What CustomerioStream does: take slices in order, then that slice's records."""
    for stream_slice in prefetcher.schedule(slices, read_slice):
        yield from prefetcher.records(stream_slice)


def slices(count: int) -> List[Dict[str, int]]:
    return [{"n": n} for n in range(count)]


@pytest.mark.parametrize("depth", [1, 2, 4, 16])
def test_given_depth_when_read_then_records_equal_sequential_read(depth):
    sequential = [record for stream_slice in slices(12) for record in records_of(stream_slice)]

    assert list(read_like_the_cdk(OrderedPrefetcher(depth), slices(12), records_of)) == sequential


def test_given_later_slice_finishes_first_when_read_then_order_is_kept():
    later_done = threading.Event()

    def read_slice(stream_slice):
        if stream_slice["n"] == 0:
            assert later_done.wait(WAIT_SECONDS), "slice 2 was not read ahead"
        yield from records_of(stream_slice)
        if stream_slice["n"] == 2:
            later_done.set()

    assert list(read_like_the_cdk(OrderedPrefetcher(3), slices(4), read_slice)) == [
        r for s in slices(4) for r in records_of(s)
    ]


def test_given_no_slices_when_read_then_nothing():
    assert list(read_like_the_cdk(OrderedPrefetcher(4), [], records_of)) == []


def test_given_slow_consumer_when_reading_ahead_then_buffer_is_bounded():
    produced = itertools.count(1)
    reached_bound = threading.Event()
    overran = threading.Event()
    bound = 3 * 2  # two queued batches of 2 plus the batch waiting to be put

    def endless(stream_slice) -> Iterator[int]:
        while True:
            count = next(produced)
            if count == bound:
                reached_bound.set()
            if count > bound:
                overran.set()
            yield count

    prefetcher = OrderedPrefetcher(1, max_buffered_pages=2)
    scheduled = prefetcher.schedule(slices(1), endless)
    first_slice = next(scheduled)

    assert reached_bound.wait(WAIT_SECONDS)
    assert not overran.wait(0.2)
    records = prefetcher.records(first_slice)
    assert [next(records) for _ in range(3)] == [1, 2, 3]
    assert overran.wait(WAIT_SECONDS)
    scheduled.close()


def test_given_worker_error_when_read_then_raised_in_consumer_at_its_slice():
    def read_slice(stream_slice):
        yield from records_of(stream_slice)
        if stream_slice["n"] == 2:
            raise ValueError("slice 2 broke")

    consumed = []
    with pytest.raises(ValueError, match="slice 2 broke"):
        for record in read_like_the_cdk(OrderedPrefetcher(4), slices(6), read_slice):
            consumed.append(record)

    assert consumed == [r for s in slices(3) for r in records_of(s)]


def test_given_consumer_abandons_when_closed_then_workers_stop():
    started: List[threading.Thread] = []

    def endless(stream_slice) -> Iterator[int]:
        started.append(threading.current_thread())
        yield from itertools.count()

    prefetcher = OrderedPrefetcher(3, max_buffered_pages=1)
    scheduled = prefetcher.schedule(slices(5), endless)
    first_slice = next(scheduled)
    assert next(prefetcher.records(first_slice)) == 0

    scheduled.close()

    for thread in started:
        thread.join(WAIT_SECONDS)
    assert len(started) == 3
    assert not any(thread.is_alive() for thread in started)


def test_given_slice_out_of_order_when_records_then_refused():
    prefetcher = OrderedPrefetcher(2)
    scheduled = prefetcher.schedule(slices(3), records_of)
    next(scheduled)
    second_slice = next(scheduled)

    assert not prefetcher.is_next(second_slice)
    with pytest.raises(RuntimeError, match="slices were consumed out of order"):
        next(prefetcher.records(second_slice))
    scheduled.close()
