"""segments: GET /v1/segments, one unpaged list."""

from unittest import TestCase

from airbyte_cdk.test.mock_http import HttpMocker

from unit_tests.mock_server.harness import StreamMatrix
from unit_tests.mock_server.request_builder import CustomerioRequestBuilder
from unit_tests.mock_server.response_builder import record_builder, response_builder

STREAM = "segments"


class FullRefreshTest(StreamMatrix, TestCase):
    stream_name = STREAM

    def request(self, region="US"):
        return CustomerioRequestBuilder.segments_endpoint().in_region(region)

    def page(self):
        return response_builder(STREAM, "segments")

    def record(self):
        return record_builder(STREAM, "segments")

    @HttpMocker()
    def test_given_segment_with_nulls_when_read_then_fields_are_kept_and_nulls_dropped(
        self, http_mocker: HttpMocker
    ) -> None:
        http_mocker.get(self.request().build(), self.page().with_record(self.record()).build())

        output = self.read()

        # Airbyte's serializer leaves null fields out of records.
        assert [message.record.data for message in output.records] == [
            {
                "id": 7,
                "deduplicate_id": "7:1552341937",
                "name": "Trial users",
                "description": "People on a trial plan",
                "state": "finished",
                "type": "dynamic",
                "created_at": 1552341900,
                "updated_at": 1552341937,
            }
        ]
