"""Throughput benchmark: the installed connector syncs against the sandbox, each in its own process.

    make bench                                        full mode, about 35 minutes on 2 cores
    .venv/bin/python scripts/bench.py --quick         smaller workspaces, about 6 minutes
    ... --only cpu --only memory                      some scenarios only
    ... --baseline <git revision>                     also run the whole, rate-floor and CPU syncs with
                                                      the package as committed then: before/after in one run

Scenarios (issues 6, 11 and 20):
- long chain (issue 20): the core streams, then every stream, beside a 300-page activity log, at
  150 ms and 400 ms latency: wall time against the later of two floors, the budget floor (requests
  / 10 req/s) and the chain floor (the longest listing's pages one after another, each taking what
  the sandbox took to answer it: the latency and its own work), and which of them binds.
- whole sync (issue 11): every core stream, then every stream, in one read, as a scheduled sync
  runs them; with --baseline, the same read by that revision.
- rate floor: 10 req/s and 150 ms latency. Per stream: requests, records, wall seconds, rate-floor
  efficiency (requests / 10 req/s / wall seconds), 429s, records per CPU-second, peak RSS.
- speed-up: 10 req/s and 300 ms latency, our connector with `max_concurrent_requests` 1 against
  the default, in the same run.
- CPU: no rate limit, no latency: records per CPU-second of the connector process (median of
  CPU_REPEATS runs, in turns with the baseline's), and a cProfile
  of a read at concurrency 1 (cProfile sees the main thread only: the engine's consumer, which
  turns records into messages; requests and parsing run on the engine's worker threads).
- memory: peak RSS of the connector at a small and a large workspace.

Wall seconds are those of the whole connector process, start-up included (the start-up of a
`spec` call is printed with the machine facts). CPU seconds and peak RSS come from the kernel's
accounting of that one child process (`os.wait4`). Results go to bench/RESULTS.md.
"""

import argparse
import datetime
import io
import itertools
import json
import os
import platform
import pstats
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field, replace
from importlib.metadata import version
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, TypeVar

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the sandbox package, for its default workspace sizes

from sandbox.workspace import Knobs  # noqa: E402
from source_customerio.errors import RATE_WINDOW_MARGIN  # noqa: E402

CONNECTOR = Path(sys.executable).parent / "source-customerio"
RESULTS = REPO / "bench" / "RESULTS.md"
API_RATE_LIMIT = 10  # the App API's requests per second per workspace
RECORD_PREFIX = b'{"type":"RECORD"'

# Targets from issue 6 (and 11: whole syncs, below).
MIN_EFFICIENCY = 0.9
MAX_THROTTLED_SHARE = 0.01
MIN_RECORDS_PER_CPU_SECOND = 20_000
CPU_REPEATS = 7  # one run of the same code differs from the next by up to ±15% of CPU on a shared machine
MAX_PEAK_RSS_MB = 300
MIN_SPEED_UP = 2.5
MAX_SEARCH_REQUESTS_PER_THOUSAND = 12  # issue 10: customers search, whatever identifiers people have


ALL_STREAMS = ("*",)  # a whole sync: every stream the connector discovers


@dataclass(frozen=True)
class Scenario:
    """One sandbox process (workspace sizes, rate limit, latency) and the streams synced against it."""

    title: str
    knobs: Mapping[str, float]
    streams: Sequence[str]
    rate_limit: Optional[float] = API_RATE_LIMIT
    latency_ms: float = 0
    config: Mapping[str, Any] = field(default_factory=dict)


# The sandbox's messages span the two years before its clock (2026-11-01); a start_date there
# keeps the backfill from walking 2012–2024 in empty 30-day windows (about 150 requests).
# Activities are read one series (a chain of 100-per-page cursors) per configured type.
SYNC_CONFIG = {
    "start_date": "2024-11-01T00:00:00Z",
    "activities": {"types": ["event", "page", "attribute_change", "sent_email", "opened_email", "sent_push"]},
}

# Issue 11: whole syncs on the concurrent engine. "Scale N" is N times the sandbox's default
# workspace (sandbox/workspace.py Knobs). The core streams are the ones Keboola's extractor reads
# (campaigns and their actions, segments and their members, newsletters, messages, activities,
# customers). At scale 4 their sync is about 190 requests (20 s at 10 req/s), so the connector's
# start-up is 6% of it; scale 20, about 880 requests, is the size of the measurement.
SCALED_KNOBS = (
    "campaigns",
    "segments",
    "newsletters",
    "people",
    "messages",
    "activities",
    "broadcasts",
    "transactional_messages",
    "sender_identities",
    "objects",
    "suppressions",
)


def scale(factor: int) -> Dict[str, int]:
    defaults = Knobs()
    return {name: getattr(defaults, name) * factor for name in SCALED_KNOBS}


CORE_STREAMS = (
    "campaigns",
    "campaign_actions",
    "segments",
    "segment_members",
    "newsletters",
    "messages",
    "activities_all",
    "customers",
)
PARSED_ACTIVITIES_CONFIG = {
    **SYNC_CONFIG,
    "activities": {**SYNC_CONFIG["activities"], "mode": "PARSED_DATA"},
}
CORE_SYNC_TITLE = "Whole sync: the 8 core streams, scale {}, 10 req/s, 150 ms latency"
EVERY_STREAM_TITLE = "Whole sync: every stream, activities in PARSED_DATA (6 types), scale {}, 10 req/s, 150 ms latency"


def whole_syncs(core_scales: Sequence[int], every_stream_scale: int) -> Tuple[Scenario, ...]:
    core = [
        Scenario(CORE_SYNC_TITLE.format(n), scale(n), CORE_STREAMS, latency_ms=150, config=SYNC_CONFIG)
        for n in core_scales
    ]
    every = Scenario(
        EVERY_STREAM_TITLE.format(every_stream_scale),
        scale(every_stream_scale),
        ALL_STREAMS,
        latency_ms=150,
        config=PARSED_ACTIVITIES_CONFIG,
    )
    return (*core, every)


# Issue 20: a 300-page activity log beside the core streams (or every stream); the sync's floor is the
# later of the budget floor and the chain floor, and a whole sync must reach this share of it.
LONG_CHAIN_ACTIVITIES = 30_000
LONG_CHAIN_MIN_FLOOR_SHARE = 0.9
LONG_CHAIN_TITLE = "Long chain: {}, {:,} activities, scale {}, 10 req/s, {} ms latency"


def long_chains(core_scale: int, every_stream_scale: int) -> Tuple[Scenario, ...]:
    """Default activity options, as a new user reads: the whole log is one chain of pages."""
    config = {"start_date": SYNC_CONFIG["start_date"]}
    return tuple(
        Scenario(
            LONG_CHAIN_TITLE.format(name, LONG_CHAIN_ACTIVITIES, factor, latency),
            {**scale(factor), "activities": LONG_CHAIN_ACTIVITIES},
            streams,
            latency_ms=latency,
            config=config,
        )
        for latency in (150, 400)
        for name, factor, streams in (
            ("the 8 core streams", core_scale, CORE_STREAMS),
            ("every stream", every_stream_scale, ALL_STREAMS),
        )
    )


# Issue 11's targets: the share of the rate floor a whole sync reaches.
CORE_SYNC_MIN_EFFICIENCY = 0.92
EVERY_STREAM_SYNC_MIN_EFFICIENCY = 0.9

# Sizes make every stream request-bound where it can be: campaign_actions reads each campaign's
# actions (1–23, 10 per page), segment_members one page per small segment, messages 1000 per page
# in 30-day windows, activities one chain per type; newsletters is a single chain of 100-per-page
# cursors, so latency, not the budget, bounds it.
MODES: Dict[str, Dict[str, Any]] = {
    "quick": {
        "customers_search": Scenario(
            "Customers search: 100,000 people, 60% email-only, no rate limit (projected to 10 req/s)",
            {"people": 100_000, "email_only_share": 0.6},
            ("customers",),
            rate_limit=None,
            config={"customers": {"method": "search"}},
        ),
        "rate_floor": Scenario(
            "Rate floor: 10 req/s, 150 ms latency",
            {
                "campaigns": 150,
                "segments": 40,
                "people": 2000,
                "newsletters": 1000,
                "messages": 40_000,
                "activities": 10_000,
            },
            ("campaign_actions", "segment_members", "messages", "activities_all", "newsletters"),
            latency_ms=150,
            config=SYNC_CONFIG,
        ),
        "speed_up": Scenario(
            "Speed-up over concurrency 1: 10 req/s, 300 ms latency",
            {"campaigns": 40},
            ("campaign_actions",),
            latency_ms=300,
        ),
        "cpu": Scenario(
            "CPU: no rate limit, no latency", {"messages": 50_000}, ("messages",), rate_limit=None, config=SYNC_CONFIG
        ),
        "whole_sync": whole_syncs((4,), 1),
        "long_chain": long_chains(4, 1),
        "memory": (
            Scenario("Memory: 10k messages", {"messages": 10_000}, ("messages",), rate_limit=None, config=SYNC_CONFIG),
            Scenario(
                "Memory: 100k messages", {"messages": 100_000}, ("messages",), rate_limit=None, config=SYNC_CONFIG
            ),
        ),
    },
    "full": {
        "customers_search": Scenario(
            "Customers search: 1,000,000 people, 60% email-only, no rate limit (projected to 10 req/s)",
            {"people": 1_000_000, "email_only_share": 0.6},
            ("customers",),
            rate_limit=None,
            config={"customers": {"method": "search"}},
        ),
        "rate_floor": Scenario(
            "Rate floor: 10 req/s, 150 ms latency",
            {
                "campaigns": 400,
                "segments": 200,
                "people": 5000,
                "newsletters": 3000,
                "messages": 300_000,
                "activities": 30_000,
            },
            ("campaign_actions", "segment_members", "messages", "activities_all", "newsletters"),
            latency_ms=150,
            config=SYNC_CONFIG,
        ),
        "speed_up": Scenario(
            "Speed-up over concurrency 1: 10 req/s, 300 ms latency",
            {"campaigns": 120},
            ("campaign_actions",),
            latency_ms=300,
        ),
        "cpu": Scenario(
            "CPU: no rate limit, no latency",
            {"messages": 200_000, "segments": 8, "people": 100_000},
            ("messages", "segment_members"),
            rate_limit=None,
            config=SYNC_CONFIG,
        ),
        "whole_sync": whole_syncs((4, 20), 2),
        "long_chain": long_chains(8, 2),
        "memory": (
            Scenario("Memory: 10k messages", {"messages": 10_000}, ("messages",), rate_limit=None, config=SYNC_CONFIG),
            Scenario(
                "Memory: 1M messages", {"messages": 1_000_000}, ("messages",), rate_limit=None, config=SYNC_CONFIG
            ),
        ),
    },
}


@dataclass
class Measurement:
    label: str
    stream: str
    requests: int
    throttled: int
    records: int
    wall_seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    max_in_flight: int
    api_seconds: float  # from the first API answer to the last
    longest_chain: int = 0  # the most pages one listing was read in
    chain_seconds: float = 0.0  # what those pages took at the sandbox, one after another
    latency_ms: float = 0
    baseline: bool = False  # measured with the --baseline revision's package: shown, not checked
    state: Optional[Dict[str, Any]] = None  # the run's last state message

    @property
    def efficiency(self) -> float:
        return self.requests / API_RATE_LIMIT / self.wall_seconds

    @property
    def budget_use(self) -> float:
        """The requests against what the connector's budget allows between its first and last answer."""
        allowed = API_RATE_LIMIT / (1 + RATE_WINDOW_MARGIN) * self.api_seconds + 1
        return min(self.requests / allowed, 1.0) if self.api_seconds else 0.0

    @property
    def budget_floor(self) -> float:
        """Seconds the answered requests take at 10 req/s."""
        return (self.requests - self.throttled) / API_RATE_LIMIT

    @property
    def chain_floor(self) -> float:
        """Seconds the longest listing's pages took at the sandbox (latency and its own work), one after
        another: no client reads that listing faster."""
        return self.chain_seconds

    @property
    def bound_by(self) -> str:
        return "chain" if self.chain_floor > self.budget_floor else "budget"

    @property
    def floor_share(self) -> float:
        """The later floor against the wall time: 1.0 is a sync that takes no longer than its floor."""
        return max(self.budget_floor, self.chain_floor) / self.wall_seconds

    @property
    def throttled_share(self) -> float:
        return self.throttled / self.requests if self.requests else 0.0

    @property
    def records_per_cpu_second(self) -> float:
        return self.records / self.cpu_seconds if self.cpu_seconds else 0.0


class SandboxProcess:
    """`python -m sandbox` in its own process, so its CPU is not the connector's."""

    def __init__(self, scenario: Scenario):
        self.scenario = scenario
        self.url = ""
        self._process: Optional[subprocess.Popen] = None

    def __enter__(self) -> "SandboxProcess":
        args = [sys.executable, "-m", "sandbox", "--port", "0", "--latency-ms", str(self.scenario.latency_ms)]
        if self.scenario.rate_limit:
            args += ["--rate-limit", str(self.scenario.rate_limit)]
        for name, value in self.scenario.knobs.items():
            args += [f"--{name.replace('_', '-')}", str(value)]
        self._process = subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, text=True)
        banner = self._process.stdout.readline()  # "sandbox US at http://127.0.0.1:PORT (other region ...)"
        if " at " not in banner:
            self._process.kill()
            raise RuntimeError(f"the sandbox did not start: {banner!r}")
        self.url = banner.split(" at ", 1)[1].split()[0]
        return self

    def __exit__(self, *exc: Any) -> None:
        self._process.terminate()
        self._process.wait(timeout=30)

    def control(self, name: str, settings: Optional[Mapping[str, Any]] = None, **query: Any) -> Dict[str, Any]:
        response = requests.post(f"{self.url}/_sandbox/{name}", json=settings, params=query, timeout=120)
        response.raise_for_status()
        return response.json()


def connector_config(sandbox: SandboxProcess, **overrides: Any) -> Dict[str, Any]:
    return {"app_api_key": "sandbox-app-key-0000", "api_url": sandbox.url, **overrides}


def configured_catalog(catalog: Mapping[str, Any], stream_names: Sequence[str]) -> Dict[str, Any]:
    """A catalog of the named streams (ALL_STREAMS: every one discovered), each incremental when it can
    be (what a scheduled first sync does)."""
    chosen = [s for s in catalog["streams"] if stream_names == ALL_STREAMS or s["name"] in stream_names]
    return {
        "streams": [
            {
                "stream": stream,
                "sync_mode": "incremental" if "incremental" in stream["supported_sync_modes"] else "full_refresh",
                "destination_sync_mode": "append",
                "cursor_field": stream.get("default_cursor_field", []),
                "primary_key": stream.get("source_defined_primary_key", []),
            }
            for stream in chosen
        ]
    }


# Runs a script under cProfile with a CPU clock: `python -m cProfile` would time waits as well.
PROFILED_RUN = """
import cProfile, runpy, sys, time
profile_path, script = sys.argv[1], sys.argv[2]
sys.argv = sys.argv[2:]
profiler = cProfile.Profile(time.process_time)
try:
    profiler.runcall(runpy.run_path, script, run_name="__main__")
finally:
    profiler.dump_stats(profile_path)
"""


def run_connector(
    args: List[str],
    workdir: Path,
    files: Mapping[str, Any],
    profile_to: Optional[Path] = None,
    package_root: Optional[Path] = None,
) -> "ConnectorRun":
    """Run the console script; `package_root` puts another copy of source_customerio first on the path."""
    for name, content in files.items():
        (workdir / name).write_text(json.dumps(content))
    command = [str(CONNECTOR), *args]
    if profile_to:
        command = [sys.executable, "-c", PROFILED_RUN, str(profile_to), *command]
    env = {**os.environ, "PYTHONPATH": str(package_root)} if package_root else None
    with open(workdir / "stderr.log", "wb") as stderr:
        started = time.monotonic()
        process = subprocess.Popen(
            command, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=stderr, bufsize=1 << 20
        )
        run = ConnectorRun()
        for line in process.stdout:
            run.take(line)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        run.wall_seconds = time.monotonic() - started
    run.cpu_seconds = usage.ru_utime + usage.ru_stime
    run.peak_rss_mb = usage.ru_maxrss / 1024  # kilobytes on Linux
    if process.returncode != 0 or run.errors:
        tail = (workdir / "stderr.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{' '.join(args)} failed (exit {process.returncode}): {run.errors[:3]} {tail}")
    return run


@dataclass
class ConnectorRun:
    records: int = 0
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_rss_mb: float = 0.0
    catalog: Optional[Dict[str, Any]] = None
    state: Optional[Dict[str, Any]] = None  # the last state message, to start a later sync from
    errors: List[str] = field(default_factory=list)

    def take(self, line: bytes) -> None:
        if line.startswith(RECORD_PREFIX):
            self.records += 1
            return
        if not line.startswith(b"{"):
            return
        message = json.loads(line)
        if message["type"] == "CATALOG":
            self.catalog = message["catalog"]
        elif message["type"] == "STATE":
            self.state = message["state"]
        elif message["type"] == "TRACE" and message["trace"]["type"] == "ERROR":
            self.errors.append(message["trace"]["error"]["message"])


def export_package(revision: str, into: Path) -> None:
    """source_customerio as committed at `revision`, to measure before and after a change in one run."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision, "source_customerio"], cwd=REPO, capture_output=True, check=True
    ).stdout
    into.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into)


class Bench:
    def __init__(self, workdir: Path, baseline: Optional[str] = None):
        self.workdir = workdir
        self.baseline = baseline
        self._catalogs: Dict[str, Dict[str, Any]] = {}
        self._baseline_root = workdir / "baseline"
        if baseline:
            export_package(baseline, self._baseline_root)

    def catalog(self, sandbox: SandboxProcess, config: Mapping[str, Any]) -> Dict[str, Any]:
        """The discovered catalog (per config: activities in PARSED_DATA add streams)."""
        key = json.dumps(config, sort_keys=True)
        if key not in self._catalogs:
            self._catalogs[key] = run_connector(
                ["discover", "--config", "config.json"], self.workdir, {"config.json": config}
            ).catalog
        return self._catalogs[key]

    def sync(
        self,
        sandbox: SandboxProcess,
        stream: str,
        label: str,
        profile_to: Optional[Path] = None,
        baseline: bool = False,
        streams: Optional[Sequence[str]] = None,
        state: Optional[Mapping[str, Any]] = None,
        **config: Any,
    ) -> Measurement:
        """One read of `streams` (by default `stream` alone; `stream` names the row); `baseline` runs the
        package of the --baseline revision instead; `state`: a state message to start from."""
        config = connector_config(sandbox, **{**sandbox.scenario.config, **config})
        files: Dict[str, Any] = {
            "config.json": config,
            "catalog.json": configured_catalog(self.catalog(sandbox, config), streams or (stream,)),
        }
        if state is not None:
            files["state.json"] = [state]
        if baseline:
            label = f"{label}, {self.baseline}"
        sandbox.control("reset_stats")
        package_root = self._baseline_root if baseline else None
        run = run_connector(
            ["read", "--config", "config.json", "--catalog", "catalog.json"]
            + (["--state", "state.json"] if state is not None else []),
            self.workdir,
            files,
            profile_to,
            package_root,
        )
        stats = sandbox.control("stats")
        api_routes = {route: count for route, count in stats["by_route"].items() if not route.startswith("/_sandbox/")}
        measurement = Measurement(
            label=label,
            stream=stream,
            requests=sum(api_routes.values()),
            throttled=stats["by_status"].get("429", 0),
            records=run.records,
            wall_seconds=run.wall_seconds,
            cpu_seconds=run.cpu_seconds,
            peak_rss_mb=run.peak_rss_mb,
            max_in_flight=stats["max_in_flight"],
            api_seconds=(stats["api_span"][1] - stats["api_span"][0]) if stats["api_span"] else 0.0,
            longest_chain=stats["longest_chain"]["pages"],
            chain_seconds=stats["longest_chain"]["seconds"],
            latency_ms=sandbox.scenario.latency_ms,
            baseline=baseline,
            state=run.state,
        )
        print(
            f"  {label:<24} {stream:<18} {measurement.requests:>6} req {measurement.records:>9} rec "
            f"{measurement.wall_seconds:7.1f} s",
            flush=True,
        )
        return measurement

    def start_up(self, baseline: bool = False) -> "ConnectorRun":
        """`spec`, the run that does nothing but start: the median of CPU_REPEATS runs by wall time."""
        package_root = self._baseline_root if baseline else None
        runs = [run_connector(["spec"], self.workdir, {}, package_root=package_root) for _ in range(CPU_REPEATS)]
        return median(runs, key=lambda run: run.wall_seconds)

    def start_up_line(self) -> str:
        run = self.start_up()
        line = f"{run.wall_seconds:.1f} s wall, {run.cpu_seconds:.1f} s CPU"
        if self.baseline:
            before = self.start_up(baseline=True)
            line += f" ({self.baseline}: {before.wall_seconds:.1f} s wall, {before.cpu_seconds:.1f} s CPU)"
        return line


# -- the report -------------------------------------------------------------------------------
TABLE_HEADER = (
    "| run | stream | requests | records | wall s | efficiency | budget use | 429s | records / CPU-s | peak RSS MB "
    "| max in flight |\n"
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def table(measurements: Sequence[Measurement]) -> str:
    rows = [
        f"| {m.label} | {m.stream} | {m.requests} | {m.records} | {m.wall_seconds:.1f} | {m.efficiency:.2f} | "
        f"{m.budget_use:.2f} | "
        f"{m.throttled} ({m.throttled_share:.1%}) | {m.records_per_cpu_second:,.0f} | {m.peak_rss_mb:.0f} | "
        f"{m.max_in_flight} |"
        for m in measurements
    ]
    return "\n".join([TABLE_HEADER, *rows])


def knobs_line(scenario: Scenario) -> str:
    limit = f"{scenario.rate_limit:g} req/s" if scenario.rate_limit else "no rate limit"
    sizes = ", ".join(f"{name}={value:,}" for name, value in scenario.knobs.items())
    return f"Sandbox: {limit}, {scenario.latency_ms:g} ms latency; workspace {sizes}."


def profile_summary(path: Path, limit: int = 25) -> str:
    """The functions that take the most CPU themselves, with what calls them most."""
    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(limit)
    return out.getvalue().split("\n", 4)[-1].strip()  # drop pstats' file banner


def machine_facts(start_up: str) -> str:
    cpu_model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"- CPU: {cpu_model}, {os.cpu_count()} cores; load average at start {load} (the machine is shared, so "
        "absolute times are noisy; compare rows of one run)\n"
        f"- Python {platform.python_version()}, airbyte-cdk {version('airbyte-cdk')}, "
        f"{platform.system()} {platform.release()}\n"
        f"- Connector start-up (`source-customerio spec`, median of {CPU_REPEATS}): {start_up}, included in every "
        "wall and CPU time below"
    )


NOTES_TEMPLATE = """## Reading the numbers

- Wall seconds include the connector's start-up (mostly importing the CDK), so a short sync shows
  a lower efficiency than a long one at the same request rate, and CPU seconds include its
  imports (the start-up line above). `--quick` syncs are short: its verdicts are a smoke check,
  the targets are judged in full mode.
- The connector's budget allows 10 requests per {window:.2f} s (`RATE_WINDOW_MARGIN` in
  source_customerio/errors.py): the efficiency ceiling is {ceiling:.2f}, the price of not drawing 429s.
- Budget use = requests / what that budget allows between the sandbox's first and last answer of
  the run (10 per {window:.2f} s, plus the first request): how full the connector kept its budget
  once it was sending, start-up and the last response excluded. 1.00 is a budget never idle.
- One cursor chain is bounded by latency, not by the budget: each page's request needs the last
  page's `next`. newsletters is one chain; activities is one chain per type and ends on its longest
  type. Read alone (the per-stream rows), such a stream cannot reach the floor; in a whole sync the
  engine starts these chains first and the other streams fill the budget around them.
- "No rate limit" means the sandbox never answers 429; the connector still keeps to its own
  10 req/s (the spec's maximum), which bounds wall time but not CPU seconds.
- max in flight is the sandbox's count; its `reset_stats` zeroes the counter while that request is
  itself in flight, so the figure is one low."""
NOTES = NOTES_TEMPLATE.format(window=1 + RATE_WINDOW_MARGIN, ceiling=1 / (1 + RATE_WINDOW_MARGIN))


def verdict(holds: bool) -> str:
    return "holds" if holds else "**misses**"


Report = Tuple[str, List[str]]  # a markdown section, and one line per target checked


def rate_floor(bench: Bench, scenario: Scenario) -> Report:
    runs = []
    with SandboxProcess(scenario) as sandbox:
        for stream in scenario.streams:
            runs.append(bench.sync(sandbox, stream, "concurrent (default)"))
            if bench.baseline:
                runs.append(bench.sync(sandbox, stream, "concurrent (default)", baseline=True))
    targets = [
        f"- {m.stream}: efficiency {m.efficiency:.2f} with {m.throttled_share:.1%} 429s (target ≥ {MIN_EFFICIENCY} "
        f"with ≤ {MAX_THROTTLED_SHARE:.0%}): "
        f"{verdict(m.efficiency >= MIN_EFFICIENCY and m.throttled_share <= MAX_THROTTLED_SHARE)}"
        for m in runs
        if not m.baseline
    ]
    return section(scenario, runs), targets


def whole_sync_runs(bench: Bench, scenario: Scenario) -> List[Measurement]:
    """A read of every stream of `scenario`, and with --baseline the same read by the baseline revision."""
    name = "every stream" if scenario.streams == ALL_STREAMS else f"{len(scenario.streams)} core streams"
    with SandboxProcess(scenario) as sandbox:
        return [
            bench.sync(sandbox, name, "whole sync", baseline=baseline, streams=scenario.streams)
            for baseline in ((False, True) if bench.baseline else (False,))
        ]


def whole_sync(bench: Bench, scenarios: Sequence[Scenario]) -> Report:
    """Every stream of a scenario in one read, as a scheduled sync runs them; with --baseline, the same
    read by the baseline revision."""
    texts, targets = [], []
    for scenario in scenarios:
        print(scenario.title, flush=True)
        every_stream = scenario.streams == ALL_STREAMS
        minimum = EVERY_STREAM_SYNC_MIN_EFFICIENCY if every_stream else CORE_SYNC_MIN_EFFICIENCY
        runs = whole_sync_runs(bench, scenario)
        texts.append(section(scenario, runs))
        targets += [
            f"- {m.stream} in one sync: efficiency {m.efficiency:.2f} with {m.throttled_share:.1%} 429s (target ≥ "
            f"{minimum} with ≤ {MAX_THROTTLED_SHARE:.0%}): "
            f"{verdict(m.efficiency >= minimum and m.throttled_share <= MAX_THROTTLED_SHARE)}"
            for m in runs
            if not m.baseline
        ]
    return "\n\n".join(texts), targets


LONG_CHAIN_HEADER = (
    "| run | requests | longest chain (pages) | budget floor s | chain floor s | bound by | wall s | floor / wall "
    "| 429s |\n|---|---:|---:|---:|---:|---|---:|---:|---:|"
)


def long_chain(bench: Bench, scenarios: Sequence[Scenario]) -> Report:
    """Whole syncs beside a long activity log: wall time against the later floor; with --baseline, the
    same read by the baseline revision."""
    texts, targets = [], []
    for scenario in scenarios:
        print(scenario.title, flush=True)
        runs = whole_sync_runs(bench, scenario)
        rows = [
            f"| {m.label} | {m.requests} | {m.longest_chain} | {m.budget_floor:.1f} | {m.chain_floor:.1f} | "
            f"{m.bound_by} | {m.wall_seconds:.1f} | {m.floor_share:.2f} | {m.throttled_share:.1%} |"
            for m in runs
        ]
        texts.append(f"## {scenario.title}\n\n{knobs_line(scenario)}\n\n{LONG_CHAIN_HEADER}\n" + "\n".join(rows))
        targets += [
            f"- {m.stream} beside {LONG_CHAIN_ACTIVITIES:,} activities at {scenario.latency_ms:g} ms: "
            f"{m.floor_share:.2f} of the later floor ({m.bound_by}) with "
            f"{m.throttled_share:.1%} 429s (target ≥ {LONG_CHAIN_MIN_FLOOR_SHARE} with ≤ {MAX_THROTTLED_SHARE:.0%}): "
            f"{verdict(m.floor_share >= LONG_CHAIN_MIN_FLOOR_SHARE and m.throttled_share <= MAX_THROTTLED_SHARE)}"
            for m in runs
            if not m.baseline
        ]
    return "\n\n".join(texts), targets


def speed_up(bench: Bench, scenario: Scenario) -> Report:
    runs, targets = [], []
    with SandboxProcess(scenario) as sandbox:
        for stream in scenario.streams:
            concurrent = bench.sync(sandbox, stream, "concurrent (default)")
            sequential = bench.sync(sandbox, stream, "concurrency 1", max_concurrent_requests=1)
            runs += [concurrent, sequential]
            ratio = sequential.wall_seconds / concurrent.wall_seconds
            targets.append(
                f"- {stream}: speed-up over concurrency 1 at {scenario.latency_ms:g} ms: {ratio:.2f}× (target ≥ "
                f"{MIN_SPEED_UP}×): {verdict(ratio >= MIN_SPEED_UP)}"
            )
    return section(scenario, runs), targets


def rate_range(runs: Sequence[Measurement]) -> str:
    rates = [run.records_per_cpu_second for run in runs]
    return f"{min(rates):,.0f}–{max(rates):,.0f}"


def cpu(bench: Bench, scenario: Scenario) -> Report:
    """Records per CPU-second (the median of CPU_REPEATS runs, taken in turns with the baseline's so that both
    see the same load), and a profile of a read at concurrency 1 (cProfile sees only the main thread)."""
    repeats: Dict[Tuple[str, str, bool], List[Measurement]] = {}
    profiled_stream = scenario.streams[0]
    with SandboxProcess(scenario) as sandbox, tempfile.TemporaryDirectory() as tmp:
        modes = (("concurrent (default)", {}), ("concurrency 1", {"max_concurrent_requests": 1}))
        versions = (False, True) if bench.baseline else (False,)
        for repeat, stream, (label, config) in itertools.product(range(CPU_REPEATS), scenario.streams, modes):
            for baseline in versions if repeat % 2 == 0 else versions[::-1]:  # neither always goes first
                run = bench.sync(sandbox, stream, label, baseline=baseline, **config)
                repeats.setdefault((stream, label, baseline), []).append(run)
        runs = [median(measured, key=lambda run: run.records_per_cpu_second) for measured in repeats.values()]
        profile_path = Path(tmp) / "read.prof"
        bench.sync(
            sandbox, profiled_stream, "cProfile, concurrency 1", profile_to=profile_path, max_concurrent_requests=1
        )
        profile = profile_summary(profile_path)
    targets = [
        f"- {m.stream} ({m.label}): {m.records_per_cpu_second:,.0f} records per CPU-second (target ≥ "
        f"{MIN_RECORDS_PER_CPU_SECOND:,}): {verdict(m.records_per_cpu_second >= MIN_RECORDS_PER_CPU_SECOND)}"
        for m in runs
        if not m.baseline
    ]
    for before in (m for m in runs if m.baseline):  # issue 11: no lower than the baseline's, in the same run
        after = next(
            m for m in runs if not m.baseline and m.stream == before.stream and before.label.startswith(m.label + ",")
        )
        targets.append(
            f"- {after.stream} ({after.label}): {after.records_per_cpu_second:,.0f} records per CPU-second against "
            f"{before.records_per_cpu_second:,.0f} at {bench.baseline} (target: no lower): "
            f"{verdict(after.records_per_cpu_second >= before.records_per_cpu_second)} (medians; the {CPU_REPEATS} "
            f"runs of each ranged {rate_range(repeats[after.stream, after.label, False])} and "
            f"{rate_range(repeats[before.stream, after.label, True])})"
        )
    heading = (
        f"### Where the main thread's CPU goes: cProfile of a {profiled_stream} read at concurrency 1, top "
        "functions by own time"
    )
    text = f"{section(scenario, runs)}\n\n{heading}\n\n```\n{profile}\n```"
    return text, targets


def memory(bench: Bench, scenarios: Sequence[Scenario]) -> Report:
    runs = []
    for scenario in scenarios:
        print(scenario.title, flush=True)
        with SandboxProcess(scenario) as sandbox:
            runs += [bench.sync(sandbox, stream, scenario.title.split(": ", 1)[1]) for stream in scenario.streams]
    knobs = "\n".join(f"- {knobs_line(scenario)}" for scenario in scenarios)
    targets = [
        f"- {m.stream} ({m.records:,} records): peak RSS {m.peak_rss_mb:.0f} MB (target < {MAX_PEAK_RSS_MB} MB): "
        f"{verdict(m.peak_rss_mb < MAX_PEAK_RSS_MB)}"
        for m in runs
    ]
    return f"## Memory: peak RSS of the connector\n\n{knobs}\n\n{table(runs)}", targets


def customers_search(bench: Bench, scenario: Scenario) -> Report:
    """Requests per 1000 people, measured without a rate limit and projected to the API's 10 req/s."""
    runs = []
    with SandboxProcess(scenario) as sandbox:
        for baseline in (False, True) if bench.baseline else (False,):
            runs.append(bench.sync(sandbox, "customers", "search", baseline=baseline))
    targets, lines = [], []
    for run in runs:
        per_thousand = run.requests / run.records * 1000
        minutes_per_million = per_thousand * 1000 / API_RATE_LIMIT / 60
        lines.append(
            f"- {'baseline' if run.baseline else 'this revision'}: {run.requests:,} requests for {run.records:,} "
            f"people, {per_thousand:.1f} per 1000 people; at 10 req/s {run.requests / API_RATE_LIMIT / 60:.1f} min "
            f"for this workspace, {minutes_per_million:.0f} min per million people"
        )
        if not run.baseline:
            targets.append(
                f"- customers search: {per_thousand:.1f} requests per 1000 people, 60% email-only (target ≤ "
                f"{MAX_SEARCH_REQUESTS_PER_THOUSAND}): {verdict(per_thousand <= MAX_SEARCH_REQUESTS_PER_THOUSAND)}"
            )
    return f"{section(scenario, runs)}\n\n" + "\n".join(lines), targets


Run = TypeVar("Run")


def median(runs: Sequence[Run], key: Callable[[Run], float]) -> Run:
    """The run in the middle by `key` (the machine's load moves single runs by ±20%)."""
    return sorted(runs, key=key)[len(runs) // 2]


def section(scenario: Scenario, runs: Sequence[Measurement]) -> str:
    return f"## {scenario.title}\n\n{knobs_line(scenario)}\n\n{table(runs)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller workspaces, about 5 minutes")
    parser.add_argument(
        "--only",
        choices=("customers_search", "whole_sync", "long_chain", "rate_floor", "speed_up", "cpu", "memory"),
        action="append",
        help="run only these scenarios (repeatable)",
    )
    parser.add_argument(
        "--baseline",
        metavar="REVISION",
        help="also run the whole, rate-floor and CPU syncs with source_customerio as committed at REVISION "
        "(before/after in one run)",
    )
    parser.add_argument(
        "--search-people",
        type=int,
        metavar="N",
        help="people in the customers_search workspace (default 100,000 quick, 1,000,000 full); a small N "
        "keeps a --baseline run of a revision that reads people one by one short",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="the markdown report (default bench/RESULTS.md)")
    options = parser.parse_args()
    mode = "quick" if options.quick else "full"
    plan = dict(MODES[mode])
    if options.search_people:
        searched = plan["customers_search"]
        plan["customers_search"] = replace(
            searched,
            title=f"Customers search: {options.search_people:,} people, 60% email-only, no rate limit "
            "(projected to 10 req/s)",
            knobs={**searched.knobs, "people": options.search_people},
        )
    chosen = options.only or ["customers_search", "whole_sync", "long_chain", "rate_floor", "speed_up", "cpu", "memory"]
    started = datetime.datetime.now(datetime.timezone.utc)
    sections: List[str] = []
    targets: List[str] = []

    with tempfile.TemporaryDirectory(prefix="customerio-bench-") as tmp:
        bench = Bench(Path(tmp), options.baseline)
        facts = machine_facts(bench.start_up_line())
        for name, run_scenario in (
            ("customers_search", customers_search),
            ("whole_sync", whole_sync),
            ("long_chain", long_chain),
            ("rate_floor", rate_floor),
            ("speed_up", speed_up),
            ("cpu", cpu),
            ("memory", memory),
        ):
            if name not in chosen:
                continue
            if isinstance(plan[name], Scenario):
                print(plan[name].title, flush=True)
            text, checked = run_scenario(bench, plan[name])
            sections.append(text)
            targets += checked

    elapsed = datetime.datetime.now(datetime.timezone.utc) - started
    command = (
        "scripts/bench.py"
        + (" --quick" if options.quick else "")
        + "".join(f" --only {name}" for name in options.only or ())
    )
    command += f" --search-people {options.search_people}" if options.search_people else ""
    command += f" --baseline {options.baseline}" if options.baseline else ""
    report = "\n\n".join(
        [
            "# Throughput benchmark",
            f"`{command}` ({mode} mode), {started:%Y-%m-%d %H:%M} UTC, took {elapsed.total_seconds() / 60:.1f} min. "
            "Efficiency = requests / 10 req/s / wall seconds of the connector process; records / CPU-s = records / "
            "(user + system CPU seconds of the connector process); peak RSS = the kernel's maxrss of that process.",
            facts,
            "## Targets (issues 6, 11 and 20)\n\n" + "\n".join(targets),
            NOTES,
            *sections,
        ]
    )
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(report + "\n")
    print(f"\n{report}\n\nWritten to {options.output}")


if __name__ == "__main__":
    main()
