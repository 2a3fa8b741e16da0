"""newsletters: GET /v1/newsletters?limit=100, cursor-paged; incremental on `updated`, filtered client-side."""

import json
from unittest import TestCase
from unittest.mock import patch

from airbyte_cdk.models import Level, SyncMode
from airbyte_cdk.test.mock_http import HttpMocker, HttpResponse
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


def page_of(ids, next_cursor: str) -> HttpResponse:
    return HttpResponse(json.dumps({STREAM: [{"id": i, "updated": 1700000000} for i in ids], "next": next_cursor}))


class EmptyPagesTest(TestCase):
    """An empty page that carries a new `next` does not end the listing; a long run of them does."""

    def given_pages(self, http_mocker: HttpMocker, pages) -> None:
        cursor = None
        for ids, next_cursor in pages:
            request = newsletters_request() if cursor is None else newsletters_request().with_start(cursor)
            http_mocker.get(request.build(), page_of(ids, next_cursor))
            cursor = next_cursor

    @HttpMocker()
    def test_given_empty_pages_with_next_mid_list_when_read_then_the_listing_goes_on(
        self, http_mocker: HttpMocker
    ) -> None:
        self.given_pages(http_mocker, [([1], "c1"), ([], "c2"), ([], "c3"), ([2, 3], "c4"), ([], "")])

        output = read_stream(STREAM, ConfigBuilder().build())

        assert [message.record.data["id"] for message in output.records] == [1, 2, 3]
        assert not output.errors

    @HttpMocker()
    def test_given_endless_empty_pages_with_fresh_cursors_when_read_then_stops_at_the_bound_with_a_warning(
        self, http_mocker: HttpMocker
    ) -> None:
        # The bound is 1000 pages; 3 here, so the mocker need not list a thousand requests.
        self.given_pages(http_mocker, [([1], "c1"), ([], "c2"), ([], "c3"), ([], "c4")])

        with patch("source_customerio.streams.base.MAX_EMPTY_PAGES_IN_A_ROW", 3):
            output = read_stream(STREAM, ConfigBuilder().build())

        assert [message.record.data["id"] for message in output.records] == [1]
        warnings = [log.log.message for log in output.logs if log.log.level == Level.WARN]
        assert any("`newsletters`" in warning and "3 empty pages in a row" in warning for warning in warnings)


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
