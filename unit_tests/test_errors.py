"""The error table and the Retry-After backoff, on hand-made responses (no HTTP)."""

import io
import logging
from email.utils import formatdate
from typing import Mapping, Optional

import pytest
import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ResponseAction
from freezegun import freeze_time

from source_customerio.errors import (
    BAD_BODY_MESSAGE,
    FORBIDDEN_MESSAGE,
    MISSING_PARENT_MESSAGE,
    NETWORK_MESSAGE,
    UNAUTHORIZED_MESSAGE,
    CustomerioBackoff,
    CustomerioErrorHandler,
    RetryLedger,
)

URL = "https://api.customer.io/v1/campaigns"
NOW = 1793491200  # 2026-11-01T00:00:00Z


def response(status: int, body: bytes = b"{}", headers: Optional[Mapping[str, str]] = None) -> requests.Response:
    made = requests.Response()
    made.status_code = status
    made.raw = io.BytesIO(body)  # read into .content on first use, as a real response's body
    made.headers.update({"Content-Type": "application/json", **(headers or {})})
    made.request = requests.Request("GET", URL).prepare()
    made.url = URL
    return made


def network_error(error_class: type) -> requests.RequestException:
    return error_class("connection dropped", request=requests.Request("GET", URL).prepare())


def handler(**kwargs) -> CustomerioErrorHandler:
    return CustomerioErrorHandler(logging.getLogger("test"), **kwargs)


@pytest.mark.parametrize(
    "headers, expected",
    [
        pytest.param({"Retry-After": "7"}, 6.0, id="seconds_minus_the_cdk_extra_second"),
        pytest.param({"Retry-After": "2.5"}, 1.5, id="fractional_seconds"),
        pytest.param({"Retry-After": "1"}, 0.01, id="one_second_stays_positive"),
        pytest.param({"Retry-After": "0"}, 0.01, id="zero_stays_positive"),
        pytest.param({"Retry-After": "86400"}, 299.0, id="capped_at_five_minutes"),
        pytest.param(
            {"Retry-After": formatdate(NOW + 40, usegmt=True), "Date": formatdate(NOW + 10, usegmt=True)},
            29.0,
            id="http_date_against_server_clock",
        ),
        pytest.param({"Retry-After": formatdate(NOW + 40, usegmt=True)}, 39.0, id="http_date_against_own_clock"),
        pytest.param({"Retry-After": formatdate(NOW - 40, usegmt=True)}, 0.01, id="http_date_in_the_past"),
    ],
)
@freeze_time("2026-11-01T00:00:00Z")
def test_given_retry_after_when_backoff_time_then_header_is_honoured(headers, expected):
    assert (
        CustomerioBackoff(RetryLedger(1800)).backoff_time(response(429, headers=headers), attempt_count=1) == expected
    )


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="missing"),
        pytest.param({"Retry-After": "soon"}, id="unparseable"),
        pytest.param({"Retry-After": "nan"}, id="not_a_number"),
    ],
)
@pytest.mark.parametrize(
    "jitter, waits",
    [
        pytest.param(1.0, [2, 4, 8, 16, 32, 60, 60, 60], id="most_jitter"),
        pytest.param(0.0, [1, 2, 4, 8, 16, 30, 30, 30], id="least_jitter"),
    ],
)
def test_given_429s_without_usable_retry_after_then_waits_double_capped_at_a_minute(headers, jitter, waits):
    ledger = RetryLedger(3600)
    backoff = CustomerioBackoff(ledger, "campaigns", jitter=lambda: jitter)
    limited = response(429, headers=headers)

    assert [backoff.rate_limit_wait(limited) for _ in waits] == waits
    assert ledger.rate_limit_waited(limited.request) == sum(waits)


def test_given_429_then_backoff_hands_the_cdk_the_wait_less_its_extra_second():
    backoff = CustomerioBackoff(RetryLedger(3600), jitter=lambda: 1.0)
    limited = response(429)
    backoff.rate_limit_wait(limited)  # 2 s

    assert backoff.backoff_time(limited, attempt_count=2) == 3.0  # a 4 s wait


def test_given_each_429_wait_then_one_log_line_names_the_stream_and_the_budget(caplog):
    backoff = CustomerioBackoff(RetryLedger(600), "newsletters", logger=logging.getLogger("test"), jitter=lambda: 1.0)
    limited = response(429)

    with caplog.at_level(logging.INFO, logger="test"):
        backoff.rate_limit_wait(limited)
        backoff.rate_limit_wait(limited)

    assert [record.getMessage() for record in caplog.records] == [
        "Stream `newsletters`: Customer.io answered HTTP 429 (rate limit, shared by every client of the workspace); "
        f"waiting {wait:.1f} s, {total} s of 600 s allowed for this request."
        for wait, total in ((2, 2), (4, 6))
    ]


def test_given_wait_budget_spent_when_429_then_fail_names_stream_option_and_other_clients():
    ledger = RetryLedger(10)
    backoff = CustomerioBackoff(ledger, "messages", jitter=lambda: 1.0)
    limited = response(429)
    errors = handler(ledger=ledger, stream_name="messages")

    actions = []
    for _ in range(4):
        resolution = errors.interpret_response(limited)
        actions.append(resolution.response_action)
        if resolution.response_action == ResponseAction.RATE_LIMITED:
            backoff.rate_limit_wait(limited)

    # waits of 2, 4, then the 4 s left: 10 s in all, and the fourth 429 ends the retries
    assert actions == [ResponseAction.RATE_LIMITED] * 3 + [ResponseAction.FAIL]
    assert ledger.rate_limit_waited(limited.request) == 10
    assert resolution.failure_type == FailureType.transient_error
    assert "stream `messages`" in resolution.error_message
    assert "10 seconds of waiting" in resolution.error_message
    assert "`rate_limit_max_wait_minutes`" in resolution.error_message
    assert "another client" in resolution.error_message


def test_given_zero_wait_budget_when_429_then_fail_at_once():
    resolution = handler(ledger=RetryLedger(0)).interpret_response(response(429))

    assert resolution.response_action == ResponseAction.FAIL


def test_given_server_errors_then_retried_six_times_whatever_the_rate_limit_budget():
    errors = handler(ledger=RetryLedger(3600))
    failing = response(503)

    actions = [errors.interpret_response(failing).response_action for _ in range(7)]

    assert actions == [ResponseAction.RETRY] * 6 + [ResponseAction.FAIL]
    assert errors.interpret_response(failing).error_message.endswith("Gave up after 8 attempts.")


def test_given_an_answer_then_the_same_request_later_starts_with_a_fresh_budget():
    ledger = RetryLedger(3600)
    errors = handler(ledger=ledger)
    failing = response(503)
    for _ in range(6):
        errors.interpret_response(failing)

    errors.interpret_response(response(200))  # the same URL, answered

    assert errors.interpret_response(failing).response_action == ResponseAction.RETRY


def test_given_429s_between_server_errors_then_only_server_errors_count_against_six_retries():
    errors = handler(ledger=RetryLedger(3600))
    failing, limited = response(503), response(429)
    limited.request = failing.request  # the same request, retried

    for _ in range(20):
        assert errors.interpret_response(limited).response_action == ResponseAction.RATE_LIMITED
    actions = [errors.interpret_response(failing).response_action for _ in range(7)]

    assert actions == [ResponseAction.RETRY] * 6 + [ResponseAction.FAIL]


def test_given_network_exception_when_backoff_time_then_exponential():
    assert (
        CustomerioBackoff(RetryLedger(1800)).backoff_time(network_error(requests.ConnectionError), attempt_count=3)
        == 2.0
    )


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_given_redirect_when_interpret_then_wrong_region_config_error(status):
    resolution = handler().interpret_response(
        response(status, headers={"Location": "https://api-eu.customer.io/v1/campaigns"})
    )

    assert (resolution.response_action, resolution.failure_type) == (ResponseAction.FAIL, FailureType.config_error)
    assert resolution.error_message == (
        f"Customer.io redirected the request to another data centre (HTTP {status}): the workspace is not in the "
        "configured `region`. Switch `region` between US and EU."
    )


@pytest.mark.parametrize(
    "status, action, failure_type, message",
    [
        pytest.param(401, ResponseAction.FAIL, FailureType.config_error, UNAUTHORIZED_MESSAGE, id="401_wrong_key"),
        pytest.param(
            403,
            ResponseAction.FAIL,
            FailureType.config_error,
            "(HTTP 403): the App API key's scope does not include this resource",
            id="403_key_scope",
        ),
        pytest.param(
            429,
            ResponseAction.RATE_LIMITED,
            FailureType.transient_error,
            "Customer.io's rate limit of 10 requests per second was exceeded (HTTP 429).",
            id="429",
        ),
        pytest.param(500, ResponseAction.RETRY, FailureType.transient_error, "HTTP 500", id="500"),
        pytest.param(503, ResponseAction.RETRY, FailureType.transient_error, "HTTP 503", id="503"),
    ],
)
def test_given_error_status_when_interpret_then_table_resolution(status, action, failure_type, message):
    resolution = handler().interpret_response(response(status))

    assert (resolution.response_action, resolution.failure_type) == (action, failure_type)
    assert message in resolution.error_message


def test_given_401_and_403_messages_then_they_name_the_fields_to_fix():
    assert (
        "`app_api_key`" in UNAUTHORIZED_MESSAGE
        and "Track API key" in UNAUTHORIZED_MESSAGE
        and "`region`" in UNAUTHORIZED_MESSAGE
    )
    assert "scope" in FORBIDDEN_MESSAGE


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"campaigns": [{"id": 1}', id="truncated"),
        pytest.param(b"<html>", id="html"),
        pytest.param(b'{"a": 1}}', id="trailing_garbage"),
    ],
)
def test_given_200_with_broken_json_when_interpret_then_retried(body):
    resolution = handler().interpret_response(response(200, body=body))

    assert (resolution.response_action, resolution.failure_type, resolution.error_message) == (
        ResponseAction.RETRY,
        FailureType.transient_error,
        BAD_BODY_MESSAGE,
    )


def test_given_200_with_complete_json_when_interpret_then_success():
    assert (
        handler().interpret_response(response(200, body=b'{"campaigns": []}')).response_action == ResponseAction.SUCCESS
    )


def test_given_200_with_non_json_content_type_when_interpret_then_body_is_not_checked():
    assert (
        handler()
        .interpret_response(response(200, body=b"id,name", headers={"Content-Type": "text/csv"}))
        .response_action
        == ResponseAction.SUCCESS
    )


@pytest.mark.parametrize(
    "error_class",
    [requests.ConnectionError, requests.ConnectTimeout, requests.ReadTimeout, requests.exceptions.ChunkedEncodingError],
    ids=lambda error_class: error_class.__name__,
)
def test_given_network_exception_when_interpret_then_retried(error_class):
    resolution = handler().interpret_response(network_error(error_class))

    assert (resolution.response_action, resolution.failure_type, resolution.error_message) == (
        ResponseAction.RETRY,
        FailureType.transient_error,
        NETWORK_MESSAGE,
    )


@pytest.mark.parametrize(
    "error_class, cause",
    [
        (requests.ConnectionError, "connection failed"),
        (requests.ConnectTimeout, "timed out"),
        (requests.ReadTimeout, "timed out"),
    ],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_given_network_exception_without_retries_when_interpret_then_fails_naming_host(error_class, cause):
    resolution = handler(retry_network_errors=False).interpret_response(network_error(error_class))

    assert (resolution.response_action, resolution.failure_type) == (ResponseAction.FAIL, FailureType.config_error)
    assert resolution.error_message == (
        f"Could not reach Customer.io at api.customer.io ({cause}): check `region` and `api_url`, and that this "
        "machine can reach the API."
    )


def test_given_substream_when_404_then_ignored():
    resolution = handler(ignore_missing_parent=True).interpret_response(response(404))

    assert (resolution.response_action, resolution.error_message) == (ResponseAction.IGNORE, MISSING_PARENT_MESSAGE)


def test_given_top_level_stream_when_404_then_fails():
    resolution = handler().interpret_response(response(404))

    assert (resolution.response_action, resolution.failure_type) == (ResponseAction.FAIL, FailureType.system_error)
