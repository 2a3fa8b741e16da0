"""`make demo`: sync every stream through PyAirbyte into a local DuckDB file and print what arrived.

Without CUSTOMERIO_APP_API_KEY it starts the sandbox (the fake Customer.io App API in sandbox/) on
127.0.0.1 with a workspace of realistic size, syncs it, and stops it. With CUSTOMERIO_APP_API_KEY set
it syncs that real workspace instead: CUSTOMERIO_REGION picks US (default) or EU, and
CUSTOMERIO_API_URL, if set, sends the requests through a proxy. The key is never printed.

PyAirbyte runs offline (no registry look-ups, no telemetry) and starts the connector from this
virtual environment's `source-customerio` script; every stream the connector discovers is synced,
so streams added later are included without a change here.
"""

import argparse
import os
import sys
import time
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, Optional, Tuple

# Before PyAirbyte is imported: it reads these at import time.
os.environ["AIRBYTE_OFFLINE_MODE"] = "1"
os.environ["DO_NOT_TRACK"] = "1"
warnings.filterwarnings("ignore", category=FutureWarning)

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import airbyte as ab  # noqa: E402
import pendulum  # noqa: E402
from airbyte.caches import DuckDBCache  # noqa: E402
from airbyte.exceptions import PyAirbyteError  # noqa: E402

from sandbox.server import Sandbox, Settings  # noqa: E402
from sandbox.workspace import DAY, DEFAULT_NOW, Knobs  # noqa: E402

CONNECTOR = Path(sys.executable).parent / "source-customerio"
DEFAULT_CACHE_DIR = REPO / ".cache"

# A small real workspace: enough pages and parents to show paging, substreams and windows at work,
# few enough parents that the per-parent streams (actions, contents, metrics) finish in about a
# minute at the connector's 10 requests per second.
DEMO_KNOBS = Knobs(
    campaigns=8,
    segments=12,
    newsletters=30,
    people=1500,
    messages=20000,
    activities=3000,
    broadcasts=6,
    transactional_messages=6,
    objects=30,
    suppressions=1100,
)
# Where the sandbox's message history starts: a start_date there reads every message in fewer windows.
DEMO_START_DATE = pendulum.from_timestamp(DEFAULT_NOW - DEMO_KNOBS.message_history_days * DAY).to_iso8601_string()


@contextmanager
def sandbox_target(rate_limit: Optional[float], latency_ms: float) -> Iterator[Tuple[str, Dict[str, Any]]]:
    settings = Settings(rate_limit=rate_limit, latency_ms=latency_ms)
    with Sandbox(DEMO_KNOBS, settings) as server:
        limit = f"{rate_limit:g} req/s" if rate_limit else "no rate limit"
        config = {"app_api_key": server.app_key, "api_url": server.url, "start_date": DEMO_START_DATE}
        yield f"the sandbox at {server.url} ({limit}, {latency_ms:g} ms latency)", config


@contextmanager
def workspace_target(api_key: str) -> Iterator[Tuple[str, Dict[str, Any]]]:
    region = os.environ.get("CUSTOMERIO_REGION", "US").upper()
    config: Dict[str, Any] = {"app_api_key": api_key, "region": region}
    api_url = os.environ.get("CUSTOMERIO_API_URL")
    if api_url:
        config["api_url"] = api_url
    yield f"your Customer.io workspace ({'via ' + api_url if api_url else 'region ' + region})", config


def sync(config: Dict[str, Any], cache_dir: Path, cache_name: str) -> Tuple[Dict[str, int], float, Path]:
    """Check, then read every stream into `<cache_dir>/<cache_name>.duckdb`; return rows per stream and seconds."""
    started = time.monotonic()
    source = ab.get_source("source-customerio", config=config, local_executable=CONNECTOR)
    source.check()
    source.select_all_streams()
    db_path = cache_dir / f"{cache_name}.duckdb"
    cache = DuckDBCache(db_path=db_path, cache_dir=cache_dir / cache_name)
    # Full refresh into fresh tables every time: the demo shows the whole workspace as read now.
    result = source.read(cache=cache, write_strategy="replace", force_full_refresh=True)
    rows = {name: len(dataset) for name, dataset in result.streams.items()}
    for name in source.get_selected_streams():
        rows.setdefault(name, 0)
    return rows, time.monotonic() - started, db_path


def report(rows: Dict[str, int], seconds: float, db_path: Path) -> None:
    width = max(len(name) for name in rows)
    print()
    print(f"{'stream':<{width}}  {'rows':>9}")
    print(f"{'-' * width}  {'-' * 9}")
    for name in sorted(rows):
        print(f"{name:<{width}}  {rows[name]:>9,}")
    total = sum(rows.values())
    print(f"{'-' * width}  {'-' * 9}")
    print(f"{'total':<{width}}  {total:>9,}")
    print()
    where = db_path.relative_to(REPO) if db_path.is_relative_to(REPO) else db_path
    print(f"{len(rows)} streams, {total:,} rows in {seconds:.1f} s ({total / seconds:,.0f} rows/s), into {where}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--rate-limit",
        type=float,
        default=None,
        help="sandbox only: requests per second before 429 (Customer.io's is 10)",
    )
    parser.add_argument("--latency-ms", type=float, default=0.0, help="sandbox only: added latency per request")
    parser.add_argument(
        "--cache-dir", type=Path, default=DEFAULT_CACHE_DIR, help="where the DuckDB file goes (default .cache/)"
    )
    args = parser.parse_args()

    api_key = os.environ.get("CUSTOMERIO_APP_API_KEY", "").strip()
    target = workspace_target(api_key) if api_key else sandbox_target(args.rate_limit, args.latency_ms)
    with target as (description, config):
        print(f"Syncing every stream of {description} through PyAirbyte into DuckDB ...", flush=True)
        try:
            rows, seconds, db_path = sync(
                config, args.cache_dir.resolve(), "demo-workspace" if api_key else "demo-sandbox"
            )
        except PyAirbyteError as error:
            # The connector's own reason (secrets masked by the CDK), not PyAirbyte's full text,
            # which quotes the connector's log.
            reason = (error.context or {}).get("failure_reason")
            print(f"\nThe sync failed: {error.get_message()}" + (f" {reason}" if reason else ""), file=sys.stderr)
            if error.log_file:
                print(f"The connector's log: {error.log_file}", file=sys.stderr)
            return 1
    report(rows, seconds, db_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
