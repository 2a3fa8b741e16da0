"""newsletters: GET /v1/newsletters?limit=100, cursor-paged; incremental on `updated`, filtered client-side."""

from unittest import TestCase

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker
from airbyte_cdk.test.state_builder import StateBuilder

from unit_tests.mock_server.config import ConfigBuilder
from unit_tests.mock_server.harness import StreamMatrix, read_stream
from unit_tests.mock_server.request_builder import CustomerioRequestBuilder
from unit_tests.mock_server.response_builder import NEXT_CURSOR, record_builder, response_builder

STREAM = "newsletters"
PAGE_SIZE = 100


def newsletters_request():
    return CustomerioRequestBuilder.newsletters_endpoint().with_limit(PAGE_SIZE)


def newsletters_page():
    return response_builder(STREAM, "newsletters")


def newsletter():
    return record_builder(STREAM, "newsletters", cursor_field="updated")


class FullRefreshTest(StreamMatrix, TestCase):
    stream_name = STREAM

    def request(self, region="US"):
        return newsletters_request().in_region(region)

    def page(self):
        return newsletters_page()

    def record(self):
        return newsletter()

    @HttpMocker()
    def test_given_two_pages_when_read_then_second_request_carries_start(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(
            newsletters_request().build(),
            newsletters_page().with_record(newsletter().with_id(1)).with_pagination().build(),
        )
        http_mocker.get(
            newsletters_request().with_start(NEXT_CURSOR).build(),
            newsletters_page().with_record(newsletter().with_id(2)).build(),
        )

        output = self.read()

        assert self.ids(output) == [1, 2]


class IncrementalTest(TestCase):
    def read_incremental(self, state=None):
        return read_stream(STREAM, ConfigBuilder().build(), SyncMode.incremental, state)

    @HttpMocker()
    def test_given_no_state_when_read_then_all_pages_and_state_at_latest_updated(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(
            newsletters_request().build(),
            newsletters_page().with_record(newsletter().with_id(1).with_cursor(1700000300)).with_pagination().build(),
        )
        http_mocker.get(
            newsletters_request().with_start(NEXT_CURSOR).build(),
            newsletters_page().with_record(newsletter().with_id(2).with_cursor(1700000100)).build(),
        )

        output = self.read_incremental()

        assert [message.record.data["id"] for message in output.records] == [1, 2]
        assert output.most_recent_state.stream_state.__dict__ == {"updated": 1700000300}

    @HttpMocker()
    def test_given_state_when_read_then_older_records_are_filtered_and_state_advances(
        self, http_mocker: HttpMocker
    ) -> None:
        http_mocker.get(
            newsletters_request().build(),
            newsletters_page()
            .with_record(newsletter().with_id(1).with_cursor(1699999999))
            .with_record(newsletter().with_id(2).with_cursor(1700000000))
            .with_pagination()
            .build(),
        )
        http_mocker.get(
            newsletters_request().with_start(NEXT_CURSOR).build(),
            newsletters_page().with_record(newsletter().with_id(3).with_cursor(1700000700)).build(),
        )
        state = StateBuilder().with_stream_state(STREAM, {"updated": 1700000000}).build()

        output = self.read_incremental(state)

        assert [message.record.data["id"] for message in output.records] == [2, 3]
        assert output.most_recent_state.stream_state.__dict__ == {"updated": 1700000700}
