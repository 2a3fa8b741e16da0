"""The sandbox's people change over time (created, changed, merged, deleted), every change logged as an
activity: each endpoint that serves people serves them as they are now, and the activity log pages
through generated and logged activities alike."""

import csv
import io
import json
from typing import Any, Dict, List, Optional

import pytest
import requests

from sandbox.api import Request
from sandbox.resources.activities import RETENTION, activity, list_activities, listed_now, visible_range
from sandbox.resources.customers import EVERYONE, batch_attributes, person_attributes, search_customers
from sandbox.resources.exports import csv_chunks, export_jobs
from sandbox.resources.segments import segment_membership
from sandbox.resources.workspaces import list_workspaces
from sandbox.server import Sandbox
from sandbox.workspace import DAY, Knobs, Workspace
from testkit.expected_customers import expected_customers

CHANGE_TYPES = ("attribute_change", "device_change", "profile_create", "profile_delete", "profile_merge")


def handle(handler: Any, ws: Workspace, body: Any = None, params: Optional[Dict[str, str]] = None, **query: Any):
    """A route handler's answer to a request with these query arguments, body and path parameters."""
    encoded = json.dumps(body).encode() if body is not None else b""
    request = Request(
        "GET", "/v1/", dict(params or {}), {name: [str(value)] for name, value in query.items()}, {}, encoded
    )
    return handler(ws, request)


def searched_cio_ids(ws: Workspace, audience: Any = EVERYONE) -> List[str]:
    found: List[str] = []
    start = ""
    while True:
        page = handle(search_customers, ws, {"filter": audience}, limit=1000, start=start)
        found += [ident["cio_id"] for ident in page["identifiers"] or []]
        if not page["next"]:
            return found
        start = page["next"]


def batch(ws: Workspace, ids: List[str], id_type: str = "cio_id") -> List[Dict[str, Any]]:
    return handle(batch_attributes, ws, {"ids": ids}, id_type=id_type)["customers"]


def exported_rows(ws: Workspace) -> Dict[str, Dict[str, str]]:
    text = b"".join(csv_chunks(ws, {"attributes": [], "filters": EVERYONE})).decode()
    return {row["cio_id"]: row for row in csv.DictReader(io.StringIO(text))}


def segment_cio_ids(ws: Workspace, segment_id: int, limit: int = 7) -> List[str]:
    members: List[str] = []
    start = ""
    while True:
        page = handle(segment_membership, ws, params={"segment_id": str(segment_id)}, limit=limit, start=start)
        members += [ident["cio_id"] for ident in page["identifiers"] or []]
        if not page["next"]:
            return members
        start = page["next"]


def every_activity(ws: Workspace, limit: int = 100, start: str = "", **query: Any) -> List[Dict[str, Any]]:
    """Every page of GET /v1/activities from `start` on, following `next` (a cursor that repeats fails)."""
    records: List[Dict[str, Any]] = []
    cursors = {start}
    while True:
        page = handle(list_activities, ws, limit=limit, start=start, **query)
        records += page["activities"]
        if not page["next"]:
            return records
        assert page["next"] not in cursors, "a page repeats"
        start = page["next"]
        cursors.add(start)


def brute_force_activities(
    ws: Workspace, activity_type: Optional[str] = None, deleted: str = "exclude"
) -> List[Dict[str, Any]]:
    """What the log lists, worked out the long way: every generated activity kept and processed, every
    logged change kept, their people's deletion told by cio_id; newest first by id.
    `deleted`: "exclude" (the default listing), "include" or "only"."""
    gone = ws.deleted_people()
    lo, hi = visible_range(ws)
    generated = [activity(ws, index) for index in range(lo, hi) if listed_now(ws, index)]
    logged = [entry.record for entry in ws.change_log.entries() if entry.record["timestamp"] >= ws.now - RETENTION]

    def of_deleted_person(record: Dict[str, Any]) -> bool:
        cio_id = record["customer_identifiers"]["cio_id"]
        return cio_id in gone or int(cio_id, 16) >= 0x4000000  # the generated deleted rounds' people

    kept = [
        record
        for record in generated + logged
        if (activity_type is None or record["type"] == activity_type)
        and (deleted == "include" or of_deleted_person(record) == (deleted == "only"))
    ]
    return sorted(kept, key=lambda record: record["id"], reverse=True)


def changes_logged(ws: Workspace, activity_type: Optional[str] = None) -> List[Dict[str, Any]]:
    return [entry.record for entry in ws.change_log.entries(activity_type)]


@pytest.fixture
def ws() -> Workspace:
    return Workspace(Knobs(people=300, activities=1500, segments=8, export_pending_polls=0))


# -- each kind of change, everywhere people are served --------------------------------------------
def test_a_created_person_is_searched_hydrated_exported_a_segment_member_and_logged(ws):
    index = ws.create_person()
    cio_id = ws.person_ids(index)["cio_id"]

    (person,) = batch(ws, [cio_id])
    assert index == 300 and ws.people_count == 301
    assert searched_cio_ids(ws)[-1] == cio_id and cio_id in exported_rows(ws)
    assert (
        person["identifiers"]
        == ws.person_ids(index)
        == {"email": "person300@example.com", "id": "100300", "cio_id": cio_id}
    )
    assert person["attributes"]["created_at"] == str(ws.now) and set(person["timestamps"].values()) == {ws.now}
    assert batch(ws, ["100300"], id_type="id") == batch(ws, ["person300@example.com"], id_type="email") == [person]
    in_segments = [segment for segment in range(1, 9) if cio_id in segment_cio_ids(ws, segment)]
    assert in_segments == [segment for segment in range(1, 9) if ws.in_segment(index, segment)] and in_segments
    assert handle(list_workspaces, ws)["workspaces"][0]["people"] == 301
    (logged,) = changes_logged(ws)
    assert logged == {
        "id": logged["id"],
        "customer_id": "100300",
        "customer_identifiers": ws.person_ids(index),
        "type": "profile_create",
        "timestamp": ws.now,
        "delivery_id": None,
        "delivery_type": None,
        "data": {},
    }


def test_an_attribute_change_is_served_everywhere_and_logged_once_per_attribute_that_changed(ws):
    ws.advance(60)
    ws.change_attributes(4, {"plan": "enterprise", "company": "Acme", "nickname": "Q"})  # company was Acme

    (person,) = batch(ws, ["3000004"])
    plan_is_enterprise = {"attribute": {"field": "plan", "operator": "eq", "value": "enterprise"}}
    assert person["attributes"]["plan"] == "enterprise" and person["attributes"]["nickname"] == "Q"
    assert person["timestamps"]["plan"] == person["timestamps"]["nickname"] == ws.now
    assert person["timestamps"]["company"] < ws.now  # unchanged: no new timestamp
    assert "3000004" in searched_cio_ids(ws, plan_is_enterprise)
    assert exported_rows(ws)["3000004"]["plan"] == "enterprise"
    assert handle(person_attributes, ws, params={"customer_id": "3000004"}, id_type="cio_id")["customer"] == person
    assert [record["data"] for record in changes_logged(ws)] == [
        {"plan": {"from": "free", "to": "enterprise"}},
        {"nickname": {"from": None, "to": "Q"}},
    ]
    with pytest.raises(ValueError):
        ws.change_attributes(4, {"email": "someone@example.com"})


def test_a_device_change_adds_a_device_or_updates_the_first_and_is_logged_with_it(ws):
    ws.change_devices(1)  # person 1 has no device
    ws.change_devices(3)  # person 3 has one

    (without, with_one) = batch(ws, ["3000001", "3000003"])
    assert [device["id"] for device in without["devices"]] == ["device-1"]
    assert [device["id"] for device in with_one["devices"]] == ["device-3"]
    assert (
        with_one["devices"][0]["last_used"] == ws.now and with_one["devices"][0]["attributes"]["app_version"] == "4.2.0"
    )
    assert [record["data"] for record in changes_logged(ws, "device_change")] == [
        {"device": without["devices"][0]},
        {"device": with_one["devices"][0]},
    ]


def test_a_merge_keeps_the_primary_with_what_it_lacked_and_deletes_the_secondary(ws):
    # Person 3 has no company and no last purchase; 66 (cio_id 3000042) has both, and another plan.
    primary, secondary = 3, 66
    ws.merge_people(primary, secondary)

    (person,) = batch(ws, ["3000003", "3000042"])  # the secondary is omitted
    attrs = person["attributes"]
    assert (attrs["company"], attrs["last_purchase_amount"]) == ("Initech\nLabs", "66.66")
    assert (attrs["plan"], attrs["first_name"]) == ("enterprise", "Dmitri")  # the primary's own stay
    assert person["identifiers"] == ws.person_ids(primary)  # identifiers are never merged
    assert person["timestamps"]["company"] == ws.now
    assert [device["id"] for device in person["devices"]] == ["device-3", "device-42"]
    assert "3000042" not in searched_cio_ids(ws) and ws.deleted_people() == {"3000042"}
    (logged,) = changes_logged(ws)
    assert logged["type"] == "profile_merge" and logged["customer_identifiers"] == ws.person_ids(primary)
    assert logged["data"] == {"merged": {"cio_id": "3000042", "id": "100066", "email": "person66@example.com"}}


def test_a_deleted_person_leaves_every_people_endpoint(ws):
    ids = ws.person_ids(6)
    ws.delete_person(6)

    assert batch(ws, [ids["cio_id"], "3000007"]) == batch(ws, ["3000007"])
    assert batch(ws, [ids["id"]], id_type="id") == [] and batch(ws, [ids["email"]], id_type="email") == []
    with pytest.raises(Exception, match="not found"):
        handle(person_attributes, ws, params={"customer_id": ids["id"]})
    assert ids["cio_id"] not in searched_cio_ids(ws) and ids["cio_id"] not in exported_rows(ws)
    assert ids["cio_id"] not in segment_cio_ids(ws, 1) and len(segment_cio_ids(ws, 1)) == 299  # 1: everyone
    assert ws.person_index(ids["cio_id"]) is None and 6 not in set(ws.live_person_indexes())
    assert handle(list_workspaces, ws)["workspaces"][0]["people"] == 299
    with pytest.raises(ValueError):
        ws.change_attributes(6, {"plan": "pro"})


def test_the_expected_table_and_a_new_export_total_are_the_people_as_they_are_now(ws):
    ws.churn(0.2)
    jobs = export_jobs(ws)
    job = jobs.create(ws, EVERYONE, [])

    expected = expected_customers(ws, {"customers": {"method": "search"}})
    assert [record["cio_id"] for record in expected] == searched_cio_ids(ws)
    assert {record["cio_id"]: record["attributes"] for record in expected} == {
        person["identifiers"]["cio_id"]: person["attributes"] for person in batch_all(ws)
    }
    assert jobs.poll(ws, job["id"])["total"] == ws.live_people_count() == len(expected)


def batch_all(ws: Workspace) -> List[Dict[str, Any]]:
    cio_ids = searched_cio_ids(ws)
    return [person for start in range(0, len(cio_ids), 100) for person in batch(ws, cio_ids[start : start + 100])]


# -- the activity log ------------------------------------------------------------------------------
def test_a_deleted_person_s_activities_are_listed_only_with_deleted_true(ws):
    person = 31  # generated activity i is person i * 31 % 300's: activity 1 is person 31's
    ws.change_attributes(person, {"plan": "pro"})
    ws.delete_person(person)
    cio_id = ws.person_ids(person)["cio_id"]

    def listed_for_person(**query: Any) -> List[str]:
        return [r["type"] for r in every_activity(ws, **query) if r["customer_identifiers"]["cio_id"] == cio_id]

    with_deleted = listed_for_person(deleted="true")
    assert listed_for_person() == []
    assert with_deleted[:2] == ["profile_delete", "attribute_change"] and len(with_deleted) > 2  # and generated ones
    ws.knobs.activities_deleted = "only"
    only_deleted = every_activity(ws, deleted="true")
    assert listed_for_person(deleted="true") == with_deleted
    assert only_deleted == brute_force_activities(ws, deleted="only")


@pytest.mark.parametrize("limit", [1, 3, 10, 100])
def test_paging_after_churns_lists_every_activity_once_newest_first(ws, limit):
    for _ in range(3):
        ws.churn(0.1)
        ws.advance(3 * 3600 + 17)
    ws.churn(0.1)

    listed = every_activity(ws, limit=limit)

    assert listed == brute_force_activities(ws)
    assert len({record["id"] for record in listed}) == len(listed)
    assert {record["type"] for record in listed} >= set(CHANGE_TYPES) - {"profile_delete"}


@pytest.mark.parametrize("activity_type", CHANGE_TYPES + ("event", None))
@pytest.mark.parametrize("deleted", ["exclude", "include", "only"])
def test_type_and_deleted_filters_page_exactly_the_brute_force_list(ws, activity_type, deleted):
    ws.churn(0.3)
    ws.advance(DAY)
    ws.churn(0.3)
    ws.knobs.activities_deleted = "only" if deleted == "only" else "adds"
    query = {"type": activity_type} if activity_type else {}
    query.update({"deleted": "true"} if deleted != "exclude" else {})

    assert every_activity(ws, limit=7, **query) == brute_force_activities(ws, activity_type, deleted)


def test_oldest_first_pages_the_same_activities_the_other_way(ws):
    ws.churn(0.3)
    ws.advance(3600)
    ws.churn(0.3)
    ws.knobs.activities_order = "oldest_first"

    assert every_activity(ws, limit=9) == brute_force_activities(ws)[::-1]


def test_changes_made_while_paging_come_on_top_and_the_pages_read_go_on_unchanged(ws):
    ws.churn(0.2)
    first = handle(list_activities, ws, limit=20)
    for _ in range(5):  # at the same second as the page read: newer than anything on it
        ws.create_person()
    rest = every_activity(ws, limit=20, start=first["next"])

    read = first["activities"] + rest
    assert every_activity(ws)[5:] == read == brute_force_activities(ws)[5:]
    assert {record["type"] for record in every_activity(ws)[:5]} == {"profile_create"}


def test_logged_changes_are_kept_30_days(ws):
    ws.churn(0.1)
    old = {record["id"] for record in changes_logged(ws)}
    ws.advance(RETENTION + 1)
    ws.churn(0.1)

    listed = {record["id"] for record in every_activity(ws, deleted="true")}
    assert not old & listed and {record["id"] for record in changes_logged(ws)} - old <= listed


def test_change_ids_are_unique_and_sort_by_time_after_the_same_second_s_generated_ones(ws):
    ws.churn(0.5)
    ids = [record["id"] for record in changes_logged(ws)]
    generated_now = [record for record in every_activity(ws, deleted="true") if record["timestamp"] == ws.now]

    assert len(set(ids)) == len(ids) and ids == sorted(ids)
    assert all(len(one) == 26 and one[2:14] == f"{ws.now:012X}" for one in ids)
    assert max(r["id"] for r in generated_now if r["id"] not in ids) < min(ids)


# -- churn -----------------------------------------------------------------------------------------
def test_churn_is_a_deterministic_mix_and_two_churns_differ():
    one, other = (Workspace(Knobs(people=1000, activities=100)) for _ in range(2))

    first, again = one.churn(0.1), other.churn(0.1)
    logged_first = [(entry.person, entry.record["type"]) for entry in one.change_log.entries()]
    second = one.churn(0.1)
    logged_second = [(entry.person, entry.record["type"]) for entry in one.change_log.entries()][len(logged_first) :]

    assert first == again and changes_logged(one)[: len(logged_first)] == changes_logged(other)
    assert sum(first.values()) == 100 and first["unlogged"] == 0
    assert all(5 <= first[kind] <= 25 for kind in ("device_changes", "creations", "deletions", "merges"))
    assert 30 <= first["attribute_changes"] <= 50
    assert logged_second[: len(logged_first)] != logged_first[: len(logged_second)]
    assert one.live_people_count() == 1000 + first["creations"] + second["creations"] - sum(
        counts["deletions"] + counts["merges"] for counts in (first, second)
    )


def test_every_nth_change_is_made_but_not_logged():
    ws = Workspace(Knobs(people=100, activities=100, unlogged_changes_every=3))
    ws.change_attributes(1, {"plan": "pro", "first_name": "Zoe"})  # change 1: two activities
    ws.create_person()  # 2
    ws.delete_person(2)  # 3: not logged
    ws.change_devices(4, logged=False)  # 4: not logged, asked so

    counts = ws.churn(0.3)

    assert [record["type"] for record in changes_logged(ws)][:3] == ["attribute_change"] * 2 + ["profile_create"]
    assert ws.is_deleted(2) and "device-4" in {device["id"] for device in ws.person_devices(4)}
    assert counts["unlogged"] == 10  # changes 5..34: 6, 9, ..., 33
    assert "3000002" not in {record["customer_identifiers"]["cio_id"] for record in changes_logged(ws)[:4]}


def test_the_control_endpoint_churns_and_answers_the_counts():
    with Sandbox(Knobs(people=200, activities=100)) as server:
        answer = requests.post(f"{server.url}/_sandbox/change_people", json={"share": 0.05}, timeout=10)

        counts = answer.json()
        assert answer.status_code == 200
        assert set(counts) == {"attribute_changes", "device_changes", "creations", "deletions", "merges", "unlogged"}
        assert counts["unlogged"] == 0 and sum(counts.values()) == 10  # 5% of 200
        assert len(server.workspace.change_log.entries()) >= 10


def test_moving_the_clock_changes_no_one(ws):
    before = batch(ws, ["3000000", "3000003"])
    ws.advance(3 * DAY)

    assert batch(ws, ["3000000", "3000003"]) == before
