"""Helpers for tests that drive the connector against the sandbox."""

import json
import os
import subprocess
import sys
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional
from unittest.mock import patch

from airbyte_cdk.models import ConfiguredAirbyteCatalog, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder, ConfiguredAirbyteStreamBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, discover, read

from sandbox.server import Sandbox
from sandbox.workspace import DAY, DEFAULT_NOW, Knobs
from source_customerio import SourceCustomerio

REPO = Path(__file__).resolve().parent.parent

# Small enough that a sync of every stream takes seconds at the connector's 10 requests per second,
# yet every stream has records, and messages span more than one 30-day window. For tests that run
# many whole syncs (faults, restarts, secrets); pair it with `small_config`.
SMALL_KNOBS = Knobs(
    campaigns=3,
    segments=3,
    newsletters=4,
    people=40,
    messages=120,
    message_history_days=60,
    activities=150,
    broadcasts=2,
    transactional_messages=2,
    sender_identities=5,
    objects=6,
    suppressions=30,
    export_pending_polls=0,
)


def sandbox_config(sandbox: Sandbox, **overrides: Any) -> Dict[str, Any]:
    """A connector config pointing at the sandbox, with fast settings for tests."""
    config: Dict[str, Any] = {"app_api_key": sandbox.app_key, "api_url": sandbox.url, "request_timeout_seconds": 10}
    config.update(overrides)
    return config


def small_config(sandbox: Sandbox, **overrides: Any) -> Dict[str, Any]:
    """`sandbox_config` starting at SMALL_KNOBS' message history, so messages read only a few windows."""
    start = datetime.fromtimestamp(DEFAULT_NOW - SMALL_KNOBS.message_history_days * DAY, timezone.utc)
    return sandbox_config(sandbox, start_date=start.strftime("%Y-%m-%dT%H:%M:%SZ"), **overrides)


def discovered_streams(config: Mapping[str, Any]) -> Dict[str, Any]:
    output = discover(SourceCustomerio(), dict(config))
    return {stream.name: stream for stream in output.catalog.catalog.streams}


def catalog(
    config: Mapping[str, Any], names: Optional[Iterable[str]] = None, sync_mode: SyncMode = SyncMode.full_refresh
) -> ConfiguredAirbyteCatalog:
    """A configured catalog of `names` (default: every stream), incremental where asked and supported."""
    streams = discovered_streams(config)
    builder = CatalogBuilder()
    for name in names or streams:
        stream = streams[name]
        mode = sync_mode if sync_mode in stream.supported_sync_modes else SyncMode.full_refresh
        configured = (
            ConfiguredAirbyteStreamBuilder().with_name(name).with_sync_mode(mode).with_json_schema(stream.json_schema)
        )
        if stream.source_defined_primary_key:
            configured = configured.with_primary_key(stream.source_defined_primary_key)
        builder = builder.with_stream(configured)
    return builder.build()


def read_streams(
    config: Mapping[str, Any],
    names: Optional[Iterable[str]] = None,
    sync_mode: SyncMode = SyncMode.full_refresh,
    state: Optional[List[Any]] = None,
    expecting_exception: bool = False,
) -> EntrypointOutput:
    """Run `read` in-process through the real entrypoint."""
    return read(SourceCustomerio(), dict(config), catalog(config, names, sync_mode), state, expecting_exception)


def records_by_stream(output: EntrypointOutput) -> Dict[str, List[Dict[str, Any]]]:
    grouped: Dict[str, List[Dict[str, Any]]] = {}
    for message in output.records:
        grouped.setdefault(message.record.stream, []).append(dict(message.record.data))
    return grouped


def keys(records: Iterable[Mapping[str, Any]], primary_key: Iterable[str]) -> List[tuple]:
    fields = list(primary_key)
    return [tuple(record.get(name) for name in fields) for record in records]


def run_cli(
    args: List[str],
    config: Optional[Mapping[str, Any]] = None,
    tmp_path: Optional[Path] = None,
    timeout: int = 300,
    extra_files: Optional[Dict[str, Any]] = None,
    launcher: Optional[List[str]] = None,
) -> subprocess.CompletedProcess:
    """Run the connector like Airbyte's docker protocol does; files go to tmp_path. `launcher`: the
    command that starts it (default: the installed console script in tmp_path)."""
    command = [*(launcher or [str(Path(sys.executable).parent / "source-customerio")]), *args]
    files = dict(extra_files or {})
    if config is not None:
        files["config.json"] = config
    for name, content in files.items():
        (Path(tmp_path) / name).write_text(json.dumps(content))
    return subprocess.run(
        command,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def messages(stdout: str) -> List[Dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def without_nulls(value: Any) -> Any:
    """Airbyte's serializer drops null fields from records; compare without them."""
    if isinstance(value, dict):
        return {key: without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [without_nulls(item) for item in value]
    return value


def canonical(records: Iterable[Mapping[str, Any]]) -> List[str]:
    """Records as sorted JSON lines, nulls dropped: equal lists mean the same multiset of records."""
    return sorted(json.dumps(without_nulls(dict(record)), sort_keys=True) for record in records)


# The one place tests reach into the CDK: its retry handlers sleep through the `time` module of
# airbyte_cdk.sources.streams.http.rate_limiting (no public hook); unit_tests/test_cdk_contract.py
# fails on the day that changes.
CDK_RETRY_CLOCK = "airbyte_cdk.sources.streams.http.rate_limiting.time"


@contextmanager
def recorded_cdk_sleeps() -> Iterator[List[float]]:
    """The seconds the CDK's retry handlers sleep, recorded instead of slept."""
    slept: List[float] = []
    with patch(CDK_RETRY_CLOCK, SimpleNamespace(sleep=slept.append)):
        yield slept
