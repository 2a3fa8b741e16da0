"""Messages (deliveries): every message Customer.io created for a person, with its metrics."""

from typing import Any, Iterable, Mapping

from airbyte_cdk.models import SyncMode

from source_customerio import windows
from source_customerio.streams.base import CursorPaginatedStream
from source_customerio.streams.series import SeriesStateMixin


class Messages(SeriesStateMixin, CursorPaginatedStream):
    """GET /v1/messages: 1000 per page, newest first, in creation-time windows, one series per channel.

    Keyed on the delivery `id` (`deduplicate_id` changes whenever a metric is recorded).
    Incremental on `created`: a channel's cursor is the end of its last completely read window;
    each sync starts `messages.lookback_days` before it, because opens and clicks arrive late.
    """

    data_field = "messages"
    path_template = "messages"
    page_size = 1000
    cursor_field = "created"

    def partitions(self, sync_mode: SyncMode, stream_state: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
        config = self.context.config
        now = windows.current_time()
        for channel in config.message_types or (None,):
            cursor = self.saved_cursor(stream_state, channel) if sync_mode == SyncMode.incremental else None
            start = windows.first_window_start(config.start_date, cursor, config.messages_lookback_days)
            for start_ts, end_ts in windows.windows(start, now):
                yield {"type": channel, "start_ts": start_ts, "end_ts": end_ts}

    def slice_params(self, stream_slice: Mapping[str, Any]) -> Mapping[str, Any]:
        # A slice is the API's own filter: type (None: every channel), start_ts, end_ts.
        return {name: value for name, value in stream_slice.items() if value is not None}

    def slice_complete(self, stream_slice: Mapping[str, Any]) -> None:
        self.advance(stream_slice["type"], stream_slice["end_ts"])
