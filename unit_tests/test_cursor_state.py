"""One-cursor state (client-side streams, metrics): unix seconds or nothing; anything else is a
config error that names the stream."""

import pytest

from source_customerio.config import StateError
from source_customerio.streams.base import saved_unix_seconds


@pytest.mark.parametrize("state, cursor", [(None, None), ({}, None), ({"updated": 10}, 10), ({"other": "x"}, None)])
def test_given_a_good_state_then_its_cursor(state, cursor):
    assert saved_unix_seconds("campaigns", state, "updated") == cursor


@pytest.mark.parametrize(
    "state, problem",
    [
        ({"updated": "abc"}, "has `updated` 'abc', which is not unix seconds"),
        ({"updated": True}, "has `updated` True, which is not unix seconds"),
        ({"updated": 1.5}, "has `updated` 1.5, which is not unix seconds"),
        ([1], "is [1], not an object"),
    ],
)
def test_given_a_state_of_another_shape_then_a_config_error_naming_the_stream(state, problem):
    with pytest.raises(StateError) as raised:
        saved_unix_seconds("campaigns", state, "updated")

    assert raised.value.message.startswith(f"The saved state of stream `campaigns` {problem}. Clear the stream's data")
