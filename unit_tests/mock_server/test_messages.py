"""messages against a mocked API: exact window parameters for a given state, and the state emitted.

Each window is probed first with the very request that reads its first page, and its read starts from
the probe's page: every window's first request is sent once, whether the window is read or found empty."""

import json
from typing import Any, Dict, List, Optional
from unittest import TestCase
from unittest.mock import patch

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder, ConfiguredAirbyteStreamBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, read
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse
from airbyte_cdk.test.state_builder import StateBuilder

from source_customerio import SourceCustomerio
from source_customerio.windows import API_MAX_WINDOW_SECONDS, DAY

URL = "https://api.customer.io/v1/messages"
NOW = 1793491200  # 2026-11-01T00:00:00Z
START_DATE = NOW - 200 * DAY  # 2026-04-15T00:00:00Z: two spans of at most 6 months before NOW
WINDOW_1 = (START_DATE, START_DATE + API_MAX_WINDOW_SECONDS - 1)
WINDOW_2 = (START_DATE + API_MAX_WINDOW_SECONDS, NOW)


def config(**overrides: Any) -> Dict[str, Any]:
    return {
        "app_api_key": "fake-app-key",
        "start_date": "2026-04-15T00:00:00Z",
        "max_concurrent_requests": 1,
        **overrides,
    }


def window_request(window, channel: Optional[str] = "email", cursor: Optional[str] = None) -> HttpRequest:
    params = {"limit": "1000", "start_ts": str(window[0]), "end_ts": str(window[1])}
    if channel:
        params["type"] = channel
    if cursor:
        params["start"] = cursor
    return HttpRequest(URL, query_params=params)


def page(messages: List[Dict[str, Any]], next_cursor: str = "") -> HttpResponse:
    return HttpResponse(json.dumps({"messages": messages, "next": next_cursor}), 200)


def delivery(number: int, created: int) -> Dict[str, Any]:
    return {"id": f"dlv{number}", "created": created, "type": "email", "metrics": {"sent": created + 30}}


def run(cfg: Dict[str, Any], sync_mode: SyncMode, state: Optional[Dict[str, Any]] = None) -> EntrypointOutput:
    stream = ConfiguredAirbyteStreamBuilder().with_name("messages").with_sync_mode(sync_mode).with_primary_key([["id"]])
    catalog = CatalogBuilder().with_stream(stream).build()
    states = StateBuilder().with_stream_state("messages", state).build() if state else None
    with patch("source_customerio.windows.current_time", return_value=NOW):
        return read(SourceCustomerio(), cfg, catalog, states, expecting_exception=True)


def emitted_states(output: EntrypointOutput) -> List[Dict[str, Any]]:
    return [message.state.stream.stream_state.__dict__ for message in output.state_messages]


def cursors(*pairs) -> Dict[str, Any]:
    return {"states": [{"partition": {"type": channel}, "cursor": {"created": value}} for channel, value in pairs]}


class FullRefreshTest(TestCase):
    def test_given_start_date_when_read_then_windows_walked_from_it_to_now_and_pages_followed(self):
        with HttpMocker() as http:
            first = window_request(WINDOW_1)
            second_page = window_request(WINDOW_1, cursor="c2")
            last = window_request(WINDOW_2)
            http.get(first, page([delivery(3, START_DATE + 300), delivery(2, START_DATE + 200)], "c2"))
            http.get(second_page, page([delivery(1, START_DATE + 100)]))
            http.get(last, page([delivery(4, NOW - 5)]))

            output = run(config(messages={"types": ["email"]}), SyncMode.full_refresh)

            for request in (first, second_page, last):
                http.assert_number_of_calls(request, 1)
        self.assertEqual(output.errors, [])
        self.assertEqual([message.record.data["id"] for message in output.records], ["dlv3", "dlv2", "dlv1", "dlv4"])

    def test_given_no_channel_filter_when_read_then_one_series_without_type(self):
        with HttpMocker() as http:
            requests = [window_request(WINDOW_1, channel=None), window_request(WINDOW_2, channel=None)]
            for request in requests:
                http.get(request, page([]))

            output = run(config(), SyncMode.full_refresh)

            for request in requests:
                http.assert_number_of_calls(request, 1)
        self.assertEqual(output.errors, [])
        self.assertEqual(emitted_states(output), [{"__ab_no_cursor_state_message": True}])  # full refresh: no cursor

    def test_given_urban_airship_when_read_then_push_series(self):
        with HttpMocker() as http:
            requests = [window_request(WINDOW_1, "push"), window_request(WINDOW_2, "push")]
            for request in requests:
                http.get(request, page([]))

            output = run(config(messages={"types": ["urban_airship"]}), SyncMode.full_refresh)

            for request in requests:
                http.assert_number_of_calls(request, 1)
        self.assertEqual(output.errors, [])


class IncrementalTest(TestCase):
    def test_given_no_state_when_read_then_state_after_each_window_per_channel(self):
        with HttpMocker() as http:
            for channel in ("email", "push"):
                http.get(window_request(WINDOW_1, channel), page([delivery(1, START_DATE + 100)]))
                http.get(window_request(WINDOW_2, channel), page([]))

            output = run(config(messages={"types": ["email", "push"]}), SyncMode.incremental)

        self.assertEqual(output.errors, [])
        self.assertEqual(
            emitted_states(output),
            [
                cursors(("email", WINDOW_1[1])),
                cursors(("email", NOW)),
                cursors(("email", NOW), ("push", WINDOW_1[1])),
                cursors(("email", NOW), ("push", NOW)),
            ],
        )

    def test_given_state_when_read_then_each_channel_starts_lookback_days_before_its_cursor(self):
        email_cursor = NOW - 3 * DAY
        with HttpMocker() as http:
            email = window_request((email_cursor - 10 * DAY, NOW), "email")
            push = [
                window_request(WINDOW_1, "push"),
                window_request(WINDOW_2, "push"),
            ]  # no cursor yet: from start_date
            http.get(email, page([delivery(7, NOW - DAY)]))
            for request in push:
                http.get(request, page([]))

            output = run(
                config(messages={"types": ["email", "push"], "lookback_days": 10}),
                SyncMode.incremental,
                cursors(("email", email_cursor)),
            )

            for request in (email, *push):
                http.assert_number_of_calls(request, 1)
        self.assertEqual(output.errors, [])
        self.assertEqual([message.record.data["id"] for message in output.records], ["dlv7"])
        self.assertEqual(emitted_states(output)[-1], cursors(("email", NOW), ("push", NOW)))

    def test_given_lookback_reaching_before_start_date_when_read_then_start_date_bounds_it(self):
        with HttpMocker() as http:
            requests = [window_request(WINDOW_1), window_request(WINDOW_2)]
            for request in requests:
                http.get(request, page([]))

            output = run(
                config(messages={"types": ["email"], "lookback_days": 180}),
                SyncMode.incremental,
                cursors(("email", START_DATE + DAY)),
            )

            for request in requests:
                http.assert_number_of_calls(request, 1)
        self.assertEqual(output.errors, [])

    def test_given_window_fails_when_read_then_state_stops_at_last_complete_window(self):
        with HttpMocker() as http:
            http.get(window_request(WINDOW_1), page([delivery(1, START_DATE + 100)]))
            http.get(window_request(WINDOW_2), page([delivery(2, NOW - 100)], "c2"))
            http.get(
                window_request(WINDOW_2, cursor="c2"), HttpResponse(json.dumps({"meta": {"error": "bad request"}}), 400)
            )

            output = run(config(messages={"types": ["email"]}), SyncMode.incremental)

        self.assertTrue(output.errors)
        self.assertEqual(emitted_states(output), [cursors(("email", WINDOW_1[1]))])
