"""Newsletters (the UI's broadcasts / one-time sends)."""

from source_customerio.streams.base import (
    ClientSideIncrementalMixin,
    CursorPaginatedStream,
    CustomerioStream,
    SubstreamMixin,
)


class Newsletters(ClientSideIncrementalMixin, CursorPaginatedStream):
    """GET /v1/newsletters: 100 per page; incremental on `updated`, filtered here."""

    data_field = "newsletters"
    path_template = "newsletters"
    page_size = 100
    cursor_field = "updated"
    long_chain = True  # one chain of pages, which the newsletter substreams wait for


class NewsletterContents(SubstreamMixin, CustomerioStream):
    """GET /v1/newsletters/{id}/contents: the variants (A/B tests, languages) of each newsletter."""

    primary_key = ["newsletter_id", "id"]
    data_field = "contents"
    path_template = "newsletters/{newsletter_id}/contents"
    parent = Newsletters
    slice_field = "newsletter_id"


class NewsletterTestGroups(SubstreamMixin, CustomerioStream):
    """GET /v1/newsletters/{id}/test_groups: the A/B test groups of each newsletter (ids count from 0
    per newsletter)."""

    primary_key = ["newsletter_id", "id"]
    data_field = "test_groups"
    path_template = "newsletters/{newsletter_id}/test_groups"
    parent = Newsletters
    slice_field = "newsletter_id"
