"""Faults: the sandbox's chaos mode against in-process syncs.

A sync under random faults must still produce exactly the sandbox's records, once each; an
endpoint that never recovers must end its stream with a clear error after a bounded number of
attempts. The CDK sleeps between retries; `backoff_sleeps` records those sleeps instead, so the
tests measure retries, not waiting.
"""

import time
from typing import Iterator, List

import pytest
import requests
from airbyte_cdk.models import AirbyteStreamStatus

from sandbox.server import CHAOS_KINDS, Settings
from sandbox.workspace import DEFAULT_NOW
from source_customerio.errors import BAD_BODY_MESSAGE, MAX_RETRIES, NETWORK_MESSAGE
from testkit.connector import (
    SMALL_KNOBS,
    canonical,
    discovered_streams,
    read_streams,
    recorded_cdk_sleeps,
    records_by_stream,
    small_config,
)
from testkit.expected import EXPECTED

# The client gives up on a stalled request after 1 s; the sandbox stalls for longer.
CLIENT_TIMEOUT_SECONDS = 1
STALL_SECONDS = 2
# A failing request is sent once and retried MAX_RETRIES times, then the stream fails.
ATTEMPTS_PER_REQUEST = MAX_RETRIES + 1
# Streams of every shape: plain, paginated, substream, windowed, typed series, search plus batches.
SHAPES = ["activities_all", "campaign_actions", "customers", "messages", "newsletters", "segment_members"]
# What the failed stream's error says for each kind of fault.
FINAL_ERROR = {
    "500": "Customer.io answered HTTP 500, a server error.",
    "502": "Customer.io answered HTTP 502, a server error.",
    "503": "Customer.io answered HTTP 503, a server error.",
    "reset": NETWORK_MESSAGE,
    "stall": NETWORK_MESSAGE,
    "truncated": BAD_BODY_MESSAGE,
    "429_burst": "another client (an integration, a script, another sync) may be using the workspace's budget",
}


@pytest.fixture(autouse=True)
def connector_clock_on_the_sandbox(monkeypatch) -> None:
    """Chaos picks its faults by request, and message and metrics requests carry windows that end at
    the connector's now: on the sandbox's clock, a seed disturbs the same requests on every day."""
    monkeypatch.setattr("source_customerio.windows.current_time", lambda: DEFAULT_NOW)


@pytest.fixture
def backoff_sleeps() -> Iterator[List[float]]:
    with recorded_cdk_sleeps() as slept:
        yield slept


def chaos_sandbox(make_sandbox, **chaos):
    return make_sandbox(SMALL_KNOBS, Settings(chaos_stall_seconds=STALL_SECONDS, **chaos))


def fast_config(sandbox, **overrides):
    return small_config(sandbox, request_timeout_seconds=CLIENT_TIMEOUT_SECONDS, **overrides)


def stream_statuses(output) -> dict:
    """The last status the sync reported for each stream."""
    return {
        message.trace.stream_status.stream_descriptor.name: message.trace.stream_status.status
        for message in output.trace_messages
        if message.trace.stream_status
    }


def assert_exactly_the_sandbox_records(sandbox, config, output, streams) -> None:
    got = records_by_stream(output)
    for stream in streams:
        assert canonical(got.get(stream, [])) == canonical(EXPECTED[stream](sandbox.workspace, config)), stream


def test_every_stream_reads_exactly_the_sandbox_records_at_5_percent_chaos(make_sandbox, backoff_sleeps):
    sandbox = chaos_sandbox(make_sandbox, chaos=0.05, chaos_seed=1)
    config = fast_config(sandbox)
    streams = sorted(discovered_streams(config))
    without_truth = [stream for stream in streams if stream not in EXPECTED]

    output = read_streams(config, streams)
    faults = sandbox.stats.snapshot()["chaos"]
    sandbox.settings.chaos = 0.0
    # Streams the sandbox has no expected records for are held to an undisturbed read instead.
    undisturbed = records_by_stream(read_streams(config, without_truth)) if without_truth else {}

    assert not output.errors
    assert set(stream_statuses(output).values()) == {AirbyteStreamStatus.COMPLETE}
    assert_exactly_the_sandbox_records(sandbox, config, output, [stream for stream in streams if stream in EXPECTED])
    got = records_by_stream(output)
    for stream in without_truth:
        assert undisturbed.get(stream) and canonical(got.get(stream, [])) == canonical(undisturbed[stream]), stream
    assert sum(faults.values()) >= 3


@pytest.mark.parametrize("kind", CHAOS_KINDS)
def test_each_fault_kind_is_survived_with_exact_records(make_sandbox, backoff_sleeps, kind):
    # One kind at a time, often enough that most streams meet it, with concurrent prefetching.
    sandbox = chaos_sandbox(make_sandbox, chaos=0.15, chaos_seed=11, chaos_kinds=(kind,), chaos_burst=2)
    config = fast_config(sandbox, max_concurrent_requests=4)

    output = read_streams(config, SHAPES)

    assert not output.errors
    assert_exactly_the_sandbox_records(sandbox, config, output, SHAPES)
    assert sandbox.stats.snapshot()["chaos"].get(kind, 0) >= 2
    assert len(backoff_sleeps) >= sandbox.stats.snapshot()["chaos"][kind]


def test_the_same_seed_disturbs_the_same_requests(make_sandbox, backoff_sleeps):
    # messages asks up to the connector's "now" (end_ts), so its requests differ from run to run.
    same_requests_every_run = [stream for stream in SHAPES if stream != "messages"]

    def disturbed_requests(seed: int) -> List[tuple]:
        sandbox = chaos_sandbox(make_sandbox, chaos=0.2, chaos_seed=seed, chaos_kinds=("500",))
        read_streams(fast_config(sandbox, max_concurrent_requests=4), same_requests_every_run)
        return sorted((entry["path"], entry["status"]) for entry in sandbox.stats.log if entry["status"] == 500)

    first = disturbed_requests(5)
    assert first and first == disturbed_requests(5)
    assert first != disturbed_requests(6)


@pytest.mark.parametrize(
    "path, stream, kind",
    [("/v1/newsletters", "newsletters", kind) for kind in CHAOS_KINDS]
    # A substream slice read ahead on a prefetch worker: its failure must reach the sync too.
    + [("/v1/segments/3/membership", "segment_members", "stall")],
)
def test_an_endpoint_that_always_fails_ends_its_stream_with_a_clear_error(
    make_sandbox, backoff_sleeps, path, stream, kind
):
    sandbox = chaos_sandbox(make_sandbox, chaos=1.0, chaos_path=path, chaos_kinds=(kind,))
    # 429s are retried for as long as the wait budget allows (the waits are recorded, not slept).
    config = fast_config(sandbox, rate_limit_max_wait_minutes=1)
    healthy = "campaigns"

    started = time.monotonic()
    output = read_streams(config, [stream, healthy], expecting_exception=True)
    elapsed = time.monotonic() - started

    disturbed = [entry for entry in sandbox.stats.log if entry["path"].startswith(path)]
    if kind == "429_burst":  # waits of 0.5-1, 1-2, 2-4 ... 32-60 s, until 60 s of waiting are spent
        assert 6 <= len(backoff_sleeps) <= 8 and len(disturbed) == len(backoff_sleeps) + 1
    else:
        assert len(disturbed) == ATTEMPTS_PER_REQUEST
        assert len(backoff_sleeps) == MAX_RETRIES
    # Seven attempts, each at most one client timeout (plus the rate budget's wait after a 429).
    assert elapsed < ATTEMPTS_PER_REQUEST * (CLIENT_TIMEOUT_SECONDS + 1) + 10
    assert stream_statuses(output) == {stream: AirbyteStreamStatus.INCOMPLETE, healthy: AirbyteStreamStatus.COMPLETE}
    stream_errors = [message.trace.error for message in output.errors if message.trace.error.stream_descriptor]
    assert [error.stream_descriptor.name for error in stream_errors] == [stream]
    assert FINAL_ERROR[kind] in stream_errors[0].message
    assert_exactly_the_sandbox_records(sandbox, config, output, [healthy])


def test_chaos_never_touches_the_control_routes(make_sandbox):
    sandbox = chaos_sandbox(make_sandbox, chaos=1.0)

    for _ in range(20):
        assert requests.get(f"{sandbox.url}/_sandbox/stats", timeout=5).status_code == 200
    assert sandbox.stats.snapshot()["chaos"] == {}
