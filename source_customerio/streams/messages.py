"""Messages (deliveries): every message Customer.io created for a person, with its metrics."""

from typing import Any, Iterable, Mapping, Optional

from source_customerio import windows
from source_customerio.streams.base import CursorPaginatedStream
from source_customerio.sync_state import SeriesName


class Messages(CursorPaginatedStream):
    """GET /v1/messages: 1000 per page, newest first, in creation-time windows, one series per channel.

    Keyed on the delivery `id` (`deduplicate_id` changes whenever a metric is recorded).
    Incremental on `created`: a channel's cursor is the end of its last completely read window;
    each sync starts `messages.lookback_days` before it, because opens and clicks arrive late.
    """

    data_field = "messages"
    path_template = "messages"
    page_size = 1000
    cursor_field = "created"
    state_per_series = True
    checkpoint_every_slice = True
    checkpoint_from_records = False
    long_chain = True

    def partitions(self) -> Iterable[Mapping[str, Any]]:
        config = self.context.config
        now = windows.current_time()
        for channel in config.message_types or (None,):
            start = windows.first_window_start(
                config.start_date, self.saved_cursor(channel), config.messages_lookback_days
            )
            for start_ts, end_ts in windows.windows(start, now):
                yield {"type": channel, "start_ts": start_ts, "end_ts": end_ts}

    def slice_params(self, stream_slice: Mapping[str, Any]) -> Mapping[str, Any]:
        # A slice is the API's own filter: type (None: every channel), start_ts, end_ts.
        return {name: value for name, value in stream_slice.items() if value is not None}

    def series_of(self, stream_slice: Mapping[str, Any]) -> SeriesName:
        return stream_slice.get("type")

    def checkpoint(self, series: SeriesName, stream_slice: Mapping[str, Any], newest_seen: Optional[int]) -> int:
        return stream_slice["end_ts"]  # the end of the newest window read completely
