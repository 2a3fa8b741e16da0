"""The pure pieces of the messaging and audience streams."""

import pytest

from source_customerio.streams.audience import every_object_filter, unique_slices
from source_customerio.streams.broadcasts import nil_tags_as_null
from source_customerio.streams.messaging import without_credentials


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://user:secret@hooks.example.com/path?q=1", "https://hooks.example.com/path?q=1"),
        ("https://token@hooks.example.com:8443/x", "https://hooks.example.com:8443/x"),
        ("https://a:b@c@hooks.example.com/x", "https://hooks.example.com/x"),
        ("https://hooks.example.com/path?email=a@example.com", "https://hooks.example.com/path?email=a@example.com"),
        ("http://hooks.example.com/plain", "http://hooks.example.com/plain"),
        (None, None),
        ("", ""),
    ],
)
def test_given_endpoint_when_stripped_then_no_credentials_remain(url, expected):
    assert without_credentials(url) == expected


@pytest.mark.parametrize(
    "tags, expected",
    [("nil", None), (["promo"], ["promo"]), ([], []), (None, None)],
)
def test_given_broadcast_tags_when_transformed_then_nil_string_becomes_null(tags, expected):
    assert nil_tags_as_null({"id": 1, "tags": tags}) == {"id": 1, "tags": expected}


def test_given_object_type_when_filter_built_then_type_is_repeated_in_the_condition():
    assert every_object_filter("3") == {
        "object_type_id": "3",
        "filter": {"and": [{"object_attribute": {"field": "object_id", "operator": "exists", "type_id": "3"}}]},
    }


def test_given_repeated_records_when_sliced_then_each_key_once_in_first_seen_order():
    records = [
        {"type": "1", "id": "a", "extra": 1},
        {"type": "1", "id": "b"},
        {"type": "1", "id": "a", "extra": 2},
        {"type": "2", "id": "a"},
    ]

    assert list(unique_slices(records, ("type", "id"))) == [
        {"type": "1", "id": "a"},
        {"type": "1", "id": "b"},
        {"type": "2", "id": "a"},
    ]
