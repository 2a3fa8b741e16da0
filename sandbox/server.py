"""A fake Customer.io App API: a real HTTP server on 127.0.0.1 with the API's rules.

It answers as live accounts answer where that differs from the reference (`sandbox.workspace.Live`;
each switch brings back the reference's answer). Two listeners form a region pair: the workspace's
own region answers, the other one answers 401 as for a bad key (live), or redirects (3xx) as the
reference says. Knobs: rate limit (429 beyond it, Retry-After optional), latency, injected faults,
chaos, and the workspace's clock and sizes. `/_sandbox/*` endpoints (no auth, never disturbed by
chaos) expose stats and controls to processes that cannot reach the Python object, such as
`change_people` (body {"share": 0.01}: a churn of the workspace's people, see `Workspace.churn`).

Chaos: a share `chaos` of the authorised /v1 requests under `chaos_path` get one of CHAOS_KINDS.
Each draw hashes (seed, method, path with query, body, how often that exact request was seen), so
the same client requests meet the same faults however threads interleave, and a retry draws anew.
Two more chaos switches: `empty_pages` puts an empty page that carries a fresh `next` before every
page of every cursor listing, and `edit_during_read` edits records of the listings a client reads
incrementally while it reads them (see `Workspace.edit_while_read`).
"""

import base64
import hashlib
import json
import socket
import struct
import sys
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Deque, Dict, List, Optional, Sequence, Set
from urllib.parse import parse_qs, urlsplit

import sandbox.resources  # noqa: F401  (registers the endpoints)
from sandbox.api import ApiError, Request, Response, Route, empty_list, match
from sandbox.workspace import Knobs, Live, Workspace

APP_KEY = "sandbox-app-key-0000"
TRACK_KEY_PREFIX = "track-"


HANGUP_STATUS = 0  # the status logged for a request that got no HTTP answer (reset or stall)
EMPTY_PAGE_CURSOR = "empty-"  # starts the `next` of an empty page served by the `empty_pages` chaos


@dataclass
class Fault:
    """Answer `times` requests whose path starts with `path_prefix` with `status` (HANGUP_STATUS: a
    reset). `after_handling`: the request takes effect first, as when an answer is lost on the way."""

    path_prefix: str
    status: int
    times: int
    headers: Dict[str, str] = field(default_factory=dict)
    after_handling: bool = False

    def fire(self) -> None:
        if self.status == HANGUP_STATUS:
            raise Hangup(0.0)
        raise ApiError(self.status, f"injected fault {self.status}", self.headers)


# 5xx answers; "reset": the connection is reset unanswered; "truncated": a 200 whose JSON body is
# cut in half; "stall": no answer for `chaos_stall_seconds`, then a reset; "429_burst": this request
# and its next `chaos_burst - 1` retries get 429.
CHAOS_KINDS = ("500", "502", "503", "reset", "truncated", "stall", "429_burst")


@dataclass
class Settings:
    rate_limit: Optional[float] = None  # requests per second; None = unlimited
    retry_after: Optional[int] = None  # seconds in the 429's Retry-After header
    latency_ms: float = 0.0
    region: str = "US"
    chaos: float = 0.0  # share of /v1 requests that get a fault, 0..1
    chaos_seed: int = 0
    chaos_path: str = "/v1/"  # a narrower prefix with chaos 1.0 takes one endpoint down
    chaos_kinds: Sequence[str] = CHAOS_KINDS
    chaos_stall_seconds: float = 3.0  # keep it above the client's request_timeout_seconds
    chaos_burst: int = 3
    empty_pages: bool = False  # every page of a cursor listing comes after an empty page with a `next`
    edit_during_read: bool = False  # records are edited while they are read


class Hangup(Exception):
    """Answer nothing: wait `after_seconds`, then reset the connection."""

    def __init__(self, after_seconds: float):
        super().__init__(f"hang up after {after_seconds}s")
        self.after_seconds = after_seconds


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.requests = 0
            self.by_status: Counter = Counter()
            self.by_route: Counter = Counter()
            self.in_flight = 0
            self.max_in_flight = 0
            self.chaos: Counter = Counter()
            self.empty_pages = 0
            self.log: List[Dict[str, Any]] = []

    def begin(self) -> float:
        """Count a request in; the moment it began, for `end`."""
        with self._lock:
            self.requests += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        return time.monotonic()

    def end(
        self, region: str, method: str, path: str, route_name: str, status: int, auth: Optional[str], began: float
    ) -> None:
        with self._lock:
            self.in_flight -= 1
            self.by_status[status] += 1
            self.by_route[route_name] += 1
            if len(self.log) < 200000:
                self.log.append(
                    {
                        "region": region,
                        "method": method,
                        "path": path,
                        "status": status,
                        "authorization": auth,
                        "at": time.time(),
                        "seconds": time.monotonic() - began,  # latency and the sandbox's own work
                    }
                )

    def count_chaos(self, kind: str) -> None:
        with self._lock:
            self.chaos[kind] += 1

    def count_empty_page(self) -> None:
        with self._lock:
            self.empty_pages += 1

    def longest_chain(self) -> Dict[str, float]:
        """The listing read in the most pages: how many (its first page and the answered requests that
        carried a `start`; a listing's requests differ only in `start`), and the seconds its pages took
        here, one after another (latency and the sandbox's own work). Call with the lock held."""
        pages: Counter = Counter()
        seconds: Counter = Counter()
        for entry in self.log:
            parts = urlsplit(entry["path"])
            if entry["status"] == 200 and parts.path.startswith("/v1/"):
                query = parse_qs(parts.query)
                listing = repr((entry["method"], parts.path, sorted((k, v) for k, v in query.items() if k != "start")))
                pages[listing] += 1 if "start" in query or listing not in pages else 0
                seconds[listing] += entry["seconds"]
        longest = max(pages, key=pages.__getitem__, default=None)
        return {"pages": pages[longest], "seconds": seconds[longest]} if longest else {"pages": 0, "seconds": 0.0}

    def snapshot(self) -> Dict[str, Any]:
        with self._lock:
            answered = [entry["at"] for entry in self.log if entry["path"].startswith("/v1/")]
            return {
                "longest_chain": self.longest_chain(),
                "requests": self.requests,
                "by_status": {str(k): v for k, v in self.by_status.items()},
                "by_route": dict(self.by_route),
                "max_in_flight": self.max_in_flight,
                "chaos": dict(self.chaos),
                "empty_pages": self.empty_pages,
                # When the first and the last API request of the log were answered (unix seconds).
                "api_span": [min(answered), max(answered)] if answered else None,
            }


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away (a killed sync, a client-side timeout) is expected; a sandbox bug is not.
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


class Sandbox:
    """Start with `Sandbox(...).start()`; `url` is the workspace's region, `other_region_url` redirects."""

    def __init__(
        self,
        knobs: Optional[Knobs] = None,
        settings: Optional[Settings] = None,
        app_key: str = APP_KEY,
        scoped_keys: Optional[Dict[str, Set[str]]] = None,
        now: Optional[int] = None,
        live: Optional[Live] = None,
    ):
        self.workspace = Workspace(knobs, **({"now": now} if now is not None else {}), live=live)
        self.settings = settings or Settings()
        self.app_key = app_key
        # key -> the scopes it lacks (a request needing one gets 403)
        self.scoped_keys: Dict[str, Set[str]] = dict(scoped_keys or {})
        self.stats = Stats()
        self.faults: List[Fault] = []
        self._fault_lock = threading.Lock()
        self._window: Deque[float] = deque()
        self._rate_lock = threading.Lock()
        self._chaos_lock = threading.Lock()
        self._chaos_attempts: Counter = Counter()
        self._chaos_bursts: Counter = Counter()
        self._budget_held_until = 0.0  # monotonic time until which a neighbour holds the shared budget
        self.stopping = threading.Event()
        self._servers: Dict[str, ThreadingHTTPServer] = {}
        self._threads: List[threading.Thread] = []

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self, port: int = 0, other_port: int = 0) -> "Sandbox":
        own = self.settings.region
        other = "EU" if own == "US" else "US"
        for region, wanted in ((own, port), (other, other_port)):
            server = _Server(("127.0.0.1", wanted), _make_handler(self, region))
            self._servers[region] = server
            thread = threading.Thread(target=server.serve_forever, name=f"sandbox-{region}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self.stopping.set()
        for server in self._servers.values():
            server.shutdown()
            server.server_close()
        self._servers.clear()

    def __enter__(self) -> "Sandbox":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def region_url(self, region: str) -> str:
        host, port = self._servers[region].server_address[:2]
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        return self.region_url(self.settings.region)

    @property
    def other_region_url(self) -> str:
        return self.region_url("EU" if self.settings.region == "US" else "US")

    # -- knobs -------------------------------------------------------------------------------
    def inject(
        self,
        path_prefix: str,
        status: int,
        times: int = 1,
        headers: Optional[Dict[str, str]] = None,
        after_handling: bool = False,
    ) -> None:
        """Fail the next `times` requests under `path_prefix` (e.g. "/v1/campaigns") with `status`
        (HANGUP_STATUS: reset the connection); with `after_handling`, once the request took effect."""
        with self._fault_lock:
            self.faults.append(Fault(path_prefix, status, times, dict(headers or {}), after_handling))

    def _take_fault(self, path: str) -> Optional[Fault]:
        with self._fault_lock:
            for fault in self.faults:
                if path.startswith(fault.path_prefix) and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    def _chaos_kind(self, method: str, raw_path: str, body: bytes) -> Optional[str]:
        """The fault this attempt of this request gets, or None; deterministic from the seed."""
        settings = self.settings
        if not settings.chaos or not urlsplit(raw_path).path.startswith(settings.chaos_path):
            return None
        request_key = f"{method} {raw_path} {hashlib.blake2b(body, digest_size=8).hexdigest()}"
        with self._chaos_lock:
            attempt = self._chaos_attempts[request_key]
            self._chaos_attempts[request_key] += 1
            if self._chaos_bursts[request_key] > 0:
                self._chaos_bursts[request_key] -= 1
                kind: Optional[str] = "429_burst"
            else:
                digest = hashlib.blake2b(
                    f"{settings.chaos_seed}:{request_key}:{attempt}".encode(), digest_size=16
                ).digest()
                draw, pick = (int.from_bytes(half, "big") / 2**64 for half in (digest[:8], digest[8:]))
                kind = settings.chaos_kinds[int(pick * len(settings.chaos_kinds))] if draw < settings.chaos else None
                if kind == "429_burst":
                    self._chaos_bursts[request_key] = settings.chaos_burst - 1
        if kind:
            self.stats.count_chaos(kind)
        return kind

    def _disrupt(self, kind: str) -> None:
        """Raise the failure a chaos kind stands for ("truncated" is applied to the answer instead)."""
        if kind == "reset":
            raise Hangup(0.0)
        if kind == "stall":
            raise Hangup(self.settings.chaos_stall_seconds)
        if kind == "429_burst":
            extra = {"Retry-After": str(self.settings.retry_after)} if self.settings.retry_after is not None else {}
            raise ApiError(429, "Your request is over the 10-per-second limit.", extra)
        if kind != "truncated":
            raise ApiError(int(kind), f"chaos: HTTP {kind}")

    def hold_budget(self, seconds: float) -> None:
        """Stand for another client of the workspace spending its whole shared rate budget for
        `seconds`: every request gets 429 without Retry-After (none is documented) until then."""
        self._budget_held_until = time.monotonic() + seconds

    def _budget_held(self) -> bool:
        return time.monotonic() < self._budget_held_until

    def _over_rate_limit(self) -> bool:
        limit = self.settings.rate_limit
        if not limit:
            return False
        window = 1.0 if limit >= 1 else 1.0 / limit
        allowed = max(1, int(limit)) if limit >= 1 else 1
        now = time.monotonic()
        with self._rate_lock:
            while self._window and now - self._window[0] >= window:
                self._window.popleft()
            if len(self._window) >= allowed:
                return True
            self._window.append(now)
            return False

    # -- answering ---------------------------------------------------------------------------
    def answer(self, region: str, method: str, raw_path: str, headers: Any, body: bytes) -> Response:
        parts = urlsplit(raw_path)
        if parts.path.startswith("/_sandbox/"):
            return self._control(parts.path, parse_qs(parts.query), body)
        found, params = match(method, parts.path)
        if found is not None and found.public:  # e.g. a signed export file: no key, but faults apply
            fault = self._take_fault(parts.path)
            if fault:
                fault.fire()
            request = Request(
                method, parts.path, params, parse_qs(parts.query, keep_blank_values=True), headers, body, found.scope
            )
            result = found.handler(self.workspace, request)
            return result if isinstance(result, Response) else Response(200, result)
        auth = headers.get("Authorization") or ""
        key = auth[len("Bearer ") :] if auth.startswith("Bearer ") else None
        if key is None or (key != self.app_key and key not in self.scoped_keys):
            detail = (
                "Track API keys do not work with the App API"
                if key and key.startswith(TRACK_KEY_PREFIX)
                else "invalid or missing App API key"
            )
            raise ApiError(401, f"Unauthorized: {detail}")
        if region != self.settings.region:
            if self.workspace.live.wrong_region_401:
                raise ApiError(401, "Unauthorized: invalid or missing App API key")
            return Response(
                301, {"meta": {"error": "workspace is in another region"}}, {"Location": self.url + raw_path}
            )
        chaos = self._chaos_kind(method, raw_path, body)
        if chaos:
            self._disrupt(chaos)
        if self._budget_held():
            raise ApiError(429, "Your request is over the 10-per-second limit.")
        if self._over_rate_limit():
            extra = {"Retry-After": str(self.settings.retry_after)} if self.settings.retry_after is not None else {}
            raise ApiError(429, "Your request is over the 10-per-second limit.", extra)
        fault = self._take_fault(parts.path)
        if fault and not fault.after_handling:
            fault.fire()
        if found is None:
            raise ApiError(404, "not found")
        if found.scope in self.scoped_keys.get(key, set()):
            raise ApiError(403, f"this key's scope does not include {found.scope}")
        request = Request(
            method, parts.path, params, parse_qs(parts.query, keep_blank_values=True), headers, body, found.scope
        )
        if self.settings.empty_pages and found.listing:
            empty = self._empty_page_first(found, request)
            if empty is not None:
                return empty
        self.workspace.editing = self.settings.edit_during_read
        result = found.handler(self.workspace, request)
        if fault:
            fault.fire()
        response = result if isinstance(result, Response) else Response(200, result)
        return truncated(response) if chaos == "truncated" else response

    def _empty_page_first(self, found: Route, request: Request) -> Optional[Response]:
        """With `empty_pages`: an empty page whose `next` leads to the page asked for, unless the
        request carries such a `next` (then the request is unwrapped, and answered as usual)."""
        start = request.arg("start") or ""
        if start.startswith(EMPTY_PAGE_CURSOR):
            request.query["start"] = [base64.urlsafe_b64decode(start[len(EMPTY_PAGE_CURSOR) :]).decode()]
            return None
        self.stats.count_empty_page()
        wrapped = EMPTY_PAGE_CURSOR + base64.urlsafe_b64encode(start.encode()).decode()
        return Response(200, {**{name: empty_list(self.workspace) for name in found.listing}, "next": wrapped})

    def _control(self, path: str, query: Dict[str, List[str]], body: bytes) -> Response:
        if path == "/_sandbox/stats":
            return Response(200, self.stats.snapshot())
        if path == "/_sandbox/reset_stats":
            self.stats.reset()
            return Response(200, {"ok": True})
        if path == "/_sandbox/advance":
            self.workspace.advance(int(query.get("seconds", ["0"])[0]))
            return Response(200, {"now": self.workspace.now})
        if path == "/_sandbox/change_people":
            return Response(200, self.workspace.churn(float(json.loads(body or b"{}").get("share", 0))))
        if path == "/_sandbox/hold_budget":
            self.hold_budget(float(query.get("seconds", ["0"])[0]))
            return Response(200, {"held_seconds": float(query.get("seconds", ["0"])[0])})
        if path == "/_sandbox/settings":
            for name, value in json.loads(body or b"{}").items():
                setattr(self.settings, name, value)
            return Response(200, vars(self.settings))
        raise ApiError(404, "unknown control")


def truncated(response: Response) -> Response:
    """The same answer with only the first half of its body (a complete HTTP message, broken JSON)."""
    body = response.body
    if isinstance(body, (dict, list)):
        payload = json.dumps(body).encode()
    elif isinstance(body, (bytes, bytearray)):
        payload = bytes(body)
    else:
        payload = b"".join(body or ())
    return Response(response.status, payload[: len(payload) // 2], response.headers)


def _make_handler(sandbox: Sandbox, region: str) -> type:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body leave in two writes; with Nagle's algorithm the body waits for the client's
        # delayed ACK of the headers (40 ms on Linux), a delay no real API adds to every answer.
        disable_nagle_algorithm = True

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def date_time_string(self, timestamp: Optional[float] = None) -> str:
            # The `Date` header is the API's "now": the workspace's clock, not the host's.
            from email.utils import formatdate

            return formatdate(sandbox.workspace.now if timestamp is None else timestamp, usegmt=True)

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            began = sandbox.stats.begin()
            path = urlsplit(self.path).path
            found, _ = match(self.command, path)
            route_name = found.template if found else path
            hangup: Optional[Hangup] = None
            try:
                if sandbox.settings.latency_ms:
                    time.sleep(sandbox.settings.latency_ms / 1000)
                response = sandbox.answer(region, self.command, self.path, self.headers, body)
            except ApiError as error:
                response = Response(error.status, {"meta": {"error": error.message}}, error.headers)
            except Hangup as raised:
                hangup = raised
            except Exception as error:  # a sandbox bug must look like a 500, not a hang
                response = Response(500, {"meta": {"error": f"sandbox error: {error!r}"}})
            if not hangup and (response.body is None or isinstance(response.body, (dict, list))):
                # Encoded here, so that the answer's logged time holds the sandbox's whole work for it.
                response.body = json.dumps(response.body).encode()
            status = HANGUP_STATUS if hangup else response.status
            sandbox.stats.end(
                region, self.command, self.path, route_name, status, self.headers.get("Authorization"), began
            )
            if hangup:
                self._hang_up(hangup.after_seconds)
            else:
                self._send(response)

        def _hang_up(self, after_seconds: float) -> None:
            sandbox.stopping.wait(after_seconds)
            # Linger 0 makes close() send a TCP reset, as a crashed proxy would.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True

        def _send(self, response: Response) -> None:
            self.send_response(response.status)
            headers = {"Content-Type": "application/json", **response.headers}
            for name, value in headers.items():
                self.send_header(name, value)
            if response.body is not None and not isinstance(response.body, (bytes, bytearray)):
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for chunk in response.body:
                    if chunk:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")
                return
            payload = response.body or b""
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

    return Handler
