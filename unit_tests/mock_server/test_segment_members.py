"""segment_members: GET /v1/segments/{id}/membership?limit=30000 for every segment, keyed on [segment_id, cio_id]."""

from typing import Iterable
from unittest import TestCase

from airbyte_cdk.test.mock_http import HttpMocker

from unit_tests.mock_server.harness import StreamMatrix
from unit_tests.mock_server.request_builder import CustomerioRequestBuilder
from unit_tests.mock_server.response_builder import NEXT_CURSOR, error_response, record_builder, response_builder

STREAM = "segment_members"
SEGMENT_ID = 7
PAGE_SIZE = 30000


def given_segments(http_mocker: HttpMocker, segment_ids: Iterable[int], region: str = "US") -> None:
    page = response_builder("segments", "segments")
    for segment_id in segment_ids:
        page = page.with_record(record_builder("segments", "segments").with_id(segment_id))
    http_mocker.get(CustomerioRequestBuilder.segments_endpoint().in_region(region).build(), page.build())


def membership_request(segment_id: int = SEGMENT_ID):
    return CustomerioRequestBuilder.segment_membership_endpoint(segment_id).with_limit(PAGE_SIZE)


def members_page():
    return response_builder(STREAM, "identifiers")


def member():
    return record_builder(STREAM, "identifiers", id_field="cio_id")


class FullRefreshTest(StreamMatrix, TestCase):
    stream_name = STREAM
    id_field = "cio_id"
    first_id = "3000001"
    second_id = "3000002"

    def given_parents(self, http_mocker, region="US"):
        given_segments(http_mocker, [SEGMENT_ID], region)

    def request(self, region="US"):
        return membership_request().in_region(region)

    def page(self):
        return members_page()

    def record(self):
        return member()

    @HttpMocker()
    def test_given_two_pages_when_read_then_second_request_carries_start_and_limit(
        self, http_mocker: HttpMocker
    ) -> None:
        given_segments(http_mocker, [SEGMENT_ID])
        http_mocker.get(
            membership_request().build(),
            members_page().with_record(member().with_id("3000001")).with_pagination().build(),
        )
        http_mocker.get(
            membership_request().with_start(NEXT_CURSOR).build(),
            members_page().with_record(member().with_id("3000002")).build(),
        )

        output = self.read()

        assert self.ids(output) == ["3000001", "3000002"]

    @HttpMocker()
    def test_given_member_when_read_then_record_carries_segment_id(self, http_mocker: HttpMocker) -> None:
        given_segments(http_mocker, [SEGMENT_ID])
        http_mocker.get(membership_request().build(), members_page().with_record(member()).build())

        output = self.read()

        assert [message.record.data for message in output.records] == [
            {"email": "person1@example.com", "id": "100001", "cio_id": "3000001", "segment_id": SEGMENT_ID}
        ]

    @HttpMocker()
    def test_given_segment_deleted_mid_sync_when_read_then_its_404_is_skipped(self, http_mocker: HttpMocker) -> None:
        given_segments(http_mocker, [SEGMENT_ID, 8])
        http_mocker.get(membership_request().build(), error_response(404))
        http_mocker.get(membership_request(8).build(), members_page().with_record(member().with_id("3000008")).build())

        output = self.read()

        assert [(message.record.data["segment_id"], message.record.data["cio_id"]) for message in output.records] == [
            (8, "3000008")
        ]
        assert not output.errors
