"""Incremental people: which sync reads everyone, who an activity names, chains merged in parallel."""

import threading
import time

import pytest

from source_customerio.people_changes import (
    CHANGES,
    DAY,
    FULL_READ,
    PROFILE_CHANGE_TYPES,
    change_chains,
    cio_ids_in,
    deletion_chains,
    merged_in_parallel,
    people_gone,
    people_named,
    plain_cio_id,
    plan_people_read,
)

NOW = 1_800_000_000
HOUR = 3600


def plan(saved, lookback=HOUR, every_days=7, filtered=False):
    return plan_people_read(saved, NOW, lookback, every_days, filtered)


def test_given_no_full_read_saved_then_everyone_is_read():
    assert plan({}).changes_since is None
    assert plan({CHANGES: NOW - HOUR}).changes_since is None  # changes alone never stand in for a full read


def test_given_a_recent_full_read_then_changes_since_the_newest_read_less_the_lookback():
    assert plan({FULL_READ: NOW - DAY}).changes_since == NOW - DAY - HOUR
    assert plan({FULL_READ: NOW - 3 * DAY, CHANGES: NOW - HOUR}).changes_since == NOW - 2 * HOUR


def test_given_a_filter_then_everyone_the_filter_selects_is_read_and_the_reason_says_so():
    read = plan({FULL_READ: NOW - DAY}, filtered=True)
    assert read.changes_since is None and "`customers.filter`" in read.reason


@pytest.mark.parametrize(
    "read_to, full_read",
    [
        (NOW - 29 * DAY + HOUR - 1, False),  # with the lookback, one second past 29 days: past the horizon
        (NOW - 29 * DAY + HOUR, True),
    ],
)
def test_given_state_past_the_log_horizon_less_a_day_then_everyone_is_read(read_to, full_read):
    read = plan({FULL_READ: NOW - 29 * DAY, CHANGES: read_to}, every_days=0)
    assert (read.changes_since is None) is not full_read
    if not full_read:
        assert "30 days" in read.reason


@pytest.mark.parametrize("age_days, every_days, reads_everyone", [(6, 7, False), (7, 7, True), (20, 0, False)])
def test_given_the_last_full_read_is_old_then_everyone_is_read(age_days, every_days, reads_everyone):
    read = plan({FULL_READ: NOW - age_days * DAY, CHANGES: NOW - HOUR}, every_days=every_days)
    assert (read.changes_since is None) is reads_everyone
    if reads_everyone:
        assert "`customers.full_read_every_days`" in read.reason


def test_change_chains_read_every_profile_type_and_deletions_with_deleted_true():
    chains = change_chains()
    assert [kind for kind, deleted in chains if not deleted] == list(PROFILE_CHANGE_TYPES)
    assert [kind for kind, deleted in chains if deleted] == ["profile_delete"]
    assert not {"add_relationship", "delete_relationship", "event"} & {kind for kind, _ in chains}


def test_an_activity_names_its_person_and_a_merge_also_the_person_merged_away():
    change = {"type": "attribute_change", "customer_identifiers": {"cio_id": "a1", "id": "7"}, "data": {"cio_id": "x"}}
    merge = {
        "type": "profile_merge",
        "customer_identifiers": {"cio_id": "a1"},
        "data": {"merged": {"cio_id": "cio_b2", "email": "b@example.com"}, "more": [{"cio_id": "c3"}]},
    }
    anonymous = {"type": "anon_merge", "customer_identifiers": {"cio_id": None}, "data": {}}

    assert people_named(change) == ["a1"]  # an attribute named cio_id is not a person
    assert people_named(merge) == ["a1", "b2", "c3"]
    assert people_named(anonymous) == []
    assert people_gone(merge) == ["b2", "c3"] and people_gone(change) == []
    assert people_gone({"type": "profile_delete", "customer_identifiers": {"cio_id": "d4"}}) == ["d4"]


def test_a_full_read_with_state_also_reads_the_deletions_since_the_last_read_within_the_log():
    assert deletion_chains() == [("profile_merge", False), ("profile_delete", False), ("profile_delete", True)]
    assert plan({}).deletions_since is None  # a first read: nothing to delete
    assert plan({FULL_READ: NOW - 8 * DAY, CHANGES: NOW - HOUR}).deletions_since == NOW - 2 * HOUR
    assert plan({FULL_READ: NOW - 40 * DAY}, every_days=0).deletions_since == NOW - 30 * DAY
    assert plan({FULL_READ: NOW - DAY}).deletions_since is None  # a read of changes finds them itself


def test_cio_ids_lose_the_prefix_activities_want_and_empty_ones_are_none():
    assert plain_cio_id("cio_03000010") == "03000010" and plain_cio_id("3000010") == "3000010"
    assert plain_cio_id("") is None and plain_cio_id(None) is None
    assert list(cio_ids_in({"cio_id": {"from": "a", "to": "b"}})) == []


def test_chains_run_side_by_side_and_each_value_comes_once():
    both_started = threading.Barrier(2, timeout=5)  # a chain read one after the other would time out here

    def chain(values):
        def run():
            both_started.wait()
            yield from values

        return run

    merged = list(merged_in_parallel([chain(["a", "b", "c"]), chain(["c", "d", "a"])], workers=4))

    assert sorted(merged) == ["a", "b", "c", "d"]


def test_a_failing_chain_fails_the_read_and_stops_the_others():
    produced = []

    def endless():
        for n in range(10_000):
            produced.append(n)
            time.sleep(0.001)
            yield f"p{n}"

    def failing():
        time.sleep(0.02)
        raise RuntimeError("403 on type device_change")
        yield  # a generator

    with pytest.raises(RuntimeError, match="403"):
        list(merged_in_parallel([endless, failing], workers=2))
    assert len(produced) < 10_000
