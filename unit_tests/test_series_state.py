"""Per-series state (messages per channel, activities per type): good shapes load, others are config errors."""

import pytest
from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.test.state_builder import StateBuilder

from source_customerio.streams.series import saved_cursors
from unit_tests.mock_server.config import ConfigBuilder
from unit_tests.mock_server.harness import read_stream


def test_given_series_state_when_loaded_then_cursor_per_series():
    state = {
        "states": [
            {"partition": {"type": "email"}, "cursor": {"created": 10}},
            {"partition": {"type": None}, "cursor": {"created": 20}},
        ]
    }

    assert saved_cursors(state, "created") == {"email": 10, None: 20}


def test_given_no_state_when_loaded_then_no_cursors():
    assert saved_cursors({}, "created") == {} and saved_cursors(None, "created") == {}


@pytest.mark.parametrize(
    "state",
    [
        pytest.param({"created": 10}, id="single_cursor_of_another_stream"),
        pytest.param({"states": {"email": 10}}, id="states_not_a_list"),
        pytest.param(
            {"states": [{"partition": {"type": "email"}, "cursor": {"created": "yesterday"}}]},
            id="cursor_not_unix_seconds",
        ),
        pytest.param({"states": [{"cursor": {"created": 10}}]}, id="no_partition"),
        pytest.param({"states": ["email"]}, id="entry_not_an_object"),
    ],
)
def test_given_state_of_another_shape_when_loaded_then_value_error(state):
    with pytest.raises(ValueError):
        saved_cursors(state, "created")


def test_given_messages_state_of_another_shape_when_read_then_config_error_naming_the_stream():
    state = StateBuilder().with_stream_state("messages", {"created": 10}).build()

    output = read_stream("messages", ConfigBuilder().build(), SyncMode.incremental, state, expecting_exception=True)

    error = output.errors[0].trace.error
    assert error.failure_type == FailureType.config_error
    assert error.message.startswith("The saved state of stream `messages` is not {")
    assert output.records == []
