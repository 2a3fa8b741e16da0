"""Activities: what Customer.io recorded about people (events, attribute changes, messages, objects).

Two output modes (`activities.mode`): SINGLE_TABLE is one stream `activities_all` with `data` as
a JSON object; PARSED_DATA is one stream per selected type with `data` flattened into columns
(names and columns: see `source_customerio.activity_records`).
"""

import threading
from typing import Any, Dict, Iterable, List, Mapping, MutableMapping, Optional, Set, Tuple

import requests
from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources.utils.schema_helpers import ResourceSchemaLoader

from source_customerio import activity_records
from source_customerio.config import ConfigError
from source_customerio.responses import json_body
from source_customerio.streams.base import CursorPaginatedStream, StreamContext
from source_customerio.streams.series import SeriesStateMixin

# Activities can be recorded a little after their timestamp; re-read this much before the cursor.
LATE_MARGIN_SECONDS = 3600


class ActivitiesStream(SeriesStateMixin, CursorPaginatedStream):
    """GET /v1/activities: 100 per page, about 30 days kept; one series per type.

    Incremental on `timestamp` per type (the API has no time filter and documents no order): once
    a series' pages have shown it newest first, paging stops after the first page that is wholly
    older than the type's cursor less an hour, or than `start_date`; otherwise every page is read.
    The records of every page read are emitted, so a restart re-reads the pages back to that bound.

    With `include_deleted`, each type is read twice, without `deleted` and with `deleted=true`, and
    merged by id: right whether `deleted=true` adds deleted people's activities or returns only
    theirs (the reference says neither). A type's cursor is saved after all its series were read.
    """

    data_field = "activities"
    path_template = "activities"
    page_size = 100
    cursor_field = "timestamp"

    def __init__(self, context: StreamContext, activity_types: Tuple[Optional[str], ...]):
        self.activity_types = activity_types
        self._newest_in_type: Optional[int] = None
        self._page_orders: Dict[Tuple[Optional[str], bool], activity_records.PageOrder] = {}
        self._emitted_ids: Dict[Optional[str], Set[Any]] = {}  # per type, while its series overlap
        self._merge_lock = threading.Lock()
        super().__init__(context)

    @property
    def deleted_readings(self) -> Tuple[bool, ...]:
        return (False, True) if self.context.config.include_deleted_activities else (False,)

    def partitions(self, sync_mode: SyncMode, stream_state: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
        return [
            {"type": activity_type, "deleted": deleted}
            for activity_type in self.activity_types
            for deleted in self.deleted_readings
        ]

    def slice_params(self, stream_slice: Mapping[str, Any]) -> Mapping[str, Any]:
        return {
            **({"deleted": "true"} if stream_slice.get("deleted") else {}),
            **({"type": stream_slice["type"]} if stream_slice.get("type") is not None else {}),
        }

    def page_params(self, next_page_token: Optional[Mapping[str, Any]]) -> Mapping[str, Any]:
        if not next_page_token:  # a series starts: nothing is known of its order yet
            self._page_orders[series_key(self.reading_slice)] = activity_records.PageOrder()
        return super().page_params(next_page_token)

    def next_page_token(self, response: requests.Response) -> Optional[Mapping[str, Any]]:
        stream_slice = self.reading_slice
        if response.status_code != 200 or stream_slice.get("sample"):
            return None
        records = self.extract_records(json_body(response))
        order = self._page_orders.setdefault(series_key(stream_slice), activity_records.PageOrder())
        order.observe(records, self.cursor_field)
        saved = self.saved_cursor(self.reading_state, stream_slice.get("type"))
        bound = activity_records.stop_bound(saved, self.context.config.start_date, LATE_MARGIN_SECONDS)
        if order.newest_first and activity_records.page_is_older(records, bound, self.cursor_field):
            return None
        return super().next_page_token(response)

    def keep(self, record: Mapping[str, Any], stream_state: Mapping[str, Any]) -> bool:
        start_date = self.context.config.start_date
        stamp = record.get(self.cursor_field)
        if not (start_date is None or not isinstance(stamp, int) or stamp >= start_date):
            return False
        return len(self.deleted_readings) == 1 or self.first_time_seen(record)

    def first_time_seen(self, record: Mapping[str, Any]) -> bool:
        """Merge a type's series by id: whichever series lists an activity first emits it."""
        with self._merge_lock:
            seen = self._emitted_ids.setdefault(self.reading_slice.get("type"), set())
            if record.get("id") in seen:
                return False
            seen.add(record.get("id"))
            return True

    def observe(self, record: Mapping[str, Any]) -> None:
        stamp = record.get(self.cursor_field)
        if isinstance(stamp, int) and (self._newest_in_type is None or stamp > self._newest_in_type):
            self._newest_in_type = stamp

    def is_last_partition(self, stream_slice: Mapping[str, Any]) -> bool:
        """Whether this slice is its type's last series."""
        return bool(stream_slice.get("deleted")) == self.deleted_readings[-1]

    def slice_complete(self, stream_slice: Mapping[str, Any]) -> None:
        if not self.is_last_partition(stream_slice):
            return
        self.advance(stream_slice.get("type"), self._newest_in_type)
        self._newest_in_type = None
        with self._merge_lock:
            self._emitted_ids.pop(stream_slice.get("type"), None)


class ActivitiesAll(ActivitiesStream):
    """SINGLE_TABLE: every selected type (or every type) in one stream, `data` as a JSON object."""


class ParsedActivities(ActivitiesStream):
    """PARSED_DATA: one type per stream, `data` flattened into `data_*` columns learned at discover."""

    def __init__(self, context: StreamContext, activity_type: str):
        self._name = activity_records.stream_name(activity_type)
        self._schema: Optional[Mapping[str, Any]] = None
        super().__init__(context, (activity_type,))

    @property
    def name(self) -> str:
        return self._name

    def transform(self, record: MutableMapping[str, Any]) -> Mapping[str, Any]:
        return activity_records.parsed_record(record)

    def get_json_schema(self) -> Mapping[str, Any]:  # type: ignore[override]  # the CDK's is this, lru-cached
        # The CDK asks for the schema once per record: learn it once, from one page of this type.
        if self._schema is None:
            schema = ResourceSchemaLoader("source_customerio").get_schema(activity_records.SINGLE_TABLE_STREAM)
            del schema["properties"][activity_records.DATA_PREFIX]
            sample = list(self.records_outside_a_sync({"type": self.activity_types[0], "sample": True}))
            schema["properties"].update(activity_records.learned_columns(sample))
            self._schema = schema
        return self._schema


def series_key(stream_slice: Mapping[str, Any]) -> Tuple[Optional[str], bool]:
    return stream_slice.get("type"), bool(stream_slice.get("deleted"))


def activity_streams(context: StreamContext) -> List[ActivitiesStream]:
    """The activities streams the configured mode asks for."""
    config = context.config
    if config.activity_mode == "SINGLE_TABLE":
        return [ActivitiesAll(context, config.activity_types or (None,))]
    collisions = activity_records.colliding_types(config.activity_types)
    if collisions:
        names = "; ".join(" and ".join(group) for group in collisions)
        raise ConfigError(
            "activities.types", f"{names} would share one stream name", "Keep only one type of each group."
        )
    return [ParsedActivities(context, activity_type) for activity_type in config.activity_types]
