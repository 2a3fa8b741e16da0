"""Newsletters (the UI's broadcasts / one-time sends)."""

from source_customerio.streams.base import ClientSideIncrementalMixin, CursorPaginatedStream


class Newsletters(ClientSideIncrementalMixin, CursorPaginatedStream):
    """GET /v1/newsletters: 100 per page; incremental on `updated`, filtered here."""

    data_field = "newsletters"
    path_template = "newsletters"
    page_size = 100
    cursor_field = "updated"
