"""429s through the real entrypoint: the shared workspace budget is waited out with jittered, capped
backoff, one log line per wait naming the stream, until `rate_limit_max_wait_minutes` is spent."""

from unittest import TestCase

from airbyte_cdk.models import FailureType
from airbyte_cdk.test.mock_http import HttpMocker

from testkit.connector import recorded_cdk_sleeps
from unit_tests.mock_server.config import ConfigBuilder
from unit_tests.mock_server.harness import first_error, read_stream
from unit_tests.mock_server.request_builder import CustomerioRequestBuilder
from unit_tests.mock_server.response_builder import error_response, record_builder, response_builder

WAIT_LOG = "Stream `newsletters`: Customer.io answered HTTP 429 (rate limit, shared by every client of the workspace)"


def newsletters_request() -> CustomerioRequestBuilder:
    return CustomerioRequestBuilder.endpoint("newsletters").with_limit(100)


def one_newsletter():
    return response_builder("newsletters", "newsletters").with_record(record_builder("newsletters", "newsletters"))


def wait_logs(output) -> list:
    return [log.log.message for log in output.logs if log.log.message.startswith(WAIT_LOG)]


class RateLimitTest(TestCase):
    @HttpMocker()
    def test_given_429s_without_retry_after_when_read_then_waits_double_with_jitter_and_records_arrive(
        self, http_mocker: HttpMocker
    ) -> None:
        http_mocker.get(newsletters_request().build(), [error_response(429)] * 8 + [one_newsletter().build()])

        with recorded_cdk_sleeps() as slept:
            output = read_stream("newsletters", ConfigBuilder().build())

        assert len(output.records) == 1 and not output.errors
        waits = slept  # each at least the second the CDK adds
        ceilings = [2, 4, 8, 16, 32, 60, 60, 60]
        assert len(waits) == len(ceilings)
        for wait, ceiling in zip(waits, ceilings, strict=True):
            assert ceiling / 2 - 0.01 <= wait <= ceiling + 0.01
        assert len(wait_logs(output)) == 8

    @HttpMocker()
    def test_given_wait_budget_of_one_minute_when_429s_never_stop_then_stream_fails_naming_other_clients(
        self, http_mocker: HttpMocker
    ) -> None:
        # Retry-After: 10 on each: six waits spend the minute, and the seventh 429 ends the stream.
        http_mocker.get(newsletters_request().build(), [error_response(429, {"Retry-After": "10"})] * 7)
        config = ConfigBuilder().with_option("rate_limit_max_wait_minutes", 1).build()

        with recorded_cdk_sleeps() as slept:
            output = read_stream("newsletters", config, expecting_exception=True)

        assert slept == [10.0] * 6
        message, failure_type = first_error(output)
        assert failure_type == FailureType.transient_error
        assert message.startswith("Customer.io kept answering HTTP 429 (over its rate limit) to stream `newsletters`")
        assert "another client" in message and "`rate_limit_max_wait_minutes`" in message
        assert len(wait_logs(output)) == len(slept)

    @HttpMocker()
    def test_given_no_wait_budget_when_429_then_fails_at_once(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(newsletters_request().build(), error_response(429))
        config = ConfigBuilder().with_option("rate_limit_max_wait_minutes", 0).build()

        with recorded_cdk_sleeps() as slept:
            output = read_stream("newsletters", config, expecting_exception=True)

        assert slept == []
        assert "another client" in first_error(output)[0]

    @HttpMocker()
    def test_given_server_errors_when_read_then_six_retries_then_fails(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(newsletters_request().build(), [error_response(503)] * 7)

        with recorded_cdk_sleeps() as slept:
            output = read_stream("newsletters", ConfigBuilder().build(), expecting_exception=True)

        assert len(slept) == 6
        assert first_error(output) == (
            "Customer.io answered HTTP 503, a server error. Gave up after 7 attempts.",
            FailureType.transient_error,
        )
