"""Restarts: SIGKILL the console script mid-sync, resume from the last state, lose nothing.

A destination keeps the records that came before the last state message it received. So a run is
killed at a random point after a state message, its records up to that state count as delivered,
and the next run starts from that state. Together the runs must hold every record of the sandbox,
and a record may arrive twice only inside the re-read window the docs promise for its stream:

- messages: per channel, from the saved cursor less `messages.lookback_days`;
- activities: per type, the pages back to the saved cursor less an hour (here one page per type);
- a full-refresh stream: no state, so the next run reads everything again.
"""

import json
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from datetime import datetime, timezone
from itertools import pairwise
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.models.airbyte_protocol_serializers import ConfiguredAirbyteCatalogSerializer

from sandbox.workspace import DAY, DEFAULT_NOW
from source_customerio.streams.activities import ActivitiesStream
from testkit.connector import SMALL_KNOBS, canonical, catalog, small_config, without_nulls
from testkit.expected import EXPECTED

LOOKBACK_DAYS = 10
MESSAGE_CHANNELS = ["email", "push", "webhook"]
ACTIVITY_TYPES = ["event", "page", "attribute_change", "sent_email"]
RUN_TIMEOUT_SECONDS = 120
# A kill lands this many lines at most after its state, so it lands before the sync's end: after the first
# state of activities_all here (4 types, each slice's records then its state) come 3 more slices, 24+ lines.
MAX_LINES_AFTER_STATE = 20


def identity(record: Mapping[str, Any]) -> str:
    return json.dumps(without_nulls(dict(record)), sort_keys=True)


def stream_config(sandbox, stream: str) -> Dict[str, Any]:
    if stream == "messages":
        # Several windows per channel, so a sync emits many states to be killed after.
        start = DEFAULT_NOW - 2 * SMALL_KNOBS.message_history_days * DAY
        return {
            **small_config(sandbox, messages={"types": MESSAGE_CHANNELS, "lookback_days": LOOKBACK_DAYS}),
            "start_date": iso(start),
        }
    if stream == "activities_all":
        return small_config(sandbox, activities={"types": ACTIVITY_TYPES})
    return small_config(sandbox)


def iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Run:
    """One console-script read, SIGKILLed where `follow` says."""

    def __init__(self, workdir: Path, config: Mapping[str, Any], configured_catalog: Any, state: Optional[List[Any]]):
        self.records: List[str] = []
        self.delivered: List[str] = []  # the records before the last state message
        self.last_state: Optional[Dict[str, Any]] = None
        self.states = 0
        self.killed = False
        self.stderr_path = workdir / "stderr.txt"
        (workdir / "config.json").write_text(json.dumps(config))
        (workdir / "catalog.json").write_text(json.dumps(ConfiguredAirbyteCatalogSerializer.dump(configured_catalog)))
        args = ["read", "--config", "config.json", "--catalog", "catalog.json"]
        if state:
            (workdir / "state.json").write_text(json.dumps(state))
            args += ["--state", "state.json"]
        with self.stderr_path.open("w") as stderr:
            self._process = subprocess.Popen(
                [str(Path(sys.executable).parent / "source-customerio"), *args],
                cwd=workdir,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )

    def follow(
        self, kill_after_state: Optional[int] = None, then_lines: int = 0, kill_after_records: Optional[int] = None
    ) -> "Run":
        """Read the run's output; SIGKILL it `then_lines` lines after its k-th state that follows a record,
        or at its n-th record."""
        countdown: Optional[int] = None
        states_after_records = 0
        for line in self._process.stdout:
            message = json.loads(line)
            if message["type"] == "RECORD":
                self.records.append(identity(message["record"]["data"]))
                if len(self.records) == kill_after_records:
                    countdown = 0
            elif message["type"] == "STATE":
                self.states += 1
                self.last_state = message["state"]
                self.delivered = list(self.records)
                # Counted from the first record on: states of windows without messages come first.
                states_after_records += bool(self.records)
                if states_after_records == kill_after_state:
                    countdown = then_lines
            if countdown is not None:
                if countdown == 0:
                    os.kill(self._process.pid, signal.SIGKILL)
                    self.killed = True
                    break
                countdown -= 1
        self._process.stdout.close()
        self.exit_code = self._process.wait(timeout=RUN_TIMEOUT_SECONDS)
        if not self.killed:
            self.delivered = list(self.records)
        return self

    def failure(self) -> str:
        """What a run that ended on its own printed to stderr, for assertion messages."""
        return self.stderr_path.read_text()[-2000:]


def killed_and_resumed(
    sandbox, tmp_path, stream: str, seed: int, kills: int, states_per_kill: int
) -> Tuple[List[Run], Dict[str, Any]]:
    """Kill the sync up to `kills` times, each at a random point after one of its next states; then finish it.

    A run that ends before its kill point has simply finished the sync.
    """
    config = stream_config(sandbox, stream)
    configured = catalog(config, [stream], SyncMode.incremental)
    chooser = random.Random(seed)
    runs: List[Run] = []
    state: Optional[List[Any]] = None
    while not runs or runs[-1].killed:
        workdir = tmp_path / f"run{len(runs)}"
        workdir.mkdir()
        kill_point = chooser.randint(1, states_per_kill) if len(runs) < kills else None
        run = Run(workdir, config, configured, state).follow(
            kill_point, then_lines=chooser.randint(0, MAX_LINES_AFTER_STATE)
        )
        runs.append(run)
        state = [run.last_state] if run.last_state else state
    assert runs[0].killed, f"the first run ended before its kill point: {runs[0].failure()}"
    assert runs[-1].exit_code == 0, runs[-1].failure()
    return runs, config


def series_cursors(state: Optional[Mapping[str, Any]]) -> Dict[Optional[str], int]:
    """{series: cursor} of a per-series stream state (messages, activities)."""
    stream_state = (state or {}).get("stream", {}).get("stream_state") or {}
    return {
        entry["partition"]["type"]: next(iter(entry["cursor"].values())) for entry in stream_state.get("states", [])
    }


def may_repeat(
    stream: str, record: Mapping[str, Any], resumed_from: Optional[Mapping[str, Any]], sandbox, config
) -> bool:
    """Whether the docs allow `record`, delivered before a restart, to be read again after it."""
    if stream == "messages":
        # A channel without a saved cursor had no window read with all those before it: read again
        # from the start, even if some of its records came before the state (windows are read at once).
        cursor = series_cursors(resumed_from).get(record["type"])
        return cursor is None or record["created"] >= cursor - LOOKBACK_DAYS * DAY
    # activities_all: a type with a saved cursor is re-read back to a page wholly older than cursor less
    # an hour, and each type here fits one page, so all of it; a type without one is read again.
    # Full refresh reads everything again.
    return True


def assert_restarts_lose_nothing_and_repeat_only_the_documented(sandbox, stream: str, runs: List[Run], config) -> None:
    expected = Counter(canonical(EXPECTED[stream](sandbox.workspace, config)))
    delivered = Counter(record for run in runs for record in run.delivered)
    assert set(delivered) == set(expected), "every record delivered, nothing else"
    for run in runs:
        assert all(count == 1 for count in Counter(run.records).values()), "no record twice within one run"
    for earlier, later in pairwise(runs):
        repeated = set(earlier.delivered) & set(later.delivered)
        unexpected = [r for r in repeated if not may_repeat(stream, json.loads(r), earlier.last_state, sandbox, config)]
        assert not unexpected, (
            f"{len(unexpected)} records repeated outside the re-read window from {series_cursors(earlier.last_state)}, "
            f"e.g. {unexpected[0]}"
        )


@pytest.fixture
def restart_sandbox(make_sandbox):
    sandbox = make_sandbox(SMALL_KNOBS)
    # Keeps the activities rule above exact: each selected type must fit in one page.
    per_type = Counter(
        record["type"]
        for record in EXPECTED["activities_all"](sandbox.workspace, stream_config(sandbox, "activities_all"))
    )
    assert max(per_type.values()) <= ActivitiesStream.page_size
    return sandbox


# (stream, states after a record that a run emits before its end, which a kill may follow: windows
# and types complete concurrently, so one state may cover several)
RESTARTABLE = [("messages", 4), ("activities_all", 3)]


@pytest.mark.parametrize("stream, states_per_kill", RESTARTABLE)
def test_an_incremental_sync_killed_once_resumes_without_loss(restart_sandbox, tmp_path, stream, states_per_kill):
    runs, config = killed_and_resumed(
        restart_sandbox, tmp_path, stream, seed=1, kills=1, states_per_kill=states_per_kill
    )

    assert_restarts_lose_nothing_and_repeat_only_the_documented(restart_sandbox, stream, runs, config)
    assert runs[0].delivered, "the first run delivered something before it was killed"


def test_a_full_refresh_sync_killed_reads_everything_again(restart_sandbox, tmp_path):
    stream = "segment_members"
    config = small_config(restart_sandbox)
    configured = catalog(config, [stream])
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()

    # A full-refresh stream saves no state before its end: kill it at a record instead.
    first = Run(tmp_path / "first", config, configured, None).follow(kill_after_records=20)
    second = Run(tmp_path / "second", config, configured, None).follow()

    assert first.killed and first.states == 0
    assert second.exit_code == 0, second.failure()
    assert Counter(second.records) == Counter(canonical(EXPECTED[stream](restart_sandbox.workspace, config)))


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(2, 8))
@pytest.mark.parametrize("stream, states_per_kill", RESTARTABLE)
def test_an_incremental_sync_killed_again_and_again_resumes_without_loss(
    restart_sandbox, tmp_path, stream, states_per_kill, seed
):
    runs, config = killed_and_resumed(
        restart_sandbox, tmp_path, stream, seed=seed, kills=3, states_per_kill=max(1, states_per_kill // 3)
    )

    assert_restarts_lose_nothing_and_repeat_only_the_documented(restart_sandbox, stream, runs, config)
