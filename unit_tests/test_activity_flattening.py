"""Activities' pure pieces: stream names, flattened data, learned columns, when paging stops, the types
read one by one."""

import pytest

from source_customerio.activity_records import (
    DOCUMENTED_TYPES,
    colliding_types,
    flatten,
    learned_columns,
    page_is_older,
    parsed_record,
    stop_bound,
    stream_name,
    types_to_read,
)


@pytest.mark.parametrize(
    "activity_type, expected",
    [
        ("sent_email", "activity_sent_email"),
        ("_o:12:create", "activity__o_12_create"),
        ("_r:3:attribute_change", "activity__r_3_attribute_change"),
        ("Custom Event.v2", "activity_custom_event_v2"),
    ],
    ids=["plain", "object-type", "relationship-type", "case-space-dot"],
)
def test_given_type_when_named_then_safe_stream_name(activity_type, expected):
    assert stream_name(activity_type) == expected


def test_given_types_that_map_to_one_name_when_checked_then_reported():
    assert colliding_types(["_o:1:create", "_o_1_create", "event"]) == [["_o:1:create", "_o_1_create"]]
    assert colliding_types(["event", "page"]) == []


@pytest.mark.parametrize(
    "data, expected",
    [
        ({"name": "buy", "price": 9.5}, {"data_name": "buy", "data_price": 9.5}),
        (
            {"address": {"city": "Oslo", "country": {"code": "NO"}}},
            {"data_address_city": "Oslo", "data_address_country_code": "NO"},
        ),
        ({"plan": {"from": "free", "to": "pro"}}, {"data_plan_from": "free", "data_plan_to": "pro"}),
        (
            {"items": ["a", {"b": 1}], "empty": {}, "gone": None},
            {"data_items": ["a", {"b": 1}], "data_empty": {}, "data_gone": None},
        ),
        ({"a_b": 1, "a": {"b": 2}}, {"data_a_b": 1}),
        ({}, {}),
        (None, {}),
        ("text", {"data": "text"}),
    ],
    ids=[
        "flat",
        "nested-joined",
        "attribute-change",
        "arrays-empty-null-stay",
        "collision-first-wins",
        "empty",
        "null",
        "not-an-object",
    ],
)
def test_given_data_when_flattened_then_columns(data, expected):
    assert flatten(data) == expected


def test_given_activity_when_parsed_then_data_replaced_by_columns():
    record = {"id": "01A", "type": "event", "timestamp": 5, "data": {"name": "buy", "address": {"city": "Oslo"}}}

    assert parsed_record(record) == {
        "id": "01A",
        "type": "event",
        "timestamp": 5,
        "data_name": "buy",
        "data_address_city": "Oslo",
    }


def test_given_sample_when_learned_then_nullable_columns_typed_as_seen():
    sample = [
        {"id": "1", "data_name": "buy", "data_price": 3, "data_flag": True, "data_gone": None},
        {"id": "2", "data_name": "sell", "data_price": 2.5, "data_items": ["a"], "data_mixed": 1},
        {"id": "3", "data_mixed": "one"},
    ]

    assert learned_columns(sample) == {
        "data_name": {"type": ["null", "string"]},
        "data_price": {"type": ["null", "number"]},
        "data_flag": {"type": ["null", "boolean"]},
        "data_gone": {},
        "data_items": {"type": ["null", "array"]},
        "data_mixed": {"type": ["null", "number", "string"]},
    }
    assert learned_columns([]) == {}


@pytest.mark.parametrize(
    "stamps, bound, expected",
    [
        ([100, 90], 95, False),
        ([94, 90], 95, True),
        ([95, 90], 95, False),
        ([], 95, False),
        ([94, None], 95, False),
        ([10], None, False),
    ],
    ids=["straddles", "wholly-older", "bound-is-inclusive", "empty-page", "undated-record", "no-bound"],
)
def test_given_page_when_checked_then_stop_only_if_every_record_is_older(stamps, bound, expected):
    assert page_is_older([{"timestamp": stamp} for stamp in stamps], bound) is expected


@pytest.mark.parametrize(
    "saved, start_date, expected",
    [(None, None, None), (1000, None, 1000 - 3600), (None, 500, 500), (10000, 500, 10000 - 3600), (1000, 5000, 5000)],
    ids=["first-sync", "cursor-less-margin", "start-date", "cursor-later", "start-date-later"],
)
def test_given_cursor_and_start_date_when_bounded_then_later_of_both(saved, start_date, expected):
    assert stop_bound(saved, start_date, 3600) == expected


def test_types_to_read_are_the_documented_ones_each_object_types_and_those_seen_each_once():
    types = types_to_read(["1", "7"], ["event", "brand_new_type", None, "brand_new_type", "_o:12:create"])

    assert types[: len(DOCUMENTED_TYPES)] == DOCUMENTED_TYPES
    assert {"_o:1:create", "_o:7:delete_relationship", "_r:7:failed_attribute_change"} <= set(types)
    assert types[-2:] == ("brand_new_type", "_o:12:create")
    assert len(types) == len(set(types)) == len(DOCUMENTED_TYPES) + 2 * 8 + 2
