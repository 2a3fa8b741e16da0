"""First pages fetched while slices were made, handed to each slice's read once (streams.base.PagesInHand)."""

import requests

from source_customerio.streams.base import PagesInHand


def page(url: str):
    request = requests.Request("GET", url).prepare()
    response = requests.Response()
    response.status_code, response.request = 200, request
    return request, response


WINDOW = {"type": "email", "start_ts": 1, "end_ts": 100}


def test_given_a_kept_page_then_its_slice_takes_it_once_whatever_the_order_of_the_slice_keys():
    in_hand = PagesInHand()
    first_page = page("https://api.customer.io/v1/messages?start_ts=1&end_ts=100&type=email")
    in_hand.keep(WINDOW, first_page)

    same_slice = {"end_ts": 100, "start_ts": 1, "type": "email"}
    assert (in_hand.take(same_slice), in_hand.take(same_slice)) == (first_page, None)


def test_given_another_slice_then_no_page_is_handed_over():
    in_hand = PagesInHand()
    in_hand.keep(WINDOW, page("https://api.customer.io/v1/messages"))

    assert in_hand.take({**WINDOW, "type": "push"}) is None and in_hand.take(None) is None


def test_given_no_room_then_a_page_is_not_kept_and_its_slice_asks_the_api():
    in_hand = PagesInHand(most=2)
    slices = [{**WINDOW, "start_ts": start} for start in (1, 2, 3)]
    for stream_slice in slices:
        in_hand.keep(stream_slice, page("https://api.customer.io/v1/messages"))

    assert [in_hand.take(stream_slice) is not None for stream_slice in slices] == [True, True, False]


def test_given_a_page_taken_then_its_room_is_free_again():
    in_hand = PagesInHand(most=1)
    in_hand.keep(WINDOW, page("https://api.customer.io/v1/messages"))
    in_hand.take(WINDOW)
    later = {**WINDOW, "start_ts": 101, "end_ts": 200}
    in_hand.keep(later, page("https://api.customer.io/v1/messages"))

    assert in_hand.take(later) is not None
