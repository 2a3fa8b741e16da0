"""A response's JSON body, parsed once however many readers ask for it."""

import json
import threading
import weakref
from typing import Any

import requests

_parsed: "weakref.WeakKeyDictionary[requests.Response, Any]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()  # the engine's workers parse their own pages concurrently


def json_body(response: requests.Response) -> Any:
    """The response's JSON, parsed on first use and kept while the response lives: the error
    handler, parse_response and next_page_token all read it, and a page of 1000 messages takes
    milliseconds to parse."""
    with _lock:
        if response in _parsed:
            return _parsed[response]
    body = json.loads(response.content)
    with _lock:
        return _parsed.setdefault(response, body)
