"""Activities: what Customer.io recorded about people (events, attribute changes, messages, objects).

Two output modes (`activities.mode`): SINGLE_TABLE is one stream `activities_all` with `data` as
a JSON object; PARSED_DATA is one stream per selected type with `data` flattened into columns
(names and columns: see `source_customerio.activity_records`).
"""

from typing import Any, Iterable, List, Mapping, MutableMapping, Optional, Tuple

import requests
from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources.utils.schema_helpers import ResourceSchemaLoader

from source_customerio import activity_records
from source_customerio.config import ConfigError
from source_customerio.errors import json_body
from source_customerio.streams.base import CursorPaginatedStream, StreamContext
from source_customerio.streams.series import SeriesStateMixin

# Activities can be recorded a little after their timestamp; re-read this much before the cursor.
LATE_MARGIN_SECONDS = 3600


class ActivitiesStream(SeriesStateMixin, CursorPaginatedStream):
    """GET /v1/activities: 100 per page, newest first, about 30 days kept; one series per type.

    Incremental on `timestamp` per type (the API has no time filter): paging stops after the first
    page that is wholly older than the type's cursor less an hour, or than `start_date`. The
    records of every page read are emitted, so a restart re-reads the pages back to that bound.
    A type's cursor is saved after its whole series was read.
    """

    data_field = "activities"
    path_template = "activities"
    page_size = 100
    cursor_field = "timestamp"

    def __init__(self, context: StreamContext, activity_types: Tuple[Optional[str], ...]):
        self.activity_types = activity_types
        self._newest_in_series: Optional[int] = None
        super().__init__(context)

    def partitions(self, sync_mode: SyncMode, stream_state: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
        return [{"type": activity_type} for activity_type in self.activity_types]

    def request_params(self, *, stream_state=None, stream_slice=None, next_page_token=None) -> MutableMapping[str, Any]:
        params = super().request_params(
            stream_state=stream_state, stream_slice=stream_slice, next_page_token=next_page_token
        )
        params["deleted"] = "true" if self.context.config.include_deleted_activities else "false"
        if stream_slice.get("type") is not None:
            params["type"] = stream_slice["type"]
        return params

    def next_page_token(self, response: requests.Response) -> Optional[Mapping[str, Any]]:
        stream_slice = self.reading_slice
        if response.status_code != 200 or stream_slice.get("sample"):
            return None
        saved = self.saved_cursor(self.reading_state, stream_slice.get("type"))
        bound = activity_records.stop_bound(saved, self.context.config.start_date, LATE_MARGIN_SECONDS)
        if activity_records.page_is_older(self.extract_records(json_body(response)), bound, self.cursor_field):
            return None
        return super().next_page_token(response)

    def keep(self, record: Mapping[str, Any], stream_state: Mapping[str, Any]) -> bool:
        start_date = self.context.config.start_date
        stamp = record.get(self.cursor_field)
        return start_date is None or not isinstance(stamp, int) or stamp >= start_date

    def observe(self, record: Mapping[str, Any]) -> None:
        stamp = record.get(self.cursor_field)
        if isinstance(stamp, int) and (self._newest_in_series is None or stamp > self._newest_in_series):
            self._newest_in_series = stamp

    def slice_complete(self, stream_slice: Mapping[str, Any]) -> None:
        self.advance(stream_slice.get("type"), self._newest_in_series)
        self._newest_in_series = None


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

    def get_json_schema(self) -> Mapping[str, Any]:
        # The CDK asks for the schema once per record: learn it once, from one page of this type.
        if self._schema is None:
            schema = ResourceSchemaLoader("source_customerio").get_schema(activity_records.SINGLE_TABLE_STREAM)
            del schema["properties"][activity_records.DATA_PREFIX]
            sample = self.read_slice_once({"type": self.activity_types[0], "sample": True})
            schema["properties"].update(activity_records.learned_columns(sample))
            self._schema = schema
        return self._schema


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
