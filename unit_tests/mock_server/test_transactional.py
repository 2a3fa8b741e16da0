"""transactional_messages (GET /v1/transactional, key `messages`) and transactional_contents per message."""

from unittest import TestCase

from airbyte_cdk.test.mock_http import HttpMocker

from unit_tests.mock_server.harness import StreamMatrix
from unit_tests.mock_server.request_builder import CustomerioRequestBuilder
from unit_tests.mock_server.response_builder import record_builder, response_builder

MESSAGE_ID = 4


def transactional_request(region: str = "US") -> CustomerioRequestBuilder:
    return CustomerioRequestBuilder.endpoint("transactional").in_region(region)


def given_transactional_messages(http_mocker: HttpMocker, message_ids, region: str = "US") -> None:
    page = response_builder("transactional_messages", "messages")
    for message_id in message_ids:
        page = page.with_record(record_builder("transactional_messages", "messages").with_id(message_id))
    http_mocker.get(transactional_request(region).build(), page.build())


class TransactionalMessagesTest(StreamMatrix, TestCase):
    stream_name = "transactional_messages"

    def request(self, region="US"):
        return transactional_request(region)

    def page(self):
        return response_builder("transactional_messages", "messages")

    def record(self):
        return record_builder("transactional_messages", "messages")


class TransactionalContentsTest(StreamMatrix, TestCase):
    stream_name = "transactional_contents"

    def given_parents(self, http_mocker, region="US"):
        given_transactional_messages(http_mocker, [MESSAGE_ID], region)

    def request(self, region="US"):
        return CustomerioRequestBuilder.endpoint(f"transactional/{MESSAGE_ID}/contents").in_region(region)

    def page(self):
        return response_builder("transactional_contents", "contents")

    def record(self):
        return record_builder("transactional_contents", "contents")

    @HttpMocker()
    def test_given_two_messages_when_read_then_contents_of_each_carry_their_message_id(
        self, http_mocker: HttpMocker
    ) -> None:
        given_transactional_messages(http_mocker, [1, 2])
        http_mocker.get(
            CustomerioRequestBuilder.endpoint("transactional/1/contents").build(),
            self.page().with_record(self.record().with_id(10)).build(),
        )
        http_mocker.get(
            CustomerioRequestBuilder.endpoint("transactional/2/contents").build(),
            self.page().with_record(self.record().with_id(20)).build(),
        )

        output = self.read()

        assert sorted(
            (message.record.data["transactional_id"], message.record.data["id"]) for message in output.records
        ) == [
            (1, 10),
            (2, 20),
        ]
