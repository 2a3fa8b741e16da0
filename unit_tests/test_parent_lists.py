"""A list read earlier in the sync serves the slices it holds, and only those."""

from source_customerio.streams.base import records_of_slice

ACTIONS = [{"id": 1, "campaign_id": 7}, {"id": 2, "campaign_id": 7}, {"id": 3, "campaign_id": 8}]


def test_given_no_list_then_none():
    assert records_of_slice(None, {}, ()) is None


def test_given_an_empty_slice_then_the_whole_list():
    assert records_of_slice(ACTIONS, {}, ("campaign_id",)) == ACTIONS


def test_given_a_parent_slice_then_that_parents_records_in_order():
    assert records_of_slice(ACTIONS, {"campaign_id": 7}, ("campaign_id",)) == ACTIONS[:2]
    assert records_of_slice(ACTIONS, {"campaign_id": 9}, ("campaign_id",)) == []


def test_given_a_slice_asking_for_what_records_do_not_carry_then_none():
    assert records_of_slice(ACTIONS, {"campaign_id": 7, "since": 100}, ("campaign_id",)) is None
