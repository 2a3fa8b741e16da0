"""A real client: PyAirbyte runs the installed console script and loads every stream into DuckDB.

Row counts in DuckDB must equal the sandbox's record counts: a full-refresh read of every stream,
then two incremental reads in a row of the incremental streams, which PyAirbyte resumes from the
state it kept and merges on the primary key.
"""

import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

# PyAirbyte reads these when imported: no registry download, no telemetry.
os.environ.setdefault("AIRBYTE_OFFLINE_MODE", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")

import airbyte as ab  # noqa: E402
import pytest  # noqa: E402
from airbyte.caches import DuckDBCache  # noqa: E402

from sandbox.workspace import Knobs  # noqa: E402
from testkit.connector import (  # noqa: E402
    SMALL_KNOBS,
    discovered_streams,
    read_streams,
    records_by_stream,
    sandbox_config,
    small_config,
)
from testkit.expected import EXPECTED  # noqa: E402

CONNECTOR = Path(sys.executable).parent / "source-customerio"
INCREMENTAL = ["activities_all", "campaigns", "messages", "newsletters"]


@pytest.fixture
def small_sandbox(make_sandbox):
    return make_sandbox(SMALL_KNOBS)


def sandbox_counts(sandbox, config, streams):
    """What the sandbox holds per stream: its expected records, or an in-process read where it has none."""
    without_truth = [stream for stream in streams if stream not in EXPECTED]
    read = records_by_stream(read_streams(config, without_truth)) if without_truth else {}
    return {
        stream: len(EXPECTED[stream](sandbox.workspace, config)) if stream in EXPECTED else len(read.get(stream, []))
        for stream in streams
    }


def test_pyairbyte_loads_every_stream_into_duckdb_with_the_sandbox_counts(small_sandbox, tmp_path):
    config = small_config(small_sandbox)
    streams = sorted(discovered_streams(config))
    source = ab.get_source("source-customerio", config=config, local_executable=CONNECTOR)
    source.check()
    source.select_all_streams()
    cache = DuckDBCache(db_path=tmp_path / "sandbox.duckdb", cache_dir=tmp_path / "cache")

    result = source.read(cache=cache, write_strategy="replace", force_full_refresh=True)

    loaded = {stream: len(result.streams[stream]) if stream in result.streams else 0 for stream in streams}
    expected = sandbox_counts(small_sandbox, config, streams)
    assert loaded == expected
    assert all(expected.values()), "every stream has rows in the small workspace"


def test_pyairbyte_incremental_reads_resume_and_merge_to_the_sandbox_counts(small_sandbox, tmp_path):
    config = small_config(small_sandbox)
    source = ab.get_source("source-customerio", config=config, local_executable=CONNECTOR)
    source.select_streams(INCREMENTAL)
    cache = DuckDBCache(db_path=tmp_path / "sandbox.duckdb", cache_dir=tmp_path / "cache")

    source.read(cache=cache)
    small_sandbox.stats.reset()
    second = source.read(cache=cache)

    assert {stream: len(second.streams[stream]) for stream in INCREMENTAL} == sandbox_counts(
        small_sandbox, config, INCREMENTAL
    )
    # The second read resumed from the saved state instead of from start_date.
    message_windows = [
        parse_qs(urlsplit(r["path"]).query) for r in small_sandbox.stats.log if r["path"].startswith("/v1/messages")
    ]
    start_date = datetime.strptime(config["start_date"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
    assert message_windows and min(int(window["start_ts"][0]) for window in message_windows) > start_date


def test_pyairbyte_duckdb_keeps_a_deleted_persons_row_as_its_deletion_record(make_sandbox, tmp_path):
    """PyAirbyte's cache merges on the primary key and does not apply deletions: the deletion record
    replaces the person's row, so `_ab_cdc_deleted_at IS NULL` selects the people Customer.io has."""
    server = make_sandbox(Knobs(people=60, activities=100), now=int(time.time()))  # the connector runs on this clock
    ws = server.workspace
    source = ab.get_source("source-customerio", config=sandbox_config(server), local_executable=CONNECTOR)
    source.select_streams(["customers"])
    cache = DuckDBCache(db_path=tmp_path / "people.duckdb", cache_dir=tmp_path / "cache")
    source.read(cache=cache)
    deleted = ws.person_ids(5)["cio_id"]

    ws.delete_person(5)
    ws.change_attributes(7, {"plan": "enterprise"})
    ws.advance(60)
    source.read(cache=cache)

    rows = {row["cio_id"]: row for row in cache["customers"].to_pandas().to_dict("records")}
    assert len(rows) == 60  # the deleted person's row stays, replaced by the deletion record
    assert rows[deleted]["_ab_cdc_deleted_at"] > 0 and rows[deleted]["attributes"] is None
    present = {cio_id for cio_id, row in rows.items() if row["_ab_cdc_deleted_at"] != row["_ab_cdc_deleted_at"]}  # NaN
    assert present == {ws.person_ids(index)["cio_id"] for index in ws.live_person_indexes()}
    changed = rows[ws.person_ids(7)["cio_id"]]["attributes"]  # the cache keeps objects as JSON text
    assert json.loads(changed)["plan"] == "enterprise"
