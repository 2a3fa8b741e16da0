"""Customers benchmark: the search method's request cost against the export method's speed.

    .venv/bin/python scripts/bench_customers.py [--people 1000000] [--search-people 5000] [--profile]

Each run is the installed connector syncing `customers` against `python -m sandbox` in its own
process (scripts/bench.py's harness), so the sandbox's CPU is not counted.
- search: requests per 1000 people, measured without a sandbox rate limit, for everyone (the sandbox's
  default: an email-only person in every 17, hydrated by cio_id like the others) and for people with
  an id; projected to a million people at the API's 10 req/s. Then a short run at
  10 req/s checks the projection's pace.
- incremental: after a full export read of `--people` people, `--changed` of them change (1%: creates,
  attribute and device changes, merges, deletes); the next sync's requests and wall time, beside the
  full reads' (search projected from its cost per 1000 people).
- export: a sync of `--people` people: wall time, CPU time and peak RSS of the connector process
  (targets: under 2 minutes, under 300 MB). `--profile` adds where the connector's CPU goes.
  For the one-core figure, pin everything (the sandbox too, so it is an upper bound):
  `taskset -c 0 .venv/bin/python scripts/bench_customers.py`.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

from bench import API_RATE_LIMIT, Bench, Measurement, SandboxProcess, Scenario, profile_summary

MAX_EXPORT_SECONDS = 120
MAX_PEAK_RSS_MB = 300
MILLION = 1_000_000
WITH_ID = '{"attribute":{"field":"id","operator":"exists"}}'


def sync_customers(
    bench: Bench, sandbox: SandboxProcess, label: str, profile_to: Optional[Path] = None, **customers: str
) -> Measurement:
    return bench.sync(sandbox, "customers", label, profile_to, customers=customers)


def search_cost(bench: Bench, people: int) -> List[Dict[str, float]]:
    """Requests per 1000 people synced, without a rate limit; then the pace at 10 req/s."""
    rows = []
    with SandboxProcess(Scenario("search", {"people": people}, ("customers",), None, 0)) as sandbox:
        for label, audience in (("everyone", ""), ("people with an id", WITH_ID)):
            run = sync_customers(bench, sandbox, f"search, {label}", method="search", filter=audience)
            per_thousand = run.requests / run.records * 1000
            rows.append(
                {
                    "label": label,
                    "requests": run.requests,
                    "records": run.records,
                    "per_thousand": per_thousand,
                    "million_minutes": per_thousand * 1000 / API_RATE_LIMIT / 60,
                }
            )
    with SandboxProcess(Scenario("search at 10 req/s", {"people": 2000}, ("customers",), API_RATE_LIMIT, 0)) as sandbox:
        paced = sync_customers(bench, sandbox, "search at 10 req/s", method="search")
    rows.append(
        {
            "label": "everyone, at 10 req/s",
            "requests": paced.requests,
            "records": paced.records,
            "per_thousand": paced.requests / paced.records * 1000,
            "seconds": paced.wall_seconds,
            "requests_per_second": paced.requests / paced.wall_seconds,
            "throttled": paced.throttled,
        }
    )
    return rows


def export_run(bench: Bench, people: int, profile_to: Optional[Path]) -> Measurement:
    with SandboxProcess(Scenario("export", {"people": people}, ("customers",), None, 0)) as sandbox:
        return sync_customers(bench, sandbox, "export", profile_to, method="export")


def incremental_people(bench: Bench, people: int, share: float) -> List[Measurement]:
    """A full export read of `people`, then `share` of them changed (creates, attribute and device
    changes, merges, deletes), then the incremental read of the changes; at the API's 10 req/s."""
    scenario = Scenario("incremental people", {"people": people}, ("customers",), API_RATE_LIMIT, 0)
    with SandboxProcess(scenario) as sandbox:
        # The connector judges its state's age by its own clock: the sandbox's must agree.
        sandbox.control("advance", seconds=int(time.time()) - sandbox.control("advance", seconds=0)["now"])
        full = sync_customers(bench, sandbox, "first sync: full read, export", method="export")
        changed = sandbox.control("change_people", {"share": share})
        print(f"  changed: {changed}", flush=True)
        sandbox.control("advance", seconds=600)
        later = bench.sync(
            sandbox, "customers", f"next sync: {share:.0%} changed", state=full.state, customers={"method": "export"}
        )
    return [full, later]


def incremental_report(runs: List[Measurement], search: List[Dict[str, float]], people: int, share: float) -> str:
    full, later = runs
    per_thousand = search[0]["per_thousand"]
    search_requests = per_thousand * people / 1000
    changed = round(share * people)
    return "\n".join(
        [
            f"| read of {people:,} people, {share:.0%} changed | requests | records | wall s | peak RSS MB |",
            "|---|---:|---:|---:|---:|",
            f"| incremental (activity log, then 100 people a request) | {later.requests} | {later.records:,} | "
            f"{later.wall_seconds:.1f} | {later.peak_rss_mb:.0f} |",
            f"| full, export | {full.requests} | {full.records:,} | {full.wall_seconds:.1f} | {full.peak_rss_mb:.0f} |",
            f"| full, search (projected: {per_thousand:.1f} requests per 1000 people at 10 req/s) | "
            f"{search_requests:,.0f} | {people:,} | {search_requests / API_RATE_LIMIT:,.0f} | |",
            "",
            f"The incremental read made {later.requests} requests for {changed:,} changed people: "
            f"{changed / 100:,.0f} batches of 100 plus the activity log's pages, "
            f"{later.requests / search_requests:.1%} of a full search's requests.",
        ]
    )


def report(search: List[Dict[str, float]], export: Measurement, people: int) -> str:
    lines = [
        "| method | case | requests | people | requests / 1000 people | a million people at 10 req/s |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for row in search:
        projection = (
            f"{row['million_minutes']:.0f} min"
            if "million_minutes" in row
            else f"measured {row['seconds']:.1f} s wall, start-up included "
            f"({row['requests_per_second']:.1f} req/s, {row['throttled']} answered 429)"
        )
        lines.append(
            f"| search | {row['label']} | {row['requests']} | {row['records']} | {row['per_thousand']:.1f} | "
            f"{projection} |"
        )
    lines += [
        "",
        "| method | people | requests | wall s | CPU s | records / CPU-s | peak RSS MB | verdict |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
        f"| export | {export.records:,} | {export.requests} | {export.wall_seconds:.1f} | {export.cpu_seconds:.1f} | "
        f"{export.records_per_cpu_second:,.0f} | "
        f"{export.peak_rss_mb:.0f} | "
        f"{'holds' if export.wall_seconds < MAX_EXPORT_SECONDS and export.peak_rss_mb < MAX_PEAK_RSS_MB else 'misses'} "
        f"(< {MAX_EXPORT_SECONDS} s, < {MAX_PEAK_RSS_MB} MB) |",
    ]
    if export.records != people:
        lines.append(f"\nThe export emitted {export.records:,} records for {people:,} people.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=MILLION, help="people in the export run")
    parser.add_argument(
        "--search-people",
        type=int,
        default=5000,
        help="people in the search cost run (read at the connector's 10 req/s)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="profile the export run (slower) and print the top functions"
    )
    parser.add_argument("--changed", type=float, default=0.01, help="share of the people changed between syncs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        bench = Bench(Path(workdir))
        profile_to = Path(workdir) / "export.prof" if args.profile else None
        search = search_cost(bench, args.search_people)
        export = export_run(bench, args.people, profile_to)
        print(report(search, export, args.people))
        print()
        print(
            incremental_report(incremental_people(bench, args.people, args.changed), search, args.people, args.changed)
        )
        if profile_to:
            print("\nWhere the export run's CPU goes (cProfile, tottime):\n")
            print(profile_summary(profile_to))


if __name__ == "__main__":
    sys.exit(main())
