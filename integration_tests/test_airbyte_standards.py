"""Airbyte's standard test suite, in-process against the sandbox, plus the `incremental` section.

`TestAirbyteStandards` runs the CDK's FAST suite for every config in acceptance-test-config.yml
(spec, check, discover, a full-refresh read of every stream with records valid against their
schemas, a bad catalog). The suite does not read the file's `incremental` section; the tests below
it do, the way the Connector Acceptance Tests did: a state far in the future reads nothing, and a
second sync from the first sync's state reads only records the first one read.
Run with `-m "not image_tests"`: the image tests need a Docker daemon.
"""

import json
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Tuple

import pytest
import yaml
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.models import ConnectorTestScenario
from airbyte_cdk.test.standard_tests import SourceTestSuiteBase
from airbyte_cdk.test.state_builder import StateBuilder

from source_customerio import SourceCustomerio
from testkit.connector import discovered_streams, keys, messages, read_streams, records_by_stream, run_cli

ROOT = Path(__file__).resolve().parent.parent
ACCEPTANCE = yaml.safe_load((ROOT / "acceptance-test-config.yml").read_text())["acceptance_tests"]
INCREMENTAL_ENTRIES = ACCEPTANCE["incremental"]["tests"]
# 2099-01-01T00:00:00Z: any cursor at or past it is in the future for the sandbox and for the API.
FUTURE = 4070908800
ACTIVITIES_PAGE = 100


@pytest.mark.usefixtures("standard_sandbox")
class TestAirbyteStandards(SourceTestSuiteBase):
    connector = SourceCustomerio


def test_check_with_debug_logging_still_fails_a_rejected_key(standard_sandbox, tmp_path):
    # Found by the suite: with --debug the CDK yields a log message before the first record, and a
    # check that stopped at the first item reported SUCCEEDED for a wrong key.
    config = {"app_api_key": "not-a-valid-app-api-key", "api_url": standard_sandbox.url}

    result = run_cli(["check", "--config", "config.json", "--debug"], config, tmp_path)

    statuses = [
        message["connectionStatus"]["status"]
        for message in messages(result.stdout)
        if message["type"] == "CONNECTION_STATUS"
    ]
    assert statuses == ["FAILED"]


def entry_id(entry: Mapping[str, Any]) -> str:
    return Path(entry["config_path"]).stem


@pytest.fixture(params=INCREMENTAL_ENTRIES, ids=entry_id)
def incremental_entry(request, standard_sandbox) -> Iterator[Tuple[Dict[str, Any], Dict[str, Any]]]:
    """(the entry's config, pointed at the session's sandbox; its future state, by stream)."""
    entry = request.param
    config = ConnectorTestScenario(config_path=entry["config_path"]).get_config_dict(
        connector_root=ROOT, empty_if_missing=False
    )
    messages = json.loads((ROOT / entry["future_state"]["future_state_path"]).read_text())
    future_state = {
        message["stream"]["stream_descriptor"]["name"]: message["stream"]["stream_state"] for message in messages
    }
    yield config, future_state


def incremental_streams(config: Mapping[str, Any]) -> List[str]:
    return sorted(
        name
        for name, stream in discovered_streams(config).items()
        if SyncMode.incremental in stream.supported_sync_modes
    )


def numbers(value: Any) -> Iterator[float]:
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from numbers(item)
    elif isinstance(value, list):
        for item in value:
            yield from numbers(item)


def test_future_state_covers_every_incremental_stream_with_future_cursors(incremental_entry):
    config, future_state = incremental_entry

    streams = incremental_streams(config)

    assert streams, "the incremental config exercises no incremental stream"
    assert sorted(future_state) == streams
    for name, state in future_state.items():
        cursors = list(numbers(state))
        assert cursors and all(cursor >= FUTURE for cursor in cursors), f"{name}: {state}"


def rereads_by_design(name: str, records: List[Mapping[str, Any]], config: Mapping[str, Any]) -> bool:
    """The re-reads docs/customerio.md documents, which happen whatever the state says: an
    activities series emits the first page it reads (100 records at most; a type is two series
    with `include_deleted`), and a metrics stream re-reads the current period (one `period_start`)."""
    if name.startswith("activity_") or name == "activities_all":
        series_per_type = 2 if config.get("activities", {}).get("include_deleted") else 1
        return len(records) <= ACTIVITIES_PAGE * series_per_type
    if name.endswith("_metrics"):
        return len({record["period_start"] for record in records}) == 1
    return False


def test_future_state_reads_no_records_but_documented_rereads_and_keeps_state(incremental_entry):
    config, future_state = incremental_entry
    state = StateBuilder()
    for name, stream_state in future_state.items():
        state = state.with_stream_state(name, stream_state)

    output = read_streams(config, sorted(future_state), SyncMode.incremental, state.build())

    assert not output.errors
    unexpected = {
        name: len(records)
        for name, records in records_by_stream(output).items()
        if not rereads_by_design(name, records, config)
    }
    assert unexpected == {}
    assert {message.state.stream.stream_descriptor.name for message in output.state_messages} == set(future_state)


def test_second_sync_from_first_state_rereads_only_records_of_the_first(
    incremental_entry, standard_sandbox, monkeypatch
):
    # On the sandbox's clock, or its state looks older than the activity log keeps and people are read again.
    monkeypatch.setattr("source_customerio.windows.current_time", lambda: standard_sandbox.workspace.now)
    config, _ = incremental_entry
    streams = incremental_streams(config)
    primary_keys = {name: stream.source_defined_primary_key for name, stream in discovered_streams(config).items()}

    first = read_streams(config, streams, SyncMode.incremental)
    state = StateBuilder()
    for message in first.state_messages:
        state = state.with_stream_state(
            message.state.stream.stream_descriptor.name, message.state.stream.stream_state.__dict__
        )
    second = read_streams(config, streams, SyncMode.incremental, state.build())

    assert not first.errors and not second.errors
    first_records, second_records = records_by_stream(first), records_by_stream(second)
    for name in streams:
        fields = [path[0] for path in primary_keys[name]]
        assert set(keys(second_records.get(name, []), fields)) <= set(keys(first_records.get(name, []), fields)), name
    assert sum(map(len, second_records.values())) < sum(map(len, first_records.values()))
