"""Messages (deliveries): every message Customer.io created for a person, with its metrics."""

from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, Iterable, Iterator, List, Mapping, Optional, Tuple

from airbyte_cdk.sources.streams.http.http_client import HttpClient

from source_customerio import windows
from source_customerio.pagination import next_cursor
from source_customerio.responses import json_body
from source_customerio.streams.base import CursorPaginatedStream
from source_customerio.sync_state import SeriesName, is_unix_seconds


class Messages(CursorPaginatedStream):
    """GET /v1/messages: 1000 per page, newest first, in creation-time windows, one series per channel.

    Keyed on the delivery `id` (`deduplicate_id` changes whenever a metric is recorded).
    Incremental on `created`: a channel's cursor is the end of its last completely read window;
    each sync starts `messages.lookback_days` before it, because opens and clicks arrive late.
    Windows are sized by probing their first page, so that none is a long chain (`windows.sized_windows`);
    a window's read starts from its probe's page (`PagesInHand`).
    """

    data_field = "messages"
    path_template = "messages"
    page_size = windows.PAGE_SIZE
    cursor_field = "created"
    state_per_series = True
    checkpoint_every_slice = True
    checkpoint_from_records = False
    long_chain = True
    slices_need_requests = True  # each window's first page is probed to size it

    def partitions(self) -> Iterable[Mapping[str, Any]]:
        config = self.context.config
        now = windows.current_time()
        probes = self.probe_client()
        pool = ThreadPoolExecutor(max_workers=config.max_concurrent_requests, thread_name_prefix="messages-probe")
        try:
            # Every channel's probes are sent at once; its windows come in order, channel after channel.
            planned: List[Tuple[SeriesName, Iterator[windows.Window]]] = [
                (
                    channel,
                    windows.sized_windows(
                        windows.first_window_start(
                            config.start_date, self.saved_cursor(channel), config.messages_lookback_days
                        ),
                        now,
                        partial(self.probe, probes, channel),
                        pool,
                        planned=partial(self.keep_first_page, channel),
                    ),
                )
                for channel in config.message_types or (None,)
            ]
            for channel, channel_windows in planned:
                for window in channel_windows:
                    yield self.window_slice(channel, window)
        finally:  # also when the read stops early: probes not yet sent are not sent
            pool.shutdown(wait=True, cancel_futures=True)

    @staticmethod
    def window_slice(channel: Optional[str], window: windows.Window) -> Mapping[str, Any]:
        return {"type": channel, "start_ts": window[0], "end_ts": window[1]}

    def probe_client(self) -> HttpClient:
        """A client for the probes, with the stream's key, rate budget, error table and backoff."""
        return HttpClient(
            name=self.name,
            logger=self.logger,
            error_handler=self.get_error_handler(),
            api_budget=self.context.budget,
            authenticator=self.context.authenticator,
            backoff_strategy=self.get_backoff_strategy(),
        )

    def probe(self, client: HttpClient, channel: SeriesName, window: windows.Window) -> windows.Probe:
        """The first page of a window, as its read asks for it: the `created` of its deliveries, and
        whether a `next` page follows."""
        stream_slice = self.window_slice(channel, window)
        request, response = client.send_request(
            "GET",
            f"{self.url_base}{self.path(stream_slice=stream_slice)}",
            request_kwargs=self.request_kwargs(stream_state=None),
            params=self.request_params(stream_state=None, stream_slice=stream_slice),
        )
        body = json_body(response)
        created = [record.get("created") for record in self.extract_records(body)]
        more = next_cursor(body, None) is not None
        return windows.Probe([value for value in created if is_unix_seconds(value)], more, (request, response))

    def keep_first_page(self, channel: SeriesName, window: windows.Window, probe: windows.Probe) -> None:
        """A window's probe is its first page: its read starts from it, when there is room to keep it."""
        self.pages_in_hand.keep(self.window_slice(channel, window), probe.page)

    def slice_params(self, stream_slice: Mapping[str, Any]) -> Mapping[str, Any]:
        # A slice is the API's own filter: type (None: every channel), start_ts, end_ts.
        return {name: value for name, value in stream_slice.items() if value is not None}

    def series_of(self, stream_slice: Mapping[str, Any]) -> SeriesName:
        return stream_slice.get("type")

    def checkpoint(self, series: SeriesName, stream_slice: Mapping[str, Any], newest_seen: Optional[int]) -> int:
        return stream_slice["end_ts"]  # the end of the newest window read completely
