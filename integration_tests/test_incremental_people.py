"""Incremental people against the sandbox, whose people change between syncs: the records of every
sync, merged as an append-deduped destination merges them (the newest record per cio_id, deletions
applied), are exactly the sandbox's people, by search and by export, live and reference, after a
long pause past the log's horizon and with changes the log never showed; and a deleted person's row
in PyAirbyte's DuckDB cache."""

from dataclasses import replace
from itertools import islice
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

import pytest
from airbyte_cdk.models import SyncMode

from sandbox.workspace import DAY, Knobs, Live
from testkit.connector import canonical, read_streams, records_by_stream, sandbox_config
from testkit.expected_customers import expected_customers

KNOBS = Knobs(people=400, activities=600, export_pending_polls=0)
CDC_FIELDS = ("_ab_cdc_updated_at", "_ab_cdc_deleted_at")
EXPORT_FIELDS = ("cio_id", "id", "email", "attributes")  # what an export file carries


class Syncs:
    """Incremental syncs of `customers` one after another, each from the last one's state."""

    def __init__(self, config: Mapping[str, Any]):
        self.config = config
        self.state: Optional[List[Any]] = None
        self.records: List[Dict[str, Any]] = []  # every sync's, in the order they came
        self.last: List[Dict[str, Any]] = []
        self.logs: List[str] = []

    def run(self) -> "Syncs":
        output = read_streams(self.config, ["customers"], SyncMode.incremental, self.state)
        assert not output.errors, output.errors
        self.last = records_by_stream(output).get("customers", [])
        self.records += self.last
        self.logs = [message.log.message for message in output.logs]
        self.state = [output.state_messages[-1].state]
        return self

    def said(self, text: str) -> bool:
        return any(text in line for line in self.logs)


def deduped(records: Iterable[Mapping[str, Any]]) -> List[Dict[str, Any]]:
    """What an append-deduped destination keeps: per cio_id the record with the newest cursor (the
    later one on a tie), none where that record is a deletion."""
    newest: Dict[str, Tuple[int, int, Mapping[str, Any]]] = {}
    for order, record in enumerate(records):
        key = (record["_ab_cdc_updated_at"], order)
        if record["cio_id"] not in newest or key > newest[record["cio_id"]][:2]:
            newest[record["cio_id"]] = (*key, record)
    return [dict(record) for _, _, record in newest.values() if record.get("_ab_cdc_deleted_at") is None]


def without(records: Iterable[Mapping[str, Any]], fields: Iterable[str] = CDC_FIELDS) -> List[Dict[str, Any]]:
    return [{name: value for name, value in record.items() if name not in fields} for record in records]


def only(records: Iterable[Mapping[str, Any]], fields: Iterable[str]) -> List[Dict[str, Any]]:
    return [{name: record.get(name) for name in fields} for record in records]


def table_is_the_sandbox(syncs: Syncs, server, method: str) -> bool:
    got, want = without(deduped(syncs.records)), without(expected_customers(server.workspace, syncs.config))
    if method == "export":  # a person read again after a change comes with the search method's fields
        got, want = only(got, EXPORT_FIELDS), only(want, EXPORT_FIELDS)
    return canonical(got) == canonical(want)


def change_some_people(ws) -> None:
    """One of each kind of change on people still there, then a random 5% of the people."""
    changed, devices, primary, secondary, deleted = islice(ws.live_person_indexes(3), 5)
    ws.create_person()
    ws.change_attributes(changed, {"plan": "enterprise", "first_name": "Zed"})
    ws.change_devices(devices)
    ws.merge_people(primary, secondary)
    ws.delete_person(deleted)
    ws.churn(0.05)


@pytest.fixture
def people_sandbox(make_sandbox, monkeypatch):
    def start(knobs: Knobs = KNOBS, live: Optional[Live] = None):
        server = make_sandbox(knobs, live=live or Live())
        monkeypatch.setattr("source_customerio.windows.current_time", lambda: server.workspace.now)
        return server

    return start


@pytest.mark.parametrize("method", ["search", "export"])
@pytest.mark.parametrize(
    "mode",
    ["live", "reference", "deleted_only"],
    ids=["live", "reference", "deleted-true-lists-only-deleted-people"],
)
def test_after_creates_updates_merges_and_deletes_incremental_syncs_are_exactly_the_sandbox_people(
    people_sandbox, method, mode
):
    knobs = replace(KNOBS, activities_deleted="only") if mode == "deleted_only" else KNOBS
    server = people_sandbox(knobs, Live.reference() if mode == "reference" else Live())
    ws = server.workspace
    syncs = Syncs(sandbox_config(server, customers={"method": method}))

    syncs.run()
    assert syncs.said("no full read is saved") and table_is_the_sandbox(syncs, server, method)
    for _ in range(2):
        ws.advance(600)
        change_some_people(ws)
        ws.advance(600)
        syncs.run()

        assert syncs.said("reading the people the activity log shows changed")
        assert table_is_the_sandbox(syncs, server, method)
        assert len(syncs.last) < KNOBS.people / 3  # the changed people, not everyone
    gone = {record["cio_id"] for record in syncs.records if record.get("_ab_cdc_deleted_at")}
    assert ws.deleted_people() <= gone  # every person deleted or merged away left the table


def test_given_state_older_than_the_log_keeps_then_everyone_is_read_with_the_deletions_the_log_still_shows(
    people_sandbox,
):
    server = people_sandbox()
    ws = server.workspace
    syncs = Syncs(sandbox_config(server, customers={"full_read_every_days": 0})).run()

    ws.advance(31 * DAY)  # nobody synced for a month
    change_some_people(ws)
    ws.advance(600)
    syncs.run()

    assert syncs.said("beyond the 30 days")
    assert table_is_the_sandbox(syncs, server, "search")
    ws.advance(600)
    change_some_people(ws)
    ws.advance(600)
    syncs.run()
    assert syncs.said("changed since") and table_is_the_sandbox(syncs, server, "search")


def test_changes_the_log_does_not_show_are_caught_by_the_next_full_read(people_sandbox):
    server = people_sandbox(replace(KNOBS, unlogged_changes_every=3))
    ws = server.workspace
    syncs = Syncs(sandbox_config(server, customers={"full_read_every_days": 1})).run()

    for person in range(20, 26):  # attribute changes, every third of them not logged
        ws.change_attributes(person, {"plan": f"custom-{person}"})
    ws.advance(600)
    syncs.run()
    assert syncs.said("changed since") and not table_is_the_sandbox(syncs, server, "search")

    ws.advance(DAY)
    syncs.run()
    assert syncs.said("`customers.full_read_every_days`") and table_is_the_sandbox(syncs, server, "search")


def test_a_full_read_with_a_filter_still_applies_the_deletions_the_log_shows(people_sandbox):
    server = people_sandbox()
    ws = server.workspace
    config = sandbox_config(server, customers={"filter": '{"attribute":{"field":"plan","operator":"exists"}}'})
    syncs = Syncs(config).run()

    ws.delete_person(5)
    ws.merge_people(7, 8)
    ws.advance(600)
    syncs.run()

    assert syncs.said("`customers.filter` is set") and table_is_the_sandbox(syncs, server, "search")
