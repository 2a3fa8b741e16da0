"""Message windows: where a read starts and how it is cut into windows the API answers in full."""

import pytest

from source_customerio.windows import (
    API_MAX_WINDOW_SECONDS,
    DAY,
    HISTORY_START,
    WINDOW_SECONDS,
    first_window_start,
    windows,
)

T = 1790000000


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


def test_given_default_size_when_cut_then_every_window_is_shorter_than_the_api_limit():
    spans = windows(HISTORY_START, T)

    assert all(last - first + 1 <= WINDOW_SECONDS < API_MAX_WINDOW_SECONDS for first, last in spans)
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
