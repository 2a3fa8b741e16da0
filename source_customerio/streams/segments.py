"""Segments and the people in them."""

from source_customerio.streams.base import CursorPaginatedStream, CustomerioStream, SubstreamMixin


class Segments(CustomerioStream):
    """GET /v1/segments: the whole list in one response."""

    data_field = "segments"
    path_template = "segments"


class SegmentMembers(SubstreamMixin, CursorPaginatedStream):
    """GET /v1/segments/{id}/membership: up to 30000 people per page, keyed on cio_id."""

    primary_key = ["segment_id", "cio_id"]
    data_field = "identifiers"
    path_template = "segments/{segment_id}/membership"
    page_size = 30000
    parent = Segments
    slice_field = "segment_id"
