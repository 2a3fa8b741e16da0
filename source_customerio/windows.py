"""Creation-time windows for GET /v1/messages, which answers at most 6 months per request.

The API silently clips a longer `start_ts`..`end_ts` range, so a backfill must walk windows.
Windows are short so that state, which advances only past completely read windows, is saved
often. Both bounds are inclusive (as the API's are), so windows never overlap.
"""

import time
from typing import List, Optional, Tuple

DAY = 86400
# Customer.io started in 2012: a read from here cannot miss a workspace's first message.
HISTORY_START = 1325376000  # 2012-01-01T00:00:00Z
WINDOW_SECONDS = 30 * DAY
API_MAX_WINDOW_SECONDS = 180 * DAY  # "6 months", counted short

Window = Tuple[int, int]


def current_time() -> int:
    """The connector's clock in unix seconds (tests point it at the sandbox's clock)."""
    return int(time.time())


def windows(start: int, end: int, size: int = WINDOW_SECONDS) -> List[Window]:
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
