"""Metric time series as rows: period arithmetic, the two API generations, tolerant parsing.

A metrics response holds one array per metric name, oldest period first, e.g.
{"metric": {"series": {"sent": [3, 0, 5], "opened": [1, 0, 2]}}}. Each period becomes one row:
{"period_start": <unix s>, "sent": 3, "opened": 1}. The arrays carry no timestamps, so where they
start comes from the request or the response: version 2 answers from the period containing `start`;
version 1 answers `steps` periods ending with the API's current one, read from the response's HTTP
`Date` (the connector's clock may sit on the other side of a period boundary).

Periods follow Customer.io's reporting day: version 1 documents "days start at 00:00 EST, weeks on
Sunday, months on the 1st", so version 2 is asked for the same zone and the streams agree.
"""

from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Callable, Dict, Iterable, List, Mapping, MutableMapping, Optional, Sequence, Tuple

import pendulum

from source_customerio.windows import HISTORY_START

METRICS_TIMEZONE = "America/New_York"
# The `steps` caps of version 1 (the links endpoints allow 121 months; 120 suits every endpoint).
V1_MAX_STEPS = {"hours": 24, "days": 45, "weeks": 12, "months": 120}
# Version 2 allows `end` at most 10 years after `start`.
V2_MAX_PERIODS = {"hours": 24 * 3650, "days": 3650, "weeks": 521, "months": 120}

MetricSeries = Mapping[str, Sequence[Any]]


@lru_cache(maxsize=1024)  # every array of a sync's responses walks the same few ranges
def period_starts(unit: str, timezone: str, first_start: int, count: int) -> Tuple[int, ...]:
    moment = pendulum.from_timestamp(first_start, tz=timezone)
    return tuple(moment.add(**{unit: offset}).int_timestamp for offset in range(count))


@dataclass(frozen=True)
class Period:
    """A reporting period length ("hours", "days", "weeks", "months") in a time zone."""

    unit: str
    timezone: str = METRICS_TIMEZONE

    def floor(self, timestamp: int) -> int:
        """The start of the period containing `timestamp`."""
        moment = pendulum.from_timestamp(timestamp, tz=self.timezone)
        if self.unit == "hours":
            start = moment.start_of("hour")
        elif self.unit == "days":
            start = moment.start_of("day")
        elif self.unit == "weeks":
            start = moment.start_of("day").subtract(days=moment.isoweekday() % 7)  # weeks start on Sunday
        else:
            start = moment.start_of("month")
        return start.int_timestamp

    def shift(self, period_start: int, count: int) -> int:
        """The start of the period `count` periods after (or before, if negative) `period_start`."""
        moment = pendulum.from_timestamp(period_start, tz=self.timezone)
        return moment.add(**{self.unit: count}).int_timestamp

    def starts(self, first_start: int, count: int) -> Tuple[int, ...]:
        """The starts of `count` consecutive periods from `first_start`."""
        return period_starts(self.unit, self.timezone, first_start, count)

    def count(self, first_start: int, last_start: int) -> int:
        """How many periods run from the one starting at `first_start` to the one at `last_start`, both included."""
        first = pendulum.from_timestamp(first_start, tz=self.timezone)
        last = pendulum.from_timestamp(last_start, tz=self.timezone)
        if self.unit == "hours":
            return (last_start - first_start) // 3600 + 1
        if self.unit == "months":
            return (last.year - first.year) * 12 + last.month - first.month + 1
        days = (last.date() - first.date()).days
        return (days if self.unit == "days" else days // 7) + 1


def first_period_to_read(period: Period, reach: int, bounds: Iterable[Optional[int]]) -> int:
    """The first period to read: the latest of `bounds` (saved cursor, start date, parent creation),
    never before the period containing `reach` (the oldest moment the API answers). After the
    current period (a saved cursor from the future) it means there is nothing to read."""
    return max(period.floor(bound) for bound in (reach, *bounds) if isinstance(bound, int))


@dataclass(frozen=True)
class MetricsApi:
    """One generation of the metrics endpoints: how to ask for a window and where its arrays start."""

    version: int

    def reach(self, period: Period, now: int) -> int:
        """The oldest moment a request sent at `now` can be answered for."""
        if self.version == 2:
            return period.shift(period.floor(now), -(V2_MAX_PERIODS[period.unit] - 1))
        # The `steps` end at the API's clock, known only from the answer: `within` drops what it
        # does not reach, so the connector's clock must not cut the window here.
        return HISTORY_START

    def params(self, period: Period, since: int, now: int) -> Dict[str, Any]:
        if self.version == 2:
            return {"version": 2, "res": period.unit, "tz": period.timezone, "start": since, "end": now}
        # One step more than the connector's clock needs: the API's may already be in the next
        # period. The API wants at least 2 steps; rows before `since` are dropped after the read.
        steps = period.count(since, period.floor(now)) + 1
        return {"period": period.unit, "steps": min(max(steps, 2), V1_MAX_STEPS[period.unit])}

    def unread(self, period: Period, since: int, first_answered: int) -> Optional[Tuple[int, int]]:
        """The first and last period starts from `since` that an answer starting at `first_answered`
        leaves out (version 1 answers only its last `steps` periods), or None."""
        if first_answered <= period.floor(since):
            return None
        return period.floor(since), period.shift(first_answered, -1)

    def first_period(self, period: Period, since: int, answered: int, length: int) -> int:
        """The start of the oldest period of an array of `length` values answered at `answered`."""
        if self.version == 2:
            return period.floor(since)
        return period.shift(period.floor(answered), -(length - 1))


def iso_date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


VERSION_1 = MetricsApi(1)
VERSION_2 = MetricsApi(2)


def series_of(node: Any) -> MetricSeries:
    """The {name: [values]} of a metrics object, whether it arrives as {"metric": {"series": ...}}
    (the spec) or {"series": {"series": ...}} (what ingestr reads); names without an array are skipped."""
    if not isinstance(node, Mapping):
        return {}
    for wrapper in ("metric", "series"):
        inner = node.get(wrapper)
        if isinstance(inner, Mapping) and isinstance(inner.get("series"), Mapping):
            return {name: values for name, values in inner["series"].items() if isinstance(values, list)}
    return {}


def series_rows(series: MetricSeries, period: Period, first_period: Callable[[int], int]) -> List[Dict[str, Any]]:
    """One row per period, oldest first: {"period_start": ..., <name>: value, ...}.

    `first_period(length)` places each array; arrays of different lengths are placed one by one,
    so a metric missing from a period is missing from its row.
    """
    rows: Dict[int, Dict[str, Any]] = {}
    for name, values in series.items():
        for period_start, value in zip(period.starts(first_period(len(values)), len(values)), values, strict=True):
            rows.setdefault(period_start, {"period_start": period_start})[name] = value
    return [rows[key] for key in sorted(rows)]


def link_rows(body: Any, rows_of: Callable[[MetricSeries], List[Dict[str, Any]]]) -> List[Dict[str, Any]]:
    """The rows of a links-metrics body, {"links": [{"link": {"id", "href"}, "metric": {"series"}}]},
    each with the link's `link_id` and `href`; entries without a link object are skipped."""
    links = body.get("links") if isinstance(body, Mapping) else None
    rows: List[Dict[str, Any]] = []
    for entry in links or ():
        if not isinstance(entry, Mapping) or not isinstance(entry.get("link"), Mapping):
            continue
        link = {"link_id": entry["link"].get("id"), "href": entry["link"].get("href")}
        rows.extend({**row, **link} for row in rows_of(series_of(entry)))
    return rows


def within(rows: Iterable[MutableMapping[str, Any]], since: int, last_start: int) -> List[MutableMapping[str, Any]]:
    """The rows whose period lies in the read window (version 1 may answer older periods, and an
    answer may run past the current period)."""
    return [row for row in rows if since <= row["period_start"] <= last_start]
