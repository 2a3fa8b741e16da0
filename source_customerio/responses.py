"""What the connector reads from a response besides its records: the JSON body, parsed once however many
readers ask for it, and the API's clock."""

import json
import threading
import weakref
from datetime import timezone
from email.utils import parsedate_to_datetime
from typing import Any, Optional

import orjson
import requests

_parsed: "weakref.WeakKeyDictionary[requests.Response, Any]" = weakref.WeakKeyDictionary()
DIGITS_AS_ZEROS = bytes.maketrans(b"123456789", b"000000000")
LONG_DIGIT_RUN = b"0" * 19  # 2**63 has 19 digits
_lock = threading.Lock()  # the engine's workers parse their own pages concurrently


def json_body(response: requests.Response) -> Any:
    """The response's JSON, parsed on first use and kept while the response lives: the error
    handler, parse_response and next_page_token all read it, and a page of 1000 messages takes
    milliseconds to parse."""
    with _lock:
        if response in _parsed:
            return _parsed[response]
    body = parse_json(response.content)
    with _lock:
        return _parsed.setdefault(response, body)


def parse_json(content: bytes) -> Any:
    """`json.loads`, faster: orjson parses a page of messages in under half the standard parser's CPU. orjson
    turns integers beyond 64 bits into floats, so a body with a run of 19 or more digits (found at C speed:
    every digit made a 0, then one substring search) goes to the standard parser, which keeps them exact; so
    does what orjson refuses and the standard parser accepts (NaN, lone surrogates)."""
    if LONG_DIGIT_RUN in content.translate(DIGITS_AS_ZEROS):
        return json.loads(content)
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return json.loads(content)


def answered_at(date_header: Optional[str], fallback: int) -> int:
    """The API's "now" from a response's HTTP `Date` header, or `fallback` (the connector's clock)
    when the header is missing or unparsable."""
    if not date_header:
        return fallback
    try:
        moment = parsedate_to_datetime(date_header)
    except (TypeError, ValueError):
        return fallback
    # "-0000" parses naive: it still means UTC.
    return int((moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp())
