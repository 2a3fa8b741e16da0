"""Cursor pagination: which cursor a request sent, when the listing is over, and runs of empty pages."""

import pytest
import requests

from source_customerio.pagination import ListingProgress, Progress, listing_of, next_cursor, sent_cursor

BASE = "https://api.customer.io/v1"


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
    "body, sent, expected",
    [
        pytest.param({"next": "c2"}, "c1", "c2", id="next_present"),
        pytest.param({"next": "c1"}, None, "c1", id="first_page_next_present"),
        pytest.param({"next": 20}, "10", "20", id="numeric_next_becomes_text"),
        pytest.param({}, "c1", None, id="next_missing"),
        pytest.param({"next": ""}, "c1", None, id="next_empty"),
        pytest.param({"next": None}, "c1", None, id="next_null"),
        pytest.param({"next": "c1"}, "c1", None, id="repeated_cursor"),
    ],
)
def test_given_page_when_next_cursor_then_listing_continues_or_stops(body, sent, expected):
    assert next_cursor(body, sent) == expected


def test_given_pages_when_followed_then_pages_and_empty_runs_are_counted_per_listing():
    listings = ListingProgress()
    assert listings.follow("GET /v1/a", None, 0, "c1") == Progress(pages=1, empty_in_a_row=1)
    assert listings.follow("GET /v1/b", None, 0, "c1") == Progress(1, 1)  # another listing's cursors count apart
    assert listings.follow("GET /v1/a", "c1", 0, "c2") == Progress(2, 2)
    assert listings.follow("GET /v1/a", "c2", 10, "c3") == Progress(3, 0)  # a page with records ends the run
    assert listings.follow("GET /v1/a", "c3", 0, "c4") == Progress(4, 1)
    assert listings.follow("GET /v1/b", "c1", 0, "c2") == Progress(2, 2)


def request(url: str, body: bytes = b"") -> requests.PreparedRequest:
    return requests.Request("POST" if body else "GET", url, data=body or None).prepare()


@pytest.mark.parametrize(
    "first, second, same",
    [
        pytest.param(
            request(f"{BASE}/segments/1/membership?limit=5"),
            request(f"{BASE}/segments/1/membership?start=MQ%3D%3D&limit=5"),
            True,
            id="start_ignored",
        ),
        pytest.param(
            request(f"{BASE}/segments/1/membership"), request(f"{BASE}/segments/2/membership"), False, id="path"
        ),
        pytest.param(request(f"{BASE}/activities?type=a"), request(f"{BASE}/activities?type=b"), False, id="query"),
        pytest.param(
            request(f"{BASE}/customers", b'{"filter":1}'),
            request(f"{BASE}/customers", b'{"filter":2}'),
            False,
            id="body",
        ),
    ],
)
def test_given_two_requests_when_listing_of_then_pages_of_one_listing_share_it(first, second, same):
    assert (listing_of(first) == listing_of(second)) is same
