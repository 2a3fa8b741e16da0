"""API-triggered broadcasts, their actions (message variants) and their triggers."""

from typing import Any, MutableMapping

from source_customerio.streams.base import (
    ClientSideIncrementalMixin,
    CursorPaginatedStream,
    CustomerioStream,
    SubstreamMixin,
)
from source_customerio.streams.records import integer_ids


def nil_tags_as_null(record: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """The API can send `"tags": "nil"` (a leaked Ruby nil) where a list belongs: emit null instead."""
    if record.get("tags") == "nil":
        record["tags"] = None
    return record


class Broadcasts(ClientSideIncrementalMixin, CustomerioStream):
    """GET /v1/broadcasts: the whole list in one response; incremental on `updated`, filtered here."""

    data_field = "broadcasts"
    path_template = "broadcasts"
    cursor_field = "updated"

    def transform(self, record):
        return nil_tags_as_null(record)


class BroadcastActions(SubstreamMixin, ClientSideIncrementalMixin, CursorPaginatedStream):
    """GET /v1/broadcasts/{id}/actions: the actions of each broadcast, following `next` as campaign
    actions do (the reference declares no paging; Airbyte's connector follows `next` here too)."""

    primary_key = ["broadcast_id", "id"]
    data_field = "actions"
    path_template = "broadcasts/{broadcast_id}/actions"
    parent = Broadcasts
    slice_field = "broadcast_id"
    cursor_field = "updated"

    def transform(self, record):
        return integer_ids(record, ("id", "broadcast_id", "from_id", "reply_to_id"))


class BroadcastTriggers(SubstreamMixin, CustomerioStream):
    """GET /v1/broadcasts/{id}/triggers: each time a broadcast was triggered through the API."""

    data_field = "triggers"
    path_template = "broadcasts/{broadcast_id}/triggers"
    parent = Broadcasts
    slice_field = "broadcast_id"
