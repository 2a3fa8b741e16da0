"""Delivery metrics of campaigns, newsletters and broadcasts: one row per parent per period.

Incremental on `period_start`. The state is the start of the last period that was complete when the
previous sync began; a sync reads from there, so it reads that period and the then-current one
again (late events still change them) and moves the state only after its last parent is read.
A saved period in the future reads nothing. Each parent is read from its creation (and from
`start_date`), as far back as the API reaches: 10 years with version 2, the `steps` caps with version 1.
Requests are built on the connector's clock; answers are read on the API's (the responses' `Date`).
"""

import threading
from abc import ABC
from functools import partial
from typing import Any, Dict, Iterable, List, Mapping, MutableMapping, Optional, Tuple, Type

import requests

from source_customerio import windows
from source_customerio.metrics import (
    V1_MAX_STEPS,
    VERSION_1,
    VERSION_2,
    MetricsApi,
    Period,
    first_period_to_read,
    iso_date,
    link_rows,
    series_of,
    series_rows,
    within,
)
from source_customerio.responses import answered_at, json_body
from source_customerio.streams.base import CustomerioStream, StreamContext
from source_customerio.streams.broadcasts import BroadcastActions, Broadcasts
from source_customerio.streams.campaigns import CampaignActions, Campaigns
from source_customerio.streams.newsletters import Newsletters
from source_customerio.streams.records import integer_ids
from source_customerio.sync_state import SeriesName


class MetricsStream(CustomerioStream, ABC):
    """One request per parent for the window since the saved period; leaves declare the endpoint.

    `parent_ids` maps slice fields (carried into rows) to the parent record's fields. With
    `by_link`, the endpoint answers per link and rows also carry `link_id` and `href`.
    """

    cursor_field = "period_start"
    checkpoint_from_records = False  # the period the sync began in, not the rows
    ignore_missing_parent = True
    api: MetricsApi
    parent: Type[CustomerioStream]
    parent_ids: Mapping[str, str]
    by_link = False

    def __init__(self, context: StreamContext):
        super().__init__(context)
        self.period = Period(context.config.metrics_period)
        self._first_answer: Optional[int] = None  # the earliest of this sync's, set by every reading thread
        self._first_answer_lock = threading.Lock()
        self._unread: Dict[str, Tuple[int, int]] = {}  # parent → the periods version 1 could not reach

    @property
    def carried_slice_fields(self) -> Tuple[str, ...]:
        return tuple(self.parent_ids)

    def partitions(self) -> Iterable[Mapping[str, Any]]:
        now = windows.current_time()
        self._first_answer = None
        saved = self.saved_cursor()
        reach = self.api.reach(self.period, now)
        slices: List[Dict[str, Any]] = []
        for parent in self.context.parents.records(self.parent, self.context):
            since = first_period_to_read(
                self.period, reach, (saved, self.context.config.start_date, parent.get("created"))
            )
            if since <= self.period.floor(now):  # else the saved period is in the future: nothing to read
                slices.append({**{name: parent.get(field) for name, field in self.parent_ids.items()}, "since": since})
        return slices

    def checkpoint(self, series: SeriesName, stream_slice: Mapping[str, Any], newest_seen: Optional[int]) -> int:
        # Reached once every parent is read: an interrupted sync keeps the old cursor. "When the sync
        # began" is on the API's clock (its first answer), like the periods the answers were placed
        # in: on the connector's, a clock ahead of the API's would move the state past unread periods.
        self.warn_of_unread_periods()
        began = self._first_answer if self._first_answer is not None else windows.current_time()
        return self.period.shift(self.period.floor(began), -1)

    def slice_params(self, stream_slice: Mapping[str, Any]) -> Mapping[str, Any]:
        return self.api.params(self.period, stream_slice["since"], windows.current_time())

    def _note_answer(self, answered: int) -> None:
        with self._first_answer_lock:
            if self._first_answer is None or answered < self._first_answer:
                self._first_answer = answered

    def warn_of_unread_periods(self) -> None:
        """Before the state moves past periods no request could reach, say which (version 1 answers only
        its last `steps` periods)."""
        if not self._unread:
            return
        first = min(start for start, _ in self._unread.values())
        last = max(end for _, end in self._unread.values())
        cap = V1_MAX_STEPS[self.period.unit]
        self.logger.warning(
            f"Stream `{self.name}`: Customer.io's version 1 metrics endpoint answers only the last {cap} "
            f"{self.period.unit}, so the periods from {iso_date(first)} to {iso_date(last)} could not be read for "
            f"{len(self._unread)} parent(s) (e.g. {next(iter(self._unread))}); the saved state moves past them. "
            f"Sync more often than every {cap} {self.period.unit} to read every period."
        )
        self._unread.clear()

    def page_records(
        self, response: requests.Response, stream_slice: Mapping[str, Any]
    ) -> List[MutableMapping[str, Any]]:
        answered = answered_at(response.headers.get("Date"), windows.current_time())
        self._note_answer(answered)
        body, since = json_body(response), stream_slice["since"]
        parent = ", ".join(f"{name} {stream_slice.get(name)}" for name in self.parent_ids)

        def first_period(length: int) -> int:
            first = self.api.first_period(self.period, since, answered, length)
            unread = self.api.unread(self.period, since, first)
            if length and unread:
                with self._first_answer_lock:
                    self._unread[parent] = unread
            return first

        rows_of = partial(series_rows, period=self.period, first_period=first_period)
        rows = (
            [integer_ids(row, ("link_id",)) for row in link_rows(body, rows_of)]
            if self.by_link
            else rows_of(series_of(body))
        )
        return [{**row, "period": self.period.unit} for row in within(rows, since, self.period.floor(answered))]


class CampaignMetrics(MetricsStream):
    """GET /v1/campaigns/{id}/metrics?version=2&res&tz&start&end."""

    primary_key = ["campaign_id", "period_start"]
    path_template = "campaigns/{campaign_id}/metrics"
    api = VERSION_2
    parent = Campaigns
    parent_ids = {"campaign_id": "id"}


class CampaignActionMetrics(MetricsStream):
    """GET /v1/campaigns/{id}/actions/{action_id}/metrics?version=2&res&tz&start&end."""

    primary_key = ["campaign_id", "action_id", "period_start"]
    path_template = "campaigns/{campaign_id}/actions/{action_id}/metrics"
    api = VERSION_2
    parent = CampaignActions
    parent_ids = {"campaign_id": "campaign_id", "action_id": "id"}


class CampaignLinkMetrics(MetricsStream):
    """GET /v1/campaigns/{id}/metrics/links?period&steps: link clicks per period."""

    primary_key = ["campaign_id", "link_id", "period_start"]
    path_template = "campaigns/{campaign_id}/metrics/links"
    api = VERSION_1
    parent = Campaigns
    parent_ids = {"campaign_id": "id"}
    by_link = True


class NewsletterMetrics(MetricsStream):
    """GET /v1/newsletters/{id}/metrics?period&steps."""

    primary_key = ["newsletter_id", "period_start"]
    path_template = "newsletters/{newsletter_id}/metrics"
    api = VERSION_1
    parent = Newsletters
    parent_ids = {"newsletter_id": "id"}


class NewsletterLinkMetrics(MetricsStream):
    """GET /v1/newsletters/{id}/metrics/links?period&steps: link clicks per period."""

    primary_key = ["newsletter_id", "link_id", "period_start"]
    path_template = "newsletters/{newsletter_id}/metrics/links"
    api = VERSION_1
    parent = Newsletters
    parent_ids = {"newsletter_id": "id"}
    by_link = True


class BroadcastMetrics(MetricsStream):
    """GET /v1/broadcasts/{id}/metrics?period&steps."""

    primary_key = ["broadcast_id", "period_start"]
    path_template = "broadcasts/{broadcast_id}/metrics"
    api = VERSION_1
    parent = Broadcasts
    parent_ids = {"broadcast_id": "id"}


class BroadcastActionMetrics(MetricsStream):
    """GET /v1/broadcasts/{id}/actions/{action_id}/metrics?period&steps."""

    primary_key = ["broadcast_id", "action_id", "period_start"]
    path_template = "broadcasts/{broadcast_id}/actions/{action_id}/metrics"
    api = VERSION_1
    parent = BroadcastActions
    parent_ids = {"broadcast_id": "broadcast_id", "action_id": "id"}
