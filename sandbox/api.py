"""The pieces every sandbox resource uses: routing, requests, errors, cursors and pages."""

import base64
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Container, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple


class ApiError(Exception):
    """An error answer in Customer.io's shape: {"meta": {"error": "..."}}."""

    def __init__(self, status: int, message: str, headers: Optional[Mapping[str, str]] = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


@dataclass
class Request:
    method: str
    path: str
    params: Dict[str, str]  # path parameters
    query: Dict[str, List[str]]
    headers: Mapping[str, str]
    body: bytes = b""
    scope: str = ""

    def arg(self, name: str, default: Optional[str] = None) -> Optional[str]:
        values = self.query.get(name)
        return values[-1] if values else default

    def int_arg(self, name: str, default: Optional[int] = None) -> Optional[int]:
        value = self.arg(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except ValueError:
            raise ApiError(400, f"{name} must be an integer") from None

    def bool_arg(self, name: str, default: bool = False) -> bool:
        value = self.arg(name)
        return default if value is None else value.lower() in ("true", "1")

    def json(self) -> Any:
        if not self.body:
            return {}
        try:
            return json.loads(self.body)
        except ValueError:
            raise ApiError(400, "request body is not valid JSON") from None


@dataclass
class Response:
    status: int = 200
    body: Any = None  # dict → JSON; bytes → as is; an iterator of bytes → chunked
    headers: Dict[str, str] = field(default_factory=dict)


Handler = Callable[[Any, Request], Any]  # (workspace, request) -> dict | Response


@dataclass
class Route:
    method: str
    pattern: "re.Pattern[str]"
    template: str
    scope: str
    handler: Handler
    public: bool = False
    listing: Tuple[str, ...] = ()  # the list fields of a cursor listing's pages (their `next` pages it)


ROUTES: List[Route] = []


def route(
    method: str, template: str, scope: str, public: bool = False, listing: Tuple[str, ...] = ()
) -> Callable[[Handler], Handler]:
    """Register a handler for METHOD /v1/<template>; {name} segments become path parameters.

    `scope` names the App API key scope the endpoint needs (a scoped key lacking it gets 403).
    `public` routes live outside /v1 (e.g. signed download links): no key, no rate limit.
    `listing`: the route is a cursor listing whose pages hold these list fields.
    """
    prefix = "^/" if public else "^/v1/"
    regex = prefix + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template.strip("/")) + "$"

    def register(handler: Handler) -> Handler:
        ROUTES.append(Route(method, re.compile(regex), template, scope, handler, public, listing))
        return handler

    return register


def match(method: str, path: str) -> Tuple[Optional[Route], Dict[str, str]]:
    for candidate in ROUTES:
        found = candidate.pattern.match(path)
        if found and candidate.method == method:
            return candidate, found.groupdict()
    return None, {}


def encode_cursor(kind: str, position: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{position}".encode()).decode()


def decode_cursor(kind: str, cursor: Optional[str]) -> int:
    if not cursor:
        return 0
    try:
        got_kind, position = base64.urlsafe_b64decode(cursor.encode()).decode().split(":")
        if got_kind != kind:
            raise ValueError(kind)
        return int(position)
    except ValueError:
        raise ApiError(400, "invalid start cursor") from None


def page_limit(request: Request, default: int, cap: int) -> int:
    """The `limit` parameter; above the endpoint's cap the real API answers 400."""
    limit = request.int_arg("limit", default)
    if limit < 1 or limit > cap:
        raise ApiError(400, f"limit must be between 1 and {cap}")
    return limit


def cursor_page(request: Request, kind: str, items: Sequence[Any], default: int, cap: int) -> Tuple[Sequence[Any], str]:
    """One page of a materialised list and the next cursor ("" after the last page)."""
    limit = page_limit(request, default, cap)
    start = decode_cursor(kind, request.arg("start"))
    chunk = items[start : start + limit]
    end = start + len(chunk)
    return chunk, encode_cursor(kind, end) if end < len(items) else ""


def int_path(request: Request, name: str) -> int:
    try:
        return int(request.params[name])
    except ValueError:
        raise ApiError(404, f"{name} not found") from None


def existing_id(request: Request, name: str, known: Container[int], what: str) -> int:
    """The integer path parameter `name`, which must name an existing `what` (else 404, as the API)."""
    value = int_path(request, name)
    if value not in known:
        raise ApiError(404, f"{what} not found")
    return value


def empty_list(ws: Any) -> Optional[List[Any]]:
    """An empty list as the API answers it: null live, [] in the reference."""
    return None if ws.live.null_empty_lists else []


def listed(ws: Any, items: Sequence[Any]) -> Optional[List[Any]]:
    """A page's list as the API answers it (null when empty, live)."""
    return list(items) if items else empty_list(ws)


def action_as_served(ws: Any, action: Dict[str, Any]) -> Dict[str, Any]:
    """A campaign or broadcast action as its actions listing sends it: live, `id` is a JSON string
    ("18"), while the parent's `actions[].id` stays an integer. The sandbox keeps integers."""
    return {**action, "id": str(action["id"])} if ws.live.string_action_ids else action


def first_unread_id(
    items: List[Dict[str, Any]], page: Sequence[Dict[str, Any]], next_cursor: str, later_lists: Iterable[List[Any]]
) -> Optional[Any]:
    """The id of the first record a reader of a per-parent listing has not read after `page`: the next
    page's first, or else the first of a later parent's list (None: it has read them all)."""
    if next_cursor:
        return items[items.index(page[-1]) + 1]["id"]
    return next((later[0]["id"] for later in later_lists if later), None)
