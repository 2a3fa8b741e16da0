"""One error table for every stream, the Retry-After backoff, and the shared rate budget."""

import json
import logging
import math
import time
from datetime import timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Mapping, Optional, Union
from urllib.parse import urlsplit

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.call_rate import HttpAPIBudget, MovingWindowCallRatePolicy, Rate
from airbyte_cdk.sources.streams.http.error_handlers import BackoffStrategy, HttpStatusErrorHandler
from airbyte_cdk.sources.streams.http.error_handlers.default_error_mapping import DEFAULT_ERROR_MAPPING
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction

MAX_RETRIES = 6
MAX_RETRY_AFTER_SECONDS = 300
MAX_BACKOFF_SECONDS = 30
MIN_BACKOFF_SECONDS = 0.01

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
BAD_BODY_MESSAGE = "Customer.io answered with a body that is not complete JSON (the connection was cut)."
NETWORK_MESSAGE = "The request to Customer.io failed on the network (connection refused or reset, or no answer within `request_timeout_seconds`)."
MISSING_PARENT_MESSAGE = "The parent record disappeared during the sync (HTTP 404); it is skipped."
UNREACHABLE_MESSAGE = "Could not reach Customer.io at {host} ({cause}): check `region` and `api_url`, and that this machine can reach the API."

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


class CustomerioErrorHandler(HttpStatusErrorHandler):
    """The CDK's status table plus what it cannot express: redirects, broken bodies, network errors."""

    def __init__(self, logger: logging.Logger, ignore_missing_parent: bool = False, retry_network_errors: bool = True):
        mapping = {**ERROR_MAPPING, 404: IGNORE_MISSING_PARENT} if ignore_missing_parent else ERROR_MAPPING
        super().__init__(logger, error_mapping=mapping, max_retries=MAX_RETRIES, max_time=timedelta(minutes=15))
        self._retry_network_errors = retry_network_errors

    def interpret_response(self, response_or_exception=None) -> ErrorResolution:
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


def unreachable_message(error: requests.RequestException) -> str:
    """One sentence for a request that got no answer; names the host, never the headers (the key)."""
    host = urlsplit(error.request.url).netloc if error.request is not None else "the configured address"
    cause = "timed out" if isinstance(error, requests.Timeout) else "connection failed"
    return UNREACHABLE_MESSAGE.format(host=host, cause=cause)


def forbidden_message(response: requests.Response) -> str:
    """The 403 text, naming the refused resource (method and path, never the query or headers)."""
    request = response.request
    resource = f"{request.method} {urlsplit(request.url).path}" if request is not None else "this request"
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


_PARSED_JSON = "_customerio_parsed_json"


def json_body(response: requests.Response) -> Any:
    """The response's JSON, parsed once and kept on the response: the error handler, parse_response
    and next_page_token all read it, and parsing a page of 1000 messages takes milliseconds."""
    if _PARSED_JSON not in response.__dict__:
        response.__dict__[_PARSED_JSON] = json.loads(response.content)
    return response.__dict__[_PARSED_JSON]


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


class RetryAfterBackoff(BackoffStrategy):
    """Honour Retry-After when the API sends it; otherwise back off exponentially.

    The CDK sleeps the returned value plus one second, so one second is taken off here; it also
    takes 0 for "no advice" and falls back to its own long backoff, so the least returned is positive.
    """

    def backoff_time(self, response_or_exception, attempt_count: int) -> Optional[float]:
        if isinstance(response_or_exception, requests.Response):
            wait = retry_after_seconds(response_or_exception)
            if wait is not None:
                return max(wait - 1.0, MIN_BACKOFF_SECONDS)
        return min(0.5 * 2 ** max(attempt_count - 1, 0), MAX_BACKOFF_SECONDS)


# Customer.io counts a request when it arrives, the budget when it is sent; jitter between the two
# can put 11 requests into one of the API's seconds. Against the sandbox (150 ms latency, loaded
# 2-core machine) a window of exactly 1 s drew ~5% 429s, each stalling the budget for a second;
# windows 2–5% longer drew none. Airbyte's source-stripe has no margin and relies on retries.
RATE_WINDOW_MARGIN = 0.05


def build_api_budget(requests_per_second: float) -> HttpAPIBudget:
    """One budget shared by every stream: at most `requests_per_second` in any moving window
    (stretched by RATE_WINDOW_MARGIN)."""
    if requests_per_second >= 1:
        rate = Rate(limit=int(requests_per_second), interval=timedelta(seconds=1 + RATE_WINDOW_MARGIN))
    else:
        rate = Rate(limit=1, interval=timedelta(seconds=(1 + RATE_WINDOW_MARGIN) / requests_per_second))
    return HttpAPIBudget(
        policies=[MovingWindowCallRatePolicy(rates=[rate], matchers=[])], status_codes_for_ratelimit_hit=[429]
    )
