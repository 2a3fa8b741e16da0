"""One error table for every stream, the backoff, the retry budgets, and the shared rate budget."""

import logging
import math
import random
import threading
import time
from datetime import timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Dict, Mapping, Optional, Tuple, Union
from urllib.parse import urlsplit

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.call_rate import MovingWindowCallRatePolicy, Rate
from airbyte_cdk.sources.streams.http.error_handlers import BackoffStrategy, HttpStatusErrorHandler
from airbyte_cdk.sources.streams.http.error_handlers.default_error_mapping import DEFAULT_ERROR_MAPPING
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction

from source_customerio.budget import ChainFirstBudget
from source_customerio.responses import json_body

MAX_RETRIES = 6  # errors other than 429: a request is sent once and retried this many times
MAX_RETRY_AFTER_SECONDS = 300
MAX_BACKOFF_SECONDS = 30
MIN_BACKOFF_SECONDS = 0.01
# 429s are retried for as long as `rate_limit_max_wait_minutes` allows, each wait jittered and capped.
MAX_RATE_LIMIT_WAIT_SECONDS = 60
MIN_RATE_LIMIT_WAIT_SECONDS = 1.0  # the least the CDK can sleep (see cdk_backoff_value)
DEFAULT_RATE_LIMIT_MAX_WAIT_SECONDS = 30 * 60
# The CDK's user-defined backoff sleeps the value a strategy returns plus this (see cdk_backoff_value).
CDK_ADDED_BACKOFF_SECONDS = 1.0

UNAUTHORIZED_MESSAGE = (
    "Customer.io rejected the App API key (HTTP 401). Check that `app_api_key` is an App API key "
    "(not a Track API key), that it has not been revoked, and that `region` matches your workspace's data centre."
)
FORBIDDEN_MESSAGE = (
    "Customer.io refused {resource} (HTTP 403): the App API key's scope does not include this resource, "
    "or your account's IP allowlist blocks this machine. Give the key that scope in Customer.io > Settings > "
    "API Credentials, or deselect this stream."
)
WRONG_REGION_MESSAGE = (
    "Customer.io redirected the request to another data centre (HTTP {status}): the workspace is not in the "
    "configured `region`. Switch `region` between US and EU."
)
RATE_LIMITED_MESSAGE = "Customer.io's rate limit of 10 requests per second was exceeded (HTTP 429)."
RATE_LIMIT_EXHAUSTED_MESSAGE = (
    "Customer.io kept answering HTTP 429 (over its rate limit) to stream `{stream}` through {waited} of waiting, "
    "the most `rate_limit_max_wait_minutes` ({allowed}) allows. The limit of 10 requests per second belongs to the "
    "workspace and is shared by every client using it: another client (an integration, a script, another sync) may "
    "be using the workspace's budget. Sync when it is idle, or raise `rate_limit_max_wait_minutes`."
)
RETRIES_EXHAUSTED_SUFFIX = " Gave up after {attempts} attempts."
BAD_BODY_MESSAGE = "Customer.io answered with a body that is not complete JSON (the connection was cut)."
NETWORK_MESSAGE = (
    "The request to Customer.io failed on the network "
    "(connection refused or reset, or no answer within `request_timeout_seconds`)."
)
MISSING_PARENT_MESSAGE = "The parent record disappeared during the sync (HTTP 404); it is skipped."
UNREACHABLE_MESSAGE = (
    "Could not reach Customer.io at {host} ({cause}): "
    "check `region` and `api_url`, and that this machine can reach the API."
)

ERROR_MAPPING: Mapping[Union[int, str, type], ErrorResolution] = {
    **DEFAULT_ERROR_MAPPING,
    401: ErrorResolution(ResponseAction.FAIL, FailureType.config_error, UNAUTHORIZED_MESSAGE),
    429: ErrorResolution(ResponseAction.RATE_LIMITED, FailureType.transient_error, RATE_LIMITED_MESSAGE),
    **{
        status: ErrorResolution(
            ResponseAction.RETRY, FailureType.transient_error, f"Customer.io answered HTTP {status}, a server error."
        )
        for status in (500, 502, 503, 504, 520, 522, 524)
    },
}
IGNORE_MISSING_PARENT = ErrorResolution(ResponseAction.IGNORE, None, MISSING_PARENT_MESSAGE)


RequestKey = Tuple[str, str, Any]


class RetryLedger:
    """What the retries of one stream's requests have spent: the backoff records each wait on a 429,
    the error handler counts other failures and ends a request's retries once over budget. A request
    is known by method, URL and body; its entry is dropped when it gets an answer that ends its retries."""

    def __init__(self, max_rate_limit_wait_seconds: float, max_retries: int = MAX_RETRIES):
        self.max_rate_limit_wait_seconds = max_rate_limit_wait_seconds
        self.max_retries = max_retries
        self._lock = threading.Lock()
        self._waited: Dict[RequestKey, float] = {}
        self._waits: Dict[RequestKey, int] = {}
        self._failures: Dict[RequestKey, int] = {}

    def rate_limit_waits(self, request: Any) -> int:
        return self._waits.get(request_key(request), 0)

    def rate_limit_waited(self, request: Any) -> float:
        return self._waited.get(request_key(request), 0.0)

    def rate_limit_remaining(self, request: Any) -> float:
        return self.max_rate_limit_wait_seconds - self.rate_limit_waited(request)

    def record_rate_limit_wait(self, request: Any, seconds: float) -> None:
        key = request_key(request)
        with self._lock:
            self._waited[key] = self._waited.get(key, 0.0) + seconds
            self._waits[key] = self._waits.get(key, 0) + 1

    def record_failure(self, request: Any) -> int:
        """Count a retryable failure other than 429; returns the request's failures so far."""
        key = request_key(request)
        with self._lock:
            self._failures[key] = self._failures.get(key, 0) + 1
            return self._failures[key]

    def forget(self, request: Any) -> None:
        key = request_key(request)
        with self._lock:
            for spent in (self._waited, self._waits, self._failures):
                spent.pop(key, None)

    @property
    def cdk_max_retries(self) -> int:
        """A bound for the CDK's own retry loop that never cuts a budget short: the ledger ends retries."""
        return self.max_retries + math.ceil(self.max_rate_limit_wait_seconds / MIN_RATE_LIMIT_WAIT_SECONDS) + 1


def request_key(request: Any) -> RequestKey:
    """The same for every retry of one request (the CDK resends it as it is)."""
    if request is None:
        return ("", "", None)
    return (getattr(request, "method", "") or "", getattr(request, "url", "") or "", getattr(request, "body", None))


def request_of(response_or_exception: Any) -> Any:
    return getattr(response_or_exception, "request", None)


def minutes_text(seconds: float) -> str:
    return f"{seconds / 60:g} minutes" if seconds >= 60 else f"{seconds:g} seconds"


class CustomerioErrorHandler(HttpStatusErrorHandler):
    """The CDK's status table plus what it cannot express: redirects, broken bodies, network errors,
    and retry budgets (429s by total wait, other errors by count), kept in the stream's RetryLedger."""

    def __init__(
        self,
        logger: logging.Logger,
        ignore_missing_parent: bool = False,
        retry_network_errors: bool = True,
        ledger: Optional[RetryLedger] = None,
        stream_name: str = "",
    ):
        mapping = {**ERROR_MAPPING, 404: IGNORE_MISSING_PARENT} if ignore_missing_parent else ERROR_MAPPING
        self.ledger = ledger or RetryLedger(DEFAULT_RATE_LIMIT_MAX_WAIT_SECONDS)
        max_time = timedelta(seconds=self.ledger.max_rate_limit_wait_seconds) + timedelta(minutes=15)
        super().__init__(logger, error_mapping=mapping, max_retries=self.ledger.cdk_max_retries, max_time=max_time)
        self._retry_network_errors = retry_network_errors
        self._stream_name = stream_name

    def interpret_response(self, response_or_exception=None) -> ErrorResolution:
        resolution = self.classify(response_or_exception)
        request = request_of(response_or_exception)
        if resolution.response_action == ResponseAction.RATE_LIMITED:
            if self.ledger.rate_limit_remaining(request) <= 0:
                return ErrorResolution(
                    ResponseAction.FAIL,
                    FailureType.transient_error,
                    RATE_LIMIT_EXHAUSTED_MESSAGE.format(
                        stream=self._stream_name,
                        waited=minutes_text(self.ledger.rate_limit_waited(request)),
                        allowed=minutes_text(self.ledger.max_rate_limit_wait_seconds),
                    ),
                )
        elif resolution.response_action == ResponseAction.RETRY:
            failures = self.ledger.record_failure(request)
            if failures > self.ledger.max_retries:
                message = (resolution.error_message or "") + RETRIES_EXHAUSTED_SUFFIX.format(attempts=failures)
                return ErrorResolution(ResponseAction.FAIL, resolution.failure_type, message)
        else:  # answered: a later identical request starts with a fresh budget
            self.ledger.forget(request)
        return resolution

    def classify(self, response_or_exception=None) -> ErrorResolution:
        """What one response or exception means, before any retry budget is applied."""
        if isinstance(response_or_exception, requests.RequestException) and not isinstance(
            response_or_exception, (requests.exceptions.InvalidSchema, requests.exceptions.InvalidURL)
        ):
            if self._retry_network_errors:
                return ErrorResolution(ResponseAction.RETRY, FailureType.transient_error, NETWORK_MESSAGE)
            return ErrorResolution(
                ResponseAction.FAIL, FailureType.config_error, unreachable_message(response_or_exception)
            )
        if isinstance(response_or_exception, requests.Response):
            status = response_or_exception.status_code
            if 300 <= status < 400:
                return ErrorResolution(
                    ResponseAction.FAIL, FailureType.config_error, WRONG_REGION_MESSAGE.format(status=status)
                )
            if status == 403:
                return ErrorResolution(
                    ResponseAction.FAIL, FailureType.config_error, forbidden_message(response_or_exception)
                )
            if response_or_exception.ok and not is_complete_json(response_or_exception):
                return ErrorResolution(ResponseAction.RETRY, FailureType.transient_error, BAD_BODY_MESSAGE)
        return super().interpret_response(response_or_exception)


class NoBlindRetryErrorHandler(CustomerioErrorHandler):
    """For a request that must not take effect twice (creating an export): a failure after which it
    may have taken effect (5xx, a reset, a timeout, a cut-off body) fails at once instead of being
    resent, so the caller can look for its effect first. 429s, answered before acting, are waited out."""

    def interpret_response(self, response_or_exception=None) -> ErrorResolution:
        resolution = super().interpret_response(response_or_exception)
        if resolution.response_action == ResponseAction.RETRY:
            return ErrorResolution(ResponseAction.FAIL, FailureType.transient_error, resolution.error_message)
        return resolution


def unreachable_message(error: requests.RequestException) -> str:
    """One sentence for a request that got no answer; names the host, never the headers (the key)."""
    host = urlsplit(error.request.url).netloc if error.request is not None else "the configured address"
    cause = "timed out" if isinstance(error, requests.Timeout) else "connection failed"
    return UNREACHABLE_MESSAGE.format(host=host, cause=cause)


def forbidden_message(response: requests.Response) -> str:
    """The 403 text, naming the refused resource (method and path, never the query or headers)."""
    request = response.request
    if request is None:
        return FORBIDDEN_MESSAGE.format(resource="this request")
    method = request.method.decode() if isinstance(request.method, bytes) else request.method
    resource = f"{method} {urlsplit(str(request.url)).path}"
    return FORBIDDEN_MESSAGE.format(resource=resource)


def is_complete_json(response: requests.Response) -> bool:
    """True when a JSON response's body parses (an empty body does not); other content types are left alone."""
    if "json" not in response.headers.get("Content-Type", "json"):
        return True
    try:
        json_body(response)
    except ValueError:
        return False
    return True


def retry_after_seconds(response: requests.Response) -> Optional[float]:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), or None."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = parsedate_to_datetime(value).timestamp()
            sent = response.headers.get("Date")
            # Measured against the server's clock when it sends one, else against ours.
            seconds = moment - (parsedate_to_datetime(sent).timestamp() if sent else time.time())
        except (TypeError, ValueError):
            return None
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def cdk_backoff_value(wait_seconds: float) -> float:
    """What to return from a BackoffStrategy so that the CDK sleeps `wait_seconds`: its user-defined
    backoff (airbyte_cdk.sources.streams.http.rate_limiting) sleeps the value plus one second, and
    reads 0 as "no advice". unit_tests/test_cdk_contract.py fails if the CDK changes either."""
    return max(wait_seconds - CDK_ADDED_BACKOFF_SECONDS, MIN_BACKOFF_SECONDS)


class CustomerioBackoff(BackoffStrategy):
    """429: honour Retry-After when sent, else capped exponential backoff with jitter, each wait
    logged with the stream's name and counted in the ledger. Other errors: exponential, capped."""

    def __init__(
        self,
        ledger: RetryLedger,
        stream_name: str = "",
        logger: Optional[logging.Logger] = None,
        jitter: Callable[[], float] = random.random,
    ):
        self._ledger = ledger
        self._stream_name = stream_name
        self._logger = logger or logging.getLogger("airbyte")
        self._jitter = jitter

    def backoff_time(self, response_or_exception, attempt_count: int) -> Optional[float]:
        if isinstance(response_or_exception, requests.Response) and response_or_exception.status_code == 429:
            return cdk_backoff_value(self.rate_limit_wait(response_or_exception))
        if isinstance(response_or_exception, requests.Response):
            wait = retry_after_seconds(response_or_exception)
            if wait is not None:
                return cdk_backoff_value(wait)
        return min(0.5 * 2 ** max(attempt_count - 1, 0), MAX_BACKOFF_SECONDS)

    def rate_limit_wait(self, response: requests.Response) -> float:
        """Seconds to wait after a 429, within what the request's wait budget has left; recorded and logged."""
        request = request_of(response)
        advised = retry_after_seconds(response)
        if advised is None:
            ceiling = min(MAX_RATE_LIMIT_WAIT_SECONDS, 2 ** (self._ledger.rate_limit_waits(request) + 1))
            advised = ceiling * (0.5 + 0.5 * self._jitter())  # jitter: waiting clients don't retry in step
        remaining = self._ledger.rate_limit_remaining(request)
        wait = max(min(max(advised, MIN_RATE_LIMIT_WAIT_SECONDS), remaining), MIN_BACKOFF_SECONDS)
        self._ledger.record_rate_limit_wait(request, wait)
        self._logger.info(
            f"Stream `{self._stream_name}`: Customer.io answered HTTP 429 (rate limit, shared by every client of the "
            f"workspace); waiting {wait:.1f} s, {self._ledger.rate_limit_waited(request):.0f} s of "
            f"{self._ledger.max_rate_limit_wait_seconds:g} s allowed for this request."
        )
        return wait


# Customer.io counts a request when it arrives, the budget when it is sent; jitter between the two
# can put 11 requests into one of the API's seconds. Against the sandbox (150 ms latency, loaded
# 2-core machine) a window of exactly 1 s drew ~5% 429s, each stalling the budget for a second;
# windows 2–5% longer drew none. 3% since 0.5.0: whole syncs at 150 ms were budget-bound at 0.88 of
# their floor with 5%; with 3% the long-chain bench drew at most 0.2% 429s. Airbyte's source-stripe
# has no margin and relies on retries. Since 0.5.1 a lone 429 no longer stalls the budget
# (`ChainFirstBudget.update_from_response`), so the few left cost only their own retry.
# Re-measure after changing it: `make bench` reports each run's efficiency and share of 429s.
RATE_WINDOW_MARGIN = 0.03


def build_api_budget(requests_per_second: float) -> ChainFirstBudget:
    """One budget shared by every stream: at most `requests_per_second` in any moving window
    (stretched by RATE_WINDOW_MARGIN), the longest chain's request first (`ChainFirstBudget`)."""
    if requests_per_second >= 1:
        rate = Rate(limit=int(requests_per_second), interval=timedelta(seconds=1 + RATE_WINDOW_MARGIN))
    else:
        rate = Rate(limit=1, interval=timedelta(seconds=(1 + RATE_WINDOW_MARGIN) / requests_per_second))
    return ChainFirstBudget(
        calls=rate.limit,
        seconds=rate.interval.total_seconds(),
        policies=[MovingWindowCallRatePolicy(rates=[rate], matchers=[])],
        status_codes_for_ratelimit_hit=[429],
    )
