"""Cursor pagination: which cursor a request sent, and when the listing is over."""

import pytest

from source_customerio.pagination import next_cursor, sent_cursor


@pytest.mark.parametrize(
    "url, expected",
    [
        pytest.param("https://api.customer.io/v1/newsletters?limit=100", None, id="first_page_sends_no_start"),
        pytest.param(
            "https://api.customer.io/v1/newsletters?limit=100&start=abc%3D", "abc=", id="start_is_url_decoded"
        ),
        pytest.param("https://api.customer.io/v1/newsletters?start=&limit=100", None, id="blank_start_is_no_start"),
    ],
)
def test_given_request_url_when_sent_cursor_then_start_parameter_is_returned(url, expected):
    assert sent_cursor(url) == expected


@pytest.mark.parametrize(
    "body, sent, page_length, expected",
    [
        pytest.param({"next": "c2"}, "c1", 10, "c2", id="next_present"),
        pytest.param({"next": "c1"}, None, 10, "c1", id="first_page_next_present"),
        pytest.param({"next": 20}, "10", 10, "20", id="numeric_next_becomes_text"),
        pytest.param({}, "c1", 10, None, id="next_missing"),
        pytest.param({"next": ""}, "c1", 10, None, id="next_empty"),
        pytest.param({"next": None}, "c1", 10, None, id="next_null"),
        pytest.param({"next": "c2"}, "c1", 0, None, id="empty_page_with_next"),
        pytest.param({"next": "c1"}, "c1", 10, None, id="repeated_cursor"),
    ],
)
def test_given_page_when_next_cursor_then_listing_continues_or_stops(body, sent, page_length, expected):
    assert next_cursor(body, sent, page_length) == expected
