"""Messaging settings: sender identities, snippets and reporting webhooks."""

from typing import Any, Iterable, Mapping, MutableMapping
from urllib.parse import urlsplit, urlunsplit

from airbyte_cdk.models import SyncMode

from source_customerio.streams.base import ClientSideIncrementalMixin, CursorPaginatedStream, CustomerioStream


def without_credentials(url: Any) -> Any:
    """`https://user:password@host/path` → `https://host/path`: never copy secrets into the destination."""
    if not isinstance(url, str) or "@" not in url:
        return url
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


class SenderIdentities(CursorPaginatedStream):
    """GET /v1/sender_identities: the visible list, then the hidden one (the default listing omits
    hidden senders). `next` keeps coming after the last page; the empty page ends the listing."""

    data_field = "sender_identities"
    path_template = "sender_identities"
    page_size = 100
    carried_slice_fields = ("hidden",)

    def partitions(self, sync_mode: SyncMode, stream_state: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
        return [{"hidden": False}, {"hidden": True}]

    def request_params(self, *, stream_state=None, stream_slice=None, next_page_token=None) -> MutableMapping[str, Any]:
        params = super().request_params(
            stream_state=stream_state, stream_slice=stream_slice, next_page_token=next_page_token
        )
        return {**params, "hidden": str(stream_slice["hidden"]).lower()}


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
