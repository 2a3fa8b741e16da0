"""Creation-time windows for GET /v1/messages, sized by what they hold so that no window is a long chain.

The API answers at most 6 months per request (it silently clips a longer `start_ts`..`end_ts` range)
and pages 1000 deliveries at a time, newest first. A window is read as one chain of pages, each
waiting for the last (0.3-0.6 s each live), and a sync ends no sooner than its longest chain. So a
read is cut by density, not by a fixed length (`sized_windows`):

- the read range is cut into spans of at most 6 months, and each span is probed: its first page is
  asked for, as the window's own read would ask;
- a probe without a `next` means the span fits in one page: it is a window, or, holding no delivery,
  nothing to read (but the window that ends the read is always read, so the cursor reaches it);
- else the probe's older half tells how dense the span is where its page ends, and a span estimated
  at more than `PAGES_PER_WINDOW` pages is cut into at most `MAX_PARTS` equal parts, each probed in
  turn. A window is thus estimated from its own newest page, whatever its parents looked like.

A probe costs one request: an empty span from 2012 costs one per 6 months (30-day windows cost six),
and a dense span about one per `PAGES_PER_WINDOW` pages it holds (docs/customerio.md, "Messages").
Both bounds are inclusive (as the API's are), so windows meet one second apart and never overlap.
"""

import math
import time
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

DAY = 86400
# Customer.io started in 2012: a read from here cannot miss a workspace's first message.
HISTORY_START = 1325376000  # 2012-01-01T00:00:00Z
API_MAX_WINDOW_SECONDS = 180 * DAY  # "6 months", counted short
PAGE_SIZE = 1000  # deliveries per page: the API's most, what the stream asks for
# A window's chain stays about this short: 10 pages are ~5 s live (0.5 s a page), 1 s of the
# 10-per-second budget. A sync whose budget floor is under that reads under 50 requests and ends in
# seconds anyway; a shorter chain costs more requests (a window's probe and its ragged last page, about
# 1.5 a window: 15% of a dense span's pages at 10, 30% at 5).
PAGES_PER_WINDOW = 10
# Parts a probed span is cut into at most. The estimate extrapolates the newest page's density; where
# the past is sparser (a young workspace, a burst at the end) it overshoots, and each part too many
# costs a probe. Eight bounds that waste per level, and a 6-month span narrows to an hour in 5 levels.
MAX_PARTS = 8

Window = Tuple[int, int]


def current_time() -> int:
    """The connector's clock in unix seconds (tests point it at the sandbox's clock)."""
    return int(time.time())


def windows(start: int, end: int, size: int = API_MAX_WINDOW_SECONDS) -> List[Window]:
    """Consecutive inclusive windows [a, b] of at most `size` seconds covering start..end, oldest first."""
    if not 0 < size <= API_MAX_WINDOW_SECONDS:
        raise ValueError(f"a window must be 1 s to {API_MAX_WINDOW_SECONDS} s long, got {size}")
    spans = []
    while start <= end:
        last = min(start + size - 1, end)
        spans.append((start, last))
        start = last + 1
    return spans


def first_window_start(start_date: Optional[int], cursor: Optional[int], lookback_days: int) -> int:
    """Where a read starts: after `cursor` less the lookback, never before `start_date` or 2012.

    `cursor` is the end of the last completely read window (None: never read, or full refresh).
    """
    floor = HISTORY_START if start_date is None else max(start_date, HISTORY_START)
    if cursor is None:
        return floor
    return max(cursor - lookback_days * DAY, floor)


@dataclass(frozen=True)
class Probe:
    """A window's first page: the `created` of its deliveries, and whether a `next` page follows;
    `page`, the answer itself, for the window's read to start from (see `sized_windows`' `planned`)."""

    created: Sequence[int]
    more: bool
    page: Any = None


def estimated_pages(window: Window, probe: Probe) -> float:
    """How many pages `window` holds: the probe's page, and the part older than that page at the
    density of the page's older half (the deliveries nearest that part), raised by how much denser
    that half is than the newer one. Unbounded when the older half is a single second: that second
    may hold any number of pages, so it must become a window of its own."""
    if not probe.more or len(probe.created) < PAGE_SIZE:  # one page, or a short page with a `next`: no density
        return 1.0
    created = sorted(probe.created, reverse=True)
    half = len(created) // 2
    newer_half, older_half = created[:half], created[half:]
    oldest = older_half[-1]
    if older_half[0] == oldest:
        return math.inf
    density = len(older_half) / (older_half[0] - oldest + 1)  # deliveries per second
    if newer_half:  # denser towards the past: likely denser still beyond the page
        density *= max(1.0, density / (len(newer_half) / (newer_half[0] - newer_half[-1] + 1)))
    return 1 + max(oldest - window[0], 0) * density / PAGE_SIZE


def split(window: Window, parts: int) -> List[Window]:
    """`window` cut into `parts` inclusive windows of equal length (± 1 s), oldest first; into seconds
    when it is shorter than that."""
    first, last = window
    length = last - first + 1
    parts = max(1, min(parts, length))
    bounds = [first + length * part // parts for part in range(parts + 1)]
    return [(bounds[part], bounds[part + 1] - 1) for part in range(parts)]


def parts_for(window: Window, probe: Probe, pages: int = PAGES_PER_WINDOW, most: int = MAX_PARTS) -> int:
    """Into how many parts to cut a probed window: 1 (it is a window) when it holds at most `pages`
    pages by its estimate, else enough for `pages` each, at most `most`."""
    estimate = estimated_pages(window, probe)
    if estimate <= pages or window[0] == window[1]:  # a single second cannot be cut
        return 1
    return most if estimate > pages * most else math.ceil(estimate / pages)


Planned = Union[Window, None, List["Future[Any]"]]  # a window, nothing to read, or the parts' plans


def sized_windows(
    start: int,
    end: int,
    probe: Callable[[Window], Probe],
    pool: Executor,
    pages: Optional[int] = None,
    most_parts: int = MAX_PARTS,
    planned: Callable[[Window, Probe], None] = lambda window, probe: None,
) -> Iterator[Window]:
    """Inclusive windows covering start..end, oldest first, each estimated at about `pages` pages
    (`PAGES_PER_WINDOW`) or fewer, leaving out the ones a probe found empty but the last (see the module doc).

    The spans' probes are sent at once on `pool` (the probes of a span's parts as soon as its own
    answers); the windows come in order as their probes answer. A probe's error is raised here.
    `planned(window, probe)` is called as soon as a probe makes its window one to read (its probe is its
    first page), on the probe's thread: windows come in order, and holding every probe's page until
    then would hold them all (all are probed before many are read)."""
    target = PAGES_PER_WINDOW if pages is None else pages  # None: the module's, read now

    def plan(window: Window) -> Planned:
        found = probe(window)
        if not found.more and not found.created and window[1] != end:
            return None
        parts = parts_for(window, found, target, most_parts)
        if parts == 1:
            planned(window, found)
            return window
        return [pool.submit(plan, part) for part in split(window, parts)]

    return _in_order([pool.submit(plan, span) for span in windows(start, end)])


def _in_order(plans: Iterable["Future[Any]"]) -> Iterator[Window]:
    for future in plans:
        planned: Planned = future.result()
        if isinstance(planned, list):
            yield from _in_order(planned)
        elif planned is not None:
            yield planned
