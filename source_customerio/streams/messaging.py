"""Messaging settings: sender identities, snippets and reporting webhooks."""

from functools import cached_property
from typing import Any, FrozenSet, Iterable, Mapping
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
    """GET /v1/sender_identities without `hidden`: the visible senders. Not a stream of its own; the
    listing `SenderIdentities` reads once per sync, through the parent cache, to tell which are hidden."""

    name = "sender_identities"  # the schema and the log name are the stream's own
    data_field = "sender_identities"
    path_template = "sender_identities"
    page_size = 100


class SenderIdentities(VisibleSenderIdentities):
    """Every sender once, with `hidden`, from two listings merged by `id`: without `hidden` (the
    visible senders) and with `hidden=true`. The reference says `hidden=true` adds hidden senders to
    the visible ones; live, it returned only the hidden ones. Either way a sender is hidden when it
    is not in the visible listing, so the hidden listing's slice keeps only those."""

    carried_slice_fields = ("hidden",)

    def partitions(self) -> Iterable[Mapping[str, Any]]:
        return [{"hidden": False}, {"hidden": True}]

    def slice_params(self, stream_slice: Mapping[str, Any]) -> Mapping[str, Any]:
        return {"hidden": "true"} if stream_slice.get("hidden") else {}

    def keep(self, record: Mapping[str, Any], stream_slice: Mapping[str, Any]) -> bool:
        return not stream_slice.get("hidden") or record.get("id") not in self.visible_sender_ids

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
