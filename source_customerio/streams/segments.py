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


class SegmentUsage(SubstreamMixin, CustomerioStream):
    """GET /v1/segments/{id}/used_by: one record per segment listing the campaigns and newsletters using it."""

    primary_key = "segment_id"
    path_template = "segments/{segment_id}/used_by"
    parent = Segments
    slice_field = "segment_id"

    def extract_records(self, body):
        return [body] if body else []
