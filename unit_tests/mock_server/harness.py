"""Reading one stream through the real entrypoint, and the matrix of cases every stream passes."""

import functools
from abc import ABC, abstractmethod
from typing import Any, Callable, Optional, Tuple

from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, read
from airbyte_cdk.test.mock_http import HttpMocker
from airbyte_cdk.test.mock_http.response_builder import HttpResponseBuilder, RecordBuilder

from source_customerio.errors import FORBIDDEN_MESSAGE, UNAUTHORIZED_MESSAGE
from source_customerio.source import SourceCustomerio
from testkit.connector import recorded_cdk_sleeps
from unit_tests.mock_server.config import ConfigBuilder
from unit_tests.mock_server.request_builder import CustomerioRequestBuilder
from unit_tests.mock_server.response_builder import error_response


def read_stream(
    stream: str,
    config: dict,
    sync_mode: SyncMode = SyncMode.full_refresh,
    state: Optional[list] = None,
    expecting_exception: bool = False,
) -> EntrypointOutput:
    catalog = CatalogBuilder().with_stream(stream, sync_mode).build()
    return read(SourceCustomerio(), config, catalog, state, expecting_exception)


def fresh_http_mocker(test: Callable) -> Callable:
    """`@HttpMocker()` for tests inherited by several classes.

    A decorator instance keeps its matchers after a test, so one shared by every class using the
    matrix would see other classes' requests as "already mocked"; this makes a mocker per run.
    """

    @functools.wraps(test)
    def run(self: Any) -> Any:
        return HttpMocker()(test)(self)

    return run


def first_error(output: EntrypointOutput) -> Tuple[str, FailureType]:
    """The stream's own error (the CDK follows it with a sync summary)."""
    error = output.errors[0].trace.error
    return error.message, error.failure_type


class StreamMatrix(ABC):
    """The cases every stream passes (one page, empty, 401, 403, 429 then success, 500 then success, EU).

    A test file combines it with unittest.TestCase and says what the stream reads: `stream_name`,
    `id_field` (the field `record().with_id` sets) and two values for it, `request(region)` for the
    stream's own first request, `page()` and `record()`, and `given_parents` when it is a substream.
    """

    stream_name: str
    id_field = "id"
    first_id: Any = 1
    second_id: Any = 2

    @abstractmethod
    def request(self, region: str = "US") -> CustomerioRequestBuilder: ...

    @abstractmethod
    def page(self) -> HttpResponseBuilder: ...

    @abstractmethod
    def record(self) -> RecordBuilder: ...

    def given_parents(self, http_mocker: HttpMocker, region: str = "US") -> None:  # noqa: B027 (optional hook)
        """Register the parent list a substream reads first; top-level streams have none."""

    def read(self, config: Optional[dict] = None, expecting_exception: bool = False) -> EntrypointOutput:
        return read_stream(self.stream_name, config or ConfigBuilder().build(), expecting_exception=expecting_exception)

    def ids(self, output: EntrypointOutput) -> list:
        return [message.record.data[self.id_field] for message in output.records]

    def two_records_page(self) -> HttpResponseBuilder:
        return (
            self.page()
            .with_record(self.record().with_id(self.first_id))
            .with_record(self.record().with_id(self.second_id))
        )

    @fresh_http_mocker
    def test_given_one_page_when_read_then_its_records_are_emitted(self, http_mocker: HttpMocker) -> None:
        self.given_parents(http_mocker)
        http_mocker.get(self.request().build(), self.two_records_page().build())

        output = self.read()

        assert self.ids(output) == [self.first_id, self.second_id]
        assert not output.errors

    @fresh_http_mocker
    def test_given_empty_page_when_read_then_no_records(self, http_mocker: HttpMocker) -> None:
        self.given_parents(http_mocker)
        http_mocker.get(self.request().build(), self.page().build())

        output = self.read()

        assert output.records == []
        assert not output.errors

    @fresh_http_mocker
    def test_given_401_when_read_then_config_error_with_our_message(self, http_mocker: HttpMocker) -> None:
        self.given_parents(http_mocker)
        http_mocker.get(self.request().build(), error_response(401))

        output = self.read(expecting_exception=True)

        assert output.records == []
        assert first_error(output) == (UNAUTHORIZED_MESSAGE, FailureType.config_error)

    @fresh_http_mocker
    def test_given_403_when_read_then_config_error_names_key_scope(self, http_mocker: HttpMocker) -> None:
        self.given_parents(http_mocker)
        http_mocker.get(self.request().build(), error_response(403))

        output = self.read(expecting_exception=True)

        assert output.records == []
        refused = f"GET {self.request().path}"
        assert first_error(output) == (FORBIDDEN_MESSAGE.format(resource=refused), FailureType.config_error)

    @fresh_http_mocker
    def test_given_429_with_retry_after_when_read_then_waits_that_long_and_succeeds(
        self, http_mocker: HttpMocker
    ) -> None:
        self.given_parents(http_mocker)
        http_mocker.get(
            self.request().build(), [error_response(429, {"Retry-After": "7"}), self.two_records_page().build()]
        )

        with recorded_cdk_sleeps() as slept:
            output = self.read()

        assert self.ids(output) == [self.first_id, self.second_id]
        assert slept == [7.0]

    @fresh_http_mocker
    def test_given_500_when_read_then_retried_and_succeeds(self, http_mocker: HttpMocker) -> None:
        self.given_parents(http_mocker)
        http_mocker.get(self.request().build(), [error_response(500), self.two_records_page().build()])

        with recorded_cdk_sleeps() as slept:
            output = self.read()

        assert self.ids(output) == [self.first_id, self.second_id]
        assert slept == [1.5]  # the first exponential step, 0.5 s, plus the CDK's second
        assert not output.errors

    @fresh_http_mocker
    def test_given_eu_region_when_read_then_eu_host_is_called(self, http_mocker: HttpMocker) -> None:
        self.given_parents(http_mocker, region="EU")
        http_mocker.get(self.request(region="EU").build(), self.two_records_page().build())

        output = self.read(ConfigBuilder().with_region("EU").build())

        assert self.ids(output) == [self.first_id, self.second_id]
