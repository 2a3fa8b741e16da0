"""sender_identities (two cursor listings merged by id; `hidden` from the visible listing), snippets
(keyed on name), reporting_webhooks."""

import json
from unittest import TestCase

from airbyte_cdk.models import FailureType
from airbyte_cdk.test.mock_http import HttpMocker, HttpResponse
from airbyte_cdk.test.mock_http.response_builder import FieldPath

from source_customerio.errors import FORBIDDEN_MESSAGE
from unit_tests.mock_server.config import ConfigBuilder
from unit_tests.mock_server.harness import StreamMatrix, first_error, read_stream
from unit_tests.mock_server.request_builder import CustomerioRequestBuilder
from unit_tests.mock_server.response_builder import NEXT_CURSOR, error_response, record_builder, response_builder

SENDERS = "sender_identities"


def senders_request(include_hidden: bool) -> CustomerioRequestBuilder:
    request = CustomerioRequestBuilder.endpoint(SENDERS).with_limit(100)
    return request.with_query_param("hidden", "true") if include_hidden else request


def senders_page():
    return response_builder(SENDERS, SENDERS)


def sender(sender_id: int):
    return record_builder(SENDERS, SENDERS).with_id(sender_id)


def sender_keys(output):
    return [(message.record.data["id"], message.record.data["hidden"]) for message in output.records]


class SenderIdentitiesTest(TestCase):
    def read(self, expecting_exception: bool = False):
        return read_stream(SENDERS, ConfigBuilder().build(), expecting_exception=expecting_exception)

    def given_listings(self, http_mocker: HttpMocker, visible, hidden_listing) -> None:
        page = senders_page()
        for sender_id in visible:
            page = page.with_record(sender(sender_id))
        http_mocker.get(senders_request(False).build(), page.build())
        page = senders_page()
        for sender_id in hidden_listing:
            page = page.with_record(sender(sender_id))
        http_mocker.get(senders_request(True).build(), page.build())

    @HttpMocker()
    def test_given_hidden_true_lists_visible_and_hidden_when_read_then_each_sender_once_with_derived_flag(
        self, http_mocker: HttpMocker
    ) -> None:
        self.given_listings(http_mocker, visible=(1, 3), hidden_listing=(1, 2, 3))  # the reference's reading

        assert sorted(sender_keys(self.read())) == [(1, False), (2, True), (3, False)]

    @HttpMocker()
    def test_given_hidden_true_lists_only_hidden_when_read_then_each_sender_once_with_derived_flag(
        self, http_mocker: HttpMocker
    ) -> None:
        self.given_listings(http_mocker, visible=(1, 3), hidden_listing=(2,))  # as live accounts answer

        assert sorted(sender_keys(self.read())) == [(1, False), (2, True), (3, False)]

    @HttpMocker()
    def test_given_an_empty_page_after_the_last_when_read_then_followed_until_next_is_empty(
        self, http_mocker: HttpMocker
    ) -> None:
        http_mocker.get(senders_request(True).build(), senders_page().with_record(sender(2)).with_pagination().build())
        http_mocker.get(
            senders_request(True).with_start(NEXT_CURSOR).build(),
            HttpResponse(json.dumps({SENDERS: [], "next": "page-3"})),
        )
        http_mocker.get(
            senders_request(True).with_start("page-3").build(),
            HttpResponse(json.dumps({SENDERS: [{"id": 4}], "next": "page-4"})),
        )
        http_mocker.get(
            senders_request(True).with_start("page-4").build(), HttpResponse(json.dumps({SENDERS: [], "next": ""}))
        )
        http_mocker.get(senders_request(False).build(), HttpResponse(json.dumps({SENDERS: [{"id": 1}], "next": ""})))

        assert sorted(sender_keys(self.read())) == [(1, False), (2, True), (4, True)]

    @HttpMocker()
    def test_given_no_senders_when_read_then_no_records(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(senders_request(True).build(), HttpResponse(json.dumps({SENDERS: None, "next": ""})))
        http_mocker.get(senders_request(False).build(), HttpResponse(json.dumps({SENDERS: None, "next": ""})))

        output = self.read()

        assert output.records == [] and not output.errors

    @HttpMocker()
    def test_given_403_when_read_then_config_error_names_key_scope(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(senders_request(True).build(), error_response(403))
        http_mocker.get(senders_request(False).build(), error_response(403))

        output = self.read(expecting_exception=True)

        assert first_error(output) == (
            FORBIDDEN_MESSAGE.format(resource="GET /v1/sender_identities"),
            FailureType.config_error,
        )


class SnippetsTest(StreamMatrix, TestCase):
    stream_name = "snippets"
    id_field = "name"
    first_id, second_id = "footer", "address"

    def request(self, region="US"):
        return CustomerioRequestBuilder.endpoint("snippets").in_region(region)

    def page(self):
        return response_builder("snippets", "snippets")

    def record(self):
        return record_builder("snippets", "snippets", id_field="name")


class ReportingWebhooksTest(StreamMatrix, TestCase):
    stream_name = "reporting_webhooks"

    def request(self, region="US"):
        return CustomerioRequestBuilder.endpoint("reporting_webhooks").in_region(region)

    def page(self):
        return response_builder("reporting_webhooks", "reporting_webhooks")

    def record(self):
        return record_builder("reporting_webhooks", "reporting_webhooks")

    @HttpMocker()
    def test_given_credentials_in_endpoint_when_read_then_they_never_reach_the_destination(
        self, http_mocker: HttpMocker
    ) -> None:
        endpoint = FieldPath("endpoint")
        http_mocker.get(
            self.request().build(),
            self.page()
            .with_record(self.record().with_id(1).with_field(endpoint, "https://user:p4ss@hooks.example.com/in?x=1"))
            .with_record(self.record().with_id(2).with_field(endpoint, "https://hooks.example.com/open"))
            .build(),
        )

        output = self.read()

        assert [message.record.data["endpoint"] for message in output.records] == [
            "https://hooks.example.com/in?x=1",
            "https://hooks.example.com/open",
        ]
        assert "p4ss" not in str([message.record.data for message in output.records])
