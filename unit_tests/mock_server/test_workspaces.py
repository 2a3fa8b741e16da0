"""workspaces: GET /v1/workspaces, one unpaged list (also the connection check's call)."""

from unittest import TestCase

from airbyte_cdk.test.mock_http import HttpMocker

from unit_tests.mock_server.harness import StreamMatrix
from unit_tests.mock_server.request_builder import CustomerioRequestBuilder
from unit_tests.mock_server.response_builder import record_builder, response_builder

RESOURCE = "workspaces"


class FullRefreshTest(StreamMatrix, TestCase):
    stream_name = "workspaces"

    def request(self, region="US"):
        return CustomerioRequestBuilder.workspaces_endpoint().in_region(region)

    def page(self):
        return response_builder(RESOURCE, "workspaces")

    def record(self):
        return record_builder(RESOURCE, "workspaces")

    @HttpMocker()
    def test_given_workspace_when_read_then_record_is_emitted_unchanged(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(self.request().build(), self.page().with_record(self.record()).build())

        output = self.read()

        assert [message.record.data for message in output.records] == [
            {
                "id": 130001,
                "name": "Production",
                "messages_sent": 1200,
                "billable_messages_sent": 1100,
                "people": 300,
                "object_types": 0,
                "objects": 0,
            }
        ]
