"""Secrets: a canary key never shows in any output, and travels only to the configured API host.

Every scenario runs the installed console script with --debug (the most talkative level) and
searches stdout and stderr for the key. The sandbox logs the Authorization header of every request
it receives, in either region: the key must arrive with each /v1 call to the configured host, and
never with the signed export download or at the region a redirect points to.
"""

import logging
import socket
from io import StringIO
from typing import Any, Dict

import pytest
from airbyte_cdk.logger import AirbyteLogFormatter
from airbyte_cdk.models import AirbyteMessageSerializer, SyncMode
from airbyte_cdk.models.airbyte_protocol_serializers import ConfiguredAirbyteCatalogSerializer
from airbyte_cdk.test.entrypoint_wrapper import read

from sandbox.server import CHAOS_KINDS, Settings
from source_customerio import SourceCustomerio
from source_customerio.errors import MAX_RETRIES
from testkit.connector import (
    SMALL_KNOBS,
    catalog,
    discovered_streams,
    messages,
    recorded_cdk_sleeps,
    run_cli,
    small_config,
)

CANARY = "canary-app-key-7f3e9c21d4b8a605"
OTHER_KEY = "another-workspace-key-0001"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# name: (sandbox arguments, config changes, command, streams to read, state file)
SCENARIOS: Dict[str, tuple] = {
    "spec": ({}, None, "spec", None, None),
    "check": ({}, {}, "check", None, None),
    "discover": ({}, {}, "discover", None, None),
    "read every stream": ({}, {}, "read", "all", None),
    "read customers by export": ({}, {"customers": {"method": "export"}}, "read", ["customers"], None),
    "check at the other region (301)": ({}, {"api_url": "other region"}, "check", None, None),
    "read at the other region (301)": ({}, {"api_url": "other region"}, "read", ["campaigns"], None),
    "check with a rejected key (401)": ({"app_key": OTHER_KEY}, {}, "check", None, None),
    "read without a scope (403)": (
        {"scoped_keys": {CANARY: {"newsletters"}}},
        {},
        "read",
        ["newsletters", "segments"],
        None,
    ),
    "read with a config error": ({}, {"activities": {"mode": "PARSED_DATA"}}, "read", ["campaigns"], None),
    "read with a bad state file": ({}, {}, "read", ["campaigns"], {"campaigns": "oops"}),
    "check an unreachable host": ({}, {"api_url": "closed port"}, "check", None, None),
}


def scenario_config(sandbox, changes: Dict[str, Any]) -> Dict[str, Any]:
    config = small_config(sandbox, app_api_key=CANARY, **changes)
    if config["api_url"] == "other region":
        config["api_url"] = sandbox.other_region_url
    elif config["api_url"] == "closed port":
        config["api_url"] = f"http://127.0.0.1:{closed_port()}"
    return config


def assert_the_key_went_only_to_the_api(sandbox, config) -> None:
    configured_region = "EU" if config["api_url"] == sandbox.region_url("EU") else "US"
    for request in sandbox.stats.log:
        if request["path"].startswith("/v1/"):
            assert request["authorization"] == f"Bearer {CANARY}", request
            assert request["region"] == configured_region, "a redirect was followed"
        else:
            assert request["authorization"] is None, request
        assert CANARY not in request["path"]


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_key_never_shows_and_goes_only_to_the_api_host(make_sandbox, tmp_path, name):
    sandbox_arguments, changes, command, streams, state = SCENARIOS[name]
    sandbox = make_sandbox(SMALL_KNOBS, **{"app_key": CANARY, **sandbox_arguments})
    config = None if changes is None else scenario_config(sandbox, changes)
    args = [command, "--debug"] + ([] if config is None else ["--config", "config.json"])
    files: Dict[str, Any] = {}
    if streams:
        valid_config = small_config(sandbox)
        names = sorted(discovered_streams(valid_config)) if streams == "all" else streams
        files["catalog.json"] = ConfiguredAirbyteCatalogSerializer.dump(
            catalog(valid_config, names, SyncMode.incremental)
        )
        args += ["--catalog", "catalog.json"]
    if state is not None:
        files["state.json"] = state
        args += ["--state", "state.json"]
    sandbox.stats.reset()

    result = run_cli(args, config, tmp_path, extra_files=files)

    assert CANARY not in result.stdout
    assert CANARY not in result.stderr
    assert messages(result.stdout), "the scenario ran and spoke the protocol"
    if config is not None:
        assert_the_key_went_only_to_the_api(sandbox, config)
    if name == "read every stream":
        assert result.returncode == 0
        assert {m["record"]["stream"] for m in messages(result.stdout) if m["type"] == "RECORD"} == set(names)
    if name == "read customers by export":
        assert [r["path"].split("/")[1] for r in sandbox.stats.log if not r["path"].startswith("/v1/")] == [
            "export-files"
        ]
    if "301" in name:
        assert {r["region"] for r in sandbox.stats.log} == {"EU"}


@pytest.fixture
def debug_output(monkeypatch) -> StringIO:
    """Every log record, debug included, formatted the way the console script prints it."""
    buffer = StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(AirbyteLogFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    with recorded_cdk_sleeps():  # the error paths stay fast
        yield buffer
    root.removeHandler(handler)


@pytest.mark.parametrize("kind", CHAOS_KINDS)
def test_retry_and_failure_paths_never_show_the_key(make_sandbox, debug_output, capsys, kind):
    # The endpoint never recovers: every retry is logged, then the stream's error and the summary.
    settings = Settings(chaos=1.0, chaos_path="/v1/newsletters", chaos_kinds=(kind,), chaos_stall_seconds=2)
    sandbox = make_sandbox(SMALL_KNOBS, settings, app_key=CANARY)
    config = small_config(sandbox, request_timeout_seconds=1, rate_limit_max_wait_minutes=1)

    output = read(
        SourceCustomerio(), config, catalog(config, ["campaigns", "newsletters"]), expecting_exception=True, debug=True
    )

    emitted = "\n".join(repr(AirbyteMessageSerializer.dump(message)) for message in output.get_message_iterator())
    printed = capsys.readouterr()
    attempts = sandbox.stats.snapshot()["chaos"][kind]
    # 429s are retried until a minute of waits is spent (waits are recorded, not slept), others 6 times.
    assert output.errors and (attempts > MAX_RETRIES if kind == "429_burst" else attempts == MAX_RETRIES + 1)
    for text in (emitted, debug_output.getvalue(), printed.out, printed.err):
        assert CANARY not in text
    assert "Making outbound API request" in debug_output.getvalue(), "debug logging was on"
    assert_the_key_went_only_to_the_api(sandbox, config)
