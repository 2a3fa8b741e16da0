"""Customers end to end against the sandbox: both methods, the seed's filters, attribute selection, failures."""

import gzip
import json
import time

import pytest
import requests

from sandbox.workspace import Knobs
from testkit.connector import canonical, read_streams, records_by_stream, sandbox_config
from testkit.expected_customers import expected_customers

SEGMENTS_7_AND_5 = '{"and":[{"segment":{"id":7}},{"segment":{"id":5}}]}'
UNSUBSCRIBED = '{"attribute":{"field":"unsubscribed","operator":"eq","value":"true"}}'
NOT_IN_SEGMENT_2_OR_ENTERPRISE = (
    '{"or":[{"not":{"segment":{"id":2}}},{"attribute":{"field":"plan","operator":"eq","value":"enterprise"}}]}'
)
FILTERS = {
    "everyone": "",
    "segments-7-and-5": SEGMENTS_7_AND_5,
    "unsubscribed": UNSUBSCRIBED,
    "or-not": NOT_IN_SEGMENT_2_OR_ENTERPRISE,
}


def read_customers(config):
    output = read_streams(config, ["customers"])
    return output, records_by_stream(output).get("customers", [])


def customers_config(server, method, filter_text="", attributes=""):
    return sandbox_config(server, customers={"method": method, "filter": filter_text, "attributes": attributes})


@pytest.fixture
def export_sandbox(make_sandbox):
    """Exports change the job list, so each export test has its own sandbox."""
    return make_sandbox(Knobs(export_pending_polls=1))


@pytest.mark.parametrize("filter_text", FILTERS.values(), ids=FILTERS.keys())
def test_search_and_export_read_exactly_the_sandbox_people_and_the_same_cio_ids(sandbox, export_sandbox, filter_text):
    search_output, by_search = read_customers(customers_config(sandbox, "search", filter_text))
    export_config = customers_config(export_sandbox, "export", filter_text)
    export_output, by_export = read_customers(export_config)

    assert not search_output.errors and not export_output.errors
    assert canonical(by_search) == canonical(
        expected_customers(sandbox.workspace, customers_config(sandbox, "search", filter_text))
    )
    assert canonical(by_export) == canonical(expected_customers(export_sandbox.workspace, export_config))
    assert sorted(r["cio_id"] for r in by_search) == sorted(r["cio_id"] for r in by_export)
    assert by_search  # every filter above selects somebody


def test_seed_filter_examples_select_the_people_the_workspace_rules_say(sandbox):
    _, in_both_segments = read_customers(customers_config(sandbox, "search", SEGMENTS_7_AND_5))
    _, unsubscribed = read_customers(customers_config(sandbox, "search", UNSUBSCRIBED))
    ws = sandbox.workspace

    assert sorted(r["cio_id"] for r in in_both_segments) == sorted(
        ws.person_ids(i)["cio_id"] for i in range(ws.knobs.people) if ws.in_segment(i, 7) and ws.in_segment(i, 5)
    )
    assert {r["unsubscribed"] for r in unsubscribed} == {True}
    assert {r["attributes"]["unsubscribed"] for r in unsubscribed} == {"true"}


@pytest.mark.parametrize("method", ["search", "export"])
def test_email_only_people_and_people_without_email_are_present(sandbox, export_sandbox, method):
    server = sandbox if method == "search" else export_sandbox
    _, records = read_customers(customers_config(server, method))
    ws = server.workspace
    by_cio_id = {r["cio_id"]: r for r in records}

    email_only = [ws.person_ids(i) for i in range(ws.knobs.people) if ws.person_ids(i)["id"] is None]
    without_email = [ws.person_ids(i) for i in range(ws.knobs.people) if ws.person_ids(i)["email"] is None]
    assert len(email_only) == 17 and len(without_email) == 13
    assert [(by_cio_id[p["cio_id"]].get("id"), by_cio_id[p["cio_id"]]["email"]) for p in email_only] == [
        (None, p["email"]) for p in email_only
    ]
    assert [by_cio_id[p["cio_id"]].get("email") for p in without_email] == [None] * len(without_email)


@pytest.mark.parametrize("method", ["search", "export"])
def test_attribute_selection_keeps_only_the_listed_names(sandbox, export_sandbox, method):
    server = sandbox if method == "search" else export_sandbox
    config = customers_config(server, method, UNSUBSCRIBED, attributes="plan, email,favourite_colour")
    _, records = read_customers(config)

    assert canonical(records) == canonical(expected_customers(server.workspace, config))
    assert {frozenset(r["attributes"]) for r in records} == {frozenset({"plan", "email"}), frozenset({"plan"})}


def test_search_hydrates_everyone_in_batches_of_100_by_cio_id(sandbox):
    sandbox.stats.reset()
    read_customers(customers_config(sandbox, "search"))

    people = sandbox.workspace.knobs.people
    assert sandbox.stats.snapshot()["by_route"] == {"customers": 1, "customers/attributes": -(-people // 100)}
    batches = [entry["path"] for entry in sandbox.stats.log if entry["path"].startswith("/v1/customers/attributes")]
    assert batches and all(path == "/v1/customers/attributes?id_type=cio_id" for path in batches)


def test_given_60_percent_email_only_people_when_search_then_exact_with_at_most_12_requests_per_1000(make_sandbox):
    sandbox = make_sandbox(Knobs(people=3000, email_only_share=0.6))
    config = customers_config(sandbox, "search")

    _, records = read_customers(config)

    assert sum(record.get("id") is None for record in records) == 1800
    assert canonical(records) == canonical(expected_customers(sandbox.workspace, config))
    assert sandbox.stats.snapshot()["requests"] <= 12 * 3


def test_concurrent_search_emits_the_records_of_a_one_at_a_time_one(sandbox):
    sandbox.stats.reset()
    _, sequential = read_customers({**customers_config(sandbox, "search"), "max_concurrent_requests": 1})
    assert sandbox.stats.snapshot()["max_in_flight"] == 1
    _, concurrent = read_customers({**customers_config(sandbox, "search"), "max_concurrent_requests": 8})

    assert canonical(concurrent) == canonical(sequential)


def test_export_download_carries_no_key_and_the_api_calls_do(export_sandbox):
    read_customers(customers_config(export_sandbox, "export"))

    log = export_sandbox.stats.log
    downloads = [entry for entry in log if entry["path"].startswith("/export-files/")]
    api_calls = [entry for entry in log if entry["path"].startswith("/v1/")]
    assert len(downloads) == 1 and downloads[0]["authorization"] is None and downloads[0]["status"] == 200
    assert export_sandbox.app_key not in downloads[0]["path"]
    assert [(e["method"], e["path"]) for e in api_calls] == [
        ("GET", "/v1/exports"),
        ("POST", "/v1/exports/customers"),
        ("GET", "/v1/exports/4"),
        ("GET", "/v1/exports/4"),
        ("GET", "/v1/exports/4/download"),
    ]
    assert {e["authorization"] for e in api_calls} == {f"Bearer {export_sandbox.app_key}"}


def test_plain_csv_export_reads_the_same_records(make_sandbox):
    server = make_sandbox(Knobs(export_pending_polls=0, export_compression="none"))
    config = customers_config(server, "export", UNSUBSCRIBED)
    _, records = read_customers(config)

    assert canonical(records) == canonical(expected_customers(server.workspace, config))


def test_failed_export_is_a_clear_error(make_sandbox):
    server = make_sandbox(Knobs(export_pending_polls=0, export_final_status="failed"))
    output, records = read_customers(customers_config(server, "export"))

    assert records == []
    assert output.errors[0].trace.error.message == (
        "Customer.io reports customers export 4 as failed and gives no reason. Run the sync again; "
        "if it keeps failing, check `customers.filter` or use `customers.method` search."
    )


def test_expired_download_links_are_renewed_then_a_clear_error(make_sandbox, monkeypatch):
    monkeypatch.setattr("source_customerio.streams.customers.FIRST_DOWNLOAD_RETRY_SECONDS", 0.01)
    server = make_sandbox(Knobs(export_pending_polls=0, export_link_seconds=0))
    output, records = read_customers(customers_config(server, "export"))

    assert records == []
    message = output.errors[0].trace.error.message
    assert message.startswith("Downloading the customers export file failed 4 times, the last after 0 rows (HTTP 403:")
    assert "Request has expired" in message
    assert server.stats.snapshot()["by_route"]["exports/{export_id}/download"] == 4


@pytest.mark.parametrize("status", [500, 0], ids=["500", "reset"])
def test_given_create_fails_after_making_the_export_then_it_is_used_and_no_second_export_is_made(make_sandbox, status):
    server = make_sandbox(Knobs(export_pending_polls=0))
    server.inject("/v1/exports/customers", status, after_handling=True)
    config = customers_config(server, "export")

    output, records = read_customers(config)

    assert not output.errors
    assert canonical(records) == canonical(expected_customers(server.workspace, config))
    assert server.stats.snapshot()["by_route"]["exports/customers"] == 1
    listed = requests.get(f"{server.url}/v1/exports", headers={"Authorization": f"Bearer {server.app_key}"}).json()
    assert [export["id"] for export in listed["exports"]] == [1, 2, 3, 4]


def test_given_create_fails_before_making_the_export_then_it_is_created_once_more(make_sandbox):
    server = make_sandbox(Knobs(export_pending_polls=0))
    server.inject("/v1/exports/customers", 503)
    config = customers_config(server, "export")

    output, records = read_customers(config)

    assert not output.errors
    assert canonical(records) == canonical(expected_customers(server.workspace, config))
    assert server.stats.snapshot()["by_route"]["exports/customers"] == 2
    listed = requests.get(f"{server.url}/v1/exports", headers={"Authorization": f"Bearer {server.app_key}"}).json()
    assert [export["id"] for export in listed["exports"]] == [1, 2, 3, 4]


@pytest.mark.parametrize("status", [502, 0], ids=["502", "reset"])
def test_given_the_file_download_fails_once_then_every_person_exactly_once(make_sandbox, monkeypatch, status):
    monkeypatch.setattr("source_customerio.streams.customers.FIRST_DOWNLOAD_RETRY_SECONDS", 0.01)
    server = make_sandbox(Knobs(export_pending_polls=0))
    server.inject("/export-files/", status)
    config = customers_config(server, "export")

    output, records = read_customers(config)

    assert not output.errors
    assert canonical(records) == canonical(expected_customers(server.workspace, config))


def test_sandbox_refuses_more_than_100_ids_and_a_search_limit_above_1000(sandbox):
    headers = {"Authorization": f"Bearer {sandbox.app_key}"}
    everyone = {"filter": {"attribute": {"field": "cio_id", "operator": "exists"}}}

    too_many = requests.post(
        f"{sandbox.url}/v1/customers/attributes",
        json={"ids": [str(100000 + n) for n in range(101)]},
        headers=headers,
        timeout=10,
    )
    too_large = requests.post(f"{sandbox.url}/v1/customers?limit=1001", json=everyone, headers=headers, timeout=10)

    assert (too_many.status_code, too_many.json()) == (400, {"meta": {"error": "ids can hold at most 100 entries"}})
    assert (too_large.status_code, too_large.json()) == (400, {"meta": {"error": "limit must be between 1 and 1000"}})


def test_sandbox_export_file_is_gzip_csv_with_identifier_columns_first(export_sandbox):
    headers = {"Authorization": f"Bearer {export_sandbox.app_key}"}
    api = f"{export_sandbox.url}/v1/exports"
    created = requests.post(
        f"{api}/customers",
        json={"filters": json.loads(SEGMENTS_7_AND_5), "attributes": ["plan"]},
        headers=headers,
        timeout=10,
    ).json()["export"]
    deadline = time.monotonic() + 10
    while requests.get(f"{api}/{created['id']}", headers=headers, timeout=10).json()["export"]["status"] != "done":
        assert time.monotonic() < deadline, "the export never finished"
        time.sleep(0.05)
    url = requests.get(f"{api}/{created['id']}/download", headers=headers, timeout=10).json()["url"]

    assert gzip.decompress(requests.get(url, timeout=10).content).decode() == (
        "cio_id,id,email,plan\n3000031,100049,person49@example.com,starter\n"
        "300008c,100140,person140@example.com,free\n30000e7,100231,person231@example.com,enterprise\n"
    )
    assert requests.get(url, headers=headers, timeout=10).status_code == 400  # a second credential is refused
