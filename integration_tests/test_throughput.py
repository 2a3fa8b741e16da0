"""Throughput without loss: concurrent reads equal sequential ones, the shared budget holds with
several requests in flight, and no response is parsed twice. (Speed is measured by `make bench`.)"""

from typing import Any, Dict, List, Tuple

import pytest
import requests
from airbyte_cdk.models import SyncMode, Type

import source_customerio.responses
from sandbox.server import Settings
from sandbox.workspace import Knobs
from testkit.connector import canonical, read_streams, records_by_stream, sandbox_config

# The sandbox's messages span the two years before its clock; 30 000 of them put about 1200 into
# each 30-day window, so every window is read in two pages and several windows are in flight.
MESSAGE_KNOBS = Knobs(messages=30_000)
MESSAGE_OPTIONS = {"start_date": "2025-06-01T00:00:00Z", "messages": {"types": ["email", "push", "webhook"]}}


@pytest.fixture
def message_sandbox(make_sandbox, monkeypatch):
    server = make_sandbox(MESSAGE_KNOBS)
    # Windows end at the connector's now; make it the sandbox's, so every run sees the same windows.
    monkeypatch.setattr("source_customerio.windows.current_time", lambda: server.workspace.now)
    return server


def stream_states(output) -> List[Dict[str, Any]]:
    return [message.state.stream.stream_state.__dict__ for message in output.state_messages]


def cursor_by_channel(state: Dict[str, Any]) -> Dict[Any, Any]:
    return {entry["partition"]["type"]: entry["cursor"]["created"] for entry in state["states"]}


def states_of(output, stream: str) -> List[Dict[str, Any]]:
    return [
        message.state.stream.stream_state.__dict__
        for message in output.state_messages
        if message.state.stream.stream_descriptor.name == stream
    ]


def test_concurrent_messages_read_emits_the_records_and_states_of_a_sequential_read(message_sandbox):
    config = sandbox_config(message_sandbox, **MESSAGE_OPTIONS)

    concurrent = read_streams({**config, "max_concurrent_requests": 8}, ["messages"], SyncMode.incremental)
    sequential = read_streams({**config, "max_concurrent_requests": 1}, ["messages"], SyncMode.incremental)

    assert not concurrent.errors and not sequential.errors
    assert len(sequential.records) > 10_000
    assert canonical(m.record.data for m in concurrent.records) == canonical(m.record.data for m in sequential.records)
    # The same cursor per channel; their order is the order the channels first completed a window.
    assert cursor_by_channel(stream_states(concurrent)[-1]) == cursor_by_channel(stream_states(sequential)[-1])
    assert len(stream_states(concurrent)) > 3  # states as windows complete, not only at the end
    assert_no_state_ahead_of_its_records(concurrent)


def assert_no_state_ahead_of_its_records(output) -> None:
    """Each messages state comes after every record of the windows it says are read, and no
    channel's cursor moves back."""
    total: Dict[Tuple[str, int], int] = {}
    for message in output.records:
        key = (message.record.data["type"], message.record.data["created"])
        total[key] = total.get(key, 0) + 1
    seen: Dict[Tuple[str, int], int] = {}
    cursors: Dict[str, int] = {}
    for message in output.records_and_state_messages:
        if message.type == Type.RECORD:
            key = (message.record.data["type"], message.record.data["created"])
            seen[key] = seen.get(key, 0) + 1
            continue
        for entry in message.state.stream.stream_state.__dict__["states"]:
            channel, cursor = entry["partition"]["type"], entry["cursor"]["created"]
            assert cursor >= cursors.get(channel, cursor)
            cursors[channel] = cursor
            covered = [key for key in total if key[0] == channel and key[1] <= cursor]
            assert all(seen.get(key) == total[key] for key in covered), f"state {channel} {cursor} before its records"


@pytest.mark.rate_budget
def test_several_requests_in_flight_never_exceed_the_shared_budget(make_sandbox):
    # 40 campaigns: about 70 requests over one parent list and many action pages, 7 s at 10 req/s.
    server = make_sandbox(Knobs(campaigns=40), Settings(rate_limit=10, latency_ms=20))

    output = read_streams(sandbox_config(server, max_concurrent_requests=6), ["campaign_actions"])

    stats = server.stats.snapshot()
    assert not output.errors
    assert stats["requests"] > 50
    assert 1 < stats["max_in_flight"] <= 6  # every request is sent from one of the engine's 6 workers
    # A loaded machine (make test runs 6 workers on 2 cores) can delay a send past its slot in the
    # budget, so a 429 may slip in, and since a lone 429 no longer stalls the budget (only one that
    # follows it does), a second may too; with 6 in flight and no shared budget, 16 of 86 requests drew one.
    assert stats["by_status"].get("429", 0) <= 2


# (a list, a substream that reads it as its parent list, the list's route in the sandbox's stats)
LISTS_AND_SUBSTREAMS = [
    ("campaigns", "campaign_actions", "campaigns"),
    ("campaign_actions", "campaign_action_metrics", "campaigns/{campaign_id}/actions"),
]


@pytest.mark.parametrize("list_first", [True, False], ids=["list-first", "substream-first"])
@pytest.mark.parametrize("with_state", [False, True], ids=["first-sync", "with-saved-cursor"])
@pytest.mark.parametrize("listed, substream, route", LISTS_AND_SUBSTREAMS, ids=[c[0] for c in LISTS_AND_SUBSTREAMS])
def test_a_list_a_substream_is_sliced_by_is_requested_once(
    make_sandbox, with_state, listed, substream, route, list_first
):
    server = make_sandbox()
    config = sandbox_config(server)
    first = read_streams(config, [listed], SyncMode.incremental)
    state = [first.state_messages[-1].state] if with_state else None
    server.stats.reset()
    alone = read_streams(config, [listed], SyncMode.incremental, state)
    requests_alone = server.stats.snapshot()["by_route"][route]
    server.stats.reset()

    streams = [listed, substream] if list_first else [substream, listed]
    with_substream = read_streams(config, streams, SyncMode.incremental, state)

    assert server.stats.snapshot()["by_route"][route] == requests_alone
    assert canonical(records_by_stream(with_substream)[listed]) == canonical(records_by_stream(alone)[listed])
    assert states_of(with_substream, listed)[-1] == states_of(alone, listed)[-1]


def test_every_response_is_parsed_once(sandbox, config, monkeypatch):
    """The error handler, parse_response and next_page_token share one parse of each page."""
    parses: List[int] = []

    def counting(parse):
        def counted(*args, **kwargs):
            parses.append(1)
            return parse(*args, **kwargs)

        return counted

    monkeypatch.setattr(source_customerio.responses, "parse_json", counting(source_customerio.responses.parse_json))
    monkeypatch.setattr(requests.Response, "json", counting(requests.Response.json))
    sandbox.stats.reset()

    output = read_streams(config, ["newsletters"])

    newsletter_pages = sandbox.stats.snapshot()["by_route"]["newsletters"]
    assert len(output.records) == sandbox.workspace.knobs.newsletters
    assert newsletter_pages > 1
    assert len(parses) == newsletter_pages
