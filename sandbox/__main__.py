"""Run the sandbox on its own: python -m sandbox --port 8900 [--rate-limit 10 --latency-ms 150 --chaos 0.05 ...].

It answers as live accounts answer; `--reference` brings back the reference's answers (every
switch, or the switches named)."""

import argparse
import signal
import threading

from sandbox.server import APP_KEY, Sandbox, Settings
from sandbox.workspace import LIVE_SWITCHES, Knobs, Live


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--other-port", type=int, default=0)
    parser.add_argument("--region", choices=("US", "EU"), default="US")
    parser.add_argument("--rate-limit", type=float, default=None, help="requests per second (429 beyond)")
    parser.add_argument("--retry-after", type=int, default=None, help="seconds in a 429's Retry-After header")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument(
        "--chaos",
        type=float,
        default=0.0,
        help="share of /v1 requests that get a fault (500/502/503, reset, truncated body, stall, 429 burst)",
    )
    parser.add_argument("--chaos-seed", type=int, default=0, help="the same seed gives the same faults")
    parser.add_argument("--chaos-path", default="/v1/", help="only requests under this path prefix get chaos")
    parser.add_argument("--chaos-stall-seconds", type=float, default=Settings.chaos_stall_seconds)
    parser.add_argument("--app-key", default=APP_KEY)
    parser.add_argument(
        "--reference",
        nargs="*",
        choices=LIVE_SWITCHES,
        default=None,
        help="answer as the reference says instead of as live accounts do: every switch, or those named",
    )
    parser.add_argument("--empty-pages", action="store_true", help="an empty page with a `next` before every page")
    parser.add_argument("--edit-during-read", action="store_true", help="edit records while they are read")
    for name, default in vars(Knobs()).items():
        parser.add_argument(
            f"--{name.replace('_', '-')}",
            type=type(default),
            default=default,
            help=f"workspace size knob (default {default})",
        )
    args = parser.parse_args()
    knobs = Knobs(**{name: getattr(args, name) for name in vars(Knobs())})
    settings = Settings(
        rate_limit=args.rate_limit,
        retry_after=args.retry_after,
        latency_ms=args.latency_ms,
        region=args.region,
        chaos=args.chaos,
        chaos_seed=args.chaos_seed,
        chaos_path=args.chaos_path,
        chaos_stall_seconds=args.chaos_stall_seconds,
        empty_pages=args.empty_pages,
        edit_during_read=args.edit_during_read,
    )
    reference = LIVE_SWITCHES if args.reference == [] else args.reference or ()
    live = Live(**{switch: switch not in reference for switch in LIVE_SWITCHES})
    sandbox = Sandbox(knobs, settings, app_key=args.app_key, live=live).start(args.port, args.other_port)
    print(
        f"sandbox {args.region} at {sandbox.url} (other region {sandbox.other_region_url}); key {args.app_key}",
        flush=True,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    sandbox.stop()


if __name__ == "__main__":
    main()
