"""Message windows: where a read starts, how it is cut into spans the API answers in full, and how
probes size the windows so that none is a long chain."""

import bisect
import math
import random
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from typing import List, Sequence, Tuple

import pytest

from source_customerio.windows import (
    API_MAX_WINDOW_SECONDS,
    DAY,
    HISTORY_START,
    MAX_PARTS,
    PAGE_SIZE,
    PAGES_PER_WINDOW,
    Probe,
    Window,
    estimated_pages,
    first_window_start,
    parts_for,
    sized_windows,
    split,
    windows,
)

T = 1790000000
WINDOW_SECONDS = 30 * DAY


@pytest.mark.parametrize(
    "start, end, size, expected",
    [
        (T, T + 10, 5, [(T, T + 4), (T + 5, T + 9), (T + 10, T + 10)]),
        (T, T + 9, 5, [(T, T + 4), (T + 5, T + 9)]),
        (T, T, 5, [(T, T)]),
        (T + 1, T, 5, []),
        (
            T,
            T + 2 * WINDOW_SECONDS,
            WINDOW_SECONDS,
            [
                (T, T + WINDOW_SECONDS - 1),
                (T + WINDOW_SECONDS, T + 2 * WINDOW_SECONDS - 1),
                (T + 2 * WINDOW_SECONDS, T + 2 * WINDOW_SECONDS),
            ],
        ),
    ],
    ids=["ragged-last-window", "exact-fit", "one-second", "start-after-end", "default-size"],
)
def test_given_range_when_cut_then_inclusive_windows_cover_it_without_overlap(start, end, size, expected):
    assert windows(start, end, size) == expected


def test_given_default_size_when_cut_then_every_span_is_as_long_as_the_api_answers():
    spans = windows(HISTORY_START, T)

    assert all(last - first + 1 <= API_MAX_WINDOW_SECONDS for first, last in spans)
    assert len(spans) == math.ceil((T - HISTORY_START + 1) / API_MAX_WINDOW_SECONDS)
    assert spans[0][0] == HISTORY_START and spans[-1][1] == T
    assert all(spans[k][1] + 1 == spans[k + 1][0] for k in range(len(spans) - 1))


@pytest.mark.parametrize("size", [0, API_MAX_WINDOW_SECONDS + 1], ids=["empty", "longer-than-api-answers"])
def test_given_unusable_size_when_cut_then_error(size):
    with pytest.raises(ValueError):
        windows(T, T + DAY, size)


@pytest.mark.parametrize(
    "start_date, cursor, lookback_days, expected",
    [
        (None, None, 30, HISTORY_START),
        (T, None, 30, T),
        (HISTORY_START - DAY, None, 30, HISTORY_START),
        (None, T, 30, T - 30 * DAY),
        (None, T, 0, T),
        (T - 5 * DAY, T, 30, T - 5 * DAY),
    ],
    ids=[
        "no-start-date-2012",
        "start-date",
        "start-date-before-2012",
        "cursor-less-lookback",
        "no-lookback-rereads-cursor-second",
        "start-date-bounds-lookback",
    ],
)
def test_given_start_date_and_cursor_when_first_window_start_then_that_start(
    start_date, cursor, lookback_days, expected
):
    assert first_window_start(start_date, cursor, lookback_days) == expected


# -- sizing by probes ------------------------------------------------------------------------------


class FakeDeliveries:
    """GET /v1/messages over a list of `created` times: a probe is the first page of a window."""

    def __init__(self, created: Sequence[int]):
        self.created = sorted(created)
        self.probed: List[Window] = []

    def count(self, window: Window) -> int:
        return bisect.bisect_right(self.created, window[1]) - bisect.bisect_left(self.created, window[0])

    def pages(self, window: Window) -> int:
        return max(1, math.ceil(self.count(window) / PAGE_SIZE))

    def probe(self, window: Window) -> Probe:
        self.probed.append(window)
        high = bisect.bisect_right(self.created, window[1])
        low = max(bisect.bisect_left(self.created, window[0]), high - PAGE_SIZE)
        return Probe(self.created[low:high][::-1], self.count(window) > PAGE_SIZE)

    def sized(self, start: int, end: int, workers: int = 4) -> List[Window]:
        with ThreadPoolExecutor(workers) as pool:
            return list(sized_windows(start, end, self.probe, pool))


def spread(count: int, start: int, seconds: int) -> List[int]:
    return [start + index * seconds // count for index in range(count)]


DRAWS = random.Random(7)


def uniform_page(newest: int, seconds_apart: int, size: int = PAGE_SIZE) -> List[int]:
    return [newest - index * seconds_apart for index in range(size)]


@pytest.mark.parametrize(
    "window, probe, expected",
    [
        ((T, T + 30 * DAY), Probe([T + 5], more=False), 1.0),
        ((T, T + 30 * DAY), Probe([], more=False), 1.0),
        ((T, T + 30 * DAY), Probe([], more=True), 1.0),
        # a delivery every 10 s: the page covers 10,000 s, the rest of the window holds the rest
        ((T, T + 100_000 - 1), Probe(uniform_page(T + 100_000 - 1, 10), more=True), 10.0),
        # older half twice as dense as the newer: the rest counts at twice the older half's density
        (
            (T, T + 100_000),
            Probe(uniform_page(T + 100_000, 20, 500) + uniform_page(T + 90_000, 10, 500), more=True),
            1 + 85_010 * (500 / 4_991) * ((500 / 4_991) / (500 / 9_981)) / PAGE_SIZE,
        ),
    ],
    ids=["one-page", "empty", "empty-page-with-next", "uniform", "denser-towards-the-past"],
)
def test_given_a_probe_when_estimated_then_pages_at_the_density_of_its_older_half(window, probe, expected):
    assert estimated_pages(window, probe) == pytest.approx(expected, rel=0.01)


@pytest.mark.parametrize(
    "window, parts, expected",
    [
        ((T, T + 9), 2, [(T, T + 4), (T + 5, T + 9)]),
        ((T, T + 10), 3, [(T, T + 2), (T + 3, T + 6), (T + 7, T + 10)]),
        ((T, T + 2), 8, [(T, T), (T + 1, T + 1), (T + 2, T + 2)]),
        ((T, T), 4, [(T, T)]),
    ],
    ids=["halves", "ragged", "into-seconds", "one-second"],
)
def test_given_a_window_when_split_then_inclusive_parts_meet_one_second_apart(window, parts, expected):
    assert split(window, parts) == expected


@pytest.mark.parametrize(
    "window, probe, expected",
    [
        ((T, T + 99_000), Probe(uniform_page(T + 99_000, 10), more=True), 1),  # 9.9 pages: a window
        ((T, T + 295_000), Probe(uniform_page(T + 295_000, 10), more=True), 3),  # 29.5 pages: 3 of about 10
        ((T, T + 180 * DAY - 1), Probe(uniform_page(T + 180 * DAY - 1, 1), more=True), MAX_PARTS),  # at most 8
        ((T, T + 60), Probe([T + 60] * 10 + [T + 30] * (PAGE_SIZE - 10), more=True), MAX_PARTS),  # a full second
        ((T, T), Probe([T] * PAGE_SIZE, more=True), 1),  # a single second cannot be cut
    ],
    ids=["at-the-target", "three-targets", "capped", "page-ends-in-a-full-second", "one-second"],
)
def test_given_a_probe_when_sized_then_parts_of_at_most_the_target_pages(window, probe, expected):
    assert parts_for(window, probe) == expected


@pytest.mark.parametrize("workers", [1, 4], ids=["one-probe-at-a-time", "probes-at-once"])
def test_given_a_dense_recent_month_when_sized_then_split_into_short_windows_covering_the_read(workers):
    end = T + 365 * DAY
    api = FakeDeliveries(spread(60_000, end - 30 * DAY, 30 * DAY))  # 60 pages, as one 30-day window today

    sized = api.sized(HISTORY_START, end, workers)

    assert max(api.pages(window) for window in sized) <= PAGES_PER_WINDOW
    assert sized[-1][1] == end and all(a[1] < b[0] for a, b in pairwise(sized))
    assert all(last - first < API_MAX_WINDOW_SECONDS for first, last in sized)
    assert sum(api.count(window) for window in sized) == 60_000  # only empty stretches left out
    # One probe per 6 months, and about two per window of the dense month: still fewer requests than the
    # 30-day windows' one each.
    requests = len(api.probed) + sum(api.pages(window) for window in sized)
    assert requests < sum(api.pages(window) for window in windows(HISTORY_START, end, WINDOW_SECONDS)) / 2


def test_given_no_delivery_since_2012_when_sized_then_one_probe_per_six_months_and_only_the_last_window_read():
    api = FakeDeliveries([])

    sized = api.sized(HISTORY_START, T)

    assert sized == [windows(HISTORY_START, T)[-1]]
    assert len(api.probed) == len(windows(HISTORY_START, T)) < len(windows(HISTORY_START, T, WINDOW_SECONDS)) / 5


@pytest.mark.parametrize(
    "created",
    [
        spread(50_000, T + 29 * DAY, 1800) + spread(3_000, T, 31 * DAY),  # a blast yesterday, incremental read
        [T + 31 * DAY - int(31 * DAY * math.sqrt(DRAWS.random())) for _ in range(100_000)],  # busier before
        spread(40_000, T + 31 * DAY - 3600, 1) + spread(10_000, T, 31 * DAY),  # 40,000 in one second an hour ago
    ],
    ids=["blast-at-the-end", "denser-towards-the-past", "one-second-burst"],
)
def test_given_uneven_deliveries_when_sized_then_no_window_far_past_the_target(created):
    api = FakeDeliveries(created)

    sized = api.sized(T, T + 31 * DAY)

    single_seconds = [window for window in sized if window[0] == window[1]]
    assert max(api.pages(window) for window in sized if window not in single_seconds) <= 2 * PAGES_PER_WINDOW
    assert sum(api.count(window) for window in sized) == len(created)
    assert all(a[1] + 1 <= b[0] for a, b in pairwise(sized)) and sized[-1][1] == T + 31 * DAY


def test_given_a_probe_fails_when_sized_then_the_error_reaches_the_reader():
    def probe(window: Window) -> Probe:
        raise RuntimeError(f"probe of {window} failed")

    with ThreadPoolExecutor(2) as pool, pytest.raises(RuntimeError, match="failed"):
        list(sized_windows(T, T + DAY, probe, pool))


def test_given_windows_planned_then_each_is_handed_its_own_probe_once_and_no_span_that_was_cut():
    api = FakeDeliveries(spread(50_000, T + 29 * DAY, 1800) + spread(3_000, T, 31 * DAY))
    handed: List[Tuple[Window, Probe]] = []

    with ThreadPoolExecutor(4) as pool:
        sized = list(sized_windows(T, T + 31 * DAY, api.probe, pool, planned=lambda w, p: handed.append((w, p))))

    assert len(sized) > 1 and sorted(window for window, _ in handed) == sized  # the cut spans were probed too
    assert len(api.probed) > len(sized)
    assert all(probe == api.probe(window) for window, probe in handed)
