"""End to end: the installed console script, as Airbyte runs it, against the sandbox."""

import socket
import time
from typing import Any, Dict, List

import pytest
from airbyte_cdk.models import ConfiguredAirbyteCatalogSerializer

from sandbox.workspace import Live
from source_customerio.errors import UNAUTHORIZED_MESSAGE, WRONG_REGION_MESSAGE
from testkit.connector import canonical, catalog, discovered_streams, keys, messages, run_cli, sandbox_config
from testkit.expected import EXPECTED

FOUNDATION_STREAMS = ("campaigns", "campaign_actions", "segments", "segment_members", "newsletters", "workspaces")
# Generous for a 2-core machine, far below what retrying an unreachable host would take (minutes).
CHECK_BOUND_SECONDS = 30


def of_type(stdout: str, message_type: str) -> List[Dict[str, Any]]:
    return [message for message in messages(stdout) if message["type"] == message_type]


def connection_status(result) -> Dict[str, Any]:
    (status,) = of_type(result.stdout, "CONNECTION_STATUS")
    return status["connectionStatus"]


def assert_clean_failure(result, key: str) -> None:
    """A failed check exits 0, shows no traceback and never prints the key."""
    output = result.stdout + result.stderr
    assert result.returncode == 0
    assert "Traceback" not in output
    assert key not in output


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_given_no_config_when_spec_then_one_spec_with_the_fixed_keys(tmp_path):
    result = run_cli(["spec"], tmp_path=tmp_path)

    (spec,) = of_type(result.stdout, "SPEC")
    properties = spec["spec"]["connectionSpecification"]["properties"]
    assert result.returncode == 0
    assert {"app_api_key", "region", "api_url", "start_date", "messages", "customers", "activities"} <= set(properties)
    assert properties["app_api_key"]["airbyte_secret"] is True


def test_given_sandbox_config_when_check_then_succeeds(sandbox, tmp_path):
    result = run_cli(["check", "--config", "config.json"], sandbox_config(sandbox), tmp_path)

    assert connection_status(result) == {"status": "SUCCEEDED"}


@pytest.mark.parametrize("key", ["wrong-app-key-1234567", "track-0123456789abcdef"], ids=["wrong_key", "track_key"])
def test_given_rejected_key_when_check_then_failed_with_one_clear_message(sandbox, tmp_path, key):
    result = run_cli(["check", "--config", "config.json"], sandbox_config(sandbox, app_api_key=key), tmp_path)

    assert connection_status(result) == {"status": "FAILED", "message": UNAUTHORIZED_MESSAGE}
    assert_clean_failure(result, key)


@pytest.mark.parametrize(
    "live, status, message",
    [
        pytest.param(Live(), 401, UNAUTHORIZED_MESSAGE, id="401_as_live_accounts_answer"),
        pytest.param(Live.reference(), 301, WRONG_REGION_MESSAGE.format(status=301), id="redirect_as_the_reference"),
    ],
)
def test_given_other_region_when_check_then_the_message_names_the_region_and_nothing_is_followed(
    make_sandbox, tmp_path, live, status, message
):
    server = make_sandbox(live=live)

    result = run_cli(
        ["check", "--config", "config.json"], sandbox_config(server, api_url=server.other_region_url), tmp_path
    )

    assert connection_status(result) == {"status": "FAILED", "message": message}
    assert "`region`" in message
    assert_clean_failure(result, server.app_key)
    assert [(request["path"], request["status"]) for request in server.stats.log] == [("/v1/workspaces", status)]


def test_given_unreachable_host_when_check_then_failed_quickly_naming_the_host(tmp_path):
    key = "fake-app-key-unreachable"
    host = f"127.0.0.1:{closed_port()}"
    started = time.monotonic()

    result = run_cli(
        ["check", "--config", "config.json"],
        {"app_api_key": key, "api_url": f"http://{host}"},
        tmp_path,
        timeout=CHECK_BOUND_SECONDS,
    )

    assert time.monotonic() - started < CHECK_BOUND_SECONDS
    assert connection_status(result) == {
        "status": "FAILED",
        "message": f"Could not reach Customer.io at {host} (connection failed): check `region` and `api_url`, and "
        "that this machine can reach the API.",
    }
    assert_clean_failure(result, key)


def test_given_sandbox_config_when_discover_then_foundation_streams_listed(sandbox, tmp_path):
    result = run_cli(["discover", "--config", "config.json"], sandbox_config(sandbox), tmp_path)

    (catalog_message,) = of_type(result.stdout, "CATALOG")
    assert set(FOUNDATION_STREAMS) <= {stream["name"] for stream in catalog_message["catalog"]["streams"]}


def test_given_foundation_streams_when_read_then_exactly_the_sandbox_records_without_duplicates(sandbox, tmp_path):
    config = sandbox_config(sandbox)
    configured = ConfiguredAirbyteCatalogSerializer.dump(catalog(config, FOUNDATION_STREAMS))

    result = run_cli(
        ["read", "--config", "config.json", "--catalog", "catalog.json"],
        config,
        tmp_path,
        extra_files={"catalog.json": configured},
    )

    assert result.returncode == 0, result.stderr[-2000:]
    records: Dict[str, List[Dict[str, Any]]] = {name: [] for name in FOUNDATION_STREAMS}
    for message in of_type(result.stdout, "RECORD"):
        records[message["record"]["stream"]].append(message["record"]["data"])
    streams = discovered_streams(config)
    for name in FOUNDATION_STREAMS:
        primary_key = [part[0] for part in streams[name].source_defined_primary_key]
        got_keys = keys(records[name], primary_key)
        assert len(got_keys) == len(set(got_keys)), f"{name} has duplicate primary keys"
        assert canonical(records[name]) == canonical(EXPECTED[name](sandbox.workspace, config)), name
    assert not [message for message in of_type(result.stdout, "TRACE") if message["trace"]["type"] == "ERROR"]
