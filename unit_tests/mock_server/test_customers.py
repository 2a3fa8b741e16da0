"""customers: the search method (search pages, attribute batches by cio_id) and the export
method (create, poll, signed download without the key), request bodies matched exactly."""

import gzip
import json
from typing import Any, Dict, List, Mapping, Optional
from unittest import TestCase
from unittest.mock import patch

import pytest
import requests
from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse
from airbyte_cdk.test.state_builder import StateBuilder

from source_customerio.config import REGION_HOSTS
from source_customerio.people_changes import change_chains
from testkit.connector import recorded_cdk_sleeps
from unit_tests.mock_server.config import API_KEY, ConfigBuilder
from unit_tests.mock_server.harness import first_error, read_stream
from unit_tests.mock_server.response_builder import error_response

STREAM = "customers"
EVERYONE = {"attribute": {"field": "cio_id", "operator": "exists"}}
UNSUBSCRIBED = {"attribute": {"field": "unsubscribed", "operator": "eq", "value": "true"}}
SEARCH_CURSOR = "MTAwMA=="
EXPORT_ID = 71
NOW = 1793491200  # the connector's clock in these tests (the mocked answers carry no `Date`)
SIGNED_URL = "https://exports.storage.example.com/71/customers.csv.gz?X-Amz-Expires=900&X-Amz-Signature=abc123"


def config(region: str = "US", **customers: Any) -> Dict[str, Any]:
    return ConfigBuilder().with_region(region).with_option("customers", customers).build()


def api_request(
    path: str, query: Optional[Mapping[str, str]] = None, body: Optional[Mapping[str, Any]] = None, region: str = "US"
) -> HttpRequest:
    return HttpRequest(f"{REGION_HOSTS[region]}/v1/{path}", query_params=dict(query or {}), body=body)


def spying_on(sent: List[requests.PreparedRequest]):
    """Record every request any session sends (the CDK's and the download's), to read their headers."""
    send = requests.Session.send

    def spy(session: requests.Session, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        sent.append(request)
        return send(session, request, **kwargs)

    return patch.object(requests.Session, "send", spy)


def json_response(body: Mapping[str, Any], status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(body), status)


def ident(number: int, with_id: bool = True) -> Dict[str, Any]:
    return {"cio_id": f"c{number}", "id": str(number) if with_id else None, "email": f"p{number}@example.com"}


def search_request(
    audience: Mapping[str, Any] = EVERYONE, cursor: Optional[str] = None, region: str = "US"
) -> HttpRequest:
    query = {"limit": "1000", **({"start": cursor} if cursor else {})}
    return api_request("customers", query, {"filter": audience}, region)


def search_page(people: List[Dict[str, Any]], next_cursor: str = "") -> HttpResponse:
    return json_response({"identifiers": people, "ids": [p["id"] or "" for p in people], "next": next_cursor})


def customer(number: int, with_id: bool = True) -> Dict[str, Any]:
    identifiers = ident(number, with_id)
    return {
        "id": identifiers["id"],
        "identifiers": identifiers,
        "attributes": {**{k: v for k, v in identifiers.items() if v}, "plan": "pro"},
        "unsubscribed": False,
        "devices": [],
        "timestamps": {"cio_id": 1700000000},
    }


def batch_request(numbers, region: str = "US") -> HttpRequest:
    """Everyone by cio_id, whatever identifiers they have: exactly this query and body."""
    return api_request("customers/attributes", {"id_type": "cio_id"}, {"ids": [f"c{n}" for n in numbers]}, region)


def batch_answer(numbers, without_id=()) -> HttpResponse:
    return json_response({"customers": [{"customer": customer(n, with_id=n not in without_id)} for n in numbers]})


def cio_ids(output) -> List[str]:
    return [message.record.data["cio_id"] for message in output.records]


@pytest.fixture(autouse=True)
def connector_clock():
    with patch("source_customerio.windows.current_time", return_value=NOW):
        yield


class SearchTest(TestCase):
    @HttpMocker()
    def test_given_two_search_pages_with_email_only_people_when_read_then_everyone_in_batches_of_100_by_cio_id(
        self, http_mocker: HttpMocker
    ) -> None:
        people = list(range(1, 61)) + [900] + list(range(61, 102))
        http_mocker.post(
            search_request(), search_page([ident(n) for n in range(1, 61)] + [ident(900, with_id=False)], SEARCH_CURSOR)
        )
        http_mocker.post(search_request(cursor=SEARCH_CURSOR), search_page([ident(n) for n in range(61, 102)]))
        http_mocker.post(batch_request(people[:100]), batch_answer(people[:100], without_id={900}))
        http_mocker.post(batch_request(people[100:]), batch_answer(people[100:]))

        output = read_stream(STREAM, config())

        assert sorted(cio_ids(output)) == sorted(f"c{n}" for n in people)  # the batches are read at once
        (email_only,) = [message for message in output.records if message.record.data["cio_id"] == "c900"]
        assert email_only.record.data == {
            "cio_id": "c900",
            "email": "p900@example.com",
            "attributes": {"cio_id": "c900", "email": "p900@example.com", "plan": "pro"},
            "unsubscribed": False,
            "devices": [],
            "timestamps": {"cio_id": 1700000000},
            "_ab_cdc_updated_at": NOW,
        }
        assert not output.errors

    @HttpMocker()
    def test_given_filter_and_attributes_when_read_then_search_sends_the_filter_and_records_keep_listed_attributes(
        self, http_mocker: HttpMocker
    ) -> None:
        http_mocker.post(search_request(UNSUBSCRIBED), search_page([ident(1)]))
        http_mocker.post(batch_request([1]), batch_answer([1]))

        output = read_stream(STREAM, config(filter=json.dumps(UNSUBSCRIBED), attributes="plan,favourite_colour"))

        assert [message.record.data for message in output.records] == [
            {
                "cio_id": "c1",
                "id": "1",
                "email": "p1@example.com",
                "attributes": {"plan": "pro"},
                "unsubscribed": False,
                "devices": [],
                "timestamps": {"cio_id": 1700000000},
                "_ab_cdc_updated_at": NOW,
            }
        ]

    @HttpMocker()
    def test_given_batch_answer_leaves_ids_out_when_read_then_their_count_is_logged(
        self, http_mocker: HttpMocker
    ) -> None:
        http_mocker.post(search_request(), search_page([ident(1), ident(2), ident(3)]))
        http_mocker.post(batch_request([1, 2, 3]), batch_answer([2]))

        output = read_stream(STREAM, config())

        assert cio_ids(output) == ["c2"]
        assert (
            "Customer.io left 2 of the 3 requested ids out of its attributes answer (deleted since the search?), "
            "so they are not in this sync; first ids: c1, c3"
        ) in [message.log.message for message in output.logs]

    @HttpMocker()
    def test_given_empty_search_when_read_then_no_attribute_calls_and_no_records(self, http_mocker: HttpMocker) -> None:
        http_mocker.post(search_request(), search_page([]))

        output = read_stream(STREAM, config())

        assert output.records == [] and not output.errors

    @HttpMocker()
    def test_given_401_on_search_when_read_then_config_error(self, http_mocker: HttpMocker) -> None:
        http_mocker.post(search_request(), error_response(401))

        output = read_stream(STREAM, config(), expecting_exception=True)

        assert output.records == []
        assert first_error(output)[1] == FailureType.config_error

    @HttpMocker()
    def test_given_429_on_a_batch_when_read_then_waits_retry_after_and_succeeds(self, http_mocker: HttpMocker) -> None:
        http_mocker.post(search_request(), search_page([ident(1)]))
        http_mocker.post(batch_request([1]), [error_response(429, {"Retry-After": "4"}), batch_answer([1])])

        with recorded_cdk_sleeps() as slept:
            output = read_stream(STREAM, config())

        assert cio_ids(output) == ["c1"]
        assert slept == [4.0]

    @HttpMocker()
    def test_given_eu_region_when_read_then_every_call_goes_to_the_eu_host(self, http_mocker: HttpMocker) -> None:
        http_mocker.post(search_request(region="EU"), search_page([ident(1)]))
        http_mocker.post(batch_request([1], region="EU"), batch_answer([1]))

        output = read_stream(STREAM, config(region="EU"))

        assert cio_ids(output) == ["c1"]


def export_answer(status: str, total: int = 0) -> HttpResponse:
    return json_response(
        {
            "export": {
                "id": EXPORT_ID,
                "type": "customers",
                "status": status,
                "failed": status == "failed",
                "total": total,
            }
        }
    )


def given_export(http_mocker: HttpMocker, create_body: Mapping[str, Any], statuses: List[str]) -> None:
    http_mocker.get(api_request("exports"), json_response({"exports": [{"id": 3, "type": "customers"}]}))
    http_mocker.post(api_request("exports/customers", body=create_body), export_answer("pending"))
    http_mocker.get(
        api_request(f"exports/{EXPORT_ID}"),
        [export_answer(status, 2 if status == "done" else 0) for status in statuses],
    )


def given_download(http_mocker: HttpMocker, *file_answers: HttpResponse) -> None:
    """One signed link per attempt (a retry asks for a fresh one), and the file's answer to each."""
    links = [json_response({"url": SIGNED_URL}) for _ in file_answers]
    http_mocker.get(api_request(f"exports/{EXPORT_ID}/download"), links if len(links) > 1 else links[0])
    http_mocker.get(HttpRequest(SIGNED_URL), list(file_answers) if len(file_answers) > 1 else file_answers[0])


EXPORT_CSV = "cio_id,id,email,plan\nc1,1,p1@example.com,pro\nc2,,p2@example.com,\n"


class ExportTest(TestCase):
    @HttpMocker()
    def test_given_pending_then_done_when_read_then_the_file_is_fetched_without_the_key_and_streamed(
        self, http_mocker: HttpMocker
    ) -> None:
        given_export(http_mocker, {"filters": EVERYONE}, ["pending", "done"])
        given_download(http_mocker, HttpResponse(gzip.compress(EXPORT_CSV.encode()), 200))
        sent: List[requests.PreparedRequest] = []

        with spying_on(sent):
            output = read_stream(STREAM, config(method="export"))

        assert [message.record.data for message in output.records] == [
            {
                "cio_id": "c1",
                "id": "1",
                "email": "p1@example.com",
                "attributes": {"cio_id": "c1", "id": "1", "email": "p1@example.com", "plan": "pro"},
                "_ab_cdc_updated_at": NOW,
            },
            {
                "cio_id": "c2",
                "email": "p2@example.com",
                "attributes": {"cio_id": "c2", "email": "p2@example.com"},
                "_ab_cdc_updated_at": NOW,
            },
        ]
        logs = [message.log.message for message in output.logs]
        assert f"Customer.io customers export {EXPORT_ID} is pending after 0 s; checking again in 0.25 s." in logs
        assert f"Customer.io customers export {EXPORT_ID}: 2 of 2 rows read." in logs
        assert not any(SIGNED_URL in message for message in logs)  # the link is a credential while it lives
        api, key = f"{REGION_HOSTS['US']}/v1/exports", f"Bearer {API_KEY}"
        assert [(request.method, request.url, request.headers.get("Authorization")) for request in sent] == [
            ("GET", api, key),
            ("POST", f"{api}/customers", key),
            ("GET", f"{api}/{EXPORT_ID}", key),
            ("GET", f"{api}/{EXPORT_ID}", key),
            ("GET", f"{api}/{EXPORT_ID}/download", key),
            ("GET", SIGNED_URL, None),
        ]

    @HttpMocker()
    def test_given_filter_and_attributes_when_read_then_the_export_asks_for_them_and_records_keep_them(
        self, http_mocker: HttpMocker
    ) -> None:
        given_export(http_mocker, {"filters": UNSUBSCRIBED, "attributes": ["plan"]}, ["done"])
        given_download(http_mocker, HttpResponse(EXPORT_CSV, 200))

        output = read_stream(STREAM, config(method="export", filter=json.dumps(UNSUBSCRIBED), attributes="plan"))

        assert [message.record.data["attributes"] for message in output.records] == [{"plan": "pro"}, {}]

    @HttpMocker()
    def test_given_export_fails_when_read_then_a_clear_error_and_no_download(self, http_mocker: HttpMocker) -> None:
        given_export(http_mocker, {"filters": EVERYONE}, ["failed"])

        output = read_stream(STREAM, config(method="export"), expecting_exception=True)

        assert output.records == []
        assert first_error(output) == (
            f"Customer.io reports customers export {EXPORT_ID} as failed and gives no reason. Run the sync again; "
            "if it keeps failing, check `customers.filter` or use `customers.method` search.",
            FailureType.system_error,
        )

    @HttpMocker()
    def test_given_the_link_is_always_refused_when_read_then_four_fresh_links_then_a_clear_error(
        self, http_mocker: HttpMocker
    ) -> None:
        given_export(http_mocker, {"filters": EVERYONE}, ["done"])
        expired = "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
        given_download(http_mocker, *[HttpResponse(expired, 403) for _ in range(4)])

        with patch("source_customerio.streams.customers.FIRST_DOWNLOAD_RETRY_SECONDS", 0.01):
            output = read_stream(STREAM, config(method="export"), expecting_exception=True)

        assert first_error(output) == (
            f"Downloading the customers export file failed 4 times, the last after 0 rows (HTTP 403: {expired}). "
            "Run the sync again.",
            FailureType.transient_error,
        )

    @HttpMocker()
    def test_given_a_download_cut_off_then_a_500_when_read_then_fetched_again_and_every_row_once(
        self, http_mocker: HttpMocker
    ) -> None:
        given_export(http_mocker, {"filters": EVERYONE}, ["done"])
        whole = gzip.compress(EXPORT_CSV.encode())
        given_download(http_mocker, HttpResponse(whole[:-10], 200), HttpResponse("oops", 500), HttpResponse(whole, 200))

        with patch("source_customerio.streams.customers.FIRST_DOWNLOAD_RETRY_SECONDS", 0.01):
            output = read_stream(STREAM, config(method="export"))

        assert cio_ids(output) == ["c1", "c2"] and not output.errors
        retries = [log.log.message for log in output.logs if log.log.message.startswith("Downloading the customers")]
        assert len(retries) == 2 and "attempt 2 of 4" in retries[0] and "attempt 3 of 4" in retries[1]

    @HttpMocker()
    def test_given_a_file_without_cio_id_when_read_then_an_error_listing_the_columns(
        self, http_mocker: HttpMocker
    ) -> None:
        given_export(http_mocker, {"filters": EVERYONE}, ["done"])
        given_download(http_mocker, HttpResponse("id,email,plan\n1,p1@example.com,pro\n", 200))

        output = read_stream(STREAM, config(method="export"), expecting_exception=True)

        assert first_error(output) == (
            "Customer.io's customers export file cannot be read: it has no cio_id column; the columns seen: id, "
            "email, plan.",
            FailureType.system_error,
        )

    @HttpMocker()
    def test_given_create_answers_500_when_read_then_not_resent_before_the_list_shows_no_new_export(
        self, http_mocker: HttpMocker
    ) -> None:
        listed = [{"id": 3, "type": "customers"}]
        http_mocker.get(api_request("exports"), [json_response({"exports": listed})] * 2)
        http_mocker.post(
            api_request("exports/customers", body={"filters": EVERYONE}),
            [error_response(500), export_answer("pending")],
        )
        http_mocker.get(api_request(f"exports/{EXPORT_ID}"), export_answer("done", 2))
        given_download(http_mocker, HttpResponse(gzip.compress(EXPORT_CSV.encode()), 200))

        output = read_stream(STREAM, config(method="export"))

        assert cio_ids(output) == ["c1", "c2"]

    @HttpMocker()
    def test_given_create_answers_500_after_making_the_export_when_read_then_that_export_is_used(
        self, http_mocker: HttpMocker
    ) -> None:
        made = {"id": EXPORT_ID, "type": "customers", "failed": False}
        http_mocker.get(
            api_request("exports"),
            [json_response({"exports": [{"id": 3, "type": "customers"}]}), json_response({"exports": [made]})],
        )
        http_mocker.post(api_request("exports/customers", body={"filters": EVERYONE}), error_response(500))
        http_mocker.get(api_request(f"exports/{EXPORT_ID}"), export_answer("done", 2))
        given_download(http_mocker, HttpResponse(gzip.compress(EXPORT_CSV.encode()), 200))

        output = read_stream(STREAM, config(method="export"))

        assert cio_ids(output) == ["c1", "c2"]
        assert any(f"Customer.io lists export {EXPORT_ID} made since" in log.log.message for log in output.logs)


def changes_request(activity_type: str, deleted: bool) -> HttpRequest:
    query = {"limit": "100", "type": activity_type, **({"deleted": "true"} if deleted else {})}
    return api_request("activities", query)


def activities_page(activities: List[Dict[str, Any]]) -> HttpResponse:
    return json_response({"activities": activities, "next": ""})


def saved(full_read: int, changes: Optional[int] = None) -> list:
    series = {"full_read": full_read, **({"changes": changes} if changes else {})}
    state = {
        "states": [{"partition": {"type": name}, "cursor": {"_ab_cdc_updated_at": at}} for name, at in series.items()]
    }
    return StateBuilder().with_stream_state(STREAM, state).build()


def states(output) -> List[Dict[str, int]]:
    return [
        {
            entry["partition"]["type"]: entry["cursor"]["_ab_cdc_updated_at"]
            for entry in message.state.stream.stream_state.states
        }
        for message in output.state_messages
    ]


class IncrementalTest(TestCase):
    @HttpMocker()
    def test_given_no_state_when_read_incrementally_then_everyone_and_the_full_read_is_saved(
        self, http_mocker: HttpMocker
    ) -> None:
        http_mocker.post(search_request(), search_page([ident(1), ident(2)]))
        http_mocker.post(batch_request([1, 2]), batch_answer([1, 2]))

        output = read_stream(STREAM, config(), SyncMode.incremental)

        assert sorted(cio_ids(output)) == ["c1", "c2"]
        assert {message.record.data["_ab_cdc_updated_at"] for message in output.records} == {NOW}
        assert states(output)[-1] == {"full_read": NOW}

    @HttpMocker()
    def test_given_a_merge_in_the_log_when_read_incrementally_then_both_people_read_and_the_one_gone_deleted(
        self, http_mocker: HttpMocker
    ) -> None:
        day = 86400
        merge = {
            "id": "01M",
            "type": "profile_merge",
            "timestamp": NOW - 60,
            "customer_identifiers": {"cio_id": "c1", "id": "1", "email": "p1@example.com"},
            "data": {"merged": {"cio_id": "c2"}},
        }
        for activity_type, deleted in change_chains():
            found = [merge] if activity_type == "profile_merge" else []
            http_mocker.get(changes_request(activity_type, deleted), activities_page(found))
        http_mocker.post(batch_request([1, 2]), batch_answer([1]))  # c2 was merged away

        output = read_stream(STREAM, config(), SyncMode.incremental, saved(NOW - day, NOW - 3600))

        assert not output.errors
        by_id = {message.record.data["cio_id"]: message.record.data for message in output.records}
        assert by_id["c1"]["_ab_cdc_updated_at"] == NOW and by_id["c1"].get("_ab_cdc_deleted_at") is None
        # A second newer than the sync's other records, so it wins over any of them.
        assert by_id["c2"] == {"cio_id": "c2", "_ab_cdc_updated_at": NOW + 1, "_ab_cdc_deleted_at": NOW}
        assert states(output)[-1] == {"full_read": NOW - day, "changes": NOW}

    @HttpMocker()
    def test_given_a_page_that_reaches_past_the_reads_start_then_only_the_people_changed_since_are_read(
        self, http_mocker: HttpMocker
    ) -> None:
        since = NOW - 3600 - 60 * 60  # the saved cursor less the default lookback

        def change(person: int, timestamp: int) -> Mapping[str, Any]:
            identifiers = {"cio_id": f"c{person}", "id": str(person)}
            return {
                "id": f"0{person}",
                "type": "attribute_change",
                "timestamp": timestamp,
                "customer_identifiers": identifiers,
            }

        for activity_type, deleted in change_chains():
            found = [change(1, NOW - 60), change(2, since - 1)] if activity_type == "attribute_change" else []
            http_mocker.get(changes_request(activity_type, deleted), activities_page(found))
        http_mocker.post(batch_request([1]), batch_answer([1]))

        output = read_stream(STREAM, config(), SyncMode.incremental, saved(NOW - 86400, NOW - 3600))

        assert not output.errors and cio_ids(output) == ["c1"]

    @HttpMocker()
    def test_given_no_change_in_the_log_when_read_incrementally_then_no_records_and_the_cursor_still_moves(
        self, http_mocker: HttpMocker
    ) -> None:
        for activity_type, deleted in change_chains():
            http_mocker.get(changes_request(activity_type, deleted), activities_page([]))

        output = read_stream(STREAM, config(), SyncMode.incremental, saved(NOW - 86400))

        assert not output.errors and output.records == []
        assert states(output)[-1] == {"full_read": NOW - 86400, "changes": NOW}

    @HttpMocker()
    def test_given_a_full_read_is_due_when_read_incrementally_then_everyone_and_the_deletions_the_log_shows(
        self, http_mocker: HttpMocker
    ) -> None:
        deleted = {
            "id": "01D",
            "type": "profile_delete",
            "timestamp": NOW - 60,
            "customer_identifiers": {"cio_id": "c3"},
            "data": {},
        }
        http_mocker.post(search_request(), search_page([ident(1), ident(2)]))
        http_mocker.post(batch_request([1, 2]), batch_answer([1, 2]))
        for activity_type, deleted_people in change_chains():
            if activity_type in ("profile_delete", "profile_merge"):
                found = [deleted] if (activity_type, deleted_people) == ("profile_delete", True) else []
                http_mocker.get(changes_request(activity_type, deleted_people), activities_page(found))
        http_mocker.post(batch_request([3]), batch_answer([]))

        output = read_stream(STREAM, config(), SyncMode.incremental, saved(NOW - 8 * 86400, NOW - 3600))

        assert not output.errors
        assert "everyone is read to catch changes the log does not show" in " ".join(
            message.log.message for message in output.logs
        )
        by_id = {message.record.data["cio_id"]: message.record.data for message in output.records}
        assert sorted(by_id) == ["c1", "c2", "c3"] and by_id["c3"]["_ab_cdc_deleted_at"] == NOW
        assert states(output)[-1] == {"full_read": NOW, "changes": NOW - 3600}
