"""Metrics streams end to end against the sandbox: exact rows for each period length, and
incremental syncs with the clock moved in between that read the new periods and re-read only the
last complete period and the one that was current. The connector keeps the host's clock, weeks past
the sandbox's: rows and state follow the sandbox's clock only through its answers' `Date`."""

from email.utils import parsedate_to_datetime
from typing import Any, Dict, List
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from airbyte_cdk.models import SyncMode, Type

from sandbox.resources import metrics as sandbox_metrics
from sandbox.workspace import DAY, Knobs
from testkit import expected_metrics
from testkit.connector import canonical, read_streams, records_by_stream, sandbox_config

STREAMS = sorted(expected_metrics.EXPECTED)
SMALL = Knobs(campaigns=3, newsletters=9, broadcasts=4)  # campaign 3's action ids come as strings


@pytest.fixture
def small_sandbox(make_sandbox):
    return make_sandbox(SMALL)


def final_state(output) -> Dict[str, Any]:
    return output.state_messages[-1].state.stream.stream_state.__dict__


def latest_states(output) -> List[Any]:
    """The last state message of each stream, to start the next sync from."""
    latest = {message.state.stream.stream_descriptor.name: message.state for message in output.state_messages}
    return list(latest.values())


def sent_params(server, path_suffix: str) -> List[Dict[str, List[str]]]:
    return [
        parse_qs(urlsplit(entry["path"]).query)
        for entry in server.stats.log
        if urlsplit(entry["path"]).path.endswith(path_suffix)
    ]


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"metrics": {"period": "hours"}, "start_date": "2026-10-30T07:30:00Z"},
        {"metrics": {"period": "weeks"}},
        {"metrics": {"period": "months"}, "start_date": "2026-03-15T00:00:00Z"},
    ],
    ids=["days-default", "hours-since-start-date", "weeks", "months-since-start-date"],
)
def test_full_refresh_of_every_metrics_stream_equals_sandbox_truth(small_sandbox, options):
    config = sandbox_config(small_sandbox, **options)

    output = read_streams(config, STREAMS)

    got = records_by_stream(output)
    assert not output.errors
    for stream in STREAMS:
        expected = expected_metrics.EXPECTED[stream](small_sandbox.workspace, config)
        assert expected, f"the sandbox should give {stream} rows"
        assert canonical(got.get(stream, [])) == canonical(expected), stream


@pytest.mark.parametrize("stream", STREAMS)
def test_second_sync_after_two_days_reads_new_days_and_rereads_only_the_last_complete_and_then_current_day(
    small_sandbox, stream
):
    config = sandbox_config(small_sandbox)
    ws = small_sandbox.workspace
    first = read_streams(config, [stream], SyncMode.incremental)
    first_state = final_state(first)
    last_complete_day = sandbox_metrics.last_periods(ws, 2, "days", sandbox_metrics.EST)[0]
    assert first_state == {"period_start": last_complete_day}

    ws.advance(2 * DAY)
    small_sandbox.stats.reset()
    second = read_streams(config, [stream], SyncMode.incremental, state=latest_states(first))

    rows = records_by_stream(second).get(stream, [])
    expected = [
        row for row in expected_metrics.EXPECTED[stream](ws, config) if row["period_start"] >= last_complete_day
    ]
    assert canonical(rows) == canonical(expected)
    assert sorted({row["period_start"] for row in rows}) == sandbox_metrics.last_periods(
        ws, 4, "days", sandbox_metrics.EST
    )
    assert final_state(second) == {"period_start": sandbox_metrics.last_periods(ws, 2, "days", sandbox_metrics.EST)[0]}


def test_version_2_asks_from_the_saved_period_and_version_1_for_the_steps_since_then_and_one_more(
    small_sandbox, monkeypatch
):
    # Requests are built on the connector's clock: point it at the sandbox's to know what they say.
    monkeypatch.setattr("source_customerio.windows.current_time", lambda: small_sandbox.workspace.now)
    config = sandbox_config(small_sandbox)
    first = read_streams(config, ["campaign_metrics", "newsletter_metrics"], SyncMode.incremental)
    small_sandbox.workspace.advance(DAY)
    small_sandbox.stats.reset()

    read_streams(config, ["campaign_metrics", "newsletter_metrics"], SyncMode.incremental, state=latest_states(first))

    saved = str(final_state(first)["period_start"])
    now = str(small_sandbox.workspace.now)
    v2 = sent_params(small_sandbox, "/metrics")
    assert {(p["version"][0], p["res"][0], p["tz"][0], p["start"][0], p["end"][0]) for p in v2 if "version" in p} == {
        ("2", "days", "America/New_York", saved, now)
    }
    assert {(p["period"][0], p["steps"][0]) for p in v2 if "period" in p} == {("days", "4")}


def test_a_sync_cut_before_its_last_parent_resumes_from_the_previous_state(small_sandbox):
    config = sandbox_config(small_sandbox)
    first = read_streams(config, ["newsletter_metrics"], SyncMode.incremental)
    small_sandbox.workspace.advance(3 * DAY)

    second = read_streams(config, ["newsletter_metrics"], SyncMode.incremental, state=latest_states(first))

    states = [message.state.stream.stream_state.__dict__ for message in second.state_messages]
    new_state = {
        "period_start": sandbox_metrics.last_periods(small_sandbox.workspace, 2, "days", sandbox_metrics.EST)[0]
    }
    # The state moves once, after every newsletter's rows: a sync cut before keeps the old state.
    assert states == [new_state] != [final_state(first)]
    assert second.records_and_state_messages[-1].type == Type.STATE
    assert len({row.record.data["newsletter_id"] for row in second.records}) == SMALL.newsletters


def test_sandbox_dates_its_answers_by_its_own_clock(small_sandbox):
    small_sandbox.workspace.advance(DAY + 5)
    response = requests.get(
        f"{small_sandbox.url}/v1/newsletters/1/metrics",
        headers={"Authorization": f"Bearer {small_sandbox.app_key}"},
        timeout=10,
    )

    assert parsedate_to_datetime(response.headers["Date"]).timestamp() == small_sandbox.workspace.now


@pytest.mark.parametrize(
    "path, params, status",
    [
        ("campaigns/1/metrics", {"res": "days", "start": 0, "end": 86400}, 400),
        ("campaigns/1/metrics", {"version": "2", "res": "fortnights", "start": 0, "end": 86400}, 400),
        ("campaigns/1/metrics", {"version": "2", "res": "daily"}, 400),
        ("campaigns/1/metrics", {"version": "2", "res": "daily", "start": 0, "end": 11 * 365 * DAY}, 400),
        ("campaigns/1/metrics", {"version": "2", "res": "daily", "tz": "Mars/Olympus", "start": 0, "end": DAY}, 400),
        ("campaigns/1/metrics", {"version": "2", "res": "daily", "tz": "UTC", "start": 0, "end": DAY}, 200),
        ("campaigns/1/metrics", {"version": "1", "period": "months", "steps": 121}, 400),
        ("newsletters/1/metrics", {"period": "months", "steps": 121}, 200),
        ("newsletters/1/metrics", {"period": "days", "steps": 46}, 400),
        ("newsletters/1/metrics/links", {"period": "hours", "steps": 1}, 400),
        ("broadcasts/1/actions/5010/metrics", {"period": "weeks", "steps": 12}, 200),
    ],
    ids=[
        "no-version",
        "unknown-res",
        "v2-without-window",
        "v2-over-10-years",
        "unknown-zone",
        "v2-ok",
        "v1-campaign-months-cap",
        "newsletter-months-cap",
        "days-cap",
        "at-least-2-steps",
        "v1-ok",
    ],
)
def test_sandbox_enforces_the_documented_metrics_params(sandbox, path, params, status):
    response = requests.get(
        f"{sandbox.url}/v1/{path}", params=params, headers={"Authorization": f"Bearer {sandbox.app_key}"}, timeout=10
    )

    assert response.status_code == status, response.text


def test_given_a_saved_period_older_than_version_1_reaches_then_a_warning_names_the_stream_and_the_periods(
    small_sandbox,
):
    ws = small_sandbox.workspace
    old = sandbox_metrics.last_periods(ws, 100, "days", sandbox_metrics.EST)[0]  # 100 days back; version 1 answers 45
    state = [
        message.state
        for message in read_streams(
            sandbox_config(small_sandbox), ["newsletter_metrics"], SyncMode.incremental
        ).state_messages[-1:]
    ]
    state[0].stream.stream_state.period_start = old

    output = read_streams(sandbox_config(small_sandbox), ["newsletter_metrics"], SyncMode.incremental, state=state)

    warnings = [
        message.log.message
        for message in output.logs
        if message.log.message.startswith("Stream `newsletter_metrics`: Customer.io's version 1")
    ]
    assert len(warnings) == 1
    warning = warnings[0]
    assert "answers only the last 45 days" in warning and "the saved state moves past them" in warning
    assert final_state(output)["period_start"] > old
