"""Another client holding the workspace's shared rate budget: every request gets 429 without
Retry-After for a while. The sync waits it out, logs each wait, and delivers exactly the records."""

import time

import pytest

from testkit.connector import canonical, read_streams, records_by_stream, sandbox_config
from testkit.expected import EXPECTED

STREAMS = ["campaigns", "newsletters", "sender_identities"]
WAIT_LOG = "Customer.io answered HTTP 429 (rate limit, shared by every client of the workspace)"


def read_while_a_neighbour_holds_the_budget(sandbox, seconds: float, **options):
    config = sandbox_config(sandbox, **options)
    sandbox.hold_budget(seconds)
    started = time.monotonic()
    output = read_streams(config, STREAMS, expecting_exception=bool(options))
    return config, output, time.monotonic() - started


def assert_exact(sandbox, config, output) -> None:
    got = records_by_stream(output)
    for stream in STREAMS:
        assert canonical(got.get(stream, [])) == canonical(EXPECTED[stream](sandbox.workspace, config)), stream


def wait_logs(output) -> list:
    return [message.log.message for message in output.logs if WAIT_LOG in message.log.message]


def test_given_budget_held_for_5_seconds_when_read_then_waited_out_with_exact_records(make_sandbox):
    sandbox = make_sandbox()

    config, output, elapsed = read_while_a_neighbour_holds_the_budget(sandbox, 5)

    assert not output.errors
    assert_exact(sandbox, config, output)
    assert sandbox.stats.snapshot()["by_status"].get("429", 0) >= 1
    assert elapsed >= 5
    logged = wait_logs(output)
    # The streams wait at once, each logging its own waits.
    assert logged and all(any(line.startswith(f"Stream `{stream}`") for stream in STREAMS) for line in logged)


def test_given_no_wait_allowed_when_budget_held_then_the_sync_fails_naming_the_other_client(make_sandbox):
    sandbox = make_sandbox()

    config, output, _ = read_while_a_neighbour_holds_the_budget(sandbox, 30, rate_limit_max_wait_minutes=0)

    messages = [message.trace.error.message for message in output.errors if message.trace.error.stream_descriptor]
    assert messages and all("another client" in message for message in messages)


@pytest.mark.slow
def test_given_budget_held_for_90_seconds_when_read_then_waited_out_with_exact_records(make_sandbox):
    sandbox = make_sandbox()

    config, output, elapsed = read_while_a_neighbour_holds_the_budget(sandbox, 90)

    assert not output.errors
    assert_exact(sandbox, config, output)
    assert elapsed >= 90
    assert len(wait_logs(output)) >= 5
