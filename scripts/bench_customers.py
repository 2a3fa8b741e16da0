"""Customers benchmark: the search method's request cost against the export method's speed.

    .venv/bin/python scripts/bench_customers.py [--people 1000000] [--search-people 5000] [--profile]

Each run is the installed connector syncing `customers` against `python -m sandbox` in its own
process (scripts/bench.py's harness), so the sandbox's CPU is not counted.
- search: requests per 1000 people, measured without a sandbox rate limit, for everyone (the sandbox's
  default: an email-only person in every 17, hydrated by cio_id like the others) and for people with
  an id; projected to a million people at the API's 10 req/s. Then a short run at
  10 req/s checks the projection's pace.
- export: a sync of `--people` people: wall time, CPU time and peak RSS of the connector process
  (targets: under 2 minutes, under 300 MB). `--profile` adds where the connector's CPU goes.
  For the one-core figure, pin everything (the sandbox too, so it is an upper bound):
  `taskset -c 0 .venv/bin/python scripts/bench_customers.py`.
"""

import argparse
import sys
import tempfile
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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        bench = Bench(Path(workdir))
        profile_to = Path(workdir) / "export.prof" if args.profile else None
        search = search_cost(bench, args.search_people)
        export = export_run(bench, args.people, profile_to)
        print(report(search, export, args.people))
        if profile_to:
            print("\nWhere the export run's CPU goes (cProfile, tottime):\n")
            print(profile_summary(profile_to))


if __name__ == "__main__":
    sys.exit(main())
