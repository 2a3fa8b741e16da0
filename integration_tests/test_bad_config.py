"""Bad input through the real console script: every mistake is named, with the way to fix it.

Each row is a config a user could save. `check` must answer FAILED with a message that names the
field and says what to do; `discover` and `read` must end with one config_error trace. Neither may
print a traceback anywhere (stdout, stderr, or a trace's stack_trace).
"""

import json
from typing import Any, Dict, List

import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.models.airbyte_protocol_serializers import ConfiguredAirbyteCatalogSerializer

from sandbox.server import TRACK_KEY_PREFIX
from sandbox.workspace import Live
from source_customerio.errors import UNAUTHORIZED_MESSAGE, WRONG_REGION_MESSAGE
from testkit.connector import catalog, messages, run_cli, sandbox_config

FILTER_UNKNOWN_OPERATOR = json.dumps({"attribute": {"field": "plan", "operator": "gt", "value": 1}})
REMOVE = object()

# (name, config changes, field the message must name, words of the fix it must give)
BAD_CONFIGS = [
    ("missing key", {"app_api_key": REMOVE}, "app_api_key", "Add it"),
    ("empty key", {"app_api_key": ""}, "app_api_key", "Give a value"),
    ("blank key", {"app_api_key": "   "}, "app_api_key", "Paste an App API key"),
    ("unknown region", {"region": "APAC", "api_url": ""}, "region", "Use one of US, EU"),
    ("api_url not http", {"api_url": "ftp://files.example.com"}, "api_url", "http(s)://host"),
    ("api_url without host", {"api_url": "https://"}, "api_url", "Give a URL such as"),
    ("start_date malformed", {"start_date": "01/02/2024"}, "start_date", "YYYY-MM-DDTHH:MM:SSZ"),
    ("start_date impossible day", {"start_date": "2024-02-30T00:00:00Z"}, "start_date", "YYYY-MM-DDTHH:MM:SSZ"),
    ("start_date in the future", {"start_date": "2999-01-01T00:00:00Z"}, "start_date", "Use a past date"),
    ("lookback above range", {"messages": {"lookback_days": 181}}, "messages.lookback_days", "from 0 to 180"),
    ("lookback below range", {"messages": {"lookback_days": -1}}, "messages.lookback_days", "from 0 to 180"),
    ("filter not JSON", {"customers": {"filter": "{segment: 7}"}}, "customers.filter", "Fix the JSON"),
    ("filter of the wrong shape", {"customers": {"filter": "[1, 2]"}}, "customers.filter", "Fix the JSON"),
    (
        "filter unknown operator",
        {"customers": {"filter": FILTER_UNKNOWN_OPERATOR}},
        "customers.filter",
        "use eq or exists",
    ),
    ("unknown message channel", {"messages": {"types": ["fax"]}}, "messages.types", "Use one of email"),
    (
        "unknown activity mode",
        {"activities": {"mode": "WIDE"}},
        "activities.mode",
        "Use one of SINGLE_TABLE, PARSED_DATA",
    ),
    (
        "PARSED_DATA without types",
        {"activities": {"mode": "PARSED_DATA"}},
        "activities.types",
        "List the activity types",
    ),
    (
        "attributes with an empty name",
        {"customers": {"attributes": "email,,plan"}},
        "customers.attributes",
        "name,name,name",
    ),
    ("options not an object", {"messages": "email"}, "messages", "of type object"),
    ("requests_per_second zero", {"requests_per_second": 0}, "requests_per_second", "from 0.1 to 10"),
]


def bad_config(sandbox, changes: Dict[str, Any]) -> Dict[str, Any]:
    # Based on a sandbox config, so a row that wrongly passed would still only reach 127.0.0.1.
    config = sandbox_config(sandbox)
    for name, value in changes.items():
        if value is REMOVE:
            del config[name]
        else:
            config[name] = value
    return config


def assert_no_traceback(result) -> None:
    assert "Traceback" not in result.stdout
    assert "Traceback" not in result.stderr
    assert all(line.startswith("{") for line in result.stdout.splitlines()), "only protocol messages on stdout"
    for message in messages(result.stdout):
        if message["type"] == "TRACE" and message["trace"]["type"] == "ERROR":
            assert not message["trace"]["error"].get("stack_trace")


def config_errors(result) -> List[Dict[str, Any]]:
    return [
        m["trace"]["error"] for m in messages(result.stdout) if m["type"] == "TRACE" and m["trace"]["type"] == "ERROR"
    ]


def connection_status(result) -> Dict[str, Any]:
    (status,) = [m["connectionStatus"] for m in messages(result.stdout) if m["type"] == "CONNECTION_STATUS"]
    return status


@pytest.mark.parametrize("changes, field, fix", [row[1:] for row in BAD_CONFIGS], ids=[row[0] for row in BAD_CONFIGS])
def test_check_names_the_field_and_the_fix(sandbox, tmp_path, changes, field, fix):
    result = run_cli(["check", "--config", "config.json"], bad_config(sandbox, changes), tmp_path)

    status = connection_status(result)
    assert result.returncode == 0
    assert status["status"] == "FAILED"
    assert status["message"].startswith(f"Config field `{field}`: ")
    assert fix in status["message"]
    assert_no_traceback(result)


@pytest.mark.parametrize("command", ["discover", "read"])
@pytest.mark.parametrize(
    "changes, field",
    [({"region": "APAC", "api_url": ""}, "region"), ({"activities": {"mode": "PARSED_DATA"}}, "activities.types")],
    ids=["schema", "semantic"],
)
def test_discover_and_read_end_with_one_clear_config_error(sandbox, config, tmp_path, command, changes, field):
    files = {"catalog.json": ConfiguredAirbyteCatalogSerializer.dump(catalog(config, ["campaigns"]))}
    args = [command, "--config", "config.json"] + (["--catalog", "catalog.json"] if command == "read" else [])

    result = run_cli(args, bad_config(sandbox, changes), tmp_path, extra_files=files)

    (error,) = config_errors(result)
    assert result.returncode == 1
    assert error["failure_type"] == "config_error"
    assert error["message"].startswith(f"Config field `{field}`: ")
    assert_no_traceback(result)


@pytest.mark.parametrize(
    "state",
    [{"campaigns": {"updated": 1700000000}}, [1, 2], "campaigns", [{"type": "STREAM", "stream": "campaigns"}]],
    ids=["legacy object", "list of numbers", "string", "stream not an object"],
)
def test_a_state_file_of_the_wrong_shape_is_a_clear_config_error(config, tmp_path, state):
    files = {
        "catalog.json": ConfiguredAirbyteCatalogSerializer.dump(catalog(config, ["campaigns"], SyncMode.incremental)),
        "state.json": state,
    }

    result = run_cli(
        ["read", "--config", "config.json", "--catalog", "catalog.json", "--state", "state.json"],
        config,
        tmp_path,
        extra_files=files,
    )

    (error,) = config_errors(result)
    assert result.returncode == 1
    assert error["failure_type"] == "config_error"
    assert error["message"].startswith("The state file is not a list of Airbyte state messages")
    assert "Clear the stream's data" in error["message"]
    assert_no_traceback(result)
    assert not [m for m in messages(result.stdout) if m["type"] == "RECORD"]


# One stream of each state model (client-side cursor, per-series windows, metrics periods), each
# with a saved state of the wrong shape, and the problem the error must state.
WRONG_STATES = [
    ("campaigns", {"updated": "yesterday"}, "has `updated` 'yesterday', which is not unix seconds"),
    ("messages", {"created": 1700000000}, 'is not {"states": ['),
    (
        "activities_all",
        {"states": [{"cursor": {"timestamp": "x"}}]},
        "has an entry {'cursor': {'timestamp': 'x'}} without a `timestamp` cursor in unix seconds",
    ),
    ("campaign_metrics", {"period_start": "abc"}, "has `period_start` 'abc', which is not unix seconds"),
]


def read_incrementally_from(config, tmp_path, stream_states: Dict[str, Any]):
    """The console script's incremental read of the given streams from the given saved states."""
    state = [
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": stream}, "stream_state": stream_state}}
        for stream, stream_state in stream_states.items()
    ]
    files = {
        "catalog.json": ConfiguredAirbyteCatalogSerializer.dump(
            catalog(config, list(stream_states), SyncMode.incremental)
        ),
        "state.json": state,
    }
    return run_cli(
        ["read", "--config", "config.json", "--catalog", "catalog.json", "--state", "state.json"],
        config,
        tmp_path,
        extra_files=files,
    )


@pytest.mark.parametrize("stream, stream_state, problem", WRONG_STATES, ids=[case[0] for case in WRONG_STATES])
def test_a_stream_state_of_the_wrong_shape_is_a_config_error_before_any_request(
    sandbox, config, tmp_path, stream, stream_state, problem
):
    sandbox.stats.reset()

    result = read_incrementally_from(config, tmp_path, {stream: stream_state})

    (error,) = config_errors(result)
    assert result.returncode == 1
    assert error["failure_type"] == "config_error"
    assert error["message"].startswith(f"The saved state of stream `{stream}` {problem}")
    assert error["message"].endswith(
        "Clear the stream's data in Airbyte (or sync without this state) to read again from `start_date`."
    )
    assert not [m for m in messages(result.stdout) if m["type"] == "RECORD"]
    assert sandbox.stats.snapshot()["requests"] == 0


def test_the_wrong_states_of_several_streams_are_told_at_once(sandbox, config, tmp_path):
    sandbox.stats.reset()

    result = read_incrementally_from(config, tmp_path, {stream: state for stream, state, _ in WRONG_STATES})

    (error,) = config_errors(result)
    assert error["failure_type"] == "config_error" and result.returncode == 1
    for stream, _, problem in WRONG_STATES:
        assert f"The saved state of stream `{stream}` {problem}" in error["message"]
    assert sandbox.stats.snapshot()["requests"] == 0


@pytest.mark.parametrize(
    "live, message",
    [
        pytest.param(Live(), UNAUTHORIZED_MESSAGE, id="401_as_live_accounts_answer"),
        pytest.param(Live.reference(), WRONG_REGION_MESSAGE.format(status=301), id="redirect_as_the_reference"),
    ],
)
def test_a_key_of_another_region_is_told_to_check_the_region(make_sandbox, tmp_path, live, message):
    server = make_sandbox(live=live)
    config = sandbox_config(server, api_url=server.other_region_url)

    result = run_cli(["check", "--config", "config.json"], config, tmp_path)

    assert connection_status(result) == {"status": "FAILED", "message": message}
    assert "`region`" in message
    assert_no_traceback(result)


def test_a_track_api_key_is_told_to_use_an_app_api_key(sandbox, tmp_path):
    config = sandbox_config(sandbox, app_api_key=f"{TRACK_KEY_PREFIX}site-id-and-secret")

    result = run_cli(["check", "--config", "config.json"], config, tmp_path)

    assert connection_status(result) == {"status": "FAILED", "message": UNAUTHORIZED_MESSAGE}
    assert_no_traceback(result)
