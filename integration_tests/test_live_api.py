"""The App API as live accounts answer it (the API notes' "Live observations") and as its reference
says: a full sync of every stream is exact under both and under each live behaviour alone; with
empty pages that carry `next` and records edited while a sync runs, nothing is lost or read twice,
and an edit made during an incremental sync arrives with the next one."""

from collections import Counter
from typing import Any, Dict, List, Mapping

import pytest
from airbyte_cdk.models import SyncMode

from sandbox.server import Settings
from sandbox.workspace import LIVE_SWITCHES, Live
from testkit.connector import SMALL_KNOBS, canonical, discovered_streams, read_streams, records_by_stream, small_config
from testkit.expected import EXPECTED

MODES = {
    "live": Live(),
    "reference": Live.reference(),
    **{f"only_{switch}": Live.only(switch) for switch in LIVE_SWITCHES},
}
# The streams read incrementally on an update time the API cannot filter on: the sandbox's
# `edit_during_read` edits their records while they are read.
EDITED_WHILE_READ = (
    "campaigns",
    "campaign_actions",
    "broadcasts",
    "broadcast_actions",
    "newsletters",
    "transactional_messages",
    "transactional_contents",
    "snippets",
)


def primary_keys(config: Mapping[str, Any]) -> Dict[str, List[List[str]]]:
    return {name: stream.source_defined_primary_key for name, stream in discovered_streams(config).items()}


def key_of(record: Mapping[str, Any], primary_key: List[List[str]]) -> tuple:
    return tuple(record.get(path[0]) for path in primary_key)


def duplicated_keys(records: List[Mapping[str, Any]], primary_key: List[List[str]]) -> List[tuple]:
    return [key for key, count in Counter(key_of(record, primary_key) for record in records).items() if count > 1]


def full_sync(server, **config_overrides):
    config = small_config(server, **config_overrides)
    streams = sorted(discovered_streams(config))
    output = read_streams(config, streams)
    assert not output.errors, [error.trace.error.message for error in output.errors]
    return config, streams, records_by_stream(output)


@pytest.mark.parametrize("mode", MODES)
def test_given_a_mode_when_every_stream_is_read_then_exactly_the_sandbox_records(make_sandbox, mode):
    server = make_sandbox(SMALL_KNOBS, live=MODES[mode])

    config, streams, got = full_sync(server)

    keys = primary_keys(config)
    for stream in streams:
        records = got.get(stream, [])
        assert not duplicated_keys(records, keys[stream]), stream
        if stream in EXPECTED:
            assert canonical(records) == canonical(EXPECTED[stream](server.workspace, config)), stream


def test_given_live_mode_empty_pages_and_edits_during_the_read_when_every_stream_is_read_then_none_missing_or_twice(
    make_sandbox,
):
    server = make_sandbox(SMALL_KNOBS, Settings(empty_pages=True, edit_during_read=True))

    config, streams, got = full_sync(server)

    keys = primary_keys(config)
    assert server.stats.snapshot()["empty_pages"] > 0 and server.workspace.edits
    for stream in (stream for stream in streams if stream in EXPECTED):
        expected = EXPECTED[stream](server.workspace, config)
        if stream in EDITED_WHILE_READ:  # a record may come as it was before its edit
            expected_keys = sorted(map(str, (key_of(record, keys[stream]) for record in expected)))
            assert sorted(map(str, (key_of(record, keys[stream]) for record in got.get(stream, [])))) == expected_keys
        else:
            assert canonical(got.get(stream, [])) == canonical(expected), stream


def test_given_edits_while_an_incremental_sync_runs_when_the_next_sync_runs_then_every_edit_arrives(make_sandbox):
    server = make_sandbox(SMALL_KNOBS, Settings(edit_during_read=True))
    config = small_config(server)
    keys = primary_keys(config)

    first = read_streams(config, EDITED_WHILE_READ, SyncMode.incremental)
    server.settings.edit_during_read = False
    assert server.workspace.edits
    second = read_streams(
        config, EDITED_WHILE_READ, SyncMode.incremental, state=[message.state for message in first.state_messages]
    )

    assert not first.errors and not second.errors
    for stream in EDITED_WHILE_READ:
        # What an append-deduped destination holds: the newest record per primary key.
        merged = {key_of(record, keys[stream]): record for record in records_by_stream(first).get(stream, [])}
        merged.update({key_of(record, keys[stream]): record for record in records_by_stream(second).get(stream, [])})
        assert canonical(merged.values()) == canonical(EXPECTED[stream](server.workspace, config)), stream
