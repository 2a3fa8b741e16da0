"""End to end, in-process through the real entrypoint: every stream reads exactly the sandbox's records."""

import pytest

from testkit.connector import canonical, discovered_streams, read_streams, records_by_stream
from testkit.expected import EXPECTED


@pytest.mark.parametrize("stream", sorted(EXPECTED))
def test_full_refresh_read_equals_sandbox_truth(sandbox, config, stream):
    output = read_streams(config, [stream])

    got = records_by_stream(output).get(stream, [])
    assert not output.errors
    assert canonical(got) == canonical(EXPECTED[stream](sandbox.workspace, config))


def test_every_expected_stream_is_discovered(config):
    assert set(EXPECTED) <= set(discovered_streams(config))


def test_concurrent_read_equals_sequential_read(sandbox, config):
    streams = ["campaign_actions", "segment_members", "newsletters"]
    concurrent = read_streams({**config, "max_concurrent_requests": 8}, streams)
    sequential = read_streams({**config, "max_concurrent_requests": 1}, streams)

    assert not concurrent.errors and not sequential.errors
    concurrent_records, sequential_records = records_by_stream(concurrent), records_by_stream(sequential)
    assert sorted(concurrent_records) == sorted(sequential_records) == sorted(streams)
    for stream in streams:
        assert canonical(concurrent_records[stream]) == canonical(sequential_records[stream]), stream
    assert final_states(concurrent) == final_states(sequential)


def final_states(output):
    return {m.state.stream.stream_descriptor.name: m.state.stream.stream_state for m in output.state_messages}
