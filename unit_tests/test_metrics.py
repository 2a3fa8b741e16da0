"""Pure pieces of the metrics streams: periods in Customer.io's reporting zone, read windows, the API's
"now" from a response's Date, the two API generations' params, reach and array placement, tolerant
series parsing and series → rows."""

from datetime import datetime
from functools import partial

import pytest

from source_customerio.metrics import (
    VERSION_1,
    VERSION_2,
    Period,
    first_period_to_read,
    link_rows,
    series_of,
    series_rows,
    within,
)
from source_customerio.responses import answered_at


def ts(text: str) -> int:
    """Unix seconds of an ISO time with offset, e.g. 2026-10-30T00:00:00-04:00."""
    return int(datetime.fromisoformat(text).timestamp())


DAYS = Period("days")
# 2026-11-01 is the day US Eastern time leaves daylight saving (02:00 EDT → 01:00 EST).


@pytest.mark.parametrize(
    "unit, moment, start",
    [
        ("hours", "2026-10-31T20:59:59-04:00", "2026-10-31T20:00:00-04:00"),
        ("days", "2026-10-31T20:00:00-04:00", "2026-10-31T00:00:00-04:00"),
        ("days", "2026-11-01T03:30:00-05:00", "2026-11-01T00:00:00-04:00"),
        ("weeks", "2026-10-31T20:00:00-04:00", "2026-10-25T00:00:00-04:00"),
        ("weeks", "2026-10-25T00:00:00-04:00", "2026-10-25T00:00:00-04:00"),
        ("months", "2026-11-27T14:00:00+00:00", "2026-11-01T00:00:00-04:00"),
    ],
    ids=[
        "hour",
        "day-in-eastern-time-not-utc",
        "day-of-dst-change",
        "week-starts-sunday",
        "sunday-is-its-own-week",
        "month",
    ],
)
def test_floor_gives_the_start_of_the_period_in_eastern_time(unit, moment, start):
    assert Period(unit).floor(ts(moment)) == ts(start)


def test_shift_by_days_keeps_local_midnight_across_the_dst_change():
    october_31 = ts("2026-10-31T00:00:00-04:00")

    assert DAYS.shift(october_31, 1) == ts("2026-11-01T00:00:00-04:00")
    assert DAYS.shift(october_31, 2) == ts("2026-11-02T00:00:00-05:00")  # 25 hours later
    assert DAYS.shift(ts("2026-11-02T00:00:00-05:00"), -2) == october_31


@pytest.mark.parametrize(
    "unit, first, last, count",
    [
        ("hours", "2026-10-31T20:00:00-04:00", "2026-10-31T20:00:00-04:00", 1),
        ("days", "2026-10-30T00:00:00-04:00", "2026-11-02T00:00:00-05:00", 4),
        ("weeks", "2026-10-11T00:00:00-04:00", "2026-11-01T00:00:00-04:00", 4),
        ("months", "2025-12-01T00:00:00-05:00", "2026-02-01T00:00:00-05:00", 3),
    ],
)
def test_count_includes_both_ends(unit, first, last, count):
    assert Period(unit).count(ts(first), ts(last)) == count


def test_starts_lists_consecutive_periods():
    first = ts("2026-10-31T00:00:00-04:00")

    assert DAYS.starts(first, 3) == (first, ts("2026-11-01T00:00:00-04:00"), ts("2026-11-02T00:00:00-05:00"))


class TestReadFrom:
    now = ts("2026-11-27T14:31:00+00:00")
    today = ts("2026-11-27T00:00:00-05:00")
    reach = ts("2026-10-14T09:00:00-04:00")

    def test_given_no_bounds_then_from_the_period_of_the_reach(self):
        assert first_period_to_read(DAYS, self.reach, (None, None, None)) == ts("2026-10-14T00:00:00-04:00")

    def test_given_a_saved_period_then_from_that_period(self):
        saved = DAYS.shift(self.today, -1)

        assert first_period_to_read(DAYS, self.reach, (saved, None, None)) == saved

    def test_given_a_parent_created_mid_day_then_from_the_start_of_that_day(self):
        created = ts("2026-11-20T15:00:00-05:00")

        assert first_period_to_read(DAYS, self.reach, (None, ts("2026-11-01T00:00:00Z"), created)) == ts(
            "2026-11-20T00:00:00-05:00"
        )

    def test_given_bounds_older_than_the_reach_then_the_reach_wins(self):
        assert first_period_to_read(DAYS, self.reach, (ts("2020-01-01T00:00:00Z"), None, None)) == ts(
            "2026-10-14T00:00:00-04:00"
        )

    def test_given_a_saved_period_after_now_then_after_the_current_period(self):
        assert first_period_to_read(DAYS, self.reach, (self.now + 10 * 86400, None, None)) == DAYS.shift(self.today, 10)


@pytest.mark.parametrize(
    "header, answered",
    [
        ("Fri, 27 Nov 2026 14:31:00 GMT", "2026-11-27T14:31:00+00:00"),
        ("Fri, 27 Nov 2026 16:31:00 +0200", "2026-11-27T14:31:00+00:00"),
        ("Fri, 27 Nov 2026 14:31:00 -0000", "2026-11-27T14:31:00+00:00"),
    ],
    ids=["http-date", "numeric-offset", "unknown-zone-is-utc"],
)
def test_answered_at_reads_the_date_header(header, answered):
    assert answered_at(header, fallback=0) == ts(answered)


@pytest.mark.parametrize(
    "header",
    [None, "", "yesterday", "Fri, 45 Nov 2026 14:31:00 GMT"],
    ids=["missing", "empty", "not-a-date", "no-such-day"],
)
def test_answered_at_falls_back_to_the_connectors_clock_without_a_usable_date(header):
    assert answered_at(header, fallback=1234) == 1234


class TestMetricsApi:
    now = ts("2026-11-27T14:31:00+00:00")
    today = ts("2026-11-27T00:00:00-05:00")

    def test_version_2_asks_for_the_window_in_the_reporting_zone(self):
        assert VERSION_2.params(DAYS, self.today - 86400, self.now) == {
            "version": 2,
            "res": "days",
            "tz": "America/New_York",
            "start": self.today - 86400,
            "end": self.now,
        }

    @pytest.mark.parametrize(
        "days_back, steps",
        [(0, 2), (1, 3), (3, 5), (43, 45), (44, 45), (400, 45)],
        ids=["at-least-2", "3", "5", "up-to-cap", "cap", "above-cap"],
    )
    def test_version_1_asks_for_the_steps_since_the_window_start_and_one_more_within_the_caps(self, days_back, steps):
        assert VERSION_1.params(DAYS, DAYS.shift(self.today, -days_back), self.now) == {
            "period": "days",
            "steps": steps,
        }

    def test_version_1_months_are_capped_at_120(self):
        assert VERSION_1.params(Period("months"), ts("2000-01-01T00:00:00Z"), self.now)["steps"] == 120

    def test_version_2_reaches_10_years_back_from_the_connectors_clock(self):
        assert VERSION_2.reach(DAYS, self.now) == DAYS.shift(self.today, -3649)

    def test_version_1_reach_is_not_cut_by_the_connectors_clock(self):
        # Its `steps` end at the API's clock, so the answer itself is the reach.
        assert VERSION_1.reach(DAYS, self.now) == ts("2012-01-01T00:00:00+00:00")

    def test_version_2_arrays_start_at_the_window_start_and_version_1_arrays_end_when_answered(self):
        since = DAYS.shift(self.today, -5)

        assert VERSION_2.first_period(DAYS, since + 3600, self.now, 3) == since
        assert VERSION_1.first_period(DAYS, since, self.now, 3) == DAYS.shift(self.today, -2)


@pytest.mark.parametrize(
    "body, series",
    [
        ({"metric": {"series": {"sent": [1, 2]}}}, {"sent": [1, 2]}),
        ({"series": {"series": {"sent": [1, 2]}}}, {"sent": [1, 2]}),
        ({"metric": {"series": {"sent": [1], "note": "x", "opened": None}}}, {"sent": [1]}),
        ({"metric": {}}, {}),
        ({"meta": {"error": "x"}}, {}),
        ([], {}),
    ],
    ids=["spec-shape", "ingestr-shape", "non-arrays-skipped", "no-series", "error-body", "not-an-object"],
)
def test_series_of_reads_both_reported_shapes(body, series):
    assert series_of(body) == series


class TestSeriesRows:
    start = ts("2026-10-30T00:00:00-04:00")

    def test_one_row_per_period_with_a_column_per_metric(self):
        rows = series_rows({"sent": [5, 6], "opened": [1, 2]}, DAYS, lambda length: self.start)

        assert rows == [
            {"period_start": self.start, "sent": 5, "opened": 1},
            {"period_start": DAYS.shift(self.start, 1), "sent": 6, "opened": 2},
        ]

    def test_given_arrays_of_different_lengths_ending_now_then_each_is_placed_from_its_end(self):
        now = ts("2026-11-01T12:00:00-05:00")
        place = partial(VERSION_1.first_period, DAYS, self.start, now)

        rows = series_rows({"sent": [5, 6, 7], "human_opened": [2]}, DAYS, place)

        assert rows == [
            {"period_start": self.start, "sent": 5},
            {"period_start": DAYS.shift(self.start, 1), "sent": 6},
            {"period_start": DAYS.shift(self.start, 2), "sent": 7, "human_opened": 2},
        ]

    def test_given_arrays_of_different_lengths_from_the_window_start_then_each_is_placed_from_its_start(self):
        place = partial(VERSION_2.first_period, DAYS, self.start, self.start + 5 * 86400)

        rows = series_rows({"sent": [5], "opened": [1, 2]}, DAYS, place)

        assert rows == [
            {"period_start": self.start, "sent": 5, "opened": 1},
            {"period_start": DAYS.shift(self.start, 1), "opened": 2},
        ]

    def test_given_no_series_then_no_rows(self):
        assert series_rows({}, DAYS, lambda length: self.start) == []


def test_link_rows_carry_the_link_and_skip_entries_without_one():
    start = ts("2026-10-30T00:00:00-04:00")
    body = {
        "links": [
            {"link": {"id": 12, "href": "https://example.com"}, "metric": {"series": {"clicked": [3]}}},
            {"metric": {"series": {"clicked": [9]}}},
            "junk",
        ]
    }

    rows = link_rows(body, partial(series_rows, period=DAYS, first_period=lambda length: start))

    assert rows == [{"period_start": start, "clicked": 3, "link_id": 12, "href": "https://example.com"}]


def test_within_keeps_rows_from_the_window_start_to_the_current_period():
    rows = [{"period_start": start} for start in (1, 2, 3, 4)]

    assert within(rows, 2, 3) == [{"period_start": 2}, {"period_start": 3}]


def test_given_version_1_answer_starting_after_since_then_the_periods_between_are_unread():
    days = Period("days")
    since = days.floor(1790000000)
    first_answered = days.shift(since, 10)

    assert VERSION_1.unread(days, since, first_answered) == (since, days.shift(since, 9))
    assert VERSION_1.unread(days, since, since) is None
    assert VERSION_2.unread(days, since, VERSION_2.first_period(days, since, 1793491200, 40)) is None
