"""Activities: what Customer.io recorded about people (events, attribute changes, messages, objects).

Two output modes (`activities.mode`): SINGLE_TABLE is one stream `activities_all` with `data` as
a JSON object; PARSED_DATA is one stream per selected type with `data` flattened into columns
(names and columns: see `source_customerio.activity_records`).
"""

import threading
from typing import Any, Dict, Iterable, List, Mapping, MutableMapping, Optional, Set, Tuple
from urllib.parse import parse_qs, urlsplit

import requests
from airbyte_cdk.sources.utils.schema_helpers import ResourceSchemaLoader
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_customerio import activity_records, windows
from source_customerio.config import ConfigError
from source_customerio.people_changes import moment
from source_customerio.responses import json_body
from source_customerio.streams.audience import ObjectTypes
from source_customerio.streams.base import CursorPaginatedStream, StreamContext
from source_customerio.sync_state import SeriesName


class ActivitiesStream(CursorPaginatedStream):
    """GET /v1/activities: 100 per page, about 30 days kept; one series per type.

    Incremental on `timestamp` per type (the API has no time filter and documents no order): once
    a series' pages have shown it newest first, paging stops after the first page that is wholly
    older than the type's cursor less `activities.lookback_minutes` (an activity can be recorded well
    after its timestamp), or than `start_date`; otherwise every page is read.
    The records of every page read are emitted, so a restart re-reads the pages back to that bound.

    With `include_deleted`, each type is read twice, without `deleted` and with `deleted=true`, and
    merged by id: right whether `deleted=true` adds deleted people's activities or returns only
    theirs (the reference says neither). A type's cursor is saved after all its series were read.
    """

    data_field = "activities"
    path_template = "activities"
    page_size = 100
    cursor_field = "timestamp"
    state_per_series = True
    long_chain = True

    def __init__(self, context: StreamContext, activity_types: Tuple[Optional[str], ...]):
        self.activity_types = activity_types
        self._page_orders: Dict[Tuple[Optional[str], bool], activity_records.PageOrder] = {}
        self._emitted_ids: Dict[Optional[str], Set[Any]] = {}  # per type, while its series overlap
        self._merge_lock = threading.Lock()
        super().__init__(context)

    @property
    def deleted_readings(self) -> Tuple[bool, ...]:
        return (False, True) if self.context.config.include_deleted_activities else (False,)

    def types_to_read(self) -> Tuple[Optional[str], ...]:
        """The types read as series of their own (None: every type in one series)."""
        return self.activity_types

    def partitions(self) -> Iterable[Mapping[str, Any]]:
        types = self.types_to_read()
        self.warn_of_horizon(types)
        return [
            {"type": activity_type, "deleted": deleted} for activity_type in types for deleted in self.deleted_readings
        ]

    def warn_of_horizon(self, types: Iterable[SeriesName]) -> None:
        """Say which range may be lost when a saved cursor is older than the 30 days the log keeps."""
        now = windows.current_time()
        for activity_type in types:
            gap = activity_records.beyond_horizon(self.saved_cursor_of(activity_type), now)
            if gap is not None:
                which = "every type" if activity_type is None else f"type {activity_type}"
                self.logger.warning(
                    f"Stream `{self.name}`: the saved cursor of {which} is {moment(gap[0])}, but Customer.io keeps "
                    f"activities for 30 days only: those from {moment(gap[0])} to {moment(gap[1])} may no longer be "
                    "listed, and so may be missing from the destination. Sync at least every few weeks."
                )

    def saved_cursor_of(self, activity_type: SeriesName) -> Optional[int]:
        """A type's saved cursor; a type read on its own for the first time goes back to the cursor of
        every type read as one series, when the last sync read them so."""
        saved = self.saved_cursor(activity_type)
        return self.saved_cursor(None) if saved is None and activity_type is not None else saved

    def series_of(self, stream_slice: Mapping[str, Any]) -> SeriesName:
        return stream_slice.get("type")

    def slice_params(self, stream_slice: Mapping[str, Any]) -> Mapping[str, Any]:
        return {
            **({"deleted": "true"} if stream_slice.get("deleted") else {}),
            **({"type": stream_slice["type"]} if stream_slice.get("type") is not None else {}),
        }

    def next_page_token(self, response: requests.Response) -> Optional[Mapping[str, Any]]:
        if response.status_code != 200:
            return None
        records = self.extract_records(json_body(response))
        activity_type, deleted = series_of_request(response.request.url or "")
        # Each series is read once per sync, on one thread: its order is learned from its own pages.
        order = self._page_orders.setdefault((activity_type, deleted), activity_records.PageOrder())
        order.observe(records, self.cursor_field)
        if order.newest_first and activity_records.page_is_older(records, self.stop_bound(activity_type)):
            return None
        return super().next_page_token(response)

    def stop_bound(self, activity_type: SeriesName) -> Optional[int]:
        """The timestamp a newest-first series' pages need not go below (None: read every page)."""
        config = self.context.config
        return activity_records.stop_bound(
            self.saved_cursor_of(activity_type), config.start_date, config.activities_lookback_minutes * 60
        )

    def keep(self, record: Mapping[str, Any], stream_slice: Mapping[str, Any]) -> bool:
        start_date = self.context.config.start_date
        stamp = record.get(self.cursor_field)
        if not (start_date is None or not isinstance(stamp, int) or stamp >= start_date):
            return False
        return len(self.deleted_readings) == 1 or self.first_time_seen(record, stream_slice.get("type"))

    def first_time_seen(self, record: Mapping[str, Any], activity_type: SeriesName) -> bool:
        """Merge a type's series by id: whichever series lists an activity first emits it."""
        with self._merge_lock:
            seen = self._emitted_ids.setdefault(activity_type, set())
            if record.get("id") in seen:
                return False
            seen.add(record.get("id"))
            return True

    def checkpoint(
        self, series: SeriesName, stream_slice: Mapping[str, Any], newest_seen: Optional[int]
    ) -> Optional[int]:
        with self._merge_lock:  # every series of the type is read: its ids are no longer needed
            self._emitted_ids.pop(series, None)
        return newest_seen


class ActivitiesAll(ActivitiesStream):
    """SINGLE_TABLE: every selected type (or every type) in one stream, `data` as a JSON object.

    Every type is one series of pages, one after another, unless `activities.read_by_type`: then each
    type Customer.io documents, each object type's object and relationship types, and any other type
    on the newest page of the log, is a series of its own, read at once with the others.
    """

    def types_to_read(self) -> Tuple[Optional[str], ...]:
        if self.activity_types != (None,) or not self.context.config.activities_read_by_type:
            return self.activity_types
        newest_page = NewestPage(self.context, (None,)).records_outside_a_sync({"type": None, "deleted": False})
        seen = [record.get("type") for record in newest_page]
        return activity_records.types_to_read(self.object_type_ids(), seen)

    def object_type_ids(self) -> List[str]:
        try:
            return [str(kind["id"]) for kind in self.context.parents.records(ObjectTypes, self.context)]
        except AirbyteTracedException as error:  # a key without the objects scope reads the other types
            self.logger.warning(
                f"Stream `{self.name}`: the object types could not be read ({error.message}); object and "
                "relationship activities are read only where their type is on the newest page of the log."
            )
            return []


class NewestPage(ActivitiesAll):
    """The newest page of the whole log, to find types the reference does not list."""

    def next_page_token(self, response: requests.Response) -> Optional[Mapping[str, Any]]:
        return None


class ParsedActivities(ActivitiesStream):
    """PARSED_DATA: one type per stream, `data` flattened into `data_*` columns learned at discover."""

    def __init__(self, context: StreamContext, activity_type: str):
        self.activity_type = activity_type
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
            first_page = FirstParsedPage(self.context, self.activity_type)
            sample = list(first_page.records_outside_a_sync({"type": self.activity_type}))
            schema["properties"].update(activity_records.learned_columns(sample))
            self._schema = schema
        return self._schema


class FirstParsedPage(ParsedActivities):
    """The first page of one type, flattened, to learn the type's columns from."""

    def next_page_token(self, response: requests.Response) -> Optional[Mapping[str, Any]]:
        return None


def series_of_request(url: str) -> Tuple[Optional[str], bool]:
    """The (type, deleted) series a request reads, from its query string."""
    query = parse_qs(urlsplit(url).query)
    return query.get("type", [None])[0], query.get("deleted", [""])[0] == "true"


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
