"""messages and activities end to end against the sandbox: exact records for a config, incremental
syncs with new data in between, and a sync cut after a state message then resumed from it."""

from datetime import datetime, timezone
from functools import partial
from typing import Any, Dict, List, Mapping, Tuple
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from airbyte_cdk.models import SyncMode, Type

from sandbox.resources import messages as sandbox_messages
from sandbox.workspace import DAY, Knobs
from source_customerio import windows
from source_customerio.activity_records import DOCUMENTED_TYPES
from source_customerio.config import BOUNDS
from testkit import expected_activities, expected_messages
from testkit.connector import canonical, discovered_streams, read_streams, records_by_stream, sandbox_config
from testkit.expected import EXPECTED

HOUR = 3600
LOOKBACK_SECONDS = int(BOUNDS["activities.lookback_minutes"].default * 60)  # the default config's


@pytest.fixture(autouse=True)
def connector_clock_is_sandbox_clock(monkeypatch, request):
    """Windows end at the connector's now; here that is the sandbox's clock, which tests move."""
    server = request.getfixturevalue("sandbox") if "sandbox" in request.fixturenames else None
    clocks: List[Any] = [server.workspace] if server else []
    monkeypatch.setattr("source_customerio.windows.current_time", lambda: clocks[-1].now)
    return clocks


def state_of(message) -> Dict[str, Any]:
    return message.state.stream.stream_state.__dict__


def messages_between(ws, start: int, end: int, channels=(None,)) -> List[Dict[str, Any]]:
    lo, hi = sandbox_messages.timeline(ws).between(start, end)
    return [
        sandbox_messages.message(ws, i)
        for channel in channels
        for i in sandbox_messages.selection(channel).indexes(lo, hi)
    ]


def cut_after_state(output, share: float) -> Tuple[List[Dict[str, Any]], Any]:
    """What a sync killed right after a state message had delivered (records and that state): the first
    state at `share` 0, the last but one at 1. (Windows are read at once, so one state may cover several
    and a sync emits a varying number.)"""
    states = len(output.state_messages)
    assert states >= 3, f"the sync emitted only {states} state messages"
    number = 1 + round(share * (states - 2))
    delivered, seen = [], 0
    for message in output.records_and_state_messages:
        if message.type == Type.RECORD:
            delivered.append(dict(message.record.data))
        else:
            seen += 1
            if seen == number:
                return delivered, message.state
    raise AssertionError("unreachable: `number` is at most the count of state messages")


# -- messages ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"start_date": "2025-03-01T00:00:00Z", "messages": {"types": ["email", "in_app"]}},
        {"start_date": "2026-05-15T12:00:00Z", "messages": {"types": ["urban_airship", "slack"]}},
        {"start_date": "2026-08-01T00:00:00Z"},
    ],
    ids=["email-and-in-app-20-months", "push-via-alias-and-slack", "all-channels-3-months"],
)
def test_given_start_date_and_channels_when_full_refresh_then_exactly_the_sandbox_messages(sandbox, options):
    config = sandbox_config(sandbox, **options)

    output = read_streams(config, ["messages"])

    assert not output.errors
    assert canonical(records_by_stream(output).get("messages", [])) == canonical(
        expected_messages.expected_messages(sandbox.workspace, config)
    )


def test_given_range_longer_than_six_months_when_requested_then_sandbox_clips_it_like_the_api(sandbox):
    ws = sandbox.workspace
    two_years_ago = ws.now - 730 * DAY
    body = requests.get(
        f"{sandbox.url}/v1/messages",
        params={"start_ts": two_years_ago, "end_ts": ws.now, "limit": 1000},
        headers={"Authorization": f"Bearer {sandbox.app_key}"},
        timeout=10,
    ).json()

    assert min(message["created"] for message in body["messages"]) >= ws.now - sandbox_messages.SIX_MONTHS
    assert len(messages_between(ws, two_years_ago, ws.now)) > 3 * len(
        messages_between(ws, ws.now - sandbox_messages.SIX_MONTHS, ws.now)
    )


def test_given_full_refresh_when_read_then_one_request_per_page_the_probe_being_each_windows_first(sandbox):
    config = sandbox_config(sandbox, start_date="2025-01-01T00:00:00Z")
    sandbox.stats.reset()

    output = read_streams(config, ["messages"])

    # Sparse deliveries: each 6-month span is one window, probed; its read starts from the probe's page.
    bounds = windows.windows(1735689600, sandbox.workspace.now)
    pages = sum(max(1, -(-len(messages_between(sandbox.workspace, start, end)) // 1000)) for start, end in bounds)
    assert not output.errors and len(bounds) > 3
    assert sandbox.stats.snapshot()["by_route"] == {"messages": pages}


def test_given_new_messages_between_two_syncs_when_incremental_then_all_new_and_only_the_lookback_reread(
    make_sandbox, connector_clock_is_sandbox_clock
):
    server = make_sandbox()
    ws = server.workspace
    connector_clock_is_sandbox_clock.append(ws)
    config = sandbox_config(server, start_date="2026-01-01T00:00:00Z", messages={"lookback_days": 10})
    first = read_streams(config, ["messages"], sync_mode=SyncMode.incremental)
    first_now = ws.now
    first_records = {record["id"]: record for record in records_by_stream(first)["messages"]}

    ws.advance(3 * DAY)
    second = read_streams(config, ["messages"], sync_mode=SyncMode.incremental, state=[first.state_messages[-1].state])

    second_records = records_by_stream(second)["messages"]
    new = messages_between(ws, first_now + 1, ws.now)
    assert not first.errors and not second.errors
    assert new and {m["id"] for m in new} <= {r["id"] for r in second_records}
    assert canonical(second_records) == canonical(messages_between(ws, first_now - 10 * DAY, ws.now))
    assert any(first_records[r["id"]]["metrics"] != r["metrics"] for r in second_records if r["id"] in first_records)
    assert state_of(second.state_messages[-1]) == {
        "states": [{"partition": {"type": None}, "cursor": {"created": ws.now}}]
    }


@pytest.mark.parametrize("cut_at", [0, 0.5, 1], ids=["after-first-state", "mid-history", "late"])
def test_given_sync_killed_after_a_state_message_when_resumed_then_nothing_lost(sandbox, cut_at, monkeypatch):
    # Month-long spans: sparse deliveries then make a window a month, so the sync emits many states.
    monkeypatch.setattr(windows, "windows", partial(windows.windows, size=30 * DAY))
    config = sandbox_config(
        sandbox, start_date="2026-01-01T00:00:00Z", messages={"types": ["email", "push"], "lookback_days": 0}
    )
    full = read_streams(config, ["messages"], sync_mode=SyncMode.incremental)
    delivered, state = cut_after_state(full, cut_at)

    resumed = read_streams(config, ["messages"], sync_mode=SyncMode.incremental, state=[state])

    truth = expected_messages.expected_messages(sandbox.workspace, config)
    reread = records_by_stream(resumed).get("messages", [])
    got = {record["id"]: record for record in delivered + reread}
    assert not resumed.errors
    assert canonical(got.values()) == canonical(truth)
    # What the docs promise, and no more: each channel resumes at the end of its last window read completely
    # (inclusive; lookback 0 here), however far workers had read past it when the sync was killed.
    saved = {series["partition"]["type"]: series["cursor"]["created"] for series in state.stream.stream_state.states}
    start = expected_messages.config_start_date(config)  # a channel without a saved cursor starts over
    assert canonical(reread) == canonical(
        [
            message
            for channel in ("email", "push")
            for message in messages_between(
                sandbox.workspace, saved.get(channel, start), sandbox.workspace.now, [channel]
            )
        ]
    )


def test_given_a_delivery_every_second_when_read_in_windows_then_each_boundary_delivery_arrives_once(
    make_sandbox, monkeypatch, connector_clock_is_sandbox_clock
):
    """Both bounds of a window are inclusive (live), so windows meet one second apart: a delivery in
    a window's last second and one in the next window's first second each arrive once."""
    server = make_sandbox(Knobs(messages=DAY, message_history_days=1))  # one delivery a second
    connector_clock_is_sandbox_clock.append(server.workspace)
    window_seconds = 1800
    monkeypatch.setattr(windows, "windows", partial(windows.windows, size=window_seconds))
    start = server.workspace.now - 2 * HOUR
    config = sandbox_config(
        server, start_date=datetime.fromtimestamp(start, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    )

    records = records_by_stream(read_streams(config, ["messages"]))["messages"]

    ids = [record["id"] for record in records]
    assert len(ids) == len(set(ids)) == 2 * HOUR + 1  # start..now inclusive, one a second
    created = {record["created"] for record in records}
    boundaries = range(start + window_seconds, server.workspace.now, window_seconds)
    assert all(second - 1 in created and second in created for second in boundaries)


DENSE_MONTH = Knobs(messages=20_000, message_history_days=30)  # 20 pages: one 30-day window before issue 20


def test_given_a_dense_recent_month_when_read_from_2012_then_short_windows_exactly_the_messages_and_fewer_requests(
    make_sandbox, connector_clock_is_sandbox_clock
):
    server = make_sandbox(DENSE_MONTH)
    ws = server.workspace
    connector_clock_is_sandbox_clock.append(ws)
    config = sandbox_config(server)  # no start_date: from 2012, 14 years of nothing first

    output = read_streams(config, ["messages"])

    stats = server.stats.snapshot()
    assert not output.errors
    expected = expected_messages.expected_messages(ws, config)
    assert canonical(records_by_stream(output)["messages"]) == canonical(expected)
    assert stats["longest_chain"]["pages"] <= windows.PAGES_PER_WINDOW
    month_windows = windows.windows(windows.HISTORY_START, ws.now, 30 * DAY)
    pages_of_month_windows = sum(max(1, -(-len(messages_between(ws, a, b)) // 1000)) for a, b in month_windows)
    assert stats["by_route"]["messages"] < pages_of_month_windows / 2


@pytest.mark.parametrize("cut_at", [0, 0.5, 1], ids=["after-first-state", "mid-month", "late"])
def test_given_dense_windows_when_killed_after_a_state_message_and_resumed_then_nothing_lost(
    make_sandbox, connector_clock_is_sandbox_clock, cut_at, monkeypatch
):
    monkeypatch.setattr(windows, "PAGES_PER_WINDOW", 2)  # windows of about 2 pages: many states to cut after
    server = make_sandbox(Knobs(messages=12_000, message_history_days=30))
    ws = server.workspace
    connector_clock_is_sandbox_clock.append(ws)
    config = sandbox_config(server, start_date="2026-09-01T00:00:00Z", messages={"lookback_days": 0})
    full = read_streams(config, ["messages"], sync_mode=SyncMode.incremental)
    delivered, state = cut_after_state(full, cut_at)

    resumed = read_streams(config, ["messages"], sync_mode=SyncMode.incremental, state=[state])

    reread = records_by_stream(resumed).get("messages", [])
    saved = state.stream.stream_state.states[0]["cursor"]["created"]
    assert not resumed.errors
    assert canonical({r["id"]: r for r in delivered + reread}.values()) == canonical(
        expected_messages.expected_messages(ws, config)
    )
    assert canonical(reread) == canonical(messages_between(ws, saved, ws.now))


# -- activities ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"activities": {"types": ["event", "_o:12:create", "sent_push"], "include_deleted": True}},
        {"activities": {"types": ["attribute_change", "clicked_email"]}, "start_date": "2026-10-20T00:00:00Z"},
        {"activities": {"include_deleted": True}},
    ],
    ids=["types-with-deleted-people", "types-since-start-date", "every-type-with-deleted-people"],
)
def test_given_single_table_when_full_refresh_then_exactly_the_sandbox_activities(sandbox, options):
    config = sandbox_config(sandbox, **options)

    output = read_streams(config, ["activities_all"])

    assert not output.errors
    assert canonical(records_by_stream(output)["activities_all"]) == canonical(
        expected_activities.expected_streams(sandbox.workspace, config)["activities_all"]
    )


def test_given_deleted_people_excluded_when_read_then_none_of_their_activities(sandbox):
    with_deleted = sandbox_config(sandbox, activities={"types": ["event"], "include_deleted": True})
    without = sandbox_config(sandbox, activities={"types": ["event"]})

    every = {r["id"] for r in records_by_stream(read_streams(with_deleted, ["activities_all"]))["activities_all"]}
    kept = {r["id"] for r in records_by_stream(read_streams(without, ["activities_all"]))["activities_all"]}

    assert kept < every
    assert all(
        r["customer_identifiers"]["email"].startswith("gone")
        for r in expected_activities.expected_activities(sandbox.workspace, with_deleted, "event")
        if r["id"] in every - kept
    )


def test_given_parsed_data_with_deleted_people_when_read_then_exactly_the_sandbox_activities(sandbox):
    # The columns are learned from a sample page first: it must not count as emitted in the merge by id.
    config = sandbox_config(
        sandbox, activities={"types": ["event", "page"], "mode": "PARSED_DATA", "include_deleted": True}
    )

    output = read_streams(config, ["activity_event", "activity_page"])

    assert not output.errors
    expected = expected_activities.expected_streams(sandbox.workspace, config)
    assert sorted(expected) == ["activity_event", "activity_page"]
    for name, records in expected.items():
        assert canonical(records_by_stream(output)[name]) == canonical(records), name


def test_given_parsed_data_when_discover_and_read_then_streams_with_flattened_columns(sandbox):
    types = ["event", "_o:12:create", "_r:12:attribute_change", "profile_create"]
    config = sandbox_config(sandbox, activities={"types": types, "mode": "PARSED_DATA"})

    streams = discovered_streams(config)
    output = read_streams(config, [name for name in streams if name.startswith("activity_")])

    expected = expected_activities.expected_streams(sandbox.workspace, config)
    assert (
        sorted(name for name in streams if name.startswith("activit"))
        == sorted(expected)
        == ["activity__o_12_create", "activity__r_12_attribute_change", "activity_event", "activity_profile_create"]
    )
    columns = {
        name: sorted(c for c in streams[name].json_schema["properties"] if c.startswith("data_")) for name in expected
    }
    assert columns == {
        "activity_event": [
            "data_address_city",
            "data_address_country_code",
            "data_coupon",
            "data_items",
            "data_name",
            "data_price",
            "data_quantity",
        ],
        "activity__o_12_create": ["data_attributes_name", "data_attributes_plan", "data_object_id"],
        "activity__r_12_attribute_change": ["data_object_id", "data_role_from", "data_role_to"],
        "activity_profile_create": [],
    }
    got = records_by_stream(output)
    assert not output.errors
    for name, records in expected.items():
        assert canonical(got.get(name, [])) == canonical(records)


def pages_back_to(records: List[Mapping[str, Any]], bound: int) -> List[Mapping[str, Any]]:
    """Newest-first pages of 100 up to and including the first page wholly older than `bound`."""
    read: List[Mapping[str, Any]] = []
    for start in range(0, len(records), 100):
        chunk = records[start : start + 100]
        read += chunk
        if all(record["timestamp"] < bound for record in chunk):
            break
    return read


def test_given_new_activities_between_two_syncs_when_incremental_then_all_new_and_pages_back_to_cursor_less_an_hour(
    make_sandbox, connector_clock_is_sandbox_clock
):
    server = make_sandbox()
    ws = server.workspace
    connector_clock_is_sandbox_clock.append(ws)
    config = sandbox_config(server, activities={"types": ["event", "page"]})
    first = read_streams(config, ["activities_all"], sync_mode=SyncMode.incremental)
    cursors = {
        entry["partition"]["type"]: entry["cursor"]["timestamp"]
        for entry in state_of(first.state_messages[-1])["states"]
    }

    ws.advance(2 * DAY)
    second = read_streams(
        config, ["activities_all"], sync_mode=SyncMode.incremental, state=[first.state_messages[-1].state]
    )

    expected = []
    for activity_type in ("event", "page"):
        newest_first = expected_activities.expected_activities(ws, config, activity_type)[::-1]
        expected += pages_back_to(newest_first, cursors[activity_type] - LOOKBACK_SECONDS)
        assert any(record["timestamp"] > cursors[activity_type] for record in newest_first)
    assert not second.errors
    assert canonical(records_by_stream(second)["activities_all"]) == canonical(expected)
    assert len(expected) < len(records_by_stream(first)["activities_all"])


def test_given_read_by_type_when_every_type_is_read_then_exactly_the_log_each_type_its_own_series(
    make_sandbox, connector_clock_is_sandbox_clock
):
    server = make_sandbox()
    connector_clock_is_sandbox_clock.append(server.workspace)
    config = sandbox_config(server, activities={"read_by_type": True})

    output = read_streams(config, ["activities_all"], sync_mode=SyncMode.incremental)

    assert not output.errors
    records = records_by_stream(output)["activities_all"]
    assert canonical(records) == canonical(EXPECTED["activities_all"](server.workspace, sandbox_config(server)))
    types_asked = {
        parse_qs(urlsplit(entry["path"]).query).get("type", [None])[0]
        for entry in server.stats.log
        if entry["path"].startswith("/v1/activities")
    }
    assert {record["type"] for record in records} < types_asked  # `_o:12:*` only from the newest page
    assert len(types_asked) > len(DOCUMENTED_TYPES)
    series = {entry["partition"]["type"] for entry in state_of(output.state_messages[-1])["states"]}
    assert series == {record["type"] for record in records}


def test_given_a_whole_log_cursor_when_read_by_type_then_each_type_starts_from_it(
    make_sandbox, connector_clock_is_sandbox_clock
):
    server = make_sandbox(Knobs(activities=20000))  # about ten pages of each type
    connector_clock_is_sandbox_clock.append(server.workspace)
    config = sandbox_config(server)
    first = read_streams(config, ["activities_all"], sync_mode=SyncMode.incremental)

    by_type = read_streams(
        sandbox_config(server, activities={"read_by_type": True}),
        ["activities_all"],
        sync_mode=SyncMode.incremental,
        state=[first.state_messages[-1].state],
    )

    assert not by_type.errors
    assert (
        len(records_by_stream(by_type).get("activities_all", [])) < len(records_by_stream(first)["activities_all"]) / 5
    )


def test_given_activities_sync_killed_after_first_type_when_resumed_then_nothing_lost(sandbox):
    config = sandbox_config(sandbox, activities={"types": ["event", "sent_email", "page"]})
    full = read_streams(config, ["activities_all"], sync_mode=SyncMode.incremental)
    delivered, state = cut_after_state(full, 0)

    resumed = read_streams(config, ["activities_all"], sync_mode=SyncMode.incremental, state=[state])

    got = {record["id"]: record for record in delivered + records_by_stream(resumed)["activities_all"]}
    assert not resumed.errors
    assert canonical(got.values()) == canonical(
        expected_activities.expected_streams(sandbox.workspace, config)["activities_all"]
    )


@pytest.mark.parametrize("deleted_meaning", ["adds", "only"])
@pytest.mark.parametrize("order", ["newest_first", "oldest_first"])
def test_given_either_order_and_either_meaning_of_deleted_then_exact_and_the_next_sync_catches_every_new_activity(
    make_sandbox, connector_clock_is_sandbox_clock, order, deleted_meaning
):
    server = make_sandbox(Knobs(activities_order=order, activities_deleted=deleted_meaning))
    ws = server.workspace
    connector_clock_is_sandbox_clock.append(ws)
    config = sandbox_config(server, activities={"types": ["event", "page"], "include_deleted": True})

    first = read_streams(config, ["activities_all"], sync_mode=SyncMode.incremental)
    first_ids = [record["id"] for record in records_by_stream(first)["activities_all"]]
    assert canonical(records_by_stream(first)["activities_all"]) == canonical(
        expected_activities.expected_streams(ws, config)["activities_all"]
    )
    ws.advance(2 * DAY)
    second = read_streams(
        config, ["activities_all"], sync_mode=SyncMode.incremental, state=[first.state_messages[-1].state]
    )
    second_ids = [record["id"] for record in records_by_stream(second)["activities_all"]]

    assert not first.errors and not second.errors
    everything_now = {record["id"] for record in expected_activities.expected_streams(ws, config)["activities_all"]}
    new = everything_now - set(first_ids)
    assert new and new <= set(second_ids)
    assert len(first_ids) == len(set(first_ids)) and len(second_ids) == len(set(second_ids))
