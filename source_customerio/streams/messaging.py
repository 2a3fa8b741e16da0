"""Messaging settings: sender identities, snippets and reporting webhooks."""

from functools import cached_property
from typing import Any, FrozenSet, Mapping, MutableMapping
from urllib.parse import urlsplit, urlunsplit

from source_customerio.streams.base import ClientSideIncrementalMixin, CursorPaginatedStream, CustomerioStream


def without_credentials(url: Any) -> Any:
    """`https://user:password@host/path` → `https://host/path`: never copy secrets into the destination."""
    if not isinstance(url, str) or "@" not in url:
        return url
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


class VisibleSenderIdentities(CursorPaginatedStream):
    """GET /v1/sender_identities without `hidden`: the visible senders only. Not a stream of its own;
    read once per sync, through the parent cache, to tell which senders are hidden."""

    name = "sender_identities"  # the schema and the log name are the stream's own
    data_field = "sender_identities"
    path_template = "sender_identities"
    page_size = 100


class SenderIdentities(VisibleSenderIdentities):
    """GET /v1/sender_identities?hidden=true: every sender once. `hidden=true` includes hidden senders
    besides the visible ones and records carry no flag, so `hidden` is "not in the visible listing".
    `next` keeps coming after the last page; the empty page ends the listing."""

    fixed_params = {"hidden": "true"}

    def transform(self, record: MutableMapping[str, Any]) -> Mapping[str, Any]:
        record["hidden"] = record.get("id") not in self.visible_sender_ids
        return record

    @cached_property
    def visible_sender_ids(self) -> FrozenSet[Any]:
        return frozenset(
            sender.get("id") for sender in self.context.parents.records(VisibleSenderIdentities, self.context)
        )


class Snippets(ClientSideIncrementalMixin, CustomerioStream):
    """GET /v1/snippets: reusable content, keyed on its unique `name` (snippets have no id)."""

    primary_key = "name"
    data_field = "snippets"
    path_template = "snippets"
    cursor_field = "updated_at"


class ReportingWebhooks(CustomerioStream):
    """GET /v1/reporting_webhooks: webhook settings; credentials in endpoint URLs are stripped."""

    data_field = "reporting_webhooks"
    path_template = "reporting_webhooks"

    def transform(self, record):
        record["endpoint"] = without_credentials(record.get("endpoint"))
        return record
