"""End to end beyond EXPECTED: a key without a scope, pagination quirks seen from the server's side."""

import pytest
import requests
from airbyte_cdk.models import AirbyteStreamStatus, FailureType, SyncMode, Type
from airbyte_cdk.test.state_builder import StateBuilder

from sandbox.workspace import Knobs, Live
from source_customerio.errors import FORBIDDEN_MESSAGE
from testkit.connector import canonical, read_streams, records_by_stream, sandbox_config
from testkit.expected import EXPECTED

SCOPED_KEY = "sandbox-key-without-broadcasts"


def requests_to(sandbox, path: str) -> list:
    return [entry["path"] for entry in sandbox.stats.log if entry["path"].split("?")[0] == path]


def test_given_key_without_a_scope_when_read_then_only_its_streams_fail_naming_the_scope(make_sandbox):
    sandbox = make_sandbox(scoped_keys={SCOPED_KEY: {"broadcasts"}})
    config = sandbox_config(sandbox, app_api_key=SCOPED_KEY)

    output = read_streams(
        config, ["broadcasts", "snippets", "broadcast_actions", "ip_addresses"], expecting_exception=True
    )

    got = records_by_stream(output)
    assert set(got) == {"snippets", "ip_addresses"}
    for stream in ("snippets", "ip_addresses"):
        assert canonical(got[stream]) == canonical(EXPECTED[stream](sandbox.workspace, config))
        assert output.get_stream_statuses(stream)[-1] == AirbyteStreamStatus.COMPLETE
    failed = {
        error.trace.error.stream_descriptor.name: error.trace.error
        for error in output.errors
        if error.trace.error.stream_descriptor
    }
    assert set(failed) == {"broadcasts", "broadcast_actions"}
    for error in failed.values():  # broadcast_actions fails reading its parent list, GET /v1/broadcasts
        assert (error.message, error.failure_type) == (
            FORBIDDEN_MESSAGE.format(resource="GET /v1/broadcasts"),
            FailureType.config_error,
        )
        assert "scope does not include broadcasts" in error.internal_message  # the API's own words, for the logs
    assert output.get_stream_statuses("broadcasts")[-1] == AirbyteStreamStatus.INCOMPLETE


@pytest.mark.parametrize(
    "live, hidden_listing_pages",
    [
        pytest.param(Live(), 2, id="hidden_true_lists_only_hidden_senders"),  # 14, then an empty page
        pytest.param(Live.reference(), 2, id="hidden_true_lists_every_sender"),  # 100, 30
    ],
)
def test_given_either_reading_of_hidden_when_read_then_each_sender_once_with_exact_flag(
    make_sandbox, live, hidden_listing_pages
):
    sandbox = make_sandbox(live=live)  # 130 senders, of which 116 visible (pages of 100, 16)
    config = sandbox_config(sandbox)

    output = read_streams(config, ["sender_identities"])

    records = records_by_stream(output)["sender_identities"]
    assert canonical(records) == canonical(EXPECTED["sender_identities"](sandbox.workspace, config))
    assert len({record["id"] for record in records}) == len(records) == 130
    assert sum(record["hidden"] for record in records) == 14
    hidden = [path for path in requests_to(sandbox, "/v1/sender_identities") if "hidden=true" in path]
    visible = [path for path in requests_to(sandbox, "/v1/sender_identities") if "hidden=" not in path]
    # The visible listing is read twice: as a slice, and to tell which senders are hidden.
    assert (len(hidden), len(visible)) == (hidden_listing_pages, 2 * (3 if live.senders_hidden_only else 2))


def test_given_exactly_one_full_page_of_bounces_when_read_then_null_page_past_the_end_stops_it(make_sandbox):
    sandbox = make_sandbox(Knobs(suppressions=1000))
    config = sandbox_config(sandbox)

    output = read_streams(config, ["esp_suppressions"])

    assert canonical(records_by_stream(output)["esp_suppressions"]) == canonical(
        EXPECTED["esp_suppressions"](sandbox.workspace, config)
    )
    assert [path.split("?")[1] for path in requests_to(sandbox, "/v1/esp/suppression/bounces")] == [
        "limit=1000&offset=0",
        "limit=1000&offset=1000",
    ]


PARENT_FIELD = {
    "broadcast_actions": "broadcast_id",
    "transactional_contents": "transactional_id",
    "campaign_actions": "campaign_id",
}


@pytest.mark.parametrize("stream", list(PARENT_FIELD))
def test_given_parents_when_incremental_read_then_cursor_moves_only_after_the_last_parent(sandbox, config, stream):
    incoming = {"updated": 1}
    output = read_streams(
        config, [stream], SyncMode.incremental, StateBuilder().with_stream_state(stream, incoming).build()
    )

    states = [message.state.stream.stream_state.__dict__ for message in output.state_messages]
    newest = max(record.record.data["updated"] for record in output.records)
    parents = {record.record.data[PARENT_FIELD[stream]] for record in output.records}
    assert len(parents) > 1
    # The one state comes after the records of every parent: a sync cut before keeps the saved cursor.
    assert states == [{"updated": newest}]
    assert output.records_and_state_messages[-1].type == Type.STATE


def test_given_saved_cursor_when_campaign_actions_incremental_then_exactly_the_actions_updated_since(sandbox, config):
    every = EXPECTED["campaign_actions"](sandbox.workspace, config)
    cursor = sorted(action["updated"] for action in every)[len(every) // 2]

    output = read_streams(
        config,
        ["campaign_actions"],
        SyncMode.incremental,
        StateBuilder().with_stream_state("campaign_actions", {"updated": cursor}).build(),
    )

    expected = [action for action in every if action["updated"] >= cursor]
    assert 0 < len(expected) < len(every)
    assert canonical(records_by_stream(output)["campaign_actions"]) == canonical(expected)


@pytest.mark.parametrize("parent, stream", [("campaigns", "campaign_actions"), ("broadcasts", "broadcast_actions")])
def test_given_action_ids_served_as_digit_strings_when_read_then_integers(sandbox, config, parent, stream):
    served = requests.get(
        f"{sandbox.url}/v1/{parent}/3/actions", headers={"Authorization": f"Bearer {sandbox.app_key}"}, timeout=10
    ).json()["actions"]
    assert served and all(isinstance(action["id"], str) and action["id"].isdigit() for action in served)

    records = records_by_stream(read_streams(config, [stream]))[stream]

    assert all(isinstance(record["id"], int) for record in records)
    assert {str(record["id"]) for record in records} >= {action["id"] for action in served}
