"""Cursor pagination of the App API: send ?start=<cursor>, read "next" from the body.

A listing ends only on a missing, empty or null `next`, or on the cursor we sent coming back. An
empty page that carries a new `next` is not the end: live cursors are positions (`MDo2MQ==` is
`0:61` after 5 members), sender identities answer one empty page after the last, and nothing rules
out an empty page mid-list. A run of empty pages with fresh cursors is bounded (`ListingProgress`).
"""

import hashlib
import threading
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Tuple
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests

# Empty pages in a row, each with a new `next`, after which a listing is given up with a warning.
# The one run seen live is a single page; a long run could come where a position cursor walks a
# filtered list (a rare activity type among many others). 1000 pages bounds a server that hands
# out fresh cursors forever at 100 s of the 10-per-second budget for one listing, while letting a
# listing cross 1000 empty pages (100,000 activities at 100 a page) to reach its next record.
MAX_EMPTY_PAGES_IN_A_ROW = 1000
# The key of a page token that carries how many pages of its listing came before (never sent).
PAGES_READ = "pages_read"


def sent_cursor(url: str) -> Optional[str]:
    """The `start` cursor a request carried, if any."""
    for name, value in parse_qsl(urlsplit(url).query):
        if name == "start" and value:
            return value
    return None


def next_cursor(body: Mapping[str, Any], sent: Optional[str]) -> Optional[str]:
    """The cursor of the next page, or None when the listing is over: no `next` (missing, empty or
    null), or the cursor we just sent coming back (a loop)."""
    cursor = body.get("next")
    if cursor is None or cursor == "":
        return None
    cursor = str(cursor)
    return None if cursor == sent else cursor


def listing_of(request: requests.PreparedRequest) -> str:
    """What identifies one listing across its pages: method, path, query without `start`, body."""
    parts = urlsplit(request.url or "")
    query = urlencode(sorted((name, value) for name, value in parse_qsl(parts.query) if name != "start"))
    body = request.body if isinstance(request.body, bytes) else str(request.body or "").encode()
    return f"{request.method} {parts.path}?{query} {hashlib.blake2b(body, digest_size=8).hexdigest()}"


@dataclass(frozen=True)
class Progress:
    """Where a listing stands after a page: pages read so far, and empty pages in a row at its end."""

    pages: int
    empty_in_a_row: int


class ListingProgress:
    """Each listing's progress, carried from a page to the cursor it gave. Shared by a stream's
    workers: each listing is read by one worker, one page after another."""

    def __init__(self) -> None:
        self._progress: Dict[Tuple[str, str], Progress] = {}
        self._lock = threading.Lock()

    def follow(self, listing: str, sent: Optional[str], page_length: int, cursor: str) -> Progress:
        """The listing's progress after this page; it goes on with `cursor`, the page's `next`."""
        with self._lock:
            before = self._progress.pop((listing, sent or ""), Progress(0, 0))
            after = Progress(before.pages + 1, 0 if page_length else before.empty_in_a_row + 1)
            self._progress[(listing, cursor)] = after
            return after
