"""Cursor pagination of the App API: send ?start=<cursor>, read "next" from the body."""

from typing import Any, Mapping, Optional
from urllib.parse import parse_qs, urlsplit


def sent_cursor(url: str) -> Optional[str]:
    """The `start` cursor a request carried, if any."""
    values = parse_qs(urlsplit(url).query).get("start")
    return values[0] if values else None


def next_cursor(body: Mapping[str, Any], sent: Optional[str], page_length: int) -> Optional[str]:
    """The cursor of the next page, or None when the listing is over.

    Over means: no `next` (missing, empty or null), an empty page (some endpoints keep returning
    `next` after the last page), or the cursor we just sent coming back (a loop).
    """
    cursor = body.get("next")
    if cursor is None or cursor == "" or page_length == 0:
        return None
    cursor = str(cursor)
    return None if cursor == sent else cursor
