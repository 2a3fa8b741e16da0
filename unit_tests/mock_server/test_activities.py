"""activities against a mocked API: request parameters per type, early stop from state, state per
type, and PARSED_DATA streams whose columns are learned from a sample during discover."""

import json
from typing import Any, Dict, List, Optional
from unittest import TestCase
from unittest.mock import patch

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder, ConfiguredAirbyteStreamBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, discover, read
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse
from airbyte_cdk.test.state_builder import StateBuilder

from source_customerio import SourceCustomerio

URL = "https://api.customer.io/v1/activities"
T = 1793491200
HOUR = 3600


def config(
    types: List[str], mode: str = "SINGLE_TABLE", include_deleted: bool = False, **overrides: Any
) -> Dict[str, Any]:
    return {
        "app_api_key": "fake-app-key",
        "max_concurrent_requests": 1,
        "activities": {"types": types, "mode": mode, "include_deleted": include_deleted},
        **overrides,
    }


def activities_request(
    activity_type: Optional[str], deleted: bool = False, cursor: Optional[str] = None
) -> HttpRequest:
    params = {"limit": "100", **({"deleted": "true"} if deleted else {})}
    if activity_type:
        params["type"] = activity_type
    if cursor:
        params["start"] = cursor
    return HttpRequest(URL, query_params=params)


def page(activities: List[Dict[str, Any]], next_cursor: str = "") -> HttpResponse:
    return HttpResponse(json.dumps({"activities": activities, "next": next_cursor}), 200)


def activity(
    number: int, timestamp: int, activity_type: str = "event", data: Optional[Dict[str, Any]] = None
) -> Dict[str, Any]:
    return {
        "id": f"act{number}",
        "customer_id": "42",
        "type": activity_type,
        "timestamp": timestamp,
        "data": data or {"name": "buy"},
    }


def run(
    cfg: Dict[str, Any], stream: str, sync_mode: SyncMode, state: Optional[Dict[str, Any]] = None
) -> EntrypointOutput:
    configured = ConfiguredAirbyteStreamBuilder().with_name(stream).with_sync_mode(sync_mode).with_primary_key([["id"]])
    states = StateBuilder().with_stream_state(stream, state).build() if state else None
    return read(
        SourceCustomerio(), cfg, CatalogBuilder().with_stream(configured).build(), states, expecting_exception=True
    )


def emitted_states(output: EntrypointOutput) -> List[Dict[str, Any]]:
    return [message.state.stream.stream_state.__dict__ for message in output.state_messages]


def cursors(*pairs) -> Dict[str, Any]:
    return {
        "states": [
            {"partition": {"type": activity_type}, "cursor": {"timestamp": value}} for activity_type, value in pairs
        ]
    }


def cursor_by_type(state: Dict[str, Any]) -> Dict[str, int]:
    return {entry["partition"]["type"]: entry["cursor"]["timestamp"] for entry in state["states"]}


def record_ids(output: EntrypointOutput) -> List[str]:
    return [message.record.data["id"] for message in output.records]


class SingleTableTest(TestCase):
    def test_given_types_and_deleted_when_read_then_two_series_per_type_merged_by_id_and_state_after_both(self):
        with HttpMocker() as http:
            event_live_1 = activities_request("event")
            event_live_2 = activities_request("event", cursor="c2")
            event_deleted = activities_request("event", deleted=True)
            page_live = activities_request("page")
            page_deleted = activities_request("page", deleted=True)
            http.get(event_live_1, page([activity(3, T - 10), activity(2, T - 20)], "c2"))
            http.get(event_live_2, page([activity(1, T - 30)]))
            # Read as "also deleted people": the live activities come again, and are not emitted twice.
            http.get(event_deleted, page([activity(3, T - 10), activity(9, T - 15), activity(2, T - 20)]))
            http.get(page_live, page([activity(4, T - 5, "page", {"url": "https://example.com"})]))
            # Read as "only deleted people": just theirs.
            http.get(page_deleted, page([activity(8, T - 7, "page")]))

            output = run(config(["event", "page"], include_deleted=True), "activities_all", SyncMode.incremental)

            for request in (event_live_1, event_live_2, event_deleted, page_live, page_deleted):
                http.assert_number_of_calls(request, 1)
        self.assertEqual(output.errors, [])
        # The series are read at once: each emits its own records in order, and none twice.
        ids = record_ids(output)
        self.assertEqual(sorted(ids), ["act1", "act2", "act3", "act4", "act8", "act9"])
        self.assertLess(ids.index("act3"), ids.index("act2"))
        self.assertLess(ids.index("act2"), ids.index("act1"))
        self.assertEqual(output.records[ids.index("act4")].record.data["data"], {"url": "https://example.com"})
        # A type's cursor moves only after both of its series, and each state adds one type.
        self.assertIn(
            [cursor_by_type(state) for state in emitted_states(output)],
            (
                [{"event": T - 10}, {"event": T - 10, "page": T - 5}],
                [{"page": T - 5}, {"event": T - 10, "page": T - 5}],
            ),
        )

    def test_given_a_cursor_older_than_the_30_days_kept_when_read_then_a_warning_names_the_stream_type_and_range(self):
        old, recent = T - 40 * 24 * HOUR, T - 29 * 24 * HOUR
        with HttpMocker() as http, patch("source_customerio.windows.current_time", return_value=T):
            http.get(activities_request("event"), page([activity(1, T)]))
            http.get(activities_request("page"), page([activity(2, T, "page")]))

            output = run(
                config(["event", "page"]),
                "activities_all",
                SyncMode.incremental,
                cursors(("event", old), ("page", recent)),
            )

        self.assertEqual(output.errors, [])
        warnings = [log.log.message for log in output.logs if log.log.level.name == "WARN"]
        self.assertEqual(len(warnings), 1, warnings)
        self.assertIn("`activities_all`", warnings[0])
        self.assertIn("type event", warnings[0])
        self.assertIn("from 2026-09-22T00:00:00Z to 2026-10-02T00:00:00Z", warnings[0])

    def test_given_oldest_first_pages_when_incremental_then_paging_never_stops_early(self):
        cursor = T - 5 * HOUR
        with HttpMocker() as http:
            oldest = activities_request("event")
            middle = activities_request("event", cursor="c2")
            newest = activities_request("event", cursor="c3")
            http.get(oldest, page([activity(1, cursor - 4 * HOUR), activity(2, cursor - 3 * HOUR)], "c2"))
            http.get(middle, page([activity(3, cursor - 2 * HOUR)], "c3"))
            http.get(newest, page([activity(4, cursor + 10), activity(5, T)]))

            output = run(config(["event"]), "activities_all", SyncMode.incremental, cursors(("event", cursor)))

            for request in (oldest, middle, newest):
                http.assert_number_of_calls(request, 1)
        self.assertEqual(output.errors, [])
        self.assertEqual(record_ids(output), ["act1", "act2", "act3", "act4", "act5"])
        self.assertEqual(emitted_states(output)[-1], cursors(("event", T)))

    def test_given_no_types_when_read_then_no_type_filter_and_no_deleted_parameter(self):
        with HttpMocker() as http:
            request = activities_request(None)
            http.get(request, page([activity(1, T)]))

            output = run(config([]), "activities_all", SyncMode.incremental)

            http.assert_number_of_calls(request, 1)
        self.assertEqual(output.errors, [])
        self.assertEqual(emitted_states(output), [cursors((None, T))])

    def test_given_state_when_read_then_paging_stops_after_first_page_wholly_older_than_cursor_less_an_hour(self):
        cursor = T - 5 * HOUR
        with HttpMocker() as http:
            first = activities_request("event")
            within_margin = activities_request("event", cursor="c2")
            older = activities_request("event", cursor="c3")
            never = activities_request("event", cursor="c4")
            http.get(first, page([activity(6, T), activity(5, cursor - 10)], "c2"))
            http.get(within_margin, page([activity(4, cursor - HOUR + 5), activity(3, cursor - HOUR - 1)], "c3"))
            http.get(older, page([activity(2, cursor - HOUR - 2)], "c4"))
            http.get(never, page([activity(1, cursor - 3 * HOUR)]))

            output = run(config(["event"]), "activities_all", SyncMode.incremental, cursors(("event", cursor)))

            for request in (first, within_margin, older):
                http.assert_number_of_calls(request, 1)
            http.assert_number_of_calls(never, 0)
        self.assertEqual(output.errors, [])
        self.assertEqual(record_ids(output), ["act6", "act5", "act4", "act3", "act2"])
        self.assertEqual(emitted_states(output)[-1], cursors(("event", T)))

    def test_given_start_date_when_read_then_older_records_dropped_and_paging_stops(self):
        start = T - 2 * HOUR
        with HttpMocker() as http:
            straddling = activities_request("event")
            older = activities_request("event", cursor="c2")
            never = activities_request("event", cursor="c3")
            http.get(straddling, page([activity(3, start), activity(2, start - 1)], "c2"))
            http.get(older, page([activity(1, start - 10)], "c3"))
            http.get(never, page([activity(0, start - 20)]))

            output = run(config(["event"], start_date="2026-10-31T22:00:00Z"), "activities_all", SyncMode.full_refresh)

            http.assert_number_of_calls(older, 1)
            http.assert_number_of_calls(never, 0)
        self.assertEqual(output.errors, [])
        self.assertEqual(record_ids(output), ["act3"])

    def test_given_series_fails_when_read_then_its_cursor_is_not_saved(self):
        with HttpMocker() as http:
            http.get(activities_request("event"), page([activity(2, T)], "c2"))
            http.get(
                activities_request("event", cursor="c2"), HttpResponse(json.dumps({"meta": {"error": "bad"}}), 400)
            )

            output = run(config(["event"]), "activities_all", SyncMode.incremental, cursors(("event", T - 10 * HOUR)))

        self.assertTrue(output.errors)
        self.assertEqual(emitted_states(output), [cursors(("event", T - 10 * HOUR))])  # the saved one, unmoved


class ParsedDataTest(TestCase):
    OBJECT_TYPE = "_o:12:create"
    SAMPLE = [
        activity(2, T, OBJECT_TYPE, {"object_id": "acct1", "attributes": {"name": "Acme", "seats": 3}}),
        activity(1, T - 1, OBJECT_TYPE, {"object_id": "acct2", "attributes": {"name": "Umbrella", "plan": None}}),
    ]

    def test_given_types_when_discover_then_one_stream_per_type_with_learned_columns(self):
        with HttpMocker() as http:
            http.get(activities_request(self.OBJECT_TYPE), page(self.SAMPLE))
            http.get(activities_request("event"), page([]))

            catalog = discover(SourceCustomerio(), config([self.OBJECT_TYPE, "event"], "PARSED_DATA")).catalog.catalog

        streams = {stream.name: stream for stream in catalog.streams}
        self.assertNotIn("activities_all", streams)
        object_stream, event_stream = streams["activity__o_12_create"], streams["activity_event"]
        base = ["id", "customer_id", "customer_identifiers", "type", "timestamp", "delivery_id", "delivery_type"]
        self.assertEqual(list(event_stream.json_schema["properties"]), base)
        self.assertEqual(
            {
                name: schema
                for name, schema in object_stream.json_schema["properties"].items()
                if name.startswith("data_")
            },
            {
                "data_object_id": {"type": ["null", "string"]},
                "data_attributes_name": {"type": ["null", "string"]},
                "data_attributes_seats": {"type": ["null", "number"]},
                "data_attributes_plan": {},
            },
        )
        self.assertTrue(object_stream.json_schema["additionalProperties"])
        self.assertEqual(object_stream.source_defined_primary_key, [["id"]])
        self.assertEqual(object_stream.default_cursor_field, ["timestamp"])

    def test_given_parsed_stream_when_read_then_data_flattened_and_state_keyed_by_type(self):
        with HttpMocker() as http:
            request = activities_request(self.OBJECT_TYPE)
            http.get(request, page(self.SAMPLE))  # the schema sample and the read ask the same page

            output = run(config([self.OBJECT_TYPE], "PARSED_DATA"), "activity__o_12_create", SyncMode.incremental)

        self.assertEqual(output.errors, [])
        self.assertEqual(
            [dict(message.record.data) for message in output.records],
            [
                {
                    "id": "act2",
                    "customer_id": "42",
                    "type": self.OBJECT_TYPE,
                    "timestamp": T,
                    "data_object_id": "acct1",
                    "data_attributes_name": "Acme",
                    "data_attributes_seats": 3,
                },
                {
                    "id": "act1",
                    "customer_id": "42",
                    "type": self.OBJECT_TYPE,
                    "timestamp": T - 1,
                    "data_object_id": "acct2",
                    "data_attributes_name": "Umbrella",
                },
            ],
        )
        self.assertEqual(emitted_states(output), [cursors((self.OBJECT_TYPE, T))])

    def test_given_types_sharing_a_stream_name_when_discover_then_config_error(self):
        output = discover(
            SourceCustomerio(), config(["_o:1:create", "_o_1_create"], "PARSED_DATA"), expecting_exception=True
        )

        self.assertEqual(len(output.errors), 1)
        self.assertIn("activities.types", output.errors[0].trace.error.message)
